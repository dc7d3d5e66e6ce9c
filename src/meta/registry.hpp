#pragma once
#include <map>
#include <memory>
#include <vector>

#include "meta/entity.hpp"
#include "store/database.hpp"

namespace kefu::meta {

class Registry {
 public:
  void add(Entity e);
  const Entity* find(std::string_view name) const;
  const Entity& get(std::string_view name) const;  // 404 when unknown
  const std::vector<std::unique_ptr<Entity>>& all() const { return entities_; }

  // Creates missing tables, columns and indexes for every entity (both dialects).
  void sync_schema(store::Database& db) const;
  // What the console builds its forms from; `who` decides which actions are offered.
  json::object describe(const Entity& e, const Principal* who) const;

 private:
  std::vector<std::unique_ptr<Entity>> entities_;
  std::map<std::string, const Entity*, std::less<>> by_name_;
};

std::vector<std::string> entity_ddl(const Entity& e, store::Dialect d);
std::string column_type(FieldType t);

}  // namespace kefu::meta
