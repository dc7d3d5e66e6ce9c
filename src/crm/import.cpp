// Bulk import of customers (I1, I2): upsert by external key in chunks of multi-row statements,
// every bad row reported, idempotent by batch key.
#include <spdlog/spdlog.h>

#include <future>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include "base/error.hpp"
#include "crm/customer_record.hpp"
#include "crm/service.hpp"
#include "meta/exchange.hpp"
#include "store/database.hpp"
#include "store/sql.hpp"

namespace kefu::crm {

using store::Value;

namespace {

constexpr size_t kChunk =
    400;  // rows per statement: ~30 columns stay far below both backends' limits

struct Row {
  int64_t n;  // 1-based row of the batch
  std::string key;
  CustomerInput in;
  std::string signature;  // the columns it gives: one statement per run of equal signatures
  std::vector<std::string> cols;
  std::vector<Value> vals;
};

void row_error(json::array& errors, int64_t n, const std::string& field, const std::string& code,
               const std::string& message) {
  errors.push_back(
      json::object{{"row", n}, {"field", field}, {"code", code}, {"message", message}});
}

// All or nothing: one bad row and nothing is written; each problem named as rows[n].field.
Error rejected(const json::array& errors) {
  Error e(422, "import_rejected",
          "nothing was imported: " + std::to_string(errors.size()) + " bad rows", "rows");
  for (size_t i = 0; i < errors.size() && i < 1000; ++i) {
    const auto& o = errors[i].as_object();
    std::string f = "rows[" + std::to_string(o.at("row").as_int64()) + "]";
    if (!o.at("field").as_string().empty()) f += "." + std::string(o.at("field").as_string());
    e.details.push_back(
        {f, std::string(o.at("code").as_string()), std::string(o.at("message").as_string())});
  }
  return e;
}

std::string field_of_unique(const std::string& what) {
  if (what.find("crm_account") != std::string::npos) return "accounts";
  return what.find("fund") != std::string::npos ? "fund_account" : "external_key";
}

// CSV columns by field name or by the label users see in the console and in exports.
std::string csv_field(const std::string& header) {
  static const std::map<std::string, std::string> extra = {
      {"phones", "phones"},       {"电话", "phones"},     {"联系电话", "phones"},
      {"tags", "tags"},           {"标签", "tags"},       {"org_code", "org_code"},
      {"营业部代码", "org_code"}, {"manager", "manager"}, {"客户经理工号", "manager"}};
  std::string h = header;
  if (h.rfind("\xEF\xBB\xBF", 0) == 0) h = h.substr(3);  // a BOM, as spreadsheets save it
  if (auto it = extra.find(h); it != extra.end()) return it->second;
  for (auto& c : customer_columns())
    if (h == c.name || h == c.label_zh) return c.name;
  return h;  // unknown: reported on every row as unknown_field
}

}  // namespace

json::array rows_from_csv(std::string_view text) {
  auto table = meta::parse_csv(text);
  if (table.empty()) throw Error::bad_request("empty_batch", "the file has no header row", "file");
  std::vector<std::string> fields;
  for (auto& h : table[0]) fields.push_back(csv_field(h));
  json::array rows;
  for (size_t i = 1; i < table.size(); ++i) {
    if (table[i].size() == 1 && table[i][0].empty()) continue;  // a blank line
    json::object o;
    for (size_t k = 0; k < table[i].size() && k < fields.size(); ++k)
      if (!table[i][k].empty())
        o[fields[k]] = table[i][k];  // an empty cell leaves the field as it is
    rows.push_back(std::move(o));
  }
  return rows;
}

int64_t failed_rows(const json::array& errors) {
  std::set<int64_t> rows;
  for (auto& e : errors) rows.insert(e.as_object().at("row").as_int64());
  return int64_t(rows.size());
}

void for_each_csv_batch(std::string_view text, size_t rows,
                        const std::function<void(json::array, int64_t)>& fn) {
  size_t eol = text.find('\n');
  if (eol == std::string_view::npos)
    throw Error::bad_request("empty_batch", "the file has no rows", "file");
  const std::string header(text.substr(0, eol + 1));
  size_t pos = eol + 1;
  auto next = [&]() -> std::optional<json::array> {  // the next batch's rows, parsed
    if (pos >= text.size()) return std::nullopt;
    size_t q = pos;
    for (size_t n = 0; n < rows && q < text.size(); ++n) {
      size_t e = text.find('\n', q);
      q = e == std::string_view::npos ? text.size() : e + 1;
    }
    std::string chunk = header + std::string(text.substr(pos, q - pos));
    pos = q;
    return rows_from_csv(chunk);
  };
  // The next batch is parsed on another thread while this one is written: on two cores the
  // file's parsing costs almost nothing.
  int64_t first = 1;
  auto pending = std::async(std::launch::async, next);
  while (auto batch = pending.get()) {
    pending = std::async(std::launch::async, next);
    int64_t n = int64_t(batch->size());
    if (n) fn(std::move(*batch), first);
    first += n;
  }
}

json::object CustomerService::import_customers(const Principal& who, const audit::Actor& actor,
                                               const std::string& batch_key,
                                               const json::array& rows, bool all_or_nothing,
                                               const std::string& digest) {
  if (!who.has("crm:import")) throw Error::forbidden("you may not import customers");
  if (batch_key.empty() || batch_key.size() > 80 ||
      batch_key.find_first_not_of(
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-") !=
          std::string::npos)
    throw Error::bad_request("bad_batch_key", "batch_key is 1 to 80 letters, digits and _ . : -",
                             "batch_key");
  if (rows.empty()) throw Error::bad_request("empty_batch", "the batch has no rows", "rows");

  auto replay = [&](store::Connection& c) -> std::optional<json::object> {
    auto r = c.exec("SELECT digest, result FROM crm_import_batch WHERE batch_key = ?", {batch_key});
    if (r.empty()) return std::nullopt;
    if (store::as_text(r.rows[0][0]) != digest)
      throw Error::conflict("batch_key_reused", "this batch key was used for other content",
                            "batch_key");
    auto o = parse_object(store::as_text(r.rows[0][1]));
    o["replayed"] = true;
    return o;
  };
  if (auto done = db_.read_result([&](store::Connection& c) { return replay(c); })) return *done;

  // Reference data the rows name by code: organisations (with their paths, for the scope) and
  // staff.
  std::unordered_map<std::string, int64_t> org_by_code, staff_by_user;
  std::vector<ExtField> ext_defs;
  std::unordered_map<int64_t, std::string> org_path;
  db_.read([&](store::Connection& c) {
    for (auto& r : c.exec("SELECT id, code, path FROM org_unit WHERE archived = 0", {}).rows) {
      org_by_code[store::as_text(r[1])] = store::as_int(r[0]);
      org_path[store::as_int(r[0])] = store::as_text(r[2]);
    }
    for (auto& r : c.exec("SELECT id, username FROM staff", {}).rows)
      staff_by_user[store::as_text(r[1])] = store::as_int(r[0]);
    ext_defs = ext_fields(c);
  });
  auto in_scope = [&](int64_t org) {
    switch (who.scope) {
      case DataScope::all:
        return true;
      case DataScope::subtree:
        return org_path[org].rfind(who.org_path, 0) == 0;
      default:
        return org == who.org_id;
    }
  };

  json::array errors;
  std::vector<Row> parsed;
  parsed.reserve(rows.size());
  std::unordered_map<std::string, int64_t> seen_key, seen_fund;
  for (size_t i = 0; i < rows.size(); ++i) {
    int64_t n = int64_t(i + 1);
    if (!rows[i].is_object()) {
      row_error(errors, n, "", "invalid_type", "a row is an object");
      continue;
    }
    json::object o = rows[i].as_object();
    // Imports name organisations and managers by code, as the source systems know them.
    bool bad = false;
    if (auto* oc = o.if_contains("org_code")) {
      auto it =
          oc->is_string() ? org_by_code.find(std::string(oc->as_string())) : org_by_code.end();
      if (it == org_by_code.end())
        row_error(errors, n, "org_code", "unknown_reference", "no organisation with that code"),
            bad = true;
      else
        o["org_id"] = it->second;
      o.erase("org_code");
    }
    if (auto* mu = o.if_contains("manager")) {
      auto it =
          mu->is_string() ? staff_by_user.find(std::string(mu->as_string())) : staff_by_user.end();
      if (it == staff_by_user.end())
        row_error(errors, n, "manager", "unknown_reference", "no staff member with that username"),
            bad = true;
      else
        o["manager_id"] = it->second;
      o.erase("manager");
    }
    Row row;
    row.n = n;
    std::vector<FieldError> errs;
    parse_customer(o, true, row.in, errs);
    if (row.in.ext) check_ext(ext_defs, *row.in.ext, false, errs);
    auto key = row.in.values.find("external_key");
    if (key == row.in.values.end() || store::is_null(key->second))
      errs.push_back({"external_key", "required", "every imported row needs its external key"});
    for (auto& e : errs) row_error(errors, n, e.field, e.code, e.message);
    if (!errs.empty() || bad) continue;
    row.key = store::as_text(key->second);
    if (auto o2 = row.in.values.find("org_id");
        o2 != row.in.values.end() && !store::is_null(o2->second)) {
      if (!org_path.count(store::as_int(o2->second))) {
        row_error(errors, n, "org_id", "unknown_reference", "no such organisation");
        continue;
      }
      if (!in_scope(store::as_int(o2->second))) {
        row_error(errors, n, "org_id", "out_of_scope", "that branch is outside your data scope");
        continue;
      }
    }
    if (auto [it, fresh] = seen_key.emplace(row.key, n); !fresh) {
      row_error(errors, n, "external_key", "duplicate_in_batch",
                "the same key is on row " + std::to_string(it->second));
      continue;
    }
    if (auto f = row.in.values.find("fund_account");
        f != row.in.values.end() && !store::is_null(f->second)) {
      if (auto [it, fresh] = seen_fund.emplace(store::as_text(f->second), n); !fresh) {
        row_error(errors, n, "fund_account", "duplicate_in_batch",
                  "the same fund account is on row " + std::to_string(it->second));
        continue;
      }
    }
    for (auto& [k, v] : row.in.values) {
      row.cols.push_back(k);
      row.vals.push_back(v);
    }
    if (row.in.tags) {
      std::string t;
      for (auto& x : *row.in.tags) t += (t.empty() ? "" : ",") + x;
      row.cols.push_back("tags");
      row.vals.push_back(t.empty() ? Value() : Value(t));
    }
    if (row.in.ext) {
      row.cols.push_back("ext");
      row.vals.push_back(row.in.ext->empty() ? Value() : Value(*row.in.ext));
    }
    for (auto& c : row.cols) row.signature += c + ",";
    parsed.push_back(std::move(row));
  }
  if (all_or_nothing && !errors.empty()) throw rejected(errors);

  int64_t inserted = 0, updated = 0;
  const int64_t now = clock_.now_ms();
  json::object result;
  db_.write([&](store::Connection& c) {
    if (auto done = replay(c)) {  // another node took the same batch meanwhile
      result = *done;
      return;
    }
    // One statement for rows [b, e) that share a signature; returns false on a unique conflict.
    auto write_chunk = [&](std::vector<Row*>& chunk) {
      // Which keys exist already: counts, scope of updates, and new rows must have a name.
      std::string in;
      std::vector<Value> keys;
      for (auto* r : chunk) {
        in += in.empty() ? "?" : ", ?";
        keys.emplace_back(r->key);
      }
      std::unordered_map<std::string, int64_t> existing_org;  // key → org (0 none)
      for (auto& r :
           c.exec(
                "SELECT external_key, org_id FROM crm_customer WHERE external_key IN (" + in + ")",
                keys)
               .rows)
        existing_org[store::as_text(r[0])] = store::is_null(r[1]) ? 0 : store::as_int(r[1]);
      std::vector<Row*> ok;
      for (auto* r : chunk) {
        auto ex = existing_org.find(r->key);
        if (ex == existing_org.end()) {
          if (!r->in.values.count("name")) {
            row_error(errors, r->n, "name", "required", "a new customer needs a name");
            continue;
          }
          std::vector<FieldError> ext_errs;  // required extended fields, on new customers
          check_ext(ext_defs, r->in.ext.value_or(""), true, ext_errs);
          for (auto& e : ext_errs) row_error(errors, r->n, e.field, e.code, e.message);
          if (!ext_errs.empty()) continue;
        } else if (who.scope != DataScope::all && !(ex->second && in_scope(ex->second))) {
          row_error(errors, r->n, "external_key", "out_of_scope",
                    "that customer is outside your data scope");
          continue;
        }
        ok.push_back(r);
      }
      if (ok.empty()) return;
      std::vector<Row*> fresh_rows, known_rows;
      for (auto* r : ok) (existing_org.count(r->key) ? known_rows : fresh_rows).push_back(r);
      std::unordered_map<std::string, int64_t> id_of;
      const auto& cols = ok.front()->cols;
      if (!fresh_rows.empty()) {
        // New customers: the database's bulk path (COPY on PostgreSQL), then their ids by key.
        std::vector<std::string> names(cols.begin(), cols.end());
        bool add_kind = !fresh_rows.front()->in.values.count("kind");
        bool add_status = !fresh_rows.front()->in.values.count("status");
        if (add_kind) names.push_back("kind");
        if (add_status) names.push_back("status");
        for (const char* x : {"created_at", "created_by", "updated_at", "updated_by"})
          names.push_back(x);
        std::vector<std::vector<Value>> rows_out;
        rows_out.reserve(fresh_rows.size());
        std::string in_new;
        std::vector<Value> new_keys;
        for (auto* r : fresh_rows) {
          std::vector<Value> v = r->vals;
          if (add_kind) v.emplace_back(std::string("individual"));
          if (add_status) v.emplace_back(std::string("normal"));
          v.insert(v.end(), {now, who.staff_id, now, who.staff_id});
          rows_out.push_back(std::move(v));
          in_new += in_new.empty() ? "?" : ", ?";
          new_keys.emplace_back(r->key);
        }
        c.insert_rows("crm_customer", names, rows_out);
        for (auto& r : c.exec("SELECT id, external_key FROM crm_customer WHERE external_key IN (" +
                                  in_new + ")",
                              new_keys)
                           .rows)
          id_of[store::as_text(r[1])] = store::as_int(r[0]);
      }
      if (!known_rows.empty()) {
        // Known customers: only the columns the row gives change.
        std::string names, set, values;
        for (auto& col : cols) {
          names += col + ", ";
          if (col != "external_key") set += col + " = excluded." + col + ", ";
        }
        // NOT NULL columns a partial row leaves out: placeholders in the VALUES, never in the SET.
        std::vector<const char*> filler;
        for (const char* col : {"name", "kind", "status"})
          if (!known_rows.front()->in.values.count(col))
            filler.push_back(col), names += std::string(col) + ", ";
        std::vector<Value> params;
        for (auto* r : known_rows) {
          values += values.empty() ? "(" : ", (";
          for (size_t k = 0; k < r->vals.size(); ++k) {
            values += k ? ", ?" : "?";
            params.push_back(r->vals[k]);
          }
          for (size_t f = 0; f < filler.size(); ++f)
            values += ", ?", params.emplace_back(std::string("-"));
          values += ", ?, ?, ?, ?)";
          params.insert(params.end(), {now, who.staff_id, now, who.staff_id});
        }
        auto res = c.exec("INSERT INTO crm_customer (" + names +
                              "created_at, created_by, updated_at, updated_by) VALUES " + values +
                              " ON CONFLICT (external_key) DO UPDATE SET " + set +
                              "version = crm_customer.version + 1, updated_at = "
                              "excluded.updated_at, updated_by = "
                              "excluded.updated_by RETURNING id, external_key",
                          params);
        for (auto& r : res.rows) id_of[store::as_text(r[1])] = store::as_int(r[0]);
      }
      std::string del;
      std::vector<Value> del_ids;
      std::vector<std::vector<Value>> phones_out, accounts_out, change_rows;
      std::string del_acc;
      std::vector<Value> del_acc_ids;
      for (auto* r : ok) {
        int64_t id = id_of[r->key];
        bool fresh = !existing_org.count(r->key);
        (fresh ? inserted : updated)++;
        change_rows.push_back({id, std::string(fresh ? "import_create" : "import_update"),
                               to_json(json::value(json::array(r->cols.begin(), r->cols.end()))),
                               now, who.staff_id});
        if (r->in.accounts) {
          if (!fresh) {
            del_acc += del_acc.empty() ? "?" : ", ?";
            del_acc_ids.emplace_back(id);
          }
          for (auto& row : account_rows(id, *r->in.accounts))
            accounts_out.push_back(std::move(row));
        }
        if (!r->in.phones) continue;
        if (!fresh) {
          del += del.empty() ? "?" : ", ?";
          del_ids.emplace_back(id);
        }
        for (auto& row : phone_rows(id, *r->in.phones)) phones_out.push_back(std::move(row));
      }
      if (!del.empty()) c.exec("DELETE FROM crm_phone WHERE customer_id IN (" + del + ")", del_ids);
      c.insert_rows("crm_phone", {"customer_id", "number", "extension", "kind", "seq"}, phones_out);
      if (!del_acc.empty())
        c.exec("DELETE FROM crm_account WHERE customer_id IN (" + del_acc + ")", del_acc_ids);
      c.insert_rows("crm_account",
                    {"customer_id", "kind", "number", "institution", "status", "seq"},
                    accounts_out);
      c.insert_rows("crm_change", {"customer_id", "action", "fields", "at", "staff_id"},
                    change_rows);
    };
    // Rows that give the same columns share statements, whatever their order in the file (an
    // empty cell drops a column from its row): keys are unique within the batch, so the order
    // of writes does not matter, and errors are sorted back into row order below.
    std::map<std::string, std::vector<Row*>> by_signature;
    for (auto& r : parsed) by_signature[r.signature].push_back(&r);
    std::vector<std::vector<Row*>> chunks;
    for (auto& [sig, rows_of] : by_signature)
      for (size_t b = 0; b < rows_of.size(); b += kChunk)
        chunks.emplace_back(rows_of.begin() + b,
                            rows_of.begin() + std::min(rows_of.size(), b + kChunk));
    for (auto& chunk : chunks) {
      auto mark = std::make_pair(inserted, updated);
      size_t errs_before = errors.size();
      c.exec("SAVEPOINT crm_chunk", {});
      try {
        write_chunk(chunk);
        c.exec("RELEASE SAVEPOINT crm_chunk", {});
      } catch (const store::DbError& e) {
        if (e.kind() != store::DbError::Kind::unique) throw;
        spdlog::info("crm import: a chunk of {} rows hit a unique index ({}); finding the row",
                     chunk.size(), e.what());
        // A fund account that belongs to another customer: find the row, one by one.
        c.exec("ROLLBACK TO SAVEPOINT crm_chunk", {});
        c.exec("RELEASE SAVEPOINT crm_chunk", {});
        std::tie(inserted, updated) = mark;
        while (errors.size() > errs_before) errors.pop_back();
        for (auto* r : chunk) {
          std::vector<Row*> one{r};
          auto counted = std::make_pair(inserted, updated);
          c.exec("SAVEPOINT crm_row", {});
          try {
            write_chunk(one);
            c.exec("RELEASE SAVEPOINT crm_row", {});
          } catch (const store::DbError& e2) {
            if (e2.kind() != store::DbError::Kind::unique) throw;
            c.exec("ROLLBACK TO SAVEPOINT crm_row", {});
            c.exec("RELEASE SAVEPOINT crm_row", {});
            std::tie(inserted, updated) =
                counted;  // the row was counted before its phones or accounts failed
            std::string f = field_of_unique(e2.what());
            row_error(errors, r->n, f, "duplicate",
                      (f == "accounts" ? std::string("a product account") : f) +
                          " already belongs to another customer");
          }
        }
      }
    }
    if (all_or_nothing && !errors.empty()) throw rejected(errors);
    // Errors in row order, whichever pass found them.
    std::vector<json::value> sorted(errors.begin(), errors.end());
    std::stable_sort(sorted.begin(), sorted.end(), [](const json::value& a, const json::value& b) {
      return a.as_object().at("row").as_int64() < b.as_object().at("row").as_int64();
    });
    json::array errs_out;
    for (size_t k = 0; k < sorted.size() && k < 1000; ++k) errs_out.push_back(sorted[k]);
    result = {
        {"batch_key", batch_key}, {"rows", int64_t(rows.size())},  {"inserted", inserted},
        {"updated", updated},     {"failed", failed_rows(errors)}, {"errors", std::move(errs_out)},
        {"replayed", false}};
    // PostgreSQL plans the key lookups above from its statistics; a table that grew by more
    // than double since its last ANALYZE (a first import into an empty file) would get
    // sequential scans for every chunk until autovacuum comes by. Doubling: ~10 runs to 10M.
    if (c.dialect() == store::Dialect::postgres && inserted > 0) {
      auto st = c.exec(
          "SELECT c.reltuples, COALESCE(s.n_live_tup, 0) FROM pg_class c LEFT JOIN "
          "pg_stat_user_tables s ON "
          "s.relid = c.oid WHERE c.relname = 'crm_customer'",
          {});
      double analyzed = st.empty() ? 0 : std::max(0.0, std::stod(store::as_text(st.rows[0][0])));
      double live = st.empty() ? 0 : double(store::as_int(st.rows[0][1])) + double(inserted);
      if (live > analyzed * 2 + 10000) c.exec_script("ANALYZE crm_customer");
    }
    auto b = c.exec(
        "INSERT INTO crm_import_batch (batch_key, kind, digest, result, at, staff_id) VALUES (?, "
        "?, ?, ?, ?, ?) RETURNING id",
        {batch_key, std::string("customers"), digest, to_json(result), now, who.staff_id});
    audit_.append(c, actor,
                  {"crm_import_batch", store::as_int(b.rows[0][0]), "import",
                   json::object{{"batch_key", batch_key},
                                {"inserted", inserted},
                                {"updated", updated},
                                {"failed", failed_rows(errors)}}});
  });
  return result;
}

}  // namespace kefu::crm
