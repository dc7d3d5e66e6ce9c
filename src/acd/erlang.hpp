#pragma once
// Queueing formulas for a single queue of N identical agents (pure, no I/O).
//   Erlang C (M/M/N): callers wait as long as it takes.
//   Erlang A (M/M/N+M): callers abandon after an exponential patience.
// Definitions used throughout Kefu (docs/ARCHITECTURE.md, "KPI definitions"):
//   offered load A = λ · AHT (Erlangs); occupancy = A / N for Erlang C;
//   service level SL(T) = answered within T / (answered + abandoned after T);
//   ASA = mean wait of answered calls.
namespace kefu::acd {

struct ErlangC {
  double p_wait;  // probability that a caller waits at all
  double sl;      // share answered within T (no abandonment: answered within T / all)
  double asa_s;   // mean wait of all callers (= of answered ones: nobody abandons)
};
// λ calls/s, mean handle time aht_s, n agents, service-level threshold t_s. Requires A < n.
ErlangC erlang_c(double lambda, double aht_s, int n, double t_s);

struct ErlangA {
  double p_wait;     // probability of waiting at all
  double p_abandon;  // share of callers who abandon
  double mean_wait_s;  // mean time in queue over all callers (served and abandoned)
  double occupancy;  // mean busy agents / n
};
// As above with mean patience patience_s; solved as a birth-death chain truncated where the
// tail is negligible.
ErlangA erlang_a(double lambda, double aht_s, int n, double patience_s);

}  // namespace kefu::acd
