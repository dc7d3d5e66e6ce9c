#pragma once
// Two switches behind one interface: the SIP softswitch for real phones and trunks, the
// simulator for everything else (simulated customers from the console, agents without a
// registered phone). A leg stays with the switch that made or announced it; new legs to a
// destination go where `use_second` says (e.g. "that extension has registered a phone").
#include <functional>
#include <unordered_map>

#include "cti/switch.hpp"

namespace kefu::cti {

class SwitchPair : public Switch {
 public:
  SwitchPair(Switch& first, Switch& second, std::function<bool(const std::string&)> use_second)
      : first_(first), second_(second), use_second_(std::move(use_second)) {}

  void set_sink(Sink sink) override {
    sink_ = std::move(sink);
    first_.set_sink([this](const SwitchEvent& ev) { pass(ev, first_); });
    second_.set_sink([this](const SwitchEvent& ev) { pass(ev, second_); });
  }
  void originate(LegId leg, const std::string& to, const std::string& caller_id,
                 bool auto_answer) override {
    Switch& s = use_second_(to) ? second_ : first_;
    owner_[leg] = &s;
    s.originate(leg, to, caller_id, auto_answer);
  }
  void answer(LegId leg) override { of(leg).answer(leg); }
  void join(CallId mix, LegId leg, MixMode mode, LegId whisper_to) override {
    of(leg).join(mix, leg, mode, whisper_to);
  }
  void leave(CallId mix, LegId leg) override { of(leg).leave(mix, leg); }
  void play(LegId leg, const std::string& prompt) override { of(leg).play(leg, prompt); }
  void collect(LegId leg, int max_digits, Millis timeout_ms) override {
    of(leg).collect(leg, max_digits, timeout_ms);
  }
  void record_start(CallId mix, const std::string& name) override {
    first_.record_start(mix, name);
    second_.record_start(mix, name);
  }
  void record_stop(CallId mix) override {
    first_.record_stop(mix);
    second_.record_stop(mix);
  }
  void refer_result(LegId leg, bool accepted) override { of(leg).refer_result(leg, accepted); }
  void send_digits(LegId leg, const std::string& keys) override { of(leg).send_digits(leg, keys); }
  void hang_up(LegId leg, const std::string& cause) override {
    of(leg).hang_up(leg, cause);
    owner_.erase(leg);
  }

 private:
  void pass(const SwitchEvent& ev, Switch& from) {
    if (ev.kind == SwitchEvent::Kind::incoming) owner_[ev.leg] = &from;
    if (ev.kind == SwitchEvent::Kind::hung_up || ev.kind == SwitchEvent::Kind::failed)
      owner_.erase(ev.leg);
    if (sink_) sink_(ev);
  }
  Switch& of(LegId leg) {
    auto it = owner_.find(leg);
    return it == owner_.end() ? first_ : *it->second;
  }

  Switch& first_;
  Switch& second_;
  std::function<bool(const std::string&)> use_second_;
  std::unordered_map<LegId, Switch*> owner_;
  Sink sink_;
};

}  // namespace kefu::cti
