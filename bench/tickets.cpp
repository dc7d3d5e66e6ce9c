// Ticket benchmark (issue 19), each figure beside a baseline from the same run:
//   create    TicketService::create (type, workflow start, assignee, tasks, SLA timers, history,
//             operation log; one transaction) vs a bare INSERT of the same ticket row, one
//             transaction each;
//   timers    one tick of the SLA timer loop over OPEN open tickets with nothing due (an index
//             probe on ticket_timer.fires_at) vs the scan a naive loop makes (every open ticket's
//             deadline read and compared), then the cost of each escalation that fires;
//   views     我的待办 of a handler, the overdue view and a branch's team view over OPEN tickets,
//             p50/p99 of 200 queries each, beside COUNT(*) of the open tickets.
//   kefu_bench_tickets OPEN DB   (DB: a SQLite path or a postgresql:// URL, empty)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "app/application.hpp"
#include "base/crypto.hpp"
#include "base/log.hpp"
#include "percentiles.hpp"
#include "scalar.hpp"
#include "store/database.hpp"
#include "ticket/service.hpp"

using namespace kefu;
using Steady = std::chrono::steady_clock;

namespace {

double ms_since(Steady::time_point t0) {
  return std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
}

using bench::stats;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: kefu_bench_tickets OPEN DB\n");
    return 2;
  }
  const long open = std::atol(argv[1]);
  const std::string db_url = argv[2];
  crypto::init();
  init_logging("warn");
  Config config;
  config.set("db", db_url);
  config.set("admin_password", "Bench@2026x");
  Application app(config);
  app.migrate();
  app.load_demo_data();
  auto& tickets = app.tickets();
  auto& db = app.db();
  std::printf("tickets on %s, %ld open\n",
              db_url.rfind("postgres", 0) == 0 ? "PostgreSQL" : "SQLite", open);

  // ---- create: the service vs a bare INSERT of the same row -----------------------------------
  Principal agent;
  db.read([&](store::Connection& c) {
    auto r = c.exec(
        "SELECT s.id, s.org_id, o.path FROM staff s JOIN org_unit o ON o.id = s.org_id WHERE "
        "s.username = 'liuyang'");
    agent.staff_id = store::as_int(r.rows[0][0]);
    agent.org_id = store::as_int(r.rows[0][1]);
    agent.org_path = store::as_text(r.rows[0][2]);
  });
  agent.username = "liuyang";
  agent.permissions = {"ticket:create"};
  audit::Actor actor{agent.staff_id, "liuyang", "", "bench"};
  const int creates = 2'000;
  std::vector<double> svc_ms, bare_ms;
  for (int i = 0; i < creates; ++i) {
    auto t0 = Steady::now();
    db.write([&](store::Connection& c) {
      tickets.create(
          c, agent, actor,
          json::object{{"type", "consult"}, {"title", "基准测试工单"}, {"channel", "phone"}});
    });
    svc_ms.push_back(ms_since(t0));
  }
  int64_t type_id = bench::scalar(db, "SELECT id FROM ticket_type WHERE code = 'consult'");
  int64_t def_id =
      bench::scalar(db, "SELECT id FROM wf_definition WHERE code = 'general' ORDER BY version DESC LIMIT 1");
  for (int i = 0; i < creates; ++i) {
    auto t0 = Steady::now();
    db.write([&](store::Connection& c) {
      c.exec(
          "INSERT INTO ticket (no, type_id, title, description, status, priority, channel, org_id, "
          "org_path, creator_id, "
          "fields, wf_definition_id, wf_state, created_at, updated_at) VALUES (?, ?, "
          "'基准测试工单', '', 'open', 2, "
          "'phone', ?, ?, ?, '{}', ?, '{}', ?, ?)",
          {"BARE" + std::to_string(i), type_id, agent.org_id, agent.org_path, agent.staff_id,
           def_id, now_ms(), now_ms()});
    });
    bare_ms.push_back(ms_since(t0));
  }
  auto s = stats(svc_ms), b = stats(bare_ms);
  std::printf(
      "create      service p50 %6.3f ms p99 %6.3f ms (%5.0f/s)   bare INSERT p50 %6.3f ms p99 "
      "%6.3f ms (%5.0f/s)   "
      "ratio(mean) %.1fx\n",
      s.p50_ms, s.p99_ms, 1000 / s.mean_ms, b.p50_ms, b.p99_ms, 1000 / b.mean_ms,
      s.mean_ms / b.mean_ms);

  // ---- a population of open tickets, loaded in bulk -------------------------------------------
  std::vector<std::pair<int64_t, std::string>>
      units;  // (org, path) of the branches' and HQ's teams
  std::vector<int64_t> handlers;
  db.read([&](store::Connection& c) {
    for (auto& r :
         c.exec("SELECT id, path FROM org_unit WHERE kind IN ('team', 'department')").rows)
      units.emplace_back(store::as_int(r[0]), store::as_text(r[1]));
    for (auto& r : c.exec("SELECT id FROM staff ORDER BY id").rows)
      handlers.push_back(store::as_int(r[0]));
  });
  std::mt19937_64 rng(19);
  int64_t now = now_ms(), base_id = 10'000'000;
  auto t_load = Steady::now();
  for (long done = 0; done < open;) {
    long batch = std::min<long>(20'000, open - done);
    std::vector<std::vector<store::Value>> trows, krows, xrows;
    for (long i = 0; i < batch; ++i, ++done) {
      int64_t id = base_id + done;
      auto& u = units[size_t(rng() % units.size())];
      int64_t holder = handlers[size_t(rng() % handlers.size())];
      int64_t due = now + 60'000 + int64_t(rng() % (30ull * 86'400'000));  // within the next month
      std::string state =
          R"({"status":"running","tokens":[{"id":1,"node":"handle","path":["s","accept","handle"],"due_at":0}],)"
          R"("tasks":[{"id":1,"token":1,"node":"handle","kind":"task","status":"open","assignee":{"staff_id":)" +
          std::to_string(holder) +
          R"(},"outcome":"","done_by":0,"opened_by":0,"parent":0,"withdrawable":false}],"arrivals":{},)"
          R"("next_task":2,"next_token":2,"end_node":"","suspended_at":0,"trail":["s","accept","handle"]})";
      trows.push_back({id, "BK" + std::to_string(id), type_id, std::string("批量工单"),
                       std::string(""), std::string("open"), int64_t(2), u.first, u.second,
                       agent.staff_id, std::string("{}"), def_id, state, now, now, due});
      krows.push_back({id, int64_t(1), std::string("handle"), std::string("处理"),
                       std::string("task"), std::string("open"), holder, now});
      xrows.push_back({id, std::string("overdue"), int64_t(0), int64_t(1), due});
    }
    db.write([&](store::Connection& c) {
      c.insert_rows("ticket",
                    {"id", "no", "type_id", "title", "description", "status", "priority", "org_id",
                     "org_path", "creator_id", "fields", "wf_definition_id", "wf_state",
                     "created_at", "updated_at", "resolve_due"},
                    trows);
      c.insert_rows(
          "ticket_task",
          {"ticket_id", "seq", "node", "node_name", "kind", "status", "staff_id", "created_at"},
          krows);
      c.insert_rows("ticket_timer", {"ticket_id", "kind", "token", "level", "fires_at"}, xrows);
    });
  }
  db.write([&](store::Connection& c) {
    if (c.dialect() == store::Dialect::postgres)
      c.exec_script("ANALYZE ticket; ANALYZE ticket_task; ANALYZE ticket_timer;");
    else
      c.exec_script("ANALYZE;");
  });
  std::printf("loaded %ld open tickets in %.1f s\n", open, ms_since(t_load) / 1000);

  // ---- timers: an idle tick, indexed vs a scan; then escalations firing ------------------------
  std::vector<double> idle, scan;
  for (int i = 0; i < 200; ++i) {
    auto t0 = Steady::now();
    tickets.run_due_timers();
    idle.push_back(ms_since(t0));
  }
  for (int i = 0; i < 20; ++i) {
    auto t0 = Steady::now();
    int due = 0;
    db.read([&](store::Connection& c) {
      int64_t at = now_ms();
      for (auto& r :
           c.exec("SELECT id, resolve_due, escalation FROM ticket WHERE status = 'open'").rows)
        if (!store::is_null(r[1]) && store::as_int(r[1]) <= at) ++due;
    });
    scan.push_back(ms_since(t0));
    (void)due;
  }
  auto si = stats(idle), ss = stats(scan);
  std::printf(
      "timer tick  indexed p50 %8.3f ms p99 %8.3f ms   scan of open tickets p50 %8.3f ms p99 %8.3f "
      "ms   ratio(p50) %.0fx\n",
      si.p50_ms, si.p99_ms, ss.p50_ms, ss.p99_ms, ss.p50_ms / si.p50_ms);
  const int firing = 500;
  db.write([&](store::Connection& c) {
    c.exec("UPDATE ticket_timer SET fires_at = ? WHERE ticket_id >= ? AND ticket_id < ?",
           {now_ms() - 1, base_id, base_id + firing});
    c.exec("UPDATE ticket SET resolve_due = ? WHERE id >= ? AND id < ?",
           {now_ms() - 1, base_id, base_id + firing});
  });
  auto t_fire = Steady::now();
  int fired = 0;
  while (int n = tickets.run_due_timers()) fired += n;
  double fire_ms = ms_since(t_fire);
  std::printf(
      "escalation  %d fired in %.1f ms: %.3f ms each (load, leader lookup, history, next timer; "
      "one commit)\n",
      fired, fire_ms, fire_ms / std::max(1, fired));

  // ---- views ----------------------------------------------------------------------------------
  auto time_view = [&](const Principal& who, const char* view) {
    std::vector<double> v;
    for (int i = 0; i < 200; ++i) {
      auto t0 = Steady::now();
      tickets.list(who, {{"view", view}, {"page", std::to_string(1 + i % 5)}});
      v.push_back(ms_since(t0));
    }
    return stats(v);
  };
  Principal handler = agent;
  handler.staff_id = handlers[handlers.size() / 2];
  Principal hq = system_principal();
  hq.permissions = {"ticket:read"};
  Principal branch;
  branch.staff_id = -1;
  branch.permissions = {"ticket:read"};
  branch.scope = DataScope::subtree;
  db.read([&](store::Connection& c) {
    auto r = c.exec("SELECT id, path FROM org_unit WHERE code = 'SH'");
    branch.org_id = store::as_int(r.rows[0][0]);
    branch.org_path = store::as_text(r.rows[0][1]);
  });
  std::vector<double> counts;
  for (int i = 0; i < 20; ++i) {
    auto t0 = Steady::now();
    bench::scalar(db, "SELECT COUNT(*) FROM ticket WHERE status = 'open'");
    counts.push_back(ms_since(t0));
  }
  auto todo = time_view(handler, "todo"), overdue = time_view(hq, "overdue"),
       team = time_view(branch, "team");
  auto cnt = stats(counts);
  std::printf(
      "views       todo p50 %7.2f ms p99 %7.2f ms   overdue p50 %7.2f ms p99 %7.2f ms   branch "
      "team p50 %7.2f ms "
      "p99 %7.2f ms   COUNT(*) open p50 %7.2f ms\n",
      todo.p50_ms, todo.p99_ms, overdue.p50_ms, overdue.p99_ms, team.p50_ms, team.p99_ms,
      cnt.p50_ms);
  return 0;
}
