#include "acd/erlang.hpp"

#include <cmath>
#include <vector>

namespace kefu::acd {

ErlangC erlang_c(double lambda, double aht_s, int n, double t_s) {
  const double a = lambda * aht_s;
  // Erlang B by the stable recurrence, then C from B.
  double b = 1.0;
  for (int k = 1; k <= n; ++k) b = a * b / (k + a * b);
  const double c = n * b / (n - a * (1 - b));
  return {c, 1.0 - c * std::exp(-(n - a) * t_s / aht_s), c * aht_s / (n - a)};
}

ErlangA erlang_a(double lambda, double aht_s, int n, double patience_s) {
  const double mu = 1.0 / aht_s, theta = 1.0 / patience_s;
  // Unnormalised stationary probabilities p[k] of k callers in the system (talking + waiting),
  // built as ratios p[k]/p[k-1] = λ / death(k), in log space against overflow.
  std::vector<double> logp{0.0};
  double maxlog = 0;
  for (int k = 1;; ++k) {
    double death = std::min(k, n) * mu + std::max(0, k - n) * theta;
    logp.push_back(logp.back() + std::log(lambda / death));
    maxlog = std::max(maxlog, logp.back());
    if (k > n && logp.back() < maxlog - 40) break;  // e^-40: the rest does not matter
  }
  double total = 0;
  for (double l : logp) total += std::exp(l - maxlog);
  double p_wait = 0, queue = 0, busy = 0;
  for (size_t k = 0; k < logp.size(); ++k) {
    double p = std::exp(logp[k] - maxlog) / total;
    if (int(k) >= n) p_wait += p;  // an arrival finding all agents busy waits (PASTA)
    queue += p * std::max(0, int(k) - n);
    busy += p * std::min(int(k), n);
  }
  // Abandonment rate = θ · E[queue]; Little: mean wait = E[queue] / λ.
  return {p_wait, theta * queue / lambda, queue / lambda, busy / n};
}

}  // namespace kefu::acd
