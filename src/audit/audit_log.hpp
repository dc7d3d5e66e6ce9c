#pragma once
// 操作流水: the append-only, hash-chained operation log. Each row's hash covers its
// content and the previous row's hash, and a one-row head keeps the last id, hash and
// count, so editing, deleting or truncating rows is detected by verify(). Rows are
// written inside the same transaction as the change they describe: no change without
// its record, no record without its change.
#include <cstdint>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "base/json.hpp"
#include "base/principal.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"

namespace kefu::audit {

struct Actor {
  int64_t id = 0;
  std::string name;
  std::string client_ip;
  std::string request_id;
  static Actor of(const Principal& p, std::string ip = {}, std::string rid = {}) {
    return {p.staff_id, p.username, std::move(ip), std::move(rid)};
  }
};

struct Entry {
  std::string entity;
  int64_t entity_id = 0;
  std::string action;  // create, update, archive, login, review.approve, unmask, ...
  json::value diff;    // {"field": {"from": x, "to": y}} or any detail object
};

struct VerifyReport {
  bool ok = true;
  int64_t rows = 0;
  int64_t bad_id = 0;
  std::string problem;
};

class AuditLog {
 public:
  explicit AuditLog(const Clock& clock) : clock_(clock) {}
  void append(store::Connection& c, const Actor& actor, const Entry& entry) const;
  VerifyReport verify(store::Database& db) const;
  static std::vector<store::Migration> migrations();
  // Field-level difference of two records, hidden fields excluded by the caller.
  static json::object diff(const json::object* before, const json::object* after);

 private:
  const Clock& clock_;
};

}  // namespace kefu::audit
