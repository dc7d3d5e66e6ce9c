#pragma once
// The rules both routers share: who may serve a queue, and an agent's rank under a strategy.
// Router and NaiveRouter differ only in how they find the best pair, never in what "best" is.
#include <algorithm>

#include "acd/types.hpp"

namespace kefu::acd {

// What a strategy ranks an agent by; updated on offers, finishes and becoming ready.
struct AgentStats {
  Millis idle_since = 0;
  int64_t calls_today = 0;
  Millis talk_today = 0;
  int64_t last_offer = 0;
  int64_t ready_epoch = 0;
};

uint64_t random_rank(uint64_t seed, AgentId a, int64_t ready_epoch, int64_t calls);

inline bool serves(const AgentSpec& a, const QueueSpec& q) {
  if (a.capacity[size_t(q.channel)] <= 0) return false;
  for (SkillId s : q.skills)
    if (std::find(a.skills.begin(), a.skills.end(), s) == a.skills.end()) return false;
  return true;
}

// Whether an agent with these loads may take one more task on channel c (ready aside).
inline bool has_room(const AgentSpec& a, const std::array<int, kChannels>& load, Channel c) {
  if (load[size_t(c)] >= a.capacity[size_t(c)]) return false;
  if (a.voice_with_media) return true;
  int phone = load[size_t(Channel::voice)] + load[size_t(Channel::callback)];
  int media = load[size_t(Channel::chat)] + load[size_t(Channel::email)];
  return is_phone(c) ? media == 0 : phone == 0;
}

inline int64_t strategy_key(Strategy s, const AgentStats& st, const AgentSpec& spec, AgentId id,
                            const RouterConfig& cfg) {
  switch (s) {
    case Strategy::longest_idle:
      return st.idle_since;
    case Strategy::fewest_calls:
      return st.calls_today;
    case Strategy::least_talk_time:
      return st.talk_today;
    case Strategy::round_robin:
      return st.last_offer;
    case Strategy::top_down:
      return (int64_t(cfg.levels - spec.level) << 32) | int64_t(id);
    case Strategy::random:
      return int64_t(random_rank(cfg.seed, id, st.ready_epoch, st.calls_today) >> 1);
    case Strategy::ring_all:
      return id;  // every candidate is offered; the key only orders them
  }
  return 0;
}

}  // namespace kefu::acd
