#include "crm/routes.hpp"

#include <tuple>

#include "base/crypto.hpp"
#include "base/error.hpp"
#include "crm/grading.hpp"
#include "crm/service.hpp"
#include "crm/webhook.hpp"

namespace kefu::crm {

using http::Context;
using http::Response;

namespace {

audit::Actor actor(const Context& ctx) {
  return audit::Actor::of(ctx.who(), ctx.req.client_ip, ctx.req.request_id);
}

json::object body_of(const Context& ctx) {
  return ctx.req.body.empty() ? json::object{} : parse_object(ctx.req.body);
}

}  // namespace

void add_routes(http::Router& router, CustomerService& svc) {
  router.add(
      {"GET", "/api/v1/crm/customers", "crm:read",
       [&svc](Context& ctx) { return Response::json(svc.search(ctx.who(), ctx.req.query)); }, false,
       "基本查询: customers by name, phone, fund account or ID number, and simple filters", "crm"});
  router.add({"POST", "/api/v1/crm/customers/query", "crm:read",
              [&svc](Context& ctx) { return Response::json(svc.query(ctx.who(), body_of(ctx))); },
              false, "综合查询: any combination of conditions", "crm"});
  router.add({"POST", "/api/v1/crm/customers", http::kSignedIn,
              [&svc](Context& ctx) {
                return Response::json(svc.create(ctx.who(), actor(ctx), body_of(ctx)), 201);
              },
              false, "A new customer (agents: a potential customer from a call)", "crm"});
  router.add({"GET", "/api/v1/crm/customers/{id}", http::kSignedIn,
              [&svc](Context& ctx) {
                const auto& p = ctx.who();
                if (!p.has("crm:read") && !p.has("crm:serve"))
                  throw Error::forbidden("you may not read customers");
                bool unmask = ctx.req.q("unmask") == "true" || ctx.req.q("unmask") == "1";
                return Response::json(svc.profile(p, actor(ctx), ctx.req.param_id("id"), unmask));
              },
              false, "The customer's 360° profile; unmask=true shows personal data (logged)",
              "crm"});
  router.add({"PUT", "/api/v1/crm/customers/{id}", "crm:write",
              [&svc](Context& ctx) {
                return Response::json(
                    svc.update(ctx.who(), actor(ctx), ctx.req.param_id("id"), body_of(ctx)));
              },
              false, "Change a customer's record (send the version read)", "crm"});
  // 服务授权 and its audit: who opened the file outside his scope; emergencies with a reason.
  router.add({"GET", "/api/v1/crm/customers/{id}/access-log", "crm:access_log",
              [&svc](Context& ctx) {
                return Response::json(
                    svc.access_log(ctx.who(), ctx.req.param_id("id"), ctx.req.query));
              },
              false,
              "客户信息访问记录: who opened the customer's file outside his data scope, when, on "
              "what basis (call, chat, e-mail, emergency and its reason), and unmaskings",
              "crm"});
  router.add({"POST", "/api/v1/crm/customers/{id}/emergency-access", "crm:emergency",
              [&svc](Context& ctx) {
                return Response::json(svc.open_for_emergency(ctx.who(), actor(ctx),
                                                             ctx.req.param_id("id"), body_of(ctx)),
                                      201);
              },
              false,
              "紧急查询: open a customer's file outside any interaction for a while, with the reason "
              "(logged, in the daily report)",
              "crm"});
  router.add({"GET", "/api/v1/crm/emergency-access", "crm:access_log",
              [&svc](Context& ctx) {
                return Response::json(svc.emergency_report(ctx.who(), ctx.req.query));
              },
              false, "The day's emergency openings (date=YYYY-MM-DD, Asia/Shanghai; today by default)",
              "crm"});
  router.add({"GET", "/api/v1/crm/customers/{id}/contacts", http::kSignedIn,
              [&svc](Context& ctx) {
                const auto& p = ctx.who();
                if (!p.has("crm:read") && !p.has("crm:serve"))
                  throw Error::forbidden("you may not read customers");
                return Response::json(svc.timeline(p, ctx.req.param_id("id"), ctx.req.query));
              },
              false, "客户接触历史: the customer's contact history, newest first", "crm"});
  router.add({"POST", "/api/v1/crm/customers/{id}/contacts", http::kSignedIn,
              [&svc](Context& ctx) {
                return Response::json(
                    svc.add_contact(ctx.who(), actor(ctx), ctx.req.param_id("id"), body_of(ctx)),
                    201);
              },
              false, "A note or a business operation (业务办理) in the customer's history", "crm"});
  router.add(
      {"GET", "/api/v1/crm/screen-pop", http::kSignedIn,
       [&svc](Context& ctx) { return Response::json(svc.screen_pop(ctx.who(), ctx.req.query)); },
       false, "客户信息同步: who is calling (phone, fund_account, id_no or name)", "crm"});
  router.add({"GET", "/api/v1/crm/stats", "crm:read",
              [&svc](Context& ctx) {
                return Response::json(svc.stats(ctx.who(), ctx.req.q("by", "tier")));
              },
              false, "Customer counts and assets by org, tier, risk_level, status or kind", "crm"});
  router.add(
      {"POST", "/api/v1/crm/imports", "crm:import",
       [&svc](Context& ctx) {
         std::string digest = crypto::sha256_hex(ctx.req.body);
         bool csv = ctx.req.header("content-type").rfind("text/csv", 0) == 0;
         std::string key, mode;
         json::array rows;
         if (csv) {
           key = ctx.req.q("batch_key");
           mode = ctx.req.q("mode", "valid");
           rows = rows_from_csv(ctx.req.body);
         } else {
           auto body = body_of(ctx);
           only_fields(body, {"batch_key", "mode", "rows"});
           key = string_field(body, "batch_key", true, 80);
           mode = string_field(body, "mode", false, 20);
           if (mode.empty()) mode = "valid";
           auto* r = body.if_contains("rows");
           if (!r || !r->is_array())
             throw Error::bad_request("rows_required", "rows is a list of customers", "rows");
           rows = r->as_array();
         }
         if (mode != "valid" && mode != "all")
           throw Error::bad_request(
               "bad_mode", "mode is valid (good rows written) or all (all or nothing)", "mode");
         if (rows.size() > 100'000)
           throw Error::bad_request("batch_too_large", "at most 100,000 rows per batch", "rows");
         return Response::json(
             svc.import_customers(ctx.who(), actor(ctx), key, rows, mode == "all", digest));
       },
       true, "Import customers (JSON rows or CSV), upsert by external_key, idempotent by batch_key",
       "crm"});
  // The counter's ledgers: trades and fund movements, as JSON rows or CSV with field names.
  for (auto [path, ledger, what] :
       {std::tuple{"/api/v1/crm/trades/imports", &CustomerService::kTrades, "trades"},
        std::tuple{"/api/v1/crm/fund-flows/imports", &CustomerService::kFundFlows,
                   "fund movements"}})
    router.add({"POST", path, "crm:import",
                [&svc, ledger = ledger](Context& ctx) {
                  std::string digest = crypto::sha256_hex(ctx.req.body);
                  std::string key;
                  json::array rows;
                  if (ctx.req.header("content-type").rfind("text/csv", 0) == 0) {
                    key = ctx.req.q("batch_key");
                    rows = rows_from_csv(ctx.req.body);
                  } else {
                    auto body = body_of(ctx);
                    only_fields(body, {"batch_key", "rows"});
                    key = string_field(body, "batch_key", true, 80);
                    auto* r = body.if_contains("rows");
                    if (!r || !r->is_array())
                      throw Error::bad_request("rows_required", "rows is a list", "rows");
                    rows = r->as_array();
                  }
                  if (rows.size() > 100'000)
                    throw Error::bad_request("batch_too_large", "at most 100,000 rows per batch",
                                             "rows");
                  return Response::json(
                      svc.import_ledger(ctx.who(), actor(ctx), *ledger, key, rows, digest));
                },
                true,
                std::string("Import the trading counter's ") + what +
                    " (JSON rows or CSV), idempotent by batch_key",
                "crm"});
  router.add({"GET", "/api/v1/crm/customers/{id}/trades", http::kSignedIn,
              [&svc](Context& ctx) {
                const auto& p = ctx.who();
                if (!p.has("crm:read") && !p.has("crm:serve"))
                  throw Error::forbidden("you may not read customers");
                return Response::json(svc.trade_analysis(p, ctx.req.param_id("id"), ctx.req.query));
              },
              false, "客户交易分析: a customer's trades by month, products and types", "crm"});
  router.add({"GET", "/api/v1/crm/trades/analysis", "crm:read",
              [&svc](Context& ctx) {
                return Response::json(svc.trade_analysis(ctx.who(), 0, ctx.req.query));
              },
              false, "Trades of every customer in your data scope, by month, products and types",
              "crm"});
  router.add({"GET", "/api/v1/crm/changes", "crm:sync",
              [&svc](Context& ctx) {
                int64_t after = 0, limit = 500;
                try {
                  after = std::stoll(ctx.req.q("after", "0"));
                  limit = std::stoll(ctx.req.q("limit", "500"));
                } catch (...) {
                  throw Error::bad_request("bad_cursor", "after and limit are numbers", "after");
                }
                if (after < 0 || limit < 1 || limit > 5000)
                  throw Error::bad_request("bad_cursor", "after >= 0, limit 1..5000", "limit");
                return Response::json(svc.changes(after, int(limit)));
              },
              false, "Change feed for an external CRM: customer changes after a cursor", "crm"});
  router.add({"GET", "/api/v1/crm/grading/indicators", "crm:grade",
              [](Context&) {
                json::array out;
                for (auto& i : indicator_catalogue())
                  out.push_back(json::object{{"code", i.code},
                                             {"label_zh", i.label_zh},
                                             {"label_en", i.label_en},
                                             {"unit", i.unit}});
                return Response::json(json::object{{"items", std::move(out)}});
              },
              false, "What a grading model may weigh", "crm"});
  router.add({"POST", "/api/v1/crm/grading/trial", "crm:grade",
              [&svc](Context& ctx) {
                auto body = body_of(ctx);
                return Response::json(svc.trial(
                    ctx.who(), body.contains("model") ? body.at("model") : json::value(body)));
              },
              true, "试算: the distribution a model gives; nothing changes", "crm"});
  router.add({"POST", "/api/v1/crm/grading/runs", "crm:grade",
              [&svc](Context& ctx) {
                auto body = body_of(ctx);
                only_fields(body, {"model", "note"});
                if (!body.contains("model"))
                  throw Error::bad_request("model_required", "send the model", "model");
                return Response::json(svc.apply_grading(ctx.who(), actor(ctx), body.at("model"),
                                                        string_field(body, "note", false, 400)),
                                      201);
              },
              true, "Apply a model: every customer in scope gets its tier, with history", "crm"});
  router.add({"GET", "/api/v1/crm/grading/runs", "crm:grade",
              [&svc](Context& ctx) { return Response::json(svc.grading_runs(ctx.who())); }, false,
              "Grading runs, newest first", "crm"});
}

void add_webhook_routes(http::Router& router, ChangeWebhooks& hooks) {
  router.add({"GET", "/api/v1/crm/webhooks", "crm:webhook",
              [&hooks](Context&) { return Response::json(hooks.list()); }, false,
              "Webhooks pushing the change feed, with their cursor, lag and last delivery", "crm"});
  router.add({"POST", "/api/v1/crm/webhooks", "crm:webhook",
              [&hooks](Context& ctx) {
                return Response::json(hooks.create(actor(ctx), body_of(ctx)), 201);
              },
              false, "A webhook: name, url, secret (signs every delivery), start now|beginning",
              "crm"});
  router.add(
      {"PUT", "/api/v1/crm/webhooks/{id}", "crm:webhook",
       [&hooks](Context& ctx) {
         return Response::json(hooks.update(actor(ctx), ctx.req.param_id("id"), body_of(ctx)));
       },
       false, "Change a webhook (send the version read); after=N replays from change N", "crm"});
}

}  // namespace kefu::crm
