#include "http/message.hpp"

#include <charconv>

#include "base/error.hpp"
#include "base/text.hpp"

namespace kefu::http {

std::string Request::header(std::string_view name) const {
  for (auto& [k, v] : headers)
    if (k == name) return v;
  return {};
}

std::string Request::cookie(std::string_view name) const {
  std::string all = header("cookie");
  size_t pos = 0;
  while (pos < all.size()) {
    size_t end = all.find(';', pos);
    if (end == std::string::npos) end = all.size();
    std::string_view part(all.data() + pos, end - pos);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    auto eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name) return std::string(part.substr(eq + 1));
    pos = end + 1;
  }
  return {};
}

std::string Request::q(const std::string& name, const std::string& fallback) const {
  auto it = query.find(name);
  return it == query.end() ? fallback : it->second;
}

const std::string& Request::param(const std::string& name) const {
  static const std::string empty;
  auto it = params.find(name);
  return it == params.end() ? empty : it->second;
}

int64_t Request::param_id(const std::string& name) const {
  const std::string& s = param(name);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v <= 0)
    throw Error::not_found("no record with id '" + s + "'", name);
  return v;
}

const Principal& Context::who() const {
  if (!principal) throw Error::unauthorized("unauthenticated", "sign in first");
  return *principal;
}

Response Response::json(const kefu::json::value& v, int status) {
  Response r;
  r.status = status;
  r.body = to_json(v);
  return r;
}

Response Response::text(std::string body, std::string content_type, int status) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

std::string percent_decode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += char(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view q) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos <= q.size() && !q.empty()) {
    size_t end = q.find('&', pos);
    if (end == std::string_view::npos) end = q.size();
    std::string part(q.substr(pos, end - pos));
    for (auto& c : part)
      if (c == '+') c = ' ';
    if (!part.empty()) {
      auto eq = part.find('=');
      if (eq == std::string::npos) out[percent_decode(part)] = "";
      else out[percent_decode(part.substr(0, eq))] = percent_decode(part.substr(eq + 1));
    }
    if (end == q.size()) break;
    pos = end + 1;
  }
  return out;
}

Response error_response(int status, const std::string& code, const std::string& message,
                        const std::string& field, const std::string& request_id,
                        const kefu::json::array* details) {
  kefu::json::object err{{"code", code}, {"message", message}};
  if (!field.empty()) err["field"] = field;
  if (details && !details->empty()) err["details"] = *details;
  if (!request_id.empty()) err["request_id"] = request_id;
  return Response::json(kefu::json::object{{"error", std::move(err)}}, status);
}

}  // namespace kefu::http
