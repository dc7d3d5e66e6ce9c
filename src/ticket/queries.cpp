// Reading tickets: the views (我的待办, 我的已办, 我创建的, the team's and the overdue), one ticket
// with its tasks, history, deadlines and the diagram of its process, and the home-page counters.
#include "base/error.hpp"
#include "store/sql.hpp"
#include "ticket/loaded.hpp"

namespace kefu::ticket {

namespace {

std::string q(const std::map<std::string, std::string>& query, const char* key) {
  auto it = query.find(key);
  return it == query.end() ? std::string{} : it->second;
}

int64_t positive(const std::string& s, int64_t fallback, int64_t max, const char* field) {
  if (s.empty()) return fallback;
  try {
    size_t used = 0;
    int64_t v = std::stoll(s, &used);
    if (used == s.size() && v >= 1 && v <= max) return v;
  } catch (const std::exception&) {
  }
  throw Error::validation({{field, "out_of_range",
                            std::string(field) + " is a number from 1 to " + std::to_string(max)}});
}

// The data-scope condition on `t` for a principal, appended to where/params.
void scope_filter(const Principal& who, std::string& where, std::vector<store::Value>& params) {
  switch (who.scope) {
    case DataScope::all:
      return;
    case DataScope::subtree:
      where += " AND t.org_path LIKE ? ESCAPE '\\'";
      params.emplace_back(store::like_escape(who.org_path) + "%");
      return;
    case DataScope::org:
      where += " AND t.org_id = ?";
      params.emplace_back(who.org_id);
      return;
    case DataScope::self:
      where += " AND t.creator_id = ?";
      params.emplace_back(who.staff_id);
      return;
  }
}

json::value int_or_null(const store::Value& v) {
  return store::is_null(v) ? json::value(nullptr) : json::value(store::as_int(v));
}

}  // namespace

json::object TicketService::list(const Principal& who,
                                 const std::map<std::string, std::string>& query) const {
  std::string view = q(query, "view");
  if (view.empty()) view = "todo";
  int64_t page = positive(q(query, "page"), 1, 1'000'000, "page");
  int64_t size = positive(q(query, "page_size"), 20, 100, "page_size");
  int64_t now = clock_.now_ms();
  std::string where = "1 = 1";
  std::vector<store::Value> params;
  std::string order = "t.id DESC";
  if (view == "todo") {
    where +=
        " AND t.id IN (SELECT k.ticket_id FROM ticket_task k WHERE k.staff_id = ? AND k.status IN "
        "('open', 'started') "
        "UNION SELECT k.ticket_id FROM ticket_task k WHERE k.group_id = ? AND k.staff_id IS NULL "
        "AND k.status = 'open')";
    params.emplace_back(who.staff_id);
    params.emplace_back(who.org_id);
  } else if (view == "done") {
    where +=
        " AND t.id IN (SELECT k.ticket_id FROM ticket_task k WHERE k.done_by = ? AND k.status = "
        "'done')";
    params.emplace_back(who.staff_id);
  } else if (view == "created") {
    where += " AND t.creator_id = ?";
    params.emplace_back(who.staff_id);
  } else if (view == "team" || view == "overdue") {
    if (!who.has("ticket:read")) throw Error::forbidden("the team's tickets need ticket:read");
    scope_filter(who, where, params);
    if (view == "overdue") {
      where += " AND t.status IN ('open', 'suspended') AND t.resolve_due < ?";
      params.emplace_back(now);
      order = "t.resolve_due";
    }
  } else {
    throw Error::validation(
        {{"view", "invalid_option", "view is todo, done, created, team or overdue"}});
  }
  if (auto s = q(query, "status"); !s.empty()) {
    if (s != "open" && s != "waiting_customer" && s != "suspended" && s != "closed")
      throw Error::validation(
          {{"status", "invalid_option", "status is open, waiting_customer, suspended or closed"}});
    where += " AND t.status = ?";
    params.emplace_back(s);
  }
  if (auto s = q(query, "type"); !s.empty()) {
    where += " AND t.type_id IN (SELECT id FROM ticket_type WHERE code = ?)";
    params.emplace_back(s);
  }
  if (auto s = q(query, "customer_id"); !s.empty()) {
    where += " AND t.customer_id = ?";
    params.emplace_back(positive(s, 0, INT64_MAX, "customer_id"));
  }
  if (auto s = q(query, "q"); !s.empty()) {
    if (s.size() > 100) throw Error::validation({{"q", "too_long", "q is at most 100 characters"}});
    where += " AND (t.no = ? OR t.title LIKE ? ESCAPE '\\')";
    params.emplace_back(s);
    params.emplace_back("%" + store::like_escape(s) + "%");
  }
  json::object out;
  db_.read([&](store::Connection& c) {
    auto total = c.exec("SELECT COUNT(*) FROM ticket t WHERE " + where, params);
    auto p = params;
    p.emplace_back(size);
    p.emplace_back((page - 1) * size);
    auto rows = c.exec(
        "SELECT t.id, t.no, t.title, ty.code, ty.name, t.status, t.priority, t.created_at, "
        "t.resolve_due, "
        "t.customer_id, t.escalation, t.version, t.creator_id FROM ticket t JOIN ticket_type ty ON "
        "ty.id = t.type_id WHERE " +
            where + " ORDER BY " + order + " LIMIT ? OFFSET ?",
        p);
    json::array items;
    for (auto& r : rows.rows) {
      int64_t id = store::as_int(r[0]);
      json::array current;
      for (auto& k : c.exec("SELECT k.seq, k.node_name, k.staff_id, k.group_id, k.system, s.name, "
                            "o.name, k.kind, k.due_at "
                            "FROM ticket_task k LEFT JOIN staff s ON s.id = k.staff_id LEFT JOIN "
                            "org_unit o ON o.id = "
                            "k.group_id WHERE k.ticket_id = ? AND k.status IN ('open', 'started') "
                            "ORDER BY k.seq",
                            {id})
                         .rows)
        current.push_back(json::object{
            {"task", store::as_int(k[0])},
            {"node", store::as_text(k[1])},
            {"staff_id", int_or_null(k[2])},
            {"group_id", int_or_null(k[3])},
            {"system",
             store::is_null(k[4]) ? json::value(nullptr) : json::value(store::as_text(k[4]))},
            {"holder",
             store::is_null(k[5])
                 ? (store::is_null(k[6]) ? (store::is_null(k[4]) ? "" : store::as_text(k[4]))
                                         : store::as_text(k[6]))
                 : store::as_text(k[5])},
            {"kind", store::as_text(k[7])},
            {"due_at", int_or_null(k[8])}});
      std::string status = store::as_text(r[5]);
      bool overdue = !store::is_null(r[8]) && store::as_int(r[8]) < now &&
                     (status == "open" || status == "suspended");
      items.push_back(json::object{{"id", id},
                                   {"no", store::as_text(r[1])},
                                   {"title", store::as_text(r[2])},
                                   {"type", store::as_text(r[3])},
                                   {"type_name", store::as_text(r[4])},
                                   {"status", status},
                                   {"priority", store::as_int(r[6])},
                                   {"created_at", store::as_int(r[7])},
                                   {"resolve_due", int_or_null(r[8])},
                                   {"overdue", overdue},
                                   {"customer_id", int_or_null(r[9])},
                                   {"escalation", store::as_int(r[10])},
                                   {"version", store::as_int(r[11])},
                                   {"creator_id", store::as_int(r[12])},
                                   {"current", current}});
    }
    out = json::object{{"items", items},
                       {"total", store::as_int(total.rows[0][0])},
                       {"page", page},
                       {"page_size", size}};
  });
  return out;
}

json::object TicketService::get(const Principal& who, int64_t id) const {
  json::object out;
  db_.read([&](store::Connection& c) {
    Loaded t = load(c, id, false);
    if (!visible(c, who, t)) throw Error::not_found("no ticket " + std::to_string(id), "id");
    auto row = c.exec(
                    "SELECT description, phone, call_id, channel, response_due, responded_at, "
                    "resolved_at, paused_at, "
                    "sla_left_ms, updated_at FROM ticket WHERE id = ?",
                    {id})
                   .rows[0];
    json::array tasks, events;
    for (auto& k : c.exec("SELECT k.seq, k.node, k.node_name, k.kind, k.status, k.staff_id, "
                          "s.name, k.group_id, o.name, "
                          "k.system, k.outcome, k.done_by, d.name, k.created_at, k.done_at, "
                          "k.due_at FROM ticket_task k "
                          "LEFT JOIN staff s ON s.id = k.staff_id LEFT JOIN org_unit o ON o.id = "
                          "k.group_id LEFT JOIN "
                          "staff d ON d.id = k.done_by WHERE k.ticket_id = ? ORDER BY k.seq",
                          {id})
                       .rows) {
      auto text = [&](int i) {
        return store::is_null(k[i]) ? json::value(nullptr) : json::value(store::as_text(k[i]));
      };
      const workflow::Task* live = t.inst.task(int(store::as_int(k[0])));
      tasks.push_back(json::object{
          {"task", store::as_int(k[0])},
          {"node", text(1)},
          {"node_name", text(2)},
          {"kind", text(3)},
          {"status", text(4)},
          {"staff_id", int_or_null(k[5])},
          {"staff_name", text(6)},
          {"group_id", int_or_null(k[7])},
          {"group_name", text(8)},
          {"system", text(9)},
          {"outcome", text(10)},
          {"done_by", int_or_null(k[11])},
          {"done_by_name", text(12)},
          {"created_at", store::as_int(k[13])},
          {"done_at", int_or_null(k[14])},
          {"due_at", int_or_null(k[15])},
          {"parent", live ? live->parent : 0},
          {"withdrawable", live && live->withdrawable && live->done_by == who.staff_id}});
    }
    for (auto& e : c.exec("SELECT e.at, e.staff_id, s.name, e.action, e.task_seq, e.node, e.detail "
                          "FROM ticket_event e LEFT "
                          "JOIN staff s ON s.id = e.staff_id WHERE e.ticket_id = ? ORDER BY e.id",
                          {id})
                       .rows)
      events.push_back(
          json::object{{"at", store::as_int(e[0])},
                       {"staff_id", store::as_int(e[1])},
                       {"staff_name", store::is_null(e[2]) ? "系统" : store::as_text(e[2])},
                       {"action", store::as_text(e[3])},
                       {"task", int_or_null(e[4])},
                       {"detail", parse_value(store::as_text(e[6]))}});
    json::array handoffs;  // 转外部系统: where each hand-off stands
    for (auto& h : c.exec("SELECT task_seq, system, attempts, delivered_at, last_error, next_at "
                          "FROM ticket_handoff WHERE "
                          "ticket_id = ? ORDER BY id",
                          {id})
                       .rows)
      handoffs.push_back(
          json::object{{"task", store::as_int(h[0])},
                       {"system", store::as_text(h[1])},
                       {"attempts", store::as_int(h[2])},
                       {"delivered_at", int_or_null(h[3])},
                       {"last_error", store::is_null(h[4]) ? json::value(nullptr)
                                                           : json::value(store::as_text(h[4]))},
                       {"next_at", int_or_null(h[5])}});
    // The diagram: the definition's nodes and transitions, the path taken, where the tokens are.
    auto def =
        c.exec("SELECT code, version, body FROM wf_definition WHERE id = ?", {t.def_id}).rows[0];
    json::array current, trail;
    for (auto& tk : t.inst.tokens) current.emplace_back(tk.node);
    for (auto& n : t.inst.trail) trail.emplace_back(n);
    int64_t now = clock_.now_ms();
    json::object sla{
        {"response_due", int_or_null(row[4])},
        {"responded_at", int_or_null(row[5])},
        {"resolve_due", t.resolve_due ? json::value(t.resolve_due) : json::value(nullptr)},
        {"paused", !store::is_null(row[7])},
        {"left_ms", !store::is_null(row[8]) ? json::value(store::as_int(row[8]))
                    : t.resolve_due         ? json::value(t.resolve_due - now)
                                            : json::value(nullptr)},
        {"overdue",
         t.resolve_due && t.resolve_due < now && (t.status == "open" || t.status == "suspended")},
        {"escalation", t.escalation}};
    out = json::object{
        {"id", id},
        {"no", t.no},
        {"type", t.type_text("code")},
        {"type_name", t.type_text("name")},
        {"title", t.title},
        {"description", store::as_text(row[0])},
        {"status", t.status},
        {"priority", t.priority},
        {"customer_id", t.customer_id ? json::value(t.customer_id) : json::value(nullptr)},
        {"phone",
         store::is_null(row[1]) ? json::value(nullptr) : json::value(store::as_text(row[1]))},
        {"call_id",
         store::is_null(row[2]) ? json::value(nullptr) : json::value(store::as_text(row[2]))},
        {"channel", t.channel},
        {"org_id", t.org_id},
        {"creator_id", t.creator_id},
        {"fields", t.fields},
        {"created_at", t.created_at},
        {"updated_at", store::as_int(row[9])},
        {"closed_at", t.closed_at ? json::value(t.closed_at) : json::value(nullptr)},
        {"version", t.version},
        {"sla", sla},
        {"tasks", tasks},
        {"history", events},
        {"handoffs", handoffs},
        {"workflow", json::object{{"code", store::as_text(def[0])},
                                  {"version", store::as_int(def[1])},
                                  {"definition", parse_value(store::as_text(def[2]))},
                                  {"current", current},
                                  {"trail", trail}}}};
  });
  return out;
}

json::array TicketService::types() const {
  json::array out;
  db_.read([&](store::Connection& c) {
    for (auto& r : c.exec("SELECT id, code, name, fields, resolve_amount, resolve_unit FROM "
                          "ticket_type WHERE archived = 0 "
                          "ORDER BY id")
                       .rows)
      out.push_back(
          json::object{{"id", store::as_int(r[0])},
                       {"code", store::as_text(r[1])},
                       {"name", store::as_text(r[2])},
                       {"fields", store::is_null(r[3]) ? json::value(json::array{})
                                                       : parse_value(store::as_text(r[3]))},
                       {"resolve_amount", int_or_null(r[4])},
                       {"resolve_unit", store::is_null(r[5]) ? "" : store::as_text(r[5])}});
  });
  return out;
}

json::object TicketService::counters(const Principal& who) const {
  json::object out;
  int64_t now = clock_.now_ms();
  db_.read([&](store::Connection& c) {
    auto todo = c.exec(
        "SELECT COUNT(DISTINCT k.ticket_id), COUNT(DISTINCT CASE WHEN t.resolve_due < ? AND "
        "t.status = 'open' "
        "THEN k.ticket_id END) FROM ticket_task k JOIN ticket t ON t.id = k.ticket_id WHERE "
        "k.status IN ('open', 'started') AND (k.staff_id = ? OR (k.group_id = ? AND k.staff_id IS "
        "NULL))",
        {now, who.staff_id, who.org_id});
    auto created = c.exec("SELECT COUNT(*) FROM ticket WHERE creator_id = ? AND status <> 'closed'",
                          {who.staff_id});
    out = json::object{{"todo", store::as_int(todo.rows[0][0])},
                       {"todo_overdue", store::as_int(todo.rows[0][1])},
                       {"created_open", store::as_int(created.rows[0][0])}};
  });
  return out;
}

}  // namespace kefu::ticket
