#include "meta/routes.hpp"

#include <charconv>

#include "meta/validate.hpp"

namespace kefu::meta {

audit::Actor actor_of(const http::Context& ctx) {
  return audit::Actor::of(ctx.who(), ctx.req.client_ip, ctx.req.request_id);
}

namespace {

using http::Context;
using http::Response;
using http::Route;

const Entity& entity_for(const MetaServices& s, const Context& ctx, const char* action) {
  const Entity& e = s.registry.get(ctx.req.param("entity"));
  if (!ctx.who().has(e.perm(action))) throw Error::forbidden("missing permission " + e.perm(action));
  return e;
}

json::object page_json(Page& p) {
  return json::object{{"items", std::move(p.items)},
                      {"total", p.total},
                      {"page", p.page},
                      {"page_size", p.page_size}};
}

// The version a client read, from the body or an If-Match header; required for updates.
int64_t client_version(const Context& ctx, const json::object* body, bool required) {
  if (body) {
    if (auto v = body->if_contains("version")) {
      if (v->is_int64()) return v->as_int64();
      throw Error::validation({{"version", "wrong_type", "version must be an integer"}});
    }
  }
  std::string h = ctx.req.header("if-match");
  if (h.empty()) h = ctx.req.q("version");
  if (!h.empty()) {
    if (h.front() == '"' && h.size() >= 2) h = h.substr(1, h.size() - 2);
    int64_t n = 0;
    auto [p, ec] = std::from_chars(h.data(), h.data() + h.size(), n);
    if (ec == std::errc() && p == h.data() + h.size()) return n;
    throw Error::bad_request("invalid_parameter", "version must be an integer", "version");
  }
  if (required) throw Error::validation({{"version", "required", "send the version you read to update a record"}});
  return -1;
}

Response write_response(const json::object& out, int created_status) {
  if (auto cr = out.if_contains("change_request")) return Response::json(json::object{{"change_request", *cr}}, 202);
  return Response::json(out.at("record"), created_status);
}

// After the commit: reviewers watching their queue hear of the new request at once.
void announce_if_reviewed(const MetaServices& s, const json::object& out) {
  if (auto cr = out.if_contains("change_request"); cr && cr->is_object()) s.reviews.announce(cr->as_object());
}

}  // namespace

// Idempotency-Key on POST: a retried request returns the first answer instead of a duplicate.
Response idempotent(store::Connection& c, const Context& ctx, int64_t now, const std::function<Response()>& fn) {
  std::string key = ctx.req.header("idempotency-key");
  if (key.empty()) return fn();
  if (key.size() > 100) throw Error::bad_request("invalid_header", "Idempotency-Key is too long", "Idempotency-Key");
  auto prior = c.exec("SELECT status, body FROM idempotency_key WHERE actor_id = ? AND key = ?",
                      {ctx.who().staff_id, key});
  if (!prior.empty()) {
    auto r = Response::text(store::as_text(prior.rows[0][1]), "application/json; charset=utf-8",
                            int(store::as_int(prior.rows[0][0])));
    r.set_header("Idempotent-Replayed", "true");
    return r;
  }
  Response r = fn();
  c.exec("INSERT INTO idempotency_key (actor_id, key, status, body, created_at) VALUES (?, ?, ?, ?, ?)",
         {ctx.who().staff_id, key, int64_t(r.status), r.body, now});
  return r;
}

void add_routes(http::Router& router, const MetaServices& s) {
  auto entity_schema = json::object{{"$ref", "#/components/schemas/Record"}};

  router.add({"GET", "/api/v1/meta", http::kSignedIn, [s](Context& ctx) {
                json::array out;
                for (auto& e : s.registry.all())
                  if (ctx.who().has(e->perm("read"))) out.push_back(s.registry.describe(*e, ctx.principal.get()));
                return Response::json(json::object{{"entities", std::move(out)}});
              }, false, "Describe every entity the caller may read (fields, labels, actions)", "meta"});

  router.add({"GET", "/api/v1/meta/{entity}", http::kSignedIn, [s](Context& ctx) {
                const Entity& e = entity_for(s, ctx, "read");
                return Response::json(s.registry.describe(e, ctx.principal.get()));
              }, false, "Describe one entity", "meta"});

  router.add({"GET", "/api/v1/{entity}", http::kSignedIn, [s](Context& ctx) {
                const Entity& e = entity_for(s, ctx, "read");
                auto page = s.repo.list(e, ctx.who(), ctx.req.query);
                return Response::json(page_json(page));
              }, false, "List records: field=value, field__like, __gte, __lte, __in, q, sort=-field, page, page_size",
              "entities"});

  router.add({"POST", "/api/v1/{entity}", http::kSignedIn, [s](Context& ctx) {
                const Entity& e = entity_for(s, ctx, "create");
                auto body = parse_object(ctx.req.body);
                auto values = validate_or_throw(e, body, Mode::create);
                Response r;
                json::object out;
                s.repo.db().write([&](store::Connection& c) {
                  r = idempotent(c, ctx, s.repo.clock().now_ms(), [&] {
                    out = write_entity(c, s.repo, s.reviews, e, ctx.who(), actor_of(ctx), "create", 0, -1, values);
                    return write_response(out, 201);
                  });
                });
                announce_if_reviewed(s, out);
                return r;
              }, false, "Create a record (202 with a change request for reviewed entities)", "entities",
              entity_schema, entity_schema});

  router.add({"GET", "/api/v1/{entity}/{id}", http::kSignedIn, [s](Context& ctx) {
                const Entity& e = entity_for(s, ctx, "read");
                auto rec = s.repo.get(e, ctx.who(), ctx.req.param_id("id"));
                auto r = Response::json(rec);
                r.set_header("ETag", "\"" + std::to_string(rec["version"].as_int64()) + "\"");
                return r;
              }, false, "Read one record", "entities", nullptr, entity_schema});

  auto update = [s](Context& ctx) {
    const Entity& e = entity_for(s, ctx, "update");
    int64_t id = ctx.req.param_id("id");
    auto body = parse_object(ctx.req.body);
    int64_t version = client_version(ctx, &body, true);
    auto values = validate_or_throw(e, body, Mode::update);
    json::object out;
    s.repo.db().write([&](store::Connection& c) {
      out = write_entity(c, s.repo, s.reviews, e, ctx.who(), actor_of(ctx), "update", id, version, values);
    });
    announce_if_reviewed(s, out);
    return write_response(out, 200);
  };
  router.add({"PUT", "/api/v1/{entity}/{id}", http::kSignedIn, update, false,
              "Update a record; send the version you read (409 when stale)", "entities", entity_schema, entity_schema});
  router.add({"PATCH", "/api/v1/{entity}/{id}", http::kSignedIn, update, false, "Same as PUT (partial update)",
              "entities", entity_schema, entity_schema});

  router.add({"DELETE", "/api/v1/{entity}/{id}", http::kSignedIn, [s](Context& ctx) {
                const Entity& e = entity_for(s, ctx, "archive");
                int64_t id = ctx.req.param_id("id");
                int64_t version = client_version(ctx, nullptr, false);
                json::object out;
                s.repo.db().write([&](store::Connection& c) {
                  out = write_entity(c, s.repo, s.reviews, e, ctx.who(), actor_of(ctx), "archive", id, version, {});
                });
                announce_if_reviewed(s, out);
                return write_response(out, 200);
              }, false, "Archive a record (records are never hard-deleted)", "entities"});

  router.add({"GET", "/api/v1/{entity}/stats", http::kSignedIn, [s](Context& ctx) {
                const Entity& e = entity_for(s, ctx, "read");
                std::string by = ctx.req.q("by");
                if (by.empty()) throw Error::bad_request("required", "by is required", "by");
                return Response::json(json::object{{"by", by}, {"groups", s.repo.stats(e, ctx.who(), by, ctx.req.query)}});
              }, false, "Count records grouped by a field (by=field), with the list filters", "entities"});

  router.add({"GET", "/api/v1/{entity}/export", http::kSignedIn, [s](Context& ctx) {
                const Entity& e = entity_for(s, ctx, "export");
                std::string format = ctx.req.q("format", "csv");
                if (format != "csv" && format != "xlsx")
                  throw Error::bad_request("invalid_parameter", "format must be csv or xlsx", "format");
                auto rows = s.repo.list_all(e, ctx.who(), ctx.req.query, 100000);
                Response r;
                if (format == "csv") {
                  r = Response::text(export_csv(e, rows), "text/csv; charset=utf-8");
                } else {
                  r = Response::text(export_xlsx(e, rows),
                                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
                }
                r.set_header("Content-Disposition", "attachment; filename=\"" + e.name + "." + format + "\"");
                s.repo.db().write([&](store::Connection& c) {
                  s.repo.audit().append(c, actor_of(ctx), {e.name, 0, "export",
                                                           json::object{{"format", format}, {"rows", rows.size()}}});
                });
                return r;
              }, true, "Export the filtered records as CSV or XLSX (format=csv|xlsx)", "entities"});

  router.add({"POST", "/api/v1/{entity}/import", http::kSignedIn, [s](Context& ctx) {
                const Entity& e = entity_for(s, ctx, "import");
                if (!ctx.who().has(e.perm("create"))) throw Error::forbidden("missing permission " + e.perm("create"));
                std::string mode = ctx.req.q("mode", "all");
                if (mode != "all" && mode != "valid")
                  throw Error::bad_request("invalid_parameter", "mode must be all or valid", "mode");
                auto res = import_csv(s.repo, s.reviews, e, ctx.who(), actor_of(ctx), ctx.req.body, mode == "all");
                json::object out{{"written", res.written},
                                 {"submitted", res.submitted},
                                 {"rejected", res.rejected},
                                 {"errors", res.errors}};
                if (res.rejected)
                  out["error"] = json::object{{"code", "import_rejected"},
                                              {"message", std::to_string(res.errors.size()) +
                                                              " problem(s) found; nothing was imported"},
                                              {"field", "file"}};
                return Response::json(out, res.rejected ? 422 : 200);
              }, true, "Import CSV (header = field names); mode=all (default, all or nothing) or mode=valid",
              "entities"});

  // ---- reviews (初审/终审, 菜单权限审核) ----
  router.add({"GET", "/api/v1/reviews", http::kSignedIn, [s](Context& ctx) {
                auto page = s.reviews.list(ctx.who(), ctx.req.query);
                return Response::json(page_json(page));
              }, false, "Change requests the caller submitted or may review (status=pending|first_approved|...)",
              "reviews"});
  router.add({"GET", "/api/v1/reviews/{id}", http::kSignedIn, [s](Context& ctx) {
                return Response::json(s.reviews.get(ctx.who(), ctx.req.param_id("id")));
              }, false, "One change request", "reviews"});
  auto decide = [s](bool approve) {
    return [s, approve](Context& ctx) {
      std::string comment;
      if (!ctx.req.body.empty()) {
        auto body = parse_object(ctx.req.body);
        for (auto& [k, v] : body)
          if (k != "comment") throw Error::validation({{std::string(k), "unknown_field", "unknown field"}});
        if (auto c = body.if_contains("comment")) {
          if (!c->is_string()) throw Error::validation({{"comment", "wrong_type", "comment must be a string"}});
          comment = std::string(c->as_string());
          if (comment.size() > 2000) throw Error::validation({{"comment", "too_long", "comment is too long"}});
        }
      }
      if (!approve && comment.empty())
        throw Error::validation({{"comment", "required", "give the reason for the rejection"}});
      return Response::json(s.reviews.decide(ctx.who(), actor_of(ctx), ctx.req.param_id("id"), approve, comment));
    };
  };
  router.add({"POST", "/api/v1/reviews/{id}/approve", http::kSignedIn, decide(true), false,
              "Approve: the first approval of a two-step review moves it to the final review; the last applies it",
              "reviews"});
  router.add({"POST", "/api/v1/reviews/{id}/reject", http::kSignedIn, decide(false), false,
              "Reject with a comment", "reviews"});

  router.add({"GET", "/api/openapi.json", http::kPublic, [s, &router](Context&) {
                return Response::json(openapi(router, s.registry));
              }, false, "This description", "meta"});
}

}  // namespace kefu::meta
