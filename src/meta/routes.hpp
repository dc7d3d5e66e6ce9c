#pragma once
// REST bindings of the registry: /api/v1/meta, /api/v1/<entity>[/<id>|/export|/import|/stats],
// /api/v1/reviews and /api/openapi.json. Thin: parsing, permission, one service call.
#include "http/router.hpp"
#include "meta/exchange.hpp"

namespace kefu::meta {

struct MetaServices {
  const Registry& registry;
  const Repository& repo;
  const ReviewService& reviews;
};

void add_routes(http::Router& router, const MetaServices& s);
json::object openapi(const http::Router& router, const Registry& registry);
audit::Actor actor_of(const http::Context& ctx);
// Idempotency-Key on POST: a retried request returns the first answer (status and body) instead
// of doing the work twice; the key is the caller's own. Call inside the write transaction.
http::Response idempotent(store::Connection& c, const http::Context& ctx, int64_t now,
                          const std::function<http::Response()>& fn);

}  // namespace kefu::meta
