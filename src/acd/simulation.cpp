#include "acd/simulation.hpp"

#include <queue>
#include <random>
#include <unordered_map>

#include "acd/agent_core.hpp"

namespace kefu::acd {
namespace {

enum class Kind : uint8_t { arrival, talk_end, patience_end };
struct Event {
  Millis at;
  Kind kind;
  TaskId task;
  bool operator>(const Event& o) const { return at != o.at ? at > o.at : task > o.task; }
};

}  // namespace

SimulationResult simulate(const SimulationParams& p) {
  RouterConfig rc;
  rc.min_level = {1};
  rc.tier_bonus_ms = {0};
  Router router(rc);
  QueueId q = router.add_queue(QueueSpec{Channel::voice, {1}, Strategy::longest_idle, 0, 0});
  for (int i = 0; i < p.agents; ++i) router.add_agent(AgentSpec{1, {1}, {1, 0, 0, 0}});
  AgentCore core(router, CoreConfig{60'000, 0});

  std::mt19937_64 rng(p.seed);
  std::exponential_distribution<double> gap(p.calls_per_s), handle(1.0 / p.aht_s),
      patience(p.patience_s > 0 ? 1.0 / p.patience_s : 1.0);
  auto ms = [](double s) { return Millis(s * 1000.0 + 0.5); };
  const Millis end = ms(p.hours * 3600);
  const Millis sl_t = ms(p.sl_threshold_s);

  std::priority_queue<Event, std::vector<Event>, std::greater<>> events;
  struct Caller { Millis arrived; AgentId agent = -1; };  // agent >= 0 once answered
  std::unordered_map<TaskId, Caller> callers;
  SimulationResult r;
  double talk_ms = 0, wait_all_ms = 0, wait_answered_ms = 0;
  long waited = 0;

  for (AgentId a = 0; a < p.agents; ++a) core.sign_in(a, 0), core.ready(a, 0);
  core.take_history();
  events.push({std::max<Millis>(1, ms(gap(rng))), Kind::arrival, 1});
  TaskId next = 2;

  // Agents answer every offer at once: each transition to "reserved" is a call answered now.
  auto answer_offers = [&](Millis now) {
    for (const auto& t : core.take_history()) {
      if (t.to != AgentState::reserved) continue;
      core.answer(t.agent, now);
      auto& c = callers.at(t.task);
      c.agent = t.agent;
      Millis wait = now - c.arrived;
      ++r.answered;
      wait_answered_ms += double(wait);
      wait_all_ms += double(wait);
      if (wait > 0) ++waited;
      if (wait <= sl_t) ++r.answered_within_t;
      Millis talk = std::max<Millis>(1, ms(handle(rng)));
      talk_ms += double(std::max<Millis>(0, std::min(talk, end - now)));
      events.push({now + talk, Kind::talk_end, t.task});
    }
  };

  while (!events.empty()) {
    Event e = events.top();
    events.pop();
    ++r.events;
    if (e.kind == Kind::arrival) {
      if (e.at >= end) continue;  // the day is over: no new callers, the rest drain
      events.push({e.at + std::max<Millis>(1, ms(gap(rng))), Kind::arrival, next++});
      ++r.offered;
      callers[e.task] = Caller{e.at};
      core.arrive(e.task, q, 0, e.at);
      if (p.patience_s > 0) events.push({e.at + ms(patience(rng)), Kind::patience_end, e.task});
      answer_offers(e.at);
    } else if (e.kind == Kind::talk_end) {
      AgentId agent = callers.at(e.task).agent;
      callers.erase(e.task);
      core.caller_hung_up(e.task, e.at);  // busy → wrap-up
      core.end_wrap_up(agent, e.at);      // no after-call work in this model
      answer_offers(e.at);
    } else {  // patience ran out: a caller still waiting abandons
      auto it = callers.find(e.task);
      if (it == callers.end() || it->second.agent >= 0) continue;
      Millis wait = e.at - it->second.arrived;
      ++r.abandoned;
      wait_all_ms += double(wait);
      ++waited;
      if (wait > sl_t) ++r.abandoned_after_t;
      callers.erase(it);
      core.caller_hung_up(e.task, e.at);
      answer_offers(e.at);
    }
  }
  const double served = double(r.answered + r.abandoned);
  r.service_level = double(r.answered_within_t) / double(r.answered + r.abandoned_after_t);
  r.asa_s = wait_answered_ms / 1000.0 / double(r.answered);
  r.mean_wait_s = wait_all_ms / 1000.0 / served;
  r.p_wait = double(waited) / served;
  r.abandon_rate = double(r.abandoned) / double(r.offered);
  r.occupancy = talk_ms / (double(p.agents) * double(end));
  return r;
}

}  // namespace kefu::acd
