// SQLite backend: WAL mode, one writer connection (SQLite allows one writer at a time
// anyway, so queuing in-process is cheaper than busy-retrying) plus a pool of readers.
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <unordered_map>

#include "store/database.hpp"
#include "store/pool.hpp"

namespace kefu::store {
namespace {

DbError sqlite_error(sqlite3* db, int rc, std::string_view sql) {
  int ext = sqlite3_extended_errcode(db);
  std::string msg = std::string(sqlite3_errmsg(db)) + " [" + std::string(sql.substr(0, 120)) + "]";
  using K = DbError::Kind;
  switch (ext) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return DbError(K::unique, msg);
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return DbError(K::foreign_key, msg);
    case SQLITE_CONSTRAINT_NOTNULL:
      return DbError(K::not_null, msg);
    case SQLITE_CONSTRAINT_CHECK:
      return DbError(K::check, msg);
    default:
      break;
  }
  if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) return DbError(K::busy, msg);
  if ((rc & 0xff) == SQLITE_CONSTRAINT) return DbError(K::check, msg);
  return DbError(K::other, msg);
}

class SqliteConnection final : public Connection {
 public:
  SqliteConnection(const std::string& path, bool readonly, const std::string& synchronous) {
    int flags = readonly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    flags |= SQLITE_OPEN_NOMUTEX;  // each connection is used by one thread at a time (pool)
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw DbError(DbError::Kind::connection, "cannot open SQLite database " + path + ": " + msg);
    }
    sqlite3_busy_timeout(db_, 5000);
    sqlite3_extended_result_codes(db_, 1);
    if (!readonly) {
      exec_script("PRAGMA journal_mode=WAL");
      exec_script("PRAGMA synchronous=" + synchronous);
    }
    // Page cache per connection (negative: KiB). The default 2 MB makes a large transaction (a
    // customer import) spill pages to the WAL and write them again: 64 MB for the one writer.
    exec_script(readonly ? "PRAGMA cache_size=-16384" : "PRAGMA cache_size=-65536");
    // Statement journals and sorts in memory, not in temporary files: every multi-row statement
    // inside a transaction (an import chunk) keeps one to undo itself on a constraint failure.
    exec_script("PRAGMA temp_store=MEMORY");
    exec_script("PRAGMA foreign_keys=ON");
  }
  ~SqliteConnection() override {
    for (auto& [_, st] : cache_) sqlite3_finalize(st);
    sqlite3_close_v2(db_);
  }

  Dialect dialect() const override { return Dialect::sqlite; }
  sqlite3* handle() { return db_; }

  Result exec(std::string_view sql, const std::vector<Value>& params) override {
    sqlite3_stmt* st = prepare(sql);
    struct Reset {
      sqlite3_stmt* s;
      ~Reset() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } reset{st};
    for (size_t i = 0; i < params.size(); ++i) {
      int idx = int(i + 1);
      const Value& v = params[i];
      if (is_null(v))
        sqlite3_bind_null(st, idx);
      else if (auto p = std::get_if<int64_t>(&v))
        sqlite3_bind_int64(st, idx, *p);
      else if (auto d = std::get_if<double>(&v))
        sqlite3_bind_double(st, idx, *d);
      else {
        auto& s = std::get<std::string>(v);
        sqlite3_bind_text(st, idx, s.data(), int(s.size()), SQLITE_TRANSIENT);
      }
    }
    Result r;
    int ncol = sqlite3_column_count(st);
    for (int c = 0; c < ncol; ++c) r.columns.emplace_back(sqlite3_column_name(st, c));
    for (;;) {
      int rc = sqlite3_step(st);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) throw sqlite_error(db_, rc, sql);
      std::vector<Value> row;
      row.reserve(ncol);
      for (int c = 0; c < ncol; ++c) {
        switch (sqlite3_column_type(st, c)) {
          case SQLITE_NULL:
            row.emplace_back(Null{});
            break;
          case SQLITE_INTEGER:
            row.emplace_back(int64_t(sqlite3_column_int64(st, c)));
            break;
          case SQLITE_FLOAT:
            row.emplace_back(sqlite3_column_double(st, c));
            break;
          default: {
            auto p = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
            row.emplace_back(std::string(p, size_t(sqlite3_column_bytes(st, c))));
          }
        }
      }
      r.rows.push_back(std::move(row));
    }
    r.affected = sqlite3_changes64(db_);
    return r;
  }

  void exec_script(std::string_view sql) override {
    std::string s(sql);
    char* err = nullptr;
    int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      DbError e = sqlite_error(db_, rc, sql);
      sqlite3_free(err);
      throw e;
    }
  }

 private:
  sqlite3_stmt* prepare(std::string_view sql) {
    auto it = cache_.find(std::string(sql));
    if (it != cache_.end()) return it->second;
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), int(sql.size()), SQLITE_PREPARE_PERSISTENT, &st,
                                nullptr);
    if (rc != SQLITE_OK) throw sqlite_error(db_, rc, sql);
    // Bounded: generated list queries vary with filters; drop the cache rather than grow forever.
    if (cache_.size() > 512) {
      for (auto& [_, s] : cache_) sqlite3_finalize(s);
      cache_.clear();
    }
    cache_.emplace(std::string(sql), st);
    return st;
  }

  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(const std::string& path, int readers, const std::string& synchronous)
      : path_(path) {
    auto dir = std::filesystem::path(path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir);
    writer_ = std::make_unique<SqliteConnection>(path, false, synchronous);
    for (int i = 0; i < readers; ++i)
      readers_.add(std::make_unique<SqliteConnection>(path, true, synchronous));
  }
  ~SqliteDatabase() override { close(); }

  Dialect dialect() const override { return Dialect::sqlite; }

  void read(const std::function<void(Connection&)>& fn) override {
    auto lease = readers_.acquire();
    // One read transaction: every statement in fn sees the same snapshot.
    lease->exec("BEGIN", {});
    try {
      fn(*lease);
    } catch (...) {
      lease->exec("ROLLBACK", {});
      throw;
    }
    lease->exec("COMMIT", {});
  }

  void read_one(const std::function<void(Connection&)>& fn) override {
    auto lease = readers_.acquire();
    fn(*lease);
  }

  void write(const std::function<void(Connection&)>& fn) override {
    std::lock_guard lk(write_mu_);
    if (!writer_) throw DbError(DbError::Kind::connection, "database is closed");
    ++writers_busy_;
    struct Busy {
      std::atomic<int>& n;
      ~Busy() { --n; }
    } busy{writers_busy_};
    writer_->exec("BEGIN IMMEDIATE", {});
    try {
      fn(*writer_);
      writer_->exec("COMMIT", {});
    } catch (...) {
      try {
        writer_->exec("ROLLBACK", {});
      } catch (...) {
      }
      throw;
    }
  }

  PoolStats stats() const override {
    PoolStats s = readers_.stats();
    s.size += 1;
    s.in_use += writers_busy_;
    return s;
  }

  void close() override {
    readers_.close();
    std::lock_guard lk(write_mu_);
    if (writer_) {
      // Fold the WAL back so the file is self-contained after a clean shutdown.
      try {
        writer_->exec_script("PRAGMA wal_checkpoint(TRUNCATE)");
      } catch (...) {
      }
      writer_.reset();
    }
  }

  void backup_to(const std::string& dest) override {
    sqlite3* out = nullptr;
    if (sqlite3_open(dest.c_str(), &out) != SQLITE_OK) {
      sqlite3_close(out);
      throw DbError(DbError::Kind::other, "cannot create backup file " + dest);
    }
    std::lock_guard lk(write_mu_);
    sqlite3_backup* b = sqlite3_backup_init(out, "main", writer_->handle(), "main");
    int rc = b ? sqlite3_backup_step(b, -1) : SQLITE_ERROR;
    sqlite3_backup_finish(b);
    std::string err = sqlite3_errmsg(out);
    sqlite3_close(out);
    if (rc != SQLITE_DONE) throw DbError(DbError::Kind::other, "backup failed: " + err);
  }

  std::string describe() const override { return "sqlite:" + path_; }

 private:
  std::string path_;
  std::mutex write_mu_;
  std::atomic<int> writers_busy_{0};  // read by stats() without the lock
  std::unique_ptr<SqliteConnection> writer_;
  Pool<SqliteConnection> readers_;
};

}  // namespace

std::unique_ptr<Database> open_sqlite(const std::string& path, int readers,
                                      const std::string& synchronous) {
  if (synchronous != "FULL" && synchronous != "NORMAL" && synchronous != "EXTRA")
    throw DbError(DbError::Kind::other, "sqlite_synchronous must be NORMAL, FULL or EXTRA");
  return std::make_unique<SqliteDatabase>(path, readers, synchronous);
}

}  // namespace kefu::store
