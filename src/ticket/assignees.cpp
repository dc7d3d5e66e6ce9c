// Who takes a workflow node's task (派单规则): a person, a role nearest the ticket's organisation,
// a unit's queue or one of its members by round robin or load, a handler's leader, the creator.
// Never the staff member a complaint is about.
#include <sstream>

#include "store/sql.hpp"
#include "ticket/loaded.hpp"

namespace kefu::ticket {

using workflow::Assignee;

std::vector<int64_t> units_upward(const std::string& path) {
  std::vector<int64_t> ids;
  std::stringstream ss(path);
  for (std::string part; std::getline(ss, part, '/');)
    if (!part.empty()) ids.insert(ids.begin(), std::stoll(part));
  return ids;
}

bool in_data_scope(const Principal& who, int64_t org_id, const std::string& org_path) {
  switch (who.scope) {
    case DataScope::all:
      return true;
    case DataScope::subtree:
      return !who.org_path.empty() && org_path.rfind(who.org_path, 0) == 0;
    case DataScope::org:
      return org_id == who.org_id;
    case DataScope::self:
      return false;
  }
  return false;
}

namespace {

std::string org_path_of(store::Connection& c, int64_t org_id) {
  auto r = c.exec("SELECT path FROM org_unit WHERE id = ?", {org_id});
  return r.empty() ? std::string{} : store::as_text(r.rows[0][0]);
}

std::vector<int64_t> holders_of_roles(store::Connection& c, int64_t unit,
                                      const std::vector<std::string>& roles, int64_t skip_a,
                                      int64_t skip_b) {
  std::string in;
  std::vector<store::Value> params{unit};
  for (auto& r : roles) {
    in += in.empty() ? "?" : ", ?";
    params.emplace_back(r);
  }
  params.emplace_back(skip_a);
  params.emplace_back(skip_b);
  std::vector<int64_t> out;
  for (auto& row :
       c.exec("SELECT DISTINCT s.id FROM staff s JOIN staff_role sr ON sr.staff_id = s.id "
              "JOIN role r ON r.id = sr.role_id WHERE s.org_id = ? AND s.status = 'active' AND "
              "r.code IN (" +
                  in + ") AND s.id <> ? AND s.id <> ? ORDER BY s.id",
              params)
           .rows)
    out.push_back(store::as_int(row[0]));
  return out;
}

}  // namespace

int64_t TicketService::leader_of(store::Connection& c, int64_t staff_id, int64_t excluded) const {
  auto r = c.exec("SELECT o.path FROM staff s JOIN org_unit o ON o.id = s.org_id WHERE s.id = ?",
                  {staff_id});
  if (r.empty()) return 0;
  for (int64_t unit : units_upward(store::as_text(r.rows[0][0]))) {
    auto found = holders_of_roles(c, unit, opt_.leader_roles, staff_id, excluded);
    if (!found.empty()) return found.front();
  }
  return 0;
}

std::vector<Assignee> TicketService::resolve(store::Connection& c, const TicketFacts& t,
                                             const workflow::AssigneeRule& rule,
                                             int64_t previous) const {
  auto person = [&](int64_t id) {
    return id && id != t.excluded_staff ? std::vector<Assignee>{{id, 0, {}}}
                                        : std::vector<Assignee>{};
  };
  if (rule.rule == "creator") return person(t.creator_id);
  if (rule.rule == "leader")
    return person(leader_of(c, previous ? previous : t.creator_id, t.excluded_staff));
  if (rule.rule == "person") {
    auto r = c.exec("SELECT id FROM staff WHERE username = ? AND status = 'active'", {rule.staff});
    return r.empty() ? std::vector<Assignee>{} : person(store::as_int(r.rows[0][0]));
  }
  if (rule.rule == "role") {
    std::vector<int64_t> units;
    if (rule.org == "any") {
      for (auto& row : c.exec("SELECT DISTINCT s.org_id FROM staff s JOIN staff_role sr ON "
                              "sr.staff_id = s.id JOIN role r "
                              "ON r.id = sr.role_id WHERE r.code = ? ORDER BY s.org_id",
                              {rule.role})
                           .rows)
        units.push_back(store::as_int(row[0]));
    } else {
      units = units_upward(org_path_of(c, t.org_id));
      if (rule.org == "parent" && !units.empty()) units.erase(units.begin());
    }
    std::vector<Assignee> out;
    for (int64_t unit : units) {
      for (int64_t id : holders_of_roles(c, unit, {rule.role}, t.excluded_staff, 0))
        out.push_back({id, 0, {}});
      if (!out.empty() && rule.org != "any") break;  // the nearest unit that has the role
    }
    return out;
  }
  if (rule.rule == "group") {
    auto g = c.exec("SELECT id FROM org_unit WHERE code = ?", {rule.org});
    if (g.empty()) return {};
    int64_t unit = store::as_int(g.rows[0][0]);
    if (rule.pick == "queue") return {{0, unit, {}}};
    // round robin: the member whose last task is oldest; least loaded: the fewest open tasks.
    const char* order =
        rule.pick == "least_loaded"
            ? "(SELECT COUNT(*) FROM ticket_task k WHERE k.staff_id = s.id AND k.status IN "
              "('open', "
              "'started')), s.id"
            : "COALESCE((SELECT MAX(k.id) FROM ticket_task k WHERE k.staff_id = s.id), 0), s.id";
    auto r = c.exec(
        std::string(
            "SELECT s.id FROM staff s WHERE s.org_id = ? AND s.status = 'active' AND s.id <> ? "
            "ORDER BY ") +
            order + " LIMIT 1",
        {unit, t.excluded_staff});
    return r.empty() ? std::vector<Assignee>{} : person(store::as_int(r.rows[0][0]));
  }
  return {};
}

}  // namespace kefu::ticket
