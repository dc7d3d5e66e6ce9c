// Conversations (多渠道: web chat and e-mail) in the real-time core. The agent core routes them
// and keeps each agent's occupancy; this part gives them a CDR like a call's — opened, queue
// log, offer and handling segments, messages, wrap-up, a disposition — so that every report and
// KPI reads chats and e-mails from the same facts as calls.
#include <algorithm>

#include "cti/call_center.hpp"

namespace kefu::cti {

using acd::AgentState;
using acd::Channel;
using acd::MediaEvent;
using acd::Status;

namespace {

std::string status(Status s) {
  return s == Status::ok ? "" : acd::to_string(s);
}

}  // namespace

const char* to_string(Channel c) {
  switch (c) {
    case Channel::voice:
      return "voice";
    case Channel::callback:
      return "callback";
    case Channel::chat:
      return "chat";
    case Channel::email:
      return "email";
  }
  return "?";
}

bool parse_channel(const std::string& s, Channel& out) {
  for (int c = 0; c < acd::kChannels; ++c)
    if (s == to_string(Channel(c))) {
      out = Channel(c);
      return true;
    }
  return false;
}

CallCenter::Conversation* CallCenter::conv(CallId id) {
  auto it = convs_.find(id);
  return it == convs_.end() ? nullptr : it->second.get();
}

void CallCenter::conv_segment(Conversation& v, const char* kind, AgentId a, Millis from,
                              const std::string& result, Millis now) {
  Segment s;
  s.seq = v.seq++;
  s.kind = kind;
  s.queue = v.queue;
  s.agent = a;
  s.started = from;
  s.ended = now;
  s.result = result;
  facts_.push_back(SegmentClosed{v.id, std::move(s)});
}

CallCenter::Result CallCenter::open_conversation(const ConversationRequest& r, Millis now,
                                                 CallId& id) {
  if (acd::is_phone(r.channel)) return "bad_channel";
  auto q = queue_by_code(r.queue);
  if (!q || queue_defs_[size_t(*q)].retired) return "unknown_queue";
  if (queue_defs_[size_t(*q)].spec.channel != r.channel) return "wrong_channel";
  const int tier = std::clamp(r.tier, 0, int(cfg_.router.min_level.size()) - 1);
  id = ids_.take();
  facts_.push_back(CallOpened{id, "inbound", r.customer, r.queue, tier, now, to_string(r.channel),
                              r.customer_id});
  facts_.push_back(CallEvent{id, 0, "offered", -1, *q, r.subject, now});
  if (!r.body.empty()) facts_.push_back(Message{id, 1, "customer", -1, r.body, now});
  acd::EnqueueResult why{};
  if (core_->arrive(id, *q, tier, now, &why) != Status::ok) {
    // Refused demand is counted like a call's: a CDR with the reason, and the reason returned.
    std::string reason = why == acd::EnqueueResult::queue_full ? "queue_full" : "no_agents";
    facts_.push_back(QueueLog{id, *q, reason, -1, 0, now});
    facts_.push_back(CallClosed{id, reason, "", now});
    return reason;
  }
  admit(id, r, *q, tier, now, "", now).messages = r.body.empty() ? 0 : 1;
  drain(now);
  return "";
}

// The conversation is in its queue (the agent core has it): known from now on, and logged.
CallCenter::Conversation& CallCenter::admit(CallId id, const ConversationRequest& r, QueueId q,
                                            int tier, Millis started, const char* why, Millis now) {
  auto& v = *(convs_[id] = std::make_unique<Conversation>());
  v.id = id;
  v.channel = r.channel;
  v.queue = q;
  v.customer = r.customer;
  v.subject = r.subject;
  v.tier = tier;
  v.started = started;
  v.queued_at = now;
  facts_.push_back(QueueLog{id, q, "enter", -1, 0, now});
  facts_.push_back(CallEvent{id, 0, "queued", -1, q, why, now});
  return v;
}

void CallCenter::reopen_conversation(CallId id, const ConversationRequest& r, Millis started,
                                     int segments, int messages, Millis now) {
  auto q = queue_by_code(r.queue);
  const int tier = std::clamp(r.tier, 0, int(cfg_.router.min_level.size()) - 1);
  if (!q || queue_defs_[size_t(*q)].retired || queue_defs_[size_t(*q)].spec.channel != r.channel ||
      core_->arrive(id, *q, tier, now) != Status::ok) {
    facts_.push_back(CallClosed{id, "system_restart", "", now});
    return;
  }
  auto& v = admit(id, r, *q, tier, started, "system_restart", now);
  v.seq = segments;
  v.messages = messages;
  drain(now);
}

void CallCenter::on_media_event(const MediaEvent& e, Millis now) {
  Conversation* v = conv(e.task);
  if (!v) return;
  switch (e.kind) {
    case MediaEvent::Kind::offered:
      v->offers[e.agent] = now;
      facts_.push_back(CallEvent{v->id, 0, "alerting", e.agent, v->queue, "", now});
      break;
    case MediaEvent::Kind::withdrawn: {
      auto it = v->offers.find(e.agent);
      Millis since = it == v->offers.end() ? now : it->second;
      if (it != v->offers.end()) v->offers.erase(it);
      const std::string reason = e.reason;
      const bool back = reason == "no_answer" || reason == "declined" || reason == "signed_out";
      conv_segment(*v, "offer", e.agent, since, reason == "customer_left" ? "abandoned" : reason,
                   now);
      if (back) {
        facts_.push_back(
            QueueLog{v->id, v->queue, "ring_noanswer", e.agent, now - v->queued_at, now});
        facts_.push_back(CallEvent{v->id, 0, "diverted", e.agent, v->queue, reason, now});
      }
      break;
    }
    case MediaEvent::Kind::finished:  // its wrap-up is over: the handling segment, and it is gone
      conv_segment(*v, to_string(v->channel), e.agent, v->accepted_at, "completed", now);
      convs_.erase(v->id);
      break;
  }
}

void CallCenter::conv_expired(Conversation& v, Millis now) {
  facts_.push_back(QueueLog{v.id, v.queue, "timeout", -1, now - v.queued_at, now});
  conv_segment(v, "queue", -1, v.queued_at, "timeout", now);
  facts_.push_back(CallEvent{v.id, 0, "cleared", -1, v.queue, "timeout", now});
  facts_.push_back(CallClosed{v.id, "timeout", "", now});
  convs_.erase(v.id);
}

void CallCenter::end_conversation(Conversation& v, const std::string& by, Millis now) {
  v.ended = true;
  facts_.push_back(CallEvent{v.id, 0, "cleared", v.agent, v.queue, by, now});
  facts_.push_back(CallClosed{v.id, "completed", "", now});
}

CallCenter::Result CallCenter::accept(AgentId a, CallId id, Millis now) {
  Conversation* v = conv(id);
  if (!v) return "unknown_conversation";
  if (auto r = status(core_->accept(a, id, now)); !r.empty()) return r;
  facts_.push_back(QueueLog{id, v->queue, "connect", a, now - v->queued_at, now});
  conv_segment(*v, "queue", -1, v->queued_at, "answered", now);
  auto it = v->offers.find(a);
  conv_segment(*v, "offer", a, it == v->offers.end() ? now : it->second, "answered", now);
  if (it != v->offers.end()) v->offers.erase(it);
  v->agent = a;
  v->accepted_at = now;
  facts_.push_back(CallEvent{id, 0, "established", a, v->queue, "", now});
  drain(now);
  return "";
}

CallCenter::Result CallCenter::decline(AgentId a, CallId id, Millis now) {
  if (!conv(id)) return "unknown_conversation";
  auto r = status(core_->decline(a, id, now));
  drain(now);
  return r;
}

CallCenter::Result CallCenter::post_message(CallId id, AgentId a, const std::string& body,
                                            Millis now) {
  Conversation* v = conv(id);
  if (!v) return "unknown_conversation";
  if (a >= 0 && v->agent != a) return "not_talking";
  if (v->ended) return "conversation_ended";
  facts_.push_back(Message{id, ++v->messages, a < 0 ? "customer" : "agent", a, body, now});
  return "";
}

CallCenter::Result CallCenter::close_conversation(AgentId a, CallId id, Millis now) {
  Conversation* v = conv(id);
  if (!v) return "unknown_conversation";
  if (auto r = status(core_->close(a, id, now)); !r.empty()) return r;
  end_conversation(*v, "agent", now);
  drain(now);
  return "";
}

CallCenter::Result CallCenter::customer_leaves(CallId id, Millis now) {
  Conversation* v = conv(id);
  if (!v) return "unknown_conversation";
  if (v->ended) return "conversation_ended";
  if (v->agent >= 0) {  // the agent wraps it up
    core_->caller_hung_up(id, now);
    end_conversation(*v, "customer", now);
    drain(now);
    return "";
  }
  facts_.push_back(QueueLog{id, v->queue, "abandon", -1, now - v->queued_at, now});
  conv_segment(*v, "queue", -1, v->queued_at, "abandoned", now);
  core_->caller_hung_up(id, now);
  drain(now);  // the offers it had, while the conversation is still known
  facts_.push_back(CallEvent{id, 0, "cleared", -1, v->queue, "customer_left", now});
  facts_.push_back(CallClosed{id, "abandoned", "", now});
  convs_.erase(id);
  return "";
}

CallCenter::Result CallCenter::wrap_up_conversation(AgentId a, CallId id,
                                                    const std::string& call_type,
                                                    const std::string& summary, bool done,
                                                    Millis now) {
  Conversation* v = conv(id);
  if (!v) return "unknown_conversation";
  if (v->agent != a) return "not_talking";
  if (done && !v->ended) return "not_in_wrap_up";
  if (!call_type.empty() || !summary.empty())
    facts_.push_back(WrapUp{id, a, call_type, summary, now});
  if (done) core_->end_wrap_up(a, id, now);
  drain(now);
  return "";
}

CallCenter::ConversationView CallCenter::view(const Conversation& v) const {
  const char* state = "waiting";
  switch (core_->media_state(v.id)) {
    case acd::AgentCore::MediaState::offered:
      state = "offered";
      break;
    case acd::AgentCore::MediaState::active:
      state = "active";
      break;
    case acd::AgentCore::MediaState::wrap_up:
      state = "wrap_up";
      break;
    default:
      break;
  }
  ConversationView out{v.id,        to_string(v.channel),
                       v.customer,  v.subject,
                       state,       v.queue,
                       v.agent,     {},
                       v.tier,      v.started,
                       v.queued_at, v.accepted_at,
                       v.ended,     v.messages};
  for (auto& [a, since] : v.offers) out.offered.push_back(a);
  return out;
}

std::optional<CallCenter::ConversationView> CallCenter::conversation(CallId id) const {
  auto it = convs_.find(id);
  if (it == convs_.end()) return std::nullopt;
  return view(*it->second);
}

std::vector<CallCenter::ConversationView> CallCenter::conversations_of(AgentId a) const {
  std::vector<ConversationView> out;
  if (a < 0 || size_t(a) >= agent_defs_.size()) return out;
  for (acd::TaskId t : core_->media_of(a))
    if (auto it = convs_.find(t); it != convs_.end()) out.push_back(view(*it->second));
  return out;
}

}  // namespace kefu::cti
