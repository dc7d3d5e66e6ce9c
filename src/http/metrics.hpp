#pragma once
// Prometheus text exposition: requests by route and status, latency histograms,
// database pool and WebSocket gauges.
#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace kefu::http {

class Metrics {
 public:
  static constexpr std::array<double, 12> kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                   0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
  void observe(const std::string& method, const std::string& route, int status, double seconds);
  // Extra lines appended by the application (database pool, WebSockets, ...).
  void add_collector(std::function<std::string()> fn);
  std::string render() const;

 private:
  struct Hist {
    std::array<uint64_t, kBuckets.size()> buckets{};
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
  std::map<std::string, Hist> latency_;
  std::vector<std::function<std::string()>> collectors_;
};

}  // namespace kefu::http
