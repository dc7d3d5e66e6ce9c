#include "notify/policy.hpp"

#include <algorithm>

namespace kefu::notify {

int64_t next_allowed_by_caps(std::vector<int64_t> sent, const std::vector<Cap>& caps, int64_t now) {
  std::sort(sent.begin(), sent.end(), std::greater<>());  // newest first
  int64_t at = now;
  for (auto& cap : caps) {
    if (cap.max <= 0 || cap.window_ms <= 0) continue;
    // Within the window there may be at most max-1 before the next; the max-th newest send must
    // leave the window first.
    if (int(sent.size()) >= cap.max) {
      int64_t oldest_counted = sent[size_t(cap.max - 1)];
      at = std::max(at, oldest_counted + cap.window_ms);
    }
  }
  return at;
}

int64_t next_in_window(int64_t now_ms, const SendingWindow& w, int utc_offset_min) {
  if (w.always()) return now_ms;
  constexpr int64_t kDay = 86'400'000, kMin = 60'000;
  int64_t local = now_ms + int64_t(utc_offset_min) * kMin;
  int64_t day_start = local - ((local % kDay) + kDay) % kDay;
  int64_t minute = (local - day_start) / kMin;
  bool inside = w.start_min < w.end_min ? (minute >= w.start_min && minute < w.end_min)
                                        : (minute >= w.start_min || minute < w.end_min);
  if (inside) return now_ms;
  int64_t open = day_start + int64_t(w.start_min) * kMin;
  if (open <= local) open += kDay;
  return open - int64_t(utc_offset_min) * kMin;
}

void TokenBucket::refill(int64_t now_ms) {
  if (last_ < 0) last_ = now_ms;
  if (now_ms > last_) {
    tokens_ = std::min(burst_, tokens_ + rate_ * double(now_ms - last_) / 1000.0);
    last_ = now_ms;
  }
}

bool TokenBucket::take(int64_t now_ms, double n) {
  refill(now_ms);
  if (tokens_ + 1e-9 < n) return false;
  tokens_ -= n;
  return true;
}

int64_t TokenBucket::wait_ms(int64_t now_ms, double n) {
  refill(now_ms);
  if (tokens_ + 1e-9 >= n) return 0;
  if (rate_ <= 0) return INT64_MAX / 4;
  return int64_t((n - tokens_) * 1000.0 / rate_) + 1;
}

int64_t next_attempt_at(Outcome outcome, int attempts, int max_attempts, int64_t now_ms,
                        int64_t backoff_floor_ms) {
  if (outcome == Outcome::permanent || attempts >= max_attempts) return -1;
  int64_t delay = 2'000;
  for (int i = 1; i < attempts && delay < 600'000; ++i) delay *= 2;
  delay = std::min<int64_t>(delay, 600'000);
  return now_ms + std::max(delay, backoff_floor_ms);
}

}  // namespace kefu::notify
