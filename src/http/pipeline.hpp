#pragma once
// The middleware chain every request passes, in order: request id, route match,
// authentication, permission check, handler, error mapping, access log, metrics.
// It has no sockets, so tests drive it directly; the Beast server only moves bytes.
#include <functional>
#include <memory>

#include "http/message.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"
#include "http/static_files.hpp"

namespace kefu::http {

// Resolves the session of a request (cookie or bearer token); null when there is none.
// Throws Error 401 for a token that is present but invalid or expired.
using Authenticator = std::function<std::shared_ptr<const Principal>(const Request&)>;

class Pipeline {
 public:
  Pipeline(const Router& router, Metrics& metrics, Authenticator auth, const StaticFiles* files, bool access_log)
      : router_(router), metrics_(metrics), auth_(std::move(auth)), files_(files), access_log_(access_log) {}

  Response handle(Request& req) const;
  bool is_slow(const Request& req) const;
  std::shared_ptr<const Principal> authenticate(const Request& req) const { return auth_(req); }

 private:
  Response dispatch(Request& req, std::string& route_name) const;

  const Router& router_;
  Metrics& metrics_;
  Authenticator auth_;
  const StaticFiles* files_;
  bool access_log_;
};

std::string new_request_id();

}  // namespace kefu::http
