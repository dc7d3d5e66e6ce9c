// The routing engine alone: its rules on small cases, then randomized event sequences checked
// step by step against the naive full-scan router and against invariants.
#include "acd/router.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <random>
#include <set>

#include "acd/naive_router.hpp"

namespace kefu::acd {
namespace {

std::vector<Offer> out;

AgentSpec agent(int level, std::vector<SkillId> skills, int voice = 1, int chat = 0) {
  AgentSpec a;
  a.level = level;
  a.skills = std::move(skills);
  a.capacity = {voice, 0, chat, 0};
  return a;
}

QueueSpec queue(std::vector<SkillId> skills, Strategy s = Strategy::longest_idle,
                Channel c = Channel::voice) {
  QueueSpec q;
  q.skills = std::move(skills);
  q.strategy = s;
  q.channel = c;
  return q;
}

void ready(Router& r, AgentId a, Millis now) {
  r.sign_in(a, true, now, out);
  r.set_ready(a, true, now, out);
}

TEST(AcdRouter, LongestIdleAgentGetsTheCall) {
  Router r;
  QueueId q = r.add_queue(queue({1}));
  AgentId a = r.add_agent(agent(1, {1})), b = r.add_agent(agent(1, {1}));
  ready(r, b, 100);
  ready(r, a, 200);
  out.clear();
  EXPECT_EQ(r.enqueue(1, q, 0, 300, out), EnqueueResult::offered);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].agent, b);  // ready since 100
}

TEST(AcdRouter, SkillsDecideWhoServesAQueue) {
  Router r;
  QueueId q = r.add_queue(queue({1, 2}));
  AgentId one = r.add_agent(agent(1, {1})), both = r.add_agent(agent(1, {2, 1, 7}));
  EXPECT_TRUE(r.queues_of(one).empty());
  EXPECT_EQ(r.queues_of(both), std::vector<QueueId>{q});
}

TEST(AcdRouter, NoAgentSignedInAndFullQueueAreRefused) {
  Router r;
  QueueId q = r.add_queue(queue({1}), 1);
  AgentId a = r.add_agent(agent(1, {1}));
  out.clear();
  EXPECT_EQ(r.enqueue(1, q, 0, 0, out), EnqueueResult::no_agents);
  r.sign_in(a, true, 0, out);  // signed in, not ready: callers wait
  EXPECT_EQ(r.enqueue(1, q, 0, 0, out), EnqueueResult::queued);
  EXPECT_EQ(r.enqueue(1, q, 0, 0, out), EnqueueResult::duplicate);
  EXPECT_EQ(r.enqueue(2, q, 0, 0, out), EnqueueResult::queue_full);
  EXPECT_EQ(r.enqueue(3, 9, 0, 0, out), EnqueueResult::bad_queue);
}

TEST(AcdRouter, VipWaitsForASeniorAgentUntilWidened) {
  Router r;  // tier 4 needs level 5 for 30 s
  QueueId q = r.add_queue(queue({1}));
  AgentId junior = r.add_agent(agent(1, {1}));
  ready(r, junior, 0);
  out.clear();
  EXPECT_EQ(r.enqueue(1, q, 4, 1000, out), EnqueueResult::queued);
  r.tick(30'999, out);
  EXPECT_TRUE(out.empty());
  r.tick(31'000, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].agent, junior);
}

TEST(AcdRouter, VipGoesFirstButNobodyStarves) {
  Router r;  // tier 3: 60 s head start
  QueueId q = r.add_queue(queue({1}));
  AgentId a = r.add_agent(agent(5, {1}));
  r.sign_in(a, true, 0, out);
  out.clear();
  r.enqueue(1, q, 0, 0, out);       // ordinary, waiting since 0
  r.enqueue(2, q, 3, 30'000, out);  // VIP arriving 30 s later: virtual time -30 s
  r.enqueue(3, q, 3, 70'000, out);  // VIP arriving 70 s later: virtual time 10 s
  r.set_ready(a, true, 80'000, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].task, 2);
  r.finish(2, 81'000, 1000, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].task, 1);  // the ordinary caller before the VIP who came 70 s after him
}

TEST(AcdRouter, UnansweredOfferGoesBackToTheHeadAndTheAgentIsNotReady) {
  Router r;
  QueueId q = r.add_queue(queue({1}));
  AgentId a = r.add_agent(agent(1, {1})), b = r.add_agent(agent(1, {1}));
  r.sign_in(b, true, 0, out);
  ready(r, a, 0);
  out.clear();
  r.enqueue(1, q, 0, 10, out);
  r.enqueue(2, q, 0, 20, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].agent, a);
  EXPECT_TRUE(r.reject(1, 30, out));
  EXPECT_FALSE(r.ready(a));
  EXPECT_EQ(r.waiting(q), 2u);
  r.set_ready(b, true, 40, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].task, 1);           // still first in line
  EXPECT_FALSE(r.reject(2, 50, out));  // still waiting: there is no offer to refuse
  EXPECT_EQ(r.waiting(q), 1u);
}

TEST(AcdRouter, HangUpWhileRingingFreesTheAgentForTheNext) {
  Router r;
  QueueId q = r.add_queue(queue({1}));
  AgentId a = r.add_agent(agent(1, {1}));
  ready(r, a, 0);
  out.clear();
  r.enqueue(1, q, 0, 10, out);
  r.enqueue(2, q, 0, 20, out);
  EXPECT_TRUE(r.abandon(1, 30, out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].task, 2);
  EXPECT_EQ(r.load(a, Channel::voice), 1);
  EXPECT_TRUE(r.abandon(2, 40, out));
  EXPECT_EQ(r.load(a, Channel::voice), 0);
  EXPECT_FALSE(r.abandon(2, 40, out));
}

TEST(AcdRouter, MaximumWaitSendsTheCallerToTheFallback) {
  Router r;
  QueueSpec spec = queue({1});
  spec.max_wait_ms = 60'000;
  QueueId q = r.add_queue(spec);
  AgentId a = r.add_agent(agent(1, {1}));
  r.sign_in(a, true, 0, out);
  out.clear();
  r.enqueue(1, q, 0, 0, out);
  r.enqueue(2, q, 0, 10'000, out);
  r.tick(59'999, out);
  EXPECT_TRUE(r.take_expired().empty());
  r.tick(65'000, out);
  EXPECT_EQ(r.take_expired(), std::vector<TaskId>{1});
  EXPECT_EQ(r.waiting(q), 1u);
  r.set_ready(a, true, 66'000, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].task, 2);
  EXPECT_FALSE(r.abandon(1, 67'000, out));  // already gone
}

TEST(AcdRouter, ChatAgentsTakeUpToTheirCapacity) {
  Router r;
  QueueId q = r.add_queue(queue({1}, Strategy::longest_idle, Channel::chat));
  AgentId a = r.add_agent(agent(1, {1}, 1, 3));
  for (TaskId t = 1; t <= 5; ++t) r.sign_in(a, true, 0, out), r.enqueue(t, q, 0, t, out);
  out.clear();
  r.set_ready(a, true, 10, out);
  EXPECT_EQ(out.size(), 3u);
  EXPECT_EQ(r.waiting(q), 2u);
  r.finish(out[0].task, 20, 5, out);
  EXPECT_EQ(out.size(), 4u);
}

// ---- randomized: the fast router must decide exactly as the full scan, at every step ----

struct World {
  RouterConfig cfg;
  std::vector<QueueSpec> queues;
  std::vector<AgentSpec> agents;
};

World random_world(std::mt19937_64& rng) {
  World w;
  w.cfg.seed = rng();
  std::uniform_int_distribution<int> skill(0, 5), level(1, 5), strategy(0, 6), coin(0, 3);
  for (int i = 0; i < 8; ++i) {
    QueueSpec q;
    q.skills = {skill(rng)};
    if (coin(rng) == 0) q.skills.push_back(skill(rng));
    q.strategy = Strategy(strategy(rng));
    q.channel = coin(rng) == 0 ? Channel::chat : coin(rng) == 0 ? Channel::email : Channel::voice;
    q.weight_ms = coin(rng) * 5'000;
    q.widen_after_ms = 10'000 + coin(rng) * 10'000;
    q.max_wait_ms = coin(rng) == 0 ? 40'000 + coin(rng) * 20'000 : 0;
    w.queues.push_back(q);
  }
  for (int i = 0; i < 30; ++i) {
    AgentSpec a;
    a.level = level(rng);
    for (int k = 0; k < 3; ++k) a.skills.push_back(skill(rng));
    a.capacity = {1, 0, coin(rng) == 0 ? 0 : 1 + coin(rng), coin(rng) == 0 ? 1 : 0};
    a.voice_with_media = coin(rng) == 0;
    w.agents.push_back(a);
  }
  return w;
}

// One tier, one queue without widening or maximum wait, `agents` alike.
Router plain_router(int agents) {
  RouterConfig cfg;
  cfg.min_level = {1};
  cfg.tier_bonus_ms = {0};
  Router r(cfg);
  r.add_queue(QueueSpec{Channel::voice, {1}, Strategy::longest_idle, 0, 0, 0});
  for (int i = 0; i < agents; ++i) r.add_agent(AgentSpec{1, {1}, {1, 0, 0, 0}});
  return r;
}

TEST(AcdRouter, StickyCustomerGoesToHisAgentOrWaitsForHimThenTheQueue) {
  Router r = plain_router(3);
  const QueueId q = 0;
  out.clear();
  for (AgentId a = 0; a < 3; ++a) r.sign_in(a, true, 0, out), r.set_ready(a, true, a, out);
  // Free: his agent takes him although agent 0 has been idle longer.
  ASSERT_EQ(r.enqueue(1, q, 0, 10, out, TaskOptions{2, 0, -1}), EnqueueResult::offered);
  ASSERT_EQ(out.back().agent, 2);
  // Busy, with a wait: the customer waits for agent 2 alone while 0 and 1 are free.
  out.clear();
  ASSERT_EQ(r.enqueue(2, q, 0, 20, out, TaskOptions{2, 15'000, -1}), EnqueueResult::queued);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(r.waiting(q), 1u);
  r.finish(1, 1'000, 900, out);  // agent 2 frees up: his customer first
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].task, 2);
  EXPECT_EQ(out[0].agent, 2);
  // Busy again: after the wait the customer joins the queue and a free agent takes him.
  out.clear();
  ASSERT_EQ(r.enqueue(3, q, 0, 2'000, out, TaskOptions{2, 15'000, -1}), EnqueueResult::queued);
  r.tick(16'999, out);
  EXPECT_TRUE(out.empty());
  r.tick(17'000, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].task, 3);
  EXPECT_EQ(out[0].agent, 0);
  EXPECT_EQ(r.waiting(q), 0u);
}

TEST(AcdRouter, RingAllOffersEveryAvailableAgentTheFirstToAnswerTakesIt) {
  Router r;
  QueueId q = r.add_queue(queue({1}, Strategy::ring_all));
  for (int i = 0; i < 3; ++i) r.add_agent(agent(1, {1}));
  out.clear();
  for (AgentId a = 0; a < 3; ++a) ready(r, a, a);
  out.clear();
  ASSERT_EQ(r.enqueue(1, q, 0, 10, out), EnqueueResult::offered);
  ASSERT_EQ(out.size(), 3u);
  r.enqueue(2, q, 0, 20, out);  // nobody is free: it waits
  EXPECT_EQ(r.waiting(q), 1u);
  EXPECT_FALSE(r.finish(1, 30, 0, out));  // nobody took it yet
  // Agent 0 rejects; agent 2 answers: agent 1 is released and task 2 rings him alone.
  ASSERT_TRUE(r.reject(1, 30, out, 0));
  out.clear();
  ASSERT_TRUE(r.take(1, 2, 40, out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].task, 2);
  EXPECT_EQ(out[0].agent, 1);
  EXPECT_FALSE(r.take(1, 1, 40, out));  // no longer ringing him
  EXPECT_TRUE(r.finish(1, 50, 10, out));
  EXPECT_EQ(r.load(2, Channel::voice), 0);
  EXPECT_EQ(r.load(0, Channel::voice), 0);
}

TEST(AcdRouter, AnEarlierArrivalKeepsTheCallersPlace) {
  Router r = plain_router(1);
  const QueueId q = 0;
  out.clear();
  r.sign_in(0, true, 0, out);
  r.enqueue(1, q, 0, 100, out);
  r.enqueue(2, q, 0, 200, out);
  // Moved here from another queue where he had waited since 50: ahead of both.
  r.enqueue(3, q, 0, 300, out, TaskOptions{-1, 0, 50});
  r.set_ready(0, true, 400, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].task, 3);
}

TEST(AcdRouterRandomized, AgreesWithTheFullScanOnEveryStep) {
  const uint64_t seeds =
      getenv("KEFU_ROUTER_SEEDS") ? std::stoull(getenv("KEFU_ROUTER_SEEDS")) : 40;
  for (uint64_t seed = 1; seed <= seeds; ++seed) {
    std::mt19937_64 rng(seed);
    World w = random_world(rng);
    Router fast(w.cfg);
    NaiveRouter slow(w.cfg);
    for (auto& q : w.queues) fast.add_queue(q, 25), slow.add_queue(q, 25);
    for (auto& a : w.agents) fast.add_agent(a), slow.add_agent(a);

    std::vector<TaskId> live;                     // tasks not yet finished or abandoned
    std::map<TaskId, std::set<AgentId>> ringing;  // agents each task was offered to
    TaskId next = 1;
    Millis now = 0;
    std::uniform_int_distribution<int> event(0, 99), pick_agent(0, int(w.agents.size()) - 1),
        pick_queue(0, int(w.queues.size()) - 1), tier(0, 4);
    for (int step = 0; step < 3000; ++step) {
      now += std::uniform_int_distribution<int>(0, 2000)(rng);
      std::vector<Offer> a, b;
      int e = event(rng);
      if (e < 35) {
        TaskId t = next++;
        QueueId q = pick_queue(rng);
        int tr = tier(rng);
        TaskOptions opt;  // sometimes sticky, sometimes keeping an earlier place
        if (event(rng) < 30) {
          opt.preferred = pick_agent(rng);
          opt.preferred_wait_ms = std::uniform_int_distribution<int>(0, 3)(rng) * 10'000;
        }
        if (event(rng) < 15)
          opt.arrived_at = now - std::uniform_int_distribution<int>(0, 60'000)(rng);
        auto ra = fast.enqueue(t, q, tr, now, a, opt);
        auto rb = slow.enqueue(t, q, tr, now, b, opt);
        ASSERT_EQ(ra, rb) << "seed " << seed << " step " << step;
        if (ra == EnqueueResult::queued || ra == EnqueueResult::offered) live.push_back(t);
      } else if (e < 50) {
        AgentId ag = pick_agent(rng);
        bool on = event(rng) < 80;
        fast.sign_in(ag, on, now, a);
        slow.sign_in(ag, on, now, b);
      } else if (e < 65) {
        AgentId ag = pick_agent(rng);
        bool on = event(rng) < 70;
        fast.set_ready(ag, on, now, a);
        slow.set_ready(ag, on, now, b);
      } else if (e < 90 && !live.empty()) {
        size_t i = std::uniform_int_distribution<size_t>(0, live.size() - 1)(rng);
        TaskId t = live[i];
        int kind = event(rng);
        bool done;
        if (kind < 50) {
          done = fast.finish(t, now, 1000 + kind, a);
          ASSERT_EQ(done, slow.finish(t, now, 1000 + kind, b));
        } else if (kind < 75) {
          done = fast.abandon(t, now, a);
          ASSERT_EQ(done, slow.abandon(t, now, b));
        } else {
          // An agent the task rings (ring-all: any of them) rejects or answers it.
          auto& who = ringing[t];
          AgentId ag =
              who.empty() ? -1 : *std::next(who.begin(), long(pick_agent(rng)) % long(who.size()));
          if (kind < 88) {
            ASSERT_EQ(fast.reject(t, now, a, ag), slow.reject(t, now, b, ag));
            who.erase(ag);
          } else {
            bool took = fast.take(t, ag, now, a);
            ASSERT_EQ(took, slow.take(t, ag, now, b));
            if (took) who = {ag};
          }
          done = false;
        }
        if (done) live.erase(live.begin() + long(i));
      } else {
        fast.tick(now, a);
        slow.tick(now, b);
        auto gone = fast.take_expired();
        ASSERT_EQ(gone, slow.take_expired()) << "seed " << seed << " step " << step;
        for (TaskId t : gone) live.erase(std::find(live.begin(), live.end(), t));
      }
      ASSERT_EQ(a.size(), b.size()) << "seed " << seed << " step " << step;
      for (auto& o : a) ringing[o.task].insert(o.agent);
      for (size_t k = 0; k < a.size(); ++k) {
        ASSERT_EQ(a[k].task, b[k].task) << "seed " << seed << " step " << step;
        ASSERT_EQ(a[k].agent, b[k].agent) << "seed " << seed << " step " << step;
      }
      ASSERT_EQ(fast.waiting(), slow.waiting());
      // Invariants: nobody above capacity, nobody offered work while not ready.
      for (auto& o : a) {
        EXPECT_TRUE(fast.ready(o.agent));
        for (int c = 0; c < kChannels; ++c)
          EXPECT_LE(fast.load(o.agent, Channel(c)), w.agents[size_t(o.agent)].capacity[size_t(c)]);
        // Without blending an agent holds phone calls or media tasks, never both.
        if (!w.agents[size_t(o.agent)].voice_with_media) {
          EXPECT_FALSE(fast.load(o.agent, Channel::voice) > 0 &&
                       fast.load(o.agent, Channel::chat) + fast.load(o.agent, Channel::email) > 0)
              << "seed " << seed << " step " << step;
        }
      }
    }
    // Draining: every live task ends and no agent is left holding capacity.
    std::vector<Offer> a, b;
    for (TaskId t : live) fast.abandon(t, now, a), slow.abandon(t, now, b);
    for (size_t ag = 0; ag < w.agents.size(); ++ag) fast.sign_in(AgentId(ag), false, now, a);
    EXPECT_EQ(fast.waiting(), 0u);
    for (size_t ag = 0; ag < w.agents.size(); ++ag)
      for (int c = 0; c < kChannels; ++c)
        EXPECT_EQ(fast.load(AgentId(ag), Channel(c)), 0) << "seed " << seed;
  }
}

}  // namespace
}  // namespace kefu::acd
