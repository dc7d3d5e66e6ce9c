#include "cti/call_center.hpp"

#include <algorithm>
#include <string_view>

namespace kefu::cti {

using acd::AgentState;
using acd::Status;

const char* to_string(Party p) {
  switch (p) {
    case Party::customer:
      return "customer";
    case Party::agent:
      return "agent";
    case Party::consult:
      return "consult";
    case Party::supervisor:
      return "supervisor";
    case Party::external:
      return "external";
  }
  return "?";
}
const char* to_string(LegState s) {
  switch (s) {
    case LegState::dialing:
      return "dialing";
    case LegState::alerting:
      return "alerting";
    case LegState::up:
      return "up";
    case LegState::held:
      return "held";
    case LegState::gone:
      return "gone";
  }
  return "?";
}
const char* to_string(MixMode m) {
  switch (m) {
    case MixMode::talk:
      return "talk";
    case MixMode::listen:
      return "listen";
    case MixMode::whisper:
      return "whisper";
    case MixMode::muted:
      return "muted";
  }
  return "?";
}
// A supervisor's mode as users name it: talking with everyone is 强插, barge.
static const char* monitor_mode(MixMode m) {
  return m == MixMode::talk ? "barge" : to_string(m);
}
bool parse_mix_mode(const std::string& s, MixMode& out) {
  for (auto m : {MixMode::talk, MixMode::listen, MixMode::whisper, MixMode::muted})
    if (s == to_string(m)) return out = m, true;
  if (s == "barge") return out = MixMode::talk, true;
  return false;
}
const char* to_string(SwitchEvent::Kind k) {
  using K = SwitchEvent::Kind;
  switch (k) {
    case K::incoming:
      return "incoming";
    case K::alerting:
      return "alerting";
    case K::answered:
      return "answered";
    case K::hung_up:
      return "hung_up";
    case K::failed:
      return "failed";
    case K::digits:
      return "digits";
    case K::refer:
      return "refer";
    case K::media:
      return "media";
    case K::held:
      return "held";
    case K::resumed:
      return "resumed";
  }
  return "?";
}

struct CallCenter::Leg {
  LegId id;
  CallId call;
  Party party;
  AgentId agent = -1;
  int64_t staff = 0;  // a supervisor's leg
  std::string to;
  LegState state = LegState::dialing;
  MixMode mode = MixMode::talk;
  bool took_over = false, take_over_pending = false;
  acd::TaskId task = 0;
  Millis created = 0;
  int seg = -1;
};

struct CallCenter::Call {
  CallId id;
  bool inbound = true;
  std::string ani, dnis;
  int tier = 0;
  int64_t customer_id = 0;  // in the customer file (0 unknown)
  LegId customer = 0;
  QueueId queue = -1;          // the queue the call came through last
  acd::TaskId queue_task = 0;  // waiting in a queue, or offered and ringing
  Millis queued_at = 0;
  int queue_seg = -1;
  AgentId owner = -1;  // the agent handling the customer
  LegId consult = 0;   // 咨询: the party the owner is consulting, customer on hold
  acd::TaskId consult_task = 0;
  bool answered = false;  // an agent (or outside party) talked with the customer
  bool voicemail = false;
  Millis voicemail_until = 0;
  Millis announce_at = 0;    // the next 排队播报 while he waits in a queue (0: none due)
  Millis first_queued = -1;  // when the caller first joined a queue: his place across queues
  bool callback = false;     // a callback the customer asked for: the core dials him
  std::unique_ptr<ivr::Session> ivr;  // walking an IVR flow (菜单) while set and not over
  std::string ivr_code;               // the flow the call came through (for its survey)
  size_t ivr_reported = 0;            // path steps of this session already emitted as facts
  int ivr_seq = 0;                    // steps of the whole call (several sessions: the survey)
  int ivr_seg = -1;
  uint64_t ivr_gen = 0;     // invalidates a pending digit timeout
  AgentId ivr_return = -1;  // the agent who sent the caller to "verify and return"
  bool verified = false, surveyed = false;
  int overflow_hops = 0;
  std::vector<LegId> legs;
  std::vector<acd::TaskId> tasks;  // every task made for this call, forgotten when it clears
  std::map<int, Segment> open;
  int seq = 0;
  Millis started = 0;
  std::string recording;
};

namespace {
bool valid_number(const std::string& n) {
  if (n.size() < 3 || n.size() > 20) return false;
  return std::all_of(n.begin(), n.end(),
                     [](char ch) { return (ch >= '0' && ch <= '9') || ch == '+'; });
}
std::string map_status(Status s) {
  return s == Status::ok ? "" : acd::to_string(s);
}
}  // namespace

CallCenter::CallCenter(CenterConfig cfg, std::vector<QueueDef> queues, std::vector<AgentDef> agents,
                       Switch& sw, IdSource& ids)
    : cfg_(std::move(cfg)),
      queue_defs_(std::move(queues)),
      agent_defs_(std::move(agents)),
      sw_(sw),
      ids_(ids) {
  router_ = std::make_unique<acd::Router>(cfg_.router);
  for (auto& q : queue_defs_) {
    QueueId id = router_->add_queue(q.spec, q.max_length);
    queue_by_code_[q.code] = id;
    for (auto& n : q.access_numbers) queue_by_number_[n] = id;
  }
  for (auto& a : agent_defs_) agent_by_user_[a.username] = router_->add_agent(a.spec);
  core_ = std::make_unique<acd::AgentCore>(*router_, cfg_.core);
  agent_leg_.assign(agent_defs_.size(), 0);
  agent_call_.assign(agent_defs_.size(), 0);
  agent_since_.assign(agent_defs_.size(), 0);
}

CallCenter::~CallCenter() = default;

CallCenter::Reconfigured CallCenter::reconfigure(std::vector<QueueDef> queues,
                                                 std::vector<AgentDef> agents, Millis now) {
  Reconfigured r;
  std::vector<bool> seen(queue_defs_.size(), false);
  for (auto& d : queues) {
    auto it = std::find_if(queue_defs_.begin(), queue_defs_.end(),
                           [&](const QueueDef& x) { return x.code == d.code; });
    if (it == queue_defs_.end()) {
      core_->add_queue(d.spec, d.max_length);
      queue_defs_.push_back(std::move(d));
      seen.push_back(true);
      ++r.queues_added;
      continue;
    }
    auto q = QueueId(it - queue_defs_.begin());
    seen[size_t(q)] = true;
    if (*it == d) continue;  // a retired queue that comes back differs: it is restored
    // A channel change waits until the queue is empty; everything else applies now.
    if (!core_->update_queue(q, d.spec, d.max_length, now)) d.spec = it->spec;
    *it = std::move(d);
    ++r.queues_changed;
  }
  for (size_t q = 0; q < seen.size(); ++q)
    if (!seen[q] && !queue_defs_[q].retired) {
      queue_defs_[q].retired = true;  // serves who waits; no access number reaches it
      ++r.queues_retired;
    }
  queue_by_number_.clear();
  queue_by_code_.clear();
  for (size_t q = 0; q < queue_defs_.size(); ++q) {
    if (queue_defs_[q].retired) continue;
    queue_by_code_[queue_defs_[q].code] = QueueId(q);
    for (auto& n : queue_defs_[q].access_numbers) queue_by_number_[n] = QueueId(q);
  }

  std::vector<bool> kept(agent_defs_.size(), false);
  for (auto& d : agents) {
    auto it = std::find_if(agent_defs_.begin(), agent_defs_.end(),
                           [&](const AgentDef& x) { return x.staff_id == d.staff_id; });
    if (it == agent_defs_.end()) {
      core_->add_agent(d.spec);
      agent_defs_.push_back(std::move(d));
      agent_leg_.push_back(0);
      agent_call_.push_back(0);
      agent_since_.push_back(now);
      kept.push_back(true);
      ++r.agents_added;
      continue;
    }
    auto a = AgentId(it - agent_defs_.begin());
    kept[size_t(a)] = true;
    if (*it == d) continue;  // every field; a retired agent who comes back differs
    if (it->spec != d.spec) core_->update_agent(a, d.spec, now);
    *it = std::move(d);  // a new extension is used from his next call
    ++r.agents_changed;
  }
  for (size_t a = 0; a < kept.size(); ++a)
    if (!kept[a] && !agent_defs_[a].retired) {
      agent_defs_[a].retired = true;
      if (core_->state(AgentId(a)) != AgentState::signed_out)
        core_->sign_out(AgentId(a), now, "retired");
      ++r.agents_retired;
    }
  agent_by_user_.clear();
  for (size_t a = 0; a < agent_defs_.size(); ++a)
    if (!agent_defs_[a].retired) agent_by_user_[agent_defs_[a].username] = AgentId(a);
  drain(now);
  return r;
}

std::optional<AgentId> CallCenter::agent_by_username(const std::string& u) const {
  auto it = agent_by_user_.find(u);
  if (it == agent_by_user_.end()) return std::nullopt;
  return it->second;
}
std::optional<AgentId> CallCenter::agent_by_staff(int64_t staff_id) const {
  for (size_t i = 0; i < agent_defs_.size(); ++i)
    if (agent_defs_[i].staff_id == staff_id && !agent_defs_[i].retired) return AgentId(i);
  return std::nullopt;
}
std::optional<QueueId> CallCenter::queue_by_code(const std::string& code) const {
  auto it = queue_by_code_.find(code);
  if (it == queue_by_code_.end()) return std::nullopt;
  return it->second;
}

void CallCenter::remember_agent(const std::string& number, AgentId a) {
  constexpr size_t kCap = 500'000;  // numbers remembered; the oldest are forgotten first
  if (number.empty() || a < 0 || size_t(a) >= agent_defs_.size()) return;
  uint64_t seq = ++last_agent_seq_;
  last_agent_[number] = Served{a, seq};
  last_agent_order_.emplace_back(number, seq);
  while (last_agent_order_.size() > kCap) {
    auto& [n, s] = last_agent_order_.front();
    if (auto it = last_agent_.find(n); it != last_agent_.end() && it->second.seq == s)
      last_agent_.erase(it);
    last_agent_order_.pop_front();
  }
}

std::optional<AgentId> CallCenter::last_agent(const std::string& number) const {
  auto it = last_agent_.find(number);
  if (it == last_agent_.end()) return std::nullopt;
  return it->second.agent;
}

CallCenter::Leg* CallCenter::leg(LegId id) {
  auto it = legs_.find(id);
  return it == legs_.end() ? nullptr : it->second.get();
}

CallCenter::Call* CallCenter::call_of(AgentId a) {
  if (a < 0 || size_t(a) >= agent_leg_.size()) return nullptr;
  Leg* l = leg(agent_leg_[size_t(a)]);
  if (!l) return nullptr;
  auto it = calls_.find(l->call);
  return it == calls_.end() ? nullptr : it->second.get();
}

LegId CallCenter::new_leg(Call& c, Party p, AgentId a, const std::string& to, bool auto_answer,
                          Millis now) {
  LegId id = ids_.take();
  auto l = std::make_unique<Leg>();
  l->id = id;
  l->call = c.id;
  l->party = p;
  l->agent = a;
  l->to = to;
  l->created = now;
  legs_[id] = std::move(l);
  c.legs.push_back(id);
  // Every leg the core places must answer in time (inbound customer legs are not placed here).
  leg_deadlines_.push({now + cfg_.originate_timeout_ms, id});
  // Outside parties see the company: the number the customer called (inbound) or the caller id
  // the call was placed with (outbound, callback); our own phones see the customer.
  const std::string& company = c.inbound ? (valid_number(c.dnis) ? c.dnis : cfg_.caller_id) : c.ani;
  sw_.originate(id, to, p == Party::customer || p == Party::external ? company : c.ani,
                auto_answer);
  return id;
}

void CallCenter::emit_event(const Call& c, LegId l, const char* type, AgentId a,
                            const std::string& detail, Millis now) {
  facts_.push_back(CallEvent{c.id, l, type, a, c.queue, detail, now});
}

int CallCenter::open_segment(Call& c, const char* kind, QueueId q, AgentId a, Millis now,
                             const std::string& party, int64_t staff) {
  int seq = ++c.seq;
  c.open[seq] = Segment{seq, kind, q, a, staff, party, now, 0, ""};
  return seq;
}

void CallCenter::close_segment(Call& c, int seq, const std::string& result, Millis now) {
  auto it = c.open.find(seq);
  if (it == c.open.end()) return;
  it->second.ended = now;
  it->second.result = result;
  facts_.push_back(SegmentClosed{c.id, std::move(it->second)});
  c.open.erase(it);
}

void CallCenter::next_segment(Call& c, Leg& l, const std::string& result, Millis now) {
  close_segment(c, l.seg, result, now);
  if (l.party == Party::supervisor && !l.took_over)
    l.seg = open_segment(c, "monitor", -1, -1, now, monitor_mode(l.mode), l.staff);
  else if (l.party == Party::supervisor)  // 强制接管: from now on he is the one talking
    l.seg = open_segment(c, "talk", -1, -1, now, "take_over", l.staff);
  else if (l.agent >= 0)  // the customer came to him by transfer or conference, not by a queue
    l.seg = open_segment(c, "talk", -1, l.agent, now, result);
  else
    l.seg = open_segment(c, "external", -1, -1, now, l.to);
}

// ---- the switch's events ----

void CallCenter::on_switch(const SwitchEvent& ev, Millis now) {
  using K = SwitchEvent::Kind;
  if (ev.kind == K::incoming) {
    auto c = std::make_unique<Call>();
    c->id = ids_.take();
    c->ani = ev.from;
    c->dnis = ev.to;
    c->started = now;
    c->tier = std::clamp(ev.tier, 0, int(cfg_.router.min_level.size()) - 1);
    c->customer_id = ev.customer;
    c->customer = ev.leg;
    auto l = std::make_unique<Leg>();
    l->id = ev.leg;
    l->call = c->id;
    l->party = Party::customer;
    l->to = ev.from;
    l->state = LegState::alerting;
    l->created = now;
    legs_[ev.leg] = std::move(l);
    c->legs.push_back(ev.leg);
    Call& call = *c;
    calls_[c->id] = std::move(c);
    facts_.push_back(CallOpened{call.id, "inbound", call.ani, call.dnis, call.tier, now, "voice",
                                call.customer_id});
    emit_event(call, ev.leg, "offered", -1, call.dnis, now);
    // 黑名单: refused before anything answers, or taken to the special-handling queue.
    if (ev.blocked) {
      emit_event(call, ev.leg, "failed", -1, "blocked", now);
      clear(call, "blocked", now);
      return drain(now);
    }
    if (auto sq = ev.queue.empty() ? queue_by_code_.end() : queue_by_code_.find(ev.queue);
        sq != queue_by_code_.end()) {
      call.queue = sq->second;
      sw_.answer(ev.leg);
      return drain(now);
    }
    if (auto f = ivr_by_number_.find(ev.to); f != ivr_by_number_.end()) {
      call.ivr_code = ivrs_[f->second].code;
      sw_.answer(ev.leg);  // the flow starts when the leg is up
      return drain(now);
    }
    auto q = queue_by_number_.find(ev.to);
    if (q == queue_by_number_.end()) {
      emit_event(call, ev.leg, "failed", -1, "no_route", now);
      clear(call, "no_route", now);
    } else {
      call.queue = q->second;
      sw_.answer(ev.leg);
    }
    return drain(now);
  }
  if (ev.kind == K::media) {  // the leg is gone by now: its statistics go to the call's record
    if (ev.call) facts_.push_back(LegMedia{ev.call, ev.leg, ev.quality, now});
    return;
  }
  Leg* l = leg(ev.leg);
  if (!l) {  // a leg the core already gave up on (answered too late, or never ours)
    if (ev.kind == K::answered || ev.kind == K::alerting) sw_.hang_up(ev.leg, "too_late");
    return;
  }
  switch (ev.kind) {
    case K::alerting:
      if (l->state == LegState::dialing) {
        l->state = LegState::alerting;
        emit_event(*calls_.at(l->call), l->id, "alerting", l->agent, to_string(l->party), now);
      }
      break;
    case K::answered:
      if (l->state == LegState::dialing || l->state == LegState::alerting) on_answered(*l, now);
      break;
    case K::hung_up:
      on_leg_gone(*l, ev.cause.empty() ? "normal" : ev.cause, false, now);
      break;
    case K::failed:
      on_leg_gone(*l, ev.cause.empty() ? "failed" : ev.cause, true, now);
      break;
    case K::digits:
      on_digits(*l, ev.digits, now);
      break;
    case K::refer:
      on_refer(*l, ev.to, now);
      break;
    case K::held:
    case K::resumed:
      on_phone_hold(*l, ev.kind == K::held, now);
      break;
    case K::incoming:
    case K::media:
      break;
  }
  drain(now);
}

// A phone's own transfer button (SIP REFER): a blind transfer by the agent on that phone, to an
// agent's extension, a queue's or a menu's access number, or any other number. The phone hears
// whether it went through; if it did not, the call stays with him.
void CallCenter::on_refer(Leg& l, const std::string& to, Millis now) {
  LegId id = l.id;
  CallId call = l.call;
  AgentId agent = l.agent;
  Result r = "not_talking";
  if (l.party == Party::agent && l.agent >= 0) {
    Target t{Target::Kind::number, to};
    for (size_t i = 0; i < agent_defs_.size(); ++i)
      if (!to.empty() && agent_defs_[i].extension == to && !agent_defs_[i].retired)
        t = {Target::Kind::agent, agent_defs_[i].username};
    if (t.kind == Target::Kind::number) {
      if (auto q = queue_by_number_.find(to); q != queue_by_number_.end())
        t = {Target::Kind::queue, queue_defs_[size_t(q->second)].code};
      for (auto& d : ivrs_)
        for (auto& n : d.access_numbers)
          if (n == to) t = {Target::Kind::ivr, d.code};
    }
    r = transfer(l.agent, t, false, now);
  }
  // A refusal is in the call's record, as a failed transfer with its reason.
  if (!r.empty())
    if (auto it = calls_.find(call); it != calls_.end())
      emit_event(*it->second, id, "failed", agent, "transfer:" + r, now);
  sw_.refer_result(id, r.empty());
}

// A phone's own hold button. The agent who has the customer holds him as from the desk (music on
// hold, the same `held` event); retrieving works the same way. Anyone else's hold (the customer's
// phone, a consulted party) is only recorded: the call's state does not change under the agent.
void CallCenter::on_phone_hold(Leg& l, bool held, Millis now) {
  Call& c = *calls_.at(l.call);
  if (l.party == Party::agent && l.agent >= 0 && c.owner == l.agent &&
      (held ? hold(l.agent, now) : retrieve(l.agent, now)).empty())
    return;
  emit_event(c, l.id, held ? "phone_held" : "phone_resumed", l.agent, to_string(l.party), now);
}

void CallCenter::connect(Call& c, Leg& l) {
  LegId whisper_to = 0;
  if (l.party == Party::supervisor && l.mode == MixMode::whisper && c.owner >= 0)
    whisper_to = agent_leg_[size_t(c.owner)];
  sw_.join(c.id, l.id, l.mode, whisper_to);
  if (c.recording.empty() && l.party != Party::supervisor) {
    c.recording = "calls/" + std::to_string(c.id) + ".wav";
    sw_.record_start(c.id, c.recording);
  }
}

// The party a blind transfer or a queue was looking for answered: the customer joins the mix.
void CallCenter::take_off_hold(Call& c, Millis now) {
  Leg* cl = leg(c.customer);
  if (!cl || (cl->state != LegState::up && cl->state != LegState::held)) return;
  cl->state = LegState::up;
  connect(c, *cl);
}

void CallCenter::on_answered(Leg& l, Millis now) {
  Call& c = *calls_.at(l.call);
  l.state = LegState::up;
  switch (l.party) {
    case Party::customer:
      if (c.inbound) {
        if (!c.ivr_code.empty() && !c.ivr) {
          for (auto& d : ivrs_)
            if (d.code == c.ivr_code) return start_ivr(c, d, "", now);
          return clear(c, "no_route", now);
        }
        if (c.queue >= 0 && !c.queue_task) enqueue(c, c.queue, now, "inbound");
        return;
      }
      // An outbound call: the customer picked up; the agent is already on his phone.
      c.answered = true;
      if (c.owner >= 0) {
        remember_agent(c.dnis, c.owner);
        if (Leg* al = leg(agent_leg_[size_t(c.owner)])) {
          al->seg = open_segment(c, "talk", c.callback ? c.queue : -1, c.owner, now, c.dnis);
          connect(c, *al);
        }
      }
      connect(c, l);
      emit_event(c, l.id, "established", c.owner, "", now);
      return;
    case Party::agent:
    case Party::consult: {
      AgentId a = l.agent;
      if (a >= 0 && core_->state(a) == AgentState::busy && !c.inbound && c.customer == 0 &&
          l.party == Party::agent) {
        // Click-to-dial: the agent's phone is up, now ring the customer.
        c.customer = new_leg(c, Party::customer, -1, c.dnis, false, now);
        return;
      }
      if (a >= 0 && (core_->state(a) != AgentState::reserved || core_->task_of(a) != l.task)) {
        drop_leg(l, "too_late");
        return;
      }
      if (a >= 0) core_->answer(a, now);
      close_segment(c, l.seg, "answered", now);
      if (l.party == Party::agent) {
        if (c.queue_task == l.task) {
          c.queue_task = 0;
          if (c.queue_seg >= 0) {
            facts_.push_back(QueueLog{c.id, c.queue, "connect", a, now - c.queued_at, now});
            // The queue's hold time for announcements: a moving average of answered waits.
            Millis& hold = holdtime_[c.queue];
            hold = hold ? (3 * hold + (now - c.queued_at)) / 4
                        : std::max<Millis>(1, now - c.queued_at);
            close_segment(c, c.queue_seg, "answered", now);
            c.queue_seg = -1;
          }
        }
        c.owner = a;
        if (c.callback && !c.customer) {
          // 回呼: the agent is on the line; now ring the customer who asked for it. The talk
          // segment opens when he answers.
          connect(c, l);
          c.customer = new_leg(c, Party::customer, -1, c.dnis, false, now);
          emit_event(c, l.id, "established", a, "callback", now);
          return;
        }
        if (c.inbound) remember_agent(c.ani, a);
        c.answered = true;
        l.seg = open_segment(c, "talk", c.queue, a, now);
        connect(c, l);
        take_off_hold(c, now);
        emit_event(c, l.id, "established", a, "", now);
      } else {  // a consulted agent: talks with the owner while the customer waits on hold
        l.seg = open_segment(c, "consult", -1, a, now, l.to);
        connect(c, l);
        emit_event(c, l.id, "established", a, "consult", now);
      }
      return;
    }
    case Party::external:
      close_segment(c, l.seg, "answered", now);
      l.seg = open_segment(c, "external", -1, -1, now, l.to);
      connect(c, l);
      take_off_hold(c, now);
      c.answered = true;
      emit_event(c, l.id, "established", -1, l.to, now);
      return;
    case Party::supervisor:
      if (!l.take_over_pending)  // one taking over talks from the start: his segment is "talk"
        l.seg = open_segment(c, "monitor", -1, -1, now, monitor_mode(l.mode), l.staff);
      connect(c, l);
      // The supervisor's own staff id: from now on he serves this customer too (his file opens).
      facts_.push_back(
          CallEvent{c.id, l.id, "monitored", c.owner, c.queue, monitor_mode(l.mode), now, l.staff});
      if (l.take_over_pending && c.owner >= 0) {
        take_over(Supervisor{l.staff, "", l.to}, c.owner, now);
      } else if (l.take_over_pending) {  // the agent left while this phone rang: he takes the
        l.take_over_pending = false;     // customer the call was kept for
        l.took_over = true;
        next_segment(c, l, "taken_over", now);
        emit_event(c, l.id, "transferred", -1, "take_over", now);
      }
      return;
  }
}

void CallCenter::on_leg_gone(Leg& l, const std::string& cause, bool failed, Millis now) {
  Call& c = *calls_.at(l.call);
  bool was_up = l.state == LegState::up || l.state == LegState::held;
  l.state = LegState::gone;
  switch (l.party) {
    case Party::customer: {
      std::string disp = c.voicemail  ? "voicemail"
                         : c.answered ? "completed"
                         : c.inbound  ? "abandoned"
                         : failed     ? "failed:" + cause
                                      : "no_answer";
      return clear(c, disp, now);
    }
    case Party::agent:
    case Party::consult:
      if (l.agent >= 0 && core_->state(l.agent) == AgentState::reserved &&
          core_->task_of(l.agent) == l.task) {
        core_->decline(l.agent, now);  // the drain hangs nothing up twice: the leg is gone
        return;
      }
      if (l.party == Party::consult && c.consult == l.id) {
        close_segment(c, l.seg, was_up ? "completed" : cause, now);
        if (l.agent >= 0 && core_->state(l.agent) == AgentState::busy) core_->hang_up(l.agent, now);
        if (l.agent >= 0) agent_leg_[size_t(l.agent)] = 0;
        c.consult = 0;
        c.consult_task = 0;
        emit_event(c, l.id, was_up ? "cleared" : "failed", l.agent, "consult:" + cause, now);
        drop_leg(l, cause);
        return;
      }
      return agent_leaves(c, l, cause, now);
    case Party::external:
      close_segment(c, l.seg, was_up ? "completed" : cause, now);
      emit_event(c, l.id, was_up ? "cleared" : "failed", -1, l.to + ":" + cause, now);
      if (c.consult == l.id) {
        c.consult = 0;
        drop_leg(l, cause);
        return;
      }
      drop_leg(l, cause);
      if (!was_up && c.owner < 0 && !c.queue_task) {  // a blind transfer or fallback that failed
        if (c.queue >= 0 && c.overflow_hops++ < 3) {
          enqueue(c, c.queue, now, "transfer_failed");
          return;
        }
        return clear(c, "transfer_failed", now);
      }
      return settle(c, now);
    case Party::supervisor: {
      // He was (or was about to be) the customer's party: the call may now have nobody for him.
      bool owner = l.took_over || l.take_over_pending;
      close_segment(c, l.seg, cause, now);
      if (monitor_leg_.count(l.staff) && monitor_leg_[l.staff] == l.id) monitor_leg_.erase(l.staff);
      drop_leg(l, cause);
      if (owner) settle(c, now);
      return;
    }
  }
}

// An agent leaves the call (hung up, transferred it, was taken over): his leg ends, he goes to
// wrap-up, and the call continues with whoever is left.
void CallCenter::agent_leaves(Call& c, Leg& l, const std::string& result, Millis now) {
  AgentId a = l.agent;
  close_segment(c, l.seg, result, now);
  if (a >= 0 && core_->state(a) == AgentState::busy) core_->hang_up(a, now);
  if (a >= 0 && agent_leg_[size_t(a)] == l.id) agent_leg_[size_t(a)] = 0;
  bool was_owner = c.owner == a;
  if (was_owner) c.owner = -1;
  emit_event(c, l.id, "cleared", a, result, now);
  drop_leg(l, result);
  // The owner hung up during a consultation that was answered: the customer goes to the
  // consulted party, as on any PBX.
  if (was_owner && c.consult) {
    Leg* k = leg(c.consult);
    Leg* cl = leg(c.customer);
    if (k && k->state == LegState::up && cl) {
      k->party = k->agent >= 0 ? Party::agent : Party::external;
      next_segment(c, *k, "transferred", now);
      c.owner = k->agent;
      c.consult = 0;
      c.consult_task = 0;
      cl->state = LegState::up;
      connect(c, *cl);
      emit_event(c, k->id, "transferred", k->agent, "consult", now);
    }
  }
  settle(c, now);
}

bool CallCenter::talking_parties(const Call& c, LegId except) const {
  for (LegId id : c.legs) {
    if (id == except || id == c.customer) continue;
    auto it = legs_.find(id);
    if (it == legs_.end() || it->second->state == LegState::gone) continue;
    const Leg& l = *it->second;
    if (l.party == Party::supervisor && !l.took_over && !l.take_over_pending) continue;
    return true;  // an agent, a consulted or outside party, or a supervisor who took over
  }
  return false;
}

void CallCenter::settle(Call& c, Millis now) {
  Leg* cl = leg(c.customer);
  if (!cl || cl->state == LegState::gone) {
    return clear(c, c.answered ? "completed" : c.inbound ? "abandoned" : "no_answer", now);
  }
  if (c.queue_task || c.voicemail || (c.ivr && !c.ivr->over())) return;
  if (!talking_parties(c, 0)) {
    // 客户评价: the agents are gone, the customer is still there: the flow's survey, once.
    if (c.answered && c.inbound && !c.surveyed && !c.ivr_code.empty())
      for (auto& d : ivrs_)
        if (d.code == c.ivr_code && !d.flow->survey.empty()) {
          c.surveyed = true;
          return start_ivr(c, d, d.flow->survey, now);
        }
    return clear(c, c.answered ? "completed" : c.inbound ? "abandoned" : "no_answer", now);
  }
  if (c.owner < 0) {  // an agent still on the call (a conference) becomes its owner
    for (LegId id : c.legs)
      if (Leg* l = leg(id);
          l && l->party == Party::agent && l->state == LegState::up && l->agent >= 0) {
        c.owner = l->agent;
        break;
      }
  }
}

void CallCenter::drop_leg(Leg& l, const std::string& cause) {
  if (l.state != LegState::gone) {
    l.state = LegState::gone;
  }
  sw_.hang_up(l.id, cause);
  if (l.agent >= 0 && agent_leg_[size_t(l.agent)] == l.id) agent_leg_[size_t(l.agent)] = 0;
  if (l.party == Party::supervisor && monitor_leg_.count(l.staff) && monitor_leg_[l.staff] == l.id)
    monitor_leg_.erase(l.staff);
  auto it = calls_.find(l.call);
  if (it != calls_.end()) {
    auto& v = it->second->legs;
    v.erase(std::remove(v.begin(), v.end(), l.id), v.end());
  }
  legs_.erase(l.id);  // l is dangling from here
}

void CallCenter::end_task(acd::TaskId t, Millis now) {
  if (!t) return;
  core_->caller_hung_up(t, now);
  tasks_.erase(t);
}

void CallCenter::clear(Call& c, const std::string& disposition, Millis now) {
  if (c.queue_task) {
    if (c.queue_seg >= 0) {
      facts_.push_back(QueueLog{c.id, c.queue, "abandon", -1, now - c.queued_at, now});
      close_segment(c, c.queue_seg, "abandoned", now);
    }
    end_task(c.queue_task, now);
    c.queue_task = 0;
  }
  end_task(c.consult_task, now);
  c.consult_task = 0;
  for (LegId id : std::vector<LegId>(c.legs)) {
    Leg* l = leg(id);
    if (!l) continue;
    if (l->task) end_task(l->task, now);  // an agent talking goes to wrap-up, one ringing is freed
    close_segment(
        c, l->seg,
        l->state == LegState::up || l->state == LegState::held ? "completed" : "abandoned", now);
    drop_leg(*l, disposition);
  }
  for (auto& [seq, seg] : std::map<int, Segment>(c.open)) close_segment(c, seq, disposition, now);
  if (!c.recording.empty()) sw_.record_stop(c.id);
  emit_event(c, 0, "cleared", c.owner, disposition, now);
  facts_.push_back(CallClosed{c.id, disposition, c.recording, now});
  for (acd::TaskId t : c.tasks) tasks_.erase(t);
  calls_.erase(c.id);  // c is dangling from here
}

// ---- queues ----

bool CallCenter::enqueue(Call& c, QueueId q, Millis now, const char* why) {
  acd::TaskId t = ids_.take();
  tasks_[t] = Task{c.id, q, false};
  c.tasks.push_back(t);
  c.queue = q;
  c.queue_task = t;
  c.queued_at = now;
  c.queue_seg = open_segment(c, "queue", q, -1, now);
  facts_.push_back(QueueLog{c.id, q, "enter", -1, 0, now});
  emit_event(c, c.customer, "queued", -1, why, now);
  if (Leg* cl = leg(c.customer)) {
    sw_.leave(c.id, cl->id);
    sw_.play(cl->id, "queue_music");
  }
  const QueueDef& d = queue_defs_[size_t(q)];
  acd::TaskOptions opt;
  if (c.first_queued < 0) c.first_queued = now;
  // A caller who overflowed or asked to be called back keeps his place; a transfer starts anew.
  if (std::string_view(why) == "overflow" || std::string_view(why) == "callback")
    opt.arrived_at = c.first_queued;
  if (d.sticky_wait_ms >= 0)
    if (auto a = last_agent(c.inbound ? c.ani : c.dnis)) {
      opt.preferred = *a;
      opt.preferred_wait_ms = d.sticky_wait_ms;
    }
  acd::EnqueueResult r{};
  c.announce_at = 0;  // a queue of his before may have announced; this one decides now
  if (core_->arrive(t, q, c.tier, now, &r, opt) == Status::ok) {
    if (d.announce_ms > 0 && !c.callback) {  // the first a few seconds in, then periodically
      c.announce_at = now + std::min<Millis>(d.announce_ms, 5'000);
      call_deadlines_.push({c.announce_at, c.id});
    }
    return true;
  }
  tasks_.erase(t);
  c.queue_task = 0;
  std::string reason = r == acd::EnqueueResult::queue_full ? "queue_full" : "no_agents";
  facts_.push_back(QueueLog{c.id, q, reason, -1, 0, now});
  close_segment(c, c.queue_seg, reason, now);
  c.queue_seg = -1;
  return fallback(c, q, reason, now);
}

std::string queue_announcement(int64_t ahead, Millis hold_ms) {
  std::string s =
      ahead == 0 ? "您是下一位。" : "您前面还有" + std::to_string(ahead) + "位客户在等待。";
  if (hold_ms > 0) {
    int64_t minutes = (hold_ms + 59'999) / 60'000;
    s += minutes <= 1 ? "预计等待不到1分钟。" : "预计等待约" + std::to_string(minutes) + "分钟。";
  }
  return s + "请稍候。";
}

// 排队播报: his place and the expected wait, then the music again; the next one a period later.
// Not while an agent's phone rings for him: the call may be answered any moment.
void CallCenter::announce(Call& c, Millis now) {
  c.announce_at = 0;
  if (!c.queue_task || c.owner >= 0 || c.queue < 0 || size_t(c.queue) >= queue_defs_.size()) return;
  Leg* cl = leg(c.customer);
  if (!cl || cl->state != LegState::up) return;
  const bool ringing = std::any_of(c.legs.begin(), c.legs.end(), [&](LegId id) {
    const Leg* x = leg(id);
    return x && x->task == c.queue_task;
  });
  int64_t ahead = router_->ahead(c.queue_task);
  if (ahead >= 0 && !ringing) {
    auto hold = holdtime_.find(c.queue);
    sw_.play(cl->id, queue_announcement(ahead, hold == holdtime_.end() ? 0 : hold->second));
    sw_.play(cl->id, "queue_music");
  }
  if (Millis every = queue_defs_[size_t(c.queue)].announce_ms; every > 0) {
    c.announce_at = now + every;
    call_deadlines_.push({c.announce_at, c.id});
  }
}

bool CallCenter::fallback(Call& c, QueueId q, const std::string& why, Millis now) {
  const QueueDef& d = queue_defs_[size_t(q)];
  emit_event(c, c.customer, "diverted", -1, why + ":" + d.fallback, now);
  if (c.callback && d.fallback != "queue") {  // nobody to play to or forward: it ends here
    clear(c, why, now);
    return false;
  }
  if (d.fallback == "callback" && call_back(c, q, now)) return false;
  if (d.fallback == "queue") {
    auto next = queue_by_code_.find(d.fallback_target);
    if (next != queue_by_code_.end() && next->second != q && c.overflow_hops++ < 3)
      return enqueue(c, next->second, now, "overflow");
  } else if (d.fallback == "number" && valid_number(d.fallback_target)) {
    LegId id = new_leg(c, Party::external, -1, d.fallback_target, false, now);
    leg(id)->seg = open_segment(c, "ring", -1, -1, now, d.fallback_target);
    return true;
  } else if (d.fallback == "voicemail") {
    if (start_voicemail(c, q, now)) return true;
  }
  if (Leg* cl = leg(c.customer)) sw_.play(cl->id, "sorry_" + why);
  clear(c, why, now);
  return false;
}

// ---- consequences of the agent state machine ----

void CallCenter::on_offer(AgentId a, acd::TaskId t, Millis now) {
  auto it = tasks_.find(t);
  if (it == tasks_.end() ||
      !calls_.count(it->second.call)) {  // cannot happen; never leave him reserved
    core_->caller_hung_up(t, now);
    return;
  }
  Call& c = *calls_.at(it->second.call);
  agent_call_[size_t(a)] = c.id;
  LegId id = new_leg(c, it->second.consult ? Party::consult : Party::agent, a,
                     agent_defs_[size_t(a)].extension, false, now);
  Leg& l = *leg(id);
  l.task = t;
  l.seg = open_segment(c, "ring", it->second.queue, a, now);
  agent_leg_[size_t(a)] = id;
  if (it->second.consult) {
    c.consult = id;
    c.consult_task = t;
  }
}

// 客户留言: the caller's message is recorded until he hangs up or the limit; it becomes a task
// for the queue's agents through its stored record.
bool CallCenter::start_voicemail(Call& c, QueueId q, Millis now) {
  Leg* cl = leg(c.customer);
  if (!cl) return false;
  c.voicemail = true;
  c.voicemail_until = now + cfg_.voicemail_max_ms;
  call_deadlines_.push({c.voicemail_until, c.id});
  c.recording = "voicemail/" + std::to_string(c.id) + ".wav";
  sw_.play(cl->id, "voicemail_greeting");
  sw_.record_start(c.id, c.recording);
  open_segment(c, "voicemail", q, -1, now);
  return true;
}

void CallCenter::set_ivrs(std::vector<IvrDef> ivrs) {
  ivrs_ = std::move(ivrs);
  ivr_by_number_.clear();
  for (size_t i = 0; i < ivrs_.size(); ++i)
    for (auto& n : ivrs_[i].access_numbers) ivr_by_number_[n] = i;
}

void CallCenter::set_holidays(std::vector<int> yyyymmdd) {
  holidays_ = std::move(yyyymmdd);
  std::sort(holidays_.begin(), holidays_.end());
}

void CallCenter::set_campaign_codes(std::vector<CampaignCode> codes) {
  campaign_codes_.clear();
  for (auto& k : codes) campaign_codes_[k.code] = std::move(k);
}

int CallCenter::local_date(Millis now) const {
  const int64_t local_min = (now / 60'000) + cfg_.utc_offset_min;
  const int64_t day = local_min >= 0 ? local_min / 1440 : (local_min - 1439) / 1440;
  // Civil date from days since the epoch (Howard Hinnant's algorithm).
  int64_t z = day + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  int64_t dd = doy - (153 * mp + 2) / 5 + 1, mm = mp < 10 ? mp + 3 : mp - 9;
  int64_t yy = yoe + era * 400 + (mm <= 2);
  return int(yy * 10000 + mm * 100 + dd);
}

void CallCenter::start_ivr(Call& c, const IvrDef& d, const std::string& node, Millis now) {
  Leg* cl = leg(c.customer);
  if (!cl) return;
  ivr::Facts f;
  f.tier = c.tier;
  f.verified = c.verified;
  // Local calendar time of the conditions (hours, weekday, holiday).
  const int64_t local_min = (now / 60'000) + cfg_.utc_offset_min;
  const int64_t day = local_min >= 0 ? local_min / 1440 : (local_min - 1439) / 1440;
  f.minute_of_day = int(local_min - day * 1440);
  f.weekday = int(((day + 3) % 7 + 7) % 7) + 1;  // 1970-01-01 was a Thursday
  f.holiday = std::binary_search(holidays_.begin(), holidays_.end(), local_date(now));
  c.ivr = std::make_unique<ivr::Session>(d.flow, std::move(f));
  c.ivr_code = d.code;
  c.ivr_reported = 0;
  if (c.ivr_seg < 0) c.ivr_seg = open_segment(c, "ivr", -1, -1, now, d.code);
  sw_.leave(c.id, cl->id);
  emit_event(c, cl->id, "ivr", c.owner, node.empty() ? d.code : d.code + ":" + node, now);
  run_ivr(c, c.ivr->start(node), now);
}

void CallCenter::run_ivr(Call& c, std::vector<ivr::Action> actions, Millis now) {
  Leg* cl = leg(c.customer);
  const auto& path = c.ivr->path();
  for (; c.ivr_reported < path.size(); ++c.ivr_reported) {
    const auto& st = path[c.ivr_reported];
    facts_.push_back(IvrStep{c.id, ++c.ivr_seq, c.ivr_code, st.node, st.input, st.result, now});
  }
  if (c.ivr->facts().verified && !c.verified) {
    c.verified = true;
    emit_event(c, c.customer, "verified", -1, c.ivr_code, now);
  }
  using K = ivr::Action::Kind;
  for (auto& a : actions) {
    switch (a.kind) {
      case K::play:
        if (cl) sw_.play(cl->id, a.prompt);
        break;
      case K::collect:
        if (cl) sw_.collect(cl->id, a.max_digits, a.timeout_ms);
        ivr_deadlines_.push({now + a.timeout_ms, c.id, ++c.ivr_gen});
        break;
      case K::adapter:  // an adapter that does not answer in time counts as a failure
        if (a.target == "campaign") {  // 活动反馈码: the core's own table answers at once
          std::map<std::string, std::string> found;
          auto k = campaign_codes_.find(a.args["code"]);
          const int today = local_date(now);
          if (k != campaign_codes_.end() &&
              (!k->second.valid_from || today >= k->second.valid_from) &&
              (!k->second.valid_to || today <= k->second.valid_to))
            found = {{"number", k->second.reception_number}, {"campaign", k->second.name}};
          if (!found.empty())
            emit_event(c, c.customer, "campaign", -1, k->second.code + ":" + k->second.name, now);
          return run_ivr(c, c.ivr->adapter_result(!found.empty(), found), now);
        }
        adapter_requests_.push_back({c.id, a.target, a.args});
        ivr_deadlines_.push({now + cfg_.adapter_timeout_ms, c.id, ++c.ivr_gen});
        break;
      default: {  // an exit: the caller leaves the flow
        close_segment(c, c.ivr_seg, c.ivr->path().empty() ? "exit" : c.ivr->path().back().result,
                      now);
        c.ivr_seg = -1;
        if (c.ivr_return >= 0 || a.kind == K::back) {
          // Verify and return: back to the agent who is waiting for the customer.
          AgentId a2 = c.ivr_return;
          c.ivr_return = -1;
          Leg* al = a2 >= 0 ? leg(agent_leg_[size_t(a2)]) : nullptr;
          if (!al || al->call != c.id || !cl)
            return clear(c, c.answered ? "completed" : "ivr", now);
          cl->state = LegState::up;
          connect(c, *cl);
          emit_event(c, cl->id, "retrieved", a2, c.verified ? "verified" : "not_verified", now);
          return;
        }
        if (a.kind == K::queue) {
          auto q = queue_by_code(a.target);
          if (!q) return clear(c, "no_route", now);  // the flow names a queue that is gone
          enqueue(c, *q, now, "ivr");
          return;
        }
        if (a.kind == K::voicemail) {
          if (!start_voicemail(c, c.queue >= 0 ? c.queue : -1, now)) clear(c, "ivr", now);
          return;
        }
        // A number of this hotline (a campaign's reception number, say) is followed inside: its
        // menu or its queue; any other number is rung outside.
        if (a.kind == K::transfer) {
          if (auto f = ivr_by_number_.find(a.target); f != ivr_by_number_.end()) {
            start_ivr(c, ivrs_[f->second], "", now);
            return;
          }
          if (auto q = queue_by_number_.find(a.target); q != queue_by_number_.end()) {
            enqueue(c, q->second, now, "ivr");
            return;
          }
        }
        if (a.kind == K::transfer && valid_number(a.target)) {
          LegId id = new_leg(c, Party::external, -1, a.target, false, now);
          leg(id)->seg = open_segment(c, "ring", -1, -1, now, a.target);
          return;
        }
        return clear(c, c.answered ? "completed" : "ivr", now);  // hang-up: served by the IVR
      }
    }
  }
}

void CallCenter::on_adapter_result(CallId call, bool ok,
                                   const std::map<std::string, std::string>& values, Millis now) {
  auto it = calls_.find(call);
  if (it == calls_.end() || !it->second->ivr || !it->second->ivr->waiting_for_adapter()) return;
  ++it->second->ivr_gen;  // the adapter's deadline is void
  run_ivr(*it->second, it->second->ivr->adapter_result(ok, values), now);
  drain(now);
}

void CallCenter::on_digits(Leg& l, const std::string& digits, Millis now) {
  if (l.party != Party::customer) return;
  Call& c = *calls_.at(l.call);
  if (c.ivr && c.ivr->waiting_for_digits()) {
    ++c.ivr_gen;  // the pending timeout is void
    return run_ivr(c, c.ivr->digits(digits), now);
  }
  if (!c.inbound || !c.queue_task || c.queue_seg < 0 || c.queue < 0) return;  // not waiting
  const std::string& key = queue_defs_[size_t(c.queue)].callback_digit;
  if (key.empty() || digits.find(key) == std::string::npos) return;
  for (LegId id : c.legs)  // an agent's phone is already ringing for him: too late to ask
    if (Leg* x = leg(id); x && x->task == c.queue_task) return;
  if (!valid_number(c.ani)) {  // no number to call back (withheld): he keeps waiting
    sw_.play(l.id, "callback_unavailable");
    return;
  }
  QueueId q = c.queue;
  facts_.push_back(QueueLog{c.id, q, "callback", -1, now - c.queued_at, now});
  close_segment(c, c.queue_seg, "callback", now);
  c.queue_seg = -1;
  end_task(c.queue_task, now);
  c.queue_task = 0;
  call_back(c, q, now);
}

bool CallCenter::call_back(Call& c, QueueId q, Millis now) {
  if (!c.inbound || !valid_number(c.ani)) return false;
  auto cb = std::make_unique<Call>();
  cb->id = ids_.take();
  cb->inbound = false;
  cb->callback = true;
  cb->ani = valid_number(c.dnis) ? c.dnis : cfg_.caller_id;  // the number he called us on
  cb->dnis = c.ani;
  cb->tier = c.tier;
  cb->customer_id = c.customer_id;
  cb->started = now;
  cb->first_queued = c.first_queued >= 0 ? c.first_queued : now;
  call_deadlines_.push({now + cfg_.callback_expiry_ms, cb->id});
  Call& call = *cb;
  calls_[cb->id] = std::move(cb);
  facts_.push_back(CallOpened{call.id, "callback", call.ani, call.dnis, call.tier, now, "voice",
                              call.customer_id});
  emit_event(call, 0, "offered", -1, "callback_for:" + std::to_string(c.id), now);
  if (Leg* cl = leg(c.customer)) sw_.play(cl->id, "callback_confirmed");
  clear(c, "callback", now);
  // Callbacks wait where the queue says (a queue with a long maximum wait), else in q itself.
  const QueueDef& d = queue_defs_[size_t(q)];
  auto target = queue_by_code_.find(d.fallback == "callback" ? d.fallback_target : "");
  enqueue(call, target != queue_by_code_.end() ? target->second : q, now, "callback");
  return true;
}

void CallCenter::drain(Millis now) {
  for (int guard = 0; guard < 64; ++guard) {
    auto history = core_->take_history();
    auto expired = core_->take_expired();
    auto missed = core_->take_missed();
    auto media = core_->take_media_events();
    if (history.empty() && expired.empty() && missed.empty() && media.empty()) return;
    for (auto& e : media) on_media_event(e, now);
    for (auto& tr : history) {
      CallId call = agent_call_[size_t(tr.agent)];
      if (tr.to == AgentState::reserved)
        if (auto it = tasks_.find(tr.task); it != tasks_.end()) call = it->second.call;
      if (tr.to == AgentState::signed_out || tr.to == AgentState::ready ||
          tr.to == AgentState::not_ready)
        call = 0;
      agent_since_[size_t(tr.agent)] = tr.at;
      facts_.push_back(AgentChange{tr.agent, acd::to_string(tr.from), acd::to_string(tr.to),
                                   tr.reason, call, tr.at});
      if (tr.to == AgentState::reserved) on_offer(tr.agent, tr.task, now);
      if (tr.from == AgentState::reserved && tr.to != AgentState::busy) {
        // The offer ended unanswered (timeout, declined, signed out) or was withdrawn.
        if (Leg* l = leg(agent_leg_[size_t(tr.agent)]); l && l->state != LegState::up) {
          Call& c = *calls_.at(l->call);
          bool queued = c.queue_task == l->task && c.queue_seg >= 0;
          // 同振: another agent answered; otherwise nobody answered this phone.
          const bool elsewhere = tr.reason == "answered_elsewhere";
          const char* result = elsewhere ? "answered_elsewhere" : "no_answer";
          close_segment(c, l->seg, result, now);
          if (queued && !elsewhere)
            facts_.push_back(
                QueueLog{c.id, c.queue, "ring_noanswer", tr.agent, now - c.queued_at, now});
          emit_event(c, l->id, elsewhere ? "cleared" : "diverted", tr.agent, tr.reason, now);
          if (c.consult == l->id) c.consult = 0;
          drop_leg(*l, result);
        }
      }
    }
    for (acd::TaskId t : expired) {  // 最长等待: the caller leaves the queue for its fallback
      if (Conversation* v = conv(t)) {
        conv_expired(*v, now);
        continue;
      }
      auto it = tasks_.find(t);
      if (it == tasks_.end()) continue;
      Task task = it->second;
      tasks_.erase(it);
      auto cit = calls_.find(task.call);
      if (cit == calls_.end()) continue;
      Call& c = *cit->second;
      c.queue_task = 0;
      facts_.push_back(QueueLog{c.id, task.queue, "timeout", -1, now - c.queued_at, now});
      close_segment(c, c.queue_seg, "timeout", now);
      c.queue_seg = -1;
      fallback(c, task.queue, "timeout", now);
    }
    for (acd::TaskId t : missed) {  // a transfer or consultation to a named agent went unanswered
      auto it = tasks_.find(t);
      if (it == tasks_.end()) continue;
      Task task = it->second;
      tasks_.erase(it);
      auto cit = calls_.find(task.call);
      if (cit == calls_.end()) continue;
      Call& c = *cit->second;
      if (task.consult) {
        c.consult_task = 0;
        emit_event(c, 0, "failed", -1, "consult_no_answer", now);
        continue;
      }
      c.queue_task = 0;
      if (c.queue >= 0 && c.overflow_hops++ < 3)
        enqueue(c, c.queue, now, "transfer_no_answer");
      else
        clear(c, "transfer_failed", now);
    }
  }
}

void CallCenter::tick(Millis now) {
  core_->tick(now);
  // Deadlines in time order; an entry whose leg answered or is gone is stale and dropped.
  while (!leg_deadlines_.empty() && leg_deadlines_.top().first <= now) {
    LegId id = leg_deadlines_.top().second;
    leg_deadlines_.pop();
    Leg* l = leg(id);
    if (!l || l->state == LegState::up || l->state == LegState::held) continue;
    sw_.hang_up(id, "timeout");
    on_leg_gone(*l, "timeout", true, now);
  }
  while (!ivr_deadlines_.empty() && ivr_deadlines_.top().at <= now) {
    IvrWait w = ivr_deadlines_.top();
    ivr_deadlines_.pop();
    auto it = calls_.find(w.call);
    if (it == calls_.end() || !it->second->ivr || it->second->ivr_gen != w.gen)
      continue;  // answered by a key or the adapter, or the call moved on
    auto& s = *it->second->ivr;
    if (s.waiting_for_digits())
      run_ivr(*it->second, s.timeout(), now);
    else if (s.waiting_for_adapter())
      run_ivr(*it->second, s.adapter_result(false, {{"error", "timeout"}}), now);
  }
  while (!call_deadlines_.empty() && call_deadlines_.top().first <= now) {
    CallId id = call_deadlines_.top().second;
    call_deadlines_.pop();
    auto it = calls_.find(id);
    if (it == calls_.end()) continue;
    Call& c = *it->second;
    if (c.voicemail && now >= c.voicemail_until) {
      clear(c, "voicemail", now);
    } else if (c.announce_at && now >= c.announce_at && !c.callback) {
      announce(c, now);
    } else if (c.callback && c.owner < 0 && c.queue_task) {
      bool ringing = std::any_of(c.legs.begin(), c.legs.end(), [&](LegId l) {
        const Leg* x = leg(l);
        return x && x->task == c.queue_task;
      });
      if (ringing)  // an agent may still take it: look again after his ring timeout
        call_deadlines_.push({now + cfg_.core.ring_timeout_ms, id});
      else
        clear(c, "callback_expired", now);
    }
  }
  drain(now);
}

Millis CallCenter::next_due() const {
  Millis due = core_->next_due();
  if (!leg_deadlines_.empty()) due = std::min(due, leg_deadlines_.top().first);
  if (!call_deadlines_.empty()) due = std::min(due, call_deadlines_.top().first);
  if (!ivr_deadlines_.empty()) due = std::min(due, ivr_deadlines_.top().at);
  return due;
}

// ---- agent commands ----

CallCenter::Result CallCenter::sign_in(AgentId a, Millis now) {
  if (a >= 0 && size_t(a) < agent_defs_.size() && agent_defs_[size_t(a)].retired)
    return "agent_retired";
  auto r = map_status(core_->sign_in(a, now));
  drain(now);
  return r;
}
CallCenter::Result CallCenter::sign_out(AgentId a, const std::string& reason, Millis now) {
  auto r = map_status(core_->sign_out(a, now, reason));
  drain(now);
  return r;
}
CallCenter::Result CallCenter::ready(AgentId a, Millis now) {
  auto r = map_status(core_->ready(a, now));
  drain(now);
  return r;
}
CallCenter::Result CallCenter::not_ready(AgentId a, const std::string& reason, Millis now) {
  auto r = map_status(core_->not_ready(a, reason, now));
  drain(now);
  return r;
}
CallCenter::Result CallCenter::force_not_ready(AgentId a, const std::string& reason, Millis now) {
  return not_ready(a, reason, now);
}
CallCenter::Result CallCenter::force_sign_out(AgentId a, Millis now) {
  return sign_out(a, "forced_sign_out", now);
}

CallCenter::Result CallCenter::answer(AgentId a, Millis) {
  if (a < 0 || size_t(a) >= agent_defs_.size()) return "unknown_agent";
  if (core_->state(a) != AgentState::reserved) return "not_ringing";
  Leg* l = leg(agent_leg_[size_t(a)]);
  if (!l) return "not_ringing";
  sw_.answer(l->id);
  return "";
}

CallCenter::Result CallCenter::hang_up(AgentId a, Millis now) {
  if (a < 0 || size_t(a) >= agent_defs_.size()) return "unknown_agent";
  if (core_->state(a) == AgentState::reserved) {  // 拒接
    core_->decline(a, now);
    drain(now);
    return "";
  }
  Call* c = call_of(a);
  Leg* l = leg(agent_leg_[size_t(a)]);
  if (!c || !l || core_->state(a) != AgentState::busy) return "not_talking";
  agent_leaves(*c, *l, "agent_hung_up", now);
  drain(now);
  return "";
}

CallCenter::Result CallCenter::hold(AgentId a, Millis now) {
  Call* c = call_of(a);
  if (!c || c->owner != a) return "not_talking";
  if (c->ivr && !c->ivr->over()) return "in_ivr";  // the customer is keying in, not on hold
  Leg* cl = leg(c->customer);
  if (!cl || cl->state != LegState::up)
    return cl && cl->state == LegState::held ? "already_held" : "not_talking";
  cl->state = LegState::held;
  sw_.leave(c->id, cl->id);
  sw_.play(cl->id, "music_on_hold");
  emit_event(*c, cl->id, "held", a, "", now);
  return "";
}

CallCenter::Result CallCenter::retrieve(AgentId a, Millis now) {
  Call* c = call_of(a);
  if (!c || c->owner != a) return "not_talking";
  if (c->consult) return "in_consultation";
  if (c->ivr && !c->ivr->over()) return "in_ivr";
  Leg* cl = leg(c->customer);
  if (!cl || cl->state != LegState::held) return "not_held";
  cl->state = LegState::up;
  connect(*c, *cl);
  emit_event(*c, cl->id, "retrieved", a, "", now);
  return "";
}

CallCenter::Result CallCenter::mute(AgentId a, bool on, Millis now) {
  Call* c = call_of(a);
  Leg* l = c ? leg(agent_leg_[size_t(a)]) : nullptr;
  if (!l || l->state != LegState::up) return "not_talking";
  l->mode = on ? MixMode::muted : MixMode::talk;
  sw_.join(c->id, l->id, l->mode, 0);
  emit_event(*c, l->id, on ? "muted" : "unmuted", a, "", now);
  return "";
}

CallCenter::Result CallCenter::transfer(AgentId a, const Target& to, bool consult, Millis now) {
  Call* c = call_of(a);
  Leg* l = c ? leg(agent_leg_[size_t(a)]) : nullptr;
  if (!c || !l || c->owner != a || core_->state(a) != AgentState::busy || l->state != LegState::up)
    return "not_talking";
  if (c->consult) return "in_consultation";
  if (c->ivr && !c->ivr->over()) return "in_ivr";
  Leg* cl = leg(c->customer);
  if (!cl || (cl->state != LegState::up && cl->state != LegState::held)) return "not_talking";
  // Validate the target before anything changes.
  std::optional<AgentId> b;
  std::optional<QueueId> q;
  if (to.kind == Target::Kind::agent) {
    b = agent_by_username(to.value);
    if (!b) return "unknown_target";
    if (*b == a) return "same_agent";
    if (core_->state(*b) != AgentState::ready) return "target_not_ready";
  } else if (to.kind == Target::Kind::queue) {
    q = queue_by_code(to.value);
    if (!q) return "unknown_target";
  } else if (to.kind == Target::Kind::ivr) {
    size_t colon = to.value.find(':');
    std::string code = to.value.substr(0, colon);
    std::string node = colon == std::string::npos ? "" : to.value.substr(colon + 1);
    const IvrDef* flow = nullptr;
    for (auto& d : ivrs_)
      if (d.code == code) flow = &d;
    if (!flow || (!node.empty() && !flow->flow->nodes.count(node))) return "unknown_target";
    // To the IVR (转IVR): blind, the agent is done; consultative ("verify and return"), the
    // customer comes back to him when the flow ends, verified or not.
    CallId id = c->id;
    LegId agent_leg = l->id;
    emit_event(*c, cl->id, "transferred", a, "ivr:" + to.value, now);
    if (consult) c->ivr_return = a;
    start_ivr(*c, *flow, node, now);
    if (!consult && calls_.count(id))
      if (Leg* al = leg(agent_leg)) agent_leaves(*calls_.at(id), *al, "transferred", now);
    drain(now);
    return "";
  } else if (!valid_number(to.value)) {
    return "bad_number";
  }
  auto hold_customer = [&] {
    if (cl->state == LegState::up) {
      cl->state = LegState::held;
      sw_.leave(c->id, cl->id);
      sw_.play(cl->id, "music_on_hold");
      emit_event(*c, cl->id, "held", a, consult ? "consult" : "transfer", now);
    }
  };
  if (consult) {
    if (b) {
      acd::TaskId t = ids_.take();
      tasks_[t] = Task{c->id, -1, true};
      c->tasks.push_back(t);
      if (core_->offer_to(t, *b, now) != Status::ok) {
        tasks_.erase(t);
        return "target_not_ready";
      }
    } else if (q) {
      acd::TaskId t = ids_.take();
      tasks_[t] = Task{c->id, *q, true};
      c->tasks.push_back(t);
      acd::EnqueueResult r{};
      if (core_->arrive(t, *q, c->tier, now, &r) != Status::ok) {
        tasks_.erase(t);
        return r == acd::EnqueueResult::queue_full ? "queue_full" : "no_agents";
      }
      c->consult_task = t;
    } else {
      c->consult = new_leg(*c, Party::consult, -1, to.value, false, now);
      leg(c->consult)->seg = open_segment(*c, "ring", -1, -1, now, to.value);
    }
    hold_customer();
    drain(now);
    return "";
  }
  // Blind (盲转): the customer waits on music while the target is reached; the agent is free.
  if (b) {
    acd::TaskId t = ids_.take();
    tasks_[t] = Task{c->id, c->queue, false};
    c->tasks.push_back(t);
    if (core_->offer_to(t, *b, now) != Status::ok) {
      tasks_.erase(t);
      return "target_not_ready";
    }
    c->queue_task = t;
    hold_customer();
  } else if (q) {
    facts_.push_back(QueueLog{c->id, *q, "transfer", a, 0, now});
    emit_event(*c, l->id, "transferred", a, to.value, now);
    cl->state = LegState::up;
    Call& call = *c;
    LegId agent_leg = l->id;
    // The target queue may turn the caller away at once (its fallback clears the call, and the
    // agent with it); otherwise the agent leaves and the caller waits there.
    if (enqueue(call, *q, now, "transfer"))
      if (Leg* still = leg(agent_leg)) agent_leaves(call, *still, "transferred", now);
    drain(now);
    return "";
  } else {
    hold_customer();
    LegId id = new_leg(*c, Party::external, -1, to.value, false, now);
    leg(id)->seg = open_segment(*c, "ring", -1, -1, now, to.value);
  }
  emit_event(*c, l->id, "transferred", a, to.value, now);
  Call& call = *c;
  agent_leaves(call, *l, "transferred", now);
  drain(now);
  return "";
}

CallCenter::Result CallCenter::complete_transfer(AgentId a, Millis now) {
  Call* c = call_of(a);
  if (!c || c->owner != a) return "not_talking";
  Leg* k = leg(c->consult);
  if (!k) return "no_consultation";
  if (k->state != LegState::up) return "consultation_not_answered";
  Leg* l = leg(agent_leg_[size_t(a)]);
  if (!l) return "not_talking";
  agent_leaves(*c, *l, "transferred", now);  // hands the customer to the consulted party
  drain(now);
  return "";
}

CallCenter::Result CallCenter::cancel_consult(AgentId a, Millis now) {
  Call* c = call_of(a);
  if (!c || c->owner != a) return "not_talking";
  if (!c->consult && !c->consult_task) return "no_consultation";
  acd::TaskId t = c->consult_task;
  c->consult_task = 0;
  if (Leg* k = leg(c->consult)) {
    if (k->agent >= 0 && core_->state(k->agent) == AgentState::busy) core_->hang_up(k->agent, now);
    close_segment(*c, k->seg, "cancelled", now);
    emit_event(*c, k->id, "cleared", k->agent, "consult_cancelled", now);
    k->task = 0;
    drop_leg(*k, "cancelled");
  }
  c->consult = 0;
  end_task(t, now);  // a consulted agent still ringing is freed; one waiting in a queue leaves it
  if (Leg* cl = leg(c->customer); cl && cl->state == LegState::held) {
    cl->state = LegState::up;
    connect(*c, *cl);
    emit_event(*c, cl->id, "retrieved", a, "", now);
  }
  drain(now);
  return "";
}

CallCenter::Result CallCenter::conference(AgentId a, Millis now) {
  Call* c = call_of(a);
  if (!c || c->owner != a) return "not_talking";
  Leg* k = leg(c->consult);
  if (!k) return "no_consultation";
  if (k->state != LegState::up) return "consultation_not_answered";
  k->party = k->agent >= 0 ? Party::agent : Party::external;
  next_segment(*c, *k, "conferenced", now);
  c->consult = 0;
  c->consult_task = 0;
  if (Leg* cl = leg(c->customer); cl && cl->state == LegState::held) {
    cl->state = LegState::up;
    connect(*c, *cl);
  }
  emit_event(*c, k->id, "conferenced", a, k->to, now);
  return "";
}

CallCenter::Result CallCenter::send_digits(AgentId a, const std::string& keys, Millis now) {
  Call* c = call_of(a);
  if (!c || c->owner != a || core_->state(a) != AgentState::busy) return "not_talking";
  if (keys.empty() || keys.size() > 32 ||
      keys.find_first_not_of("0123456789*#ABCD") != std::string::npos)
    return "bad_digits";
  Leg* to = leg(c->consult);
  if (!to || to->state != LegState::up) to = leg(c->customer);
  if (!to || to->state != LegState::up) return "not_talking";  // held, or not answered yet
  sw_.send_digits(to->id, keys);
  emit_event(*c, to->id, "digits_sent", a, std::to_string(keys.size()), now);  // not the keys:
  return "";                                                                   // they may be a PIN
}

CallCenter::Result CallCenter::dial(AgentId a, const std::string& number, Millis now) {
  if (a < 0 || size_t(a) >= agent_defs_.size()) return "unknown_agent";
  if (!valid_number(number)) return "bad_number";
  auto c = std::make_unique<Call>();
  c->id = ids_.take();
  c->inbound = false;
  c->ani =
      agent_defs_[size_t(a)].caller_id.empty() ? cfg_.caller_id : agent_defs_[size_t(a)].caller_id;
  c->dnis = number;
  c->started = now;
  acd::TaskId t = ids_.take();
  tasks_[t] = Task{c->id, -1, false};
  c->tasks.push_back(t);
  auto st = core_->outbound(t, a, now);
  if (st != Status::ok) {
    tasks_.erase(t);
    return map_status(st);
  }
  Call& call = *c;
  calls_[c->id] = std::move(c);
  facts_.push_back(CallOpened{call.id, "outbound", call.ani, call.dnis, 0, now});
  emit_event(call, 0, "originated", a, number, now);
  call.owner = a;
  agent_call_[size_t(a)] = call.id;
  LegId id = new_leg(call, Party::agent, a, agent_defs_[size_t(a)].extension, true, now);
  leg(id)->task = t;
  agent_leg_[size_t(a)] = id;
  drain(now);
  return "";
}

CallCenter::Result CallCenter::wrap_up(AgentId a, const std::string& call_type,
                                       const std::string& summary, bool done, Millis now) {
  if (a < 0 || size_t(a) >= agent_defs_.size()) return "unknown_agent";
  auto st = core_->state(a);
  if (st != AgentState::wrap_up && st != AgentState::busy) return "not_in_wrap_up";
  if (!call_type.empty() || !summary.empty())
    facts_.push_back(WrapUp{agent_call_[size_t(a)], a, call_type, summary, now});
  if (done && st == AgentState::wrap_up) core_->end_wrap_up(a, now);
  drain(now);
  return "";
}

CallCenter::Result CallCenter::flag_help(AgentId a, const std::string& note, Millis now) {
  Call* c = call_of(a);
  if (!c) return "not_talking";
  facts_.push_back(Alert{a, c->id, note, now});
  return "";
}

// ---- supervisors ----

CallCenter::Result CallCenter::monitor(const Supervisor& s, AgentId target, MixMode mode,
                                       Millis now) {
  if (target < 0 || size_t(target) >= agent_defs_.size()) return "unknown_agent";
  Call* c = call_of(target);
  if (!c || c->owner != target || core_->state(target) != AgentState::busy) return "not_talking";
  if (s.extension.empty()) return "no_extension";
  if (auto it = monitor_leg_.find(s.staff_id); it != monitor_leg_.end()) {
    Leg* l = leg(it->second);
    if (l && l->call == c->id) {
      if (l->took_over) return "taken_over";
      bool changed = l->mode != mode;
      l->mode = mode;
      if (l->state == LegState::up) {
        if (changed) next_segment(*c, *l, "mode_changed", now);
        connect(*c, *l);
        facts_.push_back(CallEvent{c->id, l->id, "monitored", target, c->queue, monitor_mode(mode),
                                   now, l->staff});
      }
      return "";
    }
    if (l && (l->took_over || l->take_over_pending))
      return "taken_over";  // he holds another customer
    if (l) {
      Call& old = *calls_.at(l->call);
      close_segment(old, l->seg, "moved", now);
      drop_leg(*l, "moved");
    }
  }
  LegId id = new_leg(*c, Party::supervisor, -1, s.extension, true, now);
  Leg& l = *leg(id);
  l.staff = s.staff_id;
  l.mode = mode;
  monitor_leg_[s.staff_id] = id;
  return "";
}

CallCenter::Result CallCenter::take_over(const Supervisor& s, AgentId target, Millis now) {
  auto it = monitor_leg_.find(s.staff_id);
  Leg* l = it == monitor_leg_.end() ? nullptr : leg(it->second);
  Call* c = target >= 0 && size_t(target) < agent_defs_.size() ? call_of(target) : nullptr;
  // Only the agent who has the customer can be replaced (not one ringing for a consultation).
  if (c && (c->owner != target || core_->state(target) != AgentState::busy)) return "not_talking";
  if (!l || !c || l->call != c->id) {
    // Not yet on this call: ring the supervisor's phone first; the takeover follows the answer.
    auto r = monitor(s, target, MixMode::talk, now);
    if (!r.empty()) return r;
    leg(monitor_leg_[s.staff_id])->take_over_pending = true;
    return "";
  }
  if (l->state != LegState::up) {
    l->take_over_pending = true;
    l->mode = MixMode::talk;
    return "";
  }
  // 强制接管: the supervisor talks to the customer, the agent leaves for wrap-up.
  l->take_over_pending = false;
  l->took_over = true;
  l->mode = MixMode::talk;
  next_segment(*c, *l, "taken_over", now);
  connect(*c, *l);
  Leg* al = leg(agent_leg_[size_t(target)]);
  emit_event(*c, l->id, "transferred", target, "take_over", now);
  if (al) agent_leaves(*c, *al, "taken_over", now);
  drain(now);
  return "";
}

CallCenter::Result CallCenter::stop_monitor(int64_t supervisor, Millis now) {
  auto it = monitor_leg_.find(supervisor);
  if (it == monitor_leg_.end()) return "not_monitoring";
  Leg* l = leg(it->second);
  if (!l) {
    monitor_leg_.erase(it);
    return "not_monitoring";
  }
  on_leg_gone(*l, "supervisor_left", false, now);
  drain(now);
  return "";
}

// ---- views ----

CallCenter::AgentView CallCenter::agent(AgentId a) const {
  AgentView v{core_->state(a), core_->reason(a),           agent_since_[size_t(a)], 0, false,
              false,           core_->pending_not_ready(a)};
  auto it = legs_.find(agent_leg_[size_t(a)]);
  if (it != legs_.end()) {
    v.call = it->second->call;
    v.muted = it->second->mode == MixMode::muted;
    auto c = calls_.find(v.call);
    if (c != calls_.end()) {
      auto cl = legs_.find(c->second->customer);
      v.held = cl != legs_.end() && cl->second->state == LegState::held;
    }
  } else if (v.state == AgentState::wrap_up) {
    v.call = agent_call_[size_t(a)];
  }
  return v;
}

std::optional<CallCenter::CallView> CallCenter::call(CallId id) const {
  auto it = calls_.find(id);
  if (it == calls_.end()) return std::nullopt;
  const Call& c = *it->second;
  CallView v{c.id,      c.inbound ? "inbound" : c.callback ? "callback" : "outbound",
             c.ani,     c.dnis,
             "",        c.queue,
             c.owner,   c.tier,
             c.started, c.queued_at,
             {},        c.verified,
             c.ivr_code};
  bool held = false, ringing = false;
  for (LegId id2 : c.legs) {
    auto l = legs_.find(id2);
    if (l == legs_.end()) continue;
    const Leg& x = *l->second;
    v.legs.emplace_back(
        x.id, std::string(to_string(x.party)) + ":" + to_string(x.state) + ":" + to_string(x.mode));
    if (x.id == c.customer && x.state == LegState::held) held = true;
    if (x.party == Party::agent && x.state != LegState::up) ringing = true;
  }
  v.phase = c.ivr && !c.ivr->over()       ? "ivr"
            : c.voicemail                 ? "voicemail"
            : c.consult || c.consult_task ? "consult"
            : held                        ? "held"
            : c.queue_task && ringing     ? "ringing"
            : c.queue_task                ? "queued"
            : !c.inbound && !c.answered   ? "dialing"
            : c.answered || c.owner >= 0  ? "talking"
                                          : "connecting";
  return v;
}

std::vector<CallCenter::CallView> CallCenter::calls() const {
  std::vector<CallView> out;
  for (auto& [id, c] : calls_) out.push_back(*call(id));
  return out;
}

}  // namespace kefu::cti
