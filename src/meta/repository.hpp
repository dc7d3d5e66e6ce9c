#pragma once
// Generic storage of registry entities. Data scope is applied here, in the SQL of every
// read, list, update and archive, so no caller can forget it. Writes take the caller's
// transaction so a change, its side effects and its audit row commit together.
#include <map>
#include <string>

#include "audit/audit_log.hpp"
#include "base/clock.hpp"
#include "meta/registry.hpp"

namespace kefu::meta {

using Query = std::map<std::string, std::string>;

struct Page {
  json::array items;
  int64_t total = 0;
  int64_t page = 1;
  int64_t page_size = 20;
};

class Repository {
 public:
  Repository(store::Database& db, const Registry& registry, const Clock& clock, const audit::AuditLog& audit)
      : db_(db), registry_(registry), clock_(clock), audit_(audit) {}

  Page list(const Entity& e, const Principal& who, const Query& query) const;
  // Every matching row (export), at most `limit`.
  json::array list_all(const Entity& e, const Principal& who, const Query& query, int64_t limit) const;
  json::object get(const Entity& e, const Principal& who, int64_t id) const;
  json::array stats(const Entity& e, const Principal& who, const std::string& by, const Query& query) const;

  json::object create(store::Connection& c, const Entity& e, const Principal& who, const audit::Actor& actor,
                      json::object values) const;
  // `version` < 0 skips the optimistic check (internal updates).
  json::object update(store::Connection& c, const Entity& e, const Principal& who, const audit::Actor& actor,
                      int64_t id, int64_t version, json::object values) const;
  json::object archive(store::Connection& c, const Entity& e, const Principal& who, const audit::Actor& actor,
                       int64_t id, int64_t version) const;
  // Loads one row inside a transaction; with `who`, only inside that principal's scope.
  std::optional<json::object> load(store::Connection& c, const Entity& e, const Principal* who, int64_t id) const;

  // "<col> IN (...)" style restriction for the principal's data scope; empty when unrestricted.
  void scope_sql(const Entity& e, const Principal& who, std::string& where, std::vector<store::Value>& params) const;
  // Throws 403 out_of_scope when `org_id` lies outside what `who` may write to.
  void check_org_in_scope(store::Connection& c, const Principal& who, int64_t org_id, const std::string& field) const;

  store::Database& db() const { return db_; }
  const Clock& clock() const { return clock_; }
  const audit::AuditLog& audit() const { return audit_; }
  const Registry& registry() const { return registry_; }

 private:
  std::string select_list(const Entity& e) const;
  json::object row_to_json(const Entity& e, const store::Result& r, size_t row) const;
  void where_sql(const Entity& e, const Principal& who, const Query& q, std::string& where,
                 std::vector<store::Value>& params) const;
  void check_references(store::Connection& c, const Entity& e, const Principal& who, const json::object& values,
                        int64_t self_id) const;

  store::Database& db_;
  const Registry& registry_;
  const Clock& clock_;
  const audit::AuditLog& audit_;
};

}  // namespace kefu::meta
