#include "cti/simulation.hpp"

#include <algorithm>
#include <queue>
#include <random>
#include <unordered_map>

#include "base/clock.hpp"
#include "cti/call_center.hpp"
#include "cti/sim_switch.hpp"

namespace kefu::cti {
namespace {

// What the simulated people do, in time order.
enum class Act : uint8_t { arrive, answer, hang_up, give_up };
struct Action {
  Millis at;
  uint64_t seq;  // FIFO among equal times, so a run is reproducible
  Act act;
  int64_t id;  // arrive: -, answer: agent, hang_up / give_up: the customer's leg
  bool operator>(const Action& o) const { return at != o.at ? at > o.at : seq > o.seq; }
};

struct Caller {
  CallId call = 0;
  bool connected = false;
};

}  // namespace

SimulationResult simulate(const SimulationParams& p) {
  auto ms = [](double s) { return Millis(s * 1000.0 + 0.5); };
  const Millis end = ms(p.hours * 3600);
  const Millis sl_t = ms(p.sl_threshold_s);
  const Millis ring = ms(p.ring_s);

  ManualClock clock(0);
  IdSource ids;
  SimSwitch sw(clock, ids, SimSwitchConfig{0, 0, 2'000, 500});

  QueueDef q;
  q.code = "sim";
  q.name = "simulation";
  q.spec = acd::QueueSpec{acd::Channel::voice, {1}, acd::Strategy::longest_idle, 0, 0, 0};
  q.access_numbers = {"95555"};
  q.sl_threshold_ms = sl_t;
  std::vector<AgentDef> agents;
  for (int i = 0; i < p.agents; ++i) {
    AgentDef a;
    a.staff_id = i + 1;
    a.username = "a" + std::to_string(i);
    a.extension = std::to_string(100000 + i);  // six digits: a device on the SimSwitch
    a.spec = acd::AgentSpec{1, {1}, {1, 0, 0, 0}};
    agents.push_back(std::move(a));
  }
  CenterConfig cfg;
  cfg.router.min_level = {1};
  cfg.router.tier_bonus_ms = {0};
  cfg.core.ring_timeout_ms = std::max<Millis>(15'000, ring + 5'000);
  cfg.core.wrap_up_ms = ms(p.wrap_up_s);
  CallCenter cc(cfg, {q}, agents, sw, ids);
  sw.set_sink([&](const SwitchEvent& ev) { cc.on_switch(ev, clock.now_ms()); });

  // One random stream per kind of draw, so two runs with the same seed see the same callers
  // arriving with the same patience whatever the core does differently (common random numbers).
  std::mt19937_64 arrivals(p.seed), handles(p.seed ^ 0x68616e646c65), patiences(p.seed ^ 0x706174);
  std::exponential_distribution<double> gap(p.calls_per_s), handle(1.0 / p.aht_s),
      patience(p.patience_s > 0 ? 1.0 / p.patience_s : 1.0);
  std::priority_queue<Action, std::vector<Action>, std::greater<>> actions;
  uint64_t seq = 0;
  auto plan = [&](Millis at, Act act, int64_t id) { actions.push({at, seq++, act, id}); };

  std::unordered_map<LegId, Caller> callers;  // by the customer's leg
  std::unordered_map<CallId, LegId> leg_of;
  SimulationResult r;
  double talk_ms = 0, wait_all_ms = 0, wait_answered_ms = 0;
  long waited = 0;

  for (AgentId a = 0; a < p.agents; ++a) cc.sign_in(a, 0), cc.ready(a, 0);
  plan(std::max<Millis>(1, ms(gap(arrivals))), Act::arrive, 0);

  // The core's facts are the measurement: the queue log gives every wait, call events tell the
  // simulated agents that their phone rings.
  auto read_facts = [&](Millis now) {
    for (auto& f : cc.take_facts()) {
      ++r.facts;
      if (auto* e = std::get_if<CallEvent>(&f)) {
        if (e->type == "offered") {
          leg_of[e->call] = e->leg;
          callers[e->leg].call = e->call;
        } else if (e->type == "alerting" && e->agent >= 0) {
          plan(now + ring, Act::answer, e->agent);
        }
      } else if (auto* l = std::get_if<QueueLog>(&f)) {
        if (l->event == "connect") {
          LegId leg = leg_of.at(l->call);
          callers[leg].connected = true;
          ++r.answered;
          wait_answered_ms += double(l->wait_ms);
          wait_all_ms += double(l->wait_ms);
          if (l->wait_ms > ring) ++waited;
          if (l->wait_ms <= sl_t) ++r.answered_within_t;
          Millis talk = std::max<Millis>(1, ms(handle(handles)));
          talk_ms += double(std::max<Millis>(0, std::min(talk, end - now)));
          plan(now + talk, Act::hang_up, leg);
        } else if (l->event == "abandon") {
          ++r.abandoned;
          wait_all_ms += double(l->wait_ms);
          ++waited;
          if (l->wait_ms > sl_t) ++r.abandoned_after_t;
        }
      } else if (auto* c = std::get_if<CallClosed>(&f)) {
        if (auto it = leg_of.find(c->call); it != leg_of.end()) {
          callers.erase(it->second);
          leg_of.erase(it);
        }
      }
    }
  };

  for (;;) {
    Millis next =
        std::min({actions.empty() ? INT64_MAX : actions.top().at, sw.next_due(), cc.next_due()});
    if (next == INT64_MAX) break;
    Millis now = std::max(next, clock.now_ms());
    clock.set_ms(now);
    ++r.steps;
    while (!actions.empty() && actions.top().at <= now) {
      Action a = actions.top();
      actions.pop();
      switch (a.act) {
        case Act::arrive: {
          if (now >= end) break;  // the day is over: no new callers, the rest drain
          plan(now + std::max<Millis>(1, ms(gap(arrivals))), Act::arrive, 0);
          ++r.offered;
          LegId leg = sw.incoming("13800000000", "95555");
          if (p.patience_s > 0) plan(now + ms(patience(patiences)), Act::give_up, leg);
          break;
        }
        case Act::answer:
          cc.answer(AgentId(a.id), now);  // "not_ringing" if the caller left meanwhile
          break;
        case Act::hang_up:
          sw.far_end_hang_up(a.id);
          break;
        case Act::give_up:
          if (auto it = callers.find(a.id); it != callers.end() && !it->second.connected)
            sw.far_end_hang_up(a.id, "abandoned");
          break;
      }
    }
    r.switch_events += long(sw.advance());
    cc.tick(now);
    read_facts(now);
  }

  r.open_calls = long(cc.live_calls());
  for (AgentId a = 0; a < p.agents; ++a)
    if (cc.agent(a).state != acd::AgentState::ready) ++r.stuck_agents;
  const double served = double(r.answered + r.abandoned);
  r.service_level = double(r.answered_within_t) / double(r.answered + r.abandoned_after_t);
  r.asa_s = wait_answered_ms / 1000.0 / double(r.answered);
  r.mean_wait_s = wait_all_ms / 1000.0 / served;
  r.p_wait = double(waited) / served;
  r.abandon_rate = double(r.abandoned) / double(r.offered);
  r.occupancy = talk_ms / (double(p.agents) * double(end));
  return r;
}

}  // namespace kefu::cti
