#pragma once
// The IVR's adapters at the broker's trading counter (柜台), over the adapter wire protocol:
//
//   POST {base}/v1/{adapter}    Content-Type: application/json
//   {"call": 123, "args": {"account": "880001", "pin": "123456"}}
//   → 200 {"ok": true, "values": {"name": "张三"}}        (ok false: the counter said no)
//
// Adapters: verify (account, pin → name), balance (account → available); a counter may offer
// more, and the IVR flow names them. Anything but a 200 with that shape — no answer, a timeout,
// a 5xx — is ok false with values.error = "counter_unavailable", so the flow takes its on_fail
// branch. Requests run on a worker thread of their own: the core never waits on the network.
// kefu-counter-sim (src/app/counter_sim.cpp) is the reference simulator of this protocol.
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cti/sim_adapters.hpp"

namespace kefu::integration {

class CounterAdapters final : public cti::Adapters {
 public:
  explicit CounterAdapters(std::string base_url, int timeout_ms = 3000);
  ~CounterAdapters() override;
  void request(const cti::AdapterRequest& r, cti::Millis now) override;
  std::vector<cti::AdapterResult> due(cti::Millis now) override;

 private:
  void run();
  std::string base_;
  int timeout_ms_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<cti::AdapterRequest> waiting_;  // asked by the core, not yet sent
  std::vector<cti::AdapterResult> done_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace kefu::integration
