#pragma once
// The IVR's integration adapters in simulation: identity verification and account balance from
// a small table of demo accounts, answered after a delay on the injected clock, like SimSwitch.
// The real adapters (the broker's trading counter, the CRM) sit behind the same requests; their
// reference simulator as a separate process speaking the adapter protocol is still to come.
#include <deque>
#include <map>
#include <string>

#include "cti/call_center.hpp"

namespace kefu::cti {

struct AdapterResult {
  CallId call;
  bool ok;
  std::map<std::string, std::string> values;
};

class SimAdapters {
 public:
  explicit SimAdapters(Millis delay_ms = 200);
  // A demo account: fund account number, 6-digit password, holder's name, available funds.
  void add_account(const std::string& account, const std::string& pin, const std::string& name,
                   const std::string& available);
  void request(const AdapterRequest& r, Millis now);
  std::vector<AdapterResult> due(Millis now);  // answers whose time has come, in order

 private:
  struct Account {
    std::string pin, name, available;
  };
  Millis delay_ms_;
  std::map<std::string, Account> accounts_;
  std::deque<std::pair<Millis, AdapterResult>> pending_;
};

}  // namespace kefu::cti
