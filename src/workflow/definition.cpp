#include "workflow/definition.hpp"

#include <algorithm>
#include <deque>
#include <regex>
#include <set>

namespace kefu::workflow {

const char* to_string(NodeType t) {
  switch (t) {
    case NodeType::start:
      return "start";
    case NodeType::task:
      return "task";
    case NodeType::approval:
      return "approval";
    case NodeType::condition:
      return "condition";
    case NodeType::parallel:
      return "parallel";
    case NodeType::join:
      return "join";
    case NodeType::timer:
      return "timer";
    case NodeType::external:
      return "external";
    case NodeType::end:
      return "end";
  }
  return "task";
}

namespace {

bool parse_type(const std::string& s, NodeType& t) {
  for (NodeType k :
       {NodeType::start, NodeType::task, NodeType::approval, NodeType::condition,
        NodeType::parallel, NodeType::join, NodeType::timer, NodeType::external, NodeType::end})
    if (s == to_string(k)) {
      t = k;
      return true;
    }
  return false;
}

bool automatic(NodeType t) {
  return t == NodeType::start || t == NodeType::condition || t == NodeType::parallel ||
         t == NodeType::join;
}

class Checker {
 public:
  explicit Checker(const Catalog& c) : catalog_(c) {}
  void error(std::string field, std::string code, std::string message) {
    errors.push_back({std::move(field), std::move(code), std::move(message)});
  }
  std::string text(const json::object& o, const char* key, const std::string& where,
                   bool required) {
    auto it = o.find(key);
    if (it == o.end() || it->value().is_null()) {
      if (required) error(where + "." + key, "required", std::string(key) + " is required");
      return {};
    }
    if (!it->value().is_string() || it->value().as_string().size() > 200) {
      error(where + "." + key, "wrong_type",
            std::string(key) + " must be a text of at most 200 characters");
      return {};
    }
    return std::string(it->value().as_string());
  }
  std::optional<AssigneeRule> assignee(const json::value& v, const std::string& where) {
    if (!v.is_object()) {
      error(where, "wrong_type", "an assignee is an object with a rule");
      return std::nullopt;
    }
    const auto& o = v.as_object();
    AssigneeRule r;
    r.rule = text(o, "rule", where, true);
    if (r.rule == "person") {
      r.staff = text(o, "staff", where, true);
      if (!r.staff.empty() && catalog_.staff_exists && !catalog_.staff_exists(r.staff))
        error(where + ".staff", "unknown_staff", "no staff member " + r.staff);
    } else if (r.rule == "role") {
      r.role = text(o, "role", where, true);
      r.org = text(o, "org", where, false);
      if (r.org.empty()) r.org = "ticket";
      if (r.org != "ticket" && r.org != "parent" && r.org != "any")
        error(where + ".org", "invalid_option", "org is ticket, parent or any");
      if (!r.role.empty() && catalog_.role_exists && !catalog_.role_exists(r.role))
        error(where + ".role", "unknown_role", "no role " + r.role);
    } else if (r.rule == "group") {
      r.org = text(o, "org", where, true);
      r.pick = text(o, "pick", where, false);
      if (r.pick.empty()) r.pick = "queue";
      if (r.pick != "round_robin" && r.pick != "least_loaded" && r.pick != "queue")
        error(where + ".pick", "invalid_option", "pick is round_robin, least_loaded or queue");
      if (!r.org.empty() && catalog_.org_exists && !catalog_.org_exists(r.org))
        error(where + ".org", "unknown_org", "no organisation unit " + r.org);
    } else if (r.rule != "leader" && r.rule != "creator" && !r.rule.empty()) {
      error(where + ".rule", "invalid_option", "rule is person, role, group, leader or creator");
    }
    return r;
  }
  void check_field(const std::string& name, const std::string& where) {
    if (name == "outcome") return;  // the decision of the task just completed
    if (catalog_.field_exists && !catalog_.field_exists(name))
      error(where, "unknown_field", "the ticket has no field " + name);
  }

  std::vector<FieldError> errors;

 private:
  const Catalog& catalog_;
};

}  // namespace

const Node& Definition::node(const std::string& id) const {
  auto it = nodes_.find(id);
  if (it == nodes_.end())
    throw Error::internal("workflow node " + id + " is not in the definition");
  return it->second;
}

std::vector<const Transition*> Definition::out(const std::string& id) const {
  std::vector<const Transition*> r;
  for (auto& t : transitions_)
    if (t.from == id) r.push_back(&t);
  return r;
}

int Definition::incoming(const std::string& id) const {
  return int(
      std::count_if(transitions_.begin(), transitions_.end(), [&](auto& t) { return t.to == id; }));
}

int Definition::branches_of_join(const std::string& join) const {
  for (auto& [split, j] : joins_)
    if (j == join) return int(out(split).size());
  return incoming(join);
}

Definition Definition::parse(const json::value& body, const Catalog& catalog) {
  Checker ck(catalog);
  Definition d;
  if (!body.is_object())
    throw Error::validation({{"definition", "wrong_type", "a definition is a JSON object"}});
  const auto& o = body.as_object();
  d.name_ = ck.text(o, "name", "definition", false);
  d.start_ = ck.text(o, "start", "definition", true);
  d.reopen_to_ = ck.text(o, "reopen_to", "definition", false);
  static const std::regex id_re("[A-Za-z0-9_-]{1,40}");

  auto nodes_it = o.find("nodes");
  if (nodes_it == o.end() || !nodes_it->value().is_object() ||
      nodes_it->value().as_object().empty()) {
    ck.error("nodes", "required", "nodes is an object of node id to node");
    throw Error::validation(ck.errors);
  }
  if (nodes_it->value().as_object().size() > 200)
    ck.error("nodes", "too_many", "at most 200 nodes");
  for (auto& [key, v] : nodes_it->value().as_object()) {
    std::string id(key), where = "nodes." + id;
    Node n;
    n.id = id;
    if (!std::regex_match(id, id_re))
      ck.error(where, "invalid_id", "a node id is 1-40 letters, digits, _ or -");
    if (!v.is_object()) {
      ck.error(where, "wrong_type", "a node is an object");
      continue;
    }
    const auto& no = v.as_object();
    std::string type = ck.text(no, "type", where, true);
    if (!type.empty() && !parse_type(type, n.type))
      ck.error(where + ".type", "invalid_option",
               "type is start, task, approval, condition, parallel, join, timer, external or end");
    n.name = ck.text(no, "name", where, false);
    if (n.name.empty()) n.name = id;
    if (auto a = no.find("assignee"); a != no.end())
      if (auto r = ck.assignee(a->value(), where + ".assignee")) n.assignees.push_back(*r);
    if (auto a = no.find("assignees"); a != no.end()) {
      if (!a->value().is_array())
        ck.error(where + ".assignees", "wrong_type", "assignees is a list");
      else
        for (size_t i = 0; i < a->value().as_array().size(); ++i)
          if (auto r = ck.assignee(a->value().as_array()[i],
                                   where + ".assignees[" + std::to_string(i) + "]"))
            n.assignees.push_back(*r);
    }
    if ((n.type == NodeType::task || n.type == NodeType::approval) && n.assignees.empty())
      ck.error(where + ".assignee", "required", "a " + type + " node needs an assignee rule");
    std::string mode = ck.text(no, "mode", where, false);
    if (!mode.empty() && mode != "all" && mode != "any")
      ck.error(where + ".mode", "invalid_option", "mode is all or any");
    n.all_of = mode != "any";
    auto number = [&](const char* key) -> double {
      auto it = no.find(key);
      if (it == no.end() || it->value().is_null()) return 0;
      if (!it->value().is_number() || it->value().to_number<double>() < 0 ||
          it->value().to_number<double>() > 24 * 366) {
        ck.error(where + "." + key, "out_of_range",
                 std::string(key) + " is a number of hours from 0 to 8784");
        return 0;
      }
      return it->value().to_number<double>();
    };
    n.sla_hours = number("sla_hours");
    n.timer_ms = int64_t(number("hours") * 3'600'000);
    if (n.type == NodeType::timer && n.timer_ms <= 0)
      ck.error(where + ".hours", "required", "a timer waits hours > 0");
    n.system = ck.text(no, "system", where, n.type == NodeType::external);
    if (auto f = no.find("form"); f != no.end()) {
      if (!f->value().is_array())
        ck.error(where + ".form", "wrong_type", "form is a list of field names");
      else
        for (auto& x : f->value().as_array()) {
          if (!x.is_string()) {
            ck.error(where + ".form", "wrong_type", "form is a list of field names");
            continue;
          }
          n.form.emplace_back(x.as_string());
          ck.check_field(n.form.back(), where + ".form");
        }
    }
    d.nodes_.emplace(id, std::move(n));
  }

  auto tr_it = o.find("transitions");
  if (tr_it == o.end() || !tr_it->value().is_array())
    ck.error("transitions", "required", "transitions is a list");
  else {
    const auto& arr = tr_it->value().as_array();
    if (arr.size() > 400) ck.error("transitions", "too_many", "at most 400 transitions");
    for (size_t i = 0; i < arr.size(); ++i) {
      std::string where = "transitions[" + std::to_string(i) + "]";
      if (!arr[i].is_object()) {
        ck.error(where, "wrong_type", "a transition is an object");
        continue;
      }
      const auto& to = arr[i].as_object();
      Transition t;
      t.from = ck.text(to, "from", where, true);
      t.to = ck.text(to, "to", where, true);
      if (!t.from.empty() && !d.nodes_.count(t.from))
        ck.error(where + ".from", "unknown_node", "no node " + t.from);
      if (!t.to.empty() && !d.nodes_.count(t.to))
        ck.error(where + ".to", "unknown_node", "no node " + t.to);
      std::string cond = ck.text(to, "if", where, false);
      if (!cond.empty()) {
        try {
          t.when = Expression::parse(cond);
          for (auto& f : t.when->fields()) ck.check_field(f, where + ".if");
        } catch (const std::invalid_argument& e) {
          ck.error(where + ".if", "invalid_condition", cond + ": " + e.what());
        }
      }
      d.transitions_.push_back(std::move(t));
    }
  }
  if (!ck.errors.empty())
    throw Error::validation(ck.errors);  // the graph checks need sound references

  // The shape: one start, ways out, reachability both ways.
  int starts = 0;
  for (auto& [id, n] : d.nodes_) {
    starts += n.type == NodeType::start;
    auto outs = d.out(id);
    std::string where = "nodes." + id;
    if (n.type == NodeType::end) {
      if (!outs.empty()) ck.error(where, "end_has_way_out", "an end node has no transitions out");
      continue;
    }
    if (outs.empty()) {
      ck.error(where, "no_way_out", "node " + id + " has no transition out");
      continue;
    }
    int defaults = int(std::count_if(outs.begin(), outs.end(), [](auto* t) { return !t->when; }));
    if (n.type == NodeType::parallel) {
      if (defaults != int(outs.size()))
        ck.error(where, "conditional_branch", "a parallel split's branches have no conditions");
      if (outs.size() < 2)
        ck.error(where, "one_branch", "a parallel split has at least two branches");
    } else if (defaults != 1) {
      ck.error(
          where, defaults ? "several_defaults" : "no_default",
          "node " + id + " needs exactly one transition without a condition (the default way)");
    }
    if (n.type == NodeType::start && d.incoming(id))
      ck.error(where, "start_has_way_in", "nothing leads back to the start");
  }
  if (starts != 1) ck.error("nodes", "one_start", "a definition has exactly one start node");
  if (!d.nodes_.count(d.start_) || d.nodes_.at(d.start_).type != NodeType::start)
    ck.error("definition.start", "unknown_node", "start names the start node");
  if (!d.reopen_to_.empty() &&
      (!d.nodes_.count(d.reopen_to_) || (d.nodes_.at(d.reopen_to_).type != NodeType::task &&
                                         d.nodes_.at(d.reopen_to_).type != NodeType::approval)))
    ck.error("definition.reopen_to", "unknown_node", "reopen_to names a task or approval node");
  if (!d.nodes_.count(d.start_)) throw Error::validation(ck.errors);  // the walks below start there

  std::set<std::string> reached{d.start_};
  for (std::deque<std::string> q{d.start_}; !q.empty(); q.pop_front())
    for (auto* t : d.out(q.front()))
      if (reached.insert(t->to).second) q.push_back(t->to);
  std::set<std::string> finishing;
  std::deque<std::string> q;
  for (auto& [id, n] : d.nodes_)
    if (n.type == NodeType::end) finishing.insert(id), q.push_back(id);
  for (; !q.empty(); q.pop_front())
    for (auto& t : d.transitions_)
      if (t.to == q.front() && finishing.insert(t.from).second) q.push_back(t.from);
  for (auto& [id, n] : d.nodes_) {
    if (!reached.count(id))
      ck.error("nodes." + id, "unreachable", "node " + id + " cannot be reached from the start");
    if (!finishing.count(id))
      ck.error("nodes." + id, "no_way_to_end", "node " + id + " has no way to an end node");
  }
  // A loop of automatic nodes alone would spin without anybody acting.
  std::map<std::string, int> colour;
  std::function<bool(const std::string&)> spins = [&](const std::string& id) {
    colour[id] = 1;
    for (auto* t : d.out(id)) {
      if (!automatic(d.nodes_.at(t->to).type)) continue;
      if (colour[t->to] == 1 || (colour[t->to] == 0 && spins(t->to))) return true;
    }
    colour[id] = 2;
    return false;
  };
  for (auto& [id, n] : d.nodes_)
    if (automatic(n.type) && colour[id] == 0 && spins(id))
      ck.error("nodes." + id, "automatic_loop", "a loop through " + id + " has no task to stop it");

  // Parallel regions: the branches of a split meet at one join and leave only through it (or an
  // end, which ends the ticket), so a join never waits for a branch that went elsewhere.
  std::function<std::string(const std::string&, int)> close = [&](const std::string& split,
                                                                  int depth) -> std::string {
    if (auto it = d.joins_.find(split); it != d.joins_.end()) return it->second;
    if (depth > 50) return {};
    std::set<std::string> seen, joins;
    std::deque<std::string> q;
    for (auto* t : d.out(split)) q.push_back(t->to);
    for (; !q.empty(); q.pop_front()) {
      std::string id = q.front();
      if (!seen.insert(id).second) continue;
      const Node& n = d.nodes_.at(id);
      if (id == split) {
        ck.error("nodes." + split, "branch_loops_back",
                 "a branch of " + split + " leads back before the split");
        return {};
      }
      if (n.type == NodeType::join) {
        joins.insert(id);
        continue;
      }
      if (n.type == NodeType::parallel) {
        std::string inner = close(id, depth + 1);
        if (inner.empty()) return {};
        for (auto* t : d.out(inner)) q.push_back(t->to);
        continue;
      }
      for (auto* t : d.out(id)) q.push_back(t->to);
    }
    if (joins.size() != 1) {
      ck.error("nodes." + split, joins.empty() ? "no_join" : "several_joins",
               "the branches of " + split + " must meet at exactly one join");
      return {};
    }
    d.joins_[split] = *joins.begin();
    return *joins.begin();
  };
  std::map<std::string, std::string> closed_by;
  for (auto& [id, n] : d.nodes_) {
    if (n.type != NodeType::parallel) continue;
    std::string j = close(id, 0);
    if (j.empty()) continue;
    if (closed_by.count(j) && closed_by[j] != id)
      ck.error("nodes." + j, "join_shared",
               "join " + j + " closes both " + closed_by[j] + " and " + id);
    closed_by[j] = id;
  }
  for (auto& [id, n] : d.nodes_)
    if (n.type == NodeType::join && !closed_by.count(id))
      ck.error("nodes." + id, "join_without_split", "join " + id + " closes no parallel split");
  if (!ck.errors.empty()) throw Error::validation(ck.errors);
  return d;
}

}  // namespace kefu::workflow
