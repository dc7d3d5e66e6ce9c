#pragma once
// Vocabulary of the routing engine (SPEC M2, M5). Pure data: no I/O, no clock, no threads —
// every time is passed in by the caller, so the engine runs the same under a simulator,
// a test or the live switch.
#include <array>
#include <cstdint>
#include <vector>

namespace kefu::acd {

using AgentId = int32_t;  // dense index, 0..agents-1
using QueueId = int32_t;  // dense index, 0..queues-1
using SkillId = int32_t;
using TaskId = int64_t;
using Millis = int64_t;

enum class Channel : uint8_t { voice = 0, callback = 1, chat = 2, email = 3 };
constexpr int kChannels = 4;
// Voice and callback tasks are phone calls; chat and e-mail are media tasks (会话).
constexpr bool is_phone(Channel c) {
  return c == Channel::voice || c == Channel::callback;
}

// Which ready agent of a queue gets the next task. Every strategy is a key, smaller first,
// ties broken by the lower agent id, so a decision is reproducible from the event history.
enum class Strategy : uint8_t {
  longest_idle,     // ready the longest
  fewest_calls,     // fewest tasks taken today
  least_talk_time,  // least handling time today
  round_robin,      // offered longest ago
  top_down,         // highest service level first, then the configured order
  random,           // a fresh random rank each time the agent becomes available
  ring_all,         // 同振: every available agent rings at once; the first to answer takes it
};

struct RouterConfig {
  int levels = 5;  // agent service levels 1..levels (M5 员工分级)
  // Customer tiers 0..tiers-1 (0 = ordinary, higher = VIP). A task of tier t needs an agent of
  // level >= min_level[t] until its queue's widen_after_ms has passed, then any level.
  std::vector<int> min_level{1, 1, 3, 4, 5};
  // Head start in the queue per tier: priority by a *virtual arrival time*
  // (enqueued_at - bonus), so everybody ages at the same rate and nobody starves — an ordinary
  // caller who has waited longer than the VIP bonus goes before a VIP who has just arrived.
  std::vector<Millis> tier_bonus_ms{0, 0, 30'000, 60'000, 120'000};
  uint64_t seed = 0x6b656675;  // for Strategy::random
};

struct QueueSpec {
  Channel channel = Channel::voice;
  std::vector<SkillId> skills;  // an agent needs all of them
  Strategy strategy = Strategy::longest_idle;
  Millis weight_ms = 0;            // this queue's head start over others sharing agents
  Millis widen_after_ms = 30'000;  // after this, any level may take a task of any tier
  Millis max_wait_ms = 0;  // 0: no limit; else the task leaves the queue (expired) for the fallback
  bool operator==(const QueueSpec&) const = default;
};

struct AgentSpec {
  int level = 1;
  std::vector<SkillId> skills;
  std::array<int, kChannels> capacity{1, 1, 0, 0};  // concurrent tasks per channel
  // Blending (多渠道并发): false — a phone call (voice or callback) or chats and e-mails, never
  // both at once ("one voice call, or up to K chats"); true — chats and e-mails go on during a
  // call and a call may come during chats. Either way each channel keeps its own capacity.
  bool voice_with_media = false;
  bool operator==(const AgentSpec&) const = default;
};

// Per-task routing options.
struct TaskOptions {
  // Sticky routing (粘滞): the customer's last agent (or his own manager) is offered the task
  // first, whatever his level, if he serves the queue and is free; if he is signed in but busy,
  // the task waits for him alone up to preferred_wait_ms (kept below the queue's max wait), then
  // joins the queue where its arrival time puts it.
  AgentId preferred = -1;
  Millis preferred_wait_ms = 0;
  // Priority and level widening from this time instead of now: a caller moved to another queue
  // or called back keeps his place. The queue's maximum wait still counts from now.
  Millis arrived_at = -1;
};

// A routing decision: offer `task` to `agent`. The agent holds one unit of the channel's
// capacity until finish() or reject().
struct Offer {
  TaskId task;
  AgentId agent;
  QueueId queue;
};

}  // namespace kefu::acd
