// The outbox's pure parts: SMS segmenting and encoding, templates, caps, windows, rates, retries.
#include <gtest/gtest.h>

#include "base/error.hpp"
#include "notify/policy.hpp"
#include "notify/sms_text.hpp"
#include "notify/smtp.hpp"
#include "notify/templates.hpp"

using namespace kefu;
using namespace kefu::notify;

namespace {
std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}
}  // namespace

TEST(SmsText, LatinTextFitsOneGsmSegmentUpTo160) {
  auto p = plan_sms(repeat("a", 160));
  EXPECT_EQ(p.encoding, SmsEncoding::gsm7);
  EXPECT_EQ(p.segments(), 1);
  EXPECT_EQ(p.data_coding(), 0);
  auto q = plan_sms(repeat("a", 161));
  EXPECT_EQ(q.segments(), 2);
  EXPECT_EQ(q.parts[0].size(), 153u);
  EXPECT_EQ(q.parts[1].size(), 8u);
}

TEST(SmsText, ChineseIsUcs2With70AndThen67PerPart) {
  EXPECT_EQ(plan_sms(repeat("中", 70)).segments(), 1);
  auto p = plan_sms(repeat("中", 71));
  EXPECT_EQ(p.encoding, SmsEncoding::ucs2);
  EXPECT_EQ(p.data_coding(), 8);
  ASSERT_EQ(p.segments(), 2);
  EXPECT_EQ(p.parts[0].size(), 134u);  // 67 UTF-16 units
  EXPECT_EQ(std::string(p.parts[0].substr(0, 2)), std::string("\x4E\x2D", 2));
  EXPECT_EQ(plan_sms(repeat("中", 134)).segments(), 2);
  EXPECT_EQ(plan_sms(repeat("中", 135)).segments(), 3);
}

TEST(SmsText, OneChineseCharacterMakesTheWholeMessageUcs2) {
  auto p = plan_sms(repeat("a", 100) + "您");
  EXPECT_EQ(p.encoding, SmsEncoding::ucs2);
  EXPECT_EQ(p.units, 101);
  EXPECT_EQ(p.segments(), 2);
}

TEST(SmsText, ASurrogatePairIsNeverSplitBetweenParts) {
  // 66 characters, then an emoji (two UTF-16 units) that would straddle the 67-unit boundary.
  auto p = plan_sms(repeat("中", 66) + "😀" + repeat("中", 10));
  ASSERT_EQ(p.segments(), 2);
  EXPECT_EQ(p.parts[0].size(), 132u);
  EXPECT_EQ(decode_sms(p.parts[1], 8), "😀" + repeat("中", 10));
}

TEST(SmsText, AGsmEscapeStaysWithItsCharacter) {
  auto p = plan_sms(repeat("a", 152) + "{" + repeat("b", 20));
  EXPECT_EQ(p.units, 152 + 2 + 20);
  ASSERT_EQ(p.segments(), 2);
  EXPECT_EQ(p.parts[0].size(), 152u);  // the escape and its '{' moved to the next part
  EXPECT_EQ(decode_sms(p.parts[1], 0), "{" + repeat("b", 20));
}

TEST(SmsText, RoundTripsAndRefusesBadText) {
  std::string text = "【客服中心】尊敬的客户，您的受理单TS20261205000001已办结。€{}";
  std::string joined;
  for (auto& part : plan_sms(text).parts) joined += part;
  EXPECT_EQ(decode_sms(joined, 8), text);
  EXPECT_EQ(decode_sms(plan_sms("Price: 5€ [ok]").parts[0], 0), "Price: 5€ [ok]");
  EXPECT_THROW(plan_sms(""), Error);
  EXPECT_THROW(plan_sms("\xff\xfe"), Error);
  EXPECT_EQ(concat_udh(7, 3, 2), std::string("\x05\x00\x03\x07\x03\x02", 6));
}

TEST(Templates, NamesEveryVariableIncludingInsideSections) {
  auto v = template_variables(
      "尊敬的{{name}}{{#vip}}（{{tier}}客户）{{/vip}}{{^vip}}客户{{/vip}}，{{! note }}", "body");
  EXPECT_EQ(v, (std::set<std::string>{"name", "vip", "tier"}));
}

TEST(Templates, ChecksEveryTextAgainstTheSendersVariablesAtOnce) {
  auto errors = check_template({{"subject", "受理单{{ticket_no}}"},
                                {"body", "尊敬的{{nmae}}，{{ticket_no}}{{#x}}"},
                                {"html", "<p>{{amount}}</p>"}},
                               {"name", "ticket_no"});
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].field, "body");
  EXPECT_EQ(errors[0].code, "invalid_template");  // the unclosed section
  EXPECT_EQ(errors[1].field, "html");
  EXPECT_EQ(errors[1].code, "unknown_variable");
  EXPECT_TRUE(check_template({{"body", "{{name}} {{ticket_no}}"}}, {"name", "ticket_no"}).empty());
  EXPECT_THROW(template_variables("{{> header}}", "body"), Error);
}

TEST(Templates, RendersTextUnescapedAndHtmlEscapedAndRefusesAHole) {
  json::object vars{{"name", "张<三>"}, {"vip", true}, {"amount", 1200}};
  EXPECT_EQ(render_template("尊敬的{{name}}{{#vip}}(VIP){{/vip}} {{amount}}", vars, Escape::none),
            "尊敬的张<三>(VIP) 1200");
  EXPECT_EQ(render_template("<b>{{name}}</b>", vars, Escape::html), "<b>张&lt;三&gt;</b>");
  try {
    render_template("{{name}}{{ticket_no}}", vars, Escape::none);
    FAIL() << "a missing variable must be refused";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "missing_variable");
    EXPECT_EQ(e.field(), "variables.ticket_no");
  }
}

TEST(Policy, FrequencyCapsHoldTheNextMessageUntilTheOldestCountedLeavesTheWindow) {
  std::vector<Cap> caps{{60'000, 1}, {3'600'000, 5}, {86'400'000, 10}};
  int64_t now = 10'000'000;
  EXPECT_EQ(next_allowed_by_caps({}, caps, now), now);
  EXPECT_EQ(next_allowed_by_caps({now - 30'000}, caps, now), now + 30'000);  // 1 a minute
  std::vector<int64_t> five;
  for (int i = 0; i < 5; ++i) five.push_back(now - 600'000 * (i + 1));
  EXPECT_EQ(next_allowed_by_caps(five, caps, now), now - 3'000'000 + 3'600'000);  // 5 an hour
  EXPECT_EQ(next_allowed_by_caps({now - 61'000}, caps, now), now);
}

TEST(Policy, TheSendingWindowOpensAtItsLocalStart) {
  SendingWindow day{8 * 60, 21 * 60};
  // 2026-12-05 14:00 UTC = 22:00 in Beijing: closed until 08:00 the next morning (00:00 UTC).
  int64_t t = 1'764'943'200'000LL;  // 2025-12-05T14:00:00Z; the day does not matter
  int64_t open = next_in_window(t, day);
  EXPECT_EQ(open, t + 10 * 3'600'000);
  EXPECT_EQ(next_in_window(open, day), open);
  EXPECT_EQ(next_in_window(open + 12 * 3'600'000 + 59 * 60'000, day),
            open + 12 * 3'600'000 + 59 * 60'000);
  EXPECT_EQ(next_in_window(t, {}), t);
  SendingWindow night{22 * 60, 6 * 60};  // spans midnight
  EXPECT_EQ(next_in_window(t, night), t);
}

TEST(Policy, TokenBucketPacesAnAccount) {
  TokenBucket b(10, 10);
  int taken = 0;
  for (int i = 0; i < 20; ++i) taken += b.take(0);
  EXPECT_EQ(taken, 10);
  EXPECT_GT(b.wait_ms(0), 0);
  EXPECT_TRUE(b.take(100));
  EXPECT_FALSE(b.take(100));
  EXPECT_TRUE(b.take(1000, 3));  // an SMS of three segments
}

TEST(Policy, TemporaryFailuresBackOffAndPermanentOnesStop) {
  EXPECT_EQ(next_attempt_at(Outcome::temporary, 1, 8, 0), 2'000);
  EXPECT_EQ(next_attempt_at(Outcome::temporary, 2, 8, 0), 4'000);
  EXPECT_EQ(next_attempt_at(Outcome::temporary, 3, 8, 0, 30'000), 30'000);  // the provider's floor
  EXPECT_EQ(next_attempt_at(Outcome::temporary, 20, 30, 0), 600'000);
  EXPECT_EQ(next_attempt_at(Outcome::temporary, 8, 8, 0), -1);
  EXPECT_EQ(next_attempt_at(Outcome::permanent, 1, 8, 0), -1);
}

TEST(Smtp, HeadersInChineseAreEncodedWordsCutBetweenCharacters) {
  EXPECT_EQ(encode_header_words("Ticket TS1"), "Ticket TS1");
  auto h = encode_header_words("您的受理单已办结");
  EXPECT_EQ(h, "=?UTF-8?B?5oKo55qE5Y+X55CG5Y2V5bey5Yqe57uT?=");
  auto long_one = encode_header_words(repeat("办", 40));  // 120 octets: three words
  EXPECT_EQ(std::count(long_one.begin(), long_one.end(), ' '), 2);
  EXPECT_TRUE(valid_email("li.na+cs@example.com.cn"));
  EXPECT_FALSE(valid_email("li.na@"));
  EXPECT_FALSE(valid_email("a b@example.com"));
  EXPECT_EQ(mailbox_address("客服中心 <cs@example.com>"), "cs@example.com");
}
