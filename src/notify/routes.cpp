#include "notify/routes.hpp"

#include "base/error.hpp"
#include "meta/routes.hpp"
#include "notify/service.hpp"

namespace kefu::notify {

using http::Context;
using http::Response;

namespace {
void may_see_messages(const Context& ctx) {
  if (!ctx.who().has("notify:read") && !ctx.who().has("notify:send"))
    throw Error(403, "forbidden", "needs notify:read or notify:send");
}
}  // namespace

void add_routes(http::Router& router, NotifyService& svc, const Clock& clock) {
  router.add(
      {"POST", "/api/v1/messages", "notify:send",
       [&svc, &clock](Context& ctx) {
         auto r = NotifyService::request_from(ctx.req.body.empty() ? json::object{}
                                                                   : parse_object(ctx.req.body));
         r.created_by = ctx.who().staff_id;
         r.cause = "api";
         Response out;
         svc.db().write([&](store::Connection& c) {
           out = meta::idempotent(c, ctx, clock.now_ms(),
                                  [&] { return Response::json(svc.enqueue(c, r), 201); });
         });
         return out;
       },
       false,
       "消息外发: queue a message {channel sms|email, type, recipient, customer_id, template, "
       "variables | subject, text, html, not_before}; stored before it is sent; "
       "Idempotency-Key makes a retry safe",
       "notify"});
  router.add({"GET", "/api/v1/messages", http::kSignedIn,
              [&svc](Context& ctx) {
                may_see_messages(ctx);
                return Response::json(svc.list(ctx.who(), ctx.req.query));
              },
              false,
              "Messages, newest first, by status, channel, type, recipient, customer_id, cause "
              "(without notify:read: the ones one sent)",
              "notify"});
  router.add({"GET", "/api/v1/messages/{id}", http::kSignedIn,
              [&svc](Context& ctx) {
                may_see_messages(ctx);
                return Response::json(svc.get(ctx.who(), ctx.req.param_id("id")));
              },
              false, "One message with every attempt and its outcome", "notify"});
  router.add({"GET", "/api/v1/messages/accounts", "notify:read",
              [&svc](Context&) { return Response::json(json::object{{"items", svc.accounts()}}); },
              false,
              "The provider accounts (an SMTP relay, an SMSC link) with their rate, cost and the "
              "state of their link: bound, down and why (a refused bind names its status)",
              "notify"});
  router.add({"GET", "/api/v1/messages/replies", "notify:read",
              [&svc](Context& ctx) { return Response::json(svc.replies(ctx.req.query)); },
              false,
              "短信回复池: customers' SMS to the service numbers, newest first, by sender or keyword",
              "notify"});
  router.add({"POST", "/api/v1/messages/{id}/cancel", "notify:manage",
              [&svc](Context& ctx) {
                json::object out;
                svc.db().write([&](store::Connection& c) {
                  out = svc.cancel(c, meta::actor_of(ctx), ctx.req.param_id("id"));
                });
                return Response::json(out);
              },
              false, "Cancel a message that is still queued", "notify"});
}

}  // namespace kefu::notify
