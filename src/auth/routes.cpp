#include "auth/routes.hpp"

#include "auth/permissions.hpp"
#include "meta/routes.hpp"

namespace kefu::auth {

using http::Context;
using http::Response;

std::shared_ptr<const Principal> authenticate_request(AuthService& auth, const http::Request& req) {
  std::string h = req.header("authorization");
  if (!h.empty()) {
    if (h.rfind("Bearer ", 0) != 0)
      throw Error::unauthorized("invalid_token", "use Authorization: Bearer <token>");
    return auth.authenticate(h.substr(7), false);
  }
  std::string ws = req.q("access_token");  // browsers cannot set headers on a WebSocket
  if (!ws.empty() && req.path == "/api/v1/ws") return auth.authenticate(ws, false);
  std::string cookie = req.cookie("kefu_session");
  if (!cookie.empty()) return auth.authenticate(cookie, true);
  return nullptr;
}

void add_routes(http::Router& router, AuthService& auth, const meta::Repository& repo) {
  router.add({"POST", "/api/v1/auth/login", http::kPublic,
              [&auth](Context& ctx) {
                auto body = parse_object(ctx.req.body);
                only_fields(body, {"username", "password"});
                auto user = string_field(body, "username", true, 64);
                auto pw = string_field(body, "password", true, 128);
                auto res = auth.login(user, pw, ctx.req.client_ip, ctx.req.header("user-agent"),
                                      ctx.req.request_id);
                auto r = Response::json(json::object{
                    {"token", res.token}, {"expires_at", res.expires_at}, {"user", res.me}});
                bool secure = ctx.req.header("x-forwarded-proto") == "https";
                r.set_header("Set-Cookie", "kefu_session=" + res.token +
                                               "; Path=/; HttpOnly; SameSite=Strict" +
                                               (secure ? "; Secure" : ""));
                r.set_header("Cache-Control", "no-store");
                return r;
              },
              true, "Sign in: returns a bearer token and sets the kefu_session cookie", "auth"});

  router.add({"POST", "/api/v1/auth/logout", http::kSignedIn,
              [&auth](Context& ctx) {
                auth.logout(ctx.who(), ctx.req.client_ip, ctx.req.request_id);
                auto r = Response::no_content();
                r.set_header("Set-Cookie",
                             "kefu_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
                return r;
              },
              false, "End this session", "auth"});

  router.add({"GET", "/api/v1/auth/me", http::kSignedIn,
              [&auth](Context& ctx) { return Response::json(auth.me(ctx.who())); }, false,
              "The signed-in user, his data scope and permissions", "auth"});

  router.add(
      {"POST", "/api/v1/auth/password", http::kSignedIn,
       [&auth](Context& ctx) {
         auto body = parse_object(ctx.req.body);
         only_fields(body, {"old_password", "new_password"});
         auth.change_password(ctx.who(), string_field(body, "old_password", true, 128),
                              string_field(body, "new_password", true, 200), meta::actor_of(ctx));
         return Response::no_content();
       },
       true, "Change one's own password (policy: 8+ characters, three character classes)", "auth"});

  router.add({"POST", "/api/v1/staff/{id}/password-reset", "staff:reset_password",
              [&auth](Context& ctx) {
                std::string pw;
                if (!ctx.req.body.empty()) {
                  auto body = parse_object(ctx.req.body);
                  only_fields(body, {"new_password"});
                  pw = string_field(body, "new_password", false, 200);
                }
                auto temp =
                    auth.reset_password(ctx.who(), ctx.req.param_id("id"), pw, meta::actor_of(ctx));
                json::object out{{"must_change_password", true}};
                if (!temp.empty()) out["temporary_password"] = temp;
                auto r = Response::json(out);
                r.set_header("Cache-Control", "no-store");
                return r;
              },
              true, "Reset a staff member's password; he must change it at next sign-in", "staff"});

  router.add({"GET", "/api/v1/staff/{id}/roles", "staff:read",
              [&auth](Context& ctx) {
                return Response::json(
                    json::object{{"items", auth.roles_of(ctx.who(), ctx.req.param_id("id"))}});
              },
              false, "Roles granted to a staff member", "staff"});

  router.add({"POST", "/api/v1/staff/{id}/roles", "grant:submit",
              [&auth](Context& ctx) {
                auto body = parse_object(ctx.req.body);
                only_fields(body, {"role_ids"});
                auto v = body.if_contains("role_ids");
                if (!v || !v->is_array())
                  throw Error::validation(
                      {{"role_ids", "required", "role_ids must be a list of role ids"}});
                if (v->as_array().size() > 50)
                  throw Error::validation({{"role_ids", "too_long", "too many roles"}});
                auto cr = auth.submit_grant(ctx.who(), ctx.req.param_id("id"), v->as_array(),
                                            meta::actor_of(ctx));
                auth.reviews().announce(cr);
                return Response::json(json::object{{"change_request", cr}}, 202);
              },
              false, "Request a role grant (菜单权限审核): takes effect when a reviewer approves",
              "staff"});

  router.add({"GET", "/api/v1/permissions", http::kSignedIn,
              [&repo](Context&) {
                return Response::json(json::object{{"items", catalogue_json(repo.registry())}});
              },
              false, "The permission catalogue (menus and operations)", "auth"});

  // ---- 操作流水 ----
  router.add(
      {"GET", "/api/v1/audit", "audit:read",
       [&repo](Context& ctx) {
         std::string where = " WHERE 1 = 1";
         std::vector<store::Value> params;
         auto add = [&](const char* key, const char* sql, bool numeric) {
           std::string v = ctx.req.q(key);
           if (v.empty()) return;
           where += sql;
           if (numeric) {
             try {
               params.emplace_back(int64_t(std::stoll(v)));
             } catch (...) {
               throw Error::bad_request("invalid_parameter",
                                        std::string(key) + " must be an integer", key);
             }
           } else {
             params.emplace_back(v);
           }
         };
         add("entity", " AND entity = ?", false);
         add("entity_id", " AND entity_id = ?", true);
         add("actor_id", " AND actor_id = ?", true);
         add("action", " AND action = ?", false);
         add("from", " AND at >= ?", true);
         add("to", " AND at < ?", true);
         int64_t page = std::max<int64_t>(1, atoll(ctx.req.q("page", "1").c_str()));
         int64_t size = std::clamp<int64_t>(atoll(ctx.req.q("page_size", "50").c_str()), 1, 500);
         json::object out;
         repo.db().read([&](store::Connection& c) {
           out["total"] =
               store::as_int(c.exec("SELECT COUNT(*) FROM audit_log" + where, params).rows[0][0]);
           auto p = params;
           p.emplace_back(size);
           p.emplace_back((page - 1) * size);
           auto r = c.exec(
               "SELECT id, at, actor_id, actor_name, client_ip, request_id, entity, entity_id, "
               "action, "
               "diff, hash FROM audit_log" +
                   where + " ORDER BY id DESC LIMIT ? OFFSET ?",
               p);
           json::array items;
           for (auto& row : r.rows) {
             json::object o;
             for (size_t k = 0; k < r.columns.size(); ++k) {
               if (r.columns[k] == "diff")
                 o["diff"] = parse_value(store::as_text(row[k]));
               else if (std::holds_alternative<int64_t>(row[k]))
                 o[r.columns[k]] = std::get<int64_t>(row[k]);
               else
                 o[r.columns[k]] = store::as_text(row[k]);
             }
             items.push_back(std::move(o));
           }
           out["items"] = std::move(items);
         });
         out["page"] = page;
         out["page_size"] = size;
         return Response::json(out);
       },
       false, "Search the operation log (entity, entity_id, actor_id, action, from, to)", "audit"});

  router.add({"GET", "/api/v1/audit/stats", "audit:read",
              [&repo](Context& ctx) {
                std::string by = ctx.req.q("by", "action");
                if (by != "action" && by != "entity" && by != "actor_name")
                  throw Error::bad_request("invalid_parameter",
                                           "by must be action, entity or actor_name", "by");
                json::array groups;
                repo.db().read([&](store::Connection& c) {
                  auto r = c.exec("SELECT " + by + ", COUNT(*) FROM audit_log GROUP BY " + by +
                                      " ORDER BY 2 DESC",
                                  {});
                  for (auto& row : r.rows)
                    groups.push_back(json::object{{"key", store::as_text(row[0])},
                                                  {"count", store::as_int(row[1])}});
                });
                return Response::json(json::object{{"by", by}, {"groups", groups}});
              },
              false, "Operation counts by action, entity or actor", "audit"});

  router.add(
      {"GET", "/api/v1/audit/verify", "audit:read",
       [&repo](Context&) {
         auto rep = repo.audit().verify(repo.db());
         return Response::json(json::object{
             {"ok", rep.ok}, {"rows", rep.rows}, {"bad_id", rep.bad_id}, {"problem", rep.problem}});
       },
       true, "Check the hash chain of the operation log", "audit"});
}

}  // namespace kefu::auth
