#pragma once
// IVR menu flows (SPEC M4, IVR菜单管理) as data: nodes an administrator edits in the console and
// the store keeps as versioned JSON. Pure: parsing checks every reference and condition once, so
// a flow that loads cannot fail while a caller walks it.
//
//   {"start": "welcome",
//    "survey": "rate",                       // optional: 客户评价 after the agent hangs up
//    "nodes": {
//      "welcome": {"type": "menu", "prompt": "欢迎致电", "timeout_s": 5, "retries": 2,
//                  "options": [{"digit": "1", "prompt": "账户查询请按1", "next": "verify"},
//                              {"digit": "2", "prompt": "基金业务请按2", "next": "fund",
//                               "show_if": "hours 09:00-17:00"},       // 菜单自动隐藏
//                              {"digit": "0", "prompt": "人工服务请按0", "next": "agent"}],
//                  "on_fail": "agent"},
//      "verify":  {"type": "verify", "prompt": "请输入资金账号", "pin_prompt": "请输入密码",
//                  "next": "balance", "on_fail": "agent"},
//      "balance": {"type": "service", "adapter": "balance", "prompt":
//      "您的可用资金为{available}元",
//                  "next": "welcome", "on_fail": "agent"},
//      "vip":     {"type": "branch", "cases": [{"if": "tier >= 3", "next": "vipq"}], "else":
//      "welcome"}, "agent":   {"type": "queue", "queue": "general"},
//      ...}}
//
// Node types: play, menu, collect, branch, verify, service, queue, voicemail, transfer, hangup,
// survey, return (back to the agent who sent the caller here: "verify and return"), campaign
// (活动反馈码: the caller keys the code a campaign gave him and is put through to that
// campaign's reception number; an unknown or expired code is retried, then on_fail).
// Conditions: `tier >= N` (also <=, ==), `hours HH:MM-HH:MM`, `weekday 1-5`, `holiday`,
// `list red` / `list black`, `verified`, `var NAME == VALUE`; `not ` before any of them.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace kefu::ivr {

using Millis = int64_t;

struct Condition {
  enum class Kind : uint8_t { tier, hours, weekday, holiday, list, verified, var } kind;
  bool negate = false;
  std::string op;    // tier: ">=", "<=", "=="
  int a = 0, b = 0;  // tier: a; hours: minutes from midnight [a, b); weekday: a..b (1 = Monday)
  std::string name, value;  // list: red|black; var: name and value
};

struct Option {
  std::string digit, prompt, next;
  std::vector<Condition> show_if;  // all must hold, else the option is hidden and not accepted
};

struct Case {
  std::vector<Condition> when;
  std::string next;
};

struct Node {
  enum class Type : uint8_t {
    play,
    menu,
    collect,
    branch,
    verify,
    service,
    queue,
    voicemail,
    transfer,
    hangup,
    survey,
    back,  // "return"
    campaign
  } type;
  std::string id, prompt, pin_prompt, invalid_prompt, next, on_fail;
  std::vector<Option> options;  // menu
  std::vector<Case> cases;      // branch; `next` is the else
  std::string target;           // queue code, transfer number, service adapter
  std::string var;              // collect: where the digits go
  int min_digits = 1, max_digits = 1;
  int retries = 2;
  Millis timeout_ms = 5'000;
};

struct Flow {
  std::string start, survey;
  std::map<std::string, Node> nodes;
  const Node& node(const std::string& id) const { return nodes.at(id); }
};

// Parses and checks a flow. Errors are Error::validation with the field path of each problem
// (`nodes.welcome.options[1].next`) and a stable code: missing, bad_type, unknown_node,
// bad_condition, bad_digit, duplicate_digit, out_of_range, too_long.
Flow parse_flow(std::string_view json);

// What conditions are evaluated against.
struct Facts {
  int tier = 0;
  int minute_of_day = 0;  // local time
  int weekday = 1;        // 1 = Monday … 7 = Sunday
  bool holiday = false;
  bool red_list = false, black_list = false;
  bool verified = false;
  std::map<std::string, std::string> vars;
};

bool holds(const Condition& c, const Facts& f);
bool holds(const std::vector<Condition>& all, const Facts& f);

}  // namespace kefu::ivr
