// The IVR engine alone: flow parsing with its error codes, conditions, and callers walking a
// flow — menus with hidden items, retries and timeouts, identity verification through an
// adapter, self-service, branches, the survey — with the path every caller leaves.
#include "ivr/session.hpp"

#include <gtest/gtest.h>

#include <random>

#include "base/error.hpp"

namespace kefu::ivr {
namespace {

const char* kFlow = R"({
  "start": "welcome",
  "survey": "rate",
  "nodes": {
    "welcome": {"type": "branch", "cases": [{"if": "list black", "next": "blocked"},
                                            {"if": "tier >= 3", "next": "vipq"}], "else": "menu"},
    "menu": {"type": "menu", "prompt": "欢迎致电", "timeout_s": 5, "retries": 1, "invalid_prompt": "输入有误",
             "options": [{"digit": "1", "prompt": "账户查询请按1", "next": "verify"},
                         {"digit": "2", "prompt": "基金业务请按2", "next": "fund", "show_if": "hours 09:00-17:00 and weekday 1-5"},
                         {"digit": "9", "prompt": "留言请按9", "next": "vm", "show_if": "not holiday"},
                         {"digit": "0", "prompt": "人工服务请按0", "next": "agent"}],
             "on_fail": "agent"},
    "verify": {"type": "verify", "prompt": "请输入资金账号", "pin_prompt": "请输入密码", "retries": 1,
               "next": "balance", "on_fail": "agent"},
    "balance": {"type": "service", "adapter": "balance", "prompt": "您的可用资金为{available}元",
                "next": "menu", "on_fail": "agent"},
    "fund": {"type": "queue", "queue": "fund"},
    "vipq": {"type": "queue", "queue": "vip"},
    "agent": {"type": "queue", "queue": "general"},
    "vm": {"type": "voicemail", "prompt": "请在提示音后留言"},
    "blocked": {"type": "hangup", "prompt": "暂停服务"},
    "rate": {"type": "survey", "prompt": "满意请按1，不满意请按5", "next": "bye"},
    "bye": {"type": "hangup", "prompt": "再见"},
    "back": {"type": "return"}
  }})";

std::shared_ptr<const Flow> flow() {
  static auto f = std::make_shared<const Flow>(parse_flow(kFlow));
  return f;
}

Facts weekday_morning() {
  Facts f;
  f.minute_of_day = 10 * 60;
  f.weekday = 2;
  return f;
}

std::string kinds(const std::vector<Action>& as) {
  std::string s;
  for (auto& a : as) {
    static const char* names[] = {"play",      "collect",  "adapter", "queue",
                                  "voicemail", "transfer", "hangup",  "back"};
    s += std::string(s.empty() ? "" : " ") + names[int(a.kind)];
    if (!a.target.empty()) s += ":" + a.target;
  }
  return s;
}

TEST(IvrFlow, BadFlowsAreRefusedWithTheFieldAndAStableCode) {
  auto code_of = [](const char* json) -> std::pair<std::string, std::string> {
    try {
      parse_flow(json);
    } catch (const Error& e) {
      return {e.code(), e.field()};
    }
    return {"", ""};
  };
  EXPECT_EQ(code_of("{"), std::make_pair(std::string("malformed_json"), std::string("definition")));
  EXPECT_EQ(code_of(R"({"start":"a","nodes":{}})").first, "missing");
  EXPECT_EQ(code_of(R"({"start":"a","nodes":{"a":{"type":"dance"}}})").second, "nodes.a.type");
  EXPECT_EQ(code_of(R"({"start":"b","nodes":{"a":{"type":"hangup"}}})"),
            std::make_pair(std::string("unknown_node"), std::string("start")));
  EXPECT_EQ(
      code_of(
          R"({"start":"a","nodes":{"a":{"type":"menu","options":[{"digit":"x","next":"a"}]}}})"),
      std::make_pair(std::string("bad_digit"), std::string("nodes.a.options[0].digit")));
  EXPECT_EQ(
      code_of(
          R"({"start":"a","nodes":{"a":{"type":"menu","options":[{"digit":"1","next":"a"},{"digit":"1","next":"a"}]}}})")
          .first,
      "duplicate_digit");
  EXPECT_EQ(
      code_of(
          R"({"start":"a","nodes":{"a":{"type":"menu","options":[{"digit":"1","next":"a","show_if":"moon full"}]}}})"),
      std::make_pair(std::string("bad_condition"), std::string("nodes.a.options[0].show_if")));
  EXPECT_EQ(
      code_of(R"({"start":"a","nodes":{"a":{"type":"play","next":"a","timeout_s":99}}})").first,
      "out_of_range");
  EXPECT_EQ(code_of(R"({"start":"a","nodes":{"a":{"type":"collect","next":"a"}}})").second,
            "nodes.a.var");
  // An empty target is no target (the fuzzer's find: a branch with "else": "" loaded, then
  // stopped the walk at run time).
  EXPECT_EQ(code_of(R"({"start":"a","nodes":{"a":{"type":"branch","cases":[],"else":""}}})"),
            std::make_pair(std::string("missing"), std::string("nodes.a.else")));
}

TEST(IvrFlow, ConditionsOnTierTimeCalendarListsAndVariables) {
  Facts f = weekday_morning();
  auto c = [](const char* src) {
    auto fl =
        parse_flow(std::string(R"({"start":"a","nodes":{"a":{"type":"branch","cases":[{"if":")") +
                   src + R"(","next":"a"}],"else":"a"}}})");
    return fl.node("a").cases[0].when;
  };
  EXPECT_TRUE(holds(c("hours 09:00-17:00"), f));
  EXPECT_FALSE(holds(c("hours 17:00-09:00"), f));  // overnight range
  f.minute_of_day = 23 * 60;
  EXPECT_TRUE(holds(c("hours 17:00-09:00"), f));
  EXPECT_TRUE(holds(c("weekday 1-5"), f));
  EXPECT_FALSE(holds(c("tier >= 3"), f));
  f.tier = 4;
  EXPECT_TRUE(holds(c("tier >= 3 and not holiday"), f));
  f.vars["lang"] = "en";
  EXPECT_TRUE(holds(c("var lang == en"), f));
  EXPECT_FALSE(holds(c("verified"), f));
}

TEST(IvrSession, MenuHidesItemsOutsideBusinessHoursAndRetriesThenGivesUp) {
  Facts night = weekday_morning();
  night.minute_of_day = 20 * 60;
  Session s(flow(), night);
  auto a = s.start();
  ASSERT_EQ(kinds(a), "play collect");
  EXPECT_EQ(a[0].prompt,
            "欢迎致电，账户查询请按1，留言请按9，人工服务请按0");  // no fund item at night
  EXPECT_EQ(kinds(s.digits("2")), "play play collect");  // hidden: not accepted; one retry
  EXPECT_EQ(kinds(s.timeout()), "queue:general");        // retries used up: on_fail
  ASSERT_EQ(s.path().size(), 5u);
  EXPECT_EQ(s.path()[0].result, "menu");  // the branch
  EXPECT_EQ(s.path()[1].input, "2");
  EXPECT_EQ(s.path()[1].result, "invalid");
  EXPECT_EQ(s.path()[2].result, "timeout");
  EXPECT_EQ(s.path()[4].result, "queue:general");
  EXPECT_TRUE(s.over());
}

TEST(IvrSession, VerificationThenSelfServiceThroughAdapters) {
  Session s(flow(), weekday_morning());
  s.start();
  auto a = s.digits("1");
  EXPECT_EQ(kinds(a), "play collect");
  EXPECT_EQ(a[0].prompt, "请输入资金账号");
  EXPECT_EQ(kinds(s.digits("880012345#")), "play collect");
  a = s.digits("123456");
  ASSERT_EQ(kinds(a), "adapter:verify");
  EXPECT_EQ(a[0].args.at("account"), "880012345");
  EXPECT_EQ(a[0].args.at("pin"), "123456");
  EXPECT_TRUE(s.waiting_for_adapter());
  EXPECT_EQ(kinds(s.digits("9")), "");  // keys while the adapter works are ignored
  a = s.adapter_result(true, {{"name", "张三"}});
  ASSERT_EQ(kinds(a), "adapter:balance");
  EXPECT_TRUE(s.facts().verified);
  a = s.adapter_result(true, {{"available", "12,345.67"}});
  ASSERT_EQ(kinds(a), "play play collect");  // the balance, then the menu again
  EXPECT_EQ(a[0].prompt, "您的可用资金为12,345.67元");
  for (auto& st : s.path()) EXPECT_EQ(st.input.find("123456"), std::string::npos);  // no pin kept
}

TEST(IvrSession, FailedVerificationRetriesThenGoesToAnAgent) {
  Session s(flow(), weekday_morning());
  s.start();
  s.digits("1");
  s.digits("1");
  s.digits("2");
  auto a = s.adapter_result(false, {});
  EXPECT_EQ(kinds(a), "play collect");  // once more from the account
  s.digits("1");
  s.digits("2");
  EXPECT_EQ(kinds(s.adapter_result(false, {})), "queue:general");
}

TEST(IvrSession, BranchesSurveyVoicemailAndReturn) {
  Facts vip = weekday_morning();
  vip.tier = 3;
  Session a(flow(), vip);
  EXPECT_EQ(kinds(a.start()), "queue:vip");
  Facts black = weekday_morning();
  black.black_list = true;
  Session b(flow(), black);
  EXPECT_EQ(kinds(b.start()), "play hangup");
  Session c(flow(), weekday_morning());
  EXPECT_EQ(kinds(c.start("rate")), "play collect");
  EXPECT_EQ(kinds(c.digits("7")), "play collect");  // 1 to 5 only
  EXPECT_EQ(kinds(c.digits("1")), "play hangup");
  EXPECT_EQ(c.facts().vars.at("survey"), "1");
  Session d(flow(), weekday_morning());
  d.start();
  EXPECT_EQ(kinds(d.digits("9")), "play voicemail");
  Session e(flow(), weekday_morning());
  EXPECT_EQ(kinds(e.start("back")), "back");
  Session f(flow(), weekday_morning());
  EXPECT_EQ(kinds(f.start("nowhere")), "hangup");
}

// Whatever a caller presses, whenever he times out and whatever adapters answer, a session ends
// in an exit or waits for exactly one thing, and never runs away.
TEST(IvrSessionRandomized, EverySequenceEndsOrWaitsForOneThing) {
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    std::mt19937_64 rng(seed);
    Facts facts = weekday_morning();
    facts.tier = int(rng() % 5);
    facts.minute_of_day = int(rng() % 1440);
    Session s(flow(), facts);
    auto acts = s.start(rng() % 4 ? "" : "rate");
    for (int step = 0; step < 60 && !s.over(); ++step) {
      ASSERT_TRUE(s.waiting_for_digits() || s.waiting_for_adapter()) << seed;
      ASSERT_LE(acts.size(), 6u);
      switch (rng() % 4) {
        case 0:
          acts = s.timeout();
          break;
        case 1:
          acts = s.adapter_result(rng() % 2, {{"available", "1"}});
          break;
        default:
          acts = s.digits(std::string(1, "0123456789*#"[rng() % 12]));
      }
    }
    if (s.over()) {
      ASSERT_FALSE(s.path().empty());
    }
  }
}

}  // namespace
}  // namespace kefu::ivr
