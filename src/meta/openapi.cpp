// OpenAPI 3 generated from the router and the registry, never written by hand. The registry's
// generic routes (/api/v1/{entity}/...) are described once per entity, with that entity's own
// schemas, so a client generator gets a type for staff, queues, lists and every later entity.
#include <set>

#include "meta/routes.hpp"

namespace kefu::meta {
namespace {

json::object schema_ref(const std::string& schema) {
  return json::object{{"$ref", "#/components/schemas/" + schema}};
}

json::object content(const std::string& type, json::value schema) {
  return json::object{{type, json::object{{"schema", std::move(schema)}}}};
}

json::object schema_of(const Field& f) {
  json::object s;
  switch (f.type) {
    case FieldType::integer:
    case FieldType::money:
    case FieldType::datetime:
    case FieldType::ref:
      s["type"] = "integer";
      s["format"] = "int64";
      break;
    case FieldType::boolean:
      s["type"] = "boolean";
      break;
    case FieldType::json:
      s["type"] = "object";
      break;
    case FieldType::date:
      s["type"] = "string";
      s["format"] = "date";
      break;
    default:
      s["type"] = "string";
      s["maxLength"] = f.max_length;
  }
  if (!f.options.empty()) {
    json::array e;
    for (auto& o : f.options) e.push_back(json::value(o));
    s["enum"] = e;
  }
  std::string d = f.label_zh + " / " + f.label_en;
  if (f.type == FieldType::money) d += " (fen, 分)";
  if (!f.ref_entity.empty()) d += " -> " + f.ref_entity;
  if (!f.dict_type.empty()) d += " (dictionary " + f.dict_type + ")";
  s["description"] = d;
  if (f.readonly) s["readOnly"] = true;
  return s;
}

// The three shapes of an entity: the record as read, the body of a create (its required fields
// required) and the body of an update (every field optional but `version`).
void add_entity_schemas(const Entity& e, json::object& schemas) {
  json::object record{
      {"id", json::object{{"type", "integer"}, {"format", "int64"}, {"readOnly", true}}},
      {"version", json::object{{"type", "integer"}, {"description", "send back on update"}}},
      {"archived", json::object{{"type", "boolean"}, {"readOnly", true}}},
      {"created_at", json::object{{"type", "integer"}, {"format", "int64"}, {"readOnly", true}}},
      {"updated_at", json::object{{"type", "integer"}, {"format", "int64"}, {"readOnly", true}}}};
  json::object create, update{{"version", json::object{{"type", "integer"},
                                                       {"description", "the version you read"}}}};
  json::array required;
  for (auto& f : e.fields) {
    if (f.hidden) continue;
    record[f.name] = schema_of(f);
    if (f.readonly) continue;
    create[f.name] = schema_of(f);
    update[f.name] = schema_of(f);
    if (f.required) required.push_back(json::value(f.name));
  }
  std::string label = e.label_zh + " / " + e.label_en;
  schemas[e.name] =
      json::object{{"type", "object"},
                   {"description", label},
                   {"properties", record},
                   {"required", json::array{json::value("id"), json::value("version")}}};
  json::object c{{"type", "object"},
                 {"description", label + " (create)"},
                 {"properties", create},
                 {"additionalProperties", false}};
  if (!required.empty()) c["required"] = required;
  schemas[e.name + "_create"] = c;
  schemas[e.name + "_update"] =
      json::object{{"type", "object"},
                   {"description", label + " (update: the fields to change)"},
                   {"properties", update},
                   {"required", json::array{json::value("version")}},
                   {"additionalProperties", false}};
  schemas[e.name + "_page"] = json::object{
      {"type", "object"},
      {"properties",
       json::object{{"items", json::object{{"type", "array"}, {"items", schema_ref(e.name)}}},
                    {"total", json::object{{"type", "integer"}}},
                    {"page", json::object{{"type", "integer"}}},
                    {"page_size", json::object{{"type", "integer"}}}}},
      {"required", json::array{json::value("items"), json::value("total"), json::value("page"),
                               json::value("page_size")}}};
}

void add_common_schemas(json::object& schemas) {
  json::object detail{{"type", "object"},
                      {"properties", json::object{{"field", json::object{{"type", "string"}}},
                                                  {"code", json::object{{"type", "string"}}},
                                                  {"message", json::object{{"type", "string"}}}}}};
  json::object err{
      {"type", "object"},
      {"required", json::array{json::value("code"), json::value("message")}},
      {"properties",
       json::object{
           {"code", json::object{{"type", "string"}, {"description", "stable, for programs"}}},
           {"message", json::object{{"type", "string"}}},
           {"field", json::object{{"type", "string"}, {"description", "the field concerned"}}},
           {"request_id", json::object{{"type", "string"}}},
           {"details", json::object{{"type", "array"}, {"items", detail}}}}}};
  schemas["Error"] = json::object{{"type", "object"},
                                  {"required", json::array{json::value("error")}},
                                  {"properties", json::object{{"error", err}}}};
  schemas["Record"] =
      json::object{{"type", "object"}, {"description", "a record of the entity named in the path"}};
  schemas["ChangeRequest"] = json::object{
      {"type", "object"},
      {"description", "a write held for review (初审/终审); applied when approved"},
      {"properties", json::object{{"change_request", json::object{{"type", "object"}}}}}};
  schemas["ImportResult"] = json::object{
      {"type", "object"},
      {"properties",
       json::object{
           {"written", json::object{{"type", "integer"}}},
           {"submitted", json::object{{"type", "integer"}}},
           {"rejected", json::object{{"type", "integer"}}},
           {"errors", json::object{{"type", "array"}, {"items", json::object{{"type", "object"}}}}},
           {"error", json::object{{"type", "object"}}}}}};
  schemas["Stats"] = json::object{
      {"type", "object"},
      {"properties",
       json::object{{"by", json::object{{"type", "string"}}},
                    {"groups", json::object{{"type", "array"},
                                            {"items", json::object{{"type", "object"}}}}}}}};
}

json::object error_responses() {
  json::object err{{"description", "error: {\"error\": {code, message, field}}"},
                   {"content", content("application/json", schema_ref("Error"))}};
  return json::object{{"4XX", err}, {"5XX", err}};
}

json::object query_param(const std::string& name, const std::string& type,
                         const std::string& what) {
  return json::object{{"name", name},
                      {"in", "query"},
                      {"required", false},
                      {"description", what},
                      {"schema", json::object{{"type", type}}}};
}

// The list filters: paging, sorting, free text, and each filterable field.
json::array list_params(const Entity& e) {
  json::array p{query_param("page", "integer", "page number, from 1"),
                query_param("page_size", "integer", "records per page"),
                query_param("sort", "string", "field to sort by, -field for descending"),
                query_param("q", "string", "free text over the searchable fields")};
  for (auto& f : e.fields)
    if (f.filterable && !f.hidden)
      p.push_back(query_param(
          f.name, "string", f.label_en + ": equal; also " + f.name + "__like, __gte, __lte, __in"));
  return p;
}

std::string operation_id(const std::string& method, const std::string& path) {
  std::string id = method;
  for (char c : path.substr(std::string("/api").size())) {
    if (std::isalnum(static_cast<unsigned char>(c)))
      id += c;
    else if (id.back() != '_')
      id += '_';
  }
  while (id.back() == '_') id.pop_back();
  return id;
}

// One of the registry's generic routes, described for entity `e` at `path`. Returns false for a
// route that is not one of them.
bool describe_for_entity(const http::Route& r, const Entity& e, json::object& op) {
  const std::string& p = r.pattern;
  const std::string& m = r.method;
  json::object ok{{"description", "success"}};
  std::string action;
  json::array params;
  if (p.find("{id}") != std::string::npos)
    params.push_back(
        json::object{{"name", "id"},
                     {"in", "path"},
                     {"required", true},
                     {"schema", json::object{{"type", "integer"}, {"format", "int64"}}}});
  json::object responses;
  if (p == "/api/v1/meta/{entity}") {
    action = "read";
    ok["content"] = content("application/json", json::object{{"type", "object"}});
  } else if (p == "/api/v1/{entity}" && m == "GET") {
    action = "read";
    for (auto& q : list_params(e)) params.push_back(q);
    ok["content"] = content("application/json", schema_ref(e.name + "_page"));
  } else if (p == "/api/v1/{entity}" && m == "POST") {
    action = "create";
    op["requestBody"] =
        json::object{{"required", true},
                     {"content", content("application/json", schema_ref(e.name + "_create"))}};
    ok["content"] = content("application/json", schema_ref(e.name));
    responses["201"] = ok;
    responses["202"] =
        json::object{{"description", "held for review"},
                     {"content", content("application/json", schema_ref("ChangeRequest"))}};
  } else if (p == "/api/v1/{entity}/{id}" && m == "GET") {
    action = "read";
    ok["content"] = content("application/json", schema_ref(e.name));
  } else if (p == "/api/v1/{entity}/{id}" && (m == "PUT" || m == "PATCH")) {
    action = "update";
    op["requestBody"] =
        json::object{{"required", true},
                     {"content", content("application/json", schema_ref(e.name + "_update"))}};
    ok["content"] = content("application/json", schema_ref(e.name));
    responses["202"] =
        json::object{{"description", "held for review"},
                     {"content", content("application/json", schema_ref("ChangeRequest"))}};
  } else if (p == "/api/v1/{entity}/{id}" && m == "DELETE") {
    action = "archive";
    params.push_back(query_param("version", "integer", "the version you read (or If-Match)"));
    ok["content"] = content("application/json", schema_ref(e.name));
    responses["202"] =
        json::object{{"description", "held for review"},
                     {"content", content("application/json", schema_ref("ChangeRequest"))}};
  } else if (p == "/api/v1/{entity}/stats") {
    action = "read";
    params.push_back(json::object{{"name", "by"},
                                  {"in", "query"},
                                  {"required", true},
                                  {"description", "the field to group by"},
                                  {"schema", json::object{{"type", "string"}}}});
    for (auto& q : list_params(e)) params.push_back(q);
    ok["content"] = content("application/json", schema_ref("Stats"));
  } else if (p == "/api/v1/{entity}/export") {
    action = "export";
    params.push_back(query_param("format", "string", "csv (default) or xlsx"));
    for (auto& q : list_params(e)) params.push_back(q);
    json::object file{{"type", "string"}, {"format", "binary"}};
    json::object types = content("text/csv", file);
    types["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"] =
        json::object{{"schema", file}};
    ok["content"] = types;
  } else if (p == "/api/v1/{entity}/import") {
    action = "import";
    params.push_back(query_param("mode", "string", "all (default: all or nothing) or valid"));
    op["requestBody"] = json::object{
        {"required", true}, {"content", content("text/csv", json::object{{"type", "string"}})}};
    ok["content"] = content("application/json", schema_ref("ImportResult"));
  } else {
    return false;
  }
  if (!responses.contains("201")) responses["200"] = ok;
  for (auto& [k, v] : error_responses()) responses[k] = v;
  op["responses"] = responses;
  if (!params.empty()) op["parameters"] = params;
  op["summary"] = r.summary + " — " + e.label_zh + " / " + e.label_en;
  op["tags"] = json::array{json::value(e.name)};
  op["x-permission"] = e.perm(action.c_str());
  return true;
}

json::object describe(const http::Route& r, const std::string& path) {
  json::object op{{"summary", r.summary},
                  {"tags", json::array{json::value(r.tag.empty() ? "misc" : r.tag)}}};
  json::array params;
  for (size_t p = path.find('{'); p != std::string::npos; p = path.find('{', p + 1)) {
    std::string name = path.substr(p + 1, path.find('}', p) - p - 1);
    json::object sch{{"type", name == "id" ? "integer" : "string"}};
    params.push_back(
        json::object{{"name", name}, {"in", "path"}, {"required", true}, {"schema", sch}});
  }
  if (!params.empty()) op["parameters"] = params;
  if (!r.request_schema.is_null())
    op["requestBody"] = json::object{{"content", content("application/json", r.request_schema)}};
  json::object ok{{"description", "success"}};
  if (!r.response_schema.is_null()) ok["content"] = content("application/json", r.response_schema);
  json::object responses{{"200", ok}};
  for (auto& [k, v] : error_responses()) responses[k] = v;
  op["responses"] = responses;
  if (r.permission == http::kPublic)
    op["security"] = json::array{};
  else if (!r.permission.empty())
    op["x-permission"] = r.permission;
  return op;
}

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

json::object openapi(const http::Router& router, const Registry& registry) {
  json::object paths;
  auto put = [&paths](const std::string& path, const std::string& method, json::object op) {
    op["operationId"] = operation_id(lower(method), path);
    auto& item = paths[path];
    if (!item.is_object()) item = json::object{};
    item.as_object()[lower(method)] = std::move(op);
  };
  // A literal route wins over the registry's generic one at the same path (the router does too).
  std::set<std::pair<std::string, std::string>> literal;
  for (auto& r : router.routes())
    if (r.pattern.find("{entity}") == std::string::npos) literal.insert({r.method, r.pattern});
  for (auto& r : router.routes()) {
    if (r.pattern.find("{entity}") == std::string::npos) {
      put(r.pattern, r.method, describe(r, r.pattern));
      continue;
    }
    for (auto& e : registry.all()) {
      std::string path = r.pattern;
      path.replace(path.find("{entity}"), 8, e->name);
      if (literal.count({r.method, path})) continue;
      json::object op;
      put(path, r.method, describe_for_entity(r, *e, op) ? std::move(op) : describe(r, path));
    }
  }
  json::object schemas;
  for (auto& e : registry.all()) add_entity_schemas(*e, schemas);
  add_common_schemas(schemas);
  return json::object{
      {"openapi", "3.0.3"},
      {"info", json::object{{"title", "Kefu API"}, {"version", "1"}}},
      {"paths", paths},
      {"components",
       json::object{{"schemas", schemas},
                    {"securitySchemes",
                     json::object{{"bearer", json::object{{"type", "http"}, {"scheme", "bearer"}}},
                                  {"cookie", json::object{{"type", "apiKey"},
                                                          {"in", "cookie"},
                                                          {"name", "kefu_session"}}}}}}},
      {"security", json::array{json::object{{"bearer", json::array{}}},
                               json::object{{"cookie", json::array{}}}}}};
}

}  // namespace kefu::meta
