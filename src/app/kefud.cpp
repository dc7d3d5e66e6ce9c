// kefud: the Kefu server. Configuration: defaults < --config file (or KEFU_CONFIG)
// < KEFU_* environment < flags.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdlib>

#include "app/application.hpp"
#include "base/crypto.hpp"
#include "base/log.hpp"

extern char** environ;

int main(int argc, char** argv) {
  CLI::App cli{"kefud — Kefu contact-center server"};
  std::string config_file, listen, db;
  std::vector<std::string> sets;
  bool demo = false;
  cli.add_option("-c,--config", config_file, "TOML configuration file");
  cli.add_option("--listen", listen, "address:port to listen on (default 127.0.0.1:8080)");
  cli.add_option("--db", db, "SQLite path or postgresql:// URL");
  cli.add_option("--set", sets, "key=value for any configuration key");
  cli.add_flag("--demo", demo, "load demo data on start");
  CLI11_PARSE(cli, argc, argv);
  try {
    kefu::crypto::init();
    kefu::Config config = kefu::Config::load(config_file, environ);
    if (!listen.empty()) config.set("listen", listen);
    if (!db.empty()) config.set("db", db);
    if (demo) config.set("demo", "true");
    for (auto& kv : sets) {
      auto eq = kv.find('=');
      if (eq == std::string::npos) throw std::invalid_argument("--set expects key=value, got " + kv);
      config.set(kv.substr(0, eq), kv.substr(eq + 1));
    }
    kefu::init_logging(config.log_level);
    kefu::Application app(config);
    app.migrate();
    if (config.demo) app.load_demo_data();
    return app.serve();
  } catch (const std::exception& e) {
    fprintf(stderr, "kefud: %s\n", e.what());
    return 1;
  }
}
