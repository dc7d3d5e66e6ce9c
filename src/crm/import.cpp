// Bulk import of customers (I1, I2): upsert by external key in chunks of multi-row statements,
// every bad row reported, idempotent by batch key.
#include <spdlog/spdlog.h>

#include <set>
#include <unordered_map>

#include "base/error.hpp"
#include "crm/customer_record.hpp"
#include "crm/service.hpp"
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
  return what.find("fund") != std::string::npos ? "fund_account" : "external_key";
}

}  // namespace

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
  std::unordered_map<int64_t, std::string> org_path;
  db_.read([&](store::Connection& c) {
    for (auto& r : c.exec("SELECT id, code, path FROM org_unit WHERE archived = 0", {}).rows) {
      org_by_code[store::as_text(r[1])] = store::as_int(r[0]);
      org_path[store::as_int(r[0])] = store::as_text(r[2]);
    }
    for (auto& r : c.exec("SELECT id, username FROM staff", {}).rows)
      staff_by_user[store::as_text(r[1])] = store::as_int(r[0]);
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
        } else if (who.scope != DataScope::all && !(ex->second && in_scope(ex->second))) {
          row_error(errors, r->n, "external_key", "out_of_scope",
                    "that customer is outside your data scope");
          continue;
        }
        ok.push_back(r);
      }
      if (ok.empty()) return;
      const auto& cols = ok.front()->cols;
      std::string names, set, values;
      for (auto& col : cols) {
        names += col + ", ";
        if (col != "external_key") set += col + " = excluded." + col + ", ";
      }
      if (!ok.front()->in.values.count("kind")) names += "kind, ";
      if (!ok.front()->in.values.count("status")) names += "status, ";
      if (!ok.front()->in.values.count("name")) names += "name, ";
      std::vector<Value> params;
      params.reserve(ok.size() * (cols.size() + 7));
      for (auto* r : ok) {
        values += values.empty() ? "(" : ", (";
        for (size_t k = 0; k < r->vals.size(); ++k) {
          values += k ? ", ?" : "?";
          params.push_back(r->vals[k]);
        }
        // Defaults for what a partial row leaves out; only used when the row is new (the name
        // is then present: checked above), never on update (excluded.* is not in the SET).
        if (!r->in.values.count("kind"))
          values += ", ?", params.emplace_back(std::string("individual"));
        if (!r->in.values.count("status"))
          values += ", ?", params.emplace_back(std::string("normal"));
        if (!r->in.values.count("name")) values += ", ?", params.emplace_back(std::string());
        values += ", ?, ?, ?, ?)";
        params.insert(params.end(), {now, who.staff_id, now, who.staff_id});
      }
      std::string sql =
          "INSERT INTO crm_customer (" + names +
          "created_at, created_by, updated_at, updated_by) VALUES " + values +
          " ON CONFLICT (external_key) DO UPDATE SET " + set +
          "version = crm_customer.version + 1, updated_at = excluded.updated_at, updated_by = "
          "excluded.updated_by RETURNING id, external_key";
      auto res = c.exec(sql, params);
      std::unordered_map<std::string, int64_t> id_of;
      for (auto& r : res.rows) id_of[store::as_text(r[1])] = store::as_int(r[0]);
      std::string del;
      std::vector<Value> del_ids, phone_params, change_params;
      std::string phone_values, change_values;
      for (auto* r : ok) {
        int64_t id = id_of[r->key];
        bool fresh = !existing_org.count(r->key);
        (fresh ? inserted : updated)++;
        change_values += change_values.empty() ? "(?, ?, ?, ?, ?)" : ", (?, ?, ?, ?, ?)";
        change_params.insert(
            change_params.end(),
            {id, std::string(fresh ? "import_create" : "import_update"),
             to_json(json::value(json::array(r->cols.begin(), r->cols.end()))), now, who.staff_id});
        if (!r->in.phones) continue;
        if (!fresh) {
          del += del.empty() ? "?" : ", ?";
          del_ids.emplace_back(id);
        }
        int64_t seq = 0;
        for (auto& p : *r->in.phones) {
          phone_values += phone_values.empty() ? "(?, ?, ?, ?, ?)" : ", (?, ?, ?, ?, ?)";
          phone_params.insert(phone_params.end(),
                              {id, p.number, p.extension, std::string(to_string(p.kind)), ++seq});
        }
      }
      if (!del.empty()) c.exec("DELETE FROM crm_phone WHERE customer_id IN (" + del + ")", del_ids);
      if (!phone_values.empty())
        c.exec("INSERT INTO crm_phone (customer_id, number, extension, kind, seq) VALUES " +
                   phone_values,
               phone_params);
      c.exec("INSERT INTO crm_change (customer_id, action, fields, at, staff_id) VALUES " +
                 change_values,
             change_params);
    };
    size_t i = 0;
    while (i < parsed.size()) {
      std::vector<Row*> chunk{&parsed[i]};
      size_t j = i + 1;
      while (j < parsed.size() && chunk.size() < kChunk &&
             parsed[j].signature == parsed[i].signature)
        chunk.push_back(&parsed[j++]);
      auto mark = std::make_pair(inserted, updated);
      size_t errs_before = errors.size();
      c.exec("SAVEPOINT crm_chunk", {});
      try {
        write_chunk(chunk);
        c.exec("RELEASE SAVEPOINT crm_chunk", {});
      } catch (const store::DbError& e) {
        if (e.kind() != store::DbError::Kind::unique) throw;
        // A fund account that belongs to another customer: find the row, one by one.
        c.exec("ROLLBACK TO SAVEPOINT crm_chunk", {});
        c.exec("RELEASE SAVEPOINT crm_chunk", {});
        std::tie(inserted, updated) = mark;
        while (errors.size() > errs_before) errors.pop_back();
        for (auto* r : chunk) {
          std::vector<Row*> one{r};
          c.exec("SAVEPOINT crm_row", {});
          try {
            write_chunk(one);
            c.exec("RELEASE SAVEPOINT crm_row", {});
          } catch (const store::DbError& e2) {
            if (e2.kind() != store::DbError::Kind::unique) throw;
            c.exec("ROLLBACK TO SAVEPOINT crm_row", {});
            c.exec("RELEASE SAVEPOINT crm_row", {});
            std::string f = field_of_unique(e2.what());
            row_error(errors, r->n, f, "duplicate", f + " already belongs to another customer");
          }
        }
      }
      i = j;
    }
    if (all_or_nothing && !errors.empty()) throw rejected(errors);
    // Errors in row order, whichever pass found them.
    std::vector<json::value> sorted(errors.begin(), errors.end());
    std::stable_sort(sorted.begin(), sorted.end(), [](const json::value& a, const json::value& b) {
      return a.as_object().at("row").as_int64() < b.as_object().at("row").as_int64();
    });
    json::array errs_out;
    for (size_t k = 0; k < sorted.size() && k < 1000; ++k) errs_out.push_back(sorted[k]);
    result = {{"batch_key", batch_key},
              {"rows", int64_t(rows.size())},
              {"inserted", inserted},
              {"updated", updated},
              {"failed", int64_t(errors.size())},
              {"errors", std::move(errs_out)},
              {"replayed", false}};
    auto b = c.exec(
        "INSERT INTO crm_import_batch (batch_key, kind, digest, result, at, staff_id) VALUES (?, "
        "?, ?, ?, ?, ?) RETURNING id",
        {batch_key, std::string("customers"), digest, to_json(result), now, who.staff_id});
    audit_.append(c, actor,
                  {"crm_import_batch", store::as_int(b.rows[0][0]), "import",
                   json::object{{"batch_key", batch_key},
                                {"inserted", inserted},
                                {"updated", updated},
                                {"failed", int64_t(errors.size())}}});
  });
  return result;
}

}  // namespace kefu::crm
