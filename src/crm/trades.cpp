// 客户交易分析 (M8, I2): daily trades imported from the trading counter, and what they say of a
// customer or of a branch's customers: monthly turnover, commission and frequency, products.
#include <set>
#include <unordered_map>

#include "base/error.hpp"
#include "base/text.hpp"
#include "crm/customer_record.hpp"
#include "crm/service.hpp"
#include "store/database.hpp"
#include "store/sql.hpp"

namespace kefu::crm {

using store::Value;

namespace {

struct Trade {
  int64_t n = 0;
  std::string key, customer_key, fund_account, date, code, name, type, side;
  int64_t quantity = 0, amount = 0, commission = 0;
};

// Text of a cell or a JSON value; numbers accepted where text is asked and the reverse.
std::optional<std::string> text(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  if (!v || v->is_null()) return std::nullopt;
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_int64()) return std::to_string(v->as_int64());
  return std::nullopt;
}

}  // namespace

json::object CustomerService::import_trades(const Principal& who, const audit::Actor& actor,
                                            const std::string& batch_key, const json::array& rows,
                                            const std::string& digest) {
  if (!who.has("crm:import")) throw Error::forbidden("you may not import trades");
  if (batch_key.empty() || batch_key.size() > 80)
    throw Error::bad_request("bad_batch_key", "batch_key is 1 to 80 characters", "batch_key");
  if (rows.empty()) throw Error::bad_request("empty_batch", "the batch has no rows", "rows");
  json::array errors;
  auto bad = [&](int64_t n, const char* f, const char* code, const std::string& msg) {
    errors.push_back(json::object{{"row", n}, {"field", f}, {"code", code}, {"message", msg}});
  };
  std::vector<Trade> trades;
  std::set<std::string> seen;
  for (size_t i = 0; i < rows.size(); ++i) {
    int64_t n = int64_t(i + 1);
    if (!rows[i].is_object()) {
      bad(n, "", "invalid_type", "a row is an object");
      continue;
    }
    const auto& o = rows[i].as_object();
    Trade t;
    t.n = n;
    size_t before = errors.size();
    t.key = text(o, "external_key").value_or("");
    if (t.key.empty() || t.key.size() > 64)
      bad(n, "external_key", "required", "every trade needs its id (≤ 64)");
    else if (!seen.insert(t.key).second)
      bad(n, "external_key", "duplicate_in_batch", "the same trade twice");
    t.customer_key = text(o, "customer_key").value_or("");
    t.fund_account = text(o, "fund_account").value_or("");
    if (t.customer_key.empty() && t.fund_account.empty())
      bad(n, "customer_key", "required", "name the customer by customer_key or fund_account");
    t.date = text(o, "trade_date").value_or("");
    if (!valid_date(t.date)) bad(n, "trade_date", "invalid_date", "trade_date is YYYY-MM-DD");
    t.code = text(o, "product_code").value_or("");
    if (t.code.empty() || t.code.size() > 20)
      bad(n, "product_code", "required", "product_code is 1 to 20 characters");
    t.name = text(o, "product_name").value_or("");
    if (!valid_utf8(t.name) || utf8_length(t.name) > 40)
      bad(n, "product_name", "too_long", "at most 40 characters");
    t.type = text(o, "product_type").value_or("stock");
    if (t.type != "stock" && t.type != "fund" && t.type != "bond" && t.type != "other")
      bad(n, "product_type", "invalid_option", "stock, fund, bond or other");
    t.side = text(o, "side").value_or("");
    if (t.side != "buy" && t.side != "sell") bad(n, "side", "invalid_option", "buy or sell");
    for (auto [k, out] : {std::pair{"quantity", &t.quantity}, std::pair{"amount_fen", &t.amount},
                          std::pair{"commission_fen", &t.commission}}) {
      auto s = text(o, k);
      try {
        size_t used = 0;
        *out = s ? std::stoll(*s, &used) : -1;
        if (s && used != s->size()) *out = -1;
      } catch (...) {
        *out = -1;
      }
      if (*out < 0) bad(n, k, "out_of_range", std::string(k) + " is a whole number ≥ 0");
    }
    if (errors.size() == before) trades.push_back(std::move(t));
  }
  json::object result;
  db_.write([&](store::Connection& c) {
    auto r = c.exec("SELECT digest, result FROM crm_import_batch WHERE batch_key = ?", {batch_key});
    if (!r.empty()) {
      if (store::as_text(r.rows[0][0]) != digest)
        throw Error::conflict("batch_key_reused", "this batch key was used for other content",
                              "batch_key");
      result = parse_object(store::as_text(r.rows[0][1]));
      result["replayed"] = true;
      return;
    }
    // Customers by their keys, in the caller's scope (a branch loads its own customers' trades).
    std::string where = "(c.external_key = ? OR c.fund_account = ?)";
    std::vector<Value> scope;
    std::string sc;
    scope_sql(who, sc, scope);
    std::unordered_map<std::string, int64_t> by_key, by_fund;
    int64_t written = 0, duplicates = 0;
    std::vector<std::vector<Value>> out;
    for (auto& t : trades) {
      auto& cache = t.customer_key.empty() ? by_fund : by_key;
      const std::string& k = t.customer_key.empty() ? t.fund_account : t.customer_key;
      auto it = cache.find(k);
      if (it == cache.end()) {
        std::vector<Value> p{t.customer_key.empty() ? Value() : Value(t.customer_key),
                             t.fund_account.empty() ? Value() : Value(t.fund_account)};
        p.insert(p.end(), scope.begin(), scope.end());
        auto f = c.exec("SELECT c.id FROM crm_customer c WHERE " + where + sc + " LIMIT 1", p);
        it = cache.emplace(k, f.empty() ? 0 : store::as_int(f.rows[0][0])).first;
      }
      if (!it->second) {
        bad(t.n, t.customer_key.empty() ? "fund_account" : "customer_key", "unknown_customer",
            "no such customer in your data scope");
        continue;
      }
      out.push_back({t.key, it->second, t.date, t.code, t.name, t.type, t.side, t.quantity,
                     t.amount, t.commission});
    }
    // A trade already loaded by an earlier batch is skipped: the counter re-sends overlapping days.
    for (size_t b = 0; b < out.size(); b += 300) {
      size_t e = std::min(out.size(), b + 300);
      std::string values;
      std::vector<Value> p;
      for (size_t i = b; i < e; ++i) {
        values += i == b ? "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" : ", (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        p.insert(p.end(), out[i].begin(), out[i].end());
      }
      auto res = c.exec(
          "INSERT INTO crm_trade (external_key, customer_id, trade_date, product_code, "
          "product_name, product_type, "
          "side, quantity, amount_fen, commission_fen) VALUES " +
              values + " ON CONFLICT (external_key) DO NOTHING",
          p);
      written += res.affected;
      duplicates += int64_t(e - b) - res.affected;
    }
    result = {{"batch_key", batch_key},
              {"rows", int64_t(rows.size())},
              {"inserted", written},
              {"already_loaded", duplicates},
              {"failed", failed_rows(errors)},
              {"errors", errors},
              {"replayed", false}};
    auto br = c.exec(
        "INSERT INTO crm_import_batch (batch_key, kind, digest, result, at, staff_id) VALUES (?, "
        "'trades', ?, ?, ?, ?) "
        "RETURNING id",
        {batch_key, digest, to_json(result), clock_.now_ms(), who.staff_id});
    audit_.append(
        c, actor,
        {"crm_import_batch", store::as_int(br.rows[0][0]), "import_trades",
         json::object{
             {"batch_key", batch_key}, {"inserted", written}, {"failed", failed_rows(errors)}}});
  });
  return result;
}

json::object CustomerService::trade_analysis(const Principal& who, int64_t customer_id,
                                             const Query& q) {
  int64_t months = 12;
  if (auto it = q.find("months"); it != q.end() && !it->second.empty()) {
    try {
      months = std::stoll(it->second);
    } catch (...) {
      months = 0;
    }
    if (months < 1 || months > 60)
      throw Error::bad_request("bad_months", "months is 1 to 60", "months");
  }
  // From the first day of the month `months - 1` months ago, in local (China) dates.
  std::string today = iso_utc(clock_.now_ms() + 8 * 3'600'000).substr(0, 10);
  int y = std::stoi(today.substr(0, 4)), m = std::stoi(today.substr(5, 2)) - int(months - 1);
  while (m < 1) m += 12, --y;
  char from[32];
  std::snprintf(from, sizeof from, "%04d-%02d-01", y, m);
  std::string where = "t.trade_date >= ?";
  std::vector<Value> params{std::string(from)};
  json::object out{{"from", from}, {"months", months}};
  db_.read([&](store::Connection& c) {
    if (customer_id) {
      check_readable(c, who, customer_id);
      where += " AND t.customer_id = ?";
      params.emplace_back(customer_id);
    } else {
      if (!who.has("crm:read")) throw Error::forbidden("you may not analyse customers");
      std::string sc;
      scope_sql(who, sc, params);
      if (!sc.empty())
        where += " AND t.customer_id IN (SELECT c.id FROM crm_customer c WHERE 1 = 1" + sc + ")";
    }
    auto monthly = c.exec(
        "SELECT substr(t.trade_date, 1, 7), COUNT(*), SUM(t.amount_fen), SUM(t.commission_fen), "
        "COUNT(DISTINCT t.trade_date), COUNT(DISTINCT t.customer_id) FROM crm_trade t WHERE " +
            where + " GROUP BY substr(t.trade_date, 1, 7) ORDER BY 1",
        params);
    json::array months_out;
    int64_t trades = 0, amount = 0, commission = 0, days = 0;
    for (auto& r : monthly.rows) {
      months_out.push_back(json::object{{"month", store::as_text(r[0])},
                                        {"trades", store::as_int(r[1])},
                                        {"amount_fen", store::as_int(r[2])},
                                        {"commission_fen", store::as_int(r[3])},
                                        {"active_days", store::as_int(r[4])},
                                        {"customers", store::as_int(r[5])}});
      trades += store::as_int(r[1]);
      amount += store::as_int(r[2]);
      commission += store::as_int(r[3]);
      days += store::as_int(r[4]);
    }
    auto products = c.exec(
        "SELECT t.product_code, MAX(t.product_name), MAX(t.product_type), COUNT(*), "
        "SUM(t.amount_fen), "
        "SUM(t.commission_fen) FROM crm_trade t WHERE " +
            where + " GROUP BY t.product_code ORDER BY 5 DESC, 1 LIMIT 10",
        params);
    json::array products_out;
    for (auto& r : products.rows)
      products_out.push_back(json::object{{"product_code", store::as_text(r[0])},
                                          {"product_name", store::as_text(r[1])},
                                          {"product_type", store::as_text(r[2])},
                                          {"trades", store::as_int(r[3])},
                                          {"amount_fen", store::as_int(r[4])},
                                          {"commission_fen", store::as_int(r[5])}});
    auto types =
        c.exec("SELECT t.product_type, COUNT(*), SUM(t.amount_fen) FROM crm_trade t WHERE " +
                   where + " GROUP BY t.product_type ORDER BY 3 DESC",
               params);
    json::array types_out;
    for (auto& r : types.rows)
      types_out.push_back(json::object{{"product_type", store::as_text(r[0])},
                                       {"trades", store::as_int(r[1])},
                                       {"amount_fen", store::as_int(r[2])}});
    out["by_month"] = std::move(months_out);
    out["products"] = std::move(products_out);
    out["by_type"] = std::move(types_out);
    out["totals"] = json::object{{"trades", trades},
                                 {"amount_fen", amount},
                                 {"commission_fen", commission},
                                 {"active_days", days},
                                 {"trades_per_month", double(trades) / double(months)}};
  });
  return out;
}

}  // namespace kefu::crm
