#pragma once
// Traffic simulation through the real routing core (Router + AgentCore): Poisson arrivals,
// exponential handle times and patience, agents who answer at once and wrap up in no time,
// so the results can be held against Erlang C and Erlang A. Event-driven on simulated time:
// eight hours of a large contact center take seconds.
#include <cstdint>

namespace kefu::acd {

struct SimulationParams {
  int agents = 20;
  double calls_per_s = 0.1;
  double aht_s = 180;
  double patience_s = 0;  // 0: callers never abandon (Erlang C)
  double hours = 8;
  double sl_threshold_s = 20;
  uint64_t seed = 1;
};

struct SimulationResult {
  long offered = 0, answered = 0, abandoned = 0;
  long answered_within_t = 0, abandoned_after_t = 0;
  double service_level = 0;  // answered within T / (answered + abandoned after T)
  double asa_s = 0;          // mean wait of answered calls
  double mean_wait_s = 0;    // mean wait of all callers, answered or abandoned
  double p_wait = 0;         // share of callers who were not answered at once
  double abandon_rate = 0;   // abandoned / offered
  double occupancy = 0;      // talk time / (agents × duration)
  long events = 0;
};

SimulationResult simulate(const SimulationParams& p);

}  // namespace kefu::acd
