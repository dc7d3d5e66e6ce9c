#pragma once
// Agent states and the voice task lifecycle on top of the Router (SPEC M2), still pure: every
// input is an event with its time, every timer is a deadline that tick() enforces.
//
//   signed_out → not_ready(reason) ⇄ ready → reserved (ringing) → busy (talking, held)
//        ↑              ↑                        │ no answer: task back to the head of its
//        └─ sign out ───┴──── wrap_up ←──────────┘ queue, agent not ready ("no_answer")
//
// Nothing can stay stuck: reserved ends by answer, ring timeout, caller hang-up or sign-out;
// busy by either side hanging up; wrap_up by the agent or its timer. A request to go not
// ready or to sign out during a call is kept and applied when the call and wrap-up end.
//
// Media tasks (chat and e-mail, 多渠道) run beside that state, several at once up to the
// agent's capacity per channel (and never beside a phone call unless his profile blends them):
//   offered ─accept→ active ─close (either side)→ wrap_up ─done or timer→ gone
//      └─ not accepted in time or declined: back to the head of its queue, agent not ready
// Going not ready stops new offers only; signing out returns what is offered at once and waits
// for the media tasks in hand to end, as it waits for a call.
#include <queue>
#include <string>
#include <unordered_map>

#include "acd/router.hpp"

namespace kefu::acd {

enum class AgentState : uint8_t { signed_out, not_ready, ready, reserved, busy, wrap_up };
const char* to_string(AgentState s);

// Every command answers with one of these; anything but ok changed nothing.
enum class Status : uint8_t {
  ok,
  not_signed_in,
  already_signed_in,
  in_call,
  not_ringing,
  not_talking,
  not_in_wrap_up,
  unknown_task,
  unknown_agent,
  rejected_by_queue
};
const char* to_string(Status s);

struct CoreConfig {
  Millis ring_timeout_ms = 15'000;
  Millis wrap_up_ms = 30'000;         // automatic end of after-call work
  Millis accept_timeout_ms = 30'000;  // a chat or e-mail offered and not accepted goes back
};

// What happened to a media task, for the layer that shows it to the agent and the customer.
struct MediaEvent {
  enum class Kind : uint8_t {
    offered,    // to `agent`
    withdrawn,  // no longer offered to `agent`: `reason` no_answer, declined, answered_elsewhere,
                // customer_left, signed_out (the first two and the last send it back to its queue)
    finished    // wrap-up over: the agent's capacity is back
  } kind;
  TaskId task;
  AgentId agent;
  const char* reason;
  Millis at;
};

// A state change, for agent state history (the facts reports are computed from).
struct Transition {
  AgentId agent;
  AgentState from, to;
  std::string reason;
  TaskId task;  // 0 when none
  Millis at;
};

class AgentCore {
 public:
  // Construct once the router has all its agents: agent ids are shared with it.
  AgentCore(Router& router, CoreConfig cfg = {})
      : router_(router), cfg_(cfg), agents_(router.agents()) {}

  // Agent and supervisor commands.
  Status sign_in(AgentId a, Millis now);
  Status sign_out(AgentId a, Millis now, const std::string& reason = "signed_out");
  Status ready(AgentId a, Millis now);
  Status not_ready(AgentId a, const std::string& reason, Millis now);
  Status answer(AgentId a, Millis now);
  // The offer could not ring (the phone is unreachable or refused): as an unanswered offer.
  Status decline(AgentId a, Millis now);
  Status hang_up(AgentId a, Millis now);  // the agent ends the call
  Status end_wrap_up(AgentId a, Millis now);
  // A task for this agent alone, outside any queue (a transfer or consultation to a named
  // agent): he must be ready. If he does not answer it is reported by take_missed(), not
  // requeued — the caller decides where it goes.
  Status offer_to(TaskId t, AgentId a, Millis now);
  // The agent places a call (外呼): from ready or not ready, straight to busy; after the call
  // and wrap-up he returns to the state he dialled from.
  Status outbound(TaskId t, AgentId a, Millis now);

  // Live reconfiguration, through the router (see Router::update_agent / update_queue); offers
  // that follow become reservations as usual.
  AgentId add_agent(AgentSpec spec);
  QueueId add_queue(QueueSpec spec, size_t max_length);
  void update_agent(AgentId a, AgentSpec spec, Millis now);
  bool update_queue(QueueId q, QueueSpec spec, size_t max_length, Millis now);

  // Calls and media tasks (the queue's channel decides). A task that cannot be queued is
  // reported back (the caller routes it to a fallback).
  Status arrive(TaskId t, QueueId q, int tier, Millis now, EnqueueResult* why = nullptr,
                const TaskOptions& opt = {});
  Status caller_hung_up(TaskId t, Millis now);  // at any moment: waiting, ringing or talking

  // Media tasks: the agent accepts or declines an offer, closes an active one (the customer
  // leaving closes it too, through caller_hung_up), ends its wrap-up.
  Status accept(AgentId a, TaskId t, Millis now);
  Status decline(AgentId a, TaskId t, Millis now);
  Status close(AgentId a, TaskId t, Millis now);
  Status end_wrap_up(AgentId a, TaskId t, Millis now);
  std::vector<MediaEvent> take_media_events() { return std::move(media_events_); }
  // The agent's media tasks, offered or in hand, in the order they came.
  const std::vector<TaskId>& media_of(AgentId a) const { return agents_[size_t(a)].media; }
  enum class MediaState : uint8_t { none, waiting, offered, active, wrap_up };
  MediaState media_state(TaskId t) const;

  void tick(Millis now);
  // The earliest time tick() has something to do (a ring timeout, a wrap-up timer, a routing
  // timer); INT64_MAX when nothing is pending. May be early (stale entries), never late.
  Millis next_due() const;
  // Callers whose queue's maximum wait ran out (they are no longer in the core): the switch
  // sends them to the fallback.
  std::vector<TaskId> take_expired() { return std::move(expired_); }
  // Direct offers (offer_to) that ended unanswered: ring timeout or the agent signed out.
  std::vector<TaskId> take_missed() { return std::move(missed_); }

  AgentState state(AgentId a) const { return agents_[size_t(a)].state; }
  TaskId task_of(AgentId a) const { return agents_[size_t(a)].task; }
  const std::string& reason(AgentId a) const { return agents_[size_t(a)].reason; }
  bool pending_not_ready(AgentId a) const {
    return agents_[size_t(a)].after_call != AfterCall::ready;
  }
  size_t tasks() const { return tasks_.size(); }
  std::vector<Transition> take_history() { return std::move(history_); }

 private:
  enum class AfterCall : uint8_t { ready, not_ready, sign_out };
  struct Agent {
    AgentState state = AgentState::signed_out;
    std::string reason;
    TaskId task = 0;
    Millis deadline = 0;  // reserved: ring timeout; wrap_up: automatic end
    Millis answered_at = 0;
    AfterCall after_call = AfterCall::ready;
    std::string after_reason;
    std::vector<TaskId> media;  // chats and e-mails offered to him or in his hands
  };
  struct Task {
    AgentId agent = -1;  // who answered it (or dialled it); -1 before
    bool talking = false;
    bool direct = false;           // outside any queue: capacity claimed from the router
    std::vector<AgentId> ringing;  // reserved for it and not answered (several: ring-all)
    Channel channel = Channel::voice;
    Millis deadline = 0;  // media: accept timeout while offered, automatic end of wrap-up
    Millis accepted_at = 0;
  };

  void move(AgentId a, AgentState to, Millis now, const std::string& reason = {});
  void apply(const std::vector<Offer>& offers, Millis now);
  void end_call(AgentId a, Millis now);  // busy → wrap_up
  void unanswered(AgentId a, Millis now,
                  AfterCall next);  // reserved, no answer: the task is taken back
  void finish_task(AgentId a,
                   Millis now);  // wrap_up over: capacity back, then the after-call state
  // The caller left while the task rang: every agent it rang goes where he asked to go.
  void withdraw(TaskId t, Millis now);
  // Agent a's offer ended without a call; before his capacity returns, he is taken out of
  // routing unless he goes back to ready. Returns where he goes.
  AfterCall release_offer(AgentId a, Millis now, const char* reason);
  void after_offer(AgentId a, AfterCall next, Millis now);
  void set_deadline(AgentId a, Millis at);
  // Media tasks.
  void offer_media(AgentId a, TaskId t, Millis now);
  void unoffer_media(AgentId a, TaskId t, const char* reason, Millis now);  // drops him from it
  void media_missed(AgentId a, TaskId t, const char* reason, Millis now);   // back to its queue
  void return_offered_media(AgentId a, Millis now);                         // before a sign-out
  void finish_media(TaskId t, Millis now);
  void set_media_deadline(Task& task, TaskId t, Millis at);
  // A sign-out comes due: at once, or (media tasks in hand) not ready until the last one ends.
  void leave(AgentId a, Millis now);
  void leave_if_due(AgentId a, Millis now);
  bool valid(AgentId a) const { return a >= 0 && size_t(a) < agents_.size(); }

  Router& router_;
  CoreConfig cfg_;
  std::vector<Agent> agents_;
  std::unordered_map<TaskId, Task> tasks_;
  std::vector<Transition> history_;
  std::vector<TaskId> expired_;
  std::vector<TaskId> missed_;
  std::vector<Offer> out_;
  std::priority_queue<std::pair<Millis, AgentId>, std::vector<std::pair<Millis, AgentId>>,
                      std::greater<>>
      deadlines_;
  std::priority_queue<std::pair<Millis, TaskId>, std::vector<std::pair<Millis, TaskId>>,
                      std::greater<>>
      media_deadlines_;
  std::vector<MediaEvent> media_events_;
};

}  // namespace kefu::acd
