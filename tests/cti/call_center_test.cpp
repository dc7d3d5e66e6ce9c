// The real-time core driven through the simulator switch, as a live system would be: every
// scenario of the agent desktop and the supervisor, then randomized event storms that must
// leave nothing stuck.
#include "cti/call_center.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <random>

#include "cti/sim_switch.hpp"

namespace kefu::cti {
namespace {

using acd::AgentState;

// The hotline's menu in these tests: self-service identity check, an agent, the survey.
const char* kMainFlow = R"({"start": "menu", "survey": "rate", "nodes": {
  "menu": {"type": "menu", "prompt": "welcome", "retries": 1, "timeout_s": 3,
           "options": [{"digit": "1", "prompt": "p1", "next": "verify"},
                       {"digit": "0", "prompt": "p0", "next": "agent"}], "on_fail": "agent"},
  "verify": {"type": "verify", "prompt": "account", "pin_prompt": "pin", "next": "agent", "on_fail": "agent"},
  "agent": {"type": "queue", "queue": "general"},
  "check": {"type": "verify", "prompt": "account", "pin_prompt": "pin", "retries": 0, "next": "back", "on_fail": "back"},
  "back": {"type": "return"},
  "rate": {"type": "survey", "prompt": "rate", "next": "bye"},
  "bye": {"type": "hangup", "prompt": "bye"}}})";

struct Center {
  ManualClock clock{1'700'000'000'000};
  IdSource ids{1000};
  SimSwitch sw{clock, ids};
  std::unique_ptr<CallCenter> cc;
  std::vector<Fact> facts;

  explicit Center(int agents = 3, std::string fallback = "hangup", acd::Millis max_wait = 0,
                  const std::function<void(QueueDef& general)>& tune = {}) {
    QueueDef q;
    q.code = "general";
    q.name = "综合业务";
    q.access_numbers = {"95500"};
    q.spec.max_wait_ms = max_wait;
    q.fallback = std::move(fallback);
    q.fallback_target = "13800000000";
    QueueDef vip = q;
    vip.code = "vip";
    vip.access_numbers = {"95501"};
    vip.spec.skills = {1};
    if (tune) tune(q);
    QueueDef chat, mail;  // 多渠道: web chat and the mailbox, no skills needed
    chat.code = "chat";
    chat.spec.channel = acd::Channel::chat;
    chat.spec.max_wait_ms = 60'000;
    mail.code = "mail";
    mail.spec.channel = acd::Channel::email;
    std::vector<AgentDef> defs;
    for (int i = 0; i < agents; ++i) {
      AgentDef d;
      d.staff_id = 100 + i;
      d.username = "a" + std::to_string(i);
      d.extension = std::to_string(8001 + i);
      d.spec.level = 1 + i % 5;
      if (i == 0) d.spec.skills = {1};
      d.spec.capacity = {1, 1, 2, 1};
      d.spec.voice_with_media = i == 1;
      defs.push_back(d);
    }
    CenterConfig cfg;
    cfg.core.ring_timeout_ms = 10'000;
    cfg.core.wrap_up_ms = 5'000;
    cfg.callback_expiry_ms = 120'000;
    cc =
        std::make_unique<CallCenter>(cfg, std::vector<QueueDef>{q, vip, chat, mail}, defs, sw, ids);
    cc->set_ivrs({IvrDef{"main",
                         "主菜单",
                         {"95588"},
                         std::make_shared<const ivr::Flow>(ivr::parse_flow(kMainFlow))}});
    sw.set_sink([this](const SwitchEvent& ev) {
      SwitchEvent e = ev;
      if (e.kind == SwitchEvent::Kind::incoming && screen) screen(e);
      cc->on_switch(e, clock.now_ms());
    });
  }
  // What the customer file says of a caller (kefud's screening hook), when a test sets it.
  std::function<void(SwitchEvent&)> screen;
  acd::Millis now() const { return clock.now_ms(); }
  // Time passes in 50 ms steps: the switch delivers, the core ticks.
  void run(acd::Millis ms) {
    for (acd::Millis t = 0; t <= ms; t += 50) {
      sw.advance();
      cc->tick(now());
      collect();
      clock.advance_ms(50);
    }
  }
  void collect() {
    for (auto& f : cc->take_facts()) facts.push_back(std::move(f));
  }
  void ready(AgentId a) {
    ASSERT_EQ(cc->sign_in(a, now()), "");
    ASSERT_EQ(cc->ready(a, now()), "");
  }
  AgentState state(AgentId a) const { return cc->agent(a).state; }
  std::vector<std::string> queue_log(CallId call = 0) const {
    std::vector<std::string> out;
    for (auto& f : facts)
      if (auto* q = std::get_if<QueueLog>(&f); q && (!call || q->call == call))
        out.push_back(q->event);
    return out;
  }
  std::vector<std::string> events(CallId call) const {
    std::vector<std::string> out;
    for (auto& f : facts)
      if (auto* e = std::get_if<CallEvent>(&f); e && e->call == call) out.push_back(e->type);
    return out;
  }
  std::vector<std::string> segments(CallId call) const {
    std::map<int, std::string> by_seq;  // a CDR lists segments in the order they began
    for (auto& f : facts)
      if (auto* s = std::get_if<SegmentClosed>(&f); s && s->call == call)
        by_seq[s->seg.seq] = s->seg.kind + ":" + s->seg.result;
    std::vector<std::string> out;
    for (auto& [seq, s] : by_seq) out.push_back(s);
    return out;
  }
  const CallClosed* closed(CallId call) const {
    for (auto& f : facts)
      if (auto* c = std::get_if<CallClosed>(&f); c && c->call == call) return c;
    return nullptr;
  }
  CallId last_call() const {
    for (auto it = facts.rbegin(); it != facts.rend(); ++it)
      if (auto* o = std::get_if<CallOpened>(&*it)) return o->call;
    return 0;
  }
  // A customer's call answered by agent 1 (made ready): the customer's leg, the call, his leg.
  struct Talk {
    LegId customer;
    CallId call;
    LegId agent;
  };
  Talk talking_with_agent_1() {
    ready(1);
    LegId cust = customer_call();
    CallId call = last_call();
    answer(1);
    return {cust, call, cc->agent_leg(1)};
  }
  // Answers for the agent and lets the switch confirm.
  void answer(AgentId a) {
    ASSERT_EQ(cc->answer(a, now()), "");
    run(100);
    ASSERT_EQ(state(a), AgentState::busy);
  }
  // The caller presses keys (each string one entry), the switch delivers.
  void press(LegId l, std::initializer_list<const char*> entries) {
    for (const char* e : entries) {
      sw.press(l, e);
      run(100);
    }
  }
  // A customer calls `to` and agent a (ready, the only one who can take it) answers.
  LegId talking(AgentId a, const std::string& to = "95500") {
    LegId l = sw.incoming("13911110001", to);
    run(100);
    answer(a);
    return l;
  }
  LegId customer_call(const std::string& to = "95500", int tier = 0) {
    LegId l = sw.incoming("13911112222", to, tier);
    run(100);
    return l;
  }
  bool hears(LegId listener,
             LegId speaker) const {  // in the same mix, and the speaker's mode reaches him
    auto* l = sw.leg(listener);
    auto* s = sw.leg(speaker);
    if (!l || !s || !l->mix || l->mix != s->mix || listener == speaker) return false;
    if (s->mode == MixMode::talk) return true;
    return s->mode == MixMode::whisper && s->whisper_to == listener;
  }
};

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// The live configuration as the store would hold it after an edit: every queue and agent that
// is not retired, for `edit` to change.
void edit_config(Center& c,
                 const std::function<void(std::vector<QueueDef>&, std::vector<AgentDef>&)>& edit) {
  std::vector<QueueDef> queues;
  std::vector<AgentDef> agents;
  for (auto& q : c.cc->queue_defs())
    if (!q.retired) queues.push_back(q);
  for (auto& a : c.cc->agent_defs())
    if (!a.retired) agents.push_back(a);
  edit(queues, agents);
  c.cc->reconfigure(std::move(queues), std::move(agents), c.now());
  c.collect();
}

TEST(CallCenter, InboundCallIsQueuedOfferedAnsweredAndClosedWithItsRecord) {
  Center c;
  c.ready(1);
  LegId cust = c.customer_call();
  CallId call = c.last_call();
  EXPECT_EQ(c.state(1), AgentState::reserved);
  LegId agent_leg = c.cc->agent_leg(1);
  ASSERT_NE(agent_leg, 0);
  EXPECT_EQ(c.sw.leg(agent_leg)->to, "8002");
  c.run(3'000);  // rings three seconds
  c.answer(1);
  EXPECT_TRUE(c.hears(cust, agent_leg));
  EXPECT_TRUE(c.hears(agent_leg, cust));
  EXPECT_TRUE(c.sw.recording(call));
  c.run(60'000);
  ASSERT_TRUE(c.sw.far_end_hang_up(cust));
  c.run(100);
  EXPECT_EQ(c.state(1), AgentState::wrap_up);
  EXPECT_EQ(c.cc->live_calls(), 0u);
  EXPECT_EQ(c.sw.live_legs(), 0u);
  ASSERT_NE(c.closed(call), nullptr);
  EXPECT_EQ(c.closed(call)->disposition, "completed");
  EXPECT_EQ(c.closed(call)->recording, "calls/" + std::to_string(call) + ".wav");
  EXPECT_EQ(c.queue_log(call), (std::vector<std::string>{"enter", "connect"}));
  EXPECT_EQ(c.segments(call),
            (std::vector<std::string>{"queue:answered", "ring:answered", "talk:completed"}));
  auto ev = c.events(call);
  for (auto* e : {"offered", "queued", "alerting", "established", "cleared"})
    EXPECT_TRUE(contains(ev, e)) << e;
  ASSERT_EQ(c.cc->wrap_up(1, "consult", "问了基金申购", true, c.now()), "");
  c.collect();
  EXPECT_EQ(c.state(1), AgentState::ready);
  bool wrapped = false;
  for (auto& f : c.facts)
    if (auto* w = std::get_if<WrapUp>(&f))
      wrapped = w->call == call && w->summary == "问了基金申购";
  EXPECT_TRUE(wrapped);
}

// 红黑名单 as the customer file reports them: a black-listed caller is refused before anything
// answers, another is taken to the special-handling queue; the CDR names the customer.
TEST(CallCenter, BlackListedCallersAreRefusedOrTakenToTheSpecialQueue) {
  Center c;
  c.screen = [](SwitchEvent& ev) {
    ev.customer = 77;
    if (ev.from == "13900000001") ev.blocked = true;
    if (ev.from == "13900000002") ev.queue = "vip";
  };
  c.ready(1);
  c.sw.incoming("13900000001", "95500");
  c.run(100);
  CallId refused = c.last_call();
  ASSERT_NE(c.closed(refused), nullptr);
  EXPECT_EQ(c.closed(refused)->disposition, "blocked");
  EXPECT_TRUE(c.queue_log(refused).empty());
  EXPECT_EQ(c.state(1), AgentState::ready);
  EXPECT_EQ(c.sw.live_legs(), 0u);
  c.ready(0);  // the only agent with the VIP skill
  c.sw.incoming("13900000002", "95500");
  c.run(100);
  EXPECT_EQ(c.state(0), AgentState::reserved);
  EXPECT_EQ(c.state(1), AgentState::ready);
  for (auto& f : c.facts) {
    if (auto* o = std::get_if<CallOpened>(&f)) {
      EXPECT_EQ(o->customer_id, 77);
    }
  }
}

TEST(CallCenter, UnansweredOfferGoesBackToTheQueueAndToTheNextAgent) {
  Center c;
  c.ready(1);
  c.customer_call();
  CallId call = c.last_call();
  LegId first = c.cc->agent_leg(1);
  c.ready(2);  // after the offer went to 1
  c.run(10'100);
  EXPECT_EQ(c.state(1), AgentState::not_ready);
  EXPECT_EQ(c.cc->agent(1).reason, "no_answer");
  EXPECT_EQ(c.sw.leg(first), nullptr);  // his phone stopped ringing
  EXPECT_EQ(c.state(2), AgentState::reserved);
  c.answer(2);
  EXPECT_EQ(c.queue_log(call), (std::vector<std::string>{"enter", "ring_noanswer", "connect"}));
}

TEST(CallCenter, CallerHangingUpWhileQueuedOrRingingFreesEverything) {
  Center c;
  c.ready(1);
  LegId a = c.customer_call();  // rings agent 1
  LegId b = c.customer_call();  // waits
  CallId second = c.last_call();
  c.sw.far_end_hang_up(b);
  c.run(100);
  EXPECT_EQ(c.queue_log(second), (std::vector<std::string>{"enter", "abandon"}));
  EXPECT_EQ(c.closed(second)->disposition, "abandoned");
  c.sw.far_end_hang_up(a);
  c.run(100);
  EXPECT_EQ(c.state(1), AgentState::ready);
  EXPECT_EQ(c.cc->agent_leg(1), 0);
  EXPECT_EQ(c.cc->live_calls(), 0u);
  EXPECT_EQ(c.sw.live_legs(), 0u);
}

TEST(CallCenter, WaitingCallersHearTheirPlaceAndTheExpectedWait) {
  Center c(3, "hangup", 0, [](QueueDef& q) { q.announce_ms = 30'000; });
  c.ready(1);  // one agent: the first caller talks, the next two wait
  LegId first = c.customer_call();
  c.answer(1);
  LegId second = c.customer_call();
  LegId third = c.customer_call();
  c.run(5'100);  // the first announcement comes 5 s in, then the music again
  using V = std::vector<std::string>;
  // The first caller's wait (none) already gives an estimate.
  EXPECT_EQ(c.sw.leg(second)->played,
            (V{"queue_music", "您是下一位。预计等待不到1分钟。请稍候。", "queue_music"}));
  EXPECT_EQ(
      c.sw.leg(third)->played,
      (V{"queue_music", "您前面还有1位客户在等待。预计等待不到1分钟。请稍候。", "queue_music"}));
  EXPECT_EQ(c.sw.leg(first)->played, V{"queue_music"});  // answered at once: no announcement
  // The first caller leaves; after wrap-up the agent takes the second, who waited about 11 s.
  c.sw.far_end_hang_up(first);
  c.run(6'000);
  c.answer(1);
  c.run(30'000);  // the third's next announcement: next in line, and now an estimate
  EXPECT_EQ(c.sw.leg(third)->played.size(), 5u);
  EXPECT_EQ(c.sw.leg(third)->played[3], "您是下一位。预计等待不到1分钟。请稍候。");
  EXPECT_EQ(queue_announcement(4, 150'000), "您前面还有4位客户在等待。预计等待约3分钟。请稍候。");
}

TEST(CallCenter, HoldRetrieveAndMute) {
  Center c;
  c.ready(1);
  LegId cust = c.customer_call();
  c.answer(1);
  LegId al = c.cc->agent_leg(1);
  ASSERT_EQ(c.cc->hold(1, c.now()), "");
  EXPECT_FALSE(c.hears(al, cust));
  EXPECT_EQ(c.sw.leg(cust)->prompt, "music_on_hold");
  EXPECT_EQ(c.cc->hold(1, c.now()), "already_held");
  ASSERT_EQ(c.cc->retrieve(1, c.now()), "");
  EXPECT_TRUE(c.hears(al, cust));
  ASSERT_EQ(c.cc->mute(1, true, c.now()), "");
  EXPECT_FALSE(c.hears(cust, al));
  ASSERT_EQ(c.cc->mute(1, false, c.now()), "");
  EXPECT_TRUE(c.hears(cust, al));
  EXPECT_EQ(c.cc->retrieve(1, c.now()), "not_held");
}

TEST(CallCenter, APhonesOwnTransferButtonMovesTheCallOrSaysWhyNot) {
  Center c;
  c.ready(1);
  c.ready(2);
  LegId cust = c.customer_call();
  c.answer(1);
  LegId al = c.cc->agent_leg(1);
  // The customer's side cannot transfer anything; a number that is nobody's is refused.
  c.sw.refer(cust, "8002");
  c.sw.refer(al, "12");
  c.run(100);
  EXPECT_EQ(c.sw.refer_result_of(cust), false);
  EXPECT_EQ(c.sw.refer_result_of(al), false);
  EXPECT_EQ(c.state(1), AgentState::busy);  // still his call
  // His phone transfers to agent 2's extension: 2 rings, 1 is free of the call.
  c.sw.refer(al, "8003");
  c.run(100);
  EXPECT_EQ(c.sw.refer_result_of(al), true);
  EXPECT_EQ(c.state(2), AgentState::reserved);
  c.answer(2);
  EXPECT_TRUE(c.hears(c.cc->agent_leg(2), cust));
  EXPECT_NE(c.state(1), AgentState::busy);
  // And on to a queue by its access number.
  LegId bl = c.cc->agent_leg(2);
  c.sw.refer(bl, "95500");
  c.run(100);
  EXPECT_EQ(c.sw.refer_result_of(bl), true);
  EXPECT_EQ(c.queue_log().back(), "enter");
  // To the menu by its access number.
  Center m;
  m.ready(1);
  LegId caller = m.customer_call();
  m.answer(1);
  LegId phone = m.cc->agent_leg(1);
  m.sw.refer(phone, "95588");
  m.run(100);
  EXPECT_EQ(m.sw.refer_result_of(phone), true);
  EXPECT_EQ(m.sw.leg(caller)->state, "up");
}

TEST(CallCenter, APhonesOwnHoldButtonHoldsTheCustomerLikeTheDesk) {
  Center c;
  auto [cust, call, al] = c.talking_with_agent_1();
  c.sw.phone_hold(al, true);
  c.run(10);
  EXPECT_TRUE(c.cc->agent(1).held);
  EXPECT_EQ(c.sw.leg(cust)->prompt, "music_on_hold");
  EXPECT_FALSE(c.hears(cust, al));
  EXPECT_EQ(c.cc->retrieve(1, c.now()), "");  // the desk can take him back too
  c.sw.phone_hold(al, true);
  c.run(10);
  c.sw.phone_hold(al, false);  // … or the phone
  c.run(10);
  EXPECT_FALSE(c.cc->agent(1).held);
  EXPECT_TRUE(c.hears(cust, al));
  // The customer's phone holding changes nothing under the agent: it is only recorded.
  c.sw.phone_hold(cust, true);
  c.run(10);
  EXPECT_FALSE(c.cc->agent(1).held);
  EXPECT_TRUE(contains(c.events(call), "phone_held"));
  EXPECT_EQ(c.cc->hang_up(1, c.now()), "");
}

TEST(CallCenter, AnAgentKeysDigitsToTheCustomerOrToTheConsultedParty) {
  Center c;
  c.ready(1);
  EXPECT_EQ(c.cc->send_digits(1, "1", c.now()), "not_talking");
  LegId cust = c.customer_call();
  CallId call = c.last_call();
  c.answer(1);
  EXPECT_EQ(c.cc->send_digits(1, "12x", c.now()), "bad_digits");
  EXPECT_EQ(c.cc->send_digits(1, "", c.now()), "bad_digits");
  ASSERT_EQ(c.cc->send_digits(1, "880001#", c.now()), "");
  EXPECT_EQ(c.sw.sent_digits(cust), "880001#");
  // Consulting an outside number: the keys go there, not to the customer on hold.
  ASSERT_EQ(c.cc->transfer(1, {Target::Kind::number, "13800001234"}, true, c.now()), "");
  c.run(2'500);
  auto out = c.sw.legs_to("13800001234");
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(c.cc->send_digits(1, "0", c.now()), "");
  EXPECT_EQ(c.sw.sent_digits(out[0]), "0");
  EXPECT_EQ(c.sw.sent_digits(cust), "880001#");
  // The record says keys were sent, not which: they may be a password.
  c.collect();
  int sent = 0;
  for (auto& f : c.facts)
    if (auto* e = std::get_if<CallEvent>(&f); e && e->call == call && e->type == "digits_sent") {
      EXPECT_EQ(e->detail.find("880001"), std::string::npos);
      ++sent;
    }
  EXPECT_EQ(sent, 2);
}

TEST(CallCenter, BlindTransfersToAnAgentAQueueAndANumber) {
  Center c;
  c.ready(1);
  c.ready(2);
  LegId cust = c.customer_call();
  CallId call = c.last_call();
  AgentId first = c.state(1) == AgentState::reserved ? 1 : 2, other = 3 - first;
  c.answer(first);
  EXPECT_EQ(c.cc->transfer(first, {Target::Kind::agent, "a0"}, false, c.now()), "target_not_ready");
  ASSERT_EQ(
      c.cc->transfer(first, {Target::Kind::agent, "a" + std::to_string(other)}, false, c.now()),
      "");
  c.collect();
  EXPECT_EQ(c.state(first), AgentState::wrap_up);
  EXPECT_EQ(c.state(other), AgentState::reserved);
  EXPECT_EQ(c.sw.leg(cust)->prompt, "music_on_hold");
  c.answer(other);
  EXPECT_TRUE(c.hears(cust, c.cc->agent_leg(other)));
  // … then to a queue whose only agent is not ready yet: the caller waits there.
  ASSERT_EQ(c.cc->sign_in(0, c.now()), "");
  ASSERT_EQ(c.cc->transfer(other, {Target::Kind::queue, "vip"}, false, c.now()), "");
  c.collect();
  ASSERT_TRUE(c.cc->call(call));
  EXPECT_EQ(c.cc->call(call)->phase, "queued");
  ASSERT_EQ(c.cc->ready(0, c.now()), "");
  c.run(100);
  c.answer(0);
  // … then out to a number, which answers after two seconds.
  ASSERT_EQ(c.cc->transfer(0, {Target::Kind::number, "02150001234"}, false, c.now()), "");
  c.run(2'100);
  auto legs = c.sw.legs_to("02150001234");
  ASSERT_EQ(legs.size(), 1u);
  EXPECT_TRUE(c.hears(cust, legs[0]));
  EXPECT_EQ(c.cc->transfer(0, {Target::Kind::number, "x"}, false, c.now()), "not_talking");
  c.sw.far_end_hang_up(legs[0]);
  c.run(100);
  EXPECT_EQ(c.closed(call)->disposition, "completed");
  EXPECT_EQ(c.sw.live_legs(), 0u);
  EXPECT_TRUE(contains(c.queue_log(call), "transfer"));
}

TEST(CallCenter, ConsultationThenCompletion) {
  Center c;
  c.ready(1);
  LegId cust = c.customer_call();
  c.answer(1);
  c.ready(2);
  ASSERT_EQ(c.cc->transfer(1, {Target::Kind::agent, "a2"}, true, c.now()), "");
  c.collect();
  EXPECT_EQ(c.cc->complete_transfer(1, c.now()), "consultation_not_answered");
  c.answer(2);
  LegId l1 = c.cc->agent_leg(1), l2 = c.cc->agent_leg(2);
  EXPECT_TRUE(c.hears(l1, l2));
  EXPECT_FALSE(c.hears(l2, cust));  // the customer is on hold during the consultation
  ASSERT_EQ(c.cc->complete_transfer(1, c.now()), "");
  c.collect();
  EXPECT_EQ(c.state(1), AgentState::wrap_up);
  EXPECT_TRUE(c.hears(l2, cust));
  c.sw.far_end_hang_up(cust);
  c.run(100);
  EXPECT_EQ(c.state(2), AgentState::wrap_up);
  EXPECT_EQ(c.sw.live_legs(), 0u);
  // The second agent's part: the consultation, then his own talk with the customer.
  EXPECT_EQ(c.segments(c.last_call()),
            (std::vector<std::string>{"queue:answered", "ring:answered", "talk:transferred",
                                      "ring:answered", "consult:transferred", "talk:completed"}));
}

TEST(CallCenter, ConsultationCancelledAndThreeWayConference) {
  Center c;
  c.ready(1);
  LegId cust = c.customer_call();
  CallId call = c.last_call();
  c.answer(1);
  c.ready(2);
  ASSERT_EQ(c.cc->transfer(1, {Target::Kind::agent, "a2"}, true, c.now()), "");
  c.collect();
  ASSERT_EQ(c.cc->cancel_consult(1, c.now()), "");  // while it rings
  c.collect();
  EXPECT_EQ(c.state(2), AgentState::ready);
  EXPECT_TRUE(c.hears(c.cc->agent_leg(1), cust));
  ASSERT_EQ(c.cc->transfer(1, {Target::Kind::agent, "a2"}, true, c.now()), "");
  c.answer(2);
  ASSERT_EQ(c.cc->conference(1, c.now()), "");
  c.collect();
  LegId l1 = c.cc->agent_leg(1), l2 = c.cc->agent_leg(2);
  EXPECT_TRUE(c.hears(cust, l1));
  EXPECT_TRUE(c.hears(cust, l2));
  EXPECT_TRUE(c.hears(l1, l2));
  EXPECT_TRUE(contains(c.events(call), "conferenced"));
  ASSERT_EQ(c.cc->hang_up(1, c.now()), "");  // the first agent leaves; the call goes on
  c.collect();
  EXPECT_EQ(c.cc->call(call)->owner, 2);
  EXPECT_TRUE(c.hears(cust, l2));
  ASSERT_EQ(c.cc->hang_up(2, c.now()), "");
  c.run(100);
  EXPECT_EQ(c.closed(call)->disposition, "completed");
  EXPECT_EQ(c.sw.live_legs(), 0u);
  auto segs = c.segments(call);
  EXPECT_TRUE(contains(segs, "consult:conferenced"));
  EXPECT_TRUE(contains(segs, "talk:agent_hung_up"));
}

TEST(CallCenter, OutboundCallRingsTheAgentThenTheCustomer) {
  Center c;
  ASSERT_EQ(c.cc->sign_in(1, c.now()), "");
  ASSERT_EQ(c.cc->not_ready(1, "meeting", c.now()), "");
  EXPECT_EQ(c.cc->dial(1, "12", c.now()), "bad_number");
  ASSERT_EQ(c.cc->dial(1, "13800001111", c.now()), "");
  CallId call = (c.collect(), c.last_call());
  c.run(2'500);
  auto cust = c.sw.legs_to("13800001111");
  ASSERT_EQ(cust.size(), 1u);
  EXPECT_TRUE(c.hears(cust[0], c.cc->agent_leg(1)));
  EXPECT_EQ(c.sw.leg(cust[0])->from, "95500");
  ASSERT_EQ(c.cc->hang_up(1, c.now()), "");
  c.run(5'100);  // the wrap-up timer runs out: back to not ready, as he dialled from there
  EXPECT_EQ(c.state(1), AgentState::not_ready);
  EXPECT_EQ(c.cc->agent(1).reason, "meeting");
  EXPECT_EQ(c.closed(call)->disposition, "completed");
  // A busy number ends the call with its cause.
  ASSERT_EQ(c.cc->dial(1, "13800000486", c.now()), "");
  CallId busy = (c.collect(), c.last_call());
  c.run(1'000);
  EXPECT_EQ(c.closed(busy)->disposition, "failed:busy");
  EXPECT_EQ(c.state(1), AgentState::wrap_up);
}

TEST(CallCenter, OutsidePartiesSeeTheSitesNumberOrTheNumberTheCustomerCalled) {
  Center c(3, "number", 2'000);  // the general queue forwards to 13800000000 after 2 s
  edit_config(c, [](auto&, auto& agents) { agents[1].caller_id = "02168880000"; });  // 接入站点
  ASSERT_EQ(c.cc->sign_in(1, c.now()), "");
  ASSERT_EQ(c.cc->dial(1, "13800001111", c.now()), "");
  c.run(2'500);
  auto cust = c.sw.legs_to("13800001111");
  ASSERT_EQ(cust.size(), 1u);
  EXPECT_EQ(c.sw.leg(cust[0])->from, "02168880000");
  // An inbound caller forwarded outside: the outside number sees the hotline number he called.
  ASSERT_EQ(c.cc->sign_in(2, c.now()), "");
  c.customer_call("95500");
  c.run(2'100);
  auto fwd = c.sw.legs_to("13800000000");
  ASSERT_EQ(fwd.size(), 1u);
  EXPECT_EQ(c.sw.leg(fwd[0])->from, "95500");
}

TEST(CallCenter, SupervisorListensWhispersBargesAndTakesOver) {
  Center c;
  auto [cust, call, al] = c.talking_with_agent_1();
  Supervisor s{900, "李娜", "8100"};
  EXPECT_EQ(c.cc->monitor(s, 2, MixMode::listen, c.now()), "not_talking");
  ASSERT_EQ(c.cc->monitor(s, 1, MixMode::listen, c.now()), "");
  c.run(300);
  LegId sl = c.sw.legs_to("8100").at(0);
  EXPECT_TRUE(c.hears(sl, cust));
  EXPECT_TRUE(c.hears(sl, al));
  EXPECT_FALSE(c.hears(cust, sl));
  EXPECT_FALSE(c.hears(al, sl));
  ASSERT_EQ(c.cc->monitor(s, 1, MixMode::whisper, c.now()), "");
  EXPECT_TRUE(c.hears(al, sl));
  EXPECT_FALSE(c.hears(cust, sl));
  ASSERT_EQ(c.cc->monitor(s, 1, MixMode::talk, c.now()), "");  // barge in
  EXPECT_TRUE(c.hears(cust, sl));
  ASSERT_EQ(c.cc->take_over(s, 1, c.now()), "");
  c.collect();
  EXPECT_EQ(c.state(1), AgentState::wrap_up);
  EXPECT_TRUE(c.hears(cust, sl));
  EXPECT_EQ(c.cc->live_calls(), 1u);
  ASSERT_EQ(c.cc->stop_monitor(900, c.now()), "");
  c.run(100);
  EXPECT_EQ(c.closed(call)->disposition, "completed");
  EXPECT_EQ(c.sw.live_legs(), 0u);
  // Each mode he used is a segment of its own (reports count listens, whispers and barges), and
  // after the takeover he is the one talking.
  EXPECT_EQ(c.segments(call),
            (std::vector<std::string>{"queue:answered", "ring:answered", "talk:taken_over",
                                      "monitor:mode_changed", "monitor:mode_changed",
                                      "monitor:taken_over", "talk:supervisor_left"}));
}

TEST(CallCenter, FallbacksWhenNobodyCanAnswer) {
  {
    Center c;  // nobody signed in: the configured fallback (hang up with a prompt)
    c.customer_call();
    CallId call = c.last_call();
    EXPECT_EQ(c.closed(call)->disposition, "no_agents");
    EXPECT_EQ(c.queue_log(call), (std::vector<std::string>{"enter", "no_agents"}));
  }
  {
    Center c(3, "voicemail", 30'000);  // waited too long: voicemail, recorded
    c.cc->sign_in(1, c.now());
    LegId cust = c.customer_call();
    CallId call = c.last_call();
    c.run(30'100);
    EXPECT_EQ(c.queue_log(call), (std::vector<std::string>{"enter", "timeout"}));
    EXPECT_EQ(c.sw.leg(cust)->prompt, "voicemail_greeting");
    EXPECT_TRUE(c.sw.recording(call));
    c.sw.far_end_hang_up(cust);
    c.run(100);
    EXPECT_EQ(c.closed(call)->disposition, "voicemail");
    EXPECT_EQ(c.closed(call)->recording, "voicemail/" + std::to_string(call) + ".wav");
  }
  {
    Center c(3, "number", 5'000);  // overflow to an outside number (another centre)
    c.cc->sign_in(1, c.now());
    LegId cust = c.customer_call();
    c.run(7'500);
    auto out = c.sw.legs_to("13800000000");
    ASSERT_EQ(out.size(), 1u);
    EXPECT_TRUE(c.hears(cust, out[0]));
  }
}

TEST(CallCenter, AnswerAfterTheCoreGaveUpIsHungUp) {
  Center c;
  c.ready(1);
  c.customer_call();
  LegId l = c.cc->agent_leg(1);
  c.run(10'100);  // ring timeout
  EXPECT_EQ(c.sw.leg(l), nullptr);
  c.cc->on_switch({SwitchEvent::Kind::answered, l}, c.now());  // a late 200 OK
  EXPECT_EQ(c.state(1), AgentState::not_ready);
  EXPECT_EQ(c.cc->call(c.last_call())->phase, "queued");
}

TEST(CallCenter, OfflinePhoneCountsAsNoAnswer) {
  Center c;
  c.sw.set_offline("8002", true);
  c.ready(1);
  c.customer_call();
  c.run(200);
  EXPECT_EQ(c.state(1), AgentState::not_ready);
  EXPECT_EQ(c.cc->call(c.last_call())->phase, "queued");
}

// Random storms of every command and event: at every step the agents' states agree with their
// calls, and once the customers are gone and the timers have run, nothing is left anywhere.
TEST(CallCenter, ACallerWhoCallsAgainReachesHisLastAgentOrWaitsForHim) {
  Center c(3, "hangup", 0, [](QueueDef& q) { q.sticky_wait_ms = 20'000; });
  c.ready(1);
  c.run(1'000);
  c.ready(2);
  LegId first = c.sw.incoming("13911110001", "95500");
  c.run(100);
  ASSERT_EQ(c.state(1), AgentState::reserved);  // idle the longest
  c.answer(1);
  c.sw.far_end_hang_up(first);
  c.run(6'000);  // wrap-up ends: agent 1 is ready again, agent 2 has been idle longer
  ASSERT_EQ(c.state(1), AgentState::ready);
  LegId again = c.sw.incoming("13911110001", "95500");
  c.run(100);
  EXPECT_EQ(c.state(1), AgentState::reserved);
  EXPECT_EQ(c.state(2), AgentState::ready);
  c.answer(1);
  // While agent 1 talks, a new caller goes to agent 2; a caller agent 1 served yesterday waits
  // for him alone, although agent 2 would be free, until agent 1 hangs up.
  LegId other = c.sw.incoming("13911110002", "95500");
  c.run(100);
  c.cc->remember_agent("13911110003", 1);  // as the service seeds it from yesterday's calls
  LegId seeded = c.sw.incoming("13911110003", "95500");
  c.run(100);
  EXPECT_EQ(c.state(2), AgentState::reserved);  // 13911110002 had no history: the queue's pick
  c.answer(2);
  EXPECT_EQ(c.cc->waiting(0), 1u);  // 13911110003 waits for agent 1
  c.sw.far_end_hang_up(again);
  c.run(6'000);
  EXPECT_EQ(c.state(1), AgentState::reserved);
  EXPECT_EQ(c.cc->waiting(0), 0u);
  c.answer(1);
  // Agent 1 busy again; his customer waits 20 s for him, then the queue takes over.
  c.sw.far_end_hang_up(other);
  c.run(6'000);
  ASSERT_EQ(c.state(2), AgentState::ready);
  c.sw.far_end_hang_up(seeded);
  c.run(100);
  c.cc->remember_agent("13911110004", 1);
  LegId late = c.sw.incoming("13911110004", "95500");
  c.run(100);
  ASSERT_EQ(c.state(1), AgentState::wrap_up);
  c.cc->not_ready(1, "rest", c.now());
  c.run(19'000);
  EXPECT_EQ(c.state(2), AgentState::ready);  // still waiting for agent 1
  c.run(1'500);
  EXPECT_EQ(c.state(2), AgentState::reserved);
  (void)late;
}

std::vector<std::string> ivr_path(const Center& c, CallId call) {
  std::vector<std::string> out;
  for (auto& f : c.facts)
    if (auto* s = std::get_if<IvrStep>(&f); s && s->call == call)
      out.push_back(s->node + ":" + s->input + ":" + s->result);
  return out;
}

TEST(CallCenter, ACallerWalksTheMenuVerifiesReachesAnAgentAndRatesTheCall) {
  Center c;
  c.ready(1);
  LegId cust = c.customer_call("95588");
  CallId call = c.last_call();
  EXPECT_EQ(c.cc->call(call)->phase, "ivr");
  EXPECT_EQ(c.sw.leg(cust)->prompt, "welcome，p1，p0");
  EXPECT_EQ(c.state(1), AgentState::ready);  // nobody is offered a caller still in the menu
  c.press(cust, {"1"});
  EXPECT_EQ(c.sw.leg(cust)->prompt, "account");
  c.press(cust, {"880001#", "1234"});
  auto req = c.cc->take_adapter_requests();
  ASSERT_EQ(req.size(), 1u);
  EXPECT_EQ(req[0].adapter, "verify");
  EXPECT_EQ(req[0].args.at("account"), "880001");
  c.cc->on_adapter_result(call, true, {{"name", "张三"}}, c.now());
  c.run(100);
  EXPECT_TRUE(c.cc->call(call)->verified);
  ASSERT_EQ(c.state(1), AgentState::reserved);
  c.answer(1);
  EXPECT_TRUE(c.hears(cust, c.cc->agent_leg(1)));
  // The agent hangs up: the customer hears the survey, rates 5, hears goodbye.
  ASSERT_EQ(c.cc->hang_up(1, c.now()), "");
  c.run(100);
  EXPECT_EQ(c.cc->call(call)->phase, "ivr");
  EXPECT_EQ(c.sw.leg(cust)->prompt, "rate");
  c.press(cust, {"5"});
  ASSERT_NE(c.closed(call), nullptr);
  EXPECT_EQ(c.closed(call)->disposition, "completed");
  EXPECT_EQ(ivr_path(c, call),
            (std::vector<std::string>{"menu:1:verify", "verify::verified", "agent::queue:general",
                                      "rate:5:rated", "bye::hangup"}));
  auto segs = c.segments(call);
  EXPECT_TRUE(contains(segs, "ivr:queue:general"));
  EXPECT_TRUE(contains(segs, "talk:agent_hung_up"));
}

// The test clock is 2023-11-14 22:13:20 UTC: Wednesday 15 November, 06:13 in Beijing.
TEST(CallCenter, FlowConditionsReadTheLocalTimeWeekdayAndHolidayCalendar) {
  Center c;
  auto flow = std::make_shared<const ivr::Flow>(ivr::parse_flow(R"({"start": "when", "nodes": {
    "when": {"type": "branch", "cases": [
      {"if": "holiday", "next": "closed"},
      {"if": "hours 06:00-06:30 and weekday 3-3", "next": "early"}], "else": "closed"},
    "early": {"type": "hangup", "prompt": "early"},
    "closed": {"type": "hangup", "prompt": "closed"}}})"));
  c.cc->set_ivrs({IvrDef{"clock", "时间", {"95599"}, flow}});
  c.customer_call("95599");
  EXPECT_EQ(ivr_path(c, c.last_call()).front(), "when::early");
  c.cc->set_holidays({20231115});
  c.customer_call("95599");
  EXPECT_EQ(ivr_path(c, c.last_call()).front(), "when::closed");
  EXPECT_EQ(c.closed(c.last_call())->disposition, "ivr");
}

// 活动反馈码: the test clock's local date is 2023-11-15.
TEST(CallCenter, ACampaignCodePutsTheCallerThroughToItsReceptionNumberWhileTheCampaignRuns) {
  Center c;
  ASSERT_EQ(c.cc->sign_in(0, c.now()), "");  // vip-skilled, not ready: callers wait for him
  auto flow = std::make_shared<const ivr::Flow>(ivr::parse_flow(R"({"start": "code", "nodes": {
    "code": {"type": "campaign", "prompt": "code?", "invalid_prompt": "again", "retries": 1,
             "on_fail": "bye"},
    "bye": {"type": "hangup", "prompt": "bye"}}})"));
  c.cc->set_ivrs({IvrDef{"main",
                         "主菜单",
                         {"95588"},
                         std::make_shared<const ivr::Flow>(ivr::parse_flow(kMainFlow))},
                  IvrDef{"feedback", "活动反馈", {"95577"}, flow}});
  c.cc->set_campaign_codes({{"2023", "基金定投推广", "95501", 20231101, 20231130},  // the vip queue
                            {"1999", "往年活动", "95501", 19990101, 19991231},      // over
                            {"3001", "理财讲座", "95588", 0, 0},                    // the main menu
                            {"4001", "外包回访", "02161234567", 20231115, 0}});     // outside
  // A running campaign's code: into the queue behind its reception number.
  LegId cust = c.customer_call("95577");
  CallId call = c.last_call();
  EXPECT_EQ(c.sw.leg(cust)->prompt, "code?");
  c.press(cust, {"2023#"});
  EXPECT_EQ(c.cc->call(call)->phase, "queued");
  EXPECT_EQ(ivr_path(c, call),
            (std::vector<std::string>{"code:2023:campaign", "code::transfer:95501"}));
  EXPECT_TRUE(contains(c.events(call), "campaign"));
  // A code whose campaign is over, then a code nobody gave: retried once, then on_fail.
  cust = c.customer_call("95577");
  call = c.last_call();
  c.press(cust, {"1999#"});
  auto played = c.sw.leg(cust)->played;
  ASSERT_GE(played.size(), 2u);
  EXPECT_EQ(played[played.size() - 2], "again");
  EXPECT_EQ(played.back(), "code?");
  c.press(cust, {"12#"});  // too short: counts as a failure too
  EXPECT_EQ(ivr_path(c, call),
            (std::vector<std::string>{"code:1999:unknown_code", "code:12:invalid", "code::failed",
                                      "bye::hangup"}));
  EXPECT_EQ(c.closed(call)->disposition, "ivr");
  // A reception number that is a menu: the caller walks that menu; an outside one is rung.
  cust = c.customer_call("95577");
  call = c.last_call();
  c.press(cust, {"3001#"});
  EXPECT_EQ(c.cc->call(call)->phase, "ivr");
  EXPECT_EQ(c.sw.leg(cust)->prompt, "welcome，p1，p0");
  cust = c.customer_call("95577");
  call = c.last_call();
  c.press(cust, {"4001#"});
  EXPECT_EQ(c.sw.legs_to("02161234567").size(), 1u);
  c.sw.far_end_hang_up(cust);
  c.run(100);
  EXPECT_EQ(c.sw.legs_to("02161234567").size(), 0u);
}

TEST(CallCenter, SilenceInTheMenuRetriesThenQueuesAndAHangUpInTheMenuIsAnAbandon) {
  Center c;
  c.cc->sign_in(1, c.now());
  LegId cust = c.customer_call("95588");
  CallId call = c.last_call();
  c.run(3'000);
  EXPECT_EQ(c.cc->call(call)->phase, "ivr");  // asked once more
  c.run(3'000);
  EXPECT_EQ(c.cc->call(call)->phase, "queued");
  EXPECT_EQ(ivr_path(c, call), (std::vector<std::string>{"menu::timeout", "menu::timeout",
                                                         "menu::failed", "agent::queue:general"}));
  c.sw.far_end_hang_up(cust);
  c.run(100);
  // The identity check's adapter never answers: after 10 s it counts as a failure.
  LegId slow = c.customer_call("95588");
  CallId slow_call = c.last_call();
  c.press(slow, {"1", "8800", "1234"});
  ASSERT_EQ(c.cc->take_adapter_requests().size(), 1u);
  c.run(10'000);
  EXPECT_TRUE(contains(ivr_path(c, slow_call), "verify::not_verified"));
  EXPECT_EQ(c.sw.leg(slow)->prompt, "account");  // asked again
  c.sw.far_end_hang_up(slow);
  c.run(100);
  LegId gone = c.customer_call("95588");
  CallId second = c.last_call();
  c.sw.far_end_hang_up(gone);
  c.run(100);
  EXPECT_EQ(c.closed(second)->disposition, "abandoned");
  EXPECT_TRUE(contains(c.segments(second), "ivr:abandoned"));
}

TEST(CallCenter, AnAgentSendsTheCallerToVerifyAndGetsHimBack) {
  Center c;
  c.ready(1);
  LegId cust = c.customer_call();
  CallId call = c.last_call();
  c.answer(1);
  EXPECT_EQ(c.cc->transfer(1, {Target::Kind::ivr, "main:nowhere"}, true, c.now()),
            "unknown_target");
  ASSERT_EQ(c.cc->transfer(1, {Target::Kind::ivr, "main:check"}, true, c.now()), "");
  c.run(100);
  EXPECT_EQ(c.cc->call(call)->phase, "ivr");
  EXPECT_FALSE(c.hears(c.cc->agent_leg(1), cust));  // the agent does not hear the password
  EXPECT_EQ(c.state(1), AgentState::busy);
  EXPECT_EQ(c.cc->hold(1, c.now()), "in_ivr");  // nothing touches the customer while he keys in
  EXPECT_EQ(c.cc->transfer(1, {Target::Kind::queue, "vip"}, false, c.now()), "in_ivr");
  c.press(cust, {"880001", "9999"});
  auto req = c.cc->take_adapter_requests();
  ASSERT_EQ(req.size(), 1u);
  c.cc->on_adapter_result(call, false, {}, c.now());  // wrong password: back, not verified
  c.run(100);
  EXPECT_EQ(c.cc->call(call)->phase, "talking");
  EXPECT_FALSE(c.cc->call(call)->verified);
  EXPECT_TRUE(c.hears(c.cc->agent_leg(1), cust));
  EXPECT_TRUE(contains(c.events(call), "retrieved"));
  // Blind, to the survey: the agent is free, the customer rates and leaves.
  ASSERT_EQ(c.cc->transfer(1, {Target::Kind::ivr, "main:rate"}, false, c.now()), "");
  c.run(100);
  EXPECT_EQ(c.state(1), AgentState::wrap_up);
  c.press(cust, {"1"});
  EXPECT_EQ(c.closed(call)->disposition, "completed");
}

TEST(CallCenter, RingAllRingsEveryFreeAgentAndTheFirstAnswerWins) {
  Center c(3, "hangup", 0, [](QueueDef& q) { q.spec.strategy = acd::Strategy::ring_all; });
  for (AgentId a = 0; a < 3; ++a) c.ready(a);
  LegId cust = c.customer_call();
  CallId call = c.last_call();
  std::vector<LegId> phones;
  for (AgentId a = 0; a < 3; ++a) {
    EXPECT_EQ(c.state(a), AgentState::reserved);
    phones.push_back(c.cc->agent_leg(a));
    ASSERT_NE(phones.back(), 0);
  }
  c.answer(2);
  EXPECT_EQ(c.state(0), AgentState::ready);
  EXPECT_EQ(c.state(1), AgentState::ready);
  EXPECT_EQ(c.sw.leg(phones[0]), nullptr);  // hung up and forgotten by the switch
  EXPECT_TRUE(c.hears(cust, phones[2]));
  c.sw.far_end_hang_up(cust);
  c.run(100);
  auto segs = c.segments(call);
  EXPECT_EQ(std::count(segs.begin(), segs.end(), "ring:answered_elsewhere"), 2);
  EXPECT_TRUE(contains(segs, "ring:answered"));
  EXPECT_EQ(c.queue_log(call), (std::vector<std::string>{"enter", "connect"}));
}

TEST(CallCenter, AWaitingCallerPressesOneAndIsCalledBackInHisPlace) {
  Center c(2, "hangup", 0, [](QueueDef& q) { q.callback_digit = "1"; });
  c.ready(1);
  LegId x = c.talking(1);
  LegId b = c.sw.incoming("13911110002", "95500");
  c.run(1'000);
  CallId b_call = c.last_call();
  LegId later = c.sw.incoming("13911110003", "95500");
  c.run(1'000);
  c.press(b, {"1"});
  ASSERT_NE(c.closed(b_call), nullptr);
  EXPECT_EQ(c.closed(b_call)->disposition, "callback");
  EXPECT_TRUE(contains(c.queue_log(b_call), "callback"));
  EXPECT_FALSE(contains(c.queue_log(b_call), "abandon"));
  CallId cb = c.last_call();
  ASSERT_NE(cb, b_call);
  EXPECT_EQ(c.cc->call(cb)->direction, "callback");
  EXPECT_EQ(c.cc->call(cb)->phase, "queued");
  EXPECT_EQ(c.cc->waiting(0), 2u);  // the callback and the later caller
  // Agent 1 frees up: the callback comes first, it kept the caller's place.
  c.sw.far_end_hang_up(x);
  c.run(6'000);
  ASSERT_EQ(c.state(1), AgentState::reserved);
  EXPECT_EQ(c.cc->agent(1).call, cb);
  c.answer(1);
  EXPECT_EQ(c.cc->call(cb)->phase, "dialing");
  auto legs = c.sw.legs_to("13911110002");
  ASSERT_EQ(legs.size(), 1u);
  c.run(2'500);  // the customer picks up
  EXPECT_EQ(c.cc->call(cb)->phase, "talking");
  EXPECT_TRUE(c.hears(legs[0], c.cc->agent_leg(1)));
  EXPECT_TRUE(c.sw.recording(cb));
  c.sw.far_end_hang_up(legs[0]);
  c.run(100);
  EXPECT_EQ(c.closed(cb)->disposition, "completed");
  EXPECT_TRUE(contains(c.segments(cb), "talk:completed"));
  EXPECT_TRUE(contains(c.queue_log(cb), "connect"));
  (void)later;
}

TEST(CallCenter, TimedOutCallersAreCalledBackOrOverflowKeepingTheirPlace) {
  // Maximum wait 10 s, then a callback that waits in the same queue.
  {
    Center c(2, "callback", 10'000, [](QueueDef& q) { q.fallback_target = ""; });
    c.ready(1);
    LegId x = c.talking(1);
    c.sw.incoming("13911110002", "95500");
    c.run(100);
    CallId waiting = c.last_call();
    c.run(10'000);
    ASSERT_NE(c.closed(waiting), nullptr);
    EXPECT_EQ(c.closed(waiting)->disposition, "callback");
    EXPECT_EQ(c.cc->call(c.last_call())->direction, "callback");
    c.sw.far_end_hang_up(x);
    c.run(6'000);
    EXPECT_EQ(c.cc->agent(1).call, c.last_call());
  }
  // Overflow from general to vip after 10 s: the caller goes before a vip caller who came later.
  {
    Center c(2, "queue", 10'000, [](QueueDef& q) { q.fallback_target = "vip"; });
    c.ready(0);  // the only agent with the vip skill
    LegId x = c.talking(0, "95501");
    c.sw.incoming("13911110002", "95500");
    c.run(100);
    CallId general = c.last_call();
    c.run(2'000);
    c.sw.incoming("13911110003", "95501");
    c.run(100);
    c.run(9'000);  // the general caller overflowed to vip by now
    EXPECT_TRUE(contains(c.queue_log(general), "timeout"));
    c.sw.far_end_hang_up(x);
    c.run(6'000);
    ASSERT_EQ(c.state(0), AgentState::reserved);
    EXPECT_EQ(c.cc->agent(0).call, general);
  }
}

TEST(CallCenter, QueuesAndAgentsChangeLiveWithoutDroppingAnything) {
  Center c(3);
  c.ready(1);
  c.ready(2);
  ASSERT_EQ(c.cc->sign_in(0, c.now()), "");
  LegId vip = c.customer_call("95501");  // only agent 0 has the vip skill, and he is not ready
  CallId vip_call = c.last_call();
  EXPECT_EQ(c.cc->waiting(1), 1u);
  // Agent 1 learns the vip skill: the waiting caller is offered to him at once.
  edit_config(c, [](auto&, auto& agents) { agents[1].spec.skills = {1}; });
  EXPECT_EQ(c.state(1), AgentState::reserved);
  EXPECT_EQ(c.cc->agent(1).call, vip_call);
  c.answer(1);
  // A new queue with its own number, a new agent; agent 2 leaves the configuration while busy.
  LegId general = c.customer_call();
  ASSERT_EQ(c.state(2), AgentState::reserved);
  c.answer(2);
  edit_config(c, [](auto& queues, auto& agents) {
    QueueDef fund = queues[0];
    fund.code = "fund";
    fund.access_numbers = {"95502"};
    queues.push_back(fund);
    AgentDef d = agents[0];
    d.staff_id = 200;
    d.username = "new";
    d.extension = "8009";
    agents.push_back(d);
    agents.erase(agents.begin() + 2);
  });
  EXPECT_EQ(c.state(2), AgentState::busy);  // his call goes on
  EXPECT_TRUE(c.cc->agent(2).pending_not_ready);
  EXPECT_EQ(c.cc->sign_in(2, c.now()), "agent_retired");
  AgentId fresh = *c.cc->agent_by_username("new");
  c.ready(fresh);
  c.sw.incoming("13911110009", "95502");
  c.run(100);
  EXPECT_EQ(c.state(fresh), AgentState::reserved);
  EXPECT_EQ(c.cc->queue_defs()[size_t(*c.cc->queue_by_code("fund"))].code, "fund");
  c.sw.far_end_hang_up(general);
  c.run(6'000);
  EXPECT_EQ(c.state(2), AgentState::signed_out);
  EXPECT_EQ(c.cc->sign_in(2, c.now()), "agent_retired");
  EXPECT_FALSE(c.cc->agent_by_username("a2"));
  // The vip queue is removed: its number leads nowhere now, its caller in progress is unharmed.
  edit_config(c, [](auto& queues, auto&) { queues.erase(queues.begin() + 1); });
  EXPECT_EQ(c.cc->call(vip_call)->phase, "talking");
  c.sw.incoming("13911110010", "95501");
  c.run(100);
  EXPECT_EQ(c.closed(c.last_call())->disposition, "no_route");
  EXPECT_TRUE(c.hears(vip, c.cc->agent_leg(1)));
}

CallId open_chat(Center& c, const std::string& customer, acd::Channel ch = acd::Channel::chat) {
  CallId id = 0;
  CallCenter::ConversationRequest r;
  r.channel = ch;
  r.queue = ch == acd::Channel::chat ? "chat" : "mail";
  r.customer = customer;
  r.subject = "开户咨询";
  r.body = "你好";
  EXPECT_EQ(c.cc->open_conversation(r, c.now(), id), "");
  c.collect();
  return id;
}

TEST(CallCenter, AChatIsOfferedAcceptedWrittenAndWrappedUpWithACdrLikeACall) {
  Center c(2);
  c.ready(0);
  CallId id = open_chat(c, "visitor-1");
  auto v = c.cc->conversation(id);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->state, "offered");
  EXPECT_EQ(v->offered, std::vector<AgentId>{0});
  EXPECT_EQ(c.state(0), AgentState::ready);  // a chat is not a call: his phone state stays
  EXPECT_EQ(c.cc->post_message(id, 0, "您好", c.now()), "not_talking");
  EXPECT_EQ(c.cc->accept(1, id, c.now()), "not_ringing");
  c.run(1'000);
  EXPECT_EQ(c.cc->accept(0, id, c.now()), "");
  EXPECT_EQ(c.cc->post_message(id, 0, "您好，请问有什么可以帮您？", c.now()), "");
  EXPECT_EQ(c.cc->post_message(id, -1, "想开户", c.now()), "");
  EXPECT_EQ(c.cc->wrap_up_conversation(0, id, "consult", "", true, c.now()), "not_in_wrap_up");
  // A phone call does not reach him while he chats (his profile does not blend) …
  c.sw.incoming("13900000001", "95500");
  c.run(100);
  EXPECT_EQ(c.state(0), AgentState::ready);
  // … and reaches him once the chat is wrapped up.
  EXPECT_EQ(c.cc->customer_leaves(id, c.now()), "");
  EXPECT_EQ(c.cc->post_message(id, -1, "还在吗", c.now()), "conversation_ended");
  EXPECT_EQ(c.cc->conversation(id)->state, "wrap_up");
  EXPECT_EQ(c.cc->wrap_up_conversation(0, id, "consult", "开户流程", true, c.now()), "");
  c.collect();
  EXPECT_FALSE(c.cc->conversation(id));
  c.run(100);
  EXPECT_EQ(c.state(0), AgentState::reserved);
  EXPECT_EQ(c.queue_log(id), (std::vector<std::string>{"enter", "connect"}));
  EXPECT_EQ(c.segments(id),
            (std::vector<std::string>{"queue:answered", "offer:answered", "chat:completed"}));
  EXPECT_EQ(c.closed(id)->disposition, "completed");
  int lines = 0;
  for (auto& f : c.facts)
    if (auto* m = std::get_if<Message>(&f); m && m->call == id) ++lines;
  EXPECT_EQ(lines, 3);
}

TEST(CallCenter, UnacceptedChatsMoveOnAndEMailsWaitForTheNextShift) {
  Center c(2);
  c.ready(0);
  CallId chat = open_chat(c, "visitor-2");
  c.cc->sign_in(1, c.now());
  c.run(31'000);  // not accepted in time: back to the queue, and the agent is not ready
  EXPECT_EQ(c.state(0), AgentState::not_ready);
  EXPECT_EQ(c.cc->agent(0).reason, "no_answer");
  c.cc->ready(1, c.now());
  c.collect();
  EXPECT_EQ(c.cc->conversation(chat)->offered, std::vector<AgentId>{1});
  EXPECT_EQ(c.cc->decline(1, chat, c.now()), "");
  c.run(61'000);  // the queue's maximum wait
  EXPECT_EQ(c.closed(chat)->disposition, "timeout");
  EXPECT_EQ(c.queue_log(chat),
            (std::vector<std::string>{"enter", "ring_noanswer", "ring_noanswer", "timeout"}));
  // Nobody signed in: a chat is refused, an e-mail waits.
  c.cc->sign_out(0, "signed_out", c.now());
  c.cc->sign_out(1, "signed_out", c.now());
  CallId refused = 0;
  CallCenter::ConversationRequest r{acd::Channel::chat, "chat", "visitor-3", "", "", 0};
  EXPECT_EQ(c.cc->open_conversation(r, c.now(), refused), "no_agents");
  c.collect();
  EXPECT_EQ(c.closed(refused)->disposition, "no_agents");
  CallId mail = open_chat(c, "li@example.com", acd::Channel::email);
  EXPECT_EQ(c.cc->conversation(mail)->state, "waiting");
  r.queue = "mail";
  EXPECT_EQ(c.cc->open_conversation(r, c.now(), refused), "wrong_channel");
  c.ready(1);
  c.collect();
  EXPECT_EQ(c.cc->conversation(mail)->state, "offered");
}

TEST(CallCenter, RandomEventStormsLeaveNothingStuck) {
  // KEFU_STORM_SEEDS=2000 for a longer soak; 40 in every test run.
  uint64_t seeds = getenv("KEFU_STORM_SEEDS") ? std::stoull(getenv("KEFU_STORM_SEEDS")) : 40;
  int handled_media = 0;  // the storms must reach the end of chats and e-mails, not only start them
  for (uint64_t seed = 1; seed <= seeds; ++seed) {
    const char* fallbacks[] = {"voicemail", "hangup", "callback"};
    Center c(6, fallbacks[seed % 3], seed % 4 ? 20'000 : 0, [&](QueueDef& q) {
      q.sticky_wait_ms = seed % 2 ? 5'000 : -1;
      if (seed % 5 < 2) q.spec.strategy = acd::Strategy::ring_all;
      q.callback_digit = "1";
    });
    std::mt19937_64 rng(seed);
    auto pick = [&](int n) { return int(rng() % uint64_t(n)); };
    Supervisor sup{900, "sup", "8100"};
    std::vector<LegId> customers;
    std::vector<CallId> conversations;
    for (int step = 0; step < 600; ++step) {
      AgentId a = pick(6);
      auto now = c.now();
      auto any_conv = [&]() -> CallId {
        std::vector<CallId> ids;
        for (AgentId x = 0; x < 6; ++x)
          for (auto& v : c.cc->conversations_of(x)) ids.push_back(v.id);
        for (CallId id : conversations) ids.push_back(id);
        return ids.empty() ? 0 : ids[size_t(pick(int(ids.size())))];
      };
      switch (pick(30)) {
        case 24: {  // 多渠道: a visitor opens a chat or writes an e-mail
          CallCenter::ConversationRequest r{pick(3) ? acd::Channel::chat : acd::Channel::email,
                                            "",
                                            "v" + std::to_string(pick(9)),
                                            "s",
                                            "b",
                                            pick(5)};
          r.queue = r.channel == acd::Channel::chat ? "chat" : "mail";
          CallId id = 0;
          if (c.cc->open_conversation(r, now, id).empty()) conversations.push_back(id);
          break;
        }
        case 25:
          c.cc->accept(a, any_conv(), now);
          break;
        case 26:
          pick(3) ? c.cc->post_message(any_conv(), pick(2) ? a : -1, "x", now)
                  : c.cc->decline(a, any_conv(), now);
          break;
        case 27:
          c.cc->close_conversation(a, any_conv(), now);
          break;
        case 28:
          c.cc->customer_leaves(any_conv(), now);
          break;
        case 29:
          c.cc->wrap_up_conversation(a, any_conv(), "t", "s", pick(3) > 0, now);
          break;
        case 0:
        case 1:  // a few callers who call again (sticky routing), some withholding their number
          customers.push_back(c.sw.incoming(pick(8) ? "1391000000" + std::to_string(pick(5)) : "",
                                            pick(3)   ? "95500"
                                            : pick(2) ? "95501"
                                                      : "95588",
                                            pick(5)));
          break;
        case 23:  // an administrator edits skills, levels, strategies; retires and restores
          edit_config(c, [&](std::vector<QueueDef>& queues, std::vector<AgentDef>& agents) {
            if (!agents.empty() && pick(3) == 0)
              agents.erase(agents.begin() + pick(int(agents.size())));
            if (!agents.empty()) {
              auto& d = agents[size_t(pick(int(agents.size())))];
              d.spec.skills = pick(2) ? std::vector<acd::SkillId>{1} : std::vector<acd::SkillId>{};
              d.spec.level = 1 + pick(5);
            }
            if (pick(4) == 0 && queues.size() > 1) queues.pop_back();
            queues[0].spec.strategy = acd::Strategy(pick(7));
            queues[0].spec.widen_after_ms = pick(2) ? 0 : 30'000;
          });
          break;
        case 22:  // a caller presses keys: a callback request, a menu choice, an account number
          if (!customers.empty())
            c.sw.press(customers[size_t(pick(int(customers.size())))],
                       std::string(1, "0123456789#"[pick(11)]) + (pick(2) ? "123" : ""));
          break;
        case 2:
          c.cc->sign_in(a, now);
          break;
        case 3:
        case 4:
          c.cc->ready(a, now);
          break;
        case 5:
          c.cc->not_ready(a, "rest", now);
          break;
        case 6:
          c.cc->sign_out(a, "signed_out", now);
          break;
        case 7:
        case 8:
          c.cc->answer(a, now);
          break;
        case 9:
          c.cc->hang_up(a, now);
          break;
        case 10:  // from the desk, or the phone's own hold button (on any leg of his)
          pick(2) ? void(c.cc->hold(a, now)) : c.sw.phone_hold(c.cc->agent_leg(a), true);
          break;
        case 11:
          pick(2) ? void(c.cc->retrieve(a, now)) : c.sw.phone_hold(c.cc->agent_leg(a), false);
          break;
        case 12:
          c.cc->transfer(a,
                         {Target::Kind(pick(4)), pick(2)   ? "a" + std::to_string(pick(6))
                                                 : pick(2) ? "vip"
                                                 : pick(2) ? "main:check"
                                                           : "13800001234"},
                         pick(2), now);
          break;
        case 13:
          c.cc->complete_transfer(a, now);
          break;
        case 14:
          pick(2) ? c.cc->conference(a, now) : c.cc->cancel_consult(a, now);
          break;
        case 15:
          c.cc->dial(a, pick(3) ? "13800002222" : "13800000486", now);
          break;
        case 16:
          c.cc->wrap_up(a, "x", "y", pick(2), now);
          break;
        case 17:
          c.cc->monitor(sup, a, MixMode(pick(3)), now);
          break;
        case 18:
          pick(2) ? c.cc->take_over(sup, a, now) : c.cc->stop_monitor(900, now);
          break;
        case 19:
        case 20:
          if (!customers.empty())
            c.sw.far_end_hang_up(customers[size_t(pick(int(customers.size())))]);
          break;
        case 21:
          c.sw.set_offline("800" + std::to_string(1 + pick(6)), pick(4) == 0);
          break;
      }
      // Adapters answer, now or never (a lost answer must not hold the caller for ever).
      for (auto& r : c.cc->take_adapter_requests())
        if (pick(5)) c.cc->on_adapter_result(r.call, pick(2), {}, c.now());
      c.run(pick(4) ? 50 : 3'000);
      // Nobody is left alone on a call that is not waiting for someone.
      for (auto& call : c.cc->calls()) {
        std::string legs;
        for (auto& [id, what] : call.legs) legs += what + " ";
        if (call.phase == "talking") {
          std::string evs;
          for (auto& f : c.facts)
            if (auto* e = std::get_if<CallEvent>(&f); e && e->call == call.id)
              evs += e->type + "(" + std::to_string(e->leg) + "," + std::to_string(e->agent) + "," +
                     e->detail + "@" + std::to_string(e->at % 1000000) + ") ";
          for (auto& q : c.queue_log(call.id)) evs += "q:" + q + " ";
          ASSERT_GE(call.legs.size(), 2u) << "seed " << seed << " step " << step << " "
                                          << call.direction << " " << legs << "| " << evs;
        }
      }
      for (AgentId x = 0; x < 6; ++x) {
        auto v = c.cc->agent(x);
        if (v.state == AgentState::reserved) {
          ASSERT_NE(c.cc->agent_leg(x), 0) << "seed " << seed << " step " << step;
        }
        if (v.state == AgentState::busy) {
          ASSERT_NE(v.call, 0) << "seed " << seed << " step " << step;
        }
        if (v.state == AgentState::ready || v.state == AgentState::not_ready ||
            v.state == AgentState::signed_out) {
          ASSERT_EQ(c.cc->agent_leg(x), 0) << "seed " << seed << " step " << step;
        }
        // His chats and e-mails are offered to him or in his hands; none when signed out.
        auto mine = c.cc->conversations_of(x);
        if (v.state == AgentState::signed_out) {
          ASSERT_TRUE(mine.empty()) << "seed " << seed;
        }
        for (auto& cv : mine)
          ASSERT_TRUE(cv.agent == x || std::count(cv.offered.begin(), cv.offered.end(), x))
              << "seed " << seed << " step " << step;
      }
    }
    // Every customer and every party hangs up; time passes beyond every timer.
    for (int round = 0; round < 3; ++round) {
      for (LegId l : customers) c.sw.far_end_hang_up(l);
      for (auto& v : c.cc->calls())
        for (auto& [id, what] : v.legs) c.sw.far_end_hang_up(id);
      c.cc->stop_monitor(900, c.now());
      for (CallId id : conversations) c.cc->customer_leaves(id, c.now());
      c.run(200);
    }
    c.run(130'000);
    EXPECT_EQ(c.cc->live_conversations(), 0u) << "seed " << seed;
    EXPECT_EQ(c.cc->live_calls(), 0u) << "seed " << seed;
    EXPECT_EQ(c.cc->live_legs(), 0u) << "seed " << seed;
    EXPECT_EQ(c.sw.live_legs(), 0u) << "seed " << seed;
    for (AgentId x = 0; x < 6; ++x) {
      auto s = c.state(x);
      EXPECT_TRUE(s == AgentState::ready || s == AgentState::not_ready ||
                  s == AgentState::signed_out)
          << "seed " << seed << " agent " << x << " " << acd::to_string(s);
    }
    // Every call that opened was closed, once.
    std::map<CallId, int> opened, closed;
    for (auto& f : c.facts) {
      if (auto* o = std::get_if<CallOpened>(&f)) ++opened[o->call];
      if (auto* k = std::get_if<CallClosed>(&f)) ++closed[k->call];
    }
    for (auto& [id, n] : opened) EXPECT_EQ(closed[id], 1) << "seed " << seed << " call " << id;
    EXPECT_EQ(opened.size(), closed.size()) << "seed " << seed;
    for (auto& f : c.facts)
      if (auto* g = std::get_if<SegmentClosed>(&f);
          g && (g->seg.kind == "chat" || g->seg.kind == "email"))
        ++handled_media;
  }
  EXPECT_GT(handled_media, 0);
}

}  // namespace
}  // namespace kefu::cti
