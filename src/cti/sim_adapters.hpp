#pragma once
// The IVR's integration adapters (identity verification, account balance, …): the core asks,
// answers come back later and are matched to the call; the core's own deadline covers an answer
// that never comes. Two implementations: SimAdapters below (in process, on the injected clock,
// for tests and the simulator), and integration::CounterAdapters, which speaks the adapter wire
// protocol over HTTP to the broker's counter (or to its reference simulator, kefu-counter-sim).
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

class Adapters {
 public:
  virtual ~Adapters() = default;
  virtual void request(const AdapterRequest& r, Millis now) = 0;
  virtual std::vector<AdapterResult> due(Millis now) = 0;  // answers that have come, in order
};

class SimAdapters final : public Adapters {
 public:
  explicit SimAdapters(Millis delay_ms = 200);
  // A demo account: fund account number, 6-digit password, holder's name, available funds.
  void add_account(const std::string& account, const std::string& pin, const std::string& name,
                   const std::string& available);
  void request(const AdapterRequest& r, Millis now) override;
  std::vector<AdapterResult> due(Millis now) override;  // answers whose time has come, in order

 private:
  struct Account {
    std::string pin, name, available;
  };
  Millis delay_ms_;
  std::map<std::string, Account> accounts_;
  std::deque<std::pair<Millis, AdapterResult>> pending_;
};

}  // namespace kefu::cti
