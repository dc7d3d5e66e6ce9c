#pragma once
// Storage interface shared by the SQLite (embedded) and PostgreSQL (server) backends.
// SQL is written once with `?` placeholders; the PostgreSQL backend rewrites them to $n.
// Reads run on a pool; writes run in a transaction that commits when the callback returns
// and rolls back if it throws, so a failed request never leaves half a change behind.
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kefu {
struct Config;
}

namespace kefu::store {

enum class Dialect { sqlite, postgres };

using Null = std::monostate;
using Value = std::variant<Null, int64_t, double, std::string>;

inline bool is_null(const Value& v) {
  return std::holds_alternative<Null>(v);
}
int64_t as_int(const Value& v);       // text digits are accepted too
std::string as_text(const Value& v);  // numbers are formatted

struct Result {
  std::vector<std::string> columns;
  std::vector<std::vector<Value>> rows;
  int64_t affected = 0;

  bool empty() const { return rows.empty(); }
  size_t size() const { return rows.size(); }
  int column(std::string_view name) const;  // -1 when absent
};

// A database failure, classified so callers can map constraint violations to 409s.
class DbError : public std::runtime_error {
 public:
  enum class Kind { unique, foreign_key, not_null, check, busy, connection, other };
  DbError(Kind kind, const std::string& msg) : std::runtime_error(msg), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

class Connection {
 public:
  virtual ~Connection() = default;
  virtual Dialect dialect() const = 0;
  virtual Result exec(std::string_view sql, const std::vector<Value>& params = {}) = 0;
  // Several statements, no parameters (migrations).
  virtual void exec_script(std::string_view sql) = 0;
  // Many new rows at once (bulk imports): PostgreSQL streams them with COPY; the default is
  // multi-row INSERTs. Either all rows go in or it throws (a unique index: DbError::unique).
  virtual void insert_rows(std::string_view table, const std::vector<std::string>& columns,
                           const std::vector<std::vector<Value>>& rows);
};

struct PoolStats {
  int size = 0;
  int in_use = 0;
  int64_t waits = 0;  // acquisitions that had to wait for a free connection
};

class Database {
 public:
  virtual ~Database() = default;
  virtual Dialect dialect() const = 0;
  virtual void read(const std::function<void(Connection&)>& fn) = 0;
  // For exactly one statement, which is its own snapshot: skips the explicit transaction
  // (two round trips of BEGIN/COMMIT on the hottest path, a record GET).
  virtual void read_one(const std::function<void(Connection&)>& fn) { read(fn); }
  virtual void write(const std::function<void(Connection&)>& fn) = 0;
  virtual PoolStats stats() const = 0;
  virtual void close() = 0;
  // SQLite: online backup to a file. PostgreSQL: throws (use pg_dump).
  virtual void backup_to(const std::string& path) = 0;
  virtual std::string describe() const = 0;  // for logs, without secrets

  template <class F>
  auto read_result(F&& f) {
    decltype(f(std::declval<Connection&>())) out{};
    read([&](Connection& c) { out = f(c); });
    return out;
  }
  template <class F>
  auto write_result(F&& f) {
    decltype(f(std::declval<Connection&>())) out{};
    write([&](Connection& c) { out = f(c); });
    return out;
  }
};

std::unique_ptr<Database> open_sqlite(const std::string& path, int readers,
                                      const std::string& synchronous);
std::unique_ptr<Database> open_postgres(const std::string& url, int pool_size);
std::unique_ptr<Database> open_database(const Config& config);

}  // namespace kefu::store
