#include "meta/validate.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <regex>

#include "base/text.hpp"

namespace kefu::meta {
namespace {

bool is_system(std::string_view k) {
  return std::find(kSystemColumns.begin(), kSystemColumns.end(), k) != kSystemColumns.end();
}

std::optional<int64_t> int_of(const json::value& v) {
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64() && v.as_uint64() <= uint64_t(INT64_MAX)) return int64_t(v.as_uint64());
  return std::nullopt;
}

// Patterns are compiled once per thread, not once per value: imports validate 100k rows.
const std::regex& compiled(const std::string& pattern) {
  thread_local std::map<std::string, std::regex> cache;
  auto it = cache.find(pattern);
  if (it == cache.end()) it = cache.emplace(pattern, std::regex(pattern)).first;
  return it->second;
}

void check_value(const Field& f, const json::value& v, std::vector<FieldError>& errors) {
  auto err = [&](const char* code, std::string msg) { errors.push_back({f.name, code, std::move(msg)}); };
  switch (f.type) {
    case FieldType::string:
    case FieldType::text:
    case FieldType::enumeration:
    case FieldType::dict:
    case FieldType::date: {
      if (!v.is_string()) return err("wrong_type", f.name + " must be a string");
      std::string_view s = v.as_string();
      if (!valid_utf8(s)) return err("invalid_text", f.name + " is not valid UTF-8");
      for (unsigned char c : s)
        if (c < 0x20 && !(f.type == FieldType::text && (c == '\n' || c == '\r' || c == '\t')))
          return err("invalid_text", f.name + " contains control characters");
      if (f.required && s.empty()) return err("required", f.name + " is required");
      if (utf8_length(s) > size_t(f.max_length))
        return err("too_long", f.name + " is longer than " + std::to_string(f.max_length) + " characters");
      if (f.type == FieldType::enumeration && std::find(f.options.begin(), f.options.end(), s) == f.options.end())
        return err("invalid_option", f.name + " must be one of the listed options");
      if (f.type == FieldType::date) {
        int64_t ms;
        if (s.size() != 10 || !parse_iso(s, ms)) return err("invalid_date", f.name + " must be a date YYYY-MM-DD");
      }
      if (!f.pattern.empty() && !s.empty() && !std::regex_match(std::string(s), compiled(f.pattern)))
        return err("invalid_format", f.name + " does not have the expected format");
      return;
    }
    case FieldType::integer:
    case FieldType::money:
    case FieldType::datetime:
    case FieldType::ref: {
      auto n = int_of(v);
      if (!n) return err("wrong_type", f.name + " must be an integer");
      if (f.type == FieldType::ref && *n <= 0) return err("invalid_reference", f.name + " must be a record id");
      if (*n < f.min) return err("too_small", f.name + " must be at least " + std::to_string(f.min));
      if (*n > f.max) return err("too_large", f.name + " must be at most " + std::to_string(f.max));
      return;
    }
    case FieldType::boolean:
      if (!v.is_bool()) err("wrong_type", f.name + " must be true or false");
      return;
    case FieldType::json:
      if (!v.is_object() && !v.is_array()) err("wrong_type", f.name + " must be an object or an array");
      else if (to_json(v).size() > size_t(f.max_length) * 8) err("too_long", f.name + " is too large");
      return;
  }
}

}  // namespace

json::object validate_input(const Entity& e, const json::object& input, Mode mode, std::vector<FieldError>& errors) {
  json::object out;
  for (auto& [k, v] : input) {
    const Field* f = e.field(k);
    if (is_system(k) || (f && f->readonly && !f->hidden)) continue;  // clients may send back what they read
    if (!f || f->hidden) {
      errors.push_back({std::string(k), "unknown_field", "unknown field '" + std::string(k) + "'"});
      continue;
    }
    if (v.is_null()) {
      if (f->required) errors.push_back({f->name, "required", f->name + " is required"});
      else out[k] = nullptr;
      continue;
    }
    size_t before = errors.size();
    check_value(*f, v, errors);
    if (errors.size() == before) out[k] = v;
  }
  if (mode == Mode::create) {
    for (auto& f : e.fields) {
      if (f.readonly || f.hidden || out.contains(f.name) || input.contains(f.name)) continue;
      if (!f.default_value.is_null()) out[f.name] = f.default_value;
      else if (f.required) errors.push_back({f.name, "required", f.name + " is required"});
    }
  }
  return out;
}

json::object validate_or_throw(const Entity& e, const json::object& input, Mode mode) {
  std::vector<FieldError> errors;
  auto out = validate_input(e, input, mode, errors);
  if (!errors.empty()) throw Error::validation(std::move(errors));
  return out;
}

store::Value to_db(const Field& f, const json::value& v) {
  if (v.is_null()) return store::Null{};
  switch (f.type) {
    case FieldType::integer:
    case FieldType::money:
    case FieldType::datetime:
    case FieldType::ref: return *int_of(v);
    case FieldType::boolean: return int64_t(v.as_bool() ? 1 : 0);
    case FieldType::json: return to_json(v);
    default: return std::string(v.as_string());
  }
}

json::value from_db(const Field& f, const store::Value& v) {
  if (store::is_null(v)) return nullptr;
  switch (f.type) {
    case FieldType::integer:
    case FieldType::money:
    case FieldType::datetime:
    case FieldType::ref: return store::as_int(v);
    case FieldType::boolean: return store::as_int(v) != 0;
    case FieldType::json: {
      try {
        return parse_value(store::as_text(v));
      } catch (...) {
        return nullptr;
      }
    }
    default: return json::value(store::as_text(v));
  }
}

json::value from_text(const Field& f, const std::string& text, std::vector<FieldError>& errors) {
  if (text.empty()) return nullptr;
  switch (f.type) {
    case FieldType::integer:
    case FieldType::money:
    case FieldType::datetime:
    case FieldType::ref: {
      int64_t n = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (ec != std::errc() || p != text.data() + text.size()) {
        errors.push_back({f.name, "wrong_type", f.name + " must be an integer"});
        return nullptr;
      }
      return n;
    }
    case FieldType::boolean: {
      std::string l = to_lower(text);
      if (l == "true" || l == "1" || l == "yes" || text == "是") return true;
      if (l == "false" || l == "0" || l == "no" || text == "否") return false;
      errors.push_back({f.name, "wrong_type", f.name + " must be true or false"});
      return nullptr;
    }
    case FieldType::json:
      try {
        return parse_value(text);
      } catch (...) {
        errors.push_back({f.name, "wrong_type", f.name + " must be JSON"});
        return nullptr;
      }
    default: return json::value(text);
  }
}

}  // namespace kefu::meta
