#include "cti/sim_adapters.hpp"

namespace kefu::cti {

SimAdapters::SimAdapters(Millis delay_ms) : delay_ms_(delay_ms) {}

void SimAdapters::add_account(const std::string& account, const std::string& pin,
                              const std::string& name, const std::string& available) {
  accounts_[account] = Account{pin, name, available};
}

void SimAdapters::request(const AdapterRequest& r, Millis now) {
  AdapterResult res{r.call, false, {}};
  auto arg = [&](const char* k) {
    auto it = r.args.find(k);
    return it == r.args.end() ? std::string() : it->second;
  };
  auto acc = accounts_.find(arg("account"));
  if (r.adapter == "verify") {
    res.ok = acc != accounts_.end() && acc->second.pin == arg("pin");
    if (res.ok) res.values = {{"name", acc->second.name}};
  } else if (r.adapter == "balance") {
    res.ok = acc != accounts_.end();
    if (res.ok) res.values = {{"available", acc->second.available}};
  } else {
    res.values = {{"error", "unknown_adapter"}};
  }
  pending_.emplace_back(now + delay_ms_, std::move(res));
}

std::vector<AdapterResult> SimAdapters::due(Millis now) {
  std::vector<AdapterResult> out;
  while (!pending_.empty() && pending_.front().first <= now) {
    out.push_back(std::move(pending_.front().second));
    pending_.pop_front();
  }
  return out;
}

}  // namespace kefu::cti
