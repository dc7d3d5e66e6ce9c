#include "meta/registry.hpp"

#include <stdexcept>

#include "store/sql.hpp"

namespace kefu::meta {

const char* to_string(FieldType t) {
  switch (t) {
    case FieldType::string: return "string";
    case FieldType::text: return "text";
    case FieldType::integer: return "integer";
    case FieldType::money: return "money";
    case FieldType::boolean: return "boolean";
    case FieldType::date: return "date";
    case FieldType::datetime: return "datetime";
    case FieldType::enumeration: return "enum";
    case FieldType::dict: return "dict";
    case FieldType::ref: return "ref";
    case FieldType::json: return "json";
  }
  return "string";
}

const Field* Entity::field(std::string_view n) const {
  for (auto& f : fields)
    if (f.name == n) return &f;
  return nullptr;
}

void Registry::add(Entity e) {
  if (!store::safe_identifier(e.name)) throw std::logic_error("bad entity name " + e.name);
  if (by_name_.count(e.name)) throw std::logic_error("entity declared twice: " + e.name);
  for (auto& f : e.fields) {
    if (!store::safe_identifier(f.name)) throw std::logic_error("bad field name " + e.name + "." + f.name);
    for (auto& s : kSystemColumns)
      if (f.name == s) throw std::logic_error("field shadows a system column: " + e.name + "." + f.name);
  }
  if (e.permission.empty()) e.permission = e.name;
  if (e.title_field.empty()) e.title_field = e.fields.empty() ? "id" : e.fields.front().name;
  entities_.push_back(std::make_unique<Entity>(std::move(e)));
  by_name_[entities_.back()->name] = entities_.back().get();
}

const Entity* Registry::find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

const Entity& Registry::get(std::string_view name) const {
  auto e = find(name);
  if (!e) throw Error::not_found("no entity named '" + std::string(name) + "'", "entity");
  return *e;
}

json::object Registry::describe(const Entity& e, const Principal* who) const {
  json::array fields;
  for (auto& f : e.fields) {
    if (f.hidden) continue;
    json::object o{{"name", f.name},         {"type", to_string(f.type)},   {"label_zh", f.label_zh},
                   {"label_en", f.label_en}, {"required", f.required},      {"unique", f.unique},
                   {"searchable", f.searchable}, {"sortable", f.sortable},  {"filterable", f.filterable},
                   {"readonly", f.readonly}};
    if (f.type == FieldType::string || f.type == FieldType::text) o["max_length"] = f.max_length;
    if (f.type == FieldType::integer || f.type == FieldType::money) {
      if (f.min != std::numeric_limits<int64_t>::min()) o["min"] = f.min;
      if (f.max != std::numeric_limits<int64_t>::max()) o["max"] = f.max;
    }
    if (!f.options.empty()) {
      json::array opts;
      json::array labels;
      for (size_t i = 0; i < f.options.size(); ++i) {
        opts.push_back(json::value(f.options[i]));
        if (i < f.option_labels.size())
          labels.push_back(json::object{{"value", f.options[i]},
                                        {"label_zh", f.option_labels[i].first},
                                        {"label_en", f.option_labels[i].second}});
      }
      o["options"] = std::move(opts);
      if (!labels.empty()) o["option_labels"] = std::move(labels);
    }
    if (!f.dict_type.empty()) o["dict_type"] = f.dict_type;
    if (!f.ref_entity.empty()) o["ref_entity"] = f.ref_entity;
    if (!f.pattern.empty()) o["pattern"] = f.pattern;
    if (!f.default_value.is_null()) o["default"] = f.default_value;
    fields.push_back(std::move(o));
  }
  json::array actions;
  for (const char* a : {"read", "create", "update", "archive", "export", "import", "review1", "review2"}) {
    if ((std::string(a) == "review1" && e.review_steps < 1) || (std::string(a) == "review2" && e.review_steps < 2))
      continue;
    if (!who || who->has(e.perm(a))) actions.push_back(json::value(a));
  }
  return json::object{{"name", e.name},
                      {"label_zh", e.label_zh},
                      {"label_en", e.label_en},
                      {"menu", e.menu},
                      {"title_field", e.title_field},
                      {"default_sort", e.default_sort},
                      {"review_steps", e.review_steps},
                      {"scoped", !e.scope_column.empty()},
                      {"fields", std::move(fields)},
                      {"actions", std::move(actions)}};
}

}  // namespace kefu::meta
