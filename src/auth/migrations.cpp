#include "auth/service.hpp"

namespace kefu::auth {

std::vector<store::Migration> AuthService::migrations() {
  return {{"auth/0001_sessions", R"(
CREATE TABLE auth_session (
  token_hash TEXT PRIMARY KEY, staff_id BIGINT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,
  client_ip TEXT NOT NULL, user_agent TEXT NOT NULL, revoked_at BIGINT);
CREATE INDEX ix_auth_session_staff ON auth_session (staff_id);
CREATE TABLE staff_role (staff_id BIGINT NOT NULL, role_id BIGINT NOT NULL, granted_at BIGINT NOT NULL,
  granted_by BIGINT NOT NULL, PRIMARY KEY (staff_id, role_id));
CREATE TABLE idempotency_key (actor_id BIGINT NOT NULL, key TEXT NOT NULL, status BIGINT NOT NULL, body TEXT NOT NULL,
  created_at BIGINT NOT NULL, PRIMARY KEY (actor_id, key));
)"}};
}

}  // namespace kefu::auth
