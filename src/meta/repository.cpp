#include "meta/repository.hpp"

#include <charconv>

#include "meta/validate.hpp"
#include "store/sql.hpp"

namespace kefu::meta {
namespace {

const std::set<std::string> kReserved = {"q", "sort", "page", "page_size", "include_archived", "format", "mode",
                                         "by", "header", "version"};

int64_t parse_positive(const std::string& key, const std::string& v, int64_t fallback) {
  if (v.empty()) return fallback;
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < 1)
    throw Error::bad_request("invalid_parameter", key + " must be a positive integer", key);
  return n;
}

}  // namespace

std::string Repository::select_list(const Entity& e) const {
  std::string s;
  for (auto& c : kSystemColumns) s += (s.empty() ? "" : ", ") + c;
  for (auto& f : e.fields)
    if (!f.hidden) s += ", " + f.name;
  return s;
}

json::object Repository::row_to_json(const Entity& e, const store::Result& r, size_t i) const {
  json::object o;
  const auto& row = r.rows[i];
  for (size_t k = 0; k < r.columns.size(); ++k) {
    const std::string& col = r.columns[k];
    if (col == "archived") o[col] = store::as_int(row[k]) != 0;
    else if (k < kSystemColumns.size()) o[col] = store::as_int(row[k]);
    else if (auto f = e.field(col)) o[col] = from_db(*f, row[k]);
  }
  return o;
}

void Repository::scope_sql(const Entity& e, const Principal& who, std::string& where,
                           std::vector<store::Value>& params) const {
  if (who.scope == DataScope::all) return;
  std::string owner = e.owner_column.empty() ? "created_by" : e.owner_column;
  if (e.scope_column.empty()) {
    if (e.owner_column.empty()) return;  // unscoped reference data (dictionaries, parameters)
    where += " AND " + owner + " = ?";
    params.emplace_back(who.staff_id);
    return;
  }
  switch (who.scope) {
    case DataScope::self:
      where += " AND " + owner + " = ?";
      params.emplace_back(who.staff_id);
      break;
    case DataScope::org:
      where += " AND " + e.scope_column + " = ?";
      params.emplace_back(who.org_id);
      break;
    case DataScope::subtree:
      where += " AND " + e.scope_column + " IN (SELECT id FROM org_unit WHERE path LIKE ? ESCAPE '\\')";
      params.emplace_back(store::like_escape(who.org_path) + "%");
      break;
    case DataScope::all: break;
  }
}

void Repository::check_org_in_scope(store::Connection& c, const Principal& who, int64_t org_id,
                                    const std::string& field) const {
  if (who.scope == DataScope::all) return;
  bool ok = false;
  if (who.scope == DataScope::subtree) {
    auto r = c.exec("SELECT path FROM org_unit WHERE id = ?", {org_id});
    ok = !r.empty() && store::as_text(r.rows[0][0]).rfind(who.org_path, 0) == 0;
  } else {
    ok = org_id == who.org_id;
  }
  if (!ok) throw Error(403, "out_of_scope", "that organisation is outside your data scope", field);
}

void Repository::where_sql(const Entity& e, const Principal& who, const Query& q, std::string& where,
                           std::vector<store::Value>& params) const {
  where = " WHERE 1 = 1";
  auto inc = q.find("include_archived");
  if (inc == q.end() || (inc->second != "1" && inc->second != "true")) where += " AND archived = 0";
  scope_sql(e, who, where, params);
  for (auto& kv : q) {
    const std::string& key = kv.first;  // not a structured binding: lambdas below capture it
    const std::string& value = kv.second;
    if (kReserved.count(key)) continue;
    std::string name = key, op = "eq";
    if (auto p = key.rfind("__"); p != std::string::npos) {
      name = key.substr(0, p);
      op = key.substr(p + 2);
    }
    const Field* f = e.field(name);
    bool system = name == "id" || name == "created_at" || name == "updated_at" || name == "created_by";
    if ((!f || f->hidden) && !system) throw Error::bad_request("unknown_filter", "cannot filter on '" + key + "'", key);
    if (f && !(f->filterable || f->sortable || f->unique || f->searchable || f->type == FieldType::ref))
      throw Error::bad_request("not_filterable", "'" + name + "' cannot be filtered", key);
    Field sys;
    sys.name = name;
    sys.type = FieldType::integer;
    const Field& fld = f ? *f : sys;
    auto convert = [&](const std::string& text) {
      std::vector<FieldError> errs;
      json::value v = from_text(fld, text, errs);
      if (!errs.empty()) throw Error::bad_request("invalid_filter", errs[0].message, key);
      return to_db(fld, v);
    };
    if (op == "eq") {
      if (value.empty()) {
        where += " AND " + name + " IS NULL";
      } else {
        where += " AND " + name + " = ?";
        params.push_back(convert(value));
      }
    } else if (op == "like") {
      where += " AND LOWER(" + name + ") LIKE LOWER(?) ESCAPE '\\'";
      params.emplace_back("%" + store::like_escape(value) + "%");
    } else if (op == "gte" || op == "lte") {
      where += " AND " + name + (op == "gte" ? " >= ?" : " <= ?");
      params.push_back(convert(value));
    } else if (op == "in") {
      std::string list;
      size_t pos = 0;
      int n = 0;
      while (pos <= value.size() && n < 100) {
        size_t comma = value.find(',', pos);
        if (comma == std::string::npos) comma = value.size();
        list += (list.empty() ? "?" : ", ?");
        params.push_back(convert(value.substr(pos, comma - pos)));
        pos = comma + 1;
        ++n;
      }
      where += " AND " + name + " IN (" + list + ")";
    } else {
      throw Error::bad_request("unknown_filter", "unknown filter operator '" + op + "'", key);
    }
  }
  if (auto it = q.find("q"); it != q.end() && !it->second.empty()) {
    std::string any;
    for (auto& f : e.fields) {
      if (!f.searchable || f.hidden) continue;
      any += (any.empty() ? "" : " OR ") + std::string("LOWER(") + f.name + ") LIKE LOWER(?) ESCAPE '\\'";
      params.emplace_back("%" + store::like_escape(it->second) + "%");
    }
    if (!any.empty()) where += " AND (" + any + ")";
  }
}

Page Repository::list(const Entity& e, const Principal& who, const Query& q) const {
  Page page;
  page.page = parse_positive("page", q.count("page") ? q.at("page") : "", 1);
  page.page_size = parse_positive("page_size", q.count("page_size") ? q.at("page_size") : "", 20);
  if (page.page_size > 500) throw Error::bad_request("invalid_parameter", "page_size must be at most 500", "page_size");
  std::string where;
  std::vector<store::Value> params;
  where_sql(e, who, q, where, params);
  std::string order = e.default_sort;
  bool desc = false;
  if (auto it = q.find("sort"); it != q.end() && !it->second.empty()) {
    order = it->second;
    if (order[0] == '-') desc = true, order = order.substr(1);
    const Field* f = e.field(order);
    // The entity's own default order is always allowed, so a client can ask for it by name.
    bool system = order == "id" || order == "created_at" || order == "updated_at" || order == e.default_sort;
    if (!system && (!f || !f->sortable || f->hidden))
      throw Error::bad_request("not_sortable", "cannot sort by '" + order + "'", "sort");
  }
  // NULLS LAST on both backends, so paging is identical on SQLite and PostgreSQL.
  std::string order_sql = " ORDER BY " + order + (desc ? " DESC" : "") + " NULLS LAST" + (order == "id" ? "" : ", id");
  db_.read([&](store::Connection& c) {
    auto total = c.exec("SELECT COUNT(*) FROM " + e.name + where, params);
    page.total = store::as_int(total.rows[0][0]);
    auto p = params;
    p.emplace_back(page.page_size);
    p.emplace_back((page.page - 1) * page.page_size);
    auto r = c.exec("SELECT " + select_list(e) + " FROM " + e.name + where + order_sql + " LIMIT ? OFFSET ?", p);
    for (size_t i = 0; i < r.size(); ++i) page.items.push_back(row_to_json(e, r, i));
  });
  return page;
}

json::array Repository::list_all(const Entity& e, const Principal& who, const Query& q, int64_t limit) const {
  std::string where;
  std::vector<store::Value> params;
  where_sql(e, who, q, where, params);
  params.emplace_back(limit);
  json::array out;
  db_.read([&](store::Connection& c) {
    auto r = c.exec("SELECT " + select_list(e) + " FROM " + e.name + where + " ORDER BY id LIMIT ?", params);
    for (size_t i = 0; i < r.size(); ++i) out.push_back(row_to_json(e, r, i));
  });
  return out;
}

json::array Repository::stats(const Entity& e, const Principal& who, const std::string& by, const Query& q) const {
  const Field* f = e.field(by);
  if (!f || f->hidden || !(f->filterable || f->type == FieldType::ref || f->type == FieldType::enumeration ||
                           f->type == FieldType::dict))
    throw Error::bad_request("invalid_parameter", "cannot group by '" + by + "'", "by");
  std::string where;
  std::vector<store::Value> params;
  where_sql(e, who, q, where, params);
  json::array out;
  db_.read([&](store::Connection& c) {
    auto r = c.exec("SELECT " + by + ", COUNT(*) FROM " + e.name + where + " GROUP BY " + by + " ORDER BY 2 DESC",
                    params);
    for (auto& row : r.rows) out.push_back(json::object{{"key", from_db(*f, row[0])}, {"count", store::as_int(row[1])}});
  });
  return out;
}

std::optional<json::object> Repository::load(store::Connection& c, const Entity& e, const Principal* who,
                                             int64_t id) const {
  std::string where = " WHERE id = ?";
  std::vector<store::Value> params{id};
  if (who) scope_sql(e, *who, where, params);
  auto r = c.exec("SELECT " + select_list(e) + " FROM " + e.name + where, params);
  if (r.empty()) return std::nullopt;
  return row_to_json(e, r, 0);
}

json::object Repository::get(const Entity& e, const Principal& who, int64_t id) const {
  std::optional<json::object> rec;
  db_.read_one([&](store::Connection& c) { rec = load(c, e, &who, id); });  // one SELECT
  // Records outside the caller's scope are reported exactly like missing ones.
  if (!rec) throw Error::not_found(e.name + " " + std::to_string(id) + " does not exist", "id");
  return std::move(*rec);
}

void Repository::check_references(store::Connection& c, const Entity& e, const Principal& who,
                                  const json::object& values, int64_t self_id) const {
  std::vector<FieldError> errors;
  for (auto& [k, v] : values) {
    const Field* f = e.field(k);
    if (!f || v.is_null()) continue;
    if (f->type == FieldType::ref) {
      const Entity* target = registry_.find(f->ref_entity);
      std::string table = target ? target->name : f->ref_entity;
      auto r = c.exec("SELECT 1 FROM " + table + " WHERE id = ? AND archived = 0", {v.as_int64()});
      if (r.empty()) {
        errors.push_back({f->name, "invalid_reference", f->name + " refers to a record that does not exist"});
        continue;
      }
      if (f->name == e.scope_column) check_org_in_scope(c, who, v.as_int64(), f->name);
    } else if (f->type == FieldType::dict) {
      auto r = c.exec("SELECT 1 FROM dict_item WHERE dict_type = ? AND code = ? AND archived = 0",
                      {f->dict_type, std::string(v.as_string())});
      if (r.empty()) errors.push_back({f->name, "invalid_option", f->name + " is not a code of dictionary " + f->dict_type});
    }
    if (f->unique) {
      auto r = c.exec("SELECT id FROM " + e.name + " WHERE " + f->name + " = ? AND id <> ?", {to_db(*f, v), self_id});
      if (!r.empty()) throw Error::conflict("duplicate", f->name + " is already used by another record", f->name);
    }
  }
  if (!errors.empty()) throw Error::validation(std::move(errors));
}

json::object Repository::create(store::Connection& c, const Entity& e, const Principal& who,
                                const audit::Actor& actor, json::object values) const {
  int64_t now = clock_.now_ms();
  if (!e.scope_column.empty() && e.scope_column != "id" && !values.contains(e.scope_column)) {
    // A record without an owning organisation would be invisible to every scoped role.
    throw Error::validation({{e.scope_column, "required", e.scope_column + " is required"}});
  }
  HookContext hc{c, who, values, nullptr, 0, now};
  if (e.before_save) e.before_save(hc);
  check_references(c, e, who, values, 0);
  std::string cols = "created_at, created_by, updated_at, updated_by", marks = "?, ?, ?, ?";
  std::vector<store::Value> params{now, actor.id, now, actor.id};
  for (auto& [k, v] : values) {
    const Field* f = e.field(k);
    if (!f) continue;
    cols += ", " + std::string(k);
    marks += ", ?";
    params.push_back(to_db(*f, v));
  }
  auto r = c.exec("INSERT INTO " + e.name + " (" + cols + ") VALUES (" + marks + ") RETURNING id", params);
  int64_t id = store::as_int(r.rows[0][0]);
  hc.id = id;
  if (e.after_save) e.after_save(hc);
  auto after = *load(c, e, nullptr, id);
  audit_.append(c, actor, {e.name, id, "create", audit::AuditLog::diff(nullptr, &after)});
  return after;
}

json::object Repository::update(store::Connection& c, const Entity& e, const Principal& who,
                                const audit::Actor& actor, int64_t id, int64_t version, json::object values) const {
  auto before = load(c, e, &who, id);
  if (!before) throw Error::not_found(e.name + " " + std::to_string(id) + " does not exist", "id");
  if (version >= 0 && (*before)["version"].as_int64() != version)
    throw Error::conflict("version_conflict",
                          "the record was changed by someone else (now version " +
                              std::to_string((*before)["version"].as_int64()) + "); reload and retry",
                          "version");
  int64_t now = clock_.now_ms();
  HookContext hc{c, who, values, &*before, id, now};
  if (e.before_save) e.before_save(hc);
  check_references(c, e, who, values, id);
  std::string sets = "version = version + 1, updated_at = ?, updated_by = ?";
  std::vector<store::Value> params{now, actor.id};
  for (auto& [k, v] : values) {
    const Field* f = e.field(k);
    if (!f) continue;
    sets += ", " + std::string(k) + " = ?";
    params.push_back(to_db(*f, v));
  }
  params.emplace_back(id);
  params.push_back((*before)["version"].as_int64());
  auto r = c.exec("UPDATE " + e.name + " SET " + sets + " WHERE id = ? AND version = ?", params);
  if (r.affected == 0) throw Error::conflict("version_conflict", "the record was changed concurrently; retry", "version");
  if (e.after_save) e.after_save(hc);
  auto after = *load(c, e, nullptr, id);
  auto d = audit::AuditLog::diff(&*before, &after);
  d.erase("version");
  d.erase("updated_at");
  audit_.append(c, actor, {e.name, id, "update", d});
  return after;
}

json::object Repository::archive(store::Connection& c, const Entity& e, const Principal& who,
                                 const audit::Actor& actor, int64_t id, int64_t version) const {
  if (!e.archivable) throw Error::forbidden(e.name + " records cannot be archived", "not_archivable");
  auto before = load(c, e, &who, id);
  if (!before) throw Error::not_found(e.name + " " + std::to_string(id) + " does not exist", "id");
  if (version >= 0 && (*before)["version"].as_int64() != version)
    throw Error::conflict("version_conflict", "the record was changed by someone else; reload and retry", "version");
  c.exec("UPDATE " + e.name + " SET archived = 1, version = version + 1, updated_at = ?, updated_by = ? WHERE id = ?",
         {clock_.now_ms(), actor.id, id});
  auto after = *load(c, e, nullptr, id);
  audit_.append(c, actor, {e.name, id, "archive", json::object{{"archived", json::object{{"from", false}, {"to", true}}}}});
  return after;
}

}  // namespace kefu::meta
