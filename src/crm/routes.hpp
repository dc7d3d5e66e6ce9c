#pragma once
// REST bindings of the customer module under /api/v1/crm. Thin: parsing and permissions at the
// edge, every rule in CustomerService.
#include "http/router.hpp"

namespace kefu::crm {
class CustomerService;
class ChangeWebhooks;
void add_routes(http::Router& router, CustomerService& svc);
// 客户变更推送: webhooks of the change feed (crm:webhook, administrators).
void add_webhook_routes(http::Router& router, ChangeWebhooks& hooks);
}  // namespace kefu::crm
