#pragma once
// A workflow definition (流程定义) as data: nodes and the transitions between them. Parsing
// checks everything at once and reports every error with the place it concerns, so a
// definition that loads cannot wedge a ticket: every node is reachable from the start and has a
// way to an end, a node whose ways out are all conditional also has a default, a parallel split
// meets exactly one join and its branches leave only through that join (or an end), and every
// role, field and organisation it names exists.
//
//   {"name": "投诉处理", "start": "s",
//    "nodes": {
//      "s":      {"type": "start"},
//      "accept": {"type": "task", "name": "受理", "assignee": {"rule": "creator"}, "sla_hours": 8,
//                 "form": ["result"]},
//      "check":  {"type": "condition"},
//      "review": {"type": "approval", "mode": "all",             // 会签 all-of | any-of
//                 "assignees": [{"rule": "role", "role": "branch_manager", "org": "parent"}]},
//      "wait":   {"type": "timer", "hours": 24},
//      "oa":     {"type": "external", "system": "oa"},            // handed to the enterprise OA
//      "split":  {"type": "parallel"}, "merge": {"type": "join"},
//      "end":    {"type": "end"}},
//    "transitions": [{"from": "s", "to": "accept"},
//                    {"from": "check", "to": "review", "if": "severity == 'high'"},
//                    {"from": "check", "to": "end"}, ...],
//    "reopen_to": "accept"}
//
// Assignee rules: {"rule":"person","staff":"username"}; {"rule":"role","role":"code",
// "org":"ticket"|"parent"|"any"}; {"rule":"group","org":"code","pick":"round_robin"|
// "least_loaded"|"queue"}; {"rule":"leader"} (the previous handler's leader);
// {"rule":"creator"}.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/json.hpp"
#include "workflow/expression.hpp"

namespace kefu::workflow {

struct AssigneeRule {
  std::string rule;   // person, role, group, leader, creator
  std::string staff;  // person: username
  std::string role;   // role: code
  std::string org;    // role: ticket|parent|any; group: the organisation unit's code
  std::string pick;   // group: round_robin|least_loaded|queue
};

enum class NodeType { start, task, approval, condition, parallel, join, timer, external, end };
const char* to_string(NodeType t);

struct Node {
  std::string id, name;
  NodeType type = NodeType::task;
  std::vector<AssigneeRule> assignees;  // task: the first that resolves; approval: all of them
  bool all_of = true;                   // approval: 会签 (all) or 或签 (any)
  double sla_hours = 0;                 // business hours for the task, 0 for none
  int64_t timer_ms = 0;                 // timer
  std::string system;                   // external: which outside system takes the task
  std::vector<std::string> form;        // fields the completing form must carry
};

struct Transition {
  std::string from, to;
  std::optional<Expression> when;  // none: the default way
};

// What the definition may refer to, from the store: checked on save.
struct Catalog {
  std::function<bool(const std::string&)> role_exists;
  std::function<bool(const std::string&)> staff_exists;
  std::function<bool(const std::string&)> org_exists;
  std::function<bool(const std::string&)> field_exists;  // a field of the ticket (type)
};

class Definition {
 public:
  // Throws Error::validation listing every problem (field: "nodes.<id>.<what>" or
  // "transitions[<i>].<what>").
  static Definition parse(const json::value& body, const Catalog& catalog);

  const std::string& start() const { return start_; }
  const std::string& reopen_to() const { return reopen_to_; }
  const std::string& name() const { return name_; }
  const Node& node(const std::string& id) const;
  bool has(const std::string& id) const { return nodes_.count(id) > 0; }
  const std::map<std::string, Node>& nodes() const { return nodes_; }
  const std::vector<Transition>& transitions() const { return transitions_; }
  std::vector<const Transition*> out(const std::string& id) const;
  int incoming(const std::string& id) const;
  // The join that closes a parallel split.
  const std::string& join_of(const std::string& split) const { return joins_.at(split); }
  // The split a join closes, and how many branches it waits for.
  int branches_of_join(const std::string& join) const;

 private:
  std::string name_, start_, reopen_to_;
  std::map<std::string, Node> nodes_;
  std::vector<Transition> transitions_;
  std::map<std::string, std::string> joins_;  // split -> join
};

}  // namespace kefu::workflow
