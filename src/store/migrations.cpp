#include "store/migrations.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

namespace kefu::store {

std::string expand_dialect(const std::string& sql, Dialect d) {
  std::string out = sql;
  const std::string id =
      d == Dialect::sqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGSERIAL PRIMARY KEY";
  for (size_t p; (p = out.find("{{ID}}")) != std::string::npos;) out.replace(p, 6, id);
  return out;
}

std::vector<std::string> migrate(Database& db, const std::vector<Migration>& migrations) {
  std::vector<std::string> applied;
  db.write([&](Connection& c) {
    c.exec_script(
        "CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at BIGINT NOT "
        "NULL)");
  });
  for (const auto& m : migrations) {
    db.write([&](Connection& c) {
      // Two nodes starting together: the advisory lock makes the second wait, then see the row.
      if (c.dialect() == Dialect::postgres) c.exec("SELECT pg_advisory_xact_lock(7426001)", {});
      if (!c.exec("SELECT 1 FROM schema_migrations WHERE id = ?", {m.id}).empty()) return;
      const std::string& text =
          (c.dialect() == Dialect::postgres && !m.pg_sql.empty()) ? m.pg_sql : m.sql;
      c.exec_script(expand_dialect(text, c.dialect()));
      c.exec("INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)",
             {m.id, int64_t(std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count())});
      applied.push_back(m.id);
      spdlog::info("migration applied: {}", m.id);
    });
  }
  return applied;
}

}  // namespace kefu::store
