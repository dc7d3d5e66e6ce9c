#include "cti/sim_switch.hpp"

namespace kefu::cti {

namespace {
bool is_device(const std::string& to) {
  return !to.empty() && to.size() <= 6;
}
bool ends_with(const std::string& s, const char* tail) {
  std::string t(tail);
  return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
}
}  // namespace

void SimSwitch::schedule(Millis delay, SwitchEvent ev) {
  if (auto it = legs_.find(ev.leg); it != legs_.end()) ++it->second.pending;
  queue_.emplace(std::make_pair(clock_.now_ms() + delay, seq_++), std::move(ev));
}

void SimSwitch::originate(LegId id, const std::string& to, const std::string& caller_id,
                          bool auto_answer) {
  auto& l = legs_[id];
  l = LegView{to, caller_id, "ringing", "", {}, 0, MixMode::talk, 0, false};
  using K = SwitchEvent::Kind;
  if (is_device(to)) {
    if (offline_.count(to)) return schedule(cfg_.alert_ms, {K::failed, id, "", "", "unreachable"});
    schedule(cfg_.alert_ms, {K::alerting, id});
    if (auto_answer) schedule(cfg_.alert_ms + cfg_.auto_answer_ms, {K::answered, id});
    return;
  }
  if (ends_with(to, "486")) return schedule(cfg_.busy_ms, {K::failed, id, "", "", "busy"});
  if (ends_with(to, "404")) return schedule(cfg_.busy_ms, {K::failed, id, "", "", "unreachable"});
  schedule(cfg_.alert_ms, {K::alerting, id});
  if (!ends_with(to, "408")) schedule(cfg_.external_answer_ms, {K::answered, id});
}

void SimSwitch::answer(LegId id) {
  auto it = legs_.find(id);
  if (it == legs_.end() || it->second.state != "ringing") return;
  schedule(0, {SwitchEvent::Kind::answered, id});
}

void SimSwitch::join(CallId mix, LegId id, MixMode mode, LegId whisper_to) {
  auto it = legs_.find(id);
  if (it == legs_.end() || it->second.state == "gone") return;
  it->second.mix = mix;
  it->second.mode = mode;
  it->second.whisper_to = whisper_to;
  it->second.prompt.clear();
}

void SimSwitch::leave(CallId, LegId id) {
  if (auto it = legs_.find(id); it != legs_.end()) it->second.mix = 0;
}

void SimSwitch::play(LegId id, const std::string& prompt) {
  if (auto it = legs_.find(id); it != legs_.end()) {
    it->second.prompt = prompt;
    it->second.played.push_back(prompt);
  }
}

void SimSwitch::collect(LegId, int, Millis) {}

void SimSwitch::record_start(CallId mix, const std::string&) {
  recordings_.insert(mix);
}
void SimSwitch::record_stop(CallId mix) {
  recordings_.erase(mix);
}

void SimSwitch::hang_up(LegId id, const std::string&) {
  auto it = legs_.find(id);
  if (it == legs_.end()) return;
  it->second.state = "gone";
  it->second.mix = 0;
  gone_.push_back(id);
}

LegId SimSwitch::incoming(const std::string& from, const std::string& to, int tier) {
  LegId id = ids_.take();
  legs_[id] = LegView{to, from, "ringing", "", {}, 0, MixMode::talk, 0, true};
  SwitchEvent ev{SwitchEvent::Kind::incoming, id, from, to};
  ev.tier = tier;
  schedule(0, std::move(ev));
  return id;
}

bool SimSwitch::far_end_hang_up(LegId id, const std::string& cause) {
  auto it = legs_.find(id);
  if (it == legs_.end() || it->second.state == "gone") return false;
  it->second.state = "gone";
  it->second.mix = 0;
  gone_.push_back(id);
  schedule(0, {SwitchEvent::Kind::hung_up, id, "", "", cause});
  return true;
}

void SimSwitch::press(LegId id, const std::string& digits) {
  SwitchEvent ev{SwitchEvent::Kind::digits, id};
  ev.digits = digits;
  schedule(0, std::move(ev));
}

void SimSwitch::refer(LegId id, const std::string& to) {
  SwitchEvent ev{SwitchEvent::Kind::refer, id};
  ev.to = to;
  schedule(0, std::move(ev));
}

void SimSwitch::phone_hold(LegId id, bool held) {
  schedule(0, SwitchEvent{held ? SwitchEvent::Kind::held : SwitchEvent::Kind::resumed, id});
}

void SimSwitch::set_offline(const std::string& extension, bool offline) {
  if (offline)
    offline_.insert(extension);
  else
    offline_.erase(extension);
}

size_t SimSwitch::advance() {
  size_t n = 0;
  Millis now = clock_.now_ms();
  while (!queue_.empty() && queue_.begin()->first.first <= now) {
    SwitchEvent ev = std::move(queue_.begin()->second);
    queue_.erase(queue_.begin());
    auto it = legs_.find(ev.leg);
    if (it == legs_.end()) continue;
    auto& l = it->second;
    --l.pending;
    // The core hung this leg up first: its late events die here, as a SIP stack would absorb them.
    if (l.state == "gone" && ev.kind != SwitchEvent::Kind::hung_up) continue;
    if (ev.kind == SwitchEvent::Kind::answered) {
      if (l.state != "ringing") continue;
      l.state = "up";
    }
    if (ev.kind == SwitchEvent::Kind::failed) l.state = "gone", gone_.push_back(ev.leg);
    ++n;
    if (sink_) sink_(ev);
  }
  // Forget legs that are over once no event of theirs is pending, keeping the map the size of
  // live traffic (a leg stays visible until the next advance, for tests to look at).
  size_t kept = 0;
  for (LegId id : gone_) {
    auto it = legs_.find(id);
    if (it == legs_.end()) continue;
    if (it->second.pending > 0)
      gone_[kept++] = id;
    else
      legs_.erase(it);
  }
  gone_.resize(kept);
  return n;
}

const SimSwitch::LegView* SimSwitch::leg(LegId id) const {
  auto it = legs_.find(id);
  return it == legs_.end() ? nullptr : &it->second;
}

std::vector<LegId> SimSwitch::legs_to(const std::string& to) const {
  std::vector<LegId> out;
  for (auto& [id, l] : legs_)
    if (l.to == to && l.state != "gone") out.push_back(id);
  return out;
}

size_t SimSwitch::live_legs() const {
  size_t n = 0;
  for (auto& [id, l] : legs_) n += l.state != "gone";
  return n;
}

}  // namespace kefu::cti
