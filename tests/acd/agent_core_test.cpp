// Agent states over the router: the M2 rules on small cases, then random event sequences
// (any command or hang-up at any moment, timers firing) that must never leave an agent
// reserved, busy or in wrap-up without a call, nor a caller in a queue after hanging up.
#include "acd/agent_core.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace kefu::acd {
namespace {

struct Fixture {
  Router router;
  QueueId q;
  std::vector<AgentId> agents;
  AgentCore core;
  explicit Fixture(int n, CoreConfig cfg = {}, Strategy strategy = Strategy::longest_idle)
      : router(),
        q(router.add_queue(QueueSpec{Channel::voice, {1}, strategy, 0, 30'000, 45'000})),
        agents(make_agents(router, n)),
        core(router, cfg) {}
  static std::vector<AgentId> make_agents(Router& r, int n) {
    std::vector<AgentId> out;
    for (int i = 0; i < n; ++i) out.push_back(r.add_agent(AgentSpec{5, {1}, {1, 0, 0, 0}}));
    return out;
  }
};

TEST(AgentCore, OfferAnswerHangUpWrapUpReady) {
  Fixture f(1);
  AgentId a = f.agents[0];
  EXPECT_EQ(f.core.sign_in(a, 0), Status::ok);
  EXPECT_EQ(f.core.state(a), AgentState::not_ready);
  EXPECT_EQ(f.core.ready(a, 10), Status::ok);
  EXPECT_EQ(f.core.arrive(1, f.q, 0, 20), Status::ok);
  EXPECT_EQ(f.core.state(a), AgentState::reserved);
  EXPECT_EQ(f.core.hang_up(a, 25), Status::not_talking);
  EXPECT_EQ(f.core.answer(a, 30), Status::ok);
  EXPECT_EQ(f.core.hang_up(a, 90), Status::ok);
  EXPECT_EQ(f.core.state(a), AgentState::wrap_up);
  f.core.tick(90 + 30'000);
  EXPECT_EQ(f.core.state(a), AgentState::ready);
  EXPECT_EQ(f.core.tasks(), 0u);
}

TEST(AgentCore, NoAnswerPutsTheCallBackAndTheAgentNotReady) {
  Fixture f(2);
  for (AgentId a : f.agents) f.core.sign_in(a, 0);
  f.core.ready(f.agents[0], 1);
  f.core.arrive(7, f.q, 0, 2);
  EXPECT_EQ(f.core.task_of(f.agents[0]), 7);
  f.core.ready(f.agents[1], 3);  // busy colleague: nothing to offer yet
  EXPECT_EQ(f.core.state(f.agents[1]), AgentState::ready);
  f.core.tick(2 + 15'000);
  EXPECT_EQ(f.core.state(f.agents[0]), AgentState::not_ready);
  EXPECT_EQ(f.core.reason(f.agents[0]), "no_answer");
  EXPECT_EQ(f.core.task_of(f.agents[1]), 7);  // offered again at once
}

TEST(AgentCore, NotReadyOrSignOutDuringACallWaitsForItsEnd) {
  Fixture f(1);
  AgentId a = f.agents[0];
  f.core.sign_in(a, 0);
  f.core.ready(a, 0);
  f.core.arrive(1, f.q, 0, 0);
  f.core.answer(a, 1);
  EXPECT_EQ(f.core.not_ready(a, "meal", 2), Status::ok);
  EXPECT_EQ(f.core.state(a), AgentState::busy);
  f.core.arrive(2, f.q, 0, 3);  // must not be offered after the call
  f.core.caller_hung_up(1, 4);
  f.core.end_wrap_up(a, 5);
  EXPECT_EQ(f.core.state(a), AgentState::not_ready);
  EXPECT_EQ(f.core.reason(a), "meal");
  EXPECT_EQ(f.router.waiting(), 1u);
  EXPECT_EQ(f.core.ready(a, 6), Status::ok);
  EXPECT_EQ(f.core.task_of(a), 2);
  f.core.answer(a, 7);
  EXPECT_EQ(f.core.sign_out(a, 8), Status::ok);
  EXPECT_EQ(f.core.state(a), AgentState::busy);  // the customer is not dropped
  f.core.hang_up(a, 9);
  f.core.tick(9 + 30'000);
  EXPECT_EQ(f.core.state(a), AgentState::signed_out);
}

TEST(AgentCore, CallerHangingUpAtEachStepLeavesNothingBehind) {
  for (int step = 0; step < 3; ++step) {
    Fixture f(1);
    AgentId a = f.agents[0];
    f.core.sign_in(a, 0);
    if (step > 0) f.core.ready(a, 1);
    f.core.arrive(1, f.q, 0, 2);
    if (step == 2) f.core.answer(a, 3);
    EXPECT_EQ(f.core.caller_hung_up(1, 4), Status::ok);
    f.core.tick(4 + 30'000);
    EXPECT_EQ(f.core.tasks(), 0u) << step;
    EXPECT_EQ(f.router.waiting(), 0u) << step;
    EXPECT_EQ(f.core.state(a), step == 0 ? AgentState::not_ready : AgentState::ready) << step;
    EXPECT_EQ(f.core.caller_hung_up(1, 5), Status::unknown_task);
  }
}

TEST(AgentCore, CommandsInTheWrongStateChangeNothing) {
  Fixture f(1);
  AgentId a = f.agents[0];
  EXPECT_EQ(f.core.ready(a, 0), Status::not_signed_in);
  EXPECT_EQ(f.core.answer(a, 0), Status::not_ringing);
  EXPECT_EQ(f.core.sign_in(99, 0), Status::unknown_agent);
  f.core.sign_in(a, 0);
  EXPECT_EQ(f.core.sign_in(a, 0), Status::already_signed_in);
  EXPECT_EQ(f.core.end_wrap_up(a, 0), Status::not_in_wrap_up);
  EXPECT_EQ(f.core.arrive(1, 5, 0, 0), Status::rejected_by_queue);
}

TEST(AgentCore, RingAllRingsEveryReadyAgentAndReleasesTheOthersOnAnswer) {
  Fixture f(3, CoreConfig{10'000, 5'000}, Strategy::ring_all);
  for (AgentId a : f.agents) f.core.sign_in(a, 0), f.core.ready(a, 0);
  f.core.take_history();
  ASSERT_EQ(f.core.arrive(1, f.q, 0, 10), Status::ok);
  for (AgentId a : f.agents) EXPECT_EQ(f.core.state(a), AgentState::reserved);
  // One declines (not ready: no answer), another answers: the third is free at once and takes
  // the next caller, who rings him alone.
  EXPECT_EQ(f.core.decline(f.agents[0], 20), Status::ok);
  EXPECT_EQ(f.core.state(f.agents[0]), AgentState::not_ready);
  EXPECT_EQ(f.core.answer(f.agents[1], 30), Status::ok);
  EXPECT_EQ(f.core.state(f.agents[1]), AgentState::busy);
  EXPECT_EQ(f.core.state(f.agents[2]), AgentState::ready);
  bool elsewhere = false;
  for (auto& t : f.core.take_history())
    elsewhere |= t.agent == f.agents[2] && t.reason == "answered_elsewhere";
  EXPECT_TRUE(elsewhere);
  ASSERT_EQ(f.core.arrive(2, f.q, 0, 40), Status::ok);
  EXPECT_EQ(f.core.state(f.agents[2]), AgentState::reserved);
  // The caller hangs up while it rings: the agent is ready again, nothing is held.
  EXPECT_EQ(f.core.caller_hung_up(2, 50), Status::ok);
  EXPECT_EQ(f.core.state(f.agents[2]), AgentState::ready);
  // Nobody answers a ring-all call: every agent it rang goes not ready, the call waits.
  f.core.ready(f.agents[0], 60);
  ASSERT_EQ(f.core.arrive(3, f.q, 0, 70), Status::ok);
  f.core.tick(70 + 10'000);
  EXPECT_EQ(f.core.state(f.agents[0]), AgentState::not_ready);
  EXPECT_EQ(f.core.state(f.agents[2]), AgentState::not_ready);
  EXPECT_EQ(f.router.waiting(), 1u);
}

// Invariants that must hold after every event.
void check(Fixture& f, const char* where) {
  std::set<TaskId> holding;  // tasks with an agent (a ring-all task may have several)
  for (AgentId a : f.agents) {
    AgentState s = f.core.state(a);
    bool call = s == AgentState::reserved || s == AgentState::busy || s == AgentState::wrap_up;
    ASSERT_EQ(call, f.core.task_of(a) != 0) << where << " agent " << a << " " << to_string(s);
    ASSERT_EQ(call, f.router.load(a, Channel::voice) == 1)
        << where << " agent " << a << " " << to_string(s);
    bool routable = s == AgentState::ready || (call && !f.core.pending_not_ready(a));
    ASSERT_EQ(f.router.ready(a), routable) << where << " agent " << a << " " << to_string(s);
    if (call) holding.insert(f.core.task_of(a));
  }
  ASSERT_EQ(f.core.tasks(), f.router.waiting() + holding.size()) << where;
}

TEST(AgentCoreRandomized, NoSequenceOfEventsLeavesAnythingStuck) {
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    std::mt19937_64 rng(seed);
    Fixture f(6, CoreConfig{4'000, 6'000}, seed % 2 ? Strategy::longest_idle : Strategy::ring_all);
    std::uniform_int_distribution<int> ev(0, 99), who(0, 5);
    std::vector<TaskId> callers;
    TaskId next = 1;
    Millis now = 0;
    for (int step = 0; step < 2000; ++step) {
      now += std::uniform_int_distribution<int>(0, 1500)(rng);
      AgentId a = f.agents[size_t(who(rng))];
      int e = ev(rng);
      if (e < 20) {
        if (f.core.arrive(next, f.q, int(rng() % 5), now) == Status::ok) callers.push_back(next);
        ++next;
      } else if (e < 30 && !callers.empty()) {
        size_t i = rng() % callers.size();
        f.core.caller_hung_up(callers[i], now);
        callers.erase(callers.begin() + long(i));
      } else if (e < 38)
        f.core.sign_in(a, now);
      else if (e < 43)
        f.core.sign_out(a, now);
      else if (e < 58)
        f.core.ready(a, now);
      else if (e < 63)
        f.core.not_ready(a, "rest", now);
      else if (e < 78)
        f.core.answer(a, now);
      else if (e < 86)
        f.core.hang_up(a, now);
      else if (e < 90)
        f.core.end_wrap_up(a, now);
      else {
        f.core.tick(now);
        for (TaskId t : f.core.take_expired())
          callers.erase(std::find(callers.begin(), callers.end(), t));
      }
      check(f, ("seed " + std::to_string(seed) + " step " + std::to_string(step)).c_str());
      if (HasFatalFailure()) return;
    }
    // Everybody hangs up and every timer runs out: no agent may still hold a call.
    for (TaskId t : callers) f.core.caller_hung_up(t, now);
    now += 60'000;
    f.core.tick(now);
    check(f, "drained");
    EXPECT_EQ(f.core.tasks(), 0u) << "seed " << seed;
    EXPECT_EQ(f.router.waiting(), 0u) << "seed " << seed;
    for (AgentId a : f.agents) {
      AgentState s = f.core.state(a);
      EXPECT_TRUE(s == AgentState::ready || s == AgentState::not_ready ||
                  s == AgentState::signed_out)
          << "seed " << seed << " agent " << a << " " << to_string(s);
    }
  }
}

// ---- media tasks (chat, e-mail) beside the voice state ----

struct Blend {
  Router router;
  QueueId voice, chat, email;
  std::vector<AgentId> agents;
  AgentCore core;
  explicit Blend(int n, bool blending, CoreConfig cfg = {})
      : router(),
        voice(router.add_queue(QueueSpec{Channel::voice, {1}, Strategy::longest_idle, 0, 0, 0})),
        chat(router.add_queue(QueueSpec{Channel::chat, {1}, Strategy::longest_idle, 0, 0, 0})),
        email(router.add_queue(QueueSpec{Channel::email, {1}, Strategy::round_robin, 0, 0, 0})),
        agents(make(router, n, blending)),
        core(router, cfg) {}
  static std::vector<AgentId> make(Router& r, int n, bool blending) {
    std::vector<AgentId> out;
    for (int i = 0; i < n; ++i) {
      AgentSpec s{5, {1}, {1, 0, 2, 1}};
      s.voice_with_media = blending && i % 2 == 0;
      out.push_back(r.add_agent(s));
    }
    return out;
  }
  MediaEvent::Kind last(TaskId t) {
    for (auto& e : core.take_media_events()) events.push_back(e);
    for (auto it = events.rbegin(); it != events.rend(); ++it)
      if (it->task == t) return it->kind;
    return MediaEvent::Kind::finished;
  }
  std::vector<MediaEvent> events;
};

TEST(AgentCoreMedia, ChatsRunBesideEachOtherUpToCapacityAndEndThroughWrapUp) {
  Blend f(1, false);
  AgentId a = f.agents[0];
  f.core.sign_in(a, 0);
  f.core.ready(a, 0);
  for (TaskId t : {1, 2, 3}) ASSERT_EQ(f.core.arrive(t, f.chat, 0, 10), Status::ok);
  EXPECT_EQ(f.core.media_of(a), (std::vector<TaskId>{1, 2}));  // capacity 2
  EXPECT_EQ(f.core.state(a), AgentState::ready);               // his voice state is untouched
  EXPECT_EQ(f.core.accept(a, 1, 20), Status::ok);
  EXPECT_EQ(f.core.accept(a, 1, 21), Status::not_ringing);
  EXPECT_EQ(f.core.accept(a, 3, 21), Status::not_ringing);  // still waiting in the queue
  EXPECT_EQ(f.core.media_state(3), AgentCore::MediaState::waiting);
  EXPECT_EQ(f.core.accept(a, 2, 22), Status::ok);
  EXPECT_EQ(f.core.end_wrap_up(a, 1, 30), Status::not_in_wrap_up);
  EXPECT_EQ(f.core.close(a, 1, 40), Status::ok);
  EXPECT_EQ(f.core.media_state(1), AgentCore::MediaState::wrap_up);
  EXPECT_EQ(f.core.end_wrap_up(a, 1, 50), Status::ok);
  EXPECT_EQ(f.last(1), MediaEvent::Kind::finished);
  EXPECT_EQ(f.core.media_of(a), (std::vector<TaskId>{2, 3}));  // the third comes when one ends
  // Without blending a phone call waits while he holds chats; it comes when the last ends.
  ASSERT_EQ(f.core.arrive(9, f.voice, 0, 60), Status::ok);
  EXPECT_EQ(f.core.task_of(a), 0);
  f.core.caller_hung_up(2, 70);  // the customer left: wrap-up, then its timer
  EXPECT_EQ(f.core.media_state(2), AgentCore::MediaState::wrap_up);
  f.core.caller_hung_up(3, 80);  // left while offered: withdrawn, nothing to wrap up
  EXPECT_EQ(f.last(3), MediaEvent::Kind::withdrawn);
  EXPECT_EQ(f.core.media_of(a), (std::vector<TaskId>{2}));
  f.core.tick(70 + 30'000);
  EXPECT_EQ(f.core.task_of(a), 9);
  EXPECT_EQ(f.core.state(a), AgentState::reserved);
  EXPECT_EQ(f.core.tasks(), 1u);
}

TEST(AgentCoreMedia, AnUnacceptedChatGoesBackAndTheAgentIsNotReady) {
  Blend f(2, false);
  f.core.sign_in(f.agents[0], 0);
  f.core.ready(f.agents[0], 0);
  f.core.arrive(5, f.chat, 0, 10);
  EXPECT_EQ(f.core.media_of(f.agents[0]), (std::vector<TaskId>{5}));
  f.core.sign_in(f.agents[1], 20);
  f.core.ready(f.agents[1], 20);
  f.core.tick(10 + 30'000);
  EXPECT_EQ(f.core.state(f.agents[0]), AgentState::not_ready);
  EXPECT_EQ(f.core.reason(f.agents[0]), "no_answer");
  EXPECT_TRUE(f.core.media_of(f.agents[0]).empty());
  EXPECT_EQ(f.core.media_of(f.agents[1]), (std::vector<TaskId>{5}));  // at once, to the other
  EXPECT_EQ(f.core.decline(f.agents[1], 5, 30'020), Status::ok);
  EXPECT_EQ(f.core.state(f.agents[1]), AgentState::not_ready);
  EXPECT_EQ(f.core.media_state(5), AgentCore::MediaState::waiting);
  EXPECT_EQ(f.router.waiting(), 1u);
}

TEST(AgentCoreMedia, SigningOutReturnsOffersAndWaitsForChatsInHand) {
  Blend f(2, false);
  AgentId a = f.agents[0], b = f.agents[1];
  f.core.sign_in(a, 0);
  f.core.ready(a, 0);
  f.core.arrive(1, f.chat, 0, 1);
  f.core.arrive(2, f.email, 0, 2);
  f.core.accept(a, 1, 3);
  f.core.sign_in(b, 4);
  ASSERT_EQ(f.core.sign_out(a, 5), Status::ok);
  EXPECT_EQ(f.core.state(a), AgentState::not_ready);
  EXPECT_EQ(f.core.reason(a), "signing_out");
  EXPECT_EQ(f.core.media_of(a), (std::vector<TaskId>{1}));  // the e-mail went back
  EXPECT_EQ(f.core.media_state(2), AgentCore::MediaState::waiting);
  f.core.ready(b, 6);
  EXPECT_EQ(f.core.media_of(b), (std::vector<TaskId>{2}));
  f.core.close(a, 1, 7);
  f.core.end_wrap_up(a, 1, 8);
  EXPECT_EQ(f.core.state(a), AgentState::signed_out);
  EXPECT_EQ(f.router.load(a, Channel::chat), 0);
}

TEST(AgentCoreMedia, BlendingAgentsChatDuringACall) {
  Blend f(1, true);
  AgentId a = f.agents[0];
  f.core.sign_in(a, 0);
  f.core.ready(a, 0);
  f.core.arrive(1, f.voice, 0, 1);
  f.core.answer(a, 2);
  f.core.arrive(2, f.chat, 0, 3);
  EXPECT_EQ(f.core.media_of(a), (std::vector<TaskId>{2}));
  // A chat missed during the call: not ready after it, as a not-ready request would be.
  f.core.tick(3 + 30'000);
  EXPECT_EQ(f.core.state(a), AgentState::busy);
  EXPECT_TRUE(f.core.pending_not_ready(a));
  EXPECT_FALSE(f.router.ready(a));
  f.core.hang_up(a, 40'000);
  f.core.end_wrap_up(a, 40'001);
  EXPECT_EQ(f.core.state(a), AgentState::not_ready);
  EXPECT_EQ(f.core.reason(a), "no_answer");
}

void check_media(Blend& f, const char* where) {
  std::set<TaskId> holding;
  for (AgentId a : f.agents) {
    AgentState s = f.core.state(a);
    bool call = s == AgentState::reserved || s == AgentState::busy || s == AgentState::wrap_up;
    ASSERT_EQ(call, f.router.load(a, Channel::voice) == 1) << where << " agent " << a;
    const auto& media = f.core.media_of(a);
    ASSERT_EQ(int(media.size()), f.router.load(a, Channel::chat) + f.router.load(a, Channel::email))
        << where << " agent " << a;
    if (s == AgentState::signed_out) {
      ASSERT_TRUE(media.empty()) << where << " agent " << a;
    }
    // Routing never mixes them without blending (the agent may still dial out himself).
    if (!f.router.agent_spec(a).voice_with_media && f.core.task_of(a) < 1'000'000) {
      ASSERT_FALSE(call && !media.empty()) << where << " agent " << a;
    }
    bool routable = s == AgentState::ready || (call && !f.core.pending_not_ready(a));
    ASSERT_EQ(f.router.ready(a), routable) << where << " agent " << a << " " << to_string(s);
    if (call) holding.insert(f.core.task_of(a));
    for (TaskId t : media) {
      auto st = f.core.media_state(t);
      ASSERT_TRUE(st == AgentCore::MediaState::offered || st == AgentCore::MediaState::active ||
                  st == AgentCore::MediaState::wrap_up)
          << where << " task " << t;
      holding.insert(t);
    }
  }
  ASSERT_EQ(f.core.tasks(), f.router.waiting() + holding.size()) << where;
}

TEST(AgentCoreMediaRandomized, NoSequenceOfEventsLeavesAChatOrAnAgentStuck) {
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    std::mt19937_64 rng(seed);
    Blend f(5, seed % 2 == 0, CoreConfig{4'000, 6'000, 5'000});
    std::uniform_int_distribution<int> ev(0, 99), who(0, 4);
    std::vector<TaskId> customers;
    TaskId next = 1;
    Millis now = 0;
    auto pick_media = [&](AgentId a) -> TaskId {
      const auto& m = f.core.media_of(a);
      return m.empty() ? next + 1000 : m[rng() % m.size()];
    };
    for (int step = 0; step < 3000; ++step) {
      now += std::uniform_int_distribution<int>(0, 1200)(rng);
      AgentId a = f.agents[size_t(who(rng))];
      int e = ev(rng);
      if (e < 18) {
        QueueId q = e < 6 ? f.voice : e < 14 ? f.chat : f.email;
        if (f.core.arrive(next, q, 0, now) == Status::ok) customers.push_back(next);
        ++next;
      } else if (e < 26 && !customers.empty()) {
        size_t i = rng() % customers.size();
        f.core.caller_hung_up(customers[i], now);
        customers.erase(customers.begin() + long(i));
      } else if (e < 31)
        f.core.sign_in(a, now);
      else if (e < 35)
        f.core.sign_out(a, now);
      else if (e < 45)
        f.core.ready(a, now);
      else if (e < 48)
        f.core.not_ready(a, "rest", now);
      else if (e < 54)
        f.core.answer(a, now);
      else if (e < 58)
        f.core.hang_up(a, now);
      else if (e < 60)
        f.core.end_wrap_up(a, now);
      else if (e < 70)
        f.core.accept(a, pick_media(a), now);
      else if (e < 73)
        f.core.decline(a, pick_media(a), now);
      else if (e < 80)
        f.core.close(a, pick_media(a), now);
      else if (e < 84)
        f.core.end_wrap_up(a, pick_media(a), now);
      else if (e < 86)
        f.core.outbound(next++ + 1'000'000, a, now);
      else
        f.core.tick(now);
      f.core.take_media_events();
      check_media(f, ("seed " + std::to_string(seed) + " step " + std::to_string(step)).c_str());
      if (HasFatalFailure()) return;
    }
    for (TaskId t : customers) f.core.caller_hung_up(t, now);
    for (AgentId a : f.agents) f.core.hang_up(a, now);  // outbound calls have no customer here
    now += 60'000;
    f.core.tick(now);
    check_media(f, "drained");
    EXPECT_EQ(f.core.tasks(), 0u) << "seed " << seed;
    EXPECT_EQ(f.router.waiting(), 0u) << "seed " << seed;
    for (AgentId a : f.agents) {
      AgentState s = f.core.state(a);
      EXPECT_TRUE(s == AgentState::ready || s == AgentState::not_ready ||
                  s == AgentState::signed_out)
          << "seed " << seed << " agent " << a << " " << to_string(s);
      EXPECT_TRUE(f.core.media_of(a).empty()) << "seed " << seed;
      EXPECT_FALSE(f.core.pending_not_ready(a) && s != AgentState::not_ready) << "seed " << seed;
    }
  }
}

}  // namespace
}  // namespace kefu::acd
