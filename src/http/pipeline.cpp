#include "http/pipeline.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>

#include "base/crypto.hpp"
#include "base/error.hpp"
#include "store/database.hpp"

namespace kefu::http {

std::string new_request_id() { return crypto::random_token(12); }

namespace {

bool acceptable_request_id(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!isalnum((unsigned char)c) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

// A browser request carrying our cookie from another site is refused; API clients
// with bearer tokens are not affected. SameSite=Strict already blocks most of this.
// What a session whose password was reset may do before changing it.
bool allowed_before_password_change(const std::string& pattern) {
  return pattern == "/api/v1/auth/me" || pattern == "/api/v1/auth/password" || pattern == "/api/v1/auth/logout" ||
         pattern == "/api/v1/meta";
}

bool cross_site(const Request& req) {
  std::string origin = req.header("origin");
  if (origin.empty()) return false;
  std::string host = req.header("host");
  auto scheme = origin.find("://");
  return scheme == std::string::npos || origin.substr(scheme + 3) != host;
}

}  // namespace

bool Pipeline::is_slow(const Request& req) const {
  auto m = router_.match(req.method, req.path);
  return m.route && m.route->slow;
}

Response Pipeline::dispatch(Request& req, std::string& route_name) const {
  auto m = router_.match(req.method == "HEAD" ? "GET" : req.method, req.path);
  if (!m.route) {
    if (files_) {
      if (auto r = files_->serve(req)) {
        route_name = "static";
        return *r;
      }
    }
    route_name = m.path_exists ? "method_not_allowed" : "not_found";
    if (m.path_exists) throw Error(405, "method_not_allowed", req.method + " is not allowed on " + req.path);
    throw Error::not_found("no such endpoint: " + req.path);
  }
  route_name = m.route->pattern;
  req.params = std::move(m.params);
  Context ctx{req, nullptr, m.route->pattern};
  if (m.route->permission != kPublic || !req.header("authorization").empty() || !req.cookie("kefu_session").empty()) {
    try {
      ctx.principal = auth_(req);
    } catch (const Error&) {
      if (m.route->permission != kPublic) throw;  // public routes ignore a stale cookie
    }
  }
  if (m.route->permission != kPublic) {
    if (!ctx.principal) throw Error::unauthorized("unauthenticated", "sign in first");
    if (ctx.principal->via_cookie && req.method != "GET" && req.method != "HEAD" && cross_site(req))
      throw Error::forbidden("cross-site request refused", "cross_site");
    if (ctx.principal->must_change_password && !allowed_before_password_change(m.route->pattern))
      throw Error(403, "password_change_required", "change your password first", "password");
    if (!m.route->permission.empty() && !ctx.principal->has(m.route->permission))
      throw Error::forbidden("missing permission " + m.route->permission);
  }
  return m.route->handler(ctx);
}

Response Pipeline::handle(Request& req) const {
  auto start = std::chrono::steady_clock::now();
  std::string rid = req.header("x-request-id");
  req.request_id = acceptable_request_id(rid) ? rid : new_request_id();
  std::string route_name = "unmatched";
  Response resp;
  try {
    resp = dispatch(req, route_name);
  } catch (const Error& e) {
    json::array details;
    for (auto& d : e.details) {
      json::object o{{"field", d.field}, {"code", d.code}, {"message", d.message}};
      details.push_back(std::move(o));
    }
    resp = error_response(e.status(), e.code(), e.what(), e.field(), req.request_id, &details);
    if (e.status() >= 500) spdlog::error("{} {} {}: {}", req.request_id, req.method, req.path, e.what());
  } catch (const store::DbError& e) {
    bool busy = e.kind() == store::DbError::Kind::busy || e.kind() == store::DbError::Kind::connection;
    spdlog::error("{} {} {}: database: {}", req.request_id, req.method, req.path, e.what());
    resp = busy ? error_response(503, "unavailable", "the database is busy; retry", "", req.request_id)
                : error_response(500, "internal", "internal error; see the server log", "", req.request_id);
  } catch (const std::exception& e) {
    spdlog::error("{} {} {}: {}", req.request_id, req.method, req.path, e.what());
    resp = error_response(500, "internal", "internal error; see the server log", "", req.request_id);
  }
  resp.set_header("X-Request-Id", req.request_id);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics_.observe(req.method, route_name, resp.status, secs);
  if (access_log_)
    spdlog::get("access")->info("{} {} {} {} {} {}B {:.2f}ms", req.request_id, req.client_ip, req.method,
                                req.target.substr(0, 200), resp.status, resp.body.size(), secs * 1000);
  return resp;
}

}  // namespace kefu::http
