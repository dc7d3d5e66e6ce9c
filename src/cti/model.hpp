#pragma once
// The call model of the real-time core (SPEC M2, M3): calls made of legs, and the facts the core
// emits — CSTA-like call events, CDR segments, queue log, agent state changes — from which the
// store keeps history and every KPI can be recomputed.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "acd/types.hpp"
#include "ivr/flow.hpp"

namespace kefu::cti {

using acd::AgentId;
using acd::Millis;
using acd::QueueId;
using CallId = int64_t;
using LegId = int64_t;

// Ids for calls, legs and tasks, unique across restarts (seeded from the store) and shared by
// the core and the switch, which names the legs of incoming calls.
class IdSource {
 public:
  explicit IdSource(int64_t next = 1) : next_(next) {}
  int64_t take() { return next_++; }
  void reset(int64_t next) { next_ = next; }

 private:
  std::atomic<int64_t> next_;
};

// Who a leg connects to the call.
enum class Party : uint8_t { customer, agent, consult, supervisor, external };
enum class LegState : uint8_t { dialing, alerting, up, held, gone };
// How a leg takes part in the call's mix: talk (heard by all), listen (hears all, heard by
// none: 监听), whisper (heard by the agent only: 耳语), muted (the agent's mute button).
enum class MixMode : uint8_t { talk, listen, whisper, muted };

const char* to_string(Party p);
const char* to_string(LegState s);
const char* to_string(MixMode m);
bool parse_mix_mode(const std::string& s, MixMode& out);
const char* to_string(acd::Channel c);  // voice, callback, chat, email
bool parse_channel(const std::string& s, acd::Channel& out);

// One segment of a call detail record: IVR, queue wait, ringing an agent, talking, consultation,
// an external party, a supervisor's monitoring, voicemail.
struct Segment {
  int seq = 0;  // order within the call
  std::string kind;
  QueueId queue = -1;
  AgentId agent = -1;
  int64_t staff_id = 0;  // supervisors (not routed agents)
  std::string party;     // a number for external parties
  Millis started = 0, ended = 0;
  std::string result;  // answered, abandoned, no_answer, transferred, completed, ...
};

// Facts, in the order they happened. The service writes each batch in one transaction before
// it acknowledges the command that caused it.
struct CallOpened {
  CallId call;
  std::string direction;  // inbound | outbound
  std::string ani, dnis;
  int tier;
  Millis at;
  std::string channel = "voice";  // voice | chat | email (a chat or e-mail is a conversation)
  int64_t customer_id = 0;        // in the customer file, when the caller is known
};
struct CallEvent {  // offered, queued, alerting, established, held, retrieved, transferred,
  CallId call;      // conferenced, diverted, cleared, failed, monitored, muted, unmuted
  LegId leg;
  std::string type;
  AgentId agent;
  QueueId queue;
  std::string detail;
  Millis at;
  int64_t staff = 0;  // who, when not an agent of the core (a supervisor monitoring)
};
struct QueueLog {  // enter, connect, abandon, timeout, transfer, ring_noanswer, full, no_agents
  CallId call;
  QueueId queue;
  std::string event;
  AgentId agent;
  Millis wait_ms;
  Millis at;
};
struct AgentChange {
  AgentId agent;
  std::string from, to, reason;
  CallId call;  // 0 when none
  Millis at;
};
struct SegmentClosed {
  CallId call;
  Segment seg;
};
struct CallClosed {
  CallId call;
  std::string disposition;  // completed, abandoned, voicemail, no_agents, timeout, failed,
                            // system_restart, ...
  std::string recording;
  Millis at;
};
struct WrapUp {  // 话后处理: the agent's call type and summary
  CallId call;
  AgentId agent;
  std::string call_type, summary;
  Millis at;
};
struct Alert {  // 疑难问题: an agent asks supervisors for help on a call
  AgentId agent;
  CallId call;
  std::string note;
  Millis at;
};
struct IvrStep {  // 菜单记录: one node a caller went through, what he pressed, how it ended
  CallId call;
  int seq;
  std::string flow, node, input, result;
  Millis at;
};
struct Message {  // a line of a chat or an e-mail, from the customer or the agent
  CallId call;
  int seq;
  std::string sender;  // customer | agent
  AgentId agent;
  std::string body;
  Millis at;
};
// A finished call, or an agent's wrap-up of it, for the customer's contact history; handed to
// whoever keeps that history inside the transaction that stores the fact.
struct CallContact {
  int64_t customer_id = 0;
  CallId call = 0;
  std::string channel, direction, kind;  // kind: call | wrap_up
  std::string summary;
  int64_t staff_id = 0;
  Millis at = 0;
};

// 通话质量: one leg's RTP when it ended, as Kefu received it and as the far end's RTCP reports
// said Kefu's stream arrived (far_*, -1 when it sent none). Jitter and round trip in µs.
struct MediaQuality {
  int64_t packets_in = 0, lost = 0, packets_out = 0, jitter_us = 0;
  int64_t far_lost = -1, far_jitter_us = -1, rtt_us = -1;
};
struct LegMedia {
  CallId call;
  LegId leg;
  MediaQuality quality;
  Millis at;
};

using Fact = std::variant<CallOpened, CallEvent, QueueLog, AgentChange, SegmentClosed, CallClosed,
                          WrapUp, Alert, IvrStep, Message, LegMedia>;

// Set-up of the core, loaded from the store.
struct QueueDef {
  std::string code, name;
  acd::QueueSpec spec;
  size_t max_length = SIZE_MAX;
  std::vector<std::string> access_numbers;  // 接入号码 that lead to this queue
  std::string fallback = "hangup";          // hangup | queue | number | voicemail | callback
  std::string fallback_target;              // queue code or number
  Millis sl_threshold_ms = 20'000;          // service level: answered within this
  // 粘滞: -1 off; else the caller's last agent is offered the call first and, when busy, waited
  // for this long before the queue takes over.
  Millis sticky_wait_ms = -1;
  // 预约回呼: the key a waiting caller presses to hang up and be called back by the next agent,
  // keeping his place in the queue ("" = not offered).
  std::string callback_digit;
  // 排队播报: every this often a waiting caller hears his place and the expected wait, then the
  // music again (0 = never).
  Millis announce_ms = 0;
  bool retired = false;  // removed from the configuration: serves who waits, takes no new calls
  bool operator==(const QueueDef&) const = default;  // every field: an edit of any is seen
};

struct IvrDef {  // an IVR flow and the access numbers that lead to it
  std::string code, name;
  std::vector<std::string> access_numbers;
  std::shared_ptr<const ivr::Flow> flow;
};

// 活动反馈码: a code a campaign gives its customers; keyed in the IVR, it puts the caller through
// to the campaign's reception number (a queue's or a menu's access number, or an outside number)
// between its first and last day (local dates, yyyymmdd; 0 = open).
struct CampaignCode {
  std::string code, name, reception_number;
  int valid_from = 0, valid_to = 0;
};

struct AgentDef {
  int64_t staff_id = 0;
  std::string username, name, extension;
  int64_t org_id = 0;
  acd::AgentSpec spec;
  std::string caller_id;  // 接入站点: the number his outbound calls show ("" = the default)
  bool retired = false;   // removed from the configuration: signed out after his call
  bool operator==(const AgentDef&) const = default;
};

}  // namespace kefu::cti
