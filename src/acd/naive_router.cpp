#include "acd/naive_router.hpp"

#include <algorithm>
#include <tuple>

namespace kefu::acd {

NaiveRouter::NaiveRouter(RouterConfig cfg) : cfg_(std::move(cfg)) {
  if (cfg_.tier_bonus_ms.size() < cfg_.min_level.size())
    cfg_.tier_bonus_ms.resize(cfg_.min_level.size(), 0);
  if (cfg_.levels < 1) cfg_.levels = 1;
}

QueueId NaiveRouter::add_queue(QueueSpec q, size_t max_length) {
  queues_.emplace_back(std::move(q), max_length);
  return QueueId(queues_.size() - 1);
}

AgentId NaiveRouter::add_agent(AgentSpec a) {
  a.level = std::clamp(a.level, 1, cfg_.levels);
  agents_.push_back({std::move(a)});
  return AgentId(agents_.size() - 1);
}

bool NaiveRouter::available(const Agent& a, Channel c) const {
  return a.ready && has_room(a.spec, a.load, c);
}

bool NaiveRouter::eligible(const Agent& a, const Task& t, Millis now) const {
  const auto& q = queues_[size_t(t.queue)].first;
  return serves(a.spec, q) && available(a, q.channel) &&
         (a.spec.level >= cfg_.min_level[size_t(t.tier)] || now >= t.arrived + q.widen_after_ms);
}

bool NaiveRouter::try_assign_task(TaskId id, Millis now, std::vector<Offer>& out) {
  const Task& t = tasks_.at(id);
  if (t.awaiting) return false;  // only its preferred agent may take it, in try_assign_agent
  const auto& q = queues_[size_t(t.queue)].first;
  if (q.strategy == Strategy::ring_all) {  // every eligible agent, in agent order
    std::vector<AgentId> all;
    for (size_t a = 0; a < agents_.size(); ++a)
      if (eligible(agents_[a], t, now)) all.push_back(AgentId(a));
    if (all.empty()) return false;
    if (all.size() == 1) {
      offer(id, all[0], out);
      return true;
    }
    Task& w = tasks_.at(id);
    w.waiting = w.awaiting = w.widen_pending = false;
    w.agent = -1;
    w.ringing = all;
    for (AgentId a : all) charge(id, a, out);
    return true;
  }
  AgentId best = -1;
  int64_t best_key = 0;
  for (size_t a = 0; a < agents_.size(); ++a) {
    if (!eligible(agents_[a], t, now)) continue;
    int64_t k = strategy_key(q.strategy, agents_[a].stats, agents_[a].spec, AgentId(a), cfg_);
    if (best < 0 || k < best_key)
      best = AgentId(a), best_key = k;  // ids ascend: ties keep the lower
  }
  if (best < 0) return false;
  offer(id, best, out);
  return true;
}

void NaiveRouter::try_assign_agent(AgentId id, Channel c, Millis now, std::vector<Offer>& out) {
  while (available(agents_[size_t(id)], c)) {
    const Task* best = nullptr;
    TaskId best_id = 0;
    for (auto& [tid, t] : tasks_) {  // customers awaiting him first
      if (!t.awaiting || t.preferred != id || queues_[size_t(t.queue)].first.channel != c) continue;
      if (!best || std::tie(t.vtime, tid) < std::tie(best->vtime, best_id))
        best = &t, best_id = tid;
    }
    if (best) {
      offer(best_id, id, out);
      continue;
    }
    for (auto& [tid, t] : tasks_) {
      if (!t.waiting || t.awaiting || queues_[size_t(t.queue)].first.channel != c ||
          !eligible(agents_[size_t(id)], t, now))
        continue;
      if (!best || std::tie(t.vtime, tid) < std::tie(best->vtime, best_id))
        best = &t, best_id = tid;
    }
    if (!best) return;
    if (queues_[size_t(best->queue)].first.strategy == Strategy::ring_all)
      try_assign_task(best_id, now, out);  // rings him and every other eligible agent
    else
      offer(best_id, id, out);
  }
}

void NaiveRouter::offer(TaskId id, AgentId a, std::vector<Offer>& out) {
  Task& t = tasks_.at(id);
  t.waiting = false;
  t.awaiting = false;
  t.widen_pending = false;
  t.agent = a;
  charge(id, a, out);
}

void NaiveRouter::charge(TaskId id, AgentId a, std::vector<Offer>& out) {
  const Task& t = tasks_.at(id);
  auto& ag = agents_[size_t(a)];
  ++ag.load[size_t(queues_[size_t(t.queue)].first.channel)];
  ++ag.stats.calls_today;
  ag.stats.last_offer = ++offer_seq_;
  out.push_back({id, a, t.queue});
}

void NaiveRouter::free_agent(AgentId id, Channel c, Millis now, Millis handled_ms,
                             std::vector<Offer>& out) {
  auto& a = agents_[size_t(id)];
  --a.load[size_t(c)];
  a.stats.talk_today += handled_ms;
  a.stats.idle_since = now;
  try_assign_agent(id, c, now, out);
  if (!a.spec.voice_with_media)
    for (int o = 0; o < kChannels; ++o)
      if (Channel(o) != c && a.spec.capacity[size_t(o)] > 0)
        try_assign_agent(id, Channel(o), now, out);
}

bool NaiveRouter::take(TaskId id, AgentId a, Millis now, std::vector<Offer>& out) {
  auto it = tasks_.find(id);
  if (it == tasks_.end() || it->second.waiting) return false;
  Task& t = it->second;
  if (t.ringing.empty()) return t.agent >= 0 && t.agent == a;
  if (std::find(t.ringing.begin(), t.ringing.end(), a) == t.ringing.end()) return false;
  auto others = std::move(t.ringing);
  t.ringing.clear();
  t.agent = a;
  const Channel c = queues_[size_t(t.queue)].first.channel;
  for (AgentId b : others)
    if (b != a) free_agent(b, c, now, 0, out);
  return true;
}

void NaiveRouter::requeue_flags(Task& t) {
  t.waiting = true;
  t.agent = -1;
  t.widen_pending = cfg_.min_level[size_t(t.tier)] > 1;
}

EnqueueResult NaiveRouter::enqueue(TaskId id, QueueId qid, int tier, Millis now,
                                   std::vector<Offer>& out, const TaskOptions& opt) {
  if (qid < 0 || size_t(qid) >= queues_.size() || tier < 0 || size_t(tier) >= cfg_.min_level.size())
    return EnqueueResult::bad_queue;
  if (tasks_.count(id)) return EnqueueResult::duplicate;
  const QueueSpec& q =
      queues_[size_t(qid)].first;  // not a structured binding: the lambdas capture it
  const size_t max_length = queues_[size_t(qid)].second;
  bool anyone = std::any_of(agents_.begin(), agents_.end(),
                            [&](const Agent& a) { return a.signed_in && serves(a.spec, q); });
  if (!anyone && q.channel != Channel::email) return EnqueueResult::no_agents;
  size_t waiting = size_t(std::count_if(tasks_.begin(), tasks_.end(), [&](auto& kv) {
    return kv.second.waiting && kv.second.queue == qid;
  }));
  if (waiting >= max_length) return EnqueueResult::queue_full;
  const Millis arrived = opt.arrived_at >= 0 && opt.arrived_at < now ? opt.arrived_at : now;
  tasks_[id] =
      Task{qid,   tier, now,  arrived, arrived - cfg_.tier_bonus_ms[size_t(tier)] - q.weight_ms,
           false, -1,   false};
  const AgentId p = opt.preferred;
  if (p >= 0 && size_t(p) < agents_.size() && agents_[size_t(p)].signed_in &&
      serves(agents_[size_t(p)].spec, q)) {
    if (available(agents_[size_t(p)], q.channel)) {
      offer(id, p, out);
      return EnqueueResult::offered;
    }
    Millis wait = opt.preferred_wait_ms;
    if (q.max_wait_ms > 0) wait = std::min(wait, q.max_wait_ms - 1);
    if (wait > 0) {
      Task& t = tasks_[id];
      t.waiting = t.awaiting = true;
      t.preferred = p;
      t.awaiting_until = now + wait;
      return EnqueueResult::queued;
    }
  }
  if (try_assign_task(id, now, out)) return EnqueueResult::offered;
  requeue_flags(tasks_[id]);
  return EnqueueResult::queued;
}

void NaiveRouter::release(TaskId id, Millis now, Millis handled_ms, std::vector<Offer>& out) {
  Task t = tasks_.at(id);
  tasks_.erase(id);
  Channel c = queues_[size_t(t.queue)].first.channel;
  for (AgentId a : t.ringing.empty() ? std::vector<AgentId>{t.agent} : t.ringing)
    free_agent(a, c, now, handled_ms, out);
}

bool NaiveRouter::finish(TaskId id, Millis now, Millis handled_ms, std::vector<Offer>& out) {
  auto it = tasks_.find(id);
  if (it == tasks_.end() || it->second.agent < 0) return false;  // waiting, or ringing several
  release(id, now, handled_ms, out);
  return true;
}

bool NaiveRouter::abandon(TaskId id, Millis now, std::vector<Offer>& out) {
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return false;
  if (it->second.agent >= 0 || !it->second.ringing.empty())
    release(id, now, 0, out);
  else
    tasks_.erase(it);
  return true;
}

bool NaiveRouter::reject(TaskId id, Millis now, std::vector<Offer>& out, AgentId who) {
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return false;
  Task& t = it->second;
  AgentId agent = t.agent;
  if (!t.ringing.empty()) {
    auto r = std::find(t.ringing.begin(), t.ringing.end(), who);
    if (r == t.ringing.end()) return false;
    t.ringing.erase(r);
    agent = who;
  } else if (agent < 0 || (who >= 0 && who != agent)) {
    return false;
  }
  auto& a = agents_[size_t(agent)];
  --a.load[size_t(queues_[size_t(t.queue)].first.channel)];
  a.ready = false;
  if (!t.ringing.empty()) {
    if (t.ringing.size() == 1) t.agent = t.ringing[0], t.ringing.clear();
    return true;
  }
  t.agent = -1;
  if (!try_assign_task(id, now, out)) requeue_flags(tasks_.at(id));
  return true;
}

void NaiveRouter::sign_in(AgentId id, bool on, Millis now, std::vector<Offer>& out) {
  auto& a = agents_[size_t(id)];
  if (a.signed_in == on) return;
  if (!on) set_ready(id, false, now, out);
  a.signed_in = on;
  if (on) return;
  std::vector<std::pair<Millis, TaskId>> mine;  // customers awaiting him, oldest first
  for (auto& [tid, t] : tasks_)
    if (t.awaiting && t.preferred == id) mine.emplace_back(t.vtime, tid);
  std::sort(mine.begin(), mine.end());
  for (auto& [vtime, tid] : mine) end_affinity(tid, now, out);
}

void NaiveRouter::end_affinity(TaskId id, Millis now, std::vector<Offer>& out) {
  Task& t = tasks_.at(id);
  t.awaiting = false;
  t.preferred = -1;
  t.waiting = false;
  if (!try_assign_task(id, now, out)) requeue_flags(tasks_.at(id));
}

void NaiveRouter::set_ready(AgentId id, bool ready, Millis now, std::vector<Offer>& out) {
  auto& a = agents_[size_t(id)];
  if (!a.signed_in || a.ready == ready) return;
  a.ready = ready;
  if (!ready) return;
  ++a.stats.ready_epoch;
  a.stats.idle_since = now;
  for (int c = 0; c < kChannels; ++c)
    if (a.spec.capacity[size_t(c)] > 0) try_assign_agent(id, Channel(c), now, out);
}

void NaiveRouter::tick(Millis now, std::vector<Offer>& out) {
  // (time, task, kind): kind 0 widens, kind 1 expires, kind 2 ends the wait for the preferred
  // agent — the order Router's timers fire in. A task awaiting its agent has no widening yet
  // (that starts when it joins the queue) and cannot expire before the wait ends.
  std::vector<std::tuple<Millis, TaskId, int>> due;
  for (auto& [id, t] : tasks_) {
    if (!t.waiting) continue;
    const auto& q = queues_[size_t(t.queue)].first;
    if (t.awaiting && t.awaiting_until <= now) due.emplace_back(t.awaiting_until, id, 2);
    if (t.widen_pending && t.arrived + q.widen_after_ms <= now)
      due.emplace_back(t.arrived + q.widen_after_ms, id, 0);
    if (q.max_wait_ms > 0 && t.enqueued_at + q.max_wait_ms <= now)
      due.emplace_back(t.enqueued_at + q.max_wait_ms, id, 1);
  }
  std::sort(due.begin(), due.end());
  for (auto& [at, id, kind] : due) {
    auto it = tasks_.find(id);
    if (it == tasks_.end() || !it->second.waiting) continue;
    if (kind == 2) {
      if (it->second.awaiting) end_affinity(id, now, out);
    } else if (kind == 1) {
      expired_.push_back(id);
      tasks_.erase(it);
    } else if (it->second.widen_pending) {
      it->second.widen_pending = false;
      try_assign_task(id, now, out);
    }
  }
}

size_t NaiveRouter::waiting() const {
  return size_t(
      std::count_if(tasks_.begin(), tasks_.end(), [](auto& kv) { return kv.second.waiting; }));
}

}  // namespace kefu::acd
