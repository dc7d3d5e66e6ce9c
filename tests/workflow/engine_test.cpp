// The workflow engine alone: the walk of a complaint through its nodes, every action on a task,
// and randomized event sequences after which nothing is ever stuck.
#include "workflow/engine.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace kefu;
using namespace kefu::workflow;

namespace {

constexpr int64_t kCreator = 1, kManagerA = 10, kManagerB = 11, kLina = 20, kLeader = 30,
                  kQueue = 99;

Definition complaint(const char* review_mode = "all") {
  std::string body = R"({"name": "投诉处理", "start": "s", "reopen_to": "accept", "nodes": {
      "s": {"type": "start"},
      "accept": {"type": "task", "name": "受理", "assignee": {"rule": "creator"}},
      "check": {"type": "condition"},
      "review": {"type": "approval", "mode": "MODE", "assignees": [{"rule": "role", "role": "branch_manager"}]},
      "handle": {"type": "task", "name": "处理", "assignee": {"rule": "group", "org": "backoffice"}},
      "split": {"type": "parallel"},
      "opinion": {"type": "task", "assignee": {"rule": "person", "staff": "lina"}},
      "oa": {"type": "external", "system": "oa"},
      "merge": {"type": "join"},
      "wait": {"type": "timer", "hours": 1},
      "close": {"type": "task", "name": "回访", "assignee": {"rule": "leader"}},
      "e": {"type": "end"}},
    "transitions": [{"from": "s", "to": "accept"}, {"from": "accept", "to": "check"},
      {"from": "check", "to": "review", "if": "severity == 'high'"}, {"from": "check", "to": "handle"},
      {"from": "review", "to": "accept", "if": "outcome == 'reject'"}, {"from": "review", "to": "handle"},
      {"from": "handle", "to": "split", "if": "outcome == 'escalate'"}, {"from": "handle", "to": "wait"},
      {"from": "split", "to": "opinion"}, {"from": "split", "to": "oa"},
      {"from": "opinion", "to": "merge"}, {"from": "oa", "to": "merge"}, {"from": "merge", "to": "wait"},
      {"from": "wait", "to": "close"}, {"from": "close", "to": "e"}]})";
  body.replace(body.find("MODE"), 4, review_mode);
  return Definition::parse(parse_value(body), Catalog{});
}

std::vector<Assignee> resolve(const AssigneeRule& r, int64_t) {
  if (r.rule == "creator") return {{kCreator, 0, {}}};
  if (r.rule == "role") return {{kManagerA, 0, {}}, {kManagerB, 0, {}}};
  if (r.rule == "person") return {{kLina, 0, {}}};
  if (r.rule == "group") return {{0, kQueue, {}}};
  if (r.rule == "leader") return {{kLeader, 0, {}}};
  return {};
}

struct Driver {
  Definition def;
  Instance s;
  json::object fields{{"severity", "high"}};
  int64_t now = 1'000'000;
  std::vector<Effect> last;

  void act(Event::Kind kind, int64_t by, int task = 0, std::string outcome = {},
           std::string node = {}) {
    Event e;
    e.kind = kind;
    e.task = task;
    e.outcome = std::move(outcome);
    e.node = std::move(node);
    act(e, by);
  }
  void act(const Event& e, int64_t by) {
    Context c{fields, by, now, resolve};
    Step st = apply(def, s, e, c);
    s = std::move(st.next);
    last = std::move(st.effects);
    auto bad = check_invariants(def, s);
    EXPECT_TRUE(bad.empty()) << bad.front();
  }
  std::vector<const Task*> live(const std::string& node) const {
    std::vector<const Task*> out;
    for (auto& t : s.tasks)
      if (t.live() && t.node == node) out.push_back(&t);
    return out;
  }
  int live_one(const std::string& node) const {
    auto l = live(node);
    EXPECT_EQ(l.size(), 1u) << node;
    return l.empty() ? 0 : l.front()->id;
  }
};

int error_status(const std::function<void()>& f, std::string* code = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (code) *code = e.code();
    return e.status();
  }
  return 0;
}

}  // namespace

TEST(WorkflowEngine, AComplaintWalksFromAcceptanceThroughSignOffToTheEnd) {
  Driver d{complaint()};
  d.act(Event::Kind::start, kCreator);
  EXPECT_EQ(d.s.status, "running");
  int accept = d.live_one("accept");
  EXPECT_EQ(d.s.task(accept)->assignee.staff_id, kCreator);

  d.act(Event::Kind::complete, kCreator, accept);
  auto review = d.live("review");
  ASSERT_EQ(review.size(), 2u);  // 会签: both managers
  int first = review[0]->id, second = review[1]->id;
  d.act(Event::Kind::complete, kManagerA, first, "approve");
  EXPECT_EQ(d.live("review").size(), 1u);  // still waiting for the other
  d.act(Event::Kind::complete, kManagerB, second, "approve");
  int handle = d.live_one("handle");
  EXPECT_EQ(d.s.task(handle)->assignee.group_id, kQueue);

  d.act(Event::Kind::claim, kLina, handle);
  d.act(Event::Kind::complete, kLina, handle, "escalate");
  int opinion = d.live_one("opinion"), oa = d.live_one("oa");
  EXPECT_EQ(d.s.task(oa)->assignee.system, "oa");
  bool sent = false;
  for (auto& fx : d.last) sent |= fx.kind == Effect::Kind::external_send && fx.task == oa;
  EXPECT_TRUE(sent);
  d.act(Event::Kind::complete, 0, oa, "done");
  EXPECT_TRUE(d.live("wait").empty());
  EXPECT_EQ(d.s.tokens.size(), 1u);  // the join waits for the other branch
  d.act(Event::Kind::complete, kLina, opinion);
  ASSERT_EQ(d.s.tokens.size(), 1u);
  EXPECT_EQ(d.s.tokens[0].node, "wait");
  int64_t due = d.s.tokens[0].due_at;
  EXPECT_EQ(due, d.now + 3'600'000);

  d.act(Event{Event::Kind::timer, 0, d.s.tokens[0].id}, 0);  // not due yet: nothing happens
  EXPECT_EQ(d.s.tokens[0].node, "wait");
  d.now = due;
  d.act(Event{Event::Kind::timer, 0, d.s.tokens[0].id}, 0);
  int close = d.live_one("close");
  EXPECT_EQ(d.s.task(close)->assignee.staff_id, kLeader);
  d.act(Event::Kind::complete, kLeader, close);
  EXPECT_EQ(d.s.status, "ended");
  EXPECT_EQ(d.s.end_node, "e");
  EXPECT_EQ(d.s.trail.front(), "s");
  EXPECT_EQ(d.s.trail.back(), "e");

  d.act(Event::Kind::reopen, kCreator);  // 重新打开: back to acceptance
  EXPECT_EQ(d.s.status, "running");
  EXPECT_EQ(d.live_one("accept"), d.s.next_task - 1);
}

TEST(WorkflowEngine, OneRejectionDecidesASignOffAndAnyOfTakesTheFirstDecision) {
  Driver d{complaint()};
  d.act(Event::Kind::start, kCreator);
  d.act(Event::Kind::complete, kCreator, d.live_one("accept"));
  auto review = d.live("review");
  int other = review[1]->id;
  d.act(Event::Kind::complete, kManagerA, review[0]->id, "reject");
  EXPECT_EQ(d.s.task(other)->status, TaskStatus::cancelled);
  d.live_one("accept");  // back to acceptance

  Driver any{complaint("any")};
  any.act(Event::Kind::start, kCreator);
  any.act(Event::Kind::complete, kCreator, any.live_one("accept"));
  auto r2 = any.live("review");
  int late = r2[1]->id;
  any.act(Event::Kind::complete, kManagerA, r2[0]->id, "approve");
  any.live_one("handle");
  std::string code;
  EXPECT_EQ(
      error_status([&] { any.act(Event::Kind::complete, kManagerB, late, "approve"); }, &code),
      409);
  EXPECT_EQ(code, "task_closed");
  EXPECT_EQ(error_status([&] {
              any.act(Event::Kind::complete, kManagerB, any.live_one("handle"), "maybe");
            }),
            0);
}

TEST(WorkflowEngine, TheSecondOfTwoCompletionsOfOneTaskIsAConflict) {
  Driver d{complaint()};
  d.act(Event::Kind::start, kCreator);
  int accept = d.live_one("accept");
  Instance before = d.s;
  d.act(Event::Kind::complete, kCreator, accept);
  Driver racer{complaint()};
  racer.s = d.s;
  std::string code;
  EXPECT_EQ(error_status([&] { racer.act(Event::Kind::complete, kCreator, accept); }, &code), 409);
  EXPECT_EQ(code, "task_closed");
  EXPECT_EQ(to_json(racer.s.to_json()), to_json(d.s.to_json()));  // nothing changed
  (void)before;
}

TEST(WorkflowEngine, WithdrawReturnTransferAndOpinionsEachKeepOneHolder) {
  Driver d{complaint()};
  d.fields["severity"] = "low";
  d.act(Event::Kind::start, kCreator);
  int accept = d.live_one("accept");
  d.act(Event::Kind::complete, kCreator, accept);
  int handle = d.live_one("handle");
  EXPECT_EQ(error_status([&] { d.act(Event::Kind::withdraw, kLina, accept); }), 403);
  d.act(Event::Kind::withdraw, kCreator, accept);  // 撤回: the next step is untouched
  EXPECT_EQ(d.s.task(handle)->status, TaskStatus::cancelled);
  accept = d.live_one("accept");
  d.act(Event::Kind::complete, kCreator, accept);
  handle = d.live_one("handle");
  d.act(Event::Kind::claim, kLina, handle);
  std::string code;
  EXPECT_EQ(error_status([&] { d.act(Event::Kind::withdraw, kCreator, accept); }, &code), 409);
  EXPECT_EQ(code, "cannot_withdraw");

  Event ask{Event::Kind::consult, handle};
  ask.to = Assignee{kManagerA, 0, {}};
  d.act(ask, kLina);  // 征求意见
  int opinion = d.s.next_task - 1;
  EXPECT_EQ(error_status([&] { d.act(Event::Kind::complete, kLina, handle); }, &code), 409);
  EXPECT_EQ(code, "opinion_pending");
  d.act(Event::Kind::complete, kManagerA, opinion, "可以办理");
  EXPECT_EQ(d.s.task(opinion)->outcome, "可以办理");

  Event pass{Event::Kind::transfer, handle};
  pass.to = Assignee{kManagerB, 0, {}};
  d.act(pass, kLina);
  EXPECT_EQ(d.s.task(handle)->assignee.staff_id, kManagerB);

  EXPECT_EQ(error_status([&] { d.act(Event::Kind::return_to, kManagerB, handle, "", "wait"); }),
            422);
  d.act(Event::Kind::return_to, kManagerB, handle, "", "accept");  // 退回
  EXPECT_EQ(d.s.task(handle)->status, TaskStatus::cancelled);
  d.live_one("accept");
}

TEST(WorkflowEngine, ATaskNobodyCanTakeRefusesTheStepAndChangesNothing) {
  Driver d{complaint()};
  d.fields["severity"] = "low";
  d.act(Event::Kind::start, kCreator);
  Instance before = d.s;
  Context c{d.fields, kCreator, d.now, [](const AssigneeRule& r, int64_t) {
              return r.rule == "group" ? std::vector<Assignee>{} : resolve(r, 0);
            }};
  std::string code;
  EXPECT_EQ(error_status(
                [&] {
                  apply(d.def, d.s, Event{Event::Kind::complete, d.live_one("accept")}, c);
                },
                &code),
            409);
  EXPECT_EQ(code, "no_assignee");
  EXPECT_EQ(to_json(before.to_json()), to_json(d.s.to_json()));
}

TEST(WorkflowEngine, SuspensionStopsEverythingAndResumingShiftsTheTimers) {
  Driver d{complaint()};
  d.fields["severity"] = "low";
  d.act(Event::Kind::start, kCreator);
  d.act(Event::Kind::complete, kCreator, d.live_one("accept"));
  d.act(Event::Kind::complete, kLina, d.live_one("handle"));
  int64_t due = d.s.tokens[0].due_at;
  d.act(Event::Kind::suspend, kCreator);
  d.now += 600'000;
  std::string code;
  EXPECT_EQ(error_status(
                [&] {
                  d.act(Event{Event::Kind::timer, 0, d.s.tokens[0].id}, 0);
                },
                &code),
            409);
  EXPECT_EQ(code, "suspended");
  d.act(Event::Kind::resume, kCreator);
  EXPECT_EQ(d.s.tokens[0].due_at, due + 600'000);
  ASSERT_EQ(d.last.size(), 1u);
  EXPECT_EQ(d.last[0].kind, Effect::Kind::timer_set);
}

// Random events — valid or not, by anyone, at any time — never leave the state unsound, a
// refused event changes nothing, the state survives its JSON, and from any reachable state the
// holders acting brings the ticket to an end.
TEST(WorkflowEngine, RandomEventSequencesNeverWedgeAnInstance) {
  std::mt19937 rng(20261205);
  const int64_t people[] = {0, kCreator, kManagerA, kManagerB, kLina, kLeader};
  const char* outcomes[] = {"", "approve", "reject", "escalate", "done"};
  const char* nodes[] = {"accept", "review", "handle", "close", "wait", "ghost"};
  int accepted = 0, refused = 0;
  for (int round = 0; round < 400; ++round) {
    Driver d{complaint(round % 2 ? "any" : "all")};
    d.fields["severity"] = round % 3 ? "high" : "low";
    d.act(Event::Kind::start, kCreator);
    for (int i = 0; i < 80; ++i) {
      Event e;
      e.kind = Event::Kind(rng() % 11);
      e.task = int(rng() % (d.s.next_task + 1));
      e.token = int(rng() % (d.s.next_token + 1));
      e.outcome = outcomes[rng() % 5];
      e.node = nodes[rng() % 6];
      if (rng() % 2) e.to = Assignee{people[rng() % 6], rng() % 3 ? 0 : kQueue, {}};
      d.now += int64_t(rng() % 4) * 1'200'000;
      Instance before = d.s;
      std::string before_json = to_json(before.to_json());
      try {
        d.act(e, people[rng() % 6]);
        ++accepted;
      } catch (const Error& err) {
        ++refused;
        ASSERT_LT(err.status(), 500) << err.what();
        ASSERT_EQ(before_json, to_json(d.s.to_json()));
      }
      ASSERT_EQ(to_json(Instance::from_json(d.s.to_json()).to_json()), to_json(d.s.to_json()));
    }
    // Drain: resume, then each holder completes his task, approvals approve, timers come due.
    if (d.s.status == "suspended") d.act(Event::Kind::resume, kCreator);
    for (int step = 0; step < 200 && d.s.status == "running"; ++step) {
      d.now += 7'200'000;
      bool acted = false;
      // Opinions first: a task whose opinion is awaited cannot be completed.
      std::vector<const Task*> order;
      for (auto& t : d.s.tasks)
        if (t.live() && t.kind == TaskKind::opinion) order.push_back(&t);
      for (auto& t : d.s.tasks)
        if (t.live() && t.kind != TaskKind::opinion) order.push_back(&t);
      for (const Task* tp : order) {
        const Task& t = *tp;
        d.act(Event::Kind::complete, t.assignee.staff_id, t.id,
              t.kind == TaskKind::approval ? "approve" : "done");
        acted = true;
        break;
      }
      if (!acted && !d.s.tokens.empty()) {
        acted = true;
        d.act(Event{Event::Kind::timer, 0, d.s.tokens.front().id}, 0);
      }
      ASSERT_TRUE(acted) << "a running instance with nothing to act on";
    }
    ASSERT_EQ(d.s.status, "ended") << "round " << round;
  }
  EXPECT_GT(accepted, 1000);
  EXPECT_GT(refused, 1000);
}
