#pragma once
// Traffic through the whole real-time core (CallCenter on the SimSwitch): Poisson arrivals,
// exponential handle times and patience, agents who answer after a fixed ring time and wrap up
// for a fixed time. Every figure is computed from the core's own facts (queue log, call events),
// the way reports recompute KPIs from the store, so the run checks the core against Erlang C
// and Erlang A as well as measuring its speed. Event-driven on simulated time: the loop jumps to
// the next due arrival, hang-up, switch event or core deadline.
#include <cstdint>

namespace kefu::cti {

struct SimulationParams {
  int agents = 20;
  double calls_per_s = 0.1;
  double aht_s = 180;     // mean talk time (exponential)
  double patience_s = 0;  // 0: callers never abandon (Erlang C)
  double hours = 8;
  double sl_threshold_s = 20;
  double ring_s = 0;     // an agent's phone rings this long before he answers
  double wrap_up_s = 0;  // after-call work per call (automatic end)
  uint64_t seed = 1;
};

struct SimulationResult {
  long offered = 0, answered = 0, abandoned = 0;
  long answered_within_t = 0, abandoned_after_t = 0;
  double service_level = 0;  // answered within T / (answered + abandoned after T)
  double asa_s = 0;          // mean wait of answered calls (enter → connect)
  double mean_wait_s = 0;    // mean wait of all callers, answered or abandoned
  double p_wait = 0;         // share of callers not offered at once
  double abandon_rate = 0;   // abandoned / offered
  double occupancy = 0;      // talk time / (agents × duration)
  long steps = 0;            // loop iterations (distinct instants with work)
  long facts = 0;            // facts the core emitted (what the service would store)
  long switch_events = 0;
  long open_calls = 0, stuck_agents = 0;  // after the drain: both must be 0
};

SimulationResult simulate(const SimulationParams& p);

}  // namespace kefu::cti
