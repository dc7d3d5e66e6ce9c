#pragma once
// REST bindings of the real-time core under /api/v1/cti: the agent's softphone commands, the
// supervisor's live view and actions, stored call records, and the simulator's outside world.
#include "http/router.hpp"

namespace kefu::store {
class Database;
}

namespace kefu::cti {
class Service;
void add_routes(http::Router& router, Service& service, store::Database& db, bool simulator);
}  // namespace kefu::cti
