#pragma once
// REST bindings of the outbox under /api/v1/messages. Thin: every rule is in NotifyService.
#include "base/clock.hpp"
#include "http/router.hpp"

namespace kefu::notify {
class NotifyService;
void add_routes(http::Router& router, NotifyService& svc, const Clock& clock);
}  // namespace kefu::notify
