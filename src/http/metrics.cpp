#include "http/metrics.hpp"

#include <fmt/format.h>

namespace kefu::http {

void Metrics::observe(const std::string& method, const std::string& route, int status, double seconds) {
  std::lock_guard lk(mu_);
  ++requests_[{method, route, status}];
  auto& h = latency_[route];
  for (size_t i = 0; i < kBuckets.size(); ++i)
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  ++h.count;
  h.sum += seconds;
}

void Metrics::add_collector(std::function<std::string()> fn) {
  std::lock_guard lk(mu_);
  collectors_.push_back(std::move(fn));
}

std::string Metrics::render() const {
  std::string out;
  std::lock_guard lk(mu_);
  out += "# HELP kefu_http_requests_total HTTP requests by route and status.\n";
  out += "# TYPE kefu_http_requests_total counter\n";
  for (auto& [k, n] : requests_)
    out += fmt::format("kefu_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{}\"}} {}\n",
                       std::get<0>(k), std::get<1>(k), std::get<2>(k), n);
  out += "# HELP kefu_http_request_duration_seconds Time from a parsed request to its response.\n";
  out += "# TYPE kefu_http_request_duration_seconds histogram\n";
  for (auto& [route, h] : latency_) {
    for (size_t i = 0; i < kBuckets.size(); ++i)
      out += fmt::format("kefu_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n", route,
                         kBuckets[i], h.buckets[i]);
    out += fmt::format("kefu_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n", route, h.count);
    out += fmt::format("kefu_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n", route, h.sum);
    out += fmt::format("kefu_http_request_duration_seconds_count{{route=\"{}\"}} {}\n", route, h.count);
  }
  for (auto& c : collectors_) out += c();
  return out;
}

}  // namespace kefu::http
