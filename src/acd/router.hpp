#pragma once
// The routing engine (ACD): which waiting task goes to which ready agent, and when.
//
// Event-driven and exact: a decision is taken when something changes (a task arrives, an agent
// becomes ready or frees capacity, a task's level restriction widens on tick()) and always picks
// the same pair that a full scan of every agent and task would pick (naive_router.hpp is that
// scan; the randomized tests check they agree on every step). Cost per decision grows with the
// queues an agent serves and the number of levels and tiers, not with agents or waiting tasks:
//   - per (queue, level): a heap of that queue's available agents, keyed by the strategy;
//   - per (queue, tier): a heap of waiting tasks by virtual arrival time.
// Entries are invalidated lazily by stamps, so leaving a heap is O(1).
#include <cstddef>
#include <unordered_map>

#include "acd/rules.hpp"

namespace kefu::acd {

enum class EnqueueResult : uint8_t { queued, offered, queue_full, no_agents, duplicate, bad_queue };

class Router {
 public:
  explicit Router(RouterConfig cfg = {});

  // Set-up: queues and agents may be added in any order; membership (which queues an agent
  // serves) is computed from skills once, not per decision.
  QueueId add_queue(QueueSpec q, size_t max_length = SIZE_MAX);
  AgentId add_agent(AgentSpec a);

  // Live reconfiguration (an administrator edits a queue or an agent during the day): nothing
  // in progress is lost. An agent's current tasks continue under his new specification; the
  // queues he serves are recomputed and he may be offered work at once. A queue's waiting tasks
  // keep their places (their priority was fixed on arrival) and get the new widening and maximum
  // wait; who serves it is recomputed. A queue cannot change channel while tasks wait in it.
  void update_agent(AgentId a, AgentSpec spec, Millis now, std::vector<Offer>& out);
  bool update_queue(QueueId q, QueueSpec spec, size_t max_length, Millis now,
                    std::vector<Offer>& out);
  const QueueSpec& queue_spec(QueueId q) const { return queues_[size_t(q)].spec; }
  const AgentSpec& agent_spec(AgentId a) const { return agents_[size_t(a)].spec; }

  // Agent presence, driven by the agent state machine. Signed in without ready still counts
  // for the "no agent signed in" fallback; ready makes the agent routable.
  void sign_in(AgentId a, bool signed_in, Millis now, std::vector<Offer>& out);
  void set_ready(AgentId a, bool ready, Millis now, std::vector<Offer>& out);

  // Tasks. enqueue() may offer at once (EnqueueResult::offered, the offer in `out`). A queue
  // with nobody signed in refuses (no_agents), except an e-mail queue: mail waits for the
  // next shift.
  EnqueueResult enqueue(TaskId t, QueueId q, int tier, Millis now, std::vector<Offer>& out,
                        const TaskOptions& opt = {});
  // The caller hung up: a waiting task leaves its queue; an offered one frees its agent.
  bool abandon(TaskId t, Millis now, std::vector<Offer>& out);
  // The agent did not take the offer (no answer, refused, failed): the task goes back with its
  // original priority (so to the head of its tier), the agent is made not ready. A ring-all
  // offer goes back only when the last agent it rang has rejected it; `who` names him (-1: the
  // one agent of a single offer).
  bool reject(TaskId t, Millis now, std::vector<Offer>& out, AgentId who = -1);
  // The agent answered. For a ring-all offer the other agents it rang are released (and may be
  // offered something else at once); for a single offer nothing changes. False if the task is
  // not ringing this agent.
  bool take(TaskId t, AgentId a, Millis now, std::vector<Offer>& out);
  // Handling ended (after wrap-up): the agent's capacity returns.
  bool finish(TaskId t, Millis now, Millis handled_ms, std::vector<Offer>& out);
  // Capacity taken outside any queue (a transfer to a named agent, an outbound call): the agent
  // must be available on the channel; unclaim() gives it back like finish().
  bool claim(AgentId a, Channel c);
  void unclaim(AgentId a, Channel c, Millis now, Millis handled_ms, std::vector<Offer>& out);
  bool available(AgentId a, Channel c) const { return available(agents_[size_t(a)], c); }
  // Time passes: tasks whose level restriction widened may now be matched, and tasks that
  // waited their queue's max_wait_ms leave it (see take_expired).
  void tick(Millis now, std::vector<Offer>& out);
  // Tasks that left their queue by max_wait since the last call, in the order they expired;
  // the caller sends them to the queue's fallback (voicemail, callback, another number).
  std::vector<TaskId> take_expired() { return std::move(expired_); }
  // When tick() next has a timer to look at (INT64_MAX: none); may be a stale one.
  Millis next_due() const { return timers_.empty() ? INT64_MAX : timers_.front().at; }

  size_t waiting(QueueId q) const { return queues_[size_t(q)].waiting; }
  // How many tasks of t's queue come before it as things stand (0: it is next), by the order the
  // router serves them; -1 when t is not waiting. A scan: for announcements, not for routing.
  int64_t ahead(TaskId t) const;
  size_t waiting() const { return waiting_total_; }
  bool ready(AgentId a) const { return agents_[size_t(a)].ready; }
  int load(AgentId a, Channel c) const { return agents_[size_t(a)].load[size_t(c)]; }
  size_t agents() const { return agents_.size(); }
  size_t queues() const { return queues_.size(); }
  const std::vector<QueueId>& queues_of(AgentId a) const { return agents_[size_t(a)].queues; }

 private:
  struct AgentEntry {
    int64_t key;
    AgentId agent;
    uint32_t stamp;
  };
  struct TaskEntry {
    Millis vtime;
    TaskId id;
    uint32_t slot;
    uint32_t stamp;
  };
  enum class TimerKind : uint8_t { widen = 0, expire = 1, affinity = 2 };
  struct Timer {
    Millis at;
    TaskId id;
    TimerKind kind;
    uint32_t slot;
    uint32_t stamp;
  };

  struct AgentState {
    AgentSpec spec;
    std::vector<QueueId> queues;  // queues whose skills the agent has
    bool signed_in = false;
    bool ready = false;
    std::array<int, kChannels> load{};
    std::array<uint32_t, kChannels> stamp{};
    AgentStats stats;
    // Tasks awaiting him alone (slot, stamp), checked before his queues when he frees up.
    std::vector<std::pair<uint32_t, uint32_t>> awaiting;
  };
  struct QueueState {
    QueueSpec spec;
    size_t max_length;
    size_t waiting = 0;
    size_t signed_in = 0;  // agents serving it who are signed in
  };
  // awaiting: waiting for its preferred agent alone (counted as waiting in its queue).
  enum class TaskPhase : uint8_t { free, waiting, awaiting, offered };
  struct TaskState {
    TaskId id = 0;
    QueueId queue = 0;
    int tier = 0;
    Millis enqueued_at = 0;  // maximum wait counts from here
    Millis arrived = 0;      // priority and widening count from here (kept across queues)
    Millis vtime = 0;
    AgentId agent = -1;
    uint32_t stamp = 0;
    TaskPhase phase = TaskPhase::free;
    std::vector<AgentId> ringing;  // a ring-all offer not yet taken: every agent it rings
  };

  bool available(const AgentState& a, Channel c) const;
  void refresh_agent(AgentId a, Channel c);
  void refresh_agent_all(AgentId a);
  void invalidate_agent(AgentId a);  // drops his heap entries without pushing new ones
  bool widened(const TaskState& t, Millis now) const;
  void push_task(uint32_t slot);
  bool try_assign_task(uint32_t slot, Millis now, std::vector<Offer>& out);
  void try_assign_agent(AgentId a, Channel c, Millis now, std::vector<Offer>& out);
  void offer(uint32_t slot, AgentId a, std::vector<Offer>& out);
  bool ring_all(uint32_t slot, Millis now, std::vector<Offer>& out, AgentId also = -1);
  void charge(TaskState& t, AgentId a, std::vector<Offer>& out);
  void release(uint32_t slot, Millis now, Millis handled_ms, std::vector<Offer>& out);
  void free_capacity(AgentId id, Channel c, Millis now, Millis handled_ms, std::vector<Offer>& out);
  void drop_waiting(uint32_t slot);
  void join_queue(AgentId a, QueueId q, int delta);  // membership counts of (queue, level)
  void offer_work(AgentId a, Millis now, std::vector<Offer>& out);
  bool try_preferred(AgentId id, Channel c, std::vector<Offer>& out);
  void end_affinity(uint32_t slot, Millis now, std::vector<Offer>& out);
  std::vector<AgentEntry>& agent_heap(QueueId q, int level) {
    return agent_heaps_[size_t(q) * size_t(cfg_.levels) + size_t(level - 1)];
  }
  std::vector<TaskEntry>& task_heap(QueueId q, int tier) {
    return task_heaps_[size_t(q) * tiers_ + size_t(tier)];
  }

  RouterConfig cfg_;
  size_t tiers_;
  std::vector<AgentState> agents_;
  std::vector<QueueState> queues_;
  std::vector<std::vector<AgentEntry>> agent_heaps_;
  std::vector<uint32_t> heap_members_;  // agents that can appear in each agent heap
  std::vector<std::vector<TaskEntry>> task_heaps_;
  std::vector<TaskState> tasks_;
  std::vector<uint32_t> free_slots_;
  std::unordered_map<TaskId, uint32_t> slot_of_;
  std::vector<Timer> timers_;
  std::vector<TaskId> expired_;
  uint32_t next_stamp_ = 1;
  int64_t offer_seq_ = 0;
  size_t waiting_total_ = 0;
};

}  // namespace kefu::acd
