#include "crm/service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "base/error.hpp"
#include "base/text.hpp"
#include "crm/customer_record.hpp"
#include "crm/mask.hpp"
#include "crm/phone.hpp"
#include "store/database.hpp"
#include "store/sql.hpp"

namespace kefu::crm {

using store::Value;

std::vector<store::Migration> CustomerService::migrations() {
  return {
      {"crm/0001_customers", R"(
CREATE TABLE crm_customer (
  id {{ID}}, external_key TEXT, kind TEXT NOT NULL, status TEXT NOT NULL, name TEXT NOT NULL,
  id_type TEXT, id_no TEXT, fund_account TEXT, sh_account TEXT, sz_account TEXT, commission_rate_ppm BIGINT,
  risk_level TEXT, risk_expires TEXT, org_id BIGINT, manager_id BIGINT, email TEXT, address TEXT,
  assets_fen BIGINT, liabilities_fen BIGINT, credit_limit_fen BIGINT, turnover_fen BIGINT, commission_fen BIGINT,
  products BIGINT, opened_on TEXT, cards TEXT, tags TEXT, ext TEXT,
  tier BIGINT NOT NULL DEFAULT 0, score BIGINT, graded_at BIGINT,
  version BIGINT NOT NULL DEFAULT 1, created_at BIGINT NOT NULL, created_by BIGINT NOT NULL,
  updated_at BIGINT NOT NULL, updated_by BIGINT NOT NULL);
CREATE UNIQUE INDEX ux_crm_customer_key ON crm_customer (external_key);
CREATE UNIQUE INDEX ux_crm_customer_fund ON crm_customer (fund_account);
CREATE INDEX ix_crm_customer_id_no ON crm_customer (id_no);
CREATE INDEX ix_crm_customer_name ON crm_customer (name);
CREATE INDEX ix_crm_customer_org ON crm_customer (org_id, tier);
CREATE INDEX ix_crm_customer_manager ON crm_customer (manager_id);
CREATE INDEX ix_crm_customer_tier ON crm_customer (tier, risk_level);
CREATE TABLE crm_phone (
  id {{ID}}, customer_id BIGINT NOT NULL, number TEXT NOT NULL, extension TEXT, kind TEXT NOT NULL, seq BIGINT NOT NULL);
CREATE INDEX ix_crm_phone_number ON crm_phone (number);
CREATE INDEX ix_crm_phone_customer ON crm_phone (customer_id);
CREATE TABLE crm_contact (
  id {{ID}}, customer_id BIGINT NOT NULL, at BIGINT NOT NULL, channel TEXT NOT NULL, direction TEXT NOT NULL,
  kind TEXT NOT NULL, ref_type TEXT, ref_id BIGINT, summary TEXT NOT NULL, staff_id BIGINT, source TEXT NOT NULL);
CREATE INDEX ix_crm_contact_customer ON crm_contact (customer_id, at);
CREATE TABLE crm_grading_run (
  id {{ID}}, model TEXT NOT NULL, note TEXT NOT NULL, scope TEXT NOT NULL, customers BIGINT NOT NULL,
  changed BIGINT NOT NULL, per_tier TEXT NOT NULL, at BIGINT NOT NULL, staff_id BIGINT NOT NULL);
CREATE TABLE crm_tier_history (
  id {{ID}}, customer_id BIGINT NOT NULL, run_id BIGINT, from_tier BIGINT NOT NULL, to_tier BIGINT NOT NULL,
  score BIGINT, at BIGINT NOT NULL, staff_id BIGINT NOT NULL);
CREATE INDEX ix_crm_tier_history_customer ON crm_tier_history (customer_id, id);
CREATE TABLE crm_import_batch (
  id {{ID}}, batch_key TEXT NOT NULL, kind TEXT NOT NULL, digest TEXT NOT NULL, result TEXT NOT NULL,
  at BIGINT NOT NULL, staff_id BIGINT NOT NULL);
CREATE UNIQUE INDEX ux_crm_import_batch ON crm_import_batch (batch_key);
CREATE TABLE crm_change (
  id {{ID}}, customer_id BIGINT NOT NULL, action TEXT NOT NULL, fields TEXT NOT NULL, at BIGINT NOT NULL,
  staff_id BIGINT NOT NULL);
)",
       ""},
      // 客户交易分析: the counter's daily trades, one row per trade.
      {"crm/0002_trades", R"(
CREATE TABLE crm_trade (
  id {{ID}}, external_key TEXT NOT NULL, customer_id BIGINT NOT NULL, trade_date TEXT NOT NULL,
  product_code TEXT NOT NULL, product_name TEXT NOT NULL, product_type TEXT NOT NULL, side TEXT NOT NULL,
  quantity BIGINT NOT NULL, amount_fen BIGINT NOT NULL, commission_fen BIGINT NOT NULL);
CREATE UNIQUE INDEX ux_crm_trade_key ON crm_trade (external_key);
CREATE INDEX ix_crm_trade_customer ON crm_trade (customer_id, trade_date);
CREATE INDEX ix_crm_trade_date ON crm_trade (trade_date);
)",
       ""},
      // 产品账户: fund, TA, bond, futures and other product accounts, each held by one customer.
      {"crm/0003_accounts", R"(
CREATE TABLE crm_account (
  id {{ID}}, customer_id BIGINT NOT NULL, kind TEXT NOT NULL, number TEXT NOT NULL, institution TEXT NOT NULL,
  status TEXT NOT NULL, seq BIGINT NOT NULL);
CREATE UNIQUE INDEX ux_crm_account ON crm_account (kind, number);
CREATE INDEX ix_crm_account_customer ON crm_account (customer_id);
)",
       ""},
      // 资金流水: money into and out of customers' fund accounts.
      {"crm/0004_fund_flows", R"(
CREATE TABLE crm_fund_flow (
  id {{ID}}, external_key TEXT NOT NULL, customer_id BIGINT NOT NULL, flow_date TEXT NOT NULL, kind TEXT NOT NULL,
  amount_fen BIGINT NOT NULL, bank TEXT NOT NULL);
CREATE UNIQUE INDEX ux_crm_fund_flow_key ON crm_fund_flow (external_key);
CREATE INDEX ix_crm_fund_flow_customer ON crm_fund_flow (customer_id, flow_date);
CREATE INDEX ix_crm_fund_flow_date ON crm_fund_flow (flow_date);
)",
       ""},
      // Web chats and e-mails find their customer by address.
      {"crm/0005_email", "CREATE INDEX ix_crm_customer_email ON crm_customer (email);\n", ""},
      // Webhooks that push the change feed (crm/webhook.hpp); the secret signs, so it is kept.
      {"crm/0006_webhook", R"(
CREATE TABLE crm_webhook (
  id {{ID}}, name TEXT NOT NULL, url TEXT NOT NULL, secret TEXT NOT NULL, enabled BIGINT NOT NULL,
  after_id BIGINT NOT NULL, version BIGINT NOT NULL, created_at BIGINT NOT NULL, created_by BIGINT,
  updated_at BIGINT NOT NULL, failures BIGINT NOT NULL, next_attempt_at BIGINT, last_attempt_at BIGINT,
  last_status BIGINT, last_error TEXT, last_delivered_at BIGINT, delivered BIGINT NOT NULL,
  lease_owner TEXT, lease_until BIGINT);
)",
       ""},
      // 紧急查询: a file opened outside any interaction, with the reason, for a while.
      {"crm/0007_emergency_access", R"(
CREATE TABLE crm_emergency_access (
  id {{ID}}, staff_id BIGINT NOT NULL, customer_id BIGINT NOT NULL, reason TEXT NOT NULL,
  at BIGINT NOT NULL, until_at BIGINT NOT NULL);
CREATE INDEX ix_crm_emergency_access_staff ON crm_emergency_access (staff_id, customer_id);
CREATE INDEX ix_crm_emergency_access_at ON crm_emergency_access (at);
)",
       ""}};
}

CustomerService::CustomerService(store::Database& db, const Clock& clock,
                                 const audit::AuditLog& audit)
    : db_(db), clock_(clock), audit_(audit) {}

namespace {

// The columns a profile and a list row are read with, in this order.
std::string select_columns(const char* alias = "c") {
  std::string s = std::string(alias) + ".id";
  for (auto& col : customer_columns()) s += std::string(", ") + alias + "." + col.name;
  for (const char* x :
       {"tags", "ext", "tier", "score", "graded_at", "version", "created_at", "updated_at"})
    s += std::string(", ") + alias + "." + x;
  return s;
}

std::string masked(Sensitive s, const std::string& v) {
  switch (s) {
    case Sensitive::no:
      return v;
    case Sensitive::id_no:
      return mask_id_no(v);
    case Sensitive::phone:
      return mask_phone(v);
    case Sensitive::email:
      return mask_email(v);
    case Sensitive::address:
      return mask_address(v);
    case Sensitive::account: {
      std::string out;  // lists (bank cards) masked item by item
      for (size_t p = 0; p <= v.size();) {
        size_t q = v.find(',', p);
        if (p) out += ",";
        out += mask_account(v.substr(p, q == std::string::npos ? std::string::npos : q - p));
        if (q == std::string::npos) break;
        p = q + 1;
      }
      return out;
    }
  }
  return v;
}

json::array split_tags(const Value& v) {
  json::array out;
  if (store::is_null(v)) return out;
  std::string s = store::as_text(v);
  for (size_t p = 0; p < s.size();) {
    size_t q = s.find(',', p);
    std::string t = s.substr(p, q == std::string::npos ? std::string::npos : q - p);
    if (!t.empty()) out.emplace_back(t);
    if (q == std::string::npos) break;
    p = q + 1;
  }
  return out;
}

json::object customer_json(const store::Result& r, size_t i, bool unmask) {
  const auto& row = r.rows[i];
  json::object o;
  size_t k = 0;
  o["id"] = store::as_int(row[k++]);
  for (auto& col : customer_columns()) {
    const Value& v = row[k++];
    if (store::is_null(v))
      o[col.name] = nullptr;
    else if (col.type == ColumnType::integer || col.type == ColumnType::money)
      o[col.name] = store::as_int(v);
    else
      o[col.name] = unmask ? store::as_text(v) : masked(col.sensitive, store::as_text(v));
  }
  o["tags"] = split_tags(row[k++]);
  const Value& ext = row[k++];
  o["ext"] = store::is_null(ext) || store::as_text(ext).empty() ? json::value(json::object{})
                                                                : parse_value(store::as_text(ext));
  o["tier"] = store::as_int(row[k++]);
  o["tier_label"] = tier_label_zh(int(store::as_int(row[k - 1])));
  o["score"] = store::is_null(row[k]) ? json::value(nullptr) : json::value(store::as_int(row[k]));
  ++k;
  o["graded_at"] =
      store::is_null(row[k]) ? json::value(nullptr) : json::value(store::as_int(row[k]));
  ++k;
  o["version"] = store::as_int(row[k++]);
  o["created_at"] = store::as_int(row[k++]);
  o["updated_at"] = store::as_int(row[k++]);
  o["masked"] = !unmask;
  return o;
}

// Citizen IDs are stored with an upper-case check character.
std::string to_upper_id(std::string s) {
  if (s.size() == 18 && s.back() == 'x') s.back() = 'X';
  return s;
}

int64_t page_arg(const Query& q, const char* key, int64_t def, int64_t max) {
  auto it = q.find(key);
  if (it == q.end() || it->second.empty()) return def;
  try {
    int64_t v = std::stoll(it->second);
    if (v >= 1 && v <= max) return v;
  } catch (...) {
  }
  throw Error::bad_request("bad_paging", std::string(key) + " must be 1.." + std::to_string(max),
                           key);
}

// "?, ?, ?" for an IN list of ids, whose values are appended to params.
std::string id_marks(const std::vector<int64_t>& ids, std::vector<Value>& params) {
  std::string in;
  for (auto id : ids) {
    in += in.empty() ? "?" : ", ?";
    params.emplace_back(id);
  }
  return in;
}

// One phone as the API shows it: masked unless asked.
json::object phone_json(const Value& number, const Value& extension, const Value& kind,
                        bool unmask) {
  std::string n = store::as_text(number);
  return {{"number", unmask ? n : mask_phone(n)},
          {"extension", store::as_text(extension)},
          {"kind", store::as_text(kind)}};
}

// Phones of a set of customers, masked unless asked: customer id → list.
std::map<int64_t, json::array> phones_of(store::Connection& c, const std::vector<int64_t>& ids,
                                         bool unmask) {
  std::map<int64_t, json::array> out;
  if (ids.empty()) return out;
  std::vector<Value> params;
  std::string in = id_marks(ids, params);
  auto r =
      c.exec("SELECT customer_id, number, extension, kind FROM crm_phone WHERE customer_id IN (" +
                 in + ") ORDER BY customer_id, seq",
             params);
  for (auto& row : r.rows)
    out[store::as_int(row[0])].push_back(phone_json(row[1], row[2], row[3], unmask));
  return out;
}

json::array recent_contacts(store::Connection& c, int64_t id, int limit) {
  auto r = c.exec(
      "SELECT id, at, channel, direction, kind, ref_type, ref_id, summary, staff_id, source FROM "
      "crm_contact "
      "WHERE customer_id = ? ORDER BY at DESC, id DESC LIMIT ?",
      {id, int64_t(limit)});
  return store::rows_json(r);
}

// Everything a screen pop shows besides the customers' own rows, in one statement: their phones,
// each one's last contacts and the number's red/black-list entry. On PostgreSQL each statement is
// a round trip to the server, which at a busy hotline costs more than the rows do.
struct PopDetails {
  std::map<int64_t, json::array> phones, contacts;
  json::value list;  // null: the number is on no list
};

PopDetails pop_details(store::Connection& c, const std::vector<int64_t>& ids,
                       const std::string& number, int64_t now, int contacts_per_customer) {
  // One shape for every branch: k, owner, n1..n4 (integers), t1..t6 (text). Typed NULLs, because
  // PostgreSQL resolves a UNION's column types pairwise from the left.
  const std::string ni = "CAST(NULL AS BIGINT)", nt = "CAST(NULL AS TEXT)";
  std::string sql;
  std::vector<Value> params;
  auto branch = [&](const std::string& part) { sql += (sql.empty() ? "" : " UNION ALL ") + part; };
  if (!ids.empty()) {
    std::string in = id_marks(ids, params);
    branch("SELECT 'p' AS k, customer_id AS owner, seq AS n1, " + ni + " AS n2, " + ni +
           " AS n3, " + ni + " AS n4, number AS t1, extension AS t2, kind AS t3, " + nt +
           " AS t4, " + nt + " AS t5, " + nt + " AS t6 FROM crm_phone WHERE customer_id IN (" + in +
           ")");
    for (size_t i = 0; i < ids.size(); ++i) {
      branch(
          "SELECT * FROM (SELECT 'c', customer_id, id, at, ref_id, staff_id, channel, direction, "
          "kind, ref_type, summary, source FROM crm_contact WHERE customer_id = ? ORDER BY at "
          "DESC, id DESC LIMIT ?) AS c" +
          std::to_string(i));
      params.emplace_back(ids[i]);
      params.emplace_back(int64_t(contacts_per_customer));
    }
  }
  if (!number.empty()) {
    branch("SELECT * FROM (SELECT 'l', " + ni + ", " + ni + ", " + ni + ", " + ni + ", " + ni +
           ", list, action, reason, " + nt + ", " + nt + ", " + nt +
           " FROM crm_call_list WHERE archived = 0 AND enabled = 1 AND number = ? AND (valid_from "
           "IS NULL OR valid_from <= ?) AND (valid_to IS NULL OR valid_to > ?) ORDER BY list LIMIT "
           "1) AS l");
    params.insert(params.end(), {number, now, now});
  }
  PopDetails out;
  if (sql.empty()) return out;
  auto r = c.exec(sql, params);
  auto text = [](const Value& v) {
    return store::is_null(v) ? json::value(nullptr) : json::value(store::as_text(v));
  };
  auto integer = [](const Value& v) {
    return store::is_null(v) ? json::value(nullptr) : json::value(store::as_int(v));
  };
  // Phones by seq, contacts newest first: a UNION ALL promises no order.
  std::map<int64_t, std::vector<std::pair<int64_t, json::object>>> phones;
  std::map<int64_t, std::vector<std::tuple<int64_t, int64_t, json::object>>> contacts;
  for (auto& row : r.rows) {
    std::string k = store::as_text(row[0]);
    if (k == "p") {
      phones[store::as_int(row[1])].emplace_back(store::as_int(row[2]),
                                                 phone_json(row[6], row[7], row[8], false));
    } else if (k == "c") {
      contacts[store::as_int(row[1])].emplace_back(store::as_int(row[3]), store::as_int(row[2]),
                                                   json::object{{"id", integer(row[2])},
                                                                {"at", integer(row[3])},
                                                                {"channel", text(row[6])},
                                                                {"direction", text(row[7])},
                                                                {"kind", text(row[8])},
                                                                {"ref_type", text(row[9])},
                                                                {"ref_id", integer(row[4])},
                                                                {"summary", text(row[10])},
                                                                {"staff_id", integer(row[5])},
                                                                {"source", text(row[11])}});
    } else if (k == "l") {
      out.list =
          json::object{{"list", text(row[6])}, {"action", text(row[7])}, {"reason", text(row[8])}};
    }
  }
  for (auto& [id, v] : phones) {
    std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.first < b.first; });
    for (auto& e : v) out.phones[id].push_back(std::move(e.second));
  }
  for (auto& [id, v] : contacts) {
    std::sort(v.begin(), v.end(), [](auto& a, auto& b) {
      return std::tie(std::get<0>(b), std::get<1>(b)) < std::tie(std::get<0>(a), std::get<1>(a));
    });
    for (auto& e : v) out.contacts[id].push_back(std::move(std::get<2>(e)));
  }
  return out;
}

std::string org_name(store::Connection& c, const Value& org) {
  if (store::is_null(org)) return "";
  auto r = c.exec("SELECT name FROM org_unit WHERE id = ?", {org});
  return r.empty() ? "" : store::as_text(r.rows[0][0]);
}

}  // namespace

std::vector<std::vector<Value>> phone_rows(int64_t customer, const std::vector<Phone>& phones) {
  std::vector<std::vector<Value>> rows;
  int64_t seq = 0;
  for (auto& p : phones)
    rows.push_back({customer, p.number, p.extension, std::string(to_string(p.kind)), ++seq});
  return rows;
}

std::vector<std::vector<Value>> account_rows(int64_t customer,
                                             const std::vector<ProductAccount>& accounts) {
  std::vector<std::vector<Value>> rows;
  int64_t seq = 0;
  for (auto& a : accounts)
    rows.push_back({customer, a.kind, a.number, a.institution, a.status, ++seq});
  return rows;
}

std::vector<ExtField> ext_fields(store::Connection& c) {
  std::vector<ExtField> out;
  for (auto& r : c.exec("SELECT key, required FROM crm_ext_field WHERE archived = 0", {}).rows)
    out.push_back({store::as_text(r[0]), store::as_int(r[1]) != 0});
  return out;
}

void check_ext(const std::vector<ExtField>& defs, const std::string& ext, bool creating,
               std::vector<FieldError>& errs) {
  json::object obj = ext.empty() ? json::object{} : parse_object(ext);
  for (auto& [k, v] : obj) {
    const std::string key(k);
    if (std::none_of(defs.begin(), defs.end(), [&](const ExtField& d) { return d.key == key; }))
      errs.push_back({"ext." + key, "unknown_field", "no extended field named " + key});
    else if (!v.is_string() && !v.is_int64() && !v.is_null())
      errs.push_back({"ext." + key, "wrong_type", "an extended field is text or a number"});
  }
  // A required field must be there on a new record, and cannot be emptied by a change.
  for (auto& d : defs) {
    auto* v = obj.if_contains(d.key);
    bool missing = !v || v->is_null() || (v->is_string() && v->as_string().empty());
    if (d.required && missing && (creating || !ext.empty()))
      errs.push_back({"ext." + d.key, "required", d.key + " is required"});
  }
}

void CustomerService::scope_sql(const Principal& who, std::string& where,
                                std::vector<Value>& params) const {
  switch (who.scope) {
    case DataScope::all:
      return;
    case DataScope::subtree:
      where += " AND c.org_id IN (SELECT id FROM org_unit WHERE path LIKE ? ESCAPE '\\')";
      params.emplace_back(store::like_escape(who.org_path) + "%");
      return;
    case DataScope::org:
      where += " AND c.org_id = ?";
      params.emplace_back(who.org_id);
      return;
    case DataScope::self:
      where += " AND c.manager_id = ?";
      params.emplace_back(who.staff_id);
      return;
  }
}

int64_t CustomerService::write_customer(store::Connection& c, const Principal& who,
                                        const audit::Actor& actor, int64_t id, int64_t version,
                                        const json::object& body) {
  json::object in = body;
  std::optional<json::object> before;
  if (id) {
    auto r = c.exec("SELECT " + select_columns() + " FROM crm_customer c WHERE c.id = ?", {id});
    if (r.empty()) throw Error::not_found("no such customer", "id");
    before = customer_json(r, 0, true);
    if ((*before)["version"].as_int64() != version)
      throw Error::conflict("stale_version", "the customer was changed by someone else; reload it",
                            "version");
    // The ID number is checked against its type: give the check both when one changes.
    if (in.contains("id_no") && !in.contains("id_type")) in["id_type"] = (*before)["id_type"];
    if (in.contains("id_type") && !in.contains("id_no")) in["id_no"] = (*before)["id_no"];
  }
  CustomerInput ci;
  std::vector<FieldError> errs;
  parse_customer(in, id != 0, ci, errs);
  if (!errs.empty()) throw Error::validation(std::move(errs));
  // Who writes: crm:write, inside his data scope (the record, and the branch it goes to). An
  // agent who serves the hotline without crm:write may only add a potential customer.
  const bool agent_adding = !id && !who.has("crm:write") && who.has("crm:serve") &&
                            ci.values.count("status") &&
                            store::as_text(ci.values["status"]) == "potential";
  if (!who.has("crm:write") && !agent_adding)
    throw Error::forbidden("you may not change customer records", "forbidden");
  if (id) check_readable(c, who, id, false);
  if (auto o = ci.values.find("org_id"); o != ci.values.end() && !store::is_null(o->second)) {
    auto r = c.exec("SELECT path FROM org_unit WHERE id = ? AND archived = 0", {o->second});
    if (r.empty())
      throw Error::validation({{"org_id", "unknown_reference", "no such organisation"}});
    bool in_scope = who.scope == DataScope::all ||
                    (who.scope == DataScope::subtree &&
                     store::as_text(r.rows[0][0]).rfind(who.org_path, 0) == 0) ||
                    (who.scope != DataScope::subtree && store::as_int(o->second) == who.org_id);
    if (!in_scope && !agent_adding)
      throw Error(403, "out_of_scope", "that branch is outside your data scope", "org_id");
  } else if (!id && who.scope != DataScope::all && !ci.values.count("org_id")) {
    ci.values["org_id"] = who.org_id;  // a branch's new customer is its own
  }
  if (auto m = ci.values.find("manager_id"); m != ci.values.end() && !store::is_null(m->second))
    if (c.exec("SELECT 1 FROM staff WHERE id = ?", {m->second}).empty())
      throw Error::validation({{"manager_id", "unknown_reference", "no such staff member"}});
  if (ci.ext || !id) {
    std::vector<FieldError> ext_errs;
    check_ext(ext_fields(c), ci.ext ? *ci.ext : "", !id, ext_errs);
    if (!ext_errs.empty()) throw Error::validation(std::move(ext_errs));
  }

  std::vector<std::string> cols;
  std::vector<Value> vals;
  for (auto& [k, v] : ci.values) {
    cols.push_back(k);
    vals.push_back(v);
  }
  if (ci.tags) {
    std::string t;
    for (auto& x : *ci.tags) t += (t.empty() ? "" : ",") + x;
    cols.push_back("tags");
    vals.push_back(t.empty() ? Value() : Value(t));
  }
  if (ci.ext) {
    cols.push_back("ext");
    vals.push_back(ci.ext->empty() ? Value() : Value(*ci.ext));
  }
  int64_t now = clock_.now_ms();
  try {
    if (!id) {
      std::string names, marks;
      for (auto& col : cols) names += col + ", ", marks += "?, ";
      vals.insert(vals.end(), {now, who.staff_id, now, who.staff_id});
      auto r = c.exec("INSERT INTO crm_customer (" + names +
                          "created_at, created_by, updated_at, updated_by) VALUES (" + marks +
                          "?, ?, ?, ?) RETURNING id",
                      vals);
      id = store::as_int(r.rows[0][0]);
    } else {
      std::string set;
      for (auto& col : cols) set += col + " = ?, ";
      vals.insert(vals.end(), {now, who.staff_id, id, version});
      auto r = c.exec(
          "UPDATE crm_customer SET " + set +
              "version = version + 1, updated_at = ?, updated_by = ? WHERE id = ? AND version = ?",
          vals);
      if (r.affected != 1)
        throw Error::conflict("stale_version", "the customer was changed by someone else",
                              "version");
    }
  } catch (const store::DbError& e) {
    if (e.kind() != store::DbError::Kind::unique) throw;
    std::string what = e.what();
    std::string field = what.find("fund") != std::string::npos ? "fund_account" : "external_key";
    throw Error::conflict("duplicate", field + " already belongs to another customer", field);
  }
  try {
    if (ci.phones) {
      c.exec("DELETE FROM crm_phone WHERE customer_id = ?", {id});
      c.insert_rows("crm_phone", {"customer_id", "number", "extension", "kind", "seq"},
                    phone_rows(id, *ci.phones));
    }
    if (ci.accounts) {
      c.exec("DELETE FROM crm_account WHERE customer_id = ?", {id});
      c.insert_rows("crm_account",
                    {"customer_id", "kind", "number", "institution", "status", "seq"},
                    account_rows(id, *ci.accounts));
    }
  } catch (const store::DbError& e) {
    if (e.kind() != store::DbError::Kind::unique) throw;
    throw Error::conflict("duplicate", "a product account belongs to another customer", "accounts");
  }
  auto r = c.exec("SELECT " + select_columns() + " FROM crm_customer c WHERE c.id = ?", {id});
  json::object after = customer_json(r, 0, true);
  if (ci.phones) {
    json::array ph;
    for (auto& p : *ci.phones)
      ph.emplace_back(p.number + (p.extension.empty() ? "" : "-" + p.extension));
    after["phones"] = std::move(ph);
  }
  if (ci.accounts) {
    json::array ac;
    for (auto& a : *ci.accounts) ac.emplace_back(a.kind + ":" + a.number + "/" + a.status);
    after["accounts"] = std::move(ac);
  }
  after.erase("masked");
  json::object diff = audit::AuditLog::diff(before ? &*before : nullptr, &after);
  diff.erase("version");
  diff.erase("updated_at");
  audit_.append(c, actor, {"crm_customer", id, before ? "update" : "create", diff});
  json::array fields;
  for (auto& [k, v] : diff) fields.emplace_back(k);
  c.exec(
      "INSERT INTO crm_change (customer_id, action, fields, at, staff_id) VALUES (?, ?, ?, ?, ?)",
      {id, std::string(before ? "update" : "create"), to_json(fields), now, who.staff_id});
  return id;
}

json::object CustomerService::create(const Principal& who, const audit::Actor& actor,
                                     const json::object& body) {
  int64_t id = db_.write_result(
      [&](store::Connection& c) { return write_customer(c, who, actor, 0, 0, body); });
  return profile(who, actor, id, false);
}

json::object CustomerService::update(const Principal& who, const audit::Actor& actor, int64_t id,
                                     const json::object& body) {
  auto v = get_int(body, "version");
  if (!v) throw Error::bad_request("version_required", "send the version you read", "version");
  db_.write([&](store::Connection& c) { write_customer(c, who, actor, id, *v, body); });
  return profile(who, actor, id, false);
}

json::object CustomerService::profile(const Principal& who, const audit::Actor& actor, int64_t id,
                                      bool unmask) {
  record_alerts();
  if (unmask && !who.has("crm:unmask"))
    throw Error::forbidden("you may not see unmasked personal data", "forbidden");
  json::object out;
  std::string basis;  // an opening outside the data scope: on what it rests
  auto read = [&](store::Connection& c) {
    basis = check_readable(c, who, id);
    auto r = c.exec("SELECT " + select_columns() + " FROM crm_customer c WHERE c.id = ?", {id});
    out = customer_json(r, 0, unmask);
    out["phones"] = phones_of(c, {id}, unmask)[id];
    json::array accounts;
    for (auto& a : c.exec("SELECT kind, number, institution, status FROM crm_account WHERE "
                          "customer_id = ? ORDER BY seq",
                          {id})
                       .rows)
      accounts.push_back(json::object{
          {"kind", store::as_text(a[0])},
          {"number", unmask ? store::as_text(a[1]) : mask_account(store::as_text(a[1]))},
          {"institution", store::as_text(a[2])},
          {"status", store::as_text(a[3])}});
    out["accounts"] = std::move(accounts);
    const Value& org = r.rows[0][size_t(r.column("org_id"))];
    const Value& manager = r.rows[0][size_t(r.column("manager_id"))];
    out["org_name"] = org_name(c, org);
    if (!store::is_null(manager)) {
      auto m = c.exec("SELECT name FROM staff WHERE id = ?", {manager});
      out["manager_name"] = m.empty() ? "" : store::as_text(m.rows[0][0]);
    }
    out["tier_history"] =
        store::rows_json(c.exec("SELECT h.id, h.run_id, h.from_tier, h.to_tier, h.score, h.at, "
                                "h.staff_id FROM crm_tier_history h "
                                "WHERE h.customer_id = ? ORDER BY h.id DESC LIMIT 20",
                                {id}));
    out["contacts"] = recent_contacts(c, id, 20);
    out["open_tickets"] = json::array{};  // the ticket module (M13) is not built yet
  };
  if (unmask) {
    // Seeing personal data is itself an operation: logged in the same transaction as the read.
    db_.write([&](store::Connection& c) {
      read(c);
      json::array fields;
      for (auto& col : customer_columns())
        if (col.sensitive != Sensitive::no && !out[col.name].is_null())
          fields.emplace_back(col.name);
      if (!out["phones"].as_array().empty()) fields.emplace_back("phones");
      audit_.append(c, actor, {"crm_customer", id, "unmask", json::object{{"fields", fields}}});
      log_opening(c, who, id, basis, "profile");
    });
  } else {
    db_.read(read);
    log_opening(who, id, basis, "profile");
  }
  return out;
}

// One page of customers, masked, with their phones, and the count of all that match.
json::object CustomerService::list_page(const std::string& where, const std::vector<Value>& params,
                                        const std::string& order, int64_t page,
                                        int64_t size) const {
  json::object out;
  db_.read([&](store::Connection& c) {
    auto total = c.exec("SELECT COUNT(*) FROM crm_customer c WHERE " + where, params);
    auto lp = params;
    lp.insert(lp.end(), {size, (page - 1) * size});
    auto r = c.exec("SELECT " + select_columns() + " FROM crm_customer c WHERE " + where +
                        " ORDER BY " + order + " LIMIT ? OFFSET ?",
                    lp);
    json::array items;
    std::vector<int64_t> ids;
    for (size_t i = 0; i < r.size(); ++i) {
      items.push_back(customer_json(r, i, false));
      ids.push_back(store::as_int(r.rows[i][0]));
    }
    auto phones = phones_of(c, ids, false);
    for (auto& it : items) it.as_object()["phones"] = phones[it.as_object()["id"].as_int64()];
    out = {{"items", std::move(items)},
           {"total", store::as_int(total.rows[0][0])},
           {"page", page},
           {"page_size", size}};
  });
  return out;
}

json::object CustomerService::search(const Principal& who, const Query& q) {
  if (!who.has("crm:read")) throw Error::forbidden("you may not list customers");
  int64_t page = page_arg(q, "page", 1, 100000), size = page_arg(q, "page_size", 20, 200);
  std::string where = "1 = 1";
  std::vector<Value> params;
  scope_sql(who, where, params);
  auto get = [&](const char* k) {
    auto it = q.find(k);
    return it == q.end() ? std::string() : it->second;
  };
  if (std::string text = get("q"); !text.empty()) {
    // One box: a phone, a fund account, an ID number, or the start of a name.
    Phone p;
    std::string alt;
    if (normalize_phone(text, p).empty())
      alt = " OR c.id IN (SELECT customer_id FROM crm_phone WHERE number = ?)";
    where +=
        " AND (c.name LIKE ? ESCAPE '\\' OR c.fund_account = ? OR c.id_no = ? OR c.external_key = "
        "?" +
        alt + ")";
    params.insert(params.end(), {store::like_escape(text) + "%", text, to_upper_id(text), text});
    if (!alt.empty()) params.emplace_back(p.number);
  }
  for (const char* f : {"status", "risk_level", "kind"})
    if (std::string v = get(f); !v.empty()) {
      where += std::string(" AND c.") + f + " = ?";
      params.emplace_back(v);
    }
  for (const char* f : {"tier", "org_id", "manager_id"})
    if (std::string v = get(f); !v.empty()) {
      int64_t n = 0;
      try {
        n = std::stoll(v);
      } catch (...) {
        throw Error::bad_request("bad_filter", std::string(f) + " must be a number", f);
      }
      where += std::string(" AND c.") + f + " = ?";
      params.emplace_back(n);
    }
  return list_page(where, params, "c.id DESC", page, size);
}

namespace {
// 综合查询 operators over the columns users may filter on.
struct Filter {
  std::string field, op;
  json::value value;
};

void add_filter(const Filter& f, std::string& where, std::vector<Value>& params, size_t i) {
  std::string at = "filters[" + std::to_string(i) + "]";
  std::string col;
  bool numeric = false;
  if (f.field == "tier")
    col = "c.tier", numeric = true;
  else if (f.field == "tag")
    col = "c.tags";
  else if (f.field == "phone")
    col = "phone";
  else if (const Column* c = customer_column(f.field); c && c->filterable)
    col = "c." + std::string(c->name),
    numeric = c->type == ColumnType::integer || c->type == ColumnType::money;
  else
    throw Error::bad_request("unknown_filter", "cannot filter on '" + f.field + "'", at + ".field");
  auto scalar = [&](const json::value& v) -> Value {
    if (numeric) {
      if (v.is_int64()) return v.as_int64();
      if (v.is_string()) try {
          return int64_t(std::stoll(std::string(v.as_string())));
        } catch (...) {
        }
      throw Error::bad_request("bad_value", f.field + " takes a number", at + ".value");
    }
    if (v.is_string()) return std::string(v.as_string());
    if (v.is_int64()) return std::to_string(v.as_int64());
    throw Error::bad_request("bad_value", f.field + " takes text", at + ".value");
  };
  if (col == "phone") {
    if (f.op != "eq")
      throw Error::bad_request("bad_operator", "a phone is matched exactly (eq)", at + ".op");
    where += " AND c.id IN (SELECT customer_id FROM crm_phone WHERE number = ?)";
    params.emplace_back(lookup_key(store::as_text(scalar(f.value))));
    return;
  }
  if (col == "c.tags") {
    if (f.op != "contains")
      throw Error::bad_request("bad_operator", "tags take 'contains'", at + ".op");
    where += " AND (',' || c.tags || ',') LIKE ? ESCAPE '\\'";
    params.emplace_back("%," + store::like_escape(store::as_text(scalar(f.value))) + ",%");
    return;
  }
  static const std::map<std::string, std::string> cmp = {
      {"eq", "="}, {"ne", "<>"}, {"gt", ">"}, {"gte", ">="}, {"lt", "<"}, {"lte", "<="}};
  if (auto it = cmp.find(f.op); it != cmp.end()) {
    where += " AND " + col + " " + it->second + " ?";
    params.push_back(scalar(f.value));
  } else if (f.op == "in") {
    if (!f.value.is_array() || f.value.as_array().empty() || f.value.as_array().size() > 100)
      throw Error::bad_request("bad_value", "'in' takes a list of 1 to 100 values", at + ".value");
    std::string marks;
    for (auto& v : f.value.as_array()) {
      marks += marks.empty() ? "?" : ", ?";
      params.push_back(scalar(v));
    }
    where += " AND " + col + " IN (" + marks + ")";
  } else if (f.op == "between") {
    if (!f.value.is_array() || f.value.as_array().size() != 2)
      throw Error::bad_request("bad_value", "'between' takes [low, high]", at + ".value");
    where += " AND " + col + " BETWEEN ? AND ?";
    params.push_back(scalar(f.value.as_array()[0]));
    params.push_back(scalar(f.value.as_array()[1]));
  } else if (f.op == "prefix" && !numeric) {
    where += " AND " + col + " LIKE ? ESCAPE '\\'";
    params.emplace_back(store::like_escape(store::as_text(scalar(f.value))) + "%");
  } else if (f.op == "empty") {
    where += " AND " + col + " IS NULL";
  } else if (f.op == "not_empty") {
    where += " AND " + col + " IS NOT NULL";
  } else {
    throw Error::bad_request("bad_operator", "unknown operator '" + f.op + "'", at + ".op");
  }
}
}  // namespace

json::object CustomerService::query(const Principal& who, const json::object& body) {
  if (!who.has("crm:read")) throw Error::forbidden("you may not list customers");
  std::string where = "1 = 1";
  std::vector<Value> params;
  scope_sql(who, where, params);
  if (auto* fs = body.if_contains("filters")) {
    if (!fs->is_array() || fs->as_array().size() > 30)
      throw Error::bad_request("bad_filters", "filters is a list of at most 30 conditions",
                               "filters");
    size_t i = 0;
    for (auto& fv : fs->as_array()) {
      if (!fv.is_object())
        throw Error::bad_request("bad_filters", "a condition is an object", "filters");
      Filter f{get_string(fv.as_object(), "field").value_or(""),
               get_string(fv.as_object(), "op").value_or("eq"),
               fv.as_object().contains("value") ? fv.as_object().at("value") : json::value()};
      add_filter(f, where, params, i++);
    }
  }
  Query pq;
  if (auto p = get_int(body, "page")) pq["page"] = std::to_string(*p);
  if (auto p = get_int(body, "page_size")) pq["page_size"] = std::to_string(*p);
  int64_t page = page_arg(pq, "page", 1, 100000), size = page_arg(pq, "page_size", 20, 200);
  std::string order = "c.id DESC";
  if (auto s = get_string(body, "sort"); s && !s->empty()) {
    bool desc = (*s)[0] == '-';
    std::string f = desc ? s->substr(1) : *s;
    const Column* col = customer_column(f);
    if (f != "tier" && f != "score" && f != "id" &&
        !(col && col->filterable && col->sensitive == Sensitive::no))
      throw Error::bad_request("bad_sort", "cannot sort on '" + f + "'", "sort");
    order = "c." + f + (desc ? " DESC" : " ASC") + ", c.id DESC";
  }
  return list_page(where, params, order, page, size);
}

json::object CustomerService::screen_pop(const Principal& who, const Query& q) {
  record_alerts();
  if (!who.has("crm:serve") && !who.has("crm:read"))
    throw Error::forbidden("you may not look customers up");
  auto get = [&](const char* k) {
    auto it = q.find(k);
    return it == q.end() ? std::string() : it->second;
  };
  std::string where, key;
  std::vector<Value> params;
  std::string number;
  if (std::string v = get("phone"); !v.empty()) {
    number = lookup_key(v);
    where = "c.id IN (SELECT customer_id FROM crm_phone WHERE number = ?)";
    params.emplace_back(number);
  } else if (std::string f = get("fund_account"); !f.empty()) {
    where = "c.fund_account = ?";
    params.emplace_back(f);
  } else if (std::string i = get("id_no"); !i.empty()) {
    where = "c.id_no = ?";
    params.emplace_back(to_upper_id(i));
  } else if (std::string n = get("name"); !n.empty()) {
    where = "c.name LIKE ? ESCAPE '\\'";
    params.emplace_back(store::like_escape(n) + "%");
  } else {
    throw Error::bad_request("lookup_key_required", "give phone, fund_account, id_no or name",
                             "phone");
  }
  refuse_if_throttled(who);
  const bool serving = who.has("crm:serve");
  if (!serving) scope_sql(who, where, params);
  json::object out;
  std::vector<std::pair<int64_t, std::string>> opened;  // outside the scope: on what basis
  db_.read([&](store::Connection& c) {
    auto r = c.exec(
        "SELECT " + select_columns() +
            ", (SELECT o.name FROM org_unit o WHERE o.id = c.org_id) AS org_name FROM crm_customer "
            "c "
            "WHERE " +
            where +
            " ORDER BY CASE WHEN c.status = 'closed' THEN 1 ELSE 0 END, c.tier DESC, c.id LIMIT 10",
        params);
    if (serving) r = on_interaction_or_in_scope(c, who, std::move(r), opened);
    json::array items;
    std::vector<int64_t> ids;
    for (size_t i = 0; i < r.size(); ++i) ids.push_back(store::as_int(r.rows[i][0]));
    auto details = pop_details(c, ids, number, clock_.now_ms(), 5);
    std::string today = iso_utc(clock_.now_ms()).substr(0, 10);
    for (size_t i = 0; i < r.size(); ++i) {
      json::object o = customer_json(r, i, false);
      o["phones"] = details.phones[ids[i]];
      o["org_name"] = store::as_text(r.rows[i][size_t(r.column("org_name"))]);  // "" when none
      std::string expires =
          o["risk_expires"].is_string() ? std::string(o["risk_expires"].as_string()) : "";
      o["risk_expired"] = !expires.empty() && expires < today;
      o["last_contacts"] = details.contacts[ids[i]];
      o["open_tickets"] = json::array{};
      items.push_back(std::move(o));
    }
    out["customers"] = std::move(items);
    if (!number.empty()) {
      out["number"] = number;
      out["list"] = details.list;
    }
  });
  if (!opened.empty())
    db_.write([&](store::Connection& c) {
      for (auto& [id, basis] : opened) log_opening(c, who, id, basis, "screen_pop");
    });
  return out;
}

json::object CustomerService::timeline(const Principal& who, int64_t id, const Query& q) {
  record_alerts();
  int64_t page = page_arg(q, "page", 1, 100000), size = page_arg(q, "page_size", 50, 200);
  std::string where = "customer_id = ?";
  std::vector<Value> params{id};
  if (auto it = q.find("channel"); it != q.end() && !it->second.empty()) {
    where += " AND channel = ?";
    params.emplace_back(it->second);
  }
  for (auto [k, op] : {std::pair{"from", ">="}, std::pair{"to", "<"}})
    if (auto it = q.find(k); it != q.end() && !it->second.empty()) {
      int64_t ms;
      if (!parse_iso(it->second, ms))
        throw Error::bad_request("bad_date", std::string(k) + " is a date", k);
      where += std::string(" AND at ") + op + " ?";
      params.emplace_back(ms);
    }
  json::object out;
  std::string basis;
  db_.read([&](store::Connection& c) {
    basis = check_readable(c, who, id);
    auto total = c.exec("SELECT COUNT(*) FROM crm_contact WHERE " + where, params);
    auto lp = params;
    lp.insert(lp.end(), {size, (page - 1) * size});
    auto r = c.exec(
        "SELECT id, at, channel, direction, kind, ref_type, ref_id, summary, staff_id, source FROM "
        "crm_contact WHERE " +
            where + " ORDER BY at DESC, id DESC LIMIT ? OFFSET ?",
        lp);
    out = {
        {"items", store::rows_json(r)}, {"total", store::as_int(total.rows[0][0])}, {"page", page}};
  });
  log_opening(who, id, basis, "contacts");
  return out;
}

json::object CustomerService::add_contact(const Principal& who, const audit::Actor& actor,
                                          int64_t id, const json::object& body) {
  record_alerts();
  if (!who.has("crm:serve") && !who.has("crm:write"))
    throw Error::forbidden("you may not write to customers' files");
  only_fields(body, {"channel", "kind", "summary"});
  std::string channel = string_field(body, "channel", false, 20);
  if (channel.empty()) channel = "note";
  if (channel != "note" && channel != "business")
    throw Error::validation({{"channel", "invalid_option", "channel is note or business"}});
  std::string kind = string_field(body, "kind", false, 40);
  if (kind.empty()) kind = channel;
  std::string summary = string_field(body, "summary", true, 2000);
  Contact k{id, clock_.now_ms(), channel, "internal", kind, "", 0, summary, who.staff_id, "agent"};
  db_.write([&](store::Connection& c) {
    log_opening(c, who, id, check_readable(c, who, id), "add_contact");
    append_contact(c, k);
    audit_.append(c, actor,
                  {"crm_customer", id, "contact." + channel,
                   json::object{{"kind", kind}, {"summary", summary}}});
  });
  return json::object{{"customer_id", id},
                      {"at", k.at},
                      {"channel", channel},
                      {"kind", kind},
                      {"summary", summary}};
}

json::object CustomerService::stats(const Principal& who, const std::string& by) {
  if (!who.has("crm:read")) throw Error::forbidden("you may not see customer statistics");
  static const std::map<std::string, std::string> groups = {{"org", "c.org_id"},
                                                            {"tier", "c.tier"},
                                                            {"risk_level", "c.risk_level"},
                                                            {"status", "c.status"},
                                                            {"kind", "c.kind"}};
  auto g = groups.find(by);
  if (g == groups.end())
    throw Error::bad_request("bad_group", "group by org, tier, risk_level, status or kind", "by");
  std::string where = "1 = 1";
  std::vector<Value> params;
  scope_sql(who, where, params);
  json::object out;
  db_.read([&](store::Connection& c) {
    auto r =
        c.exec("SELECT " + g->second +
                   ", COUNT(*), COALESCE(SUM(c.assets_fen), 0), COALESCE(SUM(c.commission_fen), 0)"
                   " FROM crm_customer c WHERE " +
                   where + " GROUP BY " + g->second + " ORDER BY 2 DESC",
               params);
    json::array rows;
    for (auto& row : r.rows) {
      json::object o{{"key", store::is_null(row[0])        ? json::value(nullptr)
                             : by == "org" || by == "tier" ? json::value(store::as_int(row[0]))
                                                           : json::value(store::as_text(row[0]))},
                     {"customers", store::as_int(row[1])},
                     {"assets_fen", store::as_int(row[2])},
                     {"commission_fen", store::as_int(row[3])}};
      if (by == "org") o["label"] = org_name(c, row[0]);
      if (by == "tier") o["label"] = tier_label_zh(int(store::as_int(row[0])));
      rows.push_back(std::move(o));
    }
    out = {{"by", by}, {"rows", std::move(rows)}};
  });
  return out;
}

json::object CustomerService::changes(int64_t after, int limit) {
  json::object out;
  db_.read([&](store::Connection& c) {
    auto r = c.exec(
        "SELECT id, customer_id, action, fields, at, staff_id FROM crm_change WHERE id > ? ORDER "
        "BY id LIMIT ?",
        {after, int64_t(limit)});
    json::array items;
    int64_t last = after;
    for (size_t i = 0; i < r.size(); ++i) {
      auto o = store::row_json(r, i);
      o["fields"] = parse_value(store::as_text(r.rows[i][3]));
      last = store::as_int(r.rows[i][0]);
      items.push_back(std::move(o));
    }
    out = {{"items", std::move(items)}, {"next", last}};
  });
  return out;
}

void CustomerService::append_contact(store::Connection& c, const Contact& k) {
  c.exec(
      "INSERT INTO crm_contact (customer_id, at, channel, direction, kind, ref_type, ref_id, "
      "summary, staff_id, source) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {k.customer_id, k.at, k.channel, k.direction, k.kind,
       k.ref_type.empty() ? Value() : Value(k.ref_type), k.ref_id ? Value(k.ref_id) : Value(),
       k.summary, k.staff_id ? Value(k.staff_id) : Value(), k.source});
}

CallerInfo CustomerService::caller(const std::string& ani) {
  CallerInfo info;
  const bool email = ani.find('@') != std::string::npos;  // a web chat's or an e-mail's address
  std::string number = email ? ani : lookup_key(ani);
  if (number.empty()) return info;
  try {
    db_.read([&](store::Connection& c) {
      auto r = c.exec(
          email
              ? "SELECT c.id, c.tier FROM crm_customer c WHERE c.email = ? AND c.status <> "
                "'closed' "
                "ORDER BY c.tier DESC LIMIT 5"
              : "SELECT c.id, c.tier FROM crm_phone p JOIN crm_customer c ON c.id = p.customer_id "
                "WHERE p.number = ? AND c.status <> 'closed' ORDER BY c.tier DESC LIMIT 5",
          {number});
      if (!r.empty()) {
        info.tier = int(store::as_int(r.rows[0][1]));
        // Several customers on one number: routing takes the highest tier, the agent picks who.
        std::set<int64_t> ids;
        for (auto& row : r.rows) ids.insert(store::as_int(row[0]));
        if (ids.size() == 1) info.customer_id = *ids.begin();
      }
      int64_t now = clock_.now_ms();
      auto l = c.exec(
          "SELECT list, action, target FROM crm_call_list WHERE archived = 0 AND enabled = 1 AND "
          "(number = ? OR customer_id = ?) AND (valid_from IS NULL OR valid_from <= ?) AND "
          "(valid_to IS NULL OR valid_to > ?) ORDER BY list",  // 'black' sorts first and wins
          {number, info.customer_id ? Value(info.customer_id) : Value(int64_t(-1)), now, now});
      if (!l.empty()) {
        info.list = store::as_text(l.rows[0][0]);
        std::string action = store::as_text(l.rows[0][1]);
        if (info.list == "red")
          info.tier = 4;  // fast track: the highest service level
        else if (action == "queue")
          info.queue = store::as_text(l.rows[0][2]);
        else
          info.blocked = true;
      }
    });
  } catch (const std::exception& e) {
    spdlog::warn("crm: caller lookup for {} failed, routing as unknown: {}", number, e.what());
    return CallerInfo{};
  }
  return info;
}

}  // namespace kefu::crm
