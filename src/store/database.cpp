#include "store/database.hpp"

#include <charconv>
#include <cstdio>

#include "base/config.hpp"

namespace kefu::store {

int64_t as_int(const Value& v) {
  if (auto p = std::get_if<int64_t>(&v)) return *p;
  if (auto d = std::get_if<double>(&v)) return int64_t(*d);
  if (auto s = std::get_if<std::string>(&v)) {
    int64_t n = 0;
    std::from_chars(s->data(), s->data() + s->size(), n);
    return n;
  }
  return 0;
}

void Connection::insert_rows(std::string_view table, const std::vector<std::string>& columns,
                             const std::vector<std::vector<Value>>& rows) {
  if (rows.empty()) return;
  std::string head = "INSERT INTO " + std::string(table) + " (";
  for (size_t c = 0; c < columns.size(); ++c) head += (c ? ", " : "") + columns[c];
  head += ") VALUES ";
  std::string one = "(";
  for (size_t c = 0; c < columns.size(); ++c) one += c ? ", ?" : "?";
  one += ")";
  // Statements of a fixed size (and one for the rest), so a statement cache sees few shapes.
  const size_t per = std::max<size_t>(1, 4000 / std::max<size_t>(1, columns.size()));
  for (size_t b = 0; b < rows.size(); b += per) {
    size_t e = std::min(rows.size(), b + per);
    std::string sql = head;
    std::vector<Value> params;
    params.reserve((e - b) * columns.size());
    for (size_t i = b; i < e; ++i) {
      sql += i == b ? one : ", " + one;
      params.insert(params.end(), rows[i].begin(), rows[i].end());
    }
    exec(sql, params);
  }
}

std::string as_text(const Value& v) {
  if (auto s = std::get_if<std::string>(&v)) return *s;
  if (auto p = std::get_if<int64_t>(&v)) return std::to_string(*p);
  if (auto d = std::get_if<double>(&v)) {
    char buf[32];
    snprintf(buf, sizeof buf, "%.17g", *d);
    return buf;
  }
  return {};
}

int Result::column(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == name) return int(i);
  return -1;
}

std::unique_ptr<Database> open_database(const Config& config) {
  if (config.is_postgres()) return open_postgres(config.db, config.db_readers);
  return open_sqlite(config.db, config.db_readers, config.sqlite_synchronous);
}

}  // namespace kefu::store
