#pragma once
// Latency figures of a benchmark's samples (milliseconds): median, 99th percentile, mean.
#include <algorithm>
#include <vector>

namespace kefu::bench {

struct Stats {
  double p50_ms, p99_ms, mean_ms;
};

inline Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  return {v[v.size() / 2], v[v.size() * 99 / 100], sum / double(v.size())};
}

}  // namespace kefu::bench
