#pragma once
// Routes with path parameters ("/api/v1/{entity}/{id}"). A route names the permission
// it needs, so the permission check is one middleware step, not code in every handler.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "http/message.hpp"

namespace kefu::http {

using Handler = std::function<Response(Context&)>;

inline constexpr const char* kPublic = "public";  // no session needed
inline constexpr const char* kSignedIn = "";      // any signed-in user

struct Route {
  std::string method;
  std::string pattern;
  std::string permission = kSignedIn;
  Handler handler;
  bool slow = false;  // runs on the slow pool (password hashing, imports)
  std::string summary;
  std::string tag;
  kefu::json::value request_schema;   // OpenAPI schema of the body, null when none
  kefu::json::value response_schema;  // OpenAPI schema of a 2xx body
};

class Router {
 public:
  void add(Route route);

  struct Match {
    const Route* route = nullptr;
    std::map<std::string, std::string> params;
    bool path_exists = false;  // the path matched but not the method: 405
  };
  Match match(const std::string& method, const std::string& path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  struct Compiled {
    std::vector<std::string> segments;  // "{x}" marks a parameter
    int literals = 0;
  };
  std::vector<Route> routes_;
  std::vector<Compiled> compiled_;
};

std::vector<std::string> split_path(const std::string& path);

}  // namespace kefu::http
