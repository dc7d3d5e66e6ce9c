// The whole real-time core (CallCenter on the SimSwitch) under simulated traffic against
// queueing theory: Erlang C when nobody abandons, Erlang A with exponential patience. Long runs
// keep the statistical error small; every run must end with no call open and no agent stuck.
#include "cti/simulation.hpp"

#include <gtest/gtest.h>

#include "acd/erlang.hpp"

namespace kefu::cti {
namespace {

using acd::erlang_a;
using acd::erlang_c;

TEST(Erlang, TextbookValues) {
  // 10 agents, 8 Erlangs (λ = 8/180 per s, AHT 180 s), T = 20 s.
  auto c = erlang_c(8.0 / 180.0, 180, 10, 20);
  EXPECT_NEAR(c.p_wait, 0.4092, 0.0005);
  EXPECT_NEAR(c.asa_s, 0.4092 * 180 / 2, 0.1);
  // With very patient callers Erlang A tends to Erlang C.
  auto a = erlang_a(8.0 / 180.0, 180, 10, 1e9);
  EXPECT_NEAR(a.p_wait, c.p_wait, 1e-4);
  EXPECT_NEAR(a.mean_wait_s, c.asa_s, 0.05);
  EXPECT_NEAR(a.p_abandon, 0.0, 1e-6);
}

TEST(Simulation, MatchesErlangCWithoutAbandonment) {
  SimulationParams p;
  p.agents = 20;
  p.aht_s = 180;
  p.calls_per_s = 17.0 / 180.0;  // 17 Erlangs on 20 agents: 85 % occupancy
  p.hours = 2000;                // ~680,000 calls
  p.seed = 7;
  auto s = simulate(p);
  auto c = erlang_c(p.calls_per_s, p.aht_s, p.agents, p.sl_threshold_s);
  EXPECT_EQ(s.abandoned, 0);
  EXPECT_EQ(s.answered, s.offered);
  EXPECT_NEAR(s.p_wait, c.p_wait, 0.015);
  EXPECT_NEAR(s.service_level, c.sl, 0.015);
  EXPECT_NEAR(s.asa_s, c.asa_s, 0.08 * c.asa_s);
  EXPECT_NEAR(s.occupancy, 17.0 / 20.0, 0.01);
  EXPECT_EQ(s.open_calls, 0);
  EXPECT_EQ(s.stuck_agents, 0);
}

TEST(Simulation, MatchesErlangAWithPatience) {
  SimulationParams p;
  p.agents = 20;
  p.aht_s = 180;
  p.calls_per_s = 21.0 / 180.0;  // overloaded without abandonment: 21 Erlangs on 20 agents
  p.patience_s = 120;
  p.hours = 2000;
  p.seed = 11;
  auto s = simulate(p);
  auto a = erlang_a(p.calls_per_s, p.aht_s, p.agents, p.patience_s);
  EXPECT_NEAR(s.abandon_rate, a.p_abandon, 0.01);
  EXPECT_NEAR(s.p_wait, a.p_wait, 0.015);
  EXPECT_NEAR(s.mean_wait_s, a.mean_wait_s, 0.08 * a.mean_wait_s);
  EXPECT_NEAR(s.occupancy, a.occupancy, 0.01);
  EXPECT_EQ(s.open_calls, 0);
  EXPECT_EQ(s.stuck_agents, 0);
}

// Ringing and after-call work make the service time longer than the talk time: the same traffic
// then waits longer, and callers who hang up while an agent's phone rings are counted as
// abandoned, with nothing left behind.
TEST(Simulation, RingAndWrapUpCostCapacityAndLeaveNothingStuck) {
  SimulationParams p;
  p.agents = 20;
  p.aht_s = 180;
  p.calls_per_s = 17.0 / 180.0;
  p.patience_s = 60;
  p.hours = 200;
  p.seed = 3;
  auto plain = simulate(p);
  p.ring_s = 4;
  p.wrap_up_s = 15;
  auto slow = simulate(p);
  EXPECT_EQ(slow.offered, plain.offered);  // the same callers (same seed, arrivals drawn first)
  EXPECT_GT(slow.abandon_rate, plain.abandon_rate);
  EXPECT_GT(slow.mean_wait_s, plain.mean_wait_s);
  EXPECT_EQ(slow.answered + slow.abandoned, slow.offered);
  EXPECT_EQ(slow.open_calls, 0);
  EXPECT_EQ(slow.stuck_agents, 0);
}

}  // namespace
}  // namespace kefu::cti
