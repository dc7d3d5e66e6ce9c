// OpenAPI 3 generated from the router and the registry, never written by hand.
#include "meta/routes.hpp"

namespace kefu::meta {
namespace {

json::object schema_of(const Field& f) {
  json::object s;
  switch (f.type) {
    case FieldType::integer:
    case FieldType::money:
    case FieldType::datetime:
    case FieldType::ref: s["type"] = "integer"; s["format"] = "int64"; break;
    case FieldType::boolean: s["type"] = "boolean"; break;
    case FieldType::json: s["type"] = "object"; break;
    case FieldType::date: s["type"] = "string"; s["format"] = "date"; break;
    default: s["type"] = "string"; s["maxLength"] = f.max_length;
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

}  // namespace

json::object openapi(const http::Router& router, const Registry& registry) {
  json::object paths;
  for (auto& r : router.routes()) {
    std::string method = r.method;
    for (auto& c : method) c = char(tolower(c));
    json::object op{{"summary", r.summary}, {"tags", json::array{json::value(r.tag.empty() ? "misc" : r.tag)}}};
    json::array params;
    for (size_t p = r.pattern.find('{'); p != std::string::npos; p = r.pattern.find('{', p + 1)) {
      std::string name = r.pattern.substr(p + 1, r.pattern.find('}', p) - p - 1);
      json::object sch{{"type", name == "id" ? "integer" : "string"}};
      if (name == "entity") {
        json::array names;
        for (auto& e : registry.all()) names.push_back(json::value(e->name));
        sch["enum"] = names;
      }
      params.push_back(json::object{{"name", name}, {"in", "path"}, {"required", true}, {"schema", sch}});
    }
    if (!params.empty()) op["parameters"] = params;
    if (!r.request_schema.is_null())
      op["requestBody"] = json::object{
          {"content", json::object{{"application/json", json::object{{"schema", r.request_schema}}}}}};
    json::object ok{{"description", "success"}};
    if (!r.response_schema.is_null())
      ok["content"] = json::object{{"application/json", json::object{{"schema", r.response_schema}}}};
    op["responses"] = json::object{{"200", ok},
                                   {"4XX", json::object{{"description", "error"},
                                                        {"content", json::object{{"application/json",
                                                                                   json::object{{"schema", json::object{{"$ref", "#/components/schemas/Error"}}}}}}}}}};
    if (r.permission == http::kPublic) op["security"] = json::array{};
    else if (!r.permission.empty()) op["x-permission"] = r.permission;
    auto& path = paths[r.pattern];
    if (!path.is_object()) path = json::object{};
    path.as_object()[method] = op;
  }
  json::object schemas;
  for (auto& e : registry.all()) {
    json::object props{{"id", json::object{{"type", "integer"}, {"readOnly", true}}},
                       {"version", json::object{{"type", "integer"}, {"description", "send back on update"}}},
                       {"archived", json::object{{"type", "boolean"}, {"readOnly", true}}}};
    json::array required;
    for (auto& f : e->fields) {
      if (f.hidden) continue;
      props[f.name] = schema_of(f);
      if (f.required) required.push_back(json::value(f.name));
    }
    json::object s{{"type", "object"}, {"description", e->label_zh + " / " + e->label_en}, {"properties", props},
                   {"additionalProperties", false}};
    if (!required.empty()) s["required"] = required;
    schemas[e->name] = s;
  }
  schemas["Record"] = json::object{{"type", "object"}, {"description", "a record of the entity named in the path"}};
  json::object err_props{{"code", json::object{{"type", "string"}}},
                         {"message", json::object{{"type", "string"}}},
                         {"field", json::object{{"type", "string"}}}};
  json::object err_obj{{"type", "object"}, {"properties", err_props}};
  schemas["Error"] = json::object{{"type", "object"}, {"properties", json::object{{"error", err_obj}}}};
  return json::object{
      {"openapi", "3.0.3"},
      {"info", json::object{{"title", "Kefu API"}, {"version", "1"}}},
      {"paths", paths},
      {"components",
       json::object{{"schemas", schemas},
                    {"securitySchemes",
                     json::object{{"bearer", json::object{{"type", "http"}, {"scheme", "bearer"}}},
                                  {"cookie", json::object{{"type", "apiKey"}, {"in", "cookie"}, {"name", "kefu_session"}}}}}}},
      {"security", json::array{json::object{{"bearer", json::array{}}}, json::object{{"cookie", json::array{}}}}}};
}

}  // namespace kefu::meta
