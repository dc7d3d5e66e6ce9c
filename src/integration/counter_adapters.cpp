#include "integration/counter_adapters.hpp"

#include <spdlog/spdlog.h>

#include "base/json.hpp"
#include "integration/http_client.hpp"

namespace kefu::integration {

CounterAdapters::CounterAdapters(std::string base_url, int timeout_ms)
    : base_(std::move(base_url)), timeout_ms_(timeout_ms) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
  worker_ = std::thread([this] { run(); });
}

CounterAdapters::~CounterAdapters() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

void CounterAdapters::request(const cti::AdapterRequest& r, cti::Millis) {
  {
    std::lock_guard lk(mu_);
    waiting_.push_back(r);
  }
  cv_.notify_one();
}

std::vector<cti::AdapterResult> CounterAdapters::due(cti::Millis) {
  std::lock_guard lk(mu_);
  return std::exchange(done_, {});
}

void CounterAdapters::run() {
  for (;;) {
    cti::AdapterRequest r;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [this] { return stopping_ || !waiting_.empty(); });
      if (stopping_) return;
      r = std::move(waiting_.front());
      waiting_.pop_front();
    }
    json::object args;
    for (auto& [k, v] : r.args) args[k] = v;
    auto res = post({base_ + "/v1/" + r.adapter,
                     to_json(json::object{{"call", r.call}, {"args", std::move(args)}}),
                     {"Content-Type: application/json"},
                     timeout_ms_});
    cti::AdapterResult out{r.call, false, {{"error", "counter_unavailable"}}};
    bool answered = false;
    if (res.status == 200) try {
        json::object o = parse_object(res.body);
        if (auto* ok = o.if_contains("ok"); ok && ok->is_bool()) {
          answered = true;
          out.ok = ok->as_bool();
          out.values.clear();
          if (auto* v = o.if_contains("values"); v && v->is_object())
            for (auto& [k, x] : v->as_object())
              out.values[std::string(k)] = x.is_string() ? std::string(x.as_string()) : to_json(x);
        }
      } catch (const std::exception&) {  // not the protocol: unavailable, as above
      }
    if (!answered)
      spdlog::warn("counter: {} for call {}: {}", r.adapter, r.call,
                   res.error.empty() ? "HTTP " + std::to_string(res.status) : res.error);
    std::lock_guard lk(mu_);
    done_.push_back(std::move(out));
  }
}

}  // namespace kefu::integration
