#include <set>

#include "meta/registry.hpp"
#include "store/migrations.hpp"

namespace kefu::meta {

std::string column_type(FieldType t) {
  switch (t) {
    case FieldType::integer:
    case FieldType::money:
    case FieldType::boolean:
    case FieldType::datetime:
    case FieldType::ref: return "BIGINT";
    default: return "TEXT";
  }
}

std::vector<std::string> entity_ddl(const Entity& e, store::Dialect d) {
  std::vector<std::string> out;
  std::string sql = "CREATE TABLE IF NOT EXISTS " + e.name + " (id {{ID}}";
  sql += ", version BIGINT NOT NULL DEFAULT 1, archived BIGINT NOT NULL DEFAULT 0";
  sql += ", created_at BIGINT NOT NULL, created_by BIGINT NOT NULL DEFAULT 0";
  sql += ", updated_at BIGINT NOT NULL, updated_by BIGINT NOT NULL DEFAULT 0";
  for (auto& f : e.fields) sql += ", " + f.name + " " + column_type(f.type);
  sql += ")";
  out.push_back(store::expand_dialect(sql, d));
  for (auto& f : e.fields) {
    if (f.unique)
      out.push_back("CREATE UNIQUE INDEX IF NOT EXISTS ux_" + e.name + "_" + f.name + " ON " + e.name + " (" + f.name + ")");
    else if (f.filterable || f.sortable || f.type == FieldType::ref || f.name == e.scope_column)
      // Every list query has "archived = 0": with it in the index, counts never visit the table.
      out.push_back("CREATE INDEX IF NOT EXISTS ix_" + e.name + "_" + f.name + "_a ON " + e.name + " (" + f.name +
                    ", archived)");
  }
  return out;
}

void Registry::sync_schema(store::Database& db) const {
  db.write([&](store::Connection& c) {
    if (c.dialect() == store::Dialect::postgres) c.exec("SELECT pg_advisory_xact_lock(7426002)", {});
    for (auto& e : entities_) {
      auto ddl = entity_ddl(*e, c.dialect());
      c.exec_script(ddl.front());
      // Columns declared after the table was created are added, never dropped: old data stays.
      auto cols = c.exec("SELECT * FROM " + e->name + " WHERE 1 = 0", {}).columns;
      std::set<std::string> have(cols.begin(), cols.end());
      for (auto& f : e->fields)
        if (!have.count(f.name)) c.exec_script("ALTER TABLE " + e->name + " ADD COLUMN " + f.name + " " + column_type(f.type));
      for (size_t i = 1; i < ddl.size(); ++i) c.exec_script(ddl[i]);
    }
  });
}

}  // namespace kefu::meta
