#pragma once
// Boost.JSON is Kefu's record type between layers; these helpers keep call sites short.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace kefu {
namespace json = boost::json;

// Parses a request body that must be a JSON object; throws Error 400 malformed_json otherwise.
json::object parse_object(std::string_view body);
json::value parse_value(std::string_view text);
std::string to_json(const json::value& v);

std::optional<std::string> get_string(const json::object& o, std::string_view key);
std::optional<int64_t> get_int(const json::object& o, std::string_view key);
// Request-body helpers: 422 with the field's name when absent, of the wrong type or too long,
// and for any key not in `allowed`.
std::string string_field(const json::object& o, const char* key, bool required, size_t max = 200);
// true/false, `fallback` when absent or null.
bool bool_field(const json::object& o, const char* key, bool fallback);
void only_fields(const json::object& o, std::initializer_list<const char*> allowed);

}  // namespace kefu
