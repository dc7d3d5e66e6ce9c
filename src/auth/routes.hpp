#pragma once
#include "auth/service.hpp"
#include "http/router.hpp"

namespace kefu::auth {
void add_routes(http::Router& router, AuthService& auth, const meta::Repository& repo);
// Reads the session token from the Authorization header or the kefu_session cookie.
std::shared_ptr<const Principal> authenticate_request(AuthService& auth, const http::Request& req);
}  // namespace kefu::auth
