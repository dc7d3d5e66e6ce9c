#pragma once
// REST bindings of the customer module under /api/v1/crm. Thin: parsing and permissions at the
// edge, every rule in CustomerService.
#include "http/router.hpp"

namespace kefu::crm {
class CustomerService;
void add_routes(http::Router& router, CustomerService& svc);
}  // namespace kefu::crm
