#pragma once
// Live statistics per queue and per team over sliding windows (实时监控), computed from the same
// facts the store keeps, so a report recomputed from the tables gives the same figures.
// Definitions (docs/KPI.md):
//   answered within T  / (answered + abandoned after T)          = service level (服务水平)
//   abandoned / (answered + abandoned), short abandons excluded   = abandon rate (放弃率)
//   total queue wait of answered calls / answered                 = ASA (平均应答速度)
//   (talk + after-call work) / handled                            = AHT (平均处理时长)
// A short abandon is a caller who hung up within short_abandon_ms of entering the queue; it
// counts in neither the service level nor the abandon rate. A queue timeout counts as an
// abandon after T when it happens after T.
#include <deque>
#include <map>
#include <string>

#include "cti/model.hpp"

namespace kefu::cti {

struct WindowStats {
  int minutes = 0;
  int offered = 0, answered = 0, answered_in_sl = 0, abandoned = 0, short_abandoned = 0,
      handled = 0;
  double service_level = 1.0;  // 1 when nothing counted yet
  double abandon_rate = 0.0;
  Millis asa_ms = 0, aht_ms = 0;
};

class KpiBoard {
 public:
  KpiBoard(std::vector<Millis> sl_threshold_ms, std::vector<int64_t> agent_team,
           Millis short_abandon_ms = 5'000);
  void add(const Fact& f);
  // Queues and agents were added or edited (ids only grow): windows collected so far stay.
  void reconfigure(std::vector<Millis> sl_threshold_ms, std::vector<int64_t> agent_team);
  // Windows of 15, 30 and 60 minutes ending at `now`.
  std::vector<WindowStats> queue(QueueId q, Millis now);
  std::vector<WindowStats> team(int64_t team, Millis now);

 private:
  struct Outcome {
    Millis at;
    Millis wait;
    char kind;
  };  // a)nswered, b)andoned, h)andled
  struct Series {
    std::deque<Outcome> items;
  };
  std::vector<WindowStats> compute(Series& s, Millis threshold, Millis now);

  std::vector<Millis> threshold_;
  std::vector<int64_t> agent_team_;
  Millis short_abandon_ms_;
  std::vector<Series> queues_;
  std::map<int64_t, Series> teams_;
  std::map<CallId, QueueId> call_queue_;  // the queue of each call's current talk
  std::vector<Millis> talk_ms_, wrap_from_;
  std::vector<QueueId> agent_queue_;
};

}  // namespace kefu::cti
