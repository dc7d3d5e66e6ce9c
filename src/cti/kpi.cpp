#include "cti/kpi.hpp"

#include <algorithm>

namespace kefu::cti {

KpiBoard::KpiBoard(std::vector<Millis> sl_threshold_ms, std::vector<int64_t> agent_team,
                   Millis short_abandon_ms)
    : threshold_(std::move(sl_threshold_ms)),
      agent_team_(std::move(agent_team)),
      short_abandon_ms_(short_abandon_ms) {
  queues_.resize(threshold_.size());
  talk_ms_.assign(agent_team_.size(), 0);
  wrap_from_.assign(agent_team_.size(), 0);
  agent_queue_.assign(agent_team_.size(), -1);
}

void KpiBoard::reconfigure(std::vector<Millis> sl_threshold_ms, std::vector<int64_t> agent_team) {
  threshold_ = std::move(sl_threshold_ms);
  agent_team_ = std::move(agent_team);
  queues_.resize(std::max(queues_.size(), threshold_.size()));
  talk_ms_.resize(agent_team_.size(), 0);
  wrap_from_.resize(agent_team_.size(), 0);
  agent_queue_.resize(agent_team_.size(), -1);
}

void KpiBoard::add(const Fact& f) {
  if (auto* q = std::get_if<QueueLog>(&f)) {
    if (q->queue < 0 || size_t(q->queue) >= queues_.size()) return;
    auto& s = queues_[size_t(q->queue)].items;
    if (q->event == "connect") {
      s.push_back({q->at, q->wait_ms, 'a'});
      call_queue_[q->call] = q->queue;
    } else if (q->event == "abandon" || q->event == "timeout") {
      s.push_back({q->at, q->wait_ms, 'b'});
    }
  } else if (auto* seg = std::get_if<SegmentClosed>(&f)) {
    // A chat's or e-mail's handling segment runs from acceptance to the end of its wrap-up.
    const auto& g = seg->seg;
    if ((g.kind == "chat" || g.kind == "email") && g.queue >= 0 &&
        size_t(g.queue) < queues_.size()) {
      queues_[size_t(g.queue)].items.push_back({g.ended, g.ended - g.started, 'h'});
      if (g.agent >= 0 && size_t(g.agent) < agent_team_.size())
        teams_[agent_team_[size_t(g.agent)]].items.push_back({g.ended, g.ended - g.started, 'h'});
      return;
    }
    if (seg->seg.kind == "talk" && seg->seg.agent >= 0 &&
        size_t(seg->seg.agent) < talk_ms_.size()) {
      talk_ms_[size_t(seg->seg.agent)] = seg->seg.ended - seg->seg.started;
      auto it = call_queue_.find(seg->call);
      agent_queue_[size_t(seg->seg.agent)] = it == call_queue_.end() ? -1 : it->second;
    }
  } else if (auto* a = std::get_if<AgentChange>(&f)) {
    if (a->agent < 0 || size_t(a->agent) >= agent_team_.size()) return;
    auto i = size_t(a->agent);
    if (a->to == "wrap_up") wrap_from_[i] = a->at;
    if (a->from == "wrap_up") {
      Millis handle = talk_ms_[i] + (a->at - wrap_from_[i]);
      teams_[agent_team_[i]].items.push_back({a->at, handle, 'h'});
      if (agent_queue_[i] >= 0)
        queues_[size_t(agent_queue_[i])].items.push_back({a->at, handle, 'h'});
      talk_ms_[i] = 0;
      agent_queue_[i] = -1;
    }
  } else if (auto* c = std::get_if<CallClosed>(&f)) {
    call_queue_.erase(c->call);
  }
}

std::vector<WindowStats> KpiBoard::compute(Series& s, Millis threshold, Millis now) {
  static constexpr int kMinutes[] = {15, 30, 60};
  while (!s.items.empty() && s.items.front().at < now - 60 * 60'000) s.items.pop_front();
  std::vector<WindowStats> out;
  for (int m : kMinutes) {
    WindowStats w;
    w.minutes = m;
    Millis waited = 0, handled = 0;
    int abandoned_after_t = 0;
    for (auto it = s.items.rbegin(); it != s.items.rend() && it->at >= now - Millis(m) * 60'000;
         ++it) {
      if (it->kind == 'a') {
        ++w.answered;
        waited += it->wait;
        if (it->wait <= threshold) ++w.answered_in_sl;
      } else if (it->kind == 'b') {
        if (it->wait < short_abandon_ms_) {
          ++w.short_abandoned;
          continue;
        }
        ++w.abandoned;
        if (it->wait > threshold) ++abandoned_after_t;
      } else {
        ++w.handled;
        handled += it->wait;
      }
    }
    w.offered = w.answered + w.abandoned + w.short_abandoned;
    if (w.answered + abandoned_after_t > 0)
      w.service_level = double(w.answered_in_sl) / (w.answered + abandoned_after_t);
    if (w.answered + w.abandoned > 0)
      w.abandon_rate = double(w.abandoned) / (w.answered + w.abandoned);
    if (w.answered) w.asa_ms = waited / w.answered;
    if (w.handled) w.aht_ms = handled / w.handled;
    out.push_back(w);
  }
  return out;
}

std::vector<WindowStats> KpiBoard::queue(QueueId q, Millis now) {
  if (q < 0 || size_t(q) >= queues_.size()) return {};
  return compute(queues_[size_t(q)], threshold_[size_t(q)], now);
}

std::vector<WindowStats> KpiBoard::team(int64_t team, Millis now) {
  return compute(teams_[team], 0, now);
}

}  // namespace kefu::cti
