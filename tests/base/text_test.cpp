#include "base/text.hpp"

#include <gtest/gtest.h>

using namespace kefu;

TEST(Utf8, AcceptsChineseAndEmojiRejectsBrokenSequences) {
  EXPECT_TRUE(valid_utf8("客服中心😀"));
  EXPECT_FALSE(valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(valid_utf8("\xE5\xAE"));          // truncated
  EXPECT_EQ(utf8_length("客服ab😀"), 5u);
}

TEST(IsoTime, RoundTripsAndRejectsImpossibleDates) {
  int64_t ms = 0;
  ASSERT_TRUE(parse_iso("2026-11-22T08:30:00.250Z", ms));
  EXPECT_EQ(iso_utc(ms), "2026-11-22T08:30:00.250Z");
  EXPECT_FALSE(parse_iso("2026-02-30", ms));
  EXPECT_FALSE(parse_iso("2026-13-01", ms));
  EXPECT_TRUE(parse_iso("2024-02-29", ms));
}
