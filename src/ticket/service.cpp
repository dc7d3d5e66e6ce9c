#include "ticket/service.hpp"

#include <fmt/format.h>

#include <sstream>

#include "base/error.hpp"
#include "ticket/loaded.hpp"

namespace kefu::ticket {

using workflow::Event;
using workflow::Instance;

Options Options::from(const Config& c) {
  Options o;
  o.day_start_min = c.ticket_day_start_min;
  o.day_end_min = c.ticket_day_end_min;
  o.leader_roles.clear();
  std::stringstream ss(c.ticket_leader_roles);
  for (std::string r; std::getline(ss, r, ',');)
    if (!r.empty()) o.leader_roles.push_back(r);
  o.minute_ms = c.ticket_minute_ms;
  o.poll_ms = c.ticket_timer_poll_ms;
  if (!c.ticket_oa_url.empty()) o.systems["oa"] = {c.ticket_oa_url, c.ticket_oa_secret};
  return o;
}

TicketService::TicketService(store::Database& db, const Clock& clock, const audit::AuditLog& audit,
                             Options options)
    : db_(db), clock_(clock), audit_(audit), opt_(std::move(options)) {}

TicketService::~TicketService() {
  stop();
}

TicketFacts TicketService::Loaded::facts() const {
  TicketFacts f{id, org_id, creator_id, 0};
  if (auto v = fields.if_contains("complained_staff_id"); v && v->is_int64())
    f.excluded_staff = v->as_int64();
  return f;
}

json::object TicketService::Loaded::condition_fields() const {
  json::object f = fields;
  f["type"] = type.contains("code") ? type.at("code") : json::value("");
  f["priority"] = priority;
  f["channel"] = channel;
  f["has_customer"] = customer_id != 0;
  return f;
}

int64_t TicketService::Loaded::type_int(const char* key) const {
  auto v = type.if_contains(key);
  return v && v->is_int64() ? v->as_int64() : 0;
}

std::string TicketService::Loaded::type_text(const char* key) const {
  auto v = type.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string{};
}

// ---- definitions ------------------------------------------------------------------------------

namespace {

bool exists(store::Connection& c, const char* sql, const std::string& v) {
  return !c.exec(sql, {v}).empty();
}

// The fields a condition may read: the standard ones and every ticket type's own.
std::set<std::string> known_fields(store::Connection& c) {
  std::set<std::string> out{"type", "priority", "channel", "has_customer", "complained_staff_id"};
  for (auto& row : c.exec("SELECT fields FROM ticket_type WHERE archived = 0", {}).rows) {
    if (store::is_null(row[0])) continue;
    try {
      auto v = parse_value(store::as_text(row[0]));
      if (v.is_array())
        for (auto& f : v.as_array())
          if (f.is_object() && f.as_object().contains("key") && f.as_object().at("key").is_string())
            out.insert(std::string(f.as_object().at("key").as_string()));
    } catch (const std::exception&) {
    }
  }
  return out;
}

}  // namespace

json::object TicketService::save_definition(const Principal& who, const audit::Actor& actor,
                                            const json::object& body) {
  std::string code = string_field(body, "code", true, 40);
  if (code.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos)
    throw Error::validation(
        {{"code", "invalid_format", "a workflow code is lower-case letters, digits and _"}});
  auto it = body.find("definition");
  if (it == body.end())
    throw Error::validation({{"definition", "required", "definition is required"}});
  json::object out;
  db_.write([&](store::Connection& c) {
    auto fields = known_fields(c);
    workflow::Catalog cat;
    cat.role_exists = [&](const std::string& r) {
      return exists(c, "SELECT 1 FROM role WHERE code = ?", r);
    };
    cat.staff_exists = [&](const std::string& s) {
      return exists(c, "SELECT 1 FROM staff WHERE username = ?", s);
    };
    cat.org_exists = [&](const std::string& o) {
      return exists(c, "SELECT 1 FROM org_unit WHERE code = ?", o);
    };
    cat.field_exists = [&](const std::string& f) { return fields.count(f) > 0; };
    auto def = workflow::Definition::parse(it->value(), cat);
    auto r = c.exec("SELECT COALESCE(MAX(version), 0) FROM wf_definition WHERE code = ?", {code});
    int64_t version = store::as_int(r.rows[0][0]) + 1;
    std::string name = def.name().empty() ? code : def.name();
    int64_t now = clock_.now_ms();
    c.exec(
        "INSERT INTO wf_definition (code, version, name, body, created_at, created_by) VALUES (?, "
        "?, ?, ?, ?, ?)",
        {code, version, name, to_json(it->value()), now, who.staff_id});
    auto id = store::as_int(
        c.exec("SELECT id FROM wf_definition WHERE code = ? AND version = ?", {code, version})
            .rows[0][0]);
    audit_.append(
        c, actor,
        {"wf_definition", id, "create", json::object{{"code", code}, {"version", version}}});
    out = json::object{{"id", id}, {"code", code}, {"version", version}, {"name", name}};
  });
  return out;
}

json::array TicketService::definitions(const Principal&) const {
  json::array out;
  db_.read([&](store::Connection& c) {
    for (auto& row :
         c.exec(
              "SELECT d.id, d.code, d.version, d.name, d.created_at FROM wf_definition d WHERE "
              "d.version = "
              "(SELECT MAX(x.version) FROM wf_definition x WHERE x.code = d.code) ORDER BY d.code",
              {})
             .rows)
      out.push_back(json::object{{"id", store::as_int(row[0])},
                                 {"code", store::as_text(row[1])},
                                 {"version", store::as_int(row[2])},
                                 {"name", store::as_text(row[3])},
                                 {"created_at", store::as_int(row[4])}});
  });
  return out;
}

json::object TicketService::definition(const Principal&, const std::string& code,
                                       int64_t version) const {
  json::object out;
  db_.read([&](store::Connection& c) {
    auto r = version > 0 ? c.exec(
                               "SELECT id, version, name, body FROM wf_definition WHERE code = ? "
                               "AND version = ?",
                               {code, version})
                         : c.exec(
                               "SELECT id, version, name, body FROM wf_definition WHERE code = ? "
                               "ORDER BY version "
                               "DESC LIMIT 1",
                               {code});
    if (r.empty()) throw Error::not_found("no workflow " + code, "code");
    out = json::object{{"id", store::as_int(r.rows[0][0])},
                       {"code", code},
                       {"version", store::as_int(r.rows[0][1])},
                       {"name", store::as_text(r.rows[0][2])},
                       {"definition", parse_value(store::as_text(r.rows[0][3]))}};
  });
  return out;
}

std::shared_ptr<const workflow::Definition> TicketService::definition_of(store::Connection& c,
                                                                         int64_t id) const {
  // A stored version never changes, so each is parsed once per process.
  {
    std::lock_guard lock(definitions_mu_);
    if (auto it = definitions_.find(id); it != definitions_.end()) return it->second;
  }
  auto r = c.exec("SELECT body FROM wf_definition WHERE id = ?", {id});
  if (r.empty()) throw Error::internal("workflow definition " + std::to_string(id) + " is missing");
  // Checked on save; what it names may have gone since, which the resolver meets at run time.
  auto def = std::make_shared<const workflow::Definition>(
      workflow::Definition::parse(parse_value(store::as_text(r.rows[0][0])), workflow::Catalog{}));
  std::lock_guard lock(definitions_mu_);
  return definitions_.emplace(id, std::move(def)).first->second;
}

workflow::BusinessCalendar TicketService::calendar(store::Connection& c) const {
  std::set<int> holidays, workdays;
  for (auto& row : c.exec("SELECT dict_type, code FROM dict_item WHERE dict_type IN ('holiday', "
                          "'workday') AND archived = 0",
                          {})
                       .rows) {
    int d = int(store::as_int(row[1]));
    (store::as_text(row[0]) == "holiday" ? holidays : workdays).insert(d);
  }
  return workflow::BusinessCalendar(std::move(holidays), std::move(workdays), opt_.day_start_min,
                                    opt_.day_end_min);
}

// ---- loading and storing ----------------------------------------------------------------------

namespace {
// NULL for 0 or "": optional references and times.
store::Value nullable(int64_t v) {
  return v ? store::Value(v) : store::Value();
}
store::Value nullable(const std::string& v) {
  return v.empty() ? store::Value() : store::Value(v);
}
}  // namespace

TicketService::Loaded TicketService::load(store::Connection& c, int64_t id, bool for_update) const {
  std::string sql = std::string("SELECT ") + kTicketColumns + " FROM ticket t WHERE t.id = ?";
  if (for_update && c.dialect() == store::Dialect::postgres) sql += " FOR UPDATE";
  auto r = c.exec(sql, {id});
  if (r.empty()) throw Error::not_found("no ticket " + std::to_string(id), "id");
  auto& row = r.rows[0];
  Loaded t;
  int64_t* ints[] = {&t.id,        &t.type_id,   &t.org_id,     &t.creator_id,  &t.customer_id,
                     &t.version,   &t.def_id,    &t.created_at, &t.resolve_due, &t.responded_at,
                     &t.closed_at, &t.paused_at, &t.sla_left,   &t.escalation,  &t.priority};
  for (size_t i = 0; i < std::size(ints); ++i)
    *ints[i] = store::is_null(row[i]) ? 0 : store::as_int(row[i]);
  t.no = store::as_text(row[15]);
  t.status = store::as_text(row[16]);
  t.org_path = store::as_text(row[17]);
  t.title = store::as_text(row[18]);
  t.channel = store::is_null(row[19]) ? "" : store::as_text(row[19]);
  t.fields = parse_value(store::as_text(row[20])).as_object();
  t.inst = Instance::from_json(parse_value(store::as_text(row[21])));
  auto ty = c.exec(
      "SELECT code, name, workflow, prefix, response_minutes, resolve_amount, resolve_unit, "
      "remind_before_minutes, escalate_every_minutes, reopen_days, fields, done_sms_template, done_email_template FROM "
      "ticket_type WHERE "
      "id = ?",
      {t.type_id});
  if (!ty.empty()) {
    for (size_t i = 0; i < ty.columns.size(); ++i) {
      auto& v = ty.rows[0][i];
      if (store::is_null(v)) continue;
      if (std::holds_alternative<int64_t>(v))
        t.type[ty.columns[i]] = std::get<int64_t>(v);
      else
        t.type[ty.columns[i]] = store::as_text(v);
    }
  }
  return t;
}

bool TicketService::visible(store::Connection& c, const Principal& who, const Loaded& t) const {
  if (t.creator_id == who.staff_id) return true;
  if (who.has("ticket:read") && in_data_scope(who, t.org_id, t.org_path)) return true;
  // Whoever holds or held one of its tasks, himself or through his unit's queue.
  return !c.exec(
               "SELECT 1 FROM ticket_task WHERE ticket_id = ? AND (staff_id = ? OR done_by = ? OR "
               "group_id = ?) LIMIT 1",
               {t.id, who.staff_id, who.staff_id, who.org_id})
              .empty();
}

void TicketService::event(store::Connection& c, int64_t ticket, int64_t staff,
                          const std::string& action, int64_t task, const std::string& node,
                          const json::object& detail) const {
  c.exec(
      "INSERT INTO ticket_event (ticket_id, at, staff_id, action, task_seq, node, detail) VALUES "
      "(?, ?, ?, ?, ?, ?, ?)",
      {ticket, clock_.now_ms(), staff, action, task ? store::Value(task) : store::Value(),
       node.empty() ? store::Value() : store::Value(node), to_json(detail)});
}

void TicketService::arm_sla(store::Connection& c, int64_t ticket, int64_t due,
                            int64_t remind_before_ms) const {
  c.exec("DELETE FROM ticket_timer WHERE ticket_id = ? AND kind IN ('remind', 'overdue')",
         {ticket});
  if (!due) return;
  int64_t now = clock_.now_ms();
  if (remind_before_ms > 0 && due - remind_before_ms > now)
    c.exec(
        "INSERT INTO ticket_timer (ticket_id, kind, token, level, fires_at) VALUES (?, 'remind', "
        "0, 0, ?)",
        {ticket, due - remind_before_ms});
  c.exec(
      "INSERT INTO ticket_timer (ticket_id, kind, token, level, fires_at) VALUES (?, 'overdue', 0, "
      "1, ?)",
      {ticket, due});
}

workflow::Step TicketService::step(store::Connection& c, Loaded& t, const Event& e, int64_t by) {
  auto def = definition_of(c, t.def_id);
  TicketFacts facts = t.facts();
  workflow::Context ctx{t.condition_fields(), by, clock_.now_ms(),
                        [&](const workflow::AssigneeRule& r, int64_t previous) {
                          return resolve(c, facts, r, previous);
                        }};
  return workflow::apply(*def, t.inst, e, ctx);
}

void TicketService::persist(store::Connection& c, Loaded& t, const workflow::Step& s, int64_t by,
                            const std::string& action, const json::object& detail,
                            int64_t expected_version) {
  int64_t now = clock_.now_ms();
  auto def = definition_of(c, t.def_id);
  const Instance& before = t.inst;
  const Instance& after = s.next;
  std::string status = t.status;
  if (after.status == "ended")
    status = "closed";
  else if (after.status == "suspended")
    status = "suspended";
  else if (status == "closed" || status == "suspended")
    status = "open";
  bool closing = status == "closed" && t.status != "closed";
  bool reopening = t.status == "closed" && status != "closed";
  auto r = c.exec(
      "UPDATE ticket SET wf_state = ?, status = ?, fields = ?, updated_at = ?, version = version + "
      "1, "
      "closed_at = ?, resolved_at = ? WHERE id = ? AND version = ?",
      {to_json(after.to_json()), status, to_json(t.fields), now,
       closing     ? store::Value(now)
       : reopening ? store::Value()
                   : (t.closed_at ? store::Value(t.closed_at) : store::Value()),
       closing ? store::Value(now) : store::Value(), t.id, expected_version});
  if (r.affected == 0)
    throw Error::conflict("stale_version",
                          "the ticket was changed meanwhile; reload it and try again", "version");
  if (closing && closed_ && (!t.type_text("done_sms_template").empty() ||
                             !t.type_text("done_email_template").empty())) {
    auto ph = c.exec("SELECT phone FROM ticket WHERE id = ?", {t.id});
    Closed k{t.id, t.customer_id, by, now, t.no, t.title,
             ph.empty() || store::is_null(ph.rows[0][0]) ? "" : store::as_text(ph.rows[0][0]),
             t.type_text("done_sms_template"), t.type_text("done_email_template")};
    auto sent = closed_(c, k);
    if (!sent.empty()) event(c, t.id, by, "customer.notified", 0, "", json::object{{"messages", sent}});
  }
  // The task rows follow the instance: new ones inserted, changed ones updated.
  auto calendar_ = calendar(c);
  for (auto& task : after.tasks) {
    const workflow::Task* old = before.task(task.id);
    const workflow::Node& node = def->node(task.node);
    store::Value staff = nullable(task.assignee.staff_id), group = nullable(task.assignee.group_id);
    store::Value system = nullable(task.assignee.system), done_by = nullable(task.done_by);
    store::Value done_at = nullable(task.live() ? 0 : now);
    if (!old) {
      bool timed = node.sla_hours > 0 && task.kind != workflow::TaskKind::opinion;
      store::Value due = nullable(
          timed ? calendar_.add_business(now, int64_t(node.sla_hours * 60 * double(opt_.minute_ms)))
                : 0);
      c.exec(
          "INSERT INTO ticket_task (ticket_id, seq, node, node_name, kind, status, staff_id, "
          "group_id, system, outcome, "
          "done_by, created_at, done_at, due_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          {t.id, int64_t(task.id), task.node, node.name, workflow::to_string(task.kind),
           workflow::to_string(task.status), staff, group, system, task.outcome, done_by, now,
           done_at, due});
    } else if (old->status != task.status || !(old->assignee == task.assignee) ||
               old->outcome != task.outcome) {
      c.exec(
          "UPDATE ticket_task SET status = ?, staff_id = ?, group_id = ?, outcome = ?, done_by = "
          "?, done_at = ? "
          "WHERE ticket_id = ? AND seq = ?",
          {workflow::to_string(task.status), staff, group, task.outcome, done_by, done_at, t.id,
           int64_t(task.id)});
    }
  }
  for (auto& fx : s.effects) {
    if (fx.kind == workflow::Effect::Kind::timer_set)
      c.exec(
          "INSERT INTO ticket_timer (ticket_id, kind, token, level, fires_at) VALUES (?, 'wf', ?, "
          "0, ?)",
          {t.id, int64_t(fx.token), fx.at});
    else if (fx.kind == workflow::Effect::Kind::external_send) {
      const std::string& system = after.task(fx.task)->assignee.system;
      json::object ticket{
          {"id", t.id},
          {"no", t.no},
          {"title", t.title},
          {"type", t.type_text("code")},
          {"priority", t.priority},
          {"customer_id", t.customer_id ? json::value(t.customer_id) : json::value(nullptr)},
          {"fields", t.fields}};
      json::object body{{"ticket", ticket},
                        {"task", fx.task},
                        {"node", fx.node},
                        {"node_name", def->node(fx.node).name},
                        {"system", system},
                        {"complete", "/api/v1/tickets/" + std::to_string(t.id) + "/tasks/" +
                                         std::to_string(fx.task) + "/external-complete"}};
      c.exec(
          "INSERT INTO ticket_handoff (ticket_id, task_seq, system, body, created_at, next_at) "
          "VALUES (?, ?, ?, "
          "?, ?, ?)",
          {t.id, int64_t(fx.task), system, to_json(body), now, now});
      event(c, t.id, 0, "external.sent", fx.task, fx.node, json::object{{"system", system}});
    }
  }
  if (closing) {
    c.exec("DELETE FROM ticket_timer WHERE ticket_id = ?", {t.id});
  }
  event(c, t.id, by, action, detail.contains("task") ? detail.at("task").to_number<int64_t>() : 0,
        "", detail);
  t.inst = after;
  t.status = status;
  t.version = expected_version + 1;
}

// ---- creating ---------------------------------------------------------------------------------

namespace {

// The ticket's own fields against its type's list: unknown keys, required ones, kinds, options.
void check_fields(const json::object& type, json::object& fields, bool creating) {
  json::array spec;
  if (auto f = type.if_contains("fields"); f && f->is_string()) {
    try {
      auto v = parse_value(f->as_string());
      if (v.is_array()) spec = v.as_array();
    } catch (const std::exception&) {
    }
  }
  std::vector<FieldError> errors;
  std::set<std::string> keys{"complained_staff_id"};
  for (auto& s : spec) {
    if (!s.is_object()) continue;
    const auto& o = s.as_object();
    std::string key = get_string(o, "key").value_or(""),
                kind = get_string(o, "type").value_or("string");
    keys.insert(key);
    auto v = fields.if_contains(key);
    bool required =
        o.contains("required") && o.at("required").is_bool() && o.at("required").as_bool();
    if (!v || v->is_null() || (v->is_string() && v->as_string().empty())) {
      if (required && creating)
        errors.push_back({"fields." + key, "required", key + " is required"});
      continue;
    }
    bool ok = kind == "integer"   ? v->is_int64()
              : kind == "boolean" ? v->is_bool()
                                  : v->is_string() && v->as_string().size() <= 2000;
    if (!ok)
      errors.push_back({"fields." + key, "wrong_type", key + " must be " + kind});
    else if (kind == "enum" && o.contains("options") && o.at("options").is_array()) {
      bool found = false;
      for (auto& opt : o.at("options").as_array()) found |= opt == *v;
      if (!found)
        errors.push_back({"fields." + key, "invalid_option", key + " is not one of its options"});
    }
  }
  for (auto& [k, v] : fields)
    if (!keys.count(std::string(k)))
      errors.push_back({"fields." + std::string(k), "unknown_field",
                        "the ticket type has no field " + std::string(k)});
  if (auto v = fields.if_contains("complained_staff_id"); v && !v->is_int64() && !v->is_null())
    errors.push_back(
        {"fields.complained_staff_id", "wrong_type", "complained_staff_id is a staff id"});
  if (!errors.empty()) throw Error::validation(std::move(errors));
}

}  // namespace

json::object TicketService::create(store::Connection& c, const Principal& who,
                                   const audit::Actor& actor, const json::object& body) {
  only_fields(body, {"type", "title", "description", "priority", "customer_id", "phone", "call_id",
                     "channel", "fields"});
  std::string type_code = string_field(body, "type", true, 32);
  std::string title = string_field(body, "title", true, 200);
  std::string description = string_field(body, "description", false, 4000);
  std::string phone = string_field(body, "phone", false, 30);
  std::string call_id = string_field(body, "call_id", false, 64);
  std::string channel = string_field(body, "channel", false, 20);
  if (!channel.empty() && channel != "phone" && channel != "chat" && channel != "email" &&
      channel != "voicemail" && channel != "ivr" && channel != "api" && channel != "letter" &&
      channel != "web")
    throw Error::validation(
        {{"channel", "invalid_option",
          "channel is phone, chat, email, voicemail, ivr, api, letter or web"}});
  int64_t priority = get_int(body, "priority").value_or(2);
  if (priority < 1 || priority > 4)
    throw Error::validation({{"priority", "out_of_range", "priority is 1 (urgent) to 4 (low)"}});
  json::object fields;
  if (auto f = body.if_contains("fields"); f && !f->is_null()) {
    if (!f->is_object()) throw Error::validation({{"fields", "wrong_type", "fields is an object"}});
    fields = f->as_object();
  }
  auto ty = c.exec("SELECT id, workflow, prefix FROM ticket_type WHERE code = ? AND archived = 0",
                   {type_code});
  if (ty.empty())
    throw Error::validation({{"type", "unknown_type", "no ticket type " + type_code}});
  int64_t type_id = store::as_int(ty.rows[0][0]);
  std::string workflow_code = store::as_text(ty.rows[0][1]), prefix = store::as_text(ty.rows[0][2]);
  auto def = c.exec("SELECT id FROM wf_definition WHERE code = ? ORDER BY version DESC LIMIT 1",
                    {workflow_code});
  if (def.empty())
    throw Error::conflict(
        "no_workflow",
        "ticket type " + type_code + " names workflow " + workflow_code + ", which does not exist",
        "type");

  int64_t customer_id = get_int(body, "customer_id").value_or(0);
  int64_t org_id = who.org_id;
  if (customer_id) {
    auto cu = c.exec("SELECT org_id FROM crm_customer WHERE id = ?", {customer_id});
    if (cu.empty())
      throw Error::validation({{"customer_id", "unknown_reference", "no such customer"}});
    if (!store::is_null(cu.rows[0][0]))
      org_id = store::as_int(cu.rows[0][0]);  // the customer's branch owns it
  }
  auto op = c.exec("SELECT path FROM org_unit WHERE id = ?", {org_id});
  std::string org_path = op.empty() ? "/" : store::as_text(op.rows[0][0]);

  int64_t now = clock_.now_ms();
  auto cal = calendar(c);
  int day = cal.local_date(now);
  auto n = c.exec(
      "INSERT INTO ticket_counter (day, last) VALUES (?, 1) ON CONFLICT (day) DO UPDATE SET last = "
      "ticket_counter.last + 1 RETURNING last",
      {int64_t(day)});
  std::string no = fmt::format("{}{}{:06d}", prefix, day, store::as_int(n.rows[0][0]));

  c.exec(
      "INSERT INTO ticket (no, type_id, title, description, status, priority, customer_id, phone, "
      "call_id, channel, "
      "org_id, org_path, creator_id, fields, wf_definition_id, wf_state, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, '{}', ?, ?)",
      {no, type_id, title, description, priority,
       customer_id ? store::Value(customer_id) : store::Value(),
       phone.empty() ? store::Value() : store::Value(phone),
       call_id.empty() ? store::Value() : store::Value(call_id),
       channel.empty() ? store::Value() : store::Value(channel), org_id, org_path, who.staff_id,
       store::as_int(def.rows[0][0]), now, now});
  int64_t id = store::as_int(c.exec("SELECT id FROM ticket WHERE no = ?", {no}).rows[0][0]);
  Loaded t = load(c, id, true);
  check_fields(t.type, fields, true);
  t.fields = fields;

  // Deadlines: the response in business minutes, the resolution by the type's rule.
  int64_t minute = opt_.minute_ms;
  int64_t response_due = t.type_int("response_minutes")
                             ? cal.add_business(now, t.type_int("response_minutes") * minute)
                             : 0;
  int64_t amount = t.type_int("resolve_amount");
  std::string unit = t.type_text("resolve_unit");
  int64_t resolve_due = !amount                   ? 0
                        : unit == "calendar_days" ? now + amount * 1440 * minute
                        : unit == "minutes"       ? now + amount * minute
                                                  : cal.add_business(now, amount * 60 * minute);
  c.exec("UPDATE ticket SET response_due = ?, resolve_due = ? WHERE id = ?",
         {response_due ? store::Value(response_due) : store::Value(),
          resolve_due ? store::Value(resolve_due) : store::Value(), id});
  t.resolve_due = resolve_due;

  Event start;
  start.kind = Event::Kind::start;
  auto s = step(c, t, start, who.staff_id);
  persist(c, t, s, who.staff_id, "create",
          json::object{{"no", no}, {"type", type_code}, {"title", title}}, t.version);
  arm_sla(c, id, resolve_due, t.type_int("remind_before_minutes") * minute);
  audit_.append(
      c, actor,
      {"ticket", id, "create", json::object{{"no", no}, {"type", type_code}, {"title", title}}});
  if (customer_id && contact_) contact_(c, customer_id, now, who.staff_id, id, no + " " + title);
  return json::object{{"id", id}, {"no", no}, {"status", t.status}, {"version", t.version}};
}

// ---- acting -----------------------------------------------------------------------------------

namespace {

bool holds(const workflow::Task& t, const Principal& who) {
  return (t.assignee.staff_id && t.assignee.staff_id == who.staff_id) ||
         (!t.assignee.staff_id && t.assignee.group_id && t.assignee.group_id == who.org_id);
}

}  // namespace

json::object TicketService::act(store::Connection& c, const Principal& who,
                                const audit::Actor& actor, int64_t id, const std::string& action,
                                const json::object& body) {
  Loaded t = load(c, id, true);
  if (!visible(c, who, t)) throw Error::not_found("no ticket " + std::to_string(id), "id");
  int64_t now = clock_.now_ms();

  if (action == "note" || action == "reply") {  // 内部备注 / 答复客户: history only, no version
    only_fields(body, {"text", "version"});
    std::string text = string_field(body, "text", true, 4000);
    event(c, id, who.staff_id, action, 0, "", json::object{{"text", text}});
    audit_.append(c, actor, {"ticket", id, action, json::object{{"length", int64_t(text.size())}}});
    return json::object{{"id", id}, {"version", t.version}};
  }

  only_fields(body,
              {"version", "task", "outcome", "fields", "node", "to_staff", "to_group", "comment"});
  auto version = get_int(body, "version");
  if (!version)
    throw Error::validation({{"version", "required", "send the version of the ticket you read"}});
  if (*version != t.version)
    throw Error::conflict("stale_version",
                          "the ticket was changed meanwhile; reload it and try again", "version");
  std::string comment = string_field(body, "comment", false, 2000);
  int task_no = int(get_int(body, "task").value_or(0));
  const workflow::Task* task = task_no ? t.inst.task(task_no) : nullptr;
  auto need_task = [&]() -> const workflow::Task& {
    if (!task)
      throw Error::validation(
          {{"task", task_no ? "unknown_task" : "required", "name one of the ticket's tasks"}});
    return *task;
  };
  bool manager = who.has("ticket:manage");
  auto holder_of_some = [&] {
    for (auto& k : t.inst.tasks)
      if (k.live() && holds(k, who)) return true;
    return false;
  };
  auto to_assignee = [&]() {
    workflow::Assignee a;
    if (auto s = get_string(body, "to_staff")) {
      auto r = c.exec("SELECT id FROM staff WHERE username = ? AND status = 'active'", {*s});
      if (r.empty())
        throw Error::validation({{"to_staff", "unknown_staff", "no active staff member " + *s}});
      a.staff_id = store::as_int(r.rows[0][0]);
    } else if (auto g = get_string(body, "to_group")) {
      auto r = c.exec("SELECT id FROM org_unit WHERE code = ?", {*g});
      if (r.empty())
        throw Error::validation({{"to_group", "unknown_org", "no organisation unit " + *g}});
      a.group_id = store::as_int(r.rows[0][0]);
    } else {
      throw Error::validation(
          {{"to_staff", "required", "name the staff member (to_staff) or unit (to_group)"}});
    }
    if (a.staff_id && a.staff_id == t.facts().excluded_staff)
      throw Error::validation({{"to_staff", "complained_about",
                                "the person complained about may not handle the complaint"}});
    return a;
  };

  Event e;
  e.task = task_no;
  json::object detail{{"task", task_no}};
  if (!comment.empty()) detail["comment"] = comment;
  if (action == "claim") {
    const auto& k = need_task();
    if (!holds(k, who)) throw Error::forbidden("the task is not yours or your unit's", "not_yours");
    if (who.staff_id == t.facts().excluded_staff)
      throw Error::forbidden("the person complained about may not handle the complaint",
                             "complained_about");
    e.kind = Event::Kind::claim;
  } else if (action == "complete") {
    const auto& k = need_task();
    if (k.assignee.staff_id != who.staff_id)
      throw Error::forbidden(
          k.assignee.group_id ? "claim the task from the queue first" : "the task is not yours",
          k.assignee.group_id ? "claim_first" : "not_yours");
    e.kind = Event::Kind::complete;
    e.outcome = string_field(body, "outcome", false, 500);
    if (auto f = body.if_contains("fields"); f && !f->is_null()) {
      if (!f->is_object())
        throw Error::validation({{"fields", "wrong_type", "fields is an object"}});
      json::object merged = t.fields;
      for (auto& [k2, v] : f->as_object()) merged[k2] = v;
      check_fields(t.type, merged, false);
      t.fields = merged;
      detail["fields"] = f->as_object();
    }
    auto def = definition_of(c, t.def_id);
    std::vector<FieldError> missing;
    for (auto& key : def->node(k.node).form) {
      auto v = t.fields.if_contains(key);
      if (!v || v->is_null() || (v->is_string() && v->as_string().empty()))
        missing.push_back({"fields." + key, "required", "this step's form needs " + key});
    }
    if (!missing.empty() && k.kind != workflow::TaskKind::opinion)
      throw Error::validation(std::move(missing));
    if (!e.outcome.empty()) detail["outcome"] = e.outcome;
  } else if (action == "return") {
    const auto& k = need_task();
    if (k.assignee.staff_id != who.staff_id)
      throw Error::forbidden("the task is not yours", "not_yours");
    e.kind = Event::Kind::return_to;
    e.node = string_field(body, "node", true, 40);
    detail["node"] = e.node;
  } else if (action == "transfer" || action == "consult") {
    const auto& k = need_task();
    if (!holds(k, who) && !manager) throw Error::forbidden("the task is not yours", "not_yours");
    e.kind = action == "transfer" ? Event::Kind::transfer : Event::Kind::consult;
    e.to = to_assignee();
    detail["to"] = json::object{{"staff_id", e.to.staff_id}, {"group_id", e.to.group_id}};
  } else if (action == "withdraw") {
    need_task();
    e.kind = Event::Kind::withdraw;
  } else if (action == "suspend" || action == "resume") {
    if (t.creator_id != who.staff_id && !holder_of_some() && !manager)
      throw Error::forbidden("only the creator, a holder or a ticket manager may " + action + " it",
                             "not_yours");
    e.kind = action == "suspend" ? Event::Kind::suspend : Event::Kind::resume;
  } else if (action == "wait_customer" || action == "customer_replied") {
    // 等待客户: the SLA clock stops while the customer owes an answer; the process stays where it
    // is.
    if (t.creator_id != who.staff_id && !holder_of_some() && !manager)
      throw Error::forbidden("only the creator or a holder may do that", "not_yours");
    bool waiting = action == "wait_customer";
    if (waiting != (t.status == "open"))
      throw Error::conflict("wrong_status", "the ticket is " + t.status);
    auto cal = calendar(c);
    std::string unit = t.type_text("resolve_unit");
    auto u = unit == "business_hours" ? workflow::SlaUnit::business_hours
                                      : workflow::SlaUnit::calendar_days;
    if (waiting) {
      int64_t left = t.resolve_due ? cal.remaining(now, t.resolve_due, u) : 0;
      c.exec(
          "UPDATE ticket SET status = 'waiting_customer', paused_at = ?, sla_left_ms = ?, version "
          "= version + 1, "
          "updated_at = ? WHERE id = ?",
          {now, left, now, id});
      c.exec("DELETE FROM ticket_timer WHERE ticket_id = ? AND kind IN ('remind', 'overdue')",
             {id});
    } else {
      int64_t due = t.resolve_due ? cal.deadline_after(now, t.sla_left, u) : 0;
      c.exec(
          "UPDATE ticket SET status = 'open', paused_at = NULL, sla_left_ms = NULL, resolve_due = "
          "?, version = version "
          "+ 1, updated_at = ? WHERE id = ?",
          {due ? store::Value(due) : store::Value(), now, id});
      arm_sla(c, id, due, t.type_int("remind_before_minutes") * opt_.minute_ms);
      detail["resolve_due"] = due;
    }
    event(c, id, who.staff_id, action, 0, "", detail);
    audit_.append(c, actor, {"ticket", id, action, detail});
    return json::object{{"id", id}, {"version", t.version + 1}};
  } else if (action == "reopen") {
    if (t.creator_id != who.staff_id && !manager)
      throw Error::forbidden("only the creator or a ticket manager may reopen it", "not_yours");
    int64_t days = t.type.contains("reopen_days") ? t.type_int("reopen_days") : 7;
    if (t.status == "closed" && now - t.closed_at > days * 86'400'000)
      throw Error::conflict("reopen_expired", "a ticket may be reopened within " +
                                                  std::to_string(days) + " days of closing");
    e.kind = Event::Kind::reopen;
  } else {
    throw Error::not_found("no action " + action, "action");
  }

  if (task && task->live() && !t.responded_at)
    c.exec("UPDATE ticket SET responded_at = ? WHERE id = ?", {now, id});
  auto s = step(c, t, e, who.staff_id);
  bool paused_before = t.status == "suspended";
  persist(c, t, s, who.staff_id, action, detail, t.version);
  // Suspension stops the SLA clock like waiting for the customer.
  if (action == "suspend" || action == "resume") {
    auto cal = calendar(c);
    auto u = t.type_text("resolve_unit") == "business_hours" ? workflow::SlaUnit::business_hours
                                                             : workflow::SlaUnit::calendar_days;
    if (action == "suspend" && t.resolve_due) {
      c.exec("UPDATE ticket SET paused_at = ?, sla_left_ms = ? WHERE id = ?",
             {now, cal.remaining(now, t.resolve_due, u), id});
      c.exec("DELETE FROM ticket_timer WHERE ticket_id = ? AND kind IN ('remind', 'overdue')",
             {id});
    } else if (action == "resume" && paused_before && t.resolve_due) {
      int64_t due = cal.deadline_after(now, t.sla_left, u);
      c.exec("UPDATE ticket SET paused_at = NULL, sla_left_ms = NULL, resolve_due = ? WHERE id = ?",
             {due, id});
      arm_sla(c, id, due, t.type_int("remind_before_minutes") * opt_.minute_ms);
    }
  }
  if (action == "reopen") arm_sla(c, id, t.resolve_due, 0);
  audit_.append(c, actor, {"ticket", id, action, detail});
  return json::object{{"id", id}, {"status", t.status}, {"version", t.version}};
}

json::object TicketService::complete_external(store::Connection& c, const Principal& who,
                                              const audit::Actor& actor, int64_t id,
                                              int64_t task_no, const json::object& body) {
  only_fields(body, {"outcome", "fields", "comment"});
  Loaded t = load(c, id, true);
  const workflow::Task* k = t.inst.task(int(task_no));
  if (!k || k->kind != workflow::TaskKind::external)
    throw Error::not_found("no outside task " + std::to_string(task_no), "task");
  if (auto f = body.if_contains("fields"); f && f->is_object()) {
    json::object merged = t.fields;
    for (auto& [key, v] : f->as_object()) merged[key] = v;
    check_fields(t.type, merged, false);
    t.fields = merged;
  }
  Event e;
  e.kind = Event::Kind::complete;
  e.task = int(task_no);
  e.outcome = string_field(body, "outcome", false, 500);
  json::object detail{{"task", task_no}, {"system", k->assignee.system}, {"outcome", e.outcome}};
  if (auto cm = get_string(body, "comment")) detail["comment"] = *cm;
  auto s = step(c, t, e, who.staff_id);
  persist(c, t, s, who.staff_id, "external.completed", detail, t.version);
  audit_.append(c, actor, {"ticket", id, "external.complete", detail});
  return json::object{{"id", id}, {"status", t.status}, {"version", t.version}};
}

}  // namespace kefu::ticket
