#include "media/dtmf_detector.hpp"

#include <spandsp.h>

#include <cmath>

namespace kefu::media {

struct DtmfDetector::State {
  dtmf_rx_state_t* rx = nullptr;
  std::function<void(char)> on_digit;
  ~State() {
    if (rx) dtmf_rx_free(rx);
  }
};

DtmfDetector::DtmfDetector(std::function<void(char)> on_digit) : s_(std::make_unique<State>()) {
  s_->on_digit = std::move(on_digit);
  s_->rx = dtmf_rx_init(
      nullptr,
      [](void* user, const char* digits, int len) {
        auto* st = static_cast<State*>(user);
        for (int i = 0; i < len; ++i) st->on_digit(digits[i]);
      },
      s_.get());
}

DtmfDetector::~DtmfDetector() = default;

void DtmfDetector::feed(const int16_t* pcm, size_t n) {
  dtmf_rx(s_->rx, pcm, int(n));
}

void dtmf_tone(char digit, int ms, int16_t* out, double level) {
  static const char keys[] = "123A456B789C*0#D";
  static const double rows[] = {697, 770, 852, 941}, cols[] = {1209, 1336, 1477, 1633};
  int k = 0;
  while (keys[k] && keys[k] != digit) ++k;
  double lo = rows[(k % 16) / 4], hi = cols[(k % 16) % 4];
  for (int i = 0; i < ms * 8; ++i)
    out[i] = int16_t(level / 2 *
                     (std::sin(2 * M_PI * lo * i / 8000) + std::sin(2 * M_PI * hi * i / 8000)));
}

}  // namespace kefu::media
