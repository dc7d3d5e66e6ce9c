// Live KPIs from facts: the definitions of docs/ARCHITECTURE.md, checked by hand-counted cases.
#include "cti/kpi.hpp"

#include <gtest/gtest.h>

namespace kefu::cti {
namespace {

constexpr Millis kMin = 60'000;

TEST(KpiBoard, ServiceLevelAbandonRateAsaAndAhtOverSlidingWindows) {
  KpiBoard k({20'000}, {7, 7});  // one queue (T = 20 s); two agents in team 7
  Millis t0 = 100 * kMin;
  // Answered after 5 s and after 30 s; abandoned after 2 s (short), 10 s (within T) and 40 s.
  k.add(QueueLog{1, 0, "connect", 0, 5'000, t0});
  k.add(QueueLog{2, 0, "connect", 1, 30'000, t0});
  k.add(QueueLog{3, 0, "abandon", -1, 2'000, t0});
  k.add(QueueLog{4, 0, "abandon", -1, 10'000, t0});
  k.add(QueueLog{5, 0, "timeout", -1, 40'000, t0});
  // Agent 0 talks 100 s on call 1 and wraps up 20 s.
  Segment talk{3, "talk", 0, 0, 0, "", t0, t0 + 100'000, "completed"};
  k.add(SegmentClosed{1, talk});
  k.add(AgentChange{0, "busy", "wrap_up", "", 1, t0 + 100'000});
  k.add(AgentChange{0, "wrap_up", "ready", "", 0, t0 + 120'000});
  auto w = k.queue(0, t0 + 2 * kMin);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].minutes, 15);
  EXPECT_EQ(w[0].answered, 2);
  EXPECT_EQ(w[0].answered_in_sl, 1);
  EXPECT_EQ(w[0].short_abandoned, 1);
  EXPECT_EQ(w[0].abandoned, 2);
  EXPECT_EQ(w[0].offered, 5);
  // SL = 1 answered within T / (2 answered + 1 abandoned after T); the 10 s abandon is neither.
  EXPECT_DOUBLE_EQ(w[0].service_level, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(w[0].abandon_rate, 2.0 / 4.0);
  EXPECT_EQ(w[0].asa_ms, 17'500);
  EXPECT_EQ(w[0].handled, 1);
  EXPECT_EQ(w[0].aht_ms, 120'000);
  EXPECT_EQ(k.team(7, t0 + 2 * kMin)[0].aht_ms, 120'000);
  // Twenty minutes later the 15-minute window is empty, the 30-minute one is not.
  auto later = k.queue(0, t0 + 20 * kMin);
  EXPECT_EQ(later[0].answered, 0);
  EXPECT_DOUBLE_EQ(later[0].service_level, 1.0);
  EXPECT_EQ(later[1].answered, 2);
  // After an hour everything has left the windows.
  EXPECT_EQ(k.queue(0, t0 + 61 * kMin)[2].offered, 0);
}

}  // namespace
}  // namespace kefu::cti
