#include "audit/audit_log.hpp"

#include "base/crypto.hpp"

namespace kefu::audit {
namespace {

constexpr const char* kGenesis = "0000000000000000000000000000000000000000000000000000000000000000";

std::string row_hash(const std::string& prev, int64_t id, int64_t at, int64_t actor_id, const std::string& actor_name,
                     const std::string& ip, const std::string& rid, const std::string& entity, int64_t entity_id,
                     const std::string& action, const std::string& diff) {
  // Length-prefixed fields: no two different rows serialise to the same text.
  std::string s;
  auto put = [&](const std::string& v) { s += std::to_string(v.size()) + ":" + v + "|"; };
  put(prev);
  put(std::to_string(id));
  put(std::to_string(at));
  put(std::to_string(actor_id));
  put(actor_name);
  put(ip);
  put(rid);
  put(entity);
  put(std::to_string(entity_id));
  put(action);
  put(diff);
  return crypto::sha256_hex(s);
}

}  // namespace

std::vector<store::Migration> AuditLog::migrations() {
  const char* table = R"(
CREATE TABLE audit_log (
  id BIGINT PRIMARY KEY, at BIGINT NOT NULL, actor_id BIGINT NOT NULL, actor_name TEXT NOT NULL,
  client_ip TEXT NOT NULL, request_id TEXT NOT NULL, entity TEXT NOT NULL, entity_id BIGINT NOT NULL,
  action TEXT NOT NULL, diff TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX ix_audit_log_entity ON audit_log (entity, entity_id);
CREATE INDEX ix_audit_log_actor ON audit_log (actor_id, at);
CREATE INDEX ix_audit_log_at ON audit_log (at);
CREATE TABLE audit_head (id BIGINT PRIMARY KEY, last_id BIGINT NOT NULL, last_hash TEXT NOT NULL, row_count BIGINT NOT NULL);
INSERT INTO audit_head (id, last_id, last_hash, row_count) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0);
)";
  std::string sqlite_guard = std::string(table) + R"(
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
)";
  std::string pg_guard = std::string(table) + R"(
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
)";
  return {{"audit/0001_audit_log", sqlite_guard, pg_guard}};
}

void AuditLog::append(store::Connection& c, const Actor& actor, const Entry& e) const {
  // Locking the head row serialises appenders on PostgreSQL; SQLite has one writer already.
  const char* head_sql = c.dialect() == store::Dialect::postgres
                             ? "SELECT last_id, last_hash FROM audit_head WHERE id = 1 FOR UPDATE"
                             : "SELECT last_id, last_hash FROM audit_head WHERE id = 1";
  auto head = c.exec(head_sql, {});
  int64_t id = store::as_int(head.rows[0][0]) + 1;
  std::string prev = store::as_text(head.rows[0][1]);
  int64_t at = clock_.now_ms();
  std::string diff = e.diff.is_null() ? "{}" : to_json(e.diff);
  std::string hash = row_hash(prev, id, at, actor.id, actor.name, actor.client_ip, actor.request_id, e.entity,
                              e.entity_id, e.action, diff);
  c.exec("INSERT INTO audit_log (id, at, actor_id, actor_name, client_ip, request_id, entity, entity_id, action, "
         "diff, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
         {id, at, actor.id, actor.name, actor.client_ip, actor.request_id, e.entity, e.entity_id, e.action, diff,
          prev, hash});
  c.exec("UPDATE audit_head SET last_id = ?, last_hash = ?, row_count = row_count + 1 WHERE id = 1", {id, hash});
}

VerifyReport AuditLog::verify(store::Database& db) const {
  VerifyReport r;
  db.read([&](store::Connection& c) {
    std::string prev = kGenesis;
    int64_t expect_id = 1, last_id = 0;
    const int64_t batch = 5000;
    for (;;) {
      auto rows = c.exec(
          "SELECT id, at, actor_id, actor_name, client_ip, request_id, entity, entity_id, action, diff, prev_hash, "
          "hash FROM audit_log WHERE id > ? ORDER BY id LIMIT ?",
          {last_id, batch});
      for (auto& row : rows.rows) {
        int64_t id = store::as_int(row[0]);
        auto t = [&](int i) { return store::as_text(row[i]); };
        if (id != expect_id) {
          r = {false, r.rows, expect_id, "row " + std::to_string(expect_id) + " is missing"};
          return;
        }
        if (t(10) != prev) {
          r = {false, r.rows, id, "row " + std::to_string(id) + " does not follow the previous row's hash"};
          return;
        }
        std::string h = row_hash(prev, id, store::as_int(row[1]), store::as_int(row[2]), t(3), t(4), t(5), t(6),
                                 store::as_int(row[7]), t(8), t(9));
        if (h != t(11)) {
          r = {false, r.rows, id, "row " + std::to_string(id) + " was altered"};
          return;
        }
        prev = h;
        ++expect_id;
        ++r.rows;
        last_id = id;
      }
      if (int64_t(rows.size()) < batch) break;
    }
    auto head = c.exec("SELECT last_id, last_hash, row_count FROM audit_head WHERE id = 1", {});
    if (store::as_int(head.rows[0][0]) != last_id || store::as_text(head.rows[0][1]) != prev ||
        store::as_int(head.rows[0][2]) != r.rows) {
      r = {false, r.rows, last_id + 1, "rows after id " + std::to_string(last_id) + " were deleted"};
    }
  });
  return r;
}

json::object AuditLog::diff(const json::object* before, const json::object* after) {
  json::object d;
  if (after) {
    for (auto& [k, v] : *after) {
      const json::value* old = before ? before->if_contains(k) : nullptr;
      if (!old || *old != v) d[k] = json::object{{"from", old ? *old : json::value(nullptr)}, {"to", v}};
    }
  }
  if (before && !after)
    for (auto& [k, v] : *before) d[k] = json::object{{"from", v}, {"to", nullptr}};
  return d;
}

}  // namespace kefu::audit
