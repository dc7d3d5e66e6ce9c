#include "auth/service.hpp"

#include <spdlog/spdlog.h>

#include "base/crypto.hpp"
#include "meta/validate.hpp"

namespace kefu::auth {

AuthService::AuthService(const meta::Repository& repo, meta::ReviewService& reviews, const Config& config)
    : repo_(repo), reviews_(reviews), config_(config), dummy_hash_(crypto::hash_password(crypto::random_token(16))) {
  // 菜单权限审核: a grant of roles to a person takes effect when a reviewer approves it.
  reviews.add_kind("staff_role", [this](store::Connection& c, const meta::ChangeRequest& cr, const Principal& reviewer,
                                        const audit::Actor& actor) -> json::value {
    int64_t staff_id = cr.payload.at("staff_id").as_int64();
    if (staff_id == reviewer.staff_id)
      throw Error::forbidden("you cannot approve roles for yourself", "self_grant");
    const auto& staff = repo_.registry().get("staff");
    if (!repo_.load(c, staff, &reviewer, staff_id)) throw Error::not_found("staff does not exist", "staff_id");
    auto before = c.exec("SELECT role_id FROM staff_role WHERE staff_id = ? ORDER BY role_id", {staff_id});
    json::array old_ids;
    for (auto& r : before.rows) old_ids.push_back(store::as_int(r[0]));
    c.exec("DELETE FROM staff_role WHERE staff_id = ?", {staff_id});
    for (auto& id : cr.payload.at("role_ids").as_array()) {
      check_grantable(c, reviewer, id);
      c.exec("INSERT INTO staff_role (staff_id, role_id, granted_at, granted_by) VALUES (?, ?, ?, ?)",
             {staff_id, id.as_int64(), repo_.clock().now_ms(), reviewer.staff_id});
    }
    repo_.audit().append(c, actor, {"staff_role", staff_id, "grant",
                                    json::object{{"role_ids", json::object{{"from", old_ids}, {"to", cr.payload.at("role_ids")}}},
                                                 {"change_request", cr.id}}});
    // Sessions of the grantee pick up the new permissions at their next request.
    std::lock_guard lk(cache_mu_);
    cache_.clear();
    return json::object{{"id", staff_id}, {"role_ids", cr.payload.at("role_ids")}};
  });
}

void AuthService::check_password_policy(const std::string& username, const std::string& pw) {
  auto weak = [](const std::string& why) { return Error::validation({{"new_password", "weak_password", why}}); };
  if (pw.size() < 8) throw weak("at least 8 characters");
  if (pw.size() > 128) throw weak("at most 128 characters");
  int lower = 0, upper = 0, digit = 0, other = 0;
  for (unsigned char c : pw) {
    if (islower(c)) lower = 1;
    else if (isupper(c)) upper = 1;
    else if (isdigit(c)) digit = 1;
    else other = 1;
  }
  if (lower + upper + digit + other < 3) throw weak("use three of: lower case, upper case, digits, symbols");
  if (!username.empty() && pw.find(username) != std::string::npos) throw weak("must not contain the username");
}

std::shared_ptr<Principal> AuthService::load_principal(store::Connection& c, int64_t staff_id) const {
  auto r = c.exec(
      "SELECT s.id, s.username, s.name, s.org_id, o.path, s.status, s.archived, s.must_change_password FROM staff s "
      "JOIN org_unit o ON o.id = s.org_id WHERE s.id = ?",
      {staff_id});
  if (r.empty() || store::as_text(r.rows[0][5]) != "active" || store::as_int(r.rows[0][6])) return nullptr;
  auto p = std::make_shared<Principal>();
  p->staff_id = staff_id;
  p->username = store::as_text(r.rows[0][1]);
  p->name = store::as_text(r.rows[0][2]);
  p->org_id = store::as_int(r.rows[0][3]);
  p->org_path = store::as_text(r.rows[0][4]);
  p->must_change_password = !store::is_null(r.rows[0][7]) && store::as_int(r.rows[0][7]) != 0;
  p->scope = DataScope::self;
  auto roles = c.exec(
      "SELECT r.data_scope, r.permissions FROM staff_role sr JOIN role r ON r.id = sr.role_id WHERE sr.staff_id = ? "
      "AND r.archived = 0",
      {staff_id});
  for (auto& row : roles.rows) {
    DataScope s;
    if (parse_scope(store::as_text(row[0]), s) && s > p->scope) p->scope = s;  // the widest role wins
    try {
      json::value perms = parse_value(store::as_text(row[1]));
      if (perms.is_array())
        for (auto& perm : perms.as_array())
          if (perm.is_string()) p->permissions.insert(std::string(perm.as_string()));
    } catch (...) {
    }
  }
  return p;
}

LoginResult AuthService::login(const std::string& username, const std::string& password, const std::string& ip,
                               const std::string& user_agent, const std::string& request_id) {
  const int64_t now = repo_.clock().now_ms();
  struct Row {
    int64_t id = 0;
    std::string hash;
    int64_t failed = 0, locked_until = 0;
    bool usable = false;
  } row;
  repo_.db().read([&](store::Connection& c) {
    auto r = c.exec(
        "SELECT id, password_hash, failed_logins, locked_until, status, archived FROM staff WHERE username = ?",
        {username});
    if (r.empty()) return;
    row.id = store::as_int(r.rows[0][0]);
    row.hash = store::as_text(r.rows[0][1]);
    row.failed = store::as_int(r.rows[0][2]);
    row.locked_until = store::as_int(r.rows[0][3]);
    row.usable = store::as_text(r.rows[0][4]) == "active" && !store::as_int(r.rows[0][5]) && !row.hash.empty();
  });
  audit::Actor actor{row.id, username.substr(0, 64), ip, request_id};
  if (row.id && row.locked_until > now) {
    repo_.db().write([&](store::Connection& c) {
      repo_.audit().append(c, actor, {"auth", row.id, "login.locked", json::object{}});
    });
    throw Error(423, "account_locked", "too many failed sign-ins; try again after " +
                                           std::to_string((row.locked_until - now + 59999) / 60000) + " minute(s)");
  }
  bool ok = crypto::verify_password(row.usable ? row.hash : dummy_hash_, password) && row.usable;
  if (!ok) {
    if (row.id) {
      repo_.db().write([&](store::Connection& c) {
        int64_t failed = store::as_int(
            c.exec("UPDATE staff SET failed_logins = COALESCE(failed_logins, 0) + 1 WHERE id = ? RETURNING failed_logins",
                   {row.id}).rows[0][0]);
        if (failed >= config_.lockout_threshold)
          c.exec("UPDATE staff SET locked_until = ?, failed_logins = 0 WHERE id = ?",
                 {now + int64_t(config_.lockout_min) * 60000, row.id});
        repo_.audit().append(c, actor, {"auth", row.id, "login.failed", json::object{{"failed", failed}}});
      });
    }
    throw Error::unauthorized("invalid_credentials", "wrong username or password");
  }
  LoginResult res;
  res.token = crypto::random_token(32);
  res.expires_at = now + int64_t(config_.session_ttl_min) * 60000;
  repo_.db().write([&](store::Connection& c) {
    c.exec("UPDATE staff SET failed_logins = 0, locked_until = NULL WHERE id = ?", {row.id});
    c.exec("INSERT INTO auth_session (token_hash, staff_id, created_at, expires_at, client_ip, user_agent) VALUES (?, "
           "?, ?, ?, ?, ?)",
           {crypto::sha256_hex(res.token), row.id, now, res.expires_at, ip, user_agent.substr(0, 200)});
    repo_.audit().append(c, actor, {"auth", row.id, "login", json::object{}});
    auto p = load_principal(c, row.id);
    if (!p) throw Error::unauthorized("invalid_credentials", "wrong username or password");
    res.me = me(*p);
  });
  return res;
}

std::shared_ptr<const Principal> AuthService::authenticate(const std::string& token, bool via_cookie) {
  if (token.empty()) return nullptr;
  if (token.size() > 100) throw Error::unauthorized("invalid_token", "the session token is not valid");
  std::string h = crypto::sha256_hex(token);
  const int64_t now = repo_.clock().now_ms();
  {
    std::lock_guard lk(cache_mu_);
    auto it = cache_.find(h);
    if (it != cache_.end() && it->second.expires_at > now &&
        now - it->second.cached_at < int64_t(config_.session_cache_s) * 1000) {
      if (it->second.who->via_cookie == via_cookie) return it->second.who;
    }
  }
  std::shared_ptr<Principal> p;
  int64_t expires = 0;
  // A revocation committed while this read runs must not be undone by caching what it read.
  const uint64_t generation = cache_generation_.load();
  repo_.db().read([&](store::Connection& c) {
    auto r = c.exec("SELECT staff_id, expires_at, revoked_at FROM auth_session WHERE token_hash = ?", {h});
    if (r.empty() || !store::is_null(r.rows[0][2])) throw Error::unauthorized("invalid_token", "the session is not valid; sign in again");
    expires = store::as_int(r.rows[0][1]);
    if (expires <= now) throw Error::unauthorized("session_expired", "the session has expired; sign in again");
    p = load_principal(c, store::as_int(r.rows[0][0]));
  });
  if (!p) throw Error::unauthorized("invalid_token", "the account is disabled");
  p->session_hash = h;
  p->via_cookie = via_cookie;
  std::lock_guard lk(cache_mu_);
  if (cache_generation_.load() != generation) return p;
  if (cache_.size() > 100000) cache_.clear();
  cache_[h] = {p, expires, now};
  return p;
}

void AuthService::logout(const Principal& who, const std::string& ip, const std::string& request_id) {
  repo_.db().write([&](store::Connection& c) {
    c.exec("UPDATE auth_session SET revoked_at = ? WHERE token_hash = ?", {repo_.clock().now_ms(), who.session_hash});
    repo_.audit().append(c, audit::Actor::of(who, ip, request_id), {"auth", who.staff_id, "logout", json::object{}});
  });
  std::lock_guard lk(cache_mu_);
  cache_.erase(who.session_hash);
}

void AuthService::drop_sessions(store::Connection& c, int64_t staff_id) {
  c.exec("UPDATE auth_session SET revoked_at = ? WHERE staff_id = ? AND revoked_at IS NULL",
         {repo_.clock().now_ms(), staff_id});
}

// Called after the revoking transaction commits: erasing earlier would let a concurrent
// request re-cache the session from a snapshot taken before the commit.
void AuthService::forget_sessions(int64_t staff_id, const std::string& keep_hash) {
  std::lock_guard lk(cache_mu_);
  ++cache_generation_;
  std::erase_if(cache_, [&](auto& kv) { return kv.second.who->staff_id == staff_id && kv.first != keep_hash; });
}

json::object AuthService::me(const Principal& who) const {
  json::array perms;
  for (auto& p : who.permissions) perms.push_back(json::value(p));
  bool must_change = false;
  repo_.db().read([&](store::Connection& c) {
    auto r = c.exec("SELECT must_change_password FROM staff WHERE id = ?", {who.staff_id});
    must_change = !r.empty() && store::as_int(r.rows[0][0]) != 0;
  });
  return json::object{{"id", who.staff_id},
                      {"username", who.username},
                      {"name", who.name},
                      {"org_id", who.org_id},
                      {"data_scope", to_string(who.scope)},
                      {"permissions", perms},
                      {"must_change_password", must_change}};
}

void AuthService::change_password(const Principal& who, const std::string& old_pw, const std::string& new_pw,
                                  const audit::Actor& actor) {
  std::string hash;
  repo_.db().read([&](store::Connection& c) {
    auto r = c.exec("SELECT password_hash FROM staff WHERE id = ?", {who.staff_id});
    if (!r.empty()) hash = store::as_text(r.rows[0][0]);
  });
  if (hash.empty() || !crypto::verify_password(hash, old_pw))
    throw Error::validation({{"old_password", "wrong_password", "the current password is wrong"}});
  check_password_policy(who.username, new_pw);
  if (crypto::verify_password(hash, new_pw))
    throw Error::validation({{"new_password", "weak_password", "choose a password different from the current one"}});
  std::string new_hash = crypto::hash_password(new_pw);
  repo_.db().write([&](store::Connection& c) {
    c.exec("UPDATE staff SET password_hash = ?, password_changed_at = ?, must_change_password = 0 WHERE id = ?",
           {new_hash, repo_.clock().now_ms(), who.staff_id});
    repo_.audit().append(c, actor, {"staff", who.staff_id, "password.change", json::object{}});
    // Other sessions end; this one stays.
    c.exec("UPDATE auth_session SET revoked_at = ? WHERE staff_id = ? AND token_hash <> ? AND revoked_at IS NULL",
           {repo_.clock().now_ms(), who.staff_id, who.session_hash});
  });
  // All cached sessions, this one too: it must stop carrying must_change_password.
  forget_sessions(who.staff_id);
}

std::string AuthService::reset_password(const Principal& who, int64_t staff_id, const std::string& new_pw,
                                        const audit::Actor& actor) {
  std::string pw = new_pw;
  std::string username;
  repo_.db().read([&](store::Connection& c) {
    auto rec = repo_.load(c, repo_.registry().get("staff"), &who, staff_id);
    if (!rec) throw Error::not_found("staff " + std::to_string(staff_id) + " does not exist", "id");
    username = std::string(rec->at("username").as_string());
  });
  if (staff_id == who.staff_id) throw Error::forbidden("use the password change for your own account", "self_reset");
  if (pw.empty()) pw = "Kf-" + crypto::random_token(9) + "9a";
  check_password_policy(username, pw);
  std::string hash = crypto::hash_password(pw);
  repo_.db().write([&](store::Connection& c) {
    c.exec("UPDATE staff SET password_hash = ?, password_changed_at = ?, must_change_password = 1, failed_logins = 0, "
           "locked_until = NULL WHERE id = ?",
           {hash, repo_.clock().now_ms(), staff_id});
    repo_.audit().append(c, actor, {"staff", staff_id, "password.reset", json::object{}});
    drop_sessions(c, staff_id);
  });
  forget_sessions(staff_id);
  return new_pw.empty() ? pw : std::string();
}

json::object AuthService::submit_grant(const Principal& who, int64_t staff_id, const json::array& role_ids,
                                       const audit::Actor& actor) {
  if (staff_id == who.staff_id) throw Error::forbidden("you cannot grant roles to yourself", "self_grant");
  json::object out;
  repo_.db().write([&](store::Connection& c) {
    auto rec = repo_.load(c, repo_.registry().get("staff"), &who, staff_id);
    if (!rec) throw Error::not_found("staff " + std::to_string(staff_id) + " does not exist", "staff_id");
    for (auto& id : role_ids) check_grantable(c, who, id);
    // Reviewed like any other change; the reviewers see it under kind "staff_role".
    out = reviews_.submit(c, who, actor, "staff_role", "grant", 1, "grant", staff_id, -1,
                          json::object{{"staff_id", staff_id}, {"role_ids", role_ids}}, rec->at("org_id").as_int64());
  });
  return out;
}

// A role may be granted, and a grant approved, only by someone holding all its permissions.
void AuthService::check_grantable(store::Connection& c, const Principal& who, const json::value& role_id) const {
  if (!role_id.is_int64()) throw Error::validation({{"role_ids", "wrong_type", "role_ids must be a list of ids"}});
  auto role = c.exec("SELECT permissions FROM role WHERE id = ? AND archived = 0", {role_id.as_int64()});
  if (role.empty())
    throw Error::validation({{"role_ids", "invalid_reference", "role " + to_json(role_id) + " does not exist"}});
  json::value perms = parse_value(store::as_text(role.rows[0][0]));
  for (auto& p : perms.as_array())
    if (!p.is_string() || !who.has(std::string(p.as_string())))
      throw Error(403, "grant_exceeds_own", "you cannot grant a role with permissions you do not hold", "role_ids");
}

json::array AuthService::roles_of(const Principal& who, int64_t staff_id) const {
  json::array out;
  repo_.db().read([&](store::Connection& c) {
    if (!repo_.load(c, repo_.registry().get("staff"), &who, staff_id))
      throw Error::not_found("staff " + std::to_string(staff_id) + " does not exist", "id");
    auto r = c.exec("SELECT r.id, r.code, r.name FROM staff_role sr JOIN role r ON r.id = sr.role_id WHERE sr.staff_id = ? "
                    "ORDER BY r.id",
                    {staff_id});
    for (auto& row : r.rows)
      out.push_back(json::object{{"id", store::as_int(row[0])}, {"code", store::as_text(row[1])}, {"name", store::as_text(row[2])}});
  });
  return out;
}

bool AuthService::create_admin(const std::string& username, const std::string& password, bool only_if_empty) {
  check_password_policy(username, password);
  std::string hash = crypto::hash_password(password);
  bool created = false;
  Principal sys = system_principal();
  audit::Actor actor{0, "system", "", "bootstrap"};
  repo_.db().write([&](store::Connection& c) {
    if (only_if_empty && !c.exec("SELECT 1 FROM staff WHERE username = ?", {username}).empty()) return;
    auto& reg = repo_.registry();
    int64_t hq;
    auto org = c.exec("SELECT id FROM org_unit WHERE kind = 'headquarters' AND archived = 0 ORDER BY id LIMIT 1", {});
    if (org.empty())
      hq = repo_.create(c, reg.get("org_unit"), sys, actor,
                        json::object{{"name", "总部"}, {"code", "HQ"}, {"kind", "headquarters"}, {"sort_order", 0}})
               .at("id").as_int64();
    else
      hq = store::as_int(org.rows[0][0]);
    int64_t role;
    auto r = c.exec("SELECT id FROM role WHERE code = 'admin'", {});
    if (r.empty())
      role = repo_.create(c, reg.get("role"), sys, actor,
                          json::object{{"code", "admin"}, {"name", "系统管理员"}, {"data_scope", "all"},
                                       {"permissions", json::array{"*"}}})
                 .at("id").as_int64();
    else
      role = store::as_int(r.rows[0][0]);
    auto existing = c.exec("SELECT id FROM staff WHERE username = ?", {username});
    int64_t id;
    if (existing.empty()) {
      id = repo_.create(c, reg.get("staff"), sys, actor,
                        json::object{{"username", username}, {"name", "系统管理员"}, {"org_id", hq}, {"status", "active"}})
               .at("id").as_int64();
    } else {
      id = store::as_int(existing.rows[0][0]);
    }
    c.exec("UPDATE staff SET password_hash = ?, password_changed_at = ?, failed_logins = 0, locked_until = NULL, "
           "status = 'active', archived = 0 WHERE id = ?",
           {hash, repo_.clock().now_ms(), id});
    if (c.exec("SELECT 1 FROM staff_role WHERE staff_id = ? AND role_id = ?", {id, role}).empty())
      c.exec("INSERT INTO staff_role (staff_id, role_id, granted_at, granted_by) VALUES (?, ?, ?, 0)",
             {id, role, repo_.clock().now_ms()});
    repo_.audit().append(c, actor, {"staff", id, "create_admin", json::object{{"username", username}}});
    created = true;
  });
  return created;
}

}  // namespace kefu::auth
