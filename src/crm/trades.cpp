// 客户交易分析 (M8, I2): the trading counter's daily trades and fund movements, imported, and what
// they say of a customer or of a branch's customers: monthly turnover, commission, frequency,
// products, money in and out.
#include <algorithm>
#include <functional>
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

// A field of a row, as text (see text_of).
std::optional<std::string> text(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  return v ? text_of(*v) : std::nullopt;
}

using Bad = CustomerService::RowProblem;

// A whole number ≥ 0 (quantities, amounts in fen).
int64_t count(const json::object& o, const char* k, const Bad& bad) {
  auto s = text(o, k);
  int64_t v = -1;
  try {
    size_t used = 0;
    if (s) v = std::stoll(*s, &used);
    if (s && used != s->size()) v = -1;
  } catch (...) {
    v = -1;
  }
  if (v < 0) bad(k, "out_of_range", std::string(k) + " is a whole number ≥ 0");
  return v;
}

std::string one_of(const json::object& o, const char* k, const char* def,
                   std::initializer_list<const char*> options, const Bad& bad) {
  std::string v = text(o, k).value_or(def);
  if (std::none_of(options.begin(), options.end(), [&](const char* x) { return v == x; })) {
    std::string list;
    for (auto* x : options) list += (list.empty() ? "" : ", ") + std::string(x);
    bad(k, "invalid_option", std::string(k) + " is one of " + list);
  }
  return v;
}

std::string date(const json::object& o, const char* k, const Bad& bad) {
  std::string v = text(o, k).value_or("");
  if (!valid_date(v)) bad(k, "invalid_date", std::string(k) + " is YYYY-MM-DD");
  return v;
}

// 成交: one trade of the counter.
std::vector<Value> trade_values(const json::object& o, const Bad& bad) {
  std::string code = text(o, "product_code").value_or("");
  if (code.empty() || code.size() > 20)
    bad("product_code", "required", "product_code is 1 to 20 characters");
  std::string name = text(o, "product_name").value_or("");
  if (!valid_utf8(name) || utf8_length(name) > 40)
    bad("product_name", "too_long", "at most 40 characters");
  return {date(o, "trade_date", bad),
          code,
          name,
          one_of(o, "product_type", "stock", {"stock", "fund", "bond", "other"}, bad),
          one_of(o, "side", "", {"buy", "sell"}, bad),
          count(o, "quantity", bad),
          count(o, "amount_fen", bad),
          count(o, "commission_fen", bad)};
}

// 资金流水: money into or out of the customer's fund account.
std::vector<Value> fund_flow_values(const json::object& o, const Bad& bad) {
  std::string bank = text(o, "bank").value_or("");
  if (!valid_utf8(bank) || utf8_length(bank) > 40) bad("bank", "too_long", "at most 40 characters");
  return {
      date(o, "flow_date", bad),
      one_of(o, "kind", "", {"deposit", "withdrawal", "dividend", "interest", "fee", "other"}, bad),
      count(o, "amount_fen", bad), bank};
}

}  // namespace

const CustomerService::Ledger CustomerService::kTrades{
    "trades",
    "crm_trade",
    {"trade_date", "product_code", "product_name", "product_type", "side", "quantity", "amount_fen",
     "commission_fen"},
    trade_values};
const CustomerService::Ledger CustomerService::kFundFlows{
    "fund_flows", "crm_fund_flow", {"flow_date", "kind", "amount_fen", "bank"}, fund_flow_values};

json::object CustomerService::import_ledger(const Principal& who, const audit::Actor& actor,
                                            const Ledger& ledger, const std::string& batch_key,
                                            const json::array& rows, const std::string& digest) {
  if (!who.has("crm:import")) throw Error::forbidden("you may not import into customers' files");
  if (batch_key.empty() || batch_key.size() > 80)
    throw Error::bad_request("bad_batch_key", "batch_key is 1 to 80 characters", "batch_key");
  if (rows.empty()) throw Error::bad_request("empty_batch", "the batch has no rows", "rows");
  json::array errors;
  auto bad_at = [&](int64_t n, const char* f, const char* code, const std::string& msg) {
    errors.push_back(json::object{{"row", n}, {"field", f}, {"code", code}, {"message", msg}});
  };
  struct Entry {
    int64_t n;
    std::string key, customer_key, fund_account;
    std::vector<Value> values;
  };
  std::vector<Entry> entries;
  std::set<std::string> seen;
  for (size_t i = 0; i < rows.size(); ++i) {
    int64_t n = int64_t(i + 1);
    if (!rows[i].is_object()) {
      bad_at(n, "", "invalid_type", "a row is an object");
      continue;
    }
    const auto& o = rows[i].as_object();
    size_t before = errors.size();
    Bad bad = [&](const char* f, const char* code, const std::string& msg) {
      bad_at(n, f, code, msg);
    };
    Entry e{n,
            text(o, "external_key").value_or(""),
            text(o, "customer_key").value_or(""),
            text(o, "fund_account").value_or(""),
            {}};
    if (e.key.empty() || e.key.size() > 64)
      bad("external_key", "required", "every row needs its id in the source system (≤ 64)");
    else if (!seen.insert(e.key).second)
      bad("external_key", "duplicate_in_batch", "the same id twice in the batch");
    if (e.customer_key.empty() && e.fund_account.empty())
      bad("customer_key", "required", "name the customer by customer_key or fund_account");
    e.values = ledger.parse(o, bad);
    if (errors.size() == before) entries.push_back(std::move(e));
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
    // Customers by their keys, in the caller's scope (a branch loads its own customers' rows).
    std::vector<Value> scope;
    std::string sc;
    scope_sql(who, sc, scope);
    std::unordered_map<std::string, int64_t> by_key, by_fund;
    std::vector<std::vector<Value>> out;
    for (auto& e : entries) {
      auto& cache = e.customer_key.empty() ? by_fund : by_key;
      const std::string& k = e.customer_key.empty() ? e.fund_account : e.customer_key;
      auto it = cache.find(k);
      if (it == cache.end()) {
        std::vector<Value> p{e.customer_key.empty() ? Value() : Value(e.customer_key),
                             e.fund_account.empty() ? Value() : Value(e.fund_account)};
        p.insert(p.end(), scope.begin(), scope.end());
        auto f = c.exec(
            "SELECT c.id FROM crm_customer c WHERE (c.external_key = ? OR c.fund_account = ?)" +
                sc + " LIMIT 1",
            p);
        it = cache.emplace(k, f.empty() ? 0 : store::as_int(f.rows[0][0])).first;
      }
      if (!it->second) {
        bad_at(e.n, e.customer_key.empty() ? "fund_account" : "customer_key", "unknown_customer",
               "no such customer in your data scope");
        continue;
      }
      std::vector<Value> row{e.key, it->second};
      row.insert(row.end(), e.values.begin(), e.values.end());
      out.push_back(std::move(row));
    }
    // A row loaded by an earlier batch is skipped by its id: the counter re-sends overlapping days.
    std::string cols = "external_key, customer_id";
    for (auto& col : ledger.columns) cols += ", " + col;
    std::string one = "(?, ?";
    for (size_t k = 0; k < ledger.columns.size(); ++k) one += ", ?";
    one += ")";
    int64_t written = 0, duplicates = 0;
    for (size_t b = 0; b < out.size(); b += 300) {
      size_t e = std::min(out.size(), b + 300);
      std::string values;
      std::vector<Value> p;
      for (size_t i = b; i < e; ++i) {
        values += (i == b ? "" : ", ") + one;
        p.insert(p.end(), out[i].begin(), out[i].end());
      }
      auto res = c.exec("INSERT INTO " + std::string(ledger.table) + " (" + cols + ") VALUES " +
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
        "?, ?, ?, ?, ?) "
        "RETURNING id",
        {batch_key, std::string(ledger.kind), digest, to_json(result), clock_.now_ms(),
         who.staff_id});
    audit_.append(
        c, actor,
        {"crm_import_batch", store::as_int(br.rows[0][0]), std::string("import_") + ledger.kind,
         json::object{
             {"batch_key", batch_key}, {"inserted", written}, {"failed", failed_rows(errors)}}});
  });
  return result;
}

json::object CustomerService::trade_analysis(const Principal& who, int64_t customer_id,
                                             const Query& q) {
  record_alerts();
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
  std::string basis;
  db_.read([&](store::Connection& c) {
    if (customer_id) {
      basis = check_readable(c, who, customer_id);
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
    // 资金流水 over the same months and customers: money in, money out, net.
    std::string fwhere = where;
    for (auto [from_col, to_col] :
         {std::pair<std::string, std::string>{"t.trade_date", "f.flow_date"},
          {"t.customer_id", "f.customer_id"}})
      for (size_t p; (p = fwhere.find(from_col)) != std::string::npos;)
        fwhere.replace(p, from_col.size(), to_col);
    auto flows = c.exec(
        "SELECT substr(f.flow_date, 1, 7), SUM(CASE WHEN f.kind IN ('deposit', 'dividend', "
        "'interest') THEN "
        "f.amount_fen ELSE 0 END), SUM(CASE WHEN f.kind IN ('withdrawal', 'fee') THEN f.amount_fen "
        "ELSE 0 END) "
        "FROM crm_fund_flow f WHERE " +
            fwhere + " GROUP BY substr(f.flow_date, 1, 7) ORDER BY 1",
        params);
    json::array funds_out;
    int64_t in_total = 0, out_total = 0;
    for (auto& r : flows.rows) {
      int64_t in = store::as_int(r[1]), outgoing = store::as_int(r[2]);
      funds_out.push_back(json::object{{"month", store::as_text(r[0])},
                                       {"in_fen", in},
                                       {"out_fen", outgoing},
                                       {"net_fen", in - outgoing}});
      in_total += in;
      out_total += outgoing;
    }
    out["funds_by_month"] = std::move(funds_out);
    out["by_month"] = std::move(months_out);
    out["products"] = std::move(products_out);
    out["by_type"] = std::move(types_out);
    out["totals"] = json::object{{"trades", trades},
                                 {"amount_fen", amount},
                                 {"commission_fen", commission},
                                 {"active_days", days},
                                 {"funds_in_fen", in_total},
                                 {"funds_out_fen", out_total},
                                 {"trades_per_month", double(trades) / double(months)}};
  });
  if (customer_id) log_opening(who, customer_id, basis, "trades");
  return out;
}

}  // namespace kefu::crm
