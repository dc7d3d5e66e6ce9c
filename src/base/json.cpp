#include "base/json.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "base/error.hpp"

namespace kefu {

json::value parse_value(std::string_view text) {
  boost::system::error_code ec;
  json::parse_options opt;
  opt.max_depth = 32;
  json::value v = json::parse(text, ec, {}, opt);
  if (ec)
    throw Error::bad_request("malformed_json", "request body is not valid JSON: " + ec.message());
  return v;
}

json::object parse_object(std::string_view body) {
  if (body.empty())
    throw Error::bad_request("malformed_json", "request body is empty; a JSON object is expected");
  json::value v = parse_value(body);
  if (!v.is_object())
    throw Error::bad_request("malformed_json", "request body must be a JSON object");
  return std::move(v.as_object());
}

std::string to_json(const json::value& v) {
  return json::serialize(v);
}

std::optional<std::string> get_string(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return std::nullopt;
  return std::string(it->value().as_string());
}

std::optional<int64_t> get_int(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return std::nullopt;
  if (it->value().is_int64()) return it->value().as_int64();
  if (it->value().is_uint64() && it->value().as_uint64() <= INT64_MAX)
    return int64_t(it->value().as_uint64());
  return std::nullopt;
}

bool bool_field(const json::object& o, const char* key, bool fallback) {
  auto v = o.if_contains(key);
  if (!v || v->is_null()) return fallback;
  if (!v->is_bool())
    throw Error::validation({{key, "wrong_type", std::string(key) + " must be true or false"}});
  return v->as_bool();
}

std::string string_field(const json::object& o, const char* key, bool required, size_t max) {
  auto v = o.if_contains(key);
  if (!v || v->is_null()) {
    if (required) throw Error::validation({{key, "required", std::string(key) + " is required"}});
    return {};
  }
  if (!v->is_string())
    throw Error::validation({{key, "wrong_type", std::string(key) + " must be a string"}});
  if (v->as_string().size() > max)
    throw Error::validation({{key, "too_long", std::string(key) + " is too long"}});
  return std::string(v->as_string());
}

void only_fields(const json::object& o, std::initializer_list<const char*> allowed) {
  for (auto& [k, v] : o) {
    bool ok = false;
    for (auto a : allowed) ok = ok || k == a;
    if (!ok)
      throw Error::validation(
          {{std::string(k), "unknown_field", "unknown field '" + std::string(k) + "'"}});
  }
}

}  // namespace kefu
