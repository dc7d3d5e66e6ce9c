#pragma once
// The real-time core (SPEC M2, M3): calls, legs, agents and supervisors on top of the routing
// engine, driving a Switch. Single-threaded and clock-free like the engine: commands, switch
// events and tick() each take the time, and every consequence is a Fact in take_facts().
//
// Nothing can stay stuck: a leg that never answers is ended by the core's own deadline; a
// customer who hangs up at any step clears the call and frees every agent on it; an agent who
// leaves hands the customer to whoever is left or ends the call; an answer that comes after
// the core gave up is hung up; the agent state machine below has its own guarantees.
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <unordered_map>

#include "acd/agent_core.hpp"
#include "cti/switch.hpp"
#include "ivr/session.hpp"

namespace kefu::cti {

// A request of the IVR to an integration adapter (identity check, balance, ...), answered by
// on_adapter_result(); whoever owns the core runs it off the core's thread.
struct AdapterRequest {
  CallId call;
  std::string adapter;
  std::map<std::string, std::string> args;
};

struct CenterConfig {
  acd::RouterConfig router;
  acd::CoreConfig core;
  std::string caller_id = "95500";       // shown to customers on outbound calls (per access site)
  Millis originate_timeout_ms = 40'000;  // a leg that has not answered by then is given up
  Millis voicemail_max_ms = 120'000;
  Millis callback_expiry_ms = 4 * 3'600'000;  // a callback nobody took by then is dropped
  int utc_offset_min = 480;                   // local time of IVR conditions (China: UTC+8)
  Millis adapter_timeout_ms = 10'000;         // an IVR adapter silent this long has failed
};

// Where a transfer or consultation goes.
struct Target {
  enum class Kind : uint8_t { agent, queue, number, ivr } kind;
  std::string value;  // agent username, queue code, number, IVR flow code[:node]
};

struct Supervisor {
  int64_t staff_id = 0;
  std::string name, extension;
};

// 排队播报 text: "您前面还有N位客户在等待。预计等待约M分钟。请稍候。" (hold_ms 0: no estimate yet).
std::string queue_announcement(int64_t ahead, Millis hold_ms);

class CallCenter {
 public:
  CallCenter(CenterConfig cfg, std::vector<QueueDef> queues, std::vector<AgentDef> agents,
             Switch& sw, IdSource& ids);
  ~CallCenter();

  // Every command returns "" when done, else a stable error code and changes nothing.
  using Result = std::string;

  // Agent commands (M2 坐席功能).
  Result sign_in(AgentId a, Millis now);
  Result sign_out(AgentId a, const std::string& reason, Millis now);
  Result ready(AgentId a, Millis now);
  Result not_ready(AgentId a, const std::string& reason, Millis now);
  Result answer(AgentId a, Millis now);
  Result hang_up(AgentId a, Millis now);
  Result hold(AgentId a, Millis now);
  Result retrieve(AgentId a, Millis now);
  Result mute(AgentId a, bool on, Millis now);
  Result transfer(AgentId a, const Target& to, bool consult, Millis now);
  Result complete_transfer(AgentId a, Millis now);
  Result cancel_consult(AgentId a, Millis now);
  Result conference(AgentId a, Millis now);
  // 二次拨号: keys to the party the agent is talking with (the consulted one during a
  // consultation), as a phone's keypad would send them.
  Result send_digits(AgentId a, const std::string& keys, Millis now);
  Result dial(AgentId a, const std::string& number, Millis now);
  Result wrap_up(AgentId a, const std::string& call_type, const std::string& summary, bool done,
                 Millis now);
  Result flag_help(AgentId a, const std::string& note, Millis now);

  // Conversations (多渠道: web chat and e-mail), opened by the channel gateway for a customer and
  // routed like calls to agents with capacity on that channel. The id is the conversation's
  // CDR id. The agent accepts (or declines) an offer, exchanges messages, closes it and wraps
  // it up; the customer may leave at any moment.
  struct ConversationRequest {
    acd::Channel channel = acd::Channel::chat;
    std::string queue;     // queue code: its channel must be the request's
    std::string customer;  // address: phone number, e-mail address or visitor id
    std::string subject, body;
    int tier = 0;
    int64_t customer_id = 0;  // in the customer file, when the gateway's address is known
  };
  Result open_conversation(const ConversationRequest& r, Millis now, CallId& id);
  Result accept(AgentId a, CallId id, Millis now);
  Result decline(AgentId a, CallId id, Millis now);
  // a = -1: the customer writes; else the agent holding it.
  Result post_message(CallId id, AgentId a, const std::string& body, Millis now);
  Result close_conversation(AgentId a, CallId id, Millis now);
  Result customer_leaves(CallId id, Millis now);
  Result wrap_up_conversation(AgentId a, CallId id, const std::string& call_type,
                              const std::string& summary, bool done, Millis now);
  struct ConversationView {
    CallId id;
    std::string channel, customer, subject;
    std::string state;  // waiting, offered, active, wrap_up
    QueueId queue;
    AgentId agent;                 // who accepted it, -1 before
    std::vector<AgentId> offered;  // offered to and not yet accepted
    int tier;
    Millis started, queued_at, accepted_at;
    bool ended;  // closed by the agent or left by the customer
    int messages;
  };
  // After a restart: an e-mail nobody finished goes back to its queue with its id and history
  // (`segments` and `messages` already stored). Closed "system_restart" if that cannot be.
  void reopen_conversation(CallId id, const ConversationRequest& r, Millis started, int segments,
                           int messages, Millis now);
  std::optional<ConversationView> conversation(CallId id) const;
  std::vector<ConversationView> conversations_of(AgentId a) const;
  // How many he holds or is offered (for every agent of every wallboard picture: no views built).
  size_t conversation_count(AgentId a) const { return core_->media_of(a).size(); }
  size_t live_conversations() const { return convs_.size(); }

  // Supervisor commands (M3 班长监控): listen, whisper, barge (talk), take over.
  Result monitor(const Supervisor& s, AgentId target, MixMode mode, Millis now);
  Result take_over(const Supervisor& s, AgentId target, Millis now);
  Result stop_monitor(int64_t supervisor, Millis now);
  Result force_not_ready(AgentId a, const std::string& reason, Millis now);
  Result force_sign_out(AgentId a, Millis now);

  // Edited queues and agent profiles, applied without dropping anything in progress. Matched by
  // queue code and staff id: changed ones are updated in place, new ones added, missing ones
  // retired (a retired queue takes no new calls but serves those waiting in it; a retired agent
  // is signed out, after his call if he is on one). Ids of existing queues and agents stay.
  struct Reconfigured {
    int queues_added = 0, queues_changed = 0, queues_retired = 0;
    int agents_added = 0, agents_changed = 0, agents_retired = 0;
  };
  Reconfigured reconfigure(std::vector<QueueDef> queues, std::vector<AgentDef> agents, Millis now);

  // IVR flows and their access numbers (an access number of a flow wins over a queue's), and the
  // holiday calendar (local dates, yyyymmdd) their conditions read. Replaced live; callers in a
  // flow finish the version they started.
  void set_ivrs(std::vector<IvrDef> ivrs);
  void set_holidays(std::vector<int> yyyymmdd);
  void set_campaign_codes(std::vector<CampaignCode> codes);
  const std::vector<IvrDef>& ivrs() const { return ivrs_; }
  std::vector<AdapterRequest> take_adapter_requests() { return std::move(adapter_requests_); }
  void on_adapter_result(CallId call, bool ok, const std::map<std::string, std::string>& values,
                         Millis now);

  void on_switch(const SwitchEvent& ev, Millis now);
  void tick(Millis now);
  // The earliest time tick() has work (INT64_MAX: none): lets a simulation jump ahead.
  Millis next_due() const;
  std::vector<Fact> take_facts() { return std::move(facts_); }

  // Read-only views for snapshots and tests.
  struct AgentView {
    acd::AgentState state;
    std::string reason;
    Millis since;
    CallId call;
    bool held, muted, pending_not_ready;
  };
  AgentView agent(AgentId a) const;
  struct CallView {
    CallId id;
    std::string direction, ani, dnis,
        phase;  // queued, ringing, talking, held, consult, voicemail, ivr
    QueueId queue;
    AgentId owner;
    int tier;
    Millis started, queued_at;
    std::vector<std::pair<LegId, std::string>> legs;  // id, "party:state:mode"
    bool verified = false;  // the caller passed the IVR identity check on this call
    std::string ivr;        // the flow he is in or came through
  };
  std::vector<CallView> calls() const;
  std::optional<CallView> call(CallId id) const;
  size_t live_calls() const { return calls_.size(); }
  size_t live_legs() const { return legs_.size(); }
  const std::vector<AgentDef>& agent_defs() const { return agent_defs_; }
  const std::vector<QueueDef>& queue_defs() const { return queue_defs_; }
  std::optional<AgentId> agent_by_username(const std::string& u) const;
  std::optional<AgentId> agent_by_staff(int64_t staff_id) const;
  std::optional<QueueId> queue_by_code(const std::string& code) const;
  // Sticky routing: who last talked with this number (seeded from the store at start; the core
  // keeps it current as calls connect).
  void remember_agent(const std::string& number, AgentId a);
  std::optional<AgentId> last_agent(const std::string& number) const;
  size_t waiting(QueueId q) const { return router_->waiting(q); }
  const std::vector<QueueId>& queues_of(AgentId a) const { return router_->queues_of(a); }
  LegId agent_leg(AgentId a) const {
    return a >= 0 && size_t(a) < agent_leg_.size() ? agent_leg_[size_t(a)] : 0;
  }

 private:
  struct Leg;
  struct Call;
  struct Task {
    CallId call;
    QueueId queue;
    bool consult;
  };

  Call* call_of(AgentId a);
  Leg* leg(LegId id);
  LegId new_leg(Call& c, Party p, AgentId a, const std::string& to, bool auto_answer, Millis now);
  void emit_event(const Call& c, LegId leg, const char* type, AgentId a, const std::string& detail,
                  Millis now);
  int open_segment(Call& c, const char* kind, QueueId q, AgentId a, Millis now,
                   const std::string& party = {}, int64_t staff = 0);
  void close_segment(Call& c, int seq, const std::string& result, Millis now);
  // The leg goes on in another role (a consulted agent who now has the customer, a supervisor
  // who changed mode or took over): its segment ends with `result`, the next one begins.
  void next_segment(Call& c, Leg& l, const std::string& result, Millis now);
  void on_phone_hold(Leg& l, bool held, Millis now);
  // Both return false when the call was cleared (c is gone).
  bool enqueue(Call& c, QueueId q, Millis now, const char* why);
  bool fallback(Call& c, QueueId q, const std::string& why, Millis now);
  void drain(Millis now);  // consequences of the agent core: offers, unreserved agents, expiries
  void on_offer(AgentId a, acd::TaskId t, Millis now);
  void on_answered(Leg& l, Millis now);
  void on_digits(Leg& l, const std::string& digits, Millis now);
  // IVR: start a flow for the customer (at a node, or its start), run what it asks, leave it.
  void start_ivr(Call& c, const IvrDef& d, const std::string& node, Millis now);
  void run_ivr(Call& c, std::vector<ivr::Action> actions, Millis now);
  bool start_voicemail(Call& c, QueueId q, Millis now);
  void announce(Call& c, Millis now);
  void on_refer(Leg& l, const std::string& to, Millis now);
  // 回呼: the caller leaves (his call ends "callback") and a callback call takes his place in
  // queue q; when an agent answers it, the core dials the caller. False if his number is unusable.
  bool call_back(Call& c, QueueId q, Millis now);
  void on_leg_gone(Leg& l, const std::string& cause, bool failed, Millis now);
  void agent_leaves(Call& c, Leg& l, const std::string& result, Millis now);
  void settle(Call& c, Millis now);  // after a party left: continue with who is left, or clear
  void clear(Call& c, const std::string& disposition, Millis now);
  void drop_leg(Leg& l, const std::string& cause);
  void connect(Call& c, Leg& l);  // into the mix in its mode; starts the recording
  void take_off_hold(Call& c, Millis now);
  bool talking_parties(const Call& c, LegId except) const;
  void end_task(acd::TaskId t, Millis now);
  // Conversations: the agent core's media events and expiries, and their facts.
  struct Conversation {
    CallId id;
    acd::Channel channel;
    QueueId queue;
    std::string customer, subject;
    int tier = 0;
    Millis started = 0, queued_at = 0, accepted_at = 0;
    AgentId agent = -1;  // who accepted it
    bool ended = false;  // closed by the agent or left by the customer: the agent wraps up
    int seq = 0;         // segments
    int messages = 0;
    std::map<AgentId, Millis> offers;  // offered to, since
  };
  Conversation* conv(CallId id);
  Conversation& admit(CallId id, const ConversationRequest& r, QueueId q, int tier, Millis started,
                      const char* why, Millis now);
  void on_media_event(const acd::MediaEvent& e, Millis now);
  void conv_expired(Conversation& v, Millis now);
  void end_conversation(Conversation& v, const std::string& by, Millis now);
  void conv_segment(Conversation& v, const char* kind, AgentId a, Millis from,
                    const std::string& result, Millis now);
  ConversationView view(const Conversation& v) const;

  CenterConfig cfg_;
  std::vector<QueueDef> queue_defs_;
  std::unordered_map<QueueId, Millis> holdtime_;  // moving average of answered waits, per queue
  std::vector<AgentDef> agent_defs_;
  Switch& sw_;
  IdSource& ids_;
  std::unique_ptr<acd::Router> router_;
  std::unique_ptr<acd::AgentCore> core_;
  std::map<CallId, std::unique_ptr<Call>> calls_;
  std::map<CallId, std::unique_ptr<Conversation>> convs_;
  std::unordered_map<LegId, std::unique_ptr<Leg>> legs_;
  std::unordered_map<acd::TaskId, Task> tasks_;
  std::unordered_map<std::string, QueueId> queue_by_number_, queue_by_code_;
  std::unordered_map<std::string, AgentId> agent_by_user_;
  std::vector<LegId> agent_leg_;     // the agent's leg on his current call, 0 when none
  std::vector<CallId> agent_call_;   // his current or last call (for wrap-up)
  std::vector<Millis> agent_since_;  // when his state last changed
  std::unordered_map<int64_t, LegId> monitor_leg_;  // supervisor → his leg
  struct Served {
    AgentId agent;
    uint64_t seq;
  };
  std::unordered_map<std::string, Served> last_agent_;  // number → who last talked with it
  std::deque<std::pair<std::string, uint64_t>> last_agent_order_;  // oldest first, for the cap
  uint64_t last_agent_seq_ = 0;
  std::vector<Fact> facts_;
  std::vector<IvrDef> ivrs_;
  std::unordered_map<std::string, size_t> ivr_by_number_;
  std::vector<int> holidays_;
  std::unordered_map<std::string, CampaignCode> campaign_codes_;
  int local_date(Millis now) const;  // yyyymmdd in the configured local time
  std::vector<AdapterRequest> adapter_requests_;
  struct IvrWait {
    Millis at;
    CallId call;
    uint64_t gen;
    bool operator>(const IvrWait& o) const { return at > o.at; }
  };
  std::priority_queue<IvrWait, std::vector<IvrWait>, std::greater<>> ivr_deadlines_;
  using Deadline = std::pair<Millis, int64_t>;
  using Deadlines = std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>>;
  Deadlines leg_deadlines_;   // originate timeouts: (when, leg)
  Deadlines call_deadlines_;  // longest voicemail, callback expiry: (when, call)
};

}  // namespace kefu::cti
