#pragma once
// The classic way: every decision scans every agent (for a new task) or every waiting task
// (for a freed agent), checking skills one by one. Same rules and tie-breaks as Router.
// Kept as the oracle for Router's randomized tests and as the benchmark's baseline.
#include <map>

#include "acd/router.hpp"

namespace kefu::acd {

class NaiveRouter {
 public:
  explicit NaiveRouter(RouterConfig cfg = {});
  QueueId add_queue(QueueSpec q, size_t max_length = SIZE_MAX);
  AgentId add_agent(AgentSpec a);
  void sign_in(AgentId a, bool signed_in, Millis now, std::vector<Offer>& out);
  void set_ready(AgentId a, bool ready, Millis now, std::vector<Offer>& out);
  EnqueueResult enqueue(TaskId t, QueueId q, int tier, Millis now, std::vector<Offer>& out,
                        const TaskOptions& opt = {});
  bool abandon(TaskId t, Millis now, std::vector<Offer>& out);
  bool reject(TaskId t, Millis now, std::vector<Offer>& out, AgentId who = -1);
  bool take(TaskId t, AgentId a, Millis now, std::vector<Offer>& out);
  bool finish(TaskId t, Millis now, Millis handled_ms, std::vector<Offer>& out);
  void tick(Millis now, std::vector<Offer>& out);
  std::vector<TaskId> take_expired() { return std::move(expired_); }
  size_t waiting() const;
  bool ready(AgentId a) const { return agents_[size_t(a)].ready; }
  int load(AgentId a, Channel c) const { return agents_[size_t(a)].load[size_t(c)]; }

 private:
  struct Agent {
    AgentSpec spec;
    bool signed_in = false, ready = false;
    std::array<int, kChannels> load{};
    AgentStats stats;
  };
  struct Task {
    QueueId queue;
    int tier;
    Millis enqueued_at, arrived,
        vtime;  // as in Router: max wait from enqueued_at, widening from arrived
    bool waiting;
    AgentId agent;
    bool widen_pending;
    AgentId preferred = -1;  // while awaiting: the only agent who may take it
    Millis awaiting_until = 0;
    bool awaiting = false;
    std::vector<AgentId> ringing;  // a ring-all offer not yet taken
  };
  bool available(const Agent& a, Channel c) const;
  bool eligible(const Agent& a, const Task& t, Millis now) const;
  bool try_assign_task(TaskId id, Millis now, std::vector<Offer>& out);
  void try_assign_agent(AgentId id, Channel c, Millis now, std::vector<Offer>& out);
  void offer(TaskId id, AgentId a, std::vector<Offer>& out);
  void charge(TaskId id, AgentId a, std::vector<Offer>& out);
  void free_agent(AgentId a, Channel c, Millis now, Millis handled_ms, std::vector<Offer>& out);
  void release(TaskId id, Millis now, Millis handled_ms, std::vector<Offer>& out);
  void requeue_flags(Task& t);
  void end_affinity(TaskId id, Millis now, std::vector<Offer>& out);

  RouterConfig cfg_;
  std::vector<Agent> agents_;
  std::vector<std::pair<QueueSpec, size_t>> queues_;
  std::map<TaskId, Task> tasks_;
  std::vector<TaskId> expired_;
  int64_t offer_seq_ = 0;
};

}  // namespace kefu::acd
