#pragma once
// Versioned schema migrations. Each module contributes an ordered list; ids are
// "<module>/<NNNN>_<name>" and are applied once, in order, inside one transaction each.
// SQL is shared by both backends; {{ID}} expands to each dialect's auto-increment key.
#include <string>
#include <vector>

#include "store/database.hpp"

namespace kefu::store {

struct Migration {
  std::string id;
  std::string sql;
  std::string pg_sql;  // when PostgreSQL needs different text (triggers, functions)
};

std::string expand_dialect(const std::string& sql, Dialect d);
// Returns the ids applied by this call.
std::vector<std::string> migrate(Database& db, const std::vector<Migration>& migrations);

}  // namespace kefu::store
