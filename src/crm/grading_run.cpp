// 客户分级 runs: trial calculation over every customer in the caller's scope, and applying a
// model as a versioned run with per-customer tier history.
#include <spdlog/spdlog.h>

#include "base/error.hpp"
#include "crm/grading.hpp"
#include "crm/service.hpp"
#include "store/database.hpp"
#include "store/sql.hpp"

namespace kefu::crm {

using store::Value;

namespace {

constexpr int64_t kPage = 20'000;  // customers read per query: memory stays flat at 10 million

// Days since 1970-01-01 of a "YYYY-MM-DD" (Howard Hinnant's civil-from-days, inverted).
int64_t days_of(const std::string& d) {
  if (d.size() != 10) return -1;
  int y = std::atoi(d.c_str()), m = std::atoi(d.c_str() + 5), day = std::atoi(d.c_str() + 8);
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// Calls fn(id, current tier, old score, new score, new tier) for every customer in scope that is
// not closed, a page at a time in id order.
template <class Fn>
void scan(store::Connection& c, const std::string& scope_where,
          const std::vector<Value>& scope_params, const GradingModel& m, int64_t now_ms, Fn&& fn) {
  std::string cols;
  for (auto& ind : m.indicators)
    cols += ", " + (ind.code == "tenure_days" ? std::string("c.opened_on") : "c." + ind.code);
  const int64_t today = now_ms / 86'400'000;
  std::vector<int64_t> values(m.indicators.size());
  int64_t after = 0;
  while (true) {
    std::vector<Value> params{after};
    params.insert(params.end(), scope_params.begin(), scope_params.end());
    params.emplace_back(kPage);
    auto r = c.exec("SELECT c.id, c.tier, c.score" + cols +
                        " FROM crm_customer c WHERE c.id > ? AND c.status <> 'closed'" +
                        scope_where + " ORDER BY c.id LIMIT ?",
                    params);
    for (auto& row : r.rows) {
      for (size_t i = 0; i < m.indicators.size(); ++i) {
        const Value& v = row[3 + i];
        if (store::is_null(v))
          values[i] = 0;
        else if (m.indicators[i].code == "tenure_days") {
          int64_t d = days_of(store::as_text(v));
          values[i] = d < 0 ? 0 : today - d;
        } else
          values[i] = store::as_int(v);
      }
      int64_t s = m.score(values.data());
      fn(store::as_int(row[0]), int(store::as_int(row[1])),
         store::is_null(row[2]) ? int64_t(-1) : store::as_int(row[2]), s, m.tier_of(s));
    }
    if (int64_t(r.size()) < kPage) break;
    after = store::as_int(r.rows.back()[0]);
  }
}

std::string scope_label(const Principal& who) {
  return who.scope == DataScope::all    ? "all"
         : who.scope == DataScope::self ? "self:" + std::to_string(who.staff_id)
                                        : "org:" + who.org_path;
}

}  // namespace

json::object CustomerService::trial(const Principal& who, const json::value& model) {
  if (!who.has("crm:grade")) throw Error::forbidden("you may not grade customers");
  GradingModel m = GradingModel::parse(model);
  std::string where;
  std::vector<Value> params;
  scope_sql(who, where, params);
  TrialResult t;
  db_.read([&](store::Connection& c) {
    scan(c, where, params, m, clock_.now_ms(),
         [&](int64_t, int cur, int64_t, int64_t s, int nt) { t.add(cur, s, nt); });
  });
  json::object out = t.to_json();
  out["model"] = m.to_json();
  return out;
}

json::object CustomerService::apply_grading(const Principal& who, const audit::Actor& actor,
                                            const json::value& model, const std::string& note) {
  if (!who.has("crm:grade")) throw Error::forbidden("you may not grade customers");
  if (note.size() > 400)
    throw Error::bad_request("too_long", "the note is at most 400 bytes", "note");
  GradingModel m = GradingModel::parse(model);
  std::string where;
  std::vector<Value> params;
  scope_sql(who, where, params);
  json::object out;
  db_.write([&](store::Connection& c) {
    const int64_t now = clock_.now_ms();
    TrialResult t;
    struct Change {
      int64_t id;
      int from, to;
      int64_t score;
    };
    std::vector<Change> changes;
    scan(c, where, params, m, now, [&](int64_t id, int cur, int64_t old_score, int64_t s, int nt) {
      t.add(cur, s, nt);
      if (nt != cur || old_score != s) changes.push_back({id, cur, nt, s});
    });
    auto run = c.exec(
        "INSERT INTO crm_grading_run (model, note, scope, customers, changed, per_tier, at, "
        "staff_id) VALUES (?, ?, ?, ?, "
        "?, ?, ?, ?) RETURNING id",
        {to_json(m.to_json()), note, scope_label(who), t.customers, t.up + t.down,
         to_json(t.to_json()["per_tier"]), now, who.staff_id});
    const int64_t run_id = store::as_int(run.rows[0][0]);
    // Multi-row statements: one UPDATE ... FROM (VALUES ...) per 500 customers, on both backends.
    for (size_t b = 0; b < changes.size(); b += 500) {
      size_t e = std::min(changes.size(), b + 500);
      std::string values, hist;
      std::vector<Value> p, hp;
      for (size_t i = b; i < e; ++i) {
        values +=
            i == b ? "(CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))" : ", (?, ?, ?)";
        p.insert(p.end(), {changes[i].id, int64_t(changes[i].to), changes[i].score});
        if (changes[i].from != changes[i].to) {
          hist += hist.empty() ? "(?, ?, ?, ?, ?, ?, ?)" : ", (?, ?, ?, ?, ?, ?, ?)";
          hp.insert(hp.end(), {changes[i].id, run_id, int64_t(changes[i].from),
                               int64_t(changes[i].to), changes[i].score, now, who.staff_id});
        }
      }
      p.emplace_back(now);
      c.exec(
          "UPDATE crm_customer SET tier = v.column2, score = v.column3, graded_at = ? FROM "
          "(VALUES " +
              values + ") AS v WHERE crm_customer.id = v.column1",
          [&] {
            // graded_at's placeholder comes first in the text: move it to the front.
            std::vector<Value> q{p.back()};
            q.insert(q.end(), p.begin(), p.end() - 1);
            return q;
          }());
      if (!hist.empty()) {
        c.exec(
            "INSERT INTO crm_tier_history (customer_id, run_id, from_tier, to_tier, score, at, "
            "staff_id) VALUES " +
                hist,
            hp);
        // The change feed carries tier changes to the external CRM.
        std::string ch;
        std::vector<Value> cp;
        for (size_t i = 0; i < hp.size(); i += 7) {
          ch += ch.empty() ? "(?, 'grading', '[\"tier\"]', ?, ?)"
                           : ", (?, 'grading', '[\"tier\"]', ?, ?)";
          cp.insert(cp.end(), {hp[i], now, who.staff_id});
        }
        c.exec("INSERT INTO crm_change (customer_id, action, fields, at, staff_id) VALUES " + ch,
               cp);
      }
    }
    audit_.append(
        c, actor,
        {"crm_grading_run", run_id, "apply",
         json::object{{"customers", t.customers}, {"up", t.up}, {"down", t.down}, {"note", note}}});
    out = t.to_json();
    out["run_id"] = run_id;
    out["model"] = m.to_json();
  });
  return out;
}

json::object CustomerService::grading_runs(const Principal& who) {
  if (!who.has("crm:grade")) throw Error::forbidden("you may not grade customers");
  json::object out;
  db_.read([&](store::Connection& c) {
    auto r = c.exec(
        "SELECT r.id, r.model, r.note, r.scope, r.customers, r.changed, r.per_tier, r.at, "
        "r.staff_id, s.name FROM "
        "crm_grading_run r LEFT JOIN staff s ON s.id = r.staff_id ORDER BY r.id DESC LIMIT 50",
        {});
    json::array items;
    for (size_t i = 0; i < r.size(); ++i) {
      auto o = store::row_json(r, i);
      o["model"] = parse_value(store::as_text(r.rows[i][1]));
      o["per_tier"] = parse_value(store::as_text(r.rows[i][6]));
      items.push_back(std::move(o));
    }
    out["items"] = std::move(items);
  });
  return out;
}

}  // namespace kefu::crm
