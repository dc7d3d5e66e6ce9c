#pragma once
// Request and response as handlers see them: plain structs, no Beast, so domain
// routes compile fast and the middleware chain can be tested without sockets.
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/json.hpp"
#include "base/principal.hpp"

namespace kefu::http {

struct Request {
  std::string method;  // upper case
  std::string target;  // as received
  std::string path;    // percent-decoded path
  std::map<std::string, std::string> query;
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;
  std::string client_ip;
  std::string request_id;
  std::map<std::string, std::string> params;  // from the route pattern

  std::string header(std::string_view name) const;
  std::string cookie(std::string_view name) const;
  std::string q(const std::string& name, const std::string& fallback = {}) const;
  const std::string& param(const std::string& name) const;
  int64_t param_id(const std::string& name) const;  // 404 when not a positive integer
};

struct Response {
  int status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  static Response json(const kefu::json::value& v, int status = 200);
  static Response text(std::string body, std::string content_type, int status = 200);
  static Response no_content() { Response r; r.status = 204; r.content_type.clear(); return r; }
  void set_header(std::string name, std::string value) { headers.emplace_back(std::move(name), std::move(value)); }
};

struct Context {
  Request& req;
  std::shared_ptr<const Principal> principal;  // null on public routes without a session
  std::string route;                           // the matched pattern, for logs and metrics

  const Principal& who() const;  // 401 when absent
};

// Parses "a=1&b=%E4%B8%AD" into a map; '+' is a space.
std::map<std::string, std::string> parse_query(std::string_view q);
std::string percent_decode(std::string_view s);
Response error_response(int status, const std::string& code, const std::string& message,
                        const std::string& field, const std::string& request_id,
                        const kefu::json::array* details = nullptr);

}  // namespace kefu::http
