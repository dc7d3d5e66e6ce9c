#include "ticket/routes.hpp"

#include "base/error.hpp"
#include "meta/routes.hpp"
#include "ticket/service.hpp"

namespace kefu::ticket {

using http::Context;
using http::Response;

namespace {

json::object body_of(const Context& ctx) {
  return ctx.req.body.empty() ? json::object{} : parse_object(ctx.req.body);
}

}  // namespace

void add_routes(http::Router& router, TicketService& svc, const Clock& clock) {
  router.add({"GET", "/api/v1/workflows", http::kSignedIn,
              [&svc](Context& ctx) {
                return Response::json(json::object{{"items", svc.definitions(ctx.who())}});
              },
              false, "流程定义: the latest version of every workflow", "ticket"});
  router.add({"POST", "/api/v1/workflows", "workflow:design",
              [&svc](Context& ctx) {
                return Response::json(
                    svc.save_definition(ctx.who(), meta::actor_of(ctx), body_of(ctx)), 201);
              },
              false,
              "Save a workflow {code, definition}: checked whole (every error at once), stored as "
              "a new version; "
              "running tickets keep theirs",
              "ticket"});
  router.add({"GET", "/api/v1/workflows/{code}", http::kSignedIn,
              [&svc](Context& ctx) {
                std::string v = ctx.req.q("version");
                int64_t version = 0;
                if (!v.empty()) {
                  try {
                    version = std::stoll(v);
                  } catch (const std::exception&) {
                    throw Error::validation({{"version", "wrong_type", "version is a number"}});
                  }
                }
                return Response::json(svc.definition(ctx.who(), ctx.req.param("code"), version));
              },
              false, "One workflow definition (the latest, or ?version=)", "ticket"});

  router.add({"POST", "/api/v1/tickets", "ticket:create",
              [&svc, &clock](Context& ctx) {
                Response out;
                int64_t id = 0;
                svc.db().write([&](store::Connection& c) {
                  out = meta::idempotent(c, ctx, clock.now_ms(), [&] {
                    auto r = svc.create(c, ctx.who(), meta::actor_of(ctx), body_of(ctx));
                    id = r.at("id").as_int64();
                    return Response::json(r, 201);
                  });
                });
                if (id) svc.announce(id);
                return out;
              },
              false,
              "受理单: a new ticket {type, title, description, priority, customer_id, phone, "
              "call_id, channel, fields}; "
              "Idempotency-Key makes a retry safe",
              "ticket"});
  router.add({"GET", "/api/v1/tickets", http::kSignedIn,
              [&svc](Context& ctx) { return Response::json(svc.list(ctx.who(), ctx.req.query)); },
              false,
              "Tickets by view (todo 我的待办, done 我的已办, created 我创建的, team, overdue) "
              "with status, type, "
              "customer_id, q filters",
              "ticket"});
  router.add({"GET", "/api/v1/tickets/counters", http::kSignedIn,
              [&svc](Context& ctx) { return Response::json(svc.counters(ctx.who())); }, false,
              "Home-page counters: to do, overdue among them, created and still open", "ticket"});
  router.add({"GET", "/api/v1/tickets/types", "ticket:create",
              [&svc](Context&) {
                return Response::json(json::object{{"items", svc.types()}});
              },
              false, "The ticket types one may register, with their own fields", "ticket"});
  router.add(
      {"GET", "/api/v1/tickets/{id}", http::kSignedIn,
       [&svc](Context& ctx) { return Response::json(svc.get(ctx.who(), ctx.req.param_id("id"))); },
       false,
       "One ticket: fields, tasks, history, deadlines and its process diagram (path taken, current "
       "nodes)",
       "ticket"});
  router.add({"POST", "/api/v1/tickets/{id}/actions/{action}", http::kSignedIn,
              [&svc](Context& ctx) {
                int64_t id = ctx.req.param_id("id");
                json::object out;
                svc.db().write([&](store::Connection& c) {
                  out = svc.act(c, ctx.who(), meta::actor_of(ctx), id, ctx.req.param("action"),
                                body_of(ctx));
                });
                svc.announce(id);
                return Response::json(out);
              },
              false,
              "An action {version, task, outcome, fields, node, to_staff, to_group, comment}: "
              "claim, complete, return "
              "(退回), transfer, consult (征求意见), withdraw (撤回), suspend, resume, "
              "wait_customer, customer_replied, "
              "reopen, note, reply",
              "ticket"});
  router.add({"POST", "/api/v1/tickets/{id}/tasks/{task}/external-complete", "ticket:external",
              [&svc, &clock](Context& ctx) {
                int64_t id = ctx.req.param_id("id"), task = ctx.req.param_id("task");
                Response out;
                svc.db().write([&](store::Connection& c) {
                  out = meta::idempotent(c, ctx, clock.now_ms(), [&] {
                    return Response::json(svc.complete_external(c, ctx.who(), meta::actor_of(ctx),
                                                                id, task, body_of(ctx)));
                  });
                });
                svc.announce(id);
                return out;
              },
              false,
              "An outside system (the enterprise OA) completes the task it holds {outcome, fields, "
              "comment}; send an "
              "Idempotency-Key",
              "ticket"});
}

}  // namespace kefu::ticket
