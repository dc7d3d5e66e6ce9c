#include "ivr/flow.hpp"

#include <cstdio>
#include <set>

#include "base/error.hpp"
#include "base/json.hpp"

namespace kefu::ivr {
namespace {

constexpr size_t kMaxNodes = 500, kMaxText = 500, kMaxId = 64;

struct Parser {
  std::vector<FieldError> errors;

  static std::string path(const std::string& at, const char* key) {
    return at.empty() ? key : at + "." + key;
  }
  void fail(const std::string& field, const char* code, const std::string& message) {
    if (errors.size() < 50) errors.push_back({field, code, message});
  }
  std::string text(const json::object& o, const char* key, const std::string& at, bool required,
                   size_t max = kMaxText) {
    auto it = o.find(key);
    if (it == o.end() || it->value().is_null()) {
      if (required) fail(path(at, key), "missing", std::string(key) + " is required");
      return {};
    }
    if (!it->value().is_string()) {
      fail(path(at, key), "bad_type", std::string(key) + " must be a string");
      return {};
    }
    std::string s(it->value().as_string());
    // Required means something is there: an empty target would pass the reference check below
    // (which skips empty references) and stop the core at run time.
    if (required && s.empty()) fail(path(at, key), "missing", std::string(key) + " is required");
    if (s.size() > max) fail(path(at, key), "too_long", std::string(key) + " is too long");
    return s;
  }
  int number(const json::object& o, const char* key, const std::string& at, int def, int lo,
             int hi) {
    auto it = o.find(key);
    if (it == o.end()) return def;
    if (!it->value().is_int64()) {
      fail(at + "." + key, "bad_type", std::string(key) + " must be an integer");
      return def;
    }
    int64_t v = it->value().as_int64();
    if (v < lo || v > hi) {
      fail(at + "." + key, "out_of_range",
           std::string(key) + " is " + std::to_string(lo) + " to " + std::to_string(hi));
      return def;
    }
    return int(v);
  }
  std::vector<Condition> conditions(const std::string& src, const std::string& at);
};

bool parse_hhmm(const std::string& s, int& minutes) {
  int h = 0, m = 0;
  char tail = 0;
  if (std::sscanf(s.c_str(), "%2d:%2d%c", &h, &m, &tail) != 2 || h < 0 || h > 24 || m < 0 ||
      m > 59 || (h == 24 && m))
    return false;
  minutes = h * 60 + m;
  return true;
}

// One condition, or several joined by " and ".
std::vector<Condition> Parser::conditions(const std::string& src, const std::string& at) {
  std::vector<Condition> out;
  size_t pos = 0;
  while (pos <= src.size()) {
    size_t end = src.find(" and ", pos);
    std::string part = src.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    pos = end == std::string::npos ? src.size() + 1 : end + 5;
    Condition c{Condition::Kind::verified};
    if (part.rfind("not ", 0) == 0) c.negate = true, part = part.substr(4);
    char w1[16] = {}, w2[16] = {}, w3[64] = {};
    int n = std::sscanf(part.c_str(), "%15s %15s %63s", w1, w2, w3);
    std::string k = n >= 1 ? w1 : "";
    bool ok = true;
    if (k == "tier" && n == 3) {
      c.kind = Condition::Kind::tier;
      c.op = w2;
      ok = (c.op == ">=" || c.op == "<=" || c.op == "==") && std::sscanf(w3, "%d", &c.a) == 1 &&
           c.a >= 0 && c.a <= 4;
    } else if (k == "hours" && n == 2) {
      c.kind = Condition::Kind::hours;
      std::string range = w2;
      size_t dash = range.find('-');
      ok = dash != std::string::npos && parse_hhmm(range.substr(0, dash), c.a) &&
           parse_hhmm(range.substr(dash + 1), c.b);
    } else if (k == "weekday" && n == 2) {
      c.kind = Condition::Kind::weekday;
      ok = std::sscanf(w2, "%d-%d", &c.a, &c.b) == 2 && c.a >= 1 && c.b <= 7 && c.a <= c.b;
    } else if (k == "holiday" && n == 1) {
      c.kind = Condition::Kind::holiday;
    } else if (k == "verified" && n == 1) {
      c.kind = Condition::Kind::verified;
    } else if (k == "list" && n == 2) {
      c.kind = Condition::Kind::list;
      c.name = w2;
      ok = c.name == "red" || c.name == "black";
    } else if (k == "var" && n >= 2) {
      c.kind = Condition::Kind::var;
      char name[32] = {}, value[64] = {};
      ok = std::sscanf(part.c_str(), "var %31s == %63s", name, value) == 2;
      c.name = name;
      c.value = value;
    } else {
      ok = false;
    }
    if (!ok) {
      fail(at, "bad_condition", "cannot read the condition '" + part + "'");
      return {};
    }
    out.push_back(std::move(c));
  }
  return out;
}

Node::Type parse_type(const std::string& t, bool& ok) {
  using T = Node::Type;
  static const std::map<std::string, T> types{
      {"play", T::play},        {"menu", T::menu},           {"collect", T::collect},
      {"branch", T::branch},    {"verify", T::verify},       {"service", T::service},
      {"queue", T::queue},      {"voicemail", T::voicemail}, {"transfer", T::transfer},
      {"hangup", T::hangup},    {"survey", T::survey},       {"return", T::back},
      {"campaign", T::campaign}};
  auto it = types.find(t);
  ok = it != types.end();
  return ok ? it->second : T::hangup;
}

bool valid_digit(const std::string& d) {
  return d.size() == 1 && std::string("0123456789*#").find(d[0]) != std::string::npos;
}

}  // namespace

Flow parse_flow(std::string_view text) {
  json::value v;
  try {
    v = parse_value(text);
  } catch (const std::exception&) {
    throw Error::validation({{"definition", "malformed_json", "the flow is not valid JSON"}});
  }
  if (!v.is_object())
    throw Error::validation({{"definition", "bad_type", "the flow must be a JSON object"}});
  const auto& root = v.as_object();
  Parser p;
  Flow f;
  f.start = p.text(root, "start", "", true, kMaxId);
  f.survey = p.text(root, "survey", "", false, kMaxId);
  auto nodes = root.find("nodes");
  if (nodes == root.end() || !nodes->value().is_object() || nodes->value().as_object().empty()) {
    p.fail("nodes", "missing", "nodes must be a non-empty object");
    throw Error::validation(p.errors);
  }
  if (nodes->value().as_object().size() > kMaxNodes)
    p.fail("nodes", "out_of_range", "at most 500 nodes");
  for (const auto& kv : nodes->value().as_object()) {
    std::string id(kv.key());
    std::string at = "nodes." + id;
    if (id.empty() || id.size() > kMaxId) p.fail(at, "too_long", "node ids are 1 to 64 characters");
    if (!kv.value().is_object()) {
      p.fail(at, "bad_type", "a node must be an object");
      continue;
    }
    const auto& o = kv.value().as_object();
    Node n{};
    n.id = id;
    bool ok = true;
    n.type = parse_type(p.text(o, "type", at, true, 16), ok);
    if (!ok) p.fail(at + ".type", "bad_type", "unknown node type");
    n.prompt = p.text(o, "prompt", at, false);
    n.pin_prompt = p.text(o, "pin_prompt", at, false);
    n.invalid_prompt = p.text(o, "invalid_prompt", at, false);
    n.next = p.text(o, "next", at, false, kMaxId);
    n.on_fail = p.text(o, "on_fail", at, false, kMaxId);
    n.retries = p.number(o, "retries", at, 2, 0, 9);
    n.timeout_ms = Millis(p.number(o, "timeout_s", at, 5, 1, 60)) * 1000;
    const bool code = n.type == Node::Type::campaign;  // campaign codes: 3 to 8 digits
    n.min_digits = p.number(o, "min_digits", at, code ? 3 : 1, 1, 32);
    n.max_digits = p.number(o, "max_digits", at,
                            n.type == Node::Type::verify ? 20
                            : code                       ? 8
                                                         : 1,
                            1, 32);
    n.var = p.text(o, "var", at, n.type == Node::Type::collect, 32);
    using T = Node::Type;
    if (n.type == T::queue) n.target = p.text(o, "queue", at, true, 32);
    if (n.type == T::transfer) n.target = p.text(o, "number", at, true, 20);
    if (n.type == T::service) n.target = p.text(o, "adapter", at, true, 32);
    bool needs_next = n.type == T::play || n.type == T::collect || n.type == T::verify ||
                      n.type == T::service;  // a branch's default is its "else"
    if (needs_next && n.next.empty()) p.fail(at + ".next", "missing", "next is required");
    if (n.type == T::menu) {
      auto opts = o.find("options");
      if (opts == o.end() || !opts->value().is_array() || opts->value().as_array().empty()) {
        p.fail(at + ".options", "missing", "a menu needs options");
      } else {
        std::set<std::string> digits;
        size_t i = 0;
        for (const auto& ov : opts->value().as_array()) {
          std::string oat = at + ".options[" + std::to_string(i++) + "]";
          if (!ov.is_object()) {
            p.fail(oat, "bad_type", "an option must be an object");
            continue;
          }
          Option opt;
          opt.digit = p.text(ov.as_object(), "digit", oat, true, 1);
          opt.prompt = p.text(ov.as_object(), "prompt", oat, false);
          opt.next = p.text(ov.as_object(), "next", oat, true, kMaxId);
          if (!opt.digit.empty() && !valid_digit(opt.digit))
            p.fail(oat + ".digit", "bad_digit", "a key is 0-9, * or #");
          if (!digits.insert(opt.digit).second)
            p.fail(oat + ".digit", "duplicate_digit", "two options use this key");
          std::string cond = p.text(ov.as_object(), "show_if", oat, false);
          if (!cond.empty()) opt.show_if = p.conditions(cond, oat + ".show_if");
          n.options.push_back(std::move(opt));
        }
      }
    }
    if (n.type == T::branch) {
      auto cases = o.find("cases");
      if (cases != o.end() && cases->value().is_array()) {
        size_t i = 0;
        for (const auto& cv : cases->value().as_array()) {
          std::string cat = at + ".cases[" + std::to_string(i++) + "]";
          if (!cv.is_object()) {
            p.fail(cat, "bad_type", "a case must be an object");
            continue;
          }
          Case c;
          c.when = p.conditions(p.text(cv.as_object(), "if", cat, true), cat + ".if");
          c.next = p.text(cv.as_object(), "next", cat, true, kMaxId);
          n.cases.push_back(std::move(c));
        }
      }
      n.next = p.text(o, "else", at, true, kMaxId);
    }
    f.nodes[id] = std::move(n);
  }
  // Every reference leads somewhere.
  auto check = [&](const std::string& ref, const std::string& field) {
    if (!ref.empty() && !f.nodes.count(ref)) p.fail(field, "unknown_node", "no node '" + ref + "'");
  };
  check(f.start, "start");
  check(f.survey, "survey");
  for (auto& [id, n] : f.nodes) {
    check(n.next, "nodes." + id + (n.type == Node::Type::branch ? ".else" : ".next"));
    check(n.on_fail, "nodes." + id + ".on_fail");
    for (size_t i = 0; i < n.options.size(); ++i)
      check(n.options[i].next, "nodes." + id + ".options[" + std::to_string(i) + "].next");
    for (size_t i = 0; i < n.cases.size(); ++i)
      check(n.cases[i].next, "nodes." + id + ".cases[" + std::to_string(i) + "].next");
  }
  if (!p.errors.empty()) throw Error::validation(p.errors);
  return f;
}

bool holds(const Condition& c, const Facts& f) {
  bool r = false;
  switch (c.kind) {
    case Condition::Kind::tier:
      r = c.op == ">=" ? f.tier >= c.a : c.op == "<=" ? f.tier <= c.a : f.tier == c.a;
      break;
    case Condition::Kind::hours:  // a range over midnight (22:00-06:00) wraps
      r = c.a <= c.b ? f.minute_of_day >= c.a && f.minute_of_day < c.b
                     : f.minute_of_day >= c.a || f.minute_of_day < c.b;
      break;
    case Condition::Kind::weekday:
      r = f.weekday >= c.a && f.weekday <= c.b;
      break;
    case Condition::Kind::holiday:
      r = f.holiday;
      break;
    case Condition::Kind::list:
      r = c.name == "red" ? f.red_list : f.black_list;
      break;
    case Condition::Kind::verified:
      r = f.verified;
      break;
    case Condition::Kind::var: {
      auto it = f.vars.find(c.name);
      r = it != f.vars.end() && it->second == c.value;
      break;
    }
  }
  return r != c.negate;
}

bool holds(const std::vector<Condition>& all, const Facts& f) {
  for (auto& c : all)
    if (!holds(c, f)) return false;
  return true;
}

}  // namespace kefu::ivr
