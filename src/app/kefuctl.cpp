// kefuctl: administration from the shell. Uses the same configuration as kefud.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "acd/erlang.hpp"
#include "app/application.hpp"
#include "base/crypto.hpp"
#include "base/log.hpp"
#include "crm/service.hpp"
#include "cti/simulation.hpp"
#include "meta/exchange.hpp"

extern char** environ;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int run_simulation(const kefu::cti::SimulationParams& p) {
  auto t0 = std::chrono::steady_clock::now();
  auto r = kefu::cti::simulate(p);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double load = p.calls_per_s * p.aht_s;
  std::printf("simulated %.1f h: %d agents, %.3f calls/s, AHT %.0f s (%.1f Erlangs), patience %s\n",
              p.hours, p.agents, p.calls_per_s, p.aht_s, load,
              p.patience_s > 0 ? (std::to_string(int(p.patience_s)) + " s").c_str() : "none");
  if (p.ring_s > 0 || p.wrap_up_s > 0)
    std::printf(
        "ring %.1f s and wrap-up %.1f s per call lengthen service: theory below assumes neither\n",
        p.ring_s, p.wrap_up_s);
  std::printf("offered %ld  answered %ld  abandoned %ld  wall %.2f s\n", r.offered, r.answered,
              r.abandoned, wall);
  std::printf(
      "core: %ld steps, %ld switch events, %ld facts; after the drain %ld calls open, %ld agents "
      "not ready\n",
      r.steps, r.switch_events, r.facts, r.open_calls, r.stuck_agents);
  std::printf("%-28s %10s %10s\n", "", "simulated", p.patience_s > 0 ? "Erlang A" : "Erlang C");
  if (p.patience_s > 0) {
    auto a = kefu::acd::erlang_a(p.calls_per_s, p.aht_s, p.agents, p.patience_s);
    std::printf("%-28s %10.4f %10.4f\n", "P(wait)", r.p_wait, a.p_wait);
    std::printf("%-28s %10.4f %10.4f\n", "abandon rate", r.abandon_rate, a.p_abandon);
    std::printf("%-28s %10.2f %10.2f\n", "mean wait, all callers (s)", r.mean_wait_s,
                a.mean_wait_s);
    std::printf("%-28s %10.4f %10.4f\n", "occupancy", r.occupancy, a.occupancy);
    std::printf("%-28s %10.4f %10s\n", "service level", r.service_level, "-");
    std::printf("%-28s %10.2f %10s\n", "ASA (s)", r.asa_s, "-");
  } else if (load < p.agents) {
    auto c = kefu::acd::erlang_c(p.calls_per_s, p.aht_s, p.agents, p.sl_threshold_s);
    std::printf("%-28s %10.4f %10.4f\n", "P(wait)", r.p_wait, c.p_wait);
    std::printf("%-28s %10.4f %10.4f\n", "service level", r.service_level, c.sl);
    std::printf("%-28s %10.2f %10.2f\n", "ASA (s)", r.asa_s, c.asa_s);
    std::printf("%-28s %10.4f %10.4f\n", "occupancy", r.occupancy, load / p.agents);
  } else {
    std::printf("offered load is not below the number of agents: Erlang C has no steady state\n");
    std::printf("service level %.4f  ASA %.2f s  occupancy %.4f\n", r.service_level, r.asa_s,
                r.occupancy);
  }
  return r.open_calls == 0 && r.stuck_agents == 0 ? 0 : 4;  // something was left stuck
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"kefuctl — Kefu administration"};
  cli.require_subcommand(1);
  std::string config_file, db;
  cli.add_option("-c,--config", config_file, "TOML configuration file");
  cli.add_option("--db", db, "SQLite path or postgresql:// URL");

  auto* migrate = cli.add_subcommand("migrate", "apply database migrations");
  std::string admin_user = "admin", admin_pw;
  auto* create_admin =
      cli.add_subcommand("create-admin", "create or reset the first administrator");
  create_admin->add_option("--username", admin_user, "user name (default admin)");
  create_admin->add_option("--password", admin_pw, "password (or KEFU_ADMIN_PASSWORD)");
  auto* demo = cli.add_subcommand("demo", "load the demo data");
  std::string entity, file, format = "csv", mode = "all", out;
  auto* import = cli.add_subcommand("import", "import a CSV file into an entity");
  import->add_option("entity", entity)->required();
  import->add_option("file", file)->required();
  import->add_option("--mode", mode, "all (all or nothing) or valid (write the good rows)");
  auto* crm_import = cli.add_subcommand(
      "crm-import",
      "import customers from a CSV file (trading counter, CRM), upsert by external key");
  std::string batch_key;
  size_t batch_rows = 10'000;
  crm_import->add_option("file", file, "CSV file")->required();
  crm_import->add_option("--batch-key", batch_key, "idempotency key of the file (batches add :N)")
      ->required();
  crm_import->add_option("--mode", mode,
                         "all (default: each batch all or nothing) or valid (good rows written)");
  crm_import->add_option("--batch-rows", batch_rows, "rows per batch (transaction)");
  auto* export_ = cli.add_subcommand("export", "export an entity as CSV or XLSX");
  export_->add_option("entity", entity)->required();
  export_->add_option("--format", format, "csv or xlsx");
  export_->add_option("-o,--out", out, "output file (default stdout for CSV)");
  std::string backup_path;
  auto* backup =
      cli.add_subcommand("backup", "online backup (SQLite) or the pg_dump command (PostgreSQL)");
  backup->add_option("path", backup_path)->required();
  auto* routes = cli.add_subcommand(
      "routes", "list every HTTP route kefud serves: method, path pattern, permission");
  auto* audit = cli.add_subcommand("audit", "operation log tools");
  auto* verify = audit->add_subcommand("verify", "check the hash chain; exit 3 when tampered with");
  audit->require_subcommand(1);
  kefu::cti::SimulationParams sim;
  auto* simulate = cli.add_subcommand("simulate",
                                      "run simulated traffic through the real-time core on the "
                                      "simulator switch; compare with Erlang C/A");
  simulate->add_option("--agents", sim.agents, "agents (default 20)");
  simulate->add_option("--rate", sim.calls_per_s, "calls per second (Poisson)");
  simulate->add_option("--aht", sim.aht_s, "mean handle time, seconds (exponential)");
  simulate->add_option("--patience", sim.patience_s,
                       "mean caller patience, seconds (exponential; 0 = never abandon)");
  simulate->add_option("--hours", sim.hours, "simulated hours");
  simulate->add_option("--sl", sim.sl_threshold_s, "service-level threshold T, seconds");
  simulate->add_option("--ring", sim.ring_s,
                       "seconds an agent's phone rings before he answers (default 0)");
  simulate->add_option("--wrap-up", sim.wrap_up_s, "after-call work per call, seconds (default 0)");
  simulate->add_option("--seed", sim.seed, "random seed");
  CLI11_PARSE(cli, argc, argv);

  if (*simulate) return run_simulation(sim);  // needs no database

  try {
    kefu::crypto::init();
    kefu::Config config = kefu::Config::load(config_file, environ);
    if (!db.empty()) config.set("db", db);
    config.db_readers = 1;
    kefu::init_logging("warn");

    if (*backup && config.is_postgres()) {
      std::cout << "pg_dump --format=custom --file=" << backup_path << " '" << config.db << "'\n";
      return 0;
    }
    kefu::Application app(config);
    if (*routes) {
      for (auto& r : app.router().routes())
        std::cout << r.method << ' ' << r.pattern << ' ' << r.permission << '\n';
      return 0;
    }
    if (*migrate) {
      app.migrate();
      std::cout << "database is up to date\n";
      return 0;
    }
    app.migrate();
    auto sys = kefu::system_principal();
    kefu::audit::Actor actor{0, "kefuctl", "", "kefuctl"};
    if (*create_admin) {
      if (admin_pw.empty())
        if (const char* p = std::getenv("KEFU_ADMIN_PASSWORD")) admin_pw = p;
      if (admin_pw.empty()) throw std::runtime_error("give --password or set KEFU_ADMIN_PASSWORD");
      app.auth().create_admin(admin_user, admin_pw, false);
      std::cout << "administrator '" << admin_user << "' is ready\n";
    } else if (*demo) {
      app.load_demo_data();
      std::cout << "demo data loaded\n";
    } else if (*import) {
      const auto& e = app.registry().get(entity);
      auto res = kefu::meta::import_csv(app.repo(), app.reviews(), e, sys, actor, read_file(file),
                                        mode != "valid");
      std::cout << kefu::to_json(kefu::json::object{{"written", res.written},
                                                    {"submitted", res.submitted},
                                                    {"rejected", res.rejected},
                                                    {"errors", res.errors}})
                << "\n";
      return res.rejected ? 3 : 0;
    } else if (*crm_import) {
      // A re-run after a failure skips the batches already in (same key, same content).
      std::string text = read_file(file);
      int64_t batch = 0, inserted = 0, updated = 0, failed = 0, replayed = 0;
      kefu::json::array errors;
      auto t0 = std::chrono::steady_clock::now();
      kefu::crm::for_each_csv_batch(text, batch_rows, [&](kefu::json::array rows, int64_t first) {
        auto r = app.crm().import_customers(sys, actor, batch_key + ":" + std::to_string(++batch),
                                            rows, mode == "all",
                                            kefu::crypto::sha256_hex(kefu::to_json(rows)));
        inserted += r.at("inserted").as_int64();
        updated += r.at("updated").as_int64();
        failed += r.at("failed").as_int64();
        replayed += r.at("replayed").as_bool();
        for (auto& e : r.at("errors").as_array())
          if (errors.size() < 100) {
            auto o = e.as_object();
            o["row"] = o["row"].as_int64() + first - 1;
            errors.push_back(std::move(o));
          }
      });
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::cout << kefu::to_json(kefu::json::object{{"batches", batch},
                                                    {"inserted", inserted},
                                                    {"updated", updated},
                                                    {"failed", failed},
                                                    {"replayed_batches", replayed},
                                                    {"seconds", s},
                                                    {"errors", errors}})
                << "\n";
      return failed ? 3 : 0;
    } else if (*export_) {
      const auto& e = app.registry().get(entity);
      auto rows = app.repo().list_all(e, sys, {}, 10'000'000);
      std::string data =
          format == "xlsx" ? kefu::meta::export_xlsx(e, rows) : kefu::meta::export_csv(e, rows);
      if (out.empty() && format == "xlsx") throw std::runtime_error("give -o FILE for xlsx");
      if (out.empty())
        std::cout << data;
      else
        std::ofstream(out, std::ios::binary) << data;
    } else if (*backup) {
      app.db().backup_to(backup_path);
      std::cout << "backup written to " << backup_path << "\n";
    } else if (*verify) {
      auto rep = app.audit().verify(app.db());
      if (rep.ok) {
        std::cout << "operation log intact: " << rep.rows << " rows\n";
        return 0;
      }
      std::cout << "operation log TAMPERED: " << rep.problem << " (after " << rep.rows
                << " good rows)\n";
      return 3;
    }
    app.db().close();
    return 0;
  } catch (const kefu::Error& e) {
    std::cerr << "kefuctl: " << e.code() << ": " << e.what()
              << (e.field().empty() ? "" : " (" + e.field() + ")") << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "kefuctl: " << e.what() << "\n";
    return 1;
  }
}
