#pragma once
// 服务授权: when someone outside a customer's data scope may open his file. Serving the hotline
// (crm:serve) is no licence to browse: the customer must be on the user's own interaction — a
// live call, chat or e-mail, a supervisor's monitor of one, or one that ended less than a grace
// period ago (to finish the wrap-up and the ticket) — or the user holds crm:emergency and has
// opened the file with a stated reason (紧急查询). Anything else answers 404, like a missing
// customer; many such answers to one session look like enumeration: an alert, and the session
// is refused for a while.
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/database.hpp"

namespace kefu::crm {

// The interaction by which `staff` serves `customer` (who has these phone `numbers`), live or
// ended at `since_ms` or later: "call:<id>", "chat:<id>", "email:<id>", or "" for none. The
// switch's module provides it.
using InteractionLookup =
    std::function<std::string(store::Connection&, int64_t staff, int64_t customer,
                              const std::vector<std::string>& numbers, int64_t since_ms)>;

struct ServingOptions {
  int64_t grace_ms = 30 * 60'000;        // after the interaction ended
  int64_t emergency_ms = 60 * 60'000;    // how long an emergency opening lasts
  int misses_to_alert = 20;              // 404s on customer ids from one session ...
  int64_t miss_window_ms = 10 * 60'000;  // ... within this window raise the alert,
  int64_t throttle_ms = 15 * 60'000;     // and the session is refused (429) this long
};

// Misses per session, with the time given by the caller: the pure part, tested alone.
class EnumerationGuard {
 public:
  explicit EnumerationGuard(const ServingOptions& opt) : opt_(opt) {}
  // A 404 on a customer id; true when this one crosses the threshold (alert now, throttle).
  bool miss(const std::string& session, int64_t now);
  bool throttled(const std::string& session, int64_t now) const;

 private:
  struct Session {
    std::deque<int64_t> misses;
    int64_t refused_until = 0;
  };
  void forget_idle(int64_t now);

  ServingOptions opt_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Session> sessions_;
};

}  // namespace kefu::crm
