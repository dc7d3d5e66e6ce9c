#include "crm/serving.hpp"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <set>

#include "base/error.hpp"
#include "base/json.hpp"
#include "base/text.hpp"
#include "crm/service.hpp"
#include "store/sql.hpp"

namespace kefu::crm {

bool EnumerationGuard::miss(const std::string& session, int64_t now) {
  std::lock_guard lk(mu_);
  if (sessions_.size() > 10'000) forget_idle(now);
  Session& s = sessions_[session];
  s.misses.push_back(now);
  while (!s.misses.empty() && s.misses.front() <= now - opt_.miss_window_ms) s.misses.pop_front();
  if (int(s.misses.size()) < opt_.misses_to_alert || s.refused_until > now) return false;
  s.refused_until = now + opt_.throttle_ms;
  s.misses.clear();
  return true;
}

bool EnumerationGuard::throttled(const std::string& session, int64_t now) const {
  std::lock_guard lk(mu_);
  auto it = sessions_.find(session);
  return it != sessions_.end() && it->second.refused_until > now;
}

void EnumerationGuard::forget_idle(int64_t now) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    bool idle =
        it->second.refused_until <= now &&
        (it->second.misses.empty() || it->second.misses.back() <= now - opt_.miss_window_ms);
    it = idle ? sessions_.erase(it) : std::next(it);
  }
}

}  // namespace kefu::crm

// ---- the customer file's side (CustomerService) ----

namespace kefu::crm {

using store::Value;

void CustomerService::serve_through(InteractionLookup lookup, const ServingOptions& opt) {
  interaction_ = std::move(lookup);
  serving_ = opt;
  guard_ = std::make_unique<EnumerationGuard>(opt);
}

void CustomerService::refuse_if_throttled(const Principal& who) const {
  if (guard_->throttled(who.session_hash, clock_.now_ms()))
    throw Error(429, "throttled",
                "too many customers that do not exist or are not yours were asked for; try later");
}

// Every miss counts toward the session's enumeration alarm: the alert goes to the server log at
// once and to the operation log (which compliance reads) at the next request, outside any
// transaction — a miss can happen inside a write, which must not wait for another.
void CustomerService::not_found(const Principal& who) const {
  note_miss(who);
  throw Error::not_found("no such customer", "id");
}

void CustomerService::note_miss(const Principal& who) const {
  if (!guard_->miss(who.session_hash, clock_.now_ms())) return;
  spdlog::warn("crm: {} asked for {} customers not his within {} s: session throttled",
               who.username, serving_.misses_to_alert, serving_.miss_window_ms / 1000);
  std::lock_guard lk(alerts_mu_);
  pending_alerts_.push_back(audit::Actor::of(who));
}

void CustomerService::record_alerts() const {
  std::vector<audit::Actor> alerts;
  {
    std::lock_guard lk(alerts_mu_);
    alerts.swap(pending_alerts_);
  }
  if (alerts.empty()) return;
  db_.write([&](store::Connection& c) {
    for (auto& actor : alerts)
      audit_.append(c, actor,
                    {"crm_customer", 0, "serve.enumeration",
                     json::object{{"misses", serving_.misses_to_alert},
                                  {"window_s", serving_.miss_window_ms / 1000},
                                  {"throttled_s", serving_.throttle_ms / 1000}}});
  });
}

std::string CustomerService::serving_basis(store::Connection& c, const Principal& who,
                                           int64_t id) const {
  int64_t now = clock_.now_ms();
  if (interaction_) {
    std::vector<std::string> numbers;
    for (auto& r : c.exec("SELECT number FROM crm_phone WHERE customer_id = ?", {id}).rows)
      numbers.push_back(store::as_text(r[0]));
    std::string basis = interaction_(c, who.staff_id, id, numbers, now - serving_.grace_ms);
    if (!basis.empty()) return basis;
  }
  auto r = c.exec(
      "SELECT id FROM crm_emergency_access WHERE staff_id = ? AND customer_id = ? AND until_at > ? "
      "ORDER BY id DESC LIMIT 1",
      {who.staff_id, id, now});
  return r.empty() ? "" : "emergency:" + store::as_text(r.rows[0][0]);
}

bool CustomerService::in_scope(store::Connection& c, const Principal& who, int64_t id) const {
  std::string where = "c.id = ?";
  std::vector<Value> params{id};
  scope_sql(who, where, params);
  return !c.exec("SELECT 1 FROM crm_customer c WHERE " + where, params).empty();
}

std::string CustomerService::check_readable(store::Connection& c, const Principal& who, int64_t id,
                                            bool serving) const {
  refuse_if_throttled(who);
  if (in_scope(c, who, id)) return "";
  if (serving && who.has("crm:serve") &&
      !c.exec("SELECT 1 FROM crm_customer WHERE id = ?", {id}).empty()) {
    std::string basis = serving_basis(c, who, id);
    if (!basis.empty()) return basis;
  }
  not_found(who);
}

store::Result CustomerService::on_interaction_or_in_scope(
    store::Connection& c, const Principal& who, store::Result rows,
    std::vector<std::pair<int64_t, std::string>>& opened) const {
  if (rows.empty()) return rows;
  std::string where = "c.id IN (";
  std::vector<Value> params;
  for (size_t i = 0; i < rows.size(); ++i) {
    where += i ? ", ?" : "?";
    params.push_back(rows.rows[i][0]);
  }
  where += ")";
  scope_sql(who, where, params);
  std::set<int64_t> mine;
  for (auto& r : c.exec("SELECT c.id FROM crm_customer c WHERE " + where, params).rows)
    mine.insert(store::as_int(r[0]));
  store::Result kept;
  kept.columns = rows.columns;
  bool missed = false;
  for (auto& row : rows.rows) {
    int64_t id = store::as_int(row[0]);
    std::string basis = mine.count(id) ? "" : serving_basis(c, who, id);
    if (!mine.count(id) && basis.empty()) {
      missed = true;
      continue;
    }
    if (!basis.empty()) opened.emplace_back(id, basis);
    kept.rows.push_back(std::move(row));
  }
  if (missed) note_miss(who);
  return kept;
}

void CustomerService::log_opening(store::Connection& c, const Principal& who, int64_t id,
                                  const std::string& basis, const char* what) const {
  if (basis.empty()) return;
  audit_.append(c, audit::Actor::of(who),
                {"crm_customer", id, "serve.open", json::object{{"basis", basis}, {"what", what}}});
}

void CustomerService::log_opening(const Principal& who, int64_t id, const std::string& basis,
                                  const char* what) const {
  if (basis.empty()) return;
  db_.write([&](store::Connection& c) { log_opening(c, who, id, basis, what); });
}

json::object CustomerService::access_log(const Principal& who, int64_t id, const Query& q) {
  if (!who.has("crm:access_log")) throw Error::forbidden("you may not read the access log");
  int64_t limit = 200;
  if (auto it = q.find("limit"); it != q.end() && !it->second.empty()) {
    limit = std::atoll(it->second.c_str());
    if (limit < 1 || limit > 1000)
      throw Error::bad_request("out_of_range", "limit is 1 to 1000", "limit");
  }
  json::object out{{"customer_id", id}};
  db_.read([&](store::Connection& c) {
    if (c.exec("SELECT 1 FROM crm_customer WHERE id = ?", {id}).empty())
      throw Error::not_found("no such customer", "id");
    out["items"] = store::rows_json(c.exec(
        "SELECT id, at, actor_id, actor_name, client_ip, action, diff FROM audit_log WHERE entity "
        "= "
        "'crm_customer' AND entity_id = ? AND (action LIKE 'serve.%' OR action = 'unmask') ORDER "
        "BY id DESC LIMIT ?",
        {id, limit}));
  });
  for (auto& item : out["items"].as_array()) {  // the basis and reason, as objects
    auto& o = item.as_object();
    o["detail"] = parse_value(std::string(o["diff"].as_string()));
    o.erase("diff");
  }
  return out;
}

json::object CustomerService::open_for_emergency(const Principal& who, const audit::Actor& actor,
                                                 int64_t id, const json::object& body) {
  if (!who.has("crm:emergency"))
    throw Error::forbidden("you may not open customers' files in an emergency");
  only_fields(body, {"reason"});
  std::string reason = string_field(body, "reason", true, 500);
  if (reason.size() < 10)
    throw Error::validation(
        {{"reason", "too_short", "say why, in a sentence (10 characters or more)"}});
  int64_t now = clock_.now_ms(), until = now + serving_.emergency_ms, grant = 0;
  db_.write([&](store::Connection& c) {
    if (c.exec("SELECT 1 FROM crm_customer WHERE id = ?", {id}).empty())
      throw Error::not_found("no such customer", "id");
    c.exec(
        "INSERT INTO crm_emergency_access (staff_id, customer_id, reason, at, until_at) VALUES (?, "
        "?, ?, ?, ?)",
        {who.staff_id, id, reason, now, until});
    grant = store::as_int(c.exec("SELECT MAX(id) FROM crm_emergency_access WHERE staff_id = ? AND "
                                 "customer_id = ?",
                                 {who.staff_id, id})
                              .rows[0][0]);
    audit_.append(c, actor,
                  {"crm_customer", id, "serve.emergency",
                   json::object{{"basis", "emergency:" + std::to_string(grant)},
                                {"reason", reason},
                                {"until", until}}});
  });
  return json::object{
      {"id", grant}, {"customer_id", id}, {"reason", reason}, {"at", now}, {"until", until}};
}

json::object CustomerService::emergency_report(const Principal& who, const Query& q) {
  if (!who.has("crm:access_log")) throw Error::forbidden("you may not read the access log");
  // The day in Asia/Shanghai (UTC+8), today by default.
  std::string day = iso_utc(clock_.now_ms() + 8 * 3'600'000).substr(0, 10);
  if (auto it = q.find("date"); it != q.end() && !it->second.empty()) day = it->second;
  int64_t from = 0;
  if (day.size() != 10 || !parse_iso(day, from))
    throw Error::bad_request("bad_date", "date is YYYY-MM-DD", "date");
  from -= 8 * 3'600'000;
  json::object out{{"date", day}};
  db_.read([&](store::Connection& c) {
    out["items"] = store::rows_json(c.exec(
        "SELECT e.id, e.at, e.until_at, e.reason, e.customer_id, cu.name AS customer_name, "
        "e.staff_id, s.username, s.name AS staff_name, (SELECT COUNT(*) FROM audit_log a WHERE "
        "a.entity = 'crm_customer' AND a.entity_id = e.customer_id AND a.actor_id = e.staff_id AND "
        "a.action = 'serve.open' AND a.at >= e.at AND a.at < e.until_at) AS openings FROM "
        "crm_emergency_access e JOIN crm_customer cu ON cu.id = e.customer_id LEFT JOIN staff s ON "
        "s.id = e.staff_id WHERE e.at >= ? AND e.at < ? ORDER BY e.id",
        {from, from + 86'400'000}));
  });
  return out;
}

}  // namespace kefu::crm
