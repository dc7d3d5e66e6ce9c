#include "acd/agent_core.hpp"

#include <algorithm>

namespace kefu::acd {

const char* to_string(AgentState s) {
  switch (s) {
    case AgentState::signed_out:
      return "signed_out";
    case AgentState::not_ready:
      return "not_ready";
    case AgentState::ready:
      return "ready";
    case AgentState::reserved:
      return "reserved";
    case AgentState::busy:
      return "busy";
    case AgentState::wrap_up:
      return "wrap_up";
  }
  return "?";
}

const char* to_string(Status s) {
  switch (s) {
    case Status::ok:
      return "ok";
    case Status::not_signed_in:
      return "not_signed_in";
    case Status::already_signed_in:
      return "already_signed_in";
    case Status::in_call:
      return "in_call";
    case Status::not_ringing:
      return "not_ringing";
    case Status::not_talking:
      return "not_talking";
    case Status::not_in_wrap_up:
      return "not_in_wrap_up";
    case Status::unknown_task:
      return "unknown_task";
    case Status::unknown_agent:
      return "unknown_agent";
    case Status::rejected_by_queue:
      return "rejected_by_queue";
  }
  return "?";
}

namespace {
bool in_call(AgentState s) {
  return s == AgentState::reserved || s == AgentState::busy || s == AgentState::wrap_up;
}
}  // namespace

void AgentCore::move(AgentId a, AgentState to, Millis now, const std::string& reason) {
  auto& ag = agents_[size_t(a)];
  history_.push_back({a, ag.state, to, reason, ag.task, now});
  ag.state = to;
  ag.reason = reason;
}

void AgentCore::apply(const std::vector<Offer>& offers, Millis now) {
  for (const auto& o : offers) {
    if (auto it = tasks_.find(o.task); it != tasks_.end() && !is_phone(it->second.channel)) {
      offer_media(o.agent, o.task, now);
      continue;
    }
    auto& ag = agents_[size_t(o.agent)];
    tasks_[o.task].ringing.push_back(o.agent);
    ag.task = o.task;
    set_deadline(o.agent, now + cfg_.ring_timeout_ms);
    move(o.agent, AgentState::reserved, now, "offered");
  }
}

Status AgentCore::sign_in(AgentId a, Millis now) {
  if (!valid(a)) return Status::unknown_agent;
  if (agents_[size_t(a)].state != AgentState::signed_out) return Status::already_signed_in;
  out_.clear();
  router_.sign_in(a, true, now, out_);
  move(a, AgentState::not_ready, now, "signed_in");
  return Status::ok;
}

Status AgentCore::ready(AgentId a, Millis now) {
  if (!valid(a)) return Status::unknown_agent;
  auto& ag = agents_[size_t(a)];
  if (ag.state == AgentState::signed_out) return Status::not_signed_in;
  out_.clear();
  if (in_call(ag.state)) {  // withdraws a pending not-ready or sign-out
    ag.after_call = AfterCall::ready;
    router_.set_ready(a, true, now, out_);  // his capacity is taken: no offer can follow
    apply(out_, now);
    return Status::ok;
  }
  ag.after_call = AfterCall::ready;  // withdraws a sign-out waiting for media tasks
  if (ag.state == AgentState::ready) return Status::ok;
  move(a, AgentState::ready, now);
  router_.set_ready(a, true, now, out_);
  apply(out_, now);
  return Status::ok;
}

Status AgentCore::not_ready(AgentId a, const std::string& reason, Millis now) {
  if (!valid(a)) return Status::unknown_agent;
  auto& ag = agents_[size_t(a)];
  if (ag.state == AgentState::signed_out) return Status::not_signed_in;
  out_.clear();
  router_.set_ready(a, false, now, out_);
  if (in_call(ag.state)) {
    if (ag.after_call != AfterCall::sign_out) ag.after_call = AfterCall::not_ready;
    ag.after_reason = reason;
    return Status::ok;
  }
  move(a, AgentState::not_ready, now, reason);
  return Status::ok;
}

Status AgentCore::sign_out(AgentId a, Millis now, const std::string& reason) {
  if (!valid(a)) return Status::unknown_agent;
  auto& ag = agents_[size_t(a)];
  if (ag.state == AgentState::signed_out) return Status::not_signed_in;
  out_.clear();
  return_offered_media(a, now);  // another agent may take them at once
  apply(out_, now);
  out_.clear();
  if (ag.state == AgentState::busy) {  // never drops a customer: after the call and wrap-up
    ag.after_call = AfterCall::sign_out;
    ag.after_reason = reason;
    router_.set_ready(a, false, now, out_);
    return Status::ok;
  }
  if (ag.state == AgentState::wrap_up) {
    ag.after_call = AfterCall::sign_out;
    ag.after_reason = reason;
    finish_task(a, now);
    return Status::ok;
  }
  if (ag.state == AgentState::reserved) {  // the ringing task goes back to its queue
    ag.after_reason = reason;
    unanswered(a, now, AfterCall::sign_out);
    return Status::ok;
  }
  ag.after_reason = reason;
  leave(a, now);
  apply(out_, now);
  return Status::ok;
}

void AgentCore::leave(AgentId a, Millis now) {
  auto& ag = agents_[size_t(a)];
  return_offered_media(a, now);
  if (!ag.media.empty()) {  // chats or e-mails in hand: no new work, out when they end
    ag.after_call = AfterCall::sign_out;
    router_.set_ready(a, false, now, out_);
    if (ag.state != AgentState::not_ready || ag.reason != "signing_out")
      move(a, AgentState::not_ready, now, "signing_out");
    return;
  }
  ag.after_call = AfterCall::ready;
  router_.sign_in(a, false, now, out_);
  move(a, AgentState::signed_out, now, ag.after_reason);
}

// A sign-out that waited for media tasks: due when the last one ended and no call is on.
void AgentCore::leave_if_due(AgentId a, Millis now) {
  auto& ag = agents_[size_t(a)];
  if (ag.after_call == AfterCall::sign_out && ag.media.empty() && !in_call(ag.state)) leave(a, now);
}

Status AgentCore::answer(AgentId a, Millis now) {
  if (!valid(a)) return Status::unknown_agent;
  auto& ag = agents_[size_t(a)];
  if (ag.state != AgentState::reserved) return Status::not_ringing;
  TaskId t = ag.task;
  auto& task = tasks_[t];
  task.talking = true;
  task.agent = a;
  auto others = std::move(task.ringing);
  task.ringing.clear();
  ag.answered_at = now;
  move(a, AgentState::busy, now);
  // 同振: the other phones stop ringing; their capacity returns through the router.
  out_.clear();
  std::vector<std::pair<AgentId, AfterCall>> released;
  for (AgentId b : others)
    if (b != a) released.emplace_back(b, release_offer(b, now, "answered_elsewhere"));
  if (!task.direct) router_.take(t, a, now, out_);
  for (auto [b, next] : released) after_offer(b, next, now);
  apply(out_, now);
  return Status::ok;
}

AgentCore::AfterCall AgentCore::release_offer(AgentId a, Millis now, const char* reason) {
  auto& ag = agents_[size_t(a)];
  ag.task = 0;
  AfterCall next = ag.after_call;
  ag.after_call = AfterCall::ready;
  if (next == AfterCall::ready)
    move(a, AgentState::ready, now, reason);
  else
    router_.set_ready(a, false, now, out_);  // before his capacity returns: no offer for him
  return next;
}

void AgentCore::after_offer(AgentId a, AfterCall next, Millis now) {
  auto& ag = agents_[size_t(a)];
  if (next == AfterCall::not_ready) move(a, AgentState::not_ready, now, ag.after_reason);
  if (next == AfterCall::sign_out) leave(a, now);
}

void AgentCore::withdraw(TaskId t, Millis now) {
  auto it = tasks_.find(t);
  Task task = std::move(it->second);
  tasks_.erase(it);
  out_.clear();
  std::vector<std::pair<AgentId, AfterCall>> released;
  for (AgentId a : task.ringing) released.emplace_back(a, release_offer(a, now, ""));
  if (task.direct)
    for (auto [a, next] : released) router_.unclaim(a, Channel::voice, now, 0, out_);
  else
    router_.abandon(t, now, out_);
  for (auto [a, next] : released) after_offer(a, next, now);
  apply(out_, now);
}

Status AgentCore::decline(AgentId a, Millis now) {
  if (!valid(a)) return Status::unknown_agent;
  auto& ag = agents_[size_t(a)];
  if (ag.state != AgentState::reserved) return Status::not_ringing;
  unanswered(a, now, ag.after_call);
  return Status::ok;
}

void AgentCore::end_call(AgentId a, Millis now) {
  auto& ag = agents_[size_t(a)];
  tasks_[ag.task].talking = false;
  set_deadline(a, now + cfg_.wrap_up_ms);
  move(a, AgentState::wrap_up, now);
}

Status AgentCore::hang_up(AgentId a, Millis now) {
  if (!valid(a)) return Status::unknown_agent;
  if (agents_[size_t(a)].state != AgentState::busy) return Status::not_talking;
  end_call(a, now);
  return Status::ok;
}

Status AgentCore::end_wrap_up(AgentId a, Millis now) {
  if (!valid(a)) return Status::unknown_agent;
  if (agents_[size_t(a)].state != AgentState::wrap_up) return Status::not_in_wrap_up;
  finish_task(a, now);
  return Status::ok;
}

// The task is over for this agent (wrap-up ended, or the caller hung up while it rang): his
// capacity returns and he goes where he asked to go after the call.
void AgentCore::finish_task(AgentId a, Millis now) {
  auto& ag = agents_[size_t(a)];
  TaskId t = ag.task;
  bool answered = ag.state == AgentState::wrap_up || ag.state == AgentState::busy;
  ag.task = 0;
  AfterCall next = ag.after_call;
  ag.after_call = AfterCall::ready;
  out_.clear();
  if (next == AfterCall::ready)
    move(a, AgentState::ready, now);
  else
    router_.set_ready(a, false, now, out_);  // before his capacity returns: no offer for him
  bool direct = tasks_[t].direct;
  tasks_.erase(t);
  if (direct)
    router_.unclaim(a, Channel::voice, now, answered ? now - ag.answered_at : 0, out_);
  else if (answered)
    router_.finish(t, now, now - ag.answered_at, out_);
  else
    router_.abandon(t, now, out_);
  after_offer(a, next, now);
  apply(out_, now);
}

Status AgentCore::arrive(TaskId t, QueueId q, int tier, Millis now, EnqueueResult* why,
                         const TaskOptions& opt) {
  out_.clear();
  auto r = router_.enqueue(t, q, tier, now, out_, opt);
  if (why) *why = r;
  if (r != EnqueueResult::queued && r != EnqueueResult::offered) return Status::rejected_by_queue;
  tasks_[t] = Task{};
  tasks_[t].channel = router_.queue_spec(q).channel;
  apply(out_, now);
  return Status::ok;
}

Status AgentCore::caller_hung_up(TaskId t, Millis now) {
  auto it = tasks_.find(t);
  if (it == tasks_.end()) return Status::unknown_task;
  AgentId a = it->second.agent;
  if (a < 0 && it->second.ringing.empty()) {  // still waiting
    out_.clear();
    router_.abandon(t, now, out_);
    tasks_.erase(it);
    return Status::ok;
  }
  if (!is_phone(it->second.channel)) {  // the customer left a chat
    if (a >= 0) {                       // in wrap-up already if the agent closed it first
      if (it->second.talking) close(a, t, now);
      return Status::ok;
    }
    auto ringing = it->second.ringing;
    for (AgentId b : ringing) unoffer_media(b, t, "customer_left", now);
    out_.clear();
    router_.abandon(t, now, out_);
    tasks_.erase(t);
    for (AgentId b : ringing) leave_if_due(b, now);
    apply(out_, now);
    return Status::ok;
  }
  if (a < 0) {  // hung up while it rang
    withdraw(t, now);
    return Status::ok;
  }
  switch (agents_[size_t(a)].state) {
    case AgentState::busy:
      end_call(a, now);
      break;
    default:
      break;  // already in wrap-up: the agent had hung up first
  }
  return Status::ok;
}

// 未接听: a queued task goes back to the head of its queue, a direct one is reported; the agent
// is not ready ("no_answer") unless he had asked to sign out.
void AgentCore::unanswered(AgentId a, Millis now, AfterCall next) {
  auto& ag = agents_[size_t(a)];
  TaskId t = ag.task;
  ag.task = 0;
  ag.after_call = AfterCall::ready;
  out_.clear();
  auto& task = tasks_[t];
  if (task.direct) {
    tasks_.erase(t);
    missed_.push_back(t);
    router_.set_ready(a, false, now, out_);  // before the capacity returns: no offer for him
    router_.unclaim(a, Channel::voice, now, 0, out_);
  } else {
    std::erase(task.ringing, a);
    router_.reject(t, now, out_, a);
  }
  if (next == AfterCall::sign_out)
    leave(a, now);
  else
    move(a, AgentState::not_ready, now, "no_answer");
  apply(out_, now);
}

Status AgentCore::offer_to(TaskId t, AgentId a, Millis now) {
  if (!valid(a)) return Status::unknown_agent;
  auto& ag = agents_[size_t(a)];
  if (ag.state == AgentState::signed_out) return Status::not_signed_in;
  if (ag.state != AgentState::ready || !router_.available(a, Channel::voice))
    return Status::in_call;
  if (tasks_.count(t)) return Status::unknown_task;
  router_.claim(a, Channel::voice);
  tasks_[t] = Task{-1, false, true, {}};
  out_.clear();
  apply({Offer{t, a, -1}}, now);
  return Status::ok;
}

Status AgentCore::outbound(TaskId t, AgentId a, Millis now) {
  if (!valid(a)) return Status::unknown_agent;
  auto& ag = agents_[size_t(a)];
  if (ag.state == AgentState::signed_out) return Status::not_signed_in;
  if (in_call(ag.state) || !router_.claim(a, Channel::voice)) return Status::in_call;
  if (tasks_.count(t)) return Status::unknown_task;
  if (ag.state == AgentState::not_ready && ag.after_call == AfterCall::ready) {
    ag.after_call = AfterCall::not_ready;
    ag.after_reason = ag.reason;
  }
  tasks_[t] = Task{a, true, true, {}};
  ag.task = t;
  ag.answered_at = now;
  move(a, AgentState::busy, now, "outbound");
  return Status::ok;
}

AgentId AgentCore::add_agent(AgentSpec spec) {
  AgentId a = router_.add_agent(std::move(spec));
  agents_.resize(router_.agents());
  return a;
}

QueueId AgentCore::add_queue(QueueSpec spec, size_t max_length) {
  return router_.add_queue(std::move(spec), max_length);
}

void AgentCore::update_agent(AgentId a, AgentSpec spec, Millis now) {
  if (!valid(a)) return;
  out_.clear();
  router_.update_agent(a, std::move(spec), now, out_);
  apply(out_, now);
}

bool AgentCore::update_queue(QueueId q, QueueSpec spec, size_t max_length, Millis now) {
  if (q < 0 || size_t(q) >= router_.queues()) return false;
  out_.clear();
  bool ok = router_.update_queue(q, std::move(spec), max_length, now, out_);
  apply(out_, now);
  return ok;
}

void AgentCore::set_deadline(AgentId a, Millis at) {
  agents_[size_t(a)].deadline = at;
  deadlines_.push({at, a});
}

Millis AgentCore::next_due() const {
  return std::min({router_.next_due(), deadlines_.empty() ? INT64_MAX : deadlines_.top().first,
                   media_deadlines_.empty() ? INT64_MAX : media_deadlines_.top().first});
}

void AgentCore::tick(Millis now) {
  out_.clear();
  router_.tick(now, out_);
  apply(out_, now);
  for (TaskId t : router_.take_expired()) {
    tasks_.erase(t);
    expired_.push_back(t);
  }
  // Deadlines in time order; an entry whose agent has moved on since (answered, hung up, a
  // newer deadline) is stale and dropped, so a tick costs the deadlines due, not the agents.
  while (!deadlines_.empty() && deadlines_.top().first <= now) {
    auto [at, a] = deadlines_.top();
    deadlines_.pop();
    auto& ag = agents_[size_t(a)];
    if (ag.deadline != at) continue;
    if (ag.state == AgentState::reserved) {
      unanswered(a, now, ag.after_call);
    } else if (ag.state == AgentState::wrap_up) {
      finish_task(a, now);
    }
  }
  while (!media_deadlines_.empty() && media_deadlines_.top().first <= now) {
    auto [at, t] = media_deadlines_.top();
    media_deadlines_.pop();
    auto it = tasks_.find(t);
    if (it == tasks_.end() || it->second.deadline != at) continue;
    if (it->second.agent < 0) {
      for (AgentId a : std::vector<AgentId>(it->second.ringing))
        media_missed(a, t, "no_answer", now);
    } else if (!it->second.talking) {
      finish_media(t, now);
    }
  }
}

// ---- media tasks (chat, e-mail) ----

AgentCore::MediaState AgentCore::media_state(TaskId t) const {
  auto it = tasks_.find(t);
  if (it == tasks_.end() || is_phone(it->second.channel)) return MediaState::none;
  const Task& k = it->second;
  if (k.agent >= 0) return k.talking ? MediaState::active : MediaState::wrap_up;
  return k.ringing.empty() ? MediaState::waiting : MediaState::offered;
}

void AgentCore::set_media_deadline(Task& task, TaskId t, Millis at) {
  task.deadline = at;
  media_deadlines_.push({at, t});
}

void AgentCore::offer_media(AgentId a, TaskId t, Millis now) {
  auto& task = tasks_[t];
  task.ringing.push_back(a);
  agents_[size_t(a)].media.push_back(t);
  set_media_deadline(task, t, now + cfg_.accept_timeout_ms);
  media_events_.push_back({MediaEvent::Kind::offered, t, a, "", now});
}

void AgentCore::unoffer_media(AgentId a, TaskId t, const char* reason, Millis now) {
  std::erase(agents_[size_t(a)].media, t);
  if (auto it = tasks_.find(t); it != tasks_.end()) std::erase(it->second.ringing, a);
  media_events_.push_back({MediaEvent::Kind::withdrawn, t, a, reason, now});
}

// Not accepted (timeout or declined): the task goes back to the head of its queue (for a
// ring-all offer, once the last agent it reached has let it go) and the agent is not ready,
// now or, during a call, after it.
void AgentCore::media_missed(AgentId a, TaskId t, const char* reason, Millis now) {
  unoffer_media(a, t, reason, now);
  out_.clear();
  router_.reject(t, now, out_, a);  // he is no longer routable
  auto& ag = agents_[size_t(a)];
  if (ag.state == AgentState::ready) {
    move(a, AgentState::not_ready, now, "no_answer");
  } else if (in_call(ag.state) && ag.after_call == AfterCall::ready) {
    ag.after_call = AfterCall::not_ready;
    ag.after_reason = "no_answer";
  }
  leave_if_due(a, now);
  apply(out_, now);
}

void AgentCore::return_offered_media(AgentId a, Millis now) {
  for (TaskId t : std::vector<TaskId>(agents_[size_t(a)].media)) {
    auto it = tasks_.find(t);
    if (it == tasks_.end() || it->second.agent >= 0) continue;
    unoffer_media(a, t, "signed_out", now);
    router_.reject(t, now, out_, a);
  }
}

Status AgentCore::accept(AgentId a, TaskId t, Millis now) {
  if (!valid(a)) return Status::unknown_agent;
  auto it = tasks_.find(t);
  if (it == tasks_.end() || is_phone(it->second.channel)) return Status::unknown_task;
  auto& task = it->second;
  if (task.agent >= 0 ||
      std::find(task.ringing.begin(), task.ringing.end(), a) == task.ringing.end())
    return Status::not_ringing;
  auto others = std::move(task.ringing);
  task.ringing.clear();
  task.agent = a;
  task.talking = true;
  task.accepted_at = now;
  task.deadline = 0;
  for (AgentId b : others)
    if (b != a) {
      std::erase(agents_[size_t(b)].media, t);
      media_events_.push_back({MediaEvent::Kind::withdrawn, t, b, "answered_elsewhere", now});
    }
  out_.clear();
  router_.take(t, a, now, out_);
  for (AgentId b : others)
    if (b != a) leave_if_due(b, now);
  apply(out_, now);
  return Status::ok;
}

Status AgentCore::decline(AgentId a, TaskId t, Millis now) {
  if (!valid(a)) return Status::unknown_agent;
  auto it = tasks_.find(t);
  if (it == tasks_.end() || is_phone(it->second.channel)) return Status::unknown_task;
  auto& r = it->second.ringing;
  if (it->second.agent >= 0 || std::find(r.begin(), r.end(), a) == r.end())
    return Status::not_ringing;
  media_missed(a, t, "declined", now);
  return Status::ok;
}

Status AgentCore::close(AgentId a, TaskId t, Millis now) {
  if (!valid(a)) return Status::unknown_agent;
  auto it = tasks_.find(t);
  if (it == tasks_.end() || is_phone(it->second.channel)) return Status::unknown_task;
  if (it->second.agent != a || !it->second.talking) return Status::not_talking;
  it->second.talking = false;
  set_media_deadline(it->second, t, now + cfg_.wrap_up_ms);
  return Status::ok;
}

Status AgentCore::end_wrap_up(AgentId a, TaskId t, Millis now) {
  if (!valid(a)) return Status::unknown_agent;
  auto it = tasks_.find(t);
  if (it == tasks_.end() || is_phone(it->second.channel)) return Status::unknown_task;
  if (it->second.agent != a || it->second.talking) return Status::not_in_wrap_up;
  finish_media(t, now);
  return Status::ok;
}

void AgentCore::finish_media(TaskId t, Millis now) {
  auto it = tasks_.find(t);
  AgentId a = it->second.agent;
  Millis handled = now - it->second.accepted_at;
  tasks_.erase(it);
  std::erase(agents_[size_t(a)].media, t);
  media_events_.push_back({MediaEvent::Kind::finished, t, a, "", now});
  out_.clear();
  router_.finish(t, now, handled, out_);  // a leaving agent is not ready: nothing new for him
  leave_if_due(a, now);
  apply(out_, now);
}

}  // namespace kefu::acd
