#pragma once
// A deterministic switch in memory, driven by the injected clock: what tests, the demo and load
// runs use in place of SIP. Every device answers the way a script says:
//   - extensions (up to 6 digits) are agents' and supervisors' phones: they ring until the
//     desktop answers (or at once for auto-answer), unless set offline (→ failed "unreachable");
//   - longer numbers are outside parties: answered after external_answer_ms, except numbers
//     ending in 486 (busy), 404 (unreachable) and 408 (ring forever: the core's deadline ends it).
// Events are queued with their due time and delivered by advance(), never from a command.
#include <map>
#include <optional>
#include <set>

#include "base/clock.hpp"
#include "cti/switch.hpp"

namespace kefu::cti {

struct SimSwitchConfig {
  Millis alert_ms = 50;         // originate → alerting
  Millis auto_answer_ms = 100;  // alerting → answered for auto-answer devices
  Millis external_answer_ms = 2'000;
  Millis busy_ms = 500;
};

class SimSwitch final : public Switch {
 public:
  SimSwitch(const Clock& clock, IdSource& ids, SimSwitchConfig cfg = {})
      : clock_(clock), ids_(ids), cfg_(cfg) {}

  void set_sink(Sink sink) override { sink_ = std::move(sink); }
  void originate(LegId leg, const std::string& to, const std::string& caller_id,
                 bool auto_answer) override;
  void answer(LegId leg) override;
  void join(CallId mix, LegId leg, MixMode mode, LegId whisper_to) override;
  void leave(CallId mix, LegId leg) override;
  void play(LegId leg, const std::string& prompt) override;
  void collect(LegId leg, int max_digits, Millis timeout_ms) override;
  void record_start(CallId mix, const std::string& name) override;
  void record_stop(CallId mix) override;
  void hang_up(LegId leg, const std::string& cause) override;

  // The outside world (tests, the demo, `POST /api/v1/cti/sim/...`).
  LegId incoming(const std::string& from, const std::string& to, int tier = -1);
  bool far_end_hang_up(LegId leg, const std::string& cause = "normal");
  void press(LegId leg, const std::string& digits);
  // The phone on a leg asks to transfer its call (what a SIP phone's REFER does).
  void refer(LegId leg, const std::string& to);
  // The phone on a leg presses its own hold button (a SIP phone's re-INVITE), or takes it back.
  void phone_hold(LegId leg, bool held);
  void refer_result(LegId leg, bool accepted) override { refer_results_[leg] = accepted; }
  void send_digits(LegId leg, const std::string& keys) override { sent_digits_[leg] += keys; }
  std::string sent_digits(LegId leg) const {
    auto it = sent_digits_.find(leg);
    return it == sent_digits_.end() ? "" : it->second;
  }
  std::optional<bool> refer_result_of(LegId leg) const {
    auto it = refer_results_.find(leg);
    return it == refer_results_.end() ? std::nullopt : std::optional<bool>(it->second);
  }
  void set_offline(const std::string& extension, bool offline);
  // Delivers every event due by now, in due order; returns how many.
  size_t advance();
  Millis next_due() const { return queue_.empty() ? INT64_MAX : queue_.begin()->first.first; }

  // What a test checks.
  struct LegView {
    std::string to, from, state, prompt;  // state: ringing, up, gone
    std::vector<std::string> played;      // every prompt, in order
    CallId mix = 0;
    MixMode mode = MixMode::talk;
    LegId whisper_to = 0;
    bool inbound = false;
    int pending = 0;  // events queued for this leg
  };
  const LegView* leg(LegId id) const;
  std::vector<LegId> legs_to(const std::string& to) const;  // live legs of a device or number
  bool recording(CallId mix) const { return recordings_.count(mix) > 0; }
  size_t live_legs() const;

 private:
  std::map<LegId, bool> refer_results_;
  std::map<LegId, std::string> sent_digits_;
  void schedule(Millis delay, SwitchEvent ev);

  const Clock& clock_;
  IdSource& ids_;
  SimSwitchConfig cfg_;
  Sink sink_;
  std::map<LegId, LegView> legs_;
  std::map<std::pair<Millis, uint64_t>, SwitchEvent> queue_;
  uint64_t seq_ = 0;
  std::set<std::string> offline_;
  std::set<CallId> recordings_;
  std::vector<LegId> gone_;  // legs over, forgotten once no event of theirs is pending
};

}  // namespace kefu::cti
