#include "acd/router.hpp"

#include <algorithm>
#include <tuple>

namespace kefu::acd {

// Strategy::random: a hash of the seed, the agent and how often he has become ready and taken
// tasks — a fresh rank each time, reproducible without a shared generator.
uint64_t random_rank(uint64_t seed, AgentId a, int64_t ready_epoch, int64_t calls) {
  uint64_t x = seed ^ (uint64_t(uint32_t(a)) * 0x9e3779b97f4a7c15ULL) ^
               (uint64_t(ready_epoch) << 32) ^ (uint64_t(calls) * 0xbf58476d1ce4e5b9ULL);
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

namespace {

// Timers fire in time order, then by task id, widening before expiry: the order NaiveRouter
// uses too, so both take the same decisions.
template <class Timer>
bool timer_less_impl(const Timer& x, const Timer& y) {
  if (x.at != y.at) return x.at < y.at;
  if (x.id != y.id) return x.id < y.id;
  return x.kind < y.kind;
}

template <class T, class Less>
void heap_push(std::vector<T>& h, T v, Less less) {
  h.push_back(v);
  std::push_heap(h.begin(), h.end(), [&](const T& a, const T& b) { return less(b, a); });
}

template <class T, class Less>
void heap_pop(std::vector<T>& h, Less less) {
  std::pop_heap(h.begin(), h.end(), [&](const T& a, const T& b) { return less(b, a); });
  h.pop_back();
}

// Drops invalidated entries from the top; afterwards the top, if any, is live.
template <class T, class Less, class Valid>
void heap_clean(std::vector<T>& h, Less less, Valid valid) {
  while (!h.empty() && !valid(h.front())) heap_pop(h, less);
}

// Rebuilds a heap without its invalidated entries, once they outnumber the live ones.
template <class T, class Less, class Valid>
void heap_compact(std::vector<T>& h, size_t live, Less less, Valid valid) {
  if (h.size() <= 2 * live + 16) return;
  h.erase(std::remove_if(h.begin(), h.end(), [&](const T& e) { return !valid(e); }), h.end());
  std::make_heap(h.begin(), h.end(), [&](const T& a, const T& b) { return less(b, a); });
}

}  // namespace

namespace {
const auto timer_less = [](const auto& x, const auto& y) { return timer_less_impl(x, y); };
}  // namespace

Router::Router(RouterConfig cfg) : cfg_(std::move(cfg)), tiers_(cfg_.min_level.size()) {
  if (cfg_.tier_bonus_ms.size() < tiers_) cfg_.tier_bonus_ms.resize(tiers_, 0);
  if (cfg_.levels < 1) cfg_.levels = 1;
}

QueueId Router::add_queue(QueueSpec q, size_t max_length) {
  auto id = QueueId(queues_.size());
  queues_.push_back({std::move(q), max_length});
  agent_heaps_.resize(queues_.size() * size_t(cfg_.levels));
  heap_members_.resize(agent_heaps_.size());
  task_heaps_.resize(queues_.size() * tiers_);
  for (size_t a = 0; a < agents_.size(); ++a) {
    auto& st = agents_[a];
    if (!serves(st.spec, queues_.back().spec)) continue;
    st.queues.push_back(id);
    ++heap_members_[size_t(id) * size_t(cfg_.levels) + size_t(st.spec.level - 1)];
    if (st.signed_in) ++queues_.back().signed_in;
    refresh_agent(AgentId(a), queues_.back().spec.channel);
  }
  return id;
}

AgentId Router::add_agent(AgentSpec spec) {
  auto id = AgentId(agents_.size());
  spec.level = std::clamp(spec.level, 1, cfg_.levels);
  AgentState st;
  st.spec = std::move(spec);
  for (size_t q = 0; q < queues_.size(); ++q) {
    if (!serves(st.spec, queues_[q].spec)) continue;
    st.queues.push_back(QueueId(q));
    ++heap_members_[q * size_t(cfg_.levels) + size_t(st.spec.level - 1)];
  }
  agents_.push_back(std::move(st));
  return id;
}

void Router::join_queue(AgentId id, QueueId q, int delta) {
  auto& a = agents_[size_t(id)];
  heap_members_[size_t(q) * size_t(cfg_.levels) + size_t(a.spec.level - 1)] += uint32_t(delta);
  if (a.signed_in) queues_[size_t(q)].signed_in += size_t(delta);
}

// Whatever waits for an available agent is offered to him; else he enters his queues' heaps.
void Router::offer_work(AgentId id, Millis now, std::vector<Offer>& out) {
  auto& a = agents_[size_t(id)];
  invalidate_agent(id);
  int64_t offers = a.stats.calls_today;
  for (int c = 0; c < kChannels; ++c)
    if (a.spec.capacity[size_t(c)] > 0) try_assign_agent(id, Channel(c), now, out);
  if (agents_[size_t(id)].stats.calls_today == offers) refresh_agent_all(id);
}

void Router::update_agent(AgentId id, AgentSpec spec, Millis now, std::vector<Offer>& out) {
  auto& a = agents_[size_t(id)];
  for (QueueId q : a.queues) join_queue(id, q, -1);
  invalidate_agent(id);
  spec.level = std::clamp(spec.level, 1, cfg_.levels);
  a.spec = std::move(spec);
  a.queues.clear();
  for (size_t q = 0; q < queues_.size(); ++q)
    if (serves(a.spec, queues_[q].spec)) a.queues.push_back(QueueId(q));
  for (QueueId q : a.queues) join_queue(id, q, +1);
  offer_work(id, now, out);
}

bool Router::update_queue(QueueId qid, QueueSpec spec, size_t max_length, Millis now,
                          std::vector<Offer>& out) {
  auto& q = queues_[size_t(qid)];
  if (spec.channel != q.spec.channel && q.waiting > 0) return false;
  std::vector<AgentId> members;
  for (size_t i = 0; i < agents_.size(); ++i) {
    auto& a = agents_[i];
    auto it = std::find(a.queues.begin(), a.queues.end(), qid);
    if (it != a.queues.end()) {
      join_queue(AgentId(i), qid, -1);
      a.queues.erase(it);
    }
    if (serves(a.spec, spec)) {
      a.queues.insert(std::lower_bound(a.queues.begin(), a.queues.end(), qid), qid);
      members.push_back(AgentId(i));
    }
  }
  q.spec = std::move(spec);
  q.max_length = max_length;
  for (AgentId a : members) join_queue(a, qid, +1);
  // The agent heaps are keyed by the strategy: empty them; the members re-enter below.
  for (int lvl = 1; lvl <= cfg_.levels; ++lvl) agent_heap(qid, lvl).clear();
  // Waiting tasks re-enter their heaps with fresh timers (the old ones die with the stamp).
  std::vector<uint32_t> waiting;
  for (size_t tier = 0; tier < tiers_; ++tier)
    for (const auto& e : task_heap(qid, int(tier)))
      if (tasks_[e.slot].stamp == e.stamp && tasks_[e.slot].phase == TaskPhase::waiting)
        waiting.push_back(e.slot);
  for (size_t tier = 0; tier < tiers_; ++tier) task_heap(qid, int(tier)).clear();
  for (uint32_t slot : waiting) {
    --q.waiting;
    --waiting_total_;
    tasks_[slot].stamp = next_stamp_++;
    push_task(slot);
  }
  for (AgentId a : members) offer_work(a, now, out);
  return true;
}

bool Router::available(const AgentState& a, Channel c) const {
  return a.ready && has_room(a.spec, a.load, c);
}

// The agent's availability or key on channel `c` changed: old heap entries die with the stamp,
// and if he is available he is pushed anew into each of his queues on that channel.
void Router::refresh_agent(AgentId id, Channel c) {
  auto& a = agents_[size_t(id)];
  uint32_t stamp = a.stamp[size_t(c)] = next_stamp_++;
  if (!available(a, c)) return;
  auto less = [](const AgentEntry& x, const AgentEntry& y) {
    return x.key != y.key ? x.key < y.key : x.agent < y.agent;
  };
  for (QueueId q : a.queues) {
    const auto& qs = queues_[size_t(q)];
    if (qs.spec.channel != c) continue;
    auto& h = agent_heap(q, a.spec.level);
    heap_push(h, AgentEntry{strategy_key(qs.spec.strategy, a.stats, a.spec, id, cfg_), id, stamp},
              less);
    heap_compact(h, heap_members_[size_t(q) * size_t(cfg_.levels) + size_t(a.spec.level - 1)], less,
                 [&, c](const AgentEntry& e) {
                   return agents_[size_t(e.agent)].stamp[size_t(c)] == e.stamp;
                 });
  }
}

void Router::invalidate_agent(AgentId id) {
  for (auto& st : agents_[size_t(id)].stamp) st = next_stamp_++;
}

void Router::refresh_agent_all(AgentId id) {
  for (int c = 0; c < kChannels; ++c)
    if (agents_[size_t(id)].spec.capacity[size_t(c)] > 0) refresh_agent(id, Channel(c));
}

bool Router::widened(const TaskState& t, Millis now) const {
  return now >= t.arrived + queues_[size_t(t.queue)].spec.widen_after_ms;
}

void Router::push_task(uint32_t slot) {
  auto& t = tasks_[slot];
  t.phase = TaskPhase::waiting;
  auto less = [](const TaskEntry& x, const TaskEntry& y) {
    return x.vtime != y.vtime ? x.vtime < y.vtime : x.id < y.id;
  };
  auto& q = queues_[size_t(t.queue)];
  auto& h = task_heap(t.queue, t.tier);
  heap_push(h, TaskEntry{t.vtime, t.id, slot, t.stamp}, less);
  heap_compact(h, q.waiting + 1, less, [this](const TaskEntry& e) {
    return tasks_[e.slot].stamp == e.stamp && tasks_[e.slot].phase == TaskPhase::waiting;
  });
  ++q.waiting;
  ++waiting_total_;
  if (cfg_.min_level[size_t(t.tier)] > 1)
    heap_push(timers_,
              Timer{t.arrived + q.spec.widen_after_ms, t.id, TimerKind::widen, slot, t.stamp},
              timer_less);
  if (q.spec.max_wait_ms > 0)
    heap_push(timers_,
              Timer{t.enqueued_at + q.spec.max_wait_ms, t.id, TimerKind::expire, slot, t.stamp},
              timer_less);
}

// The best available agent for one task: the smallest strategy key among the heap tops of the
// levels the task may use now.
bool Router::try_assign_task(uint32_t slot, Millis now, std::vector<Offer>& out) {
  const auto& t = tasks_[slot];
  const auto& q = queues_[size_t(t.queue)];
  if (q.spec.strategy == Strategy::ring_all) return ring_all(slot, now, out);
  const auto c = q.spec.channel;
  const bool wide = widened(t, now);
  const int need = cfg_.min_level[size_t(t.tier)];
  auto less = [](const AgentEntry& x, const AgentEntry& y) {
    return x.key != y.key ? x.key < y.key : x.agent < y.agent;
  };
  auto valid = [&](const AgentEntry& e) {
    return agents_[size_t(e.agent)].stamp[size_t(c)] == e.stamp;
  };
  const AgentEntry* best = nullptr;
  for (int lvl = wide ? 1 : std::max(1, need); lvl <= cfg_.levels; ++lvl) {
    auto& h = agent_heap(t.queue, lvl);
    if (h.empty() || (best && !less(h.front(), *best))) continue;  // as in try_assign_agent
    heap_clean(h, less, valid);
    if (!h.empty() && (!best || less(h.front(), *best))) best = &h.front();
  }
  if (!best) return false;
  offer(slot, best->agent, out);
  return true;
}

// The best waiting task for one agent on one channel, repeated while he has capacity: the
// smallest virtual arrival time among the heap tops of his queues' tiers that he may take now.
void Router::try_assign_agent(AgentId id, Channel c, Millis now, std::vector<Offer>& out) {
  auto less = [](const TaskEntry& x, const TaskEntry& y) {
    return x.vtime != y.vtime ? x.vtime < y.vtime : x.id < y.id;
  };
  auto valid = [this](const TaskEntry& e) {
    return tasks_[e.slot].stamp == e.stamp && tasks_[e.slot].phase == TaskPhase::waiting;
  };
  while (available(agents_[size_t(id)], c)) {
    if (try_preferred(id, c, out)) continue;
    const int level = agents_[size_t(id)].spec.level;
    const TaskEntry* best = nullptr;
    for (QueueId q : agents_[size_t(id)].queues) {
      if (queues_[size_t(q)].spec.channel != c || queues_[size_t(q)].waiting == 0) continue;
      for (size_t tier = 0; tier < tiers_; ++tier) {
        auto& h = task_heap(q, int(tier));
        // The top is the least entry, live or not: if it cannot beat the best so far, nothing
        // in this heap can, and its liveness (a cache miss) need not be checked.
        if (h.empty() || (best && !less(h.front(), *best))) continue;
        heap_clean(h, less, valid);
        if (h.empty() || (best && !less(h.front(), *best))) continue;
        // Within a tier the heap is in arrival order, so the top is widened if any entry is.
        if (level >= cfg_.min_level[tier] || widened(tasks_[h.front().slot], now))
          best = &h.front();
      }
    }
    if (!best) return;
    if (queues_[size_t(tasks_[best->slot].queue)].spec.strategy == Strategy::ring_all)
      ring_all(best->slot, now, out, id);  // he is out of the heaps while he looks: add him
    else
      offer(best->slot, id, out);
  }
}

// 同振: every available agent of the levels the task may use now, in agent order; `also` is an
// agent known to qualify who is not in the heaps at this moment.
bool Router::ring_all(uint32_t slot, Millis now, std::vector<Offer>& out, AgentId also) {
  auto& t = tasks_[slot];
  const auto& q = queues_[size_t(t.queue)];
  const auto c = q.spec.channel;
  const int need = widened(t, now) ? 1 : std::max(1, cfg_.min_level[size_t(t.tier)]);
  std::vector<AgentId> all;
  if (also >= 0) all.push_back(also);
  auto less = [](const AgentEntry& x, const AgentEntry& y) {
    return x.key != y.key ? x.key < y.key : x.agent < y.agent;
  };
  for (int lvl = need; lvl <= cfg_.levels; ++lvl) {
    // Every live entry is a candidate: drop the dead ones for good while reading them, so the
    // next ring-all of this queue reads only available agents.
    auto& h = agent_heap(t.queue, lvl);
    auto dead = [&](const AgentEntry& e) {
      return agents_[size_t(e.agent)].stamp[size_t(c)] != e.stamp;
    };
    if (auto end = std::remove_if(h.begin(), h.end(), dead); end != h.end()) {
      h.erase(end, h.end());
      std::make_heap(h.begin(), h.end(),
                     [&](const AgentEntry& x, const AgentEntry& y) { return less(y, x); });
    }
    for (const auto& e : h)
      if (e.agent != also) all.push_back(e.agent);
  }
  if (all.empty()) return false;
  std::sort(all.begin(), all.end());
  if (all.size() == 1) {  // one agent: an ordinary offer
    offer(slot, all[0], out);
    return true;
  }
  if (t.phase == TaskPhase::waiting || t.phase == TaskPhase::awaiting) {
    --queues_[size_t(t.queue)].waiting;
    --waiting_total_;
  }
  t.phase = TaskPhase::offered;
  t.stamp = next_stamp_++;
  t.agent = -1;
  t.ringing = all;
  for (AgentId a : all) charge(t, a, out);
  return true;
}

// The agent's capacity and statistics for an offer of t.
void Router::charge(TaskState& t, AgentId id, std::vector<Offer>& out) {
  auto& a = agents_[size_t(id)];
  ++a.load[size_t(queues_[size_t(t.queue)].spec.channel)];
  ++a.stats.calls_today;
  a.stats.last_offer = ++offer_seq_;
  refresh_agent_all(id);  // the strategy keys are per agent, not per channel
  out.push_back({t.id, id, t.queue});
}

int64_t Router::ahead(TaskId id) const {
  auto it = slot_of_.find(id);
  if (it == slot_of_.end()) return -1;
  const TaskState& t = tasks_[it->second];
  if (t.phase != TaskPhase::waiting && t.phase != TaskPhase::awaiting) return -1;
  int64_t n = 0;
  for (const TaskState& o : tasks_)
    if ((o.phase == TaskPhase::waiting || o.phase == TaskPhase::awaiting) && o.queue == t.queue &&
        std::tie(o.vtime, o.id) < std::tie(t.vtime, t.id))
      ++n;
  return n;
}

bool Router::take(TaskId id, AgentId a, Millis now, std::vector<Offer>& out) {
  auto it = slot_of_.find(id);
  if (it == slot_of_.end() || tasks_[it->second].phase != TaskPhase::offered) return false;
  auto& t = tasks_[it->second];
  if (t.ringing.empty()) return t.agent == a;
  if (std::find(t.ringing.begin(), t.ringing.end(), a) == t.ringing.end()) return false;
  auto others = std::move(t.ringing);
  t.ringing.clear();
  t.agent = a;
  const Channel c = queues_[size_t(t.queue)].spec.channel;
  for (AgentId b : others)
    if (b != a) free_capacity(b, c, now, 0, out);
  return true;
}

// The oldest task awaiting this agent alone, if any: his customers before his queues.
bool Router::try_preferred(AgentId id, Channel c, std::vector<Offer>& out) {
  auto& list = agents_[size_t(id)].awaiting;
  if (list.empty()) return false;
  size_t kept = 0;
  uint32_t best = UINT32_MAX;
  for (auto [slot, stamp] : list) {
    const auto& t = tasks_[slot];
    if (t.stamp != stamp || t.phase != TaskPhase::awaiting) continue;  // gone or moved on
    list[kept++] = {slot, stamp};
    if (queues_[size_t(t.queue)].spec.channel != c) continue;
    if (best == UINT32_MAX ||
        std::tie(t.vtime, t.id) < std::tie(tasks_[best].vtime, tasks_[best].id))
      best = slot;
  }
  list.resize(kept);
  if (best == UINT32_MAX) return false;
  offer(best, id, out);
  return true;
}

// The preferred agent did not free up in time (or signed out): the task joins its queue.
void Router::end_affinity(uint32_t slot, Millis now, std::vector<Offer>& out) {
  auto& t = tasks_[slot];
  auto& q = queues_[size_t(t.queue)];
  --q.waiting;
  --waiting_total_;
  t.phase = TaskPhase::free;
  t.agent = -1;
  t.stamp = next_stamp_++;
  if (!try_assign_task(slot, now, out)) push_task(slot);
}

void Router::offer(uint32_t slot, AgentId id, std::vector<Offer>& out) {
  auto& t = tasks_[slot];
  auto& q = queues_[size_t(t.queue)];
  if (t.phase == TaskPhase::waiting || t.phase == TaskPhase::awaiting) {
    --q.waiting;
    --waiting_total_;
  }
  t.phase = TaskPhase::offered;
  t.stamp = next_stamp_++;
  t.agent = id;
  charge(t, id, out);
}

EnqueueResult Router::enqueue(TaskId id, QueueId qid, int tier, Millis now, std::vector<Offer>& out,
                              const TaskOptions& opt) {
  if (qid < 0 || size_t(qid) >= queues_.size() || tier < 0 || size_t(tier) >= tiers_)
    return EnqueueResult::bad_queue;
  if (slot_of_.count(id)) return EnqueueResult::duplicate;
  auto& q = queues_[size_t(qid)];
  if (q.signed_in == 0 && q.spec.channel != Channel::email) return EnqueueResult::no_agents;
  if (q.waiting >= q.max_length) return EnqueueResult::queue_full;
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = uint32_t(tasks_.size());
    tasks_.emplace_back();
  }
  slot_of_.emplace(id, slot);
  auto& t = tasks_[slot];
  const Millis arrived = opt.arrived_at >= 0 && opt.arrived_at < now ? opt.arrived_at : now;
  t = TaskState{id,  qid,           tier,
                now, arrived,       arrived - cfg_.tier_bonus_ms[size_t(tier)] - q.spec.weight_ms,
                -1,  next_stamp_++, TaskPhase::free};
  const AgentId p = opt.preferred;
  if (p >= 0 && size_t(p) < agents_.size() && agents_[size_t(p)].signed_in) {
    const auto& mine = agents_[size_t(p)].queues;
    if (std::find(mine.begin(), mine.end(), qid) != mine.end()) {
      if (available(agents_[size_t(p)], q.spec.channel)) {
        offer(slot, p, out);
        return EnqueueResult::offered;
      }
      Millis wait = opt.preferred_wait_ms;
      if (q.spec.max_wait_ms > 0) wait = std::min(wait, q.spec.max_wait_ms - 1);
      if (wait > 0) {
        t.phase = TaskPhase::awaiting;
        t.agent = p;
        ++q.waiting;
        ++waiting_total_;
        agents_[size_t(p)].awaiting.push_back({slot, t.stamp});
        heap_push(timers_, Timer{now + wait, id, TimerKind::affinity, slot, t.stamp}, timer_less);
        return EnqueueResult::queued;
      }
    }
  }
  if (try_assign_task(slot, now, out)) return EnqueueResult::offered;
  push_task(slot);
  return EnqueueResult::queued;
}

void Router::release(uint32_t slot, Millis now, Millis handled_ms, std::vector<Offer>& out) {
  auto& t = tasks_[slot];
  std::vector<AgentId> agents = t.ringing.empty() ? std::vector<AgentId>{t.agent} : t.ringing;
  t.ringing.clear();
  Channel c = queues_[size_t(t.queue)].spec.channel;
  slot_of_.erase(t.id);
  t.phase = TaskPhase::free;
  t.stamp = next_stamp_++;
  free_slots_.push_back(slot);
  for (AgentId id : agents) free_capacity(id, c, now, handled_ms, out);
}

void Router::free_capacity(AgentId id, Channel c, Millis now, Millis handled_ms,
                           std::vector<Offer>& out) {
  auto& a = agents_[size_t(id)];
  --a.load[size_t(c)];
  a.stats.talk_today += handled_ms;
  a.stats.idle_since = now;
  // Usually a waiting task takes him at once; push him into his queues' heaps only if none does
  // (pushing first would leave entries that the offer immediately invalidates).
  invalidate_agent(id);
  int64_t offers = a.stats.calls_today;
  try_assign_agent(id, c, now, out);
  // Without blending, the last call freed opens his media channels and the last chat his phone.
  if (!a.spec.voice_with_media)
    for (int o = 0; o < kChannels; ++o)
      if (Channel(o) != c && a.spec.capacity[size_t(o)] > 0 && available(a, Channel(o)))
        try_assign_agent(id, Channel(o), now, out);
  if (agents_[size_t(id)].stats.calls_today == offers) refresh_agent_all(id);
}

bool Router::claim(AgentId id, Channel c) {
  auto& a = agents_[size_t(id)];
  if (!a.signed_in || a.load[size_t(c)] >= a.spec.capacity[size_t(c)]) return false;
  ++a.load[size_t(c)];
  ++a.stats.calls_today;
  a.stats.last_offer = ++offer_seq_;
  refresh_agent_all(id);
  return true;
}

void Router::unclaim(AgentId id, Channel c, Millis now, Millis handled_ms,
                     std::vector<Offer>& out) {
  free_capacity(id, c, now, handled_ms, out);
}

bool Router::finish(TaskId id, Millis now, Millis handled_ms, std::vector<Offer>& out) {
  auto it = slot_of_.find(id);
  if (it == slot_of_.end() || tasks_[it->second].phase != TaskPhase::offered ||
      !tasks_[it->second].ringing.empty())  // a ring-all offer nobody took yet
    return false;
  release(it->second, now, handled_ms, out);
  return true;
}

bool Router::abandon(TaskId id, Millis now, std::vector<Offer>& out) {
  auto it = slot_of_.find(id);
  if (it == slot_of_.end()) return false;
  uint32_t slot = it->second;
  auto& t = tasks_[slot];
  if (t.phase == TaskPhase::offered) {
    release(slot, now, 0, out);
    return true;
  }
  drop_waiting(slot);
  return true;
}

void Router::drop_waiting(uint32_t slot) {
  auto& t = tasks_[slot];
  auto& q = queues_[size_t(t.queue)];
  --q.waiting;
  --waiting_total_;
  slot_of_.erase(t.id);
  t.phase = TaskPhase::free;
  t.stamp = next_stamp_++;
  free_slots_.push_back(slot);
}

bool Router::reject(TaskId id, Millis now, std::vector<Offer>& out, AgentId who) {
  auto it = slot_of_.find(id);
  if (it == slot_of_.end() || tasks_[it->second].phase != TaskPhase::offered) return false;
  uint32_t slot = it->second;
  auto& t = tasks_[slot];
  AgentId agent = t.agent;
  if (!t.ringing.empty()) {
    auto r = std::find(t.ringing.begin(), t.ringing.end(), who);
    if (r == t.ringing.end()) return false;
    t.ringing.erase(r);
    agent = who;
  } else if (who >= 0 && who != agent) {
    return false;
  }
  auto& a = agents_[size_t(agent)];
  --a.load[size_t(queues_[size_t(t.queue)].spec.channel)];
  a.ready = false;  // 未接听: the state machine puts him in "not ready: no answer"
  refresh_agent_all(agent);
  if (!t.ringing.empty()) {
    if (t.ringing.size() == 1) {  // one agent still rings: an ordinary offer to him now
      t.agent = t.ringing[0];
      t.ringing.clear();
    }
    return true;
  }
  t.agent = -1;
  t.phase = TaskPhase::free;
  t.stamp = next_stamp_++;
  if (!try_assign_task(slot, now, out)) push_task(slot);
  return true;
}

void Router::sign_in(AgentId id, bool on, Millis now, std::vector<Offer>& out) {
  auto& a = agents_[size_t(id)];
  if (a.signed_in == on) return;
  if (!on) set_ready(id, false, now, out);
  a.signed_in = on;
  if (!on) {  // customers waiting for him go to their queues, oldest first
    auto list = std::move(a.awaiting);
    a.awaiting.clear();
    std::vector<uint32_t> slots;
    for (auto [slot, stamp] : list)
      if (tasks_[slot].stamp == stamp && tasks_[slot].phase == TaskPhase::awaiting)
        slots.push_back(slot);
    std::sort(slots.begin(), slots.end(), [&](uint32_t x, uint32_t y) {
      return std::tie(tasks_[x].vtime, tasks_[x].id) < std::tie(tasks_[y].vtime, tasks_[y].id);
    });
    for (uint32_t slot : slots) end_affinity(slot, now, out);
  }
  for (QueueId q : a.queues) {
    if (on)
      ++queues_[size_t(q)].signed_in;
    else
      --queues_[size_t(q)].signed_in;
  }
}

void Router::set_ready(AgentId id, bool ready, Millis now, std::vector<Offer>& out) {
  auto& a = agents_[size_t(id)];
  if (!a.signed_in || a.ready == ready) return;
  a.ready = ready;
  if (ready) {
    ++a.stats.ready_epoch;
    a.stats.idle_since = now;
  }
  if (!ready) return invalidate_agent(id);
  invalidate_agent(id);
  int64_t offers = a.stats.calls_today;
  for (int c = 0; c < kChannels; ++c)
    if (a.spec.capacity[size_t(c)] > 0) try_assign_agent(id, Channel(c), now, out);
  if (agents_[size_t(id)].stats.calls_today == offers) refresh_agent_all(id);
}

void Router::tick(Millis now, std::vector<Offer>& out) {
  while (!timers_.empty() && timers_.front().at <= now) {
    Timer tm = timers_.front();
    heap_pop(timers_, timer_less);
    const auto& t = tasks_[tm.slot];
    if (tm.kind == TimerKind::affinity) {
      if (t.stamp == tm.stamp && t.phase == TaskPhase::awaiting) end_affinity(tm.slot, now, out);
      continue;
    }
    if (t.stamp != tm.stamp || t.phase != TaskPhase::waiting) continue;
    if (tm.kind == TimerKind::expire) {
      expired_.push_back(t.id);
      drop_waiting(tm.slot);
    } else {
      try_assign_task(tm.slot, now, out);
    }
  }
}

}  // namespace kefu::acd
