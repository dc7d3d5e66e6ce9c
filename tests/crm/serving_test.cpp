// The enumeration guard alone: misses per session in a sliding window, the alert once when the
// threshold is crossed, the throttle for its time, sessions apart.
#include "crm/serving.hpp"

#include <gtest/gtest.h>

using kefu::crm::EnumerationGuard;
using kefu::crm::ServingOptions;

namespace {

ServingOptions options() {
  ServingOptions o;
  o.misses_to_alert = 3;
  o.miss_window_ms = 1000;
  o.throttle_ms = 5000;
  return o;
}

}  // namespace

TEST(EnumerationGuard, AlertsOnceWhenASessionMissesTooOftenWithinTheWindow) {
  EnumerationGuard g(options());
  EXPECT_FALSE(g.miss("a", 0));
  EXPECT_FALSE(g.miss("a", 100));
  EXPECT_FALSE(g.throttled("a", 150));
  EXPECT_TRUE(g.miss("a", 200));  // the third within a second: alert, throttle
  EXPECT_TRUE(g.throttled("a", 201));
  EXPECT_FALSE(g.miss("a", 300));  // already throttled: no second alert
  EXPECT_TRUE(g.throttled("a", 5199));
  EXPECT_FALSE(g.throttled("a", 5200));  // the throttle ends by itself
  EXPECT_FALSE(g.throttled("b", 201));   // another session is another count
}

TEST(EnumerationGuard, MissesSpreadOverTimeNeverTrip) {
  EnumerationGuard g(options());
  for (int64_t t = 0; t < 100'000; t += 600) EXPECT_FALSE(g.miss("slow", t));
  EXPECT_FALSE(g.throttled("slow", 100'000));
}

TEST(EnumerationGuard, ForgetsIdleSessionsWithoutForgettingThrottledOnes) {
  EnumerationGuard g(options());
  for (int i = 0; i < 3; ++i) g.miss("prober", 10 + i);
  for (int i = 0; i < 10'050; ++i) g.miss("s" + std::to_string(i), 20 + i / 10);
  EXPECT_TRUE(g.throttled("prober", 2000));
}
