#pragma once
// Sign-in, sessions, passwords and role grants. Passwords are argon2id hashes; session
// tokens are random and stored only as SHA-256, so a database dump yields no session.
#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "base/config.hpp"
#include "meta/review.hpp"
#include "store/migrations.hpp"

namespace kefu::auth {

struct LoginResult {
  std::string token;
  int64_t expires_at = 0;
  json::object me;
};

class AuthService {
 public:
  AuthService(const meta::Repository& repo, meta::ReviewService& reviews, const Config& config);
  static std::vector<store::Migration> migrations();

  LoginResult login(const std::string& username, const std::string& password, const std::string& ip,
                    const std::string& user_agent, const std::string& request_id);
  void logout(const Principal& who, const std::string& ip, const std::string& request_id);
  // Null when no token is presented; throws 401 for an invalid or expired one.
  std::shared_ptr<const Principal> authenticate(const std::string& token, bool via_cookie);
  json::object me(const Principal& who) const;

  void change_password(const Principal& who, const std::string& old_pw, const std::string& new_pw,
                       const audit::Actor& actor);
  // Returns the temporary password when none is given; the user must change it at sign-in.
  std::string reset_password(const Principal& who, int64_t staff_id, const std::string& new_pw,
                             const audit::Actor& actor);
  json::object submit_grant(const Principal& who, int64_t staff_id, const json::array& role_ids,
                            const audit::Actor& actor);
  json::array roles_of(const Principal& who, int64_t staff_id) const;

  // First administrator (kefuctl create-admin, KEFU_ADMIN_PASSWORD); with only_if_empty, a no-op when that user exists.
  bool create_admin(const std::string& username, const std::string& password, bool only_if_empty);

  static void check_password_policy(const std::string& username, const std::string& password);

  const meta::ReviewService& reviews() const { return reviews_; }

 private:
  std::shared_ptr<Principal> load_principal(store::Connection& c, int64_t staff_id) const;
  void drop_sessions(store::Connection& c, int64_t staff_id);
  void forget_sessions(int64_t staff_id, const std::string& keep_hash = {});
  void check_grantable(store::Connection& c, const Principal& who, const json::value& role_id) const;

  const meta::Repository& repo_;
  const meta::ReviewService& reviews_;
  const Config& config_;
  struct Cached {
    std::shared_ptr<const Principal> who;
    int64_t expires_at;
    int64_t cached_at;
  };
  std::mutex cache_mu_;
  std::unordered_map<std::string, Cached> cache_;
  std::atomic<uint64_t> cache_generation_{0};  // bumped by every revocation
  std::string dummy_hash_;  // verified against for unknown users, so timing reveals nothing
};

}  // namespace kefu::auth
