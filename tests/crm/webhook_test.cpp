// The change-feed webhook's pure rules: which changes may go out past gaps in the ids, the
// back-off, and the signature.
#include <gtest/gtest.h>

#include "base/crypto.hpp"
#include "crm/webhook.hpp"

using namespace kefu;
using namespace kefu::crm;

TEST(FeedWindow, WithoutGapsEverythingGoesOut) {
  auto w = settle_feed(10, {11, 12, 13}, std::nullopt, 100, 105, true);
  EXPECT_EQ(w.deliverable, 3u);
  EXPECT_EQ(w.cursor, 13);
  EXPECT_FALSE(w.gap);
}

TEST(FeedWindow, AGapHoldsBackWhatComesAfterItUntilItsTransactionsHaveEnded) {
  // 12 is missing: a transaction took it and has not committed (or rolled back).
  auto w = settle_feed(10, {11, 13, 14}, std::nullopt, 100, 105, true);
  EXPECT_EQ(w.deliverable, 1u);
  EXPECT_EQ(w.cursor, 11);
  ASSERT_TRUE(w.gap);
  EXPECT_EQ(w.gap->first_missing, 12);
  EXPECT_EQ(w.gap->xmax, 105);
  // Next poll: 12 still missing and transaction 104 still running (xmin 104 < 105): wait.
  w = settle_feed(11, {13, 14}, w.gap, 104, 107, true);
  EXPECT_EQ(w.deliverable, 0u);
  EXPECT_EQ(w.cursor, 11);
  EXPECT_EQ(w.gap->xmax, 105);  // the first sighting counts
  // It committed: 12 is there and everything goes, the gap is forgotten.
  w = settle_feed(11, {12, 13, 14}, w.gap, 106, 107, true);
  EXPECT_EQ(w.deliverable, 3u);
  EXPECT_EQ(w.cursor, 14);
  EXPECT_FALSE(w.gap);
}

TEST(FeedWindow, AGapWhoseTransactionsAllEndedWasRolledBackAndIsPassed) {
  auto w = settle_feed(10, {13}, FeedGap{11, 105}, 105, 110, true);
  EXPECT_EQ(w.deliverable, 1u);
  EXPECT_EQ(w.cursor, 13);
  EXPECT_FALSE(w.gap);
  // A second gap behind the first is waited on by itself.
  w = settle_feed(10, {13, 15}, FeedGap{11, 105}, 105, 110, true);
  EXPECT_EQ(w.deliverable, 1u);
  EXPECT_EQ(w.cursor, 13);
  ASSERT_TRUE(w.gap);
  EXPECT_EQ(w.gap->first_missing, 14);
  EXPECT_EQ(w.gap->xmax, 110);
}

TEST(FeedWindow, AnOldGapElsewhereDoesNotSettleANewOne) {
  // The cursor was rewound by an administrator: the remembered gap is not this one.
  auto w = settle_feed(0, {2}, FeedGap{11, 105}, 200, 210, true);
  EXPECT_EQ(w.deliverable, 0u);
  EXPECT_EQ(w.gap->first_missing, 1);
  EXPECT_EQ(w.gap->xmax, 210);
}

TEST(FeedWindow, SQLiteHasNoGapsToWaitOn) {
  auto w = settle_feed(10, {11, 13, 20}, std::nullopt, 0, 0, false);
  EXPECT_EQ(w.deliverable, 3u);
  EXPECT_EQ(w.cursor, 20);
}

TEST(FeedWindow, NothingNewIsNothingToDo) {
  auto w = settle_feed(10, {}, std::nullopt, 1, 2, true);
  EXPECT_EQ(w.deliverable, 0u);
  EXPECT_EQ(w.cursor, 10);
}

TEST(Webhook, BacksOffToFiveMinutes) {
  EXPECT_EQ(retry_delay_ms(1), 1000);
  EXPECT_EQ(retry_delay_ms(2), 2000);
  EXPECT_EQ(retry_delay_ms(5), 16000);
  EXPECT_EQ(retry_delay_ms(9), 256000);
  EXPECT_EQ(retry_delay_ms(10), 300000);
  EXPECT_EQ(retry_delay_ms(1000), 300000);
}

TEST(Webhook, SignsWithHmacSha256) {
  crypto::init();
  // RFC 4231, test case 2.
  EXPECT_EQ(crypto::hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}
