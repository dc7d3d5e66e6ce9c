#pragma once
// When a message may go: the rules of the outbox as pure functions over times, tested alone.
// - Frequency caps per recipient and message type (验证码: at most 1 a minute, 5 an hour, 10 a
// day).
// - The sending window of a type (no marketing SMS at night), in local time (UTC + a fixed
//   offset: China has no daylight saving).
// - A provider account's rate, as a token bucket.
// - Retries: temporary failures again after 2 s, 4 s, 8 s … at most 10 min, up to a number of
//   attempts; permanent failures never.
#include <cstdint>
#include <vector>

namespace kefu::notify {

struct Cap {
  int64_t window_ms = 0;
  int max = 0;
};

// The earliest time the next message may go to a recipient who was sent messages of this type at
// `sent` (any order), or `now` when no cap stands in the way.
int64_t next_allowed_by_caps(std::vector<int64_t> sent, const std::vector<Cap>& caps, int64_t now);

struct SendingWindow {
  int start_min = 0, end_min = 24 * 60;  // local minutes from midnight; start > end spans midnight
  bool always() const { return start_min == end_min || (start_min == 0 && end_min >= 24 * 60); }
};
// `now` when inside the window, else the window's next opening.
int64_t next_in_window(int64_t now_ms, const SendingWindow& w, int utc_offset_min = 8 * 60);

// A provider account's rate limit: `rate` messages a second, bursts of up to `burst`.
class TokenBucket {
 public:
  TokenBucket(double rate, double burst) : rate_(rate), burst_(burst), tokens_(burst) {}
  // Takes `n` tokens if there are; otherwise takes nothing.
  bool take(int64_t now_ms, double n = 1);
  // How long until `n` tokens are there.
  int64_t wait_ms(int64_t now_ms, double n = 1);
  double rate() const { return rate_; }

 private:
  void refill(int64_t now_ms);
  double rate_, burst_, tokens_;
  int64_t last_ = -1;
};

enum class Outcome { accepted, temporary, permanent };

// The time of the next attempt after `attempts` failed ones, or -1 when the message has failed for
// good (a permanent failure, or the attempts used up).
int64_t next_attempt_at(Outcome outcome, int attempts, int max_attempts, int64_t now_ms,
                        int64_t backoff_floor_ms = 0);

}  // namespace kefu::notify
