// PostgreSQL backend over libpq: a pool of connections, statements prepared once per
// connection, values sent as text and decoded by column type.
#include <libpq-fe.h>

#include <charconv>
#include <cstring>
#include <unordered_map>

#include "store/database.hpp"
#include "store/pool.hpp"
#include "store/sql.hpp"

namespace kefu::store {
namespace {

// Type OIDs from pg_type.h (stable across versions).
constexpr Oid kBool = 16, kInt8 = 20, kInt2 = 21, kInt4 = 23, kFloat4 = 700, kFloat8 = 701;

DbError pg_error(PGconn* conn, PGresult* res, std::string_view sql) {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  msg += " [" + std::string(sql.substr(0, 120)) + "]";
  using K = DbError::Kind;
  std::string s = state ? state : "";
  if (s == "23505") return DbError(K::unique, msg);
  if (s == "23503") return DbError(K::foreign_key, msg);
  if (s == "23502") return DbError(K::not_null, msg);
  if (s == "23514") return DbError(K::check, msg);
  if (s == "40001" || s == "40P01" || s == "55P03") return DbError(K::busy, msg);
  if (PQstatus(conn) != CONNECTION_OK || s.rfind("08", 0) == 0) return DbError(K::connection, msg);
  return DbError(K::other, msg);
}

class PgConnection final : public Connection {
 public:
  explicit PgConnection(const std::string& url) {
    conn_ = PQconnectdb(url.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) {
      std::string msg = PQerrorMessage(conn_);
      PQfinish(conn_);
      throw DbError(DbError::Kind::connection, "cannot connect to PostgreSQL: " + msg);
    }
    exec_script(
        "SET client_encoding TO 'UTF8'; SET TIME ZONE 'UTC'; SET client_min_messages TO WARNING");
  }
  ~PgConnection() override { PQfinish(conn_); }

  Dialect dialect() const override { return Dialect::postgres; }

  // After a lost connection the cached statements are gone with it.
  bool ensure_alive() {
    if (PQstatus(conn_) == CONNECTION_OK) return true;
    PQreset(conn_);
    prepared_.clear();
    return PQstatus(conn_) == CONNECTION_OK;
  }

  Result exec(std::string_view sql, const std::vector<Value>& params) override {
    const std::string& name = prepare(sql);
    std::vector<std::string> text(params.size());
    std::vector<const char*> ptrs(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      if (is_null(params[i])) {
        ptrs[i] = nullptr;
      } else {
        text[i] = as_text(params[i]);
        ptrs[i] = text[i].c_str();
      }
    }
    PGresult* res =
        PQexecPrepared(conn_, name.c_str(), int(params.size()), ptrs.data(), nullptr, nullptr, 0);
    struct Clear {
      PGresult* r;
      ~Clear() { PQclear(r); }
    } clear{res};
    auto status = PQresultStatus(res);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) throw pg_error(conn_, res, sql);
    Result r;
    int ncol = PQnfields(res), nrow = PQntuples(res);
    std::vector<Oid> types(ncol);
    for (int c = 0; c < ncol; ++c) {
      r.columns.emplace_back(PQfname(res, c));
      types[c] = PQftype(res, c);
    }
    r.rows.reserve(nrow);
    for (int i = 0; i < nrow; ++i) {
      std::vector<Value> row;
      row.reserve(ncol);
      for (int c = 0; c < ncol; ++c) {
        if (PQgetisnull(res, i, c)) {
          row.emplace_back(Null{});
          continue;
        }
        const char* v = PQgetvalue(res, i, c);
        int len = PQgetlength(res, i, c);
        switch (types[c]) {
          case kInt8:
          case kInt4:
          case kInt2: {
            int64_t n = 0;
            std::from_chars(v, v + len, n);
            row.emplace_back(n);
            break;
          }
          case kFloat4:
          case kFloat8:
            row.emplace_back(strtod(v, nullptr));
            break;
          case kBool:
            row.emplace_back(int64_t(v[0] == 't'));
            break;
          default:
            row.emplace_back(std::string(v, size_t(len)));
        }
      }
      r.rows.push_back(std::move(row));
    }
    const char* tuples = PQcmdTuples(res);
    r.affected = (tuples && *tuples) ? atoll(tuples) : 0;
    return r;
  }

  void exec_script(std::string_view sql) override {
    std::string s(sql);
    PGresult* res = PQexec(conn_, s.c_str());
    struct Clear {
      PGresult* r;
      ~Clear() { PQclear(r); }
    } clear{res};
    auto st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) throw pg_error(conn_, res, sql);
  }

  // COPY … FROM STDIN in text format: tabs, newlines and backslashes escaped, NULL as \N.
  void insert_rows(std::string_view table, const std::vector<std::string>& columns,
                   const std::vector<std::vector<Value>>& rows) override {
    if (rows.empty()) return;
    std::string sql = "COPY " + std::string(table) + " (";
    for (size_t c = 0; c < columns.size(); ++c) sql += (c ? ", " : "") + columns[c];
    sql += ") FROM STDIN";
    PGresult* res = PQexec(conn_, sql.c_str());
    bool ok = PQresultStatus(res) == PGRES_COPY_IN;
    if (!ok) {
      DbError e = pg_error(conn_, res, sql);
      PQclear(res);
      throw e;
    }
    PQclear(res);
    std::string buf;
    auto flush = [&] {
      if (!buf.empty() && PQputCopyData(conn_, buf.data(), int(buf.size())) != 1)
        throw DbError(DbError::Kind::connection, PQerrorMessage(conn_));
      buf.clear();
    };
    for (auto& row : rows) {
      for (size_t c = 0; c < row.size(); ++c) {
        if (c) buf += '\t';
        if (is_null(row[c])) {
          buf += "\\N";
          continue;
        }
        for (char ch : as_text(row[c])) {
          switch (ch) {
            case '\\':
              buf += "\\\\";
              break;
            case '\t':
              buf += "\\t";
              break;
            case '\n':
              buf += "\\n";
              break;
            case '\r':
              buf += "\\r";
              break;
            default:
              buf += ch;
          }
        }
      }
      buf += '\n';
      if (buf.size() > (1 << 16)) flush();
    }
    flush();
    if (PQputCopyEnd(conn_, nullptr) != 1)
      throw DbError(DbError::Kind::connection, PQerrorMessage(conn_));
    PGresult* end = PQgetResult(conn_);
    struct Clear {
      PGresult* r;
      ~Clear() { PQclear(r); }
    } clear{end};
    if (PQresultStatus(end) != PGRES_COMMAND_OK) throw pg_error(conn_, end, sql);
    while (PGresult* more = PQgetResult(conn_)) PQclear(more);
  }

 private:
  const std::string& prepare(std::string_view sql) {
    auto it = prepared_.find(std::string(sql));
    if (it != prepared_.end()) return it->second;
    if (prepared_.size() > 512) {
      exec_script("DEALLOCATE ALL");
      prepared_.clear();
    }
    std::string name = "k" + std::to_string(++counter_);
    std::string pg = to_postgres_placeholders(sql);
    PGresult* res = PQprepare(conn_, name.c_str(), pg.c_str(), 0, nullptr);
    struct Clear {
      PGresult* r;
      ~Clear() { PQclear(r); }
    } clear{res};
    if (PQresultStatus(res) != PGRES_COMMAND_OK) throw pg_error(conn_, res, sql);
    return prepared_.emplace(std::string(sql), name).first->second;
  }

  PGconn* conn_ = nullptr;
  std::unordered_map<std::string, std::string> prepared_;
  int64_t counter_ = 0;
};

class PgDatabase final : public Database {
 public:
  PgDatabase(const std::string& url, int size) : url_(url) {
    for (int i = 0; i < size; ++i) pool_.add(std::make_unique<PgConnection>(url));
  }
  ~PgDatabase() override { close(); }

  Dialect dialect() const override { return Dialect::postgres; }

  void read(const std::function<void(Connection&)>& fn) override {
    auto c = pool_.acquire();
    if (!c->ensure_alive()) throw DbError(DbError::Kind::connection, "PostgreSQL connection lost");
    fn(*c);
  }

  void write(const std::function<void(Connection&)>& fn) override {
    // Serialisation failures and deadlocks are retried: the callback is pure over the connection.
    for (int attempt = 0;; ++attempt) {
      auto c = pool_.acquire();
      if (!c->ensure_alive())
        throw DbError(DbError::Kind::connection, "PostgreSQL connection lost");
      c->exec_script("BEGIN");
      try {
        fn(*c);
        c->exec_script("COMMIT");
        return;
      } catch (const DbError& e) {
        try {
          c->exec_script("ROLLBACK");
        } catch (...) {
        }
        if (e.kind() == DbError::Kind::busy && attempt < 3) continue;
        throw;
      } catch (...) {
        try {
          c->exec_script("ROLLBACK");
        } catch (...) {
        }
        throw;
      }
    }
  }

  PoolStats stats() const override { return pool_.stats(); }
  void close() override { pool_.close(); }
  void backup_to(const std::string&) override {
    throw DbError(DbError::Kind::other, "online backup of PostgreSQL is done with pg_dump");
  }
  std::string describe() const override {
    // Strip the password from postgresql://user:pass@host/db for logs.
    std::string s = url_;
    auto at = s.find('@');
    auto scheme = s.find("://");
    if (at != std::string::npos && scheme != std::string::npos) {
      auto colon = s.find(':', scheme + 3);
      if (colon != std::string::npos && colon < at) s.replace(colon + 1, at - colon - 1, "***");
    }
    return s;
  }

 private:
  std::string url_;
  Pool<PgConnection> pool_;
};

}  // namespace

std::unique_ptr<Database> open_postgres(const std::string& url, int pool_size) {
  return std::make_unique<PgDatabase>(url, pool_size);
}

}  // namespace kefu::store
