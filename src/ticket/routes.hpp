#pragma once
// REST bindings of tickets and workflow definitions under /api/v1/tickets and /api/v1/workflows.
// Thin: parsing and permissions at the edge, every rule in TicketService.
#include "base/clock.hpp"
#include "http/router.hpp"

namespace kefu::ticket {
class TicketService;
void add_routes(http::Router& router, TicketService& svc, const Clock& clock);
}  // namespace kefu::ticket
