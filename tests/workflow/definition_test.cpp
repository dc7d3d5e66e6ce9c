// Definitions are checked on save with every error at once; conditions parse and evaluate.
#include "workflow/definition.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace kefu;
using namespace kefu::workflow;

namespace {

Catalog catalog() {
  Catalog c;
  c.role_exists = [](const std::string& r) { return r == "branch_manager" || r == "team_leader"; };
  c.staff_exists = [](const std::string& s) { return s == "lina"; };
  c.org_exists = [](const std::string& o) { return o == "backoffice"; };
  c.field_exists = [](const std::string& f) {
    return f == "severity" || f == "amount" || f == "result";
  };
  return c;
}

std::set<std::string> codes_of(const json::value& body) {
  try {
    Definition::parse(body, catalog());
  } catch (const Error& e) {
    std::set<std::string> out;
    for (auto& d : e.details) out.insert(d.field + ":" + d.code);
    return out;
  }
  return {};
}

}  // namespace

TEST(Expression, ComparesFieldsWithLiteralsAndCombines) {
  json::object f{{"severity", "high"}, {"amount", 60000}, {"vip", true}, {"code", "3"}};
  EXPECT_TRUE(Expression::parse("severity == 'high' and amount >= 50000").eval(f));
  EXPECT_FALSE(Expression::parse("severity == 'high' and amount > 60000").eval(f));
  EXPECT_TRUE(Expression::parse("not (amount < 10) or missing").eval(f));
  EXPECT_TRUE(Expression::parse("severity in ['low', \"high\"]").eval(f));
  EXPECT_TRUE(
      Expression::parse("vip and code >= 3").eval(f));  // a code kept as text compares as a number
  EXPECT_FALSE(Expression::parse("missing == 1").eval(f));
  EXPECT_TRUE(Expression::parse("missing != 1").eval(f));
  EXPECT_EQ(Expression::parse("a == 1 or (b in [1,2] and not c)").fields(),
            (std::set<std::string>{"a", "b", "c"}));
  for (const char* bad :
       {"", "severity ==", "== 1", "a == 'x", "a in [1,", "(a", "a and", "1 == a", "a == b"})
    EXPECT_THROW(Expression::parse(bad), std::invalid_argument) << bad;
}

TEST(Definition, ReportsEveryProblemAtOnceWithItsPlace) {
  auto body = parse_value(R"({"start": "s", "nodes": {
      "s": {"type": "start"},
      "a": {"type": "task", "assignee": {"rule": "role", "role": "nobody"}, "form": ["colour"]},
      "b": {"type": "approval"},
      "c": {"type": "mystery"},
      "t": {"type": "timer"}},
    "transitions": [{"from": "s", "to": "a"}, {"from": "a", "to": "ghost"},
                    {"from": "a", "to": "b", "if": "colour == 'red'"}, {"from": "b", "to": "c", "if": "severity =="}]})");
  auto codes = codes_of(body);
  for (const char* want :
       {"nodes.a.assignee.role:unknown_role", "nodes.a.form:unknown_field",
        "nodes.b.assignee:required", "nodes.c.type:invalid_option", "nodes.t.hours:required",
        "transitions[1].to:unknown_node", "transitions[2].if:unknown_field",
        "transitions[3].if:invalid_condition"})
    EXPECT_TRUE(codes.count(want)) << want;
}

TEST(Definition, RefusesShapesThatCouldWedgeATicket) {
  // A loop with no way out, an unreachable node, a node whose ways out are all conditional.
  auto codes = codes_of(parse_value(R"({"start": "s", "nodes": {
      "s": {"type": "start"}, "a": {"type": "task", "assignee": {"rule": "creator"}},
      "b": {"type": "task", "assignee": {"rule": "creator"}}, "lost": {"type": "task", "assignee": {"rule": "creator"}},
      "e": {"type": "end"}},
    "transitions": [{"from": "s", "to": "a"}, {"from": "a", "to": "b"}, {"from": "b", "to": "a"},
                    {"from": "lost", "to": "e", "if": "severity == 'x'"}]})"));
  EXPECT_TRUE(codes.count("nodes.a:no_way_to_end"));
  EXPECT_TRUE(codes.count("nodes.b:no_way_to_end"));
  EXPECT_TRUE(codes.count("nodes.lost:unreachable"));
  EXPECT_TRUE(codes.count("nodes.lost:no_default"));

  // Conditions looping among themselves spin without anybody acting.
  codes = codes_of(parse_value(R"({"start": "s", "nodes": {
      "s": {"type": "start"}, "c1": {"type": "condition"}, "c2": {"type": "condition"}, "e": {"type": "end"}},
    "transitions": [{"from": "s", "to": "c1"}, {"from": "c1", "to": "e", "if": "amount > 1"}, {"from": "c1", "to": "c2"},
                    {"from": "c2", "to": "c1"}]})"));
  EXPECT_TRUE(codes.count("nodes.c1:automatic_loop"));

  // A branch of a split that leads back before the split, and a split without a join.
  codes = codes_of(parse_value(R"({"start": "s", "nodes": {
      "s": {"type": "start"}, "a": {"type": "task", "assignee": {"rule": "creator"}}, "p": {"type": "parallel"},
      "x": {"type": "task", "assignee": {"rule": "creator"}}, "y": {"type": "task", "assignee": {"rule": "creator"}},
      "e": {"type": "end"}},
    "transitions": [{"from": "s", "to": "a"}, {"from": "a", "to": "p"}, {"from": "p", "to": "x"}, {"from": "p", "to": "y"},
                    {"from": "x", "to": "a"}, {"from": "y", "to": "e"}]})"));
  EXPECT_TRUE(codes.count("nodes.p:branch_loops_back"));
}

TEST(Definition, AcceptsNestedParallelRegionsAndFindsTheirJoins) {
  auto d = Definition::parse(parse_value(R"({"start": "s", "nodes": {
      "s": {"type": "start"}, "p": {"type": "parallel"}, "q": {"type": "parallel"},
      "a": {"type": "task", "assignee": {"rule": "creator"}}, "b": {"type": "task", "assignee": {"rule": "creator"}},
      "c": {"type": "task", "assignee": {"rule": "creator"}}, "jq": {"type": "join"}, "jp": {"type": "join"},
      "e": {"type": "end"}},
    "transitions": [{"from": "s", "to": "p"}, {"from": "p", "to": "q"}, {"from": "p", "to": "c"},
                    {"from": "q", "to": "a"}, {"from": "q", "to": "b"}, {"from": "a", "to": "jq"}, {"from": "b", "to": "jq"},
                    {"from": "jq", "to": "jp"}, {"from": "c", "to": "jp"}, {"from": "jp", "to": "e"}]})"),
                             catalog());
  EXPECT_EQ(d.join_of("p"), "jp");
  EXPECT_EQ(d.join_of("q"), "jq");
  EXPECT_EQ(d.branches_of_join("jp"), 2);
}
