#include "media/dtmf_sender.hpp"

#include <spandsp.h>

#include <cstring>

namespace kefu::media {

namespace {
constexpr int kOnTicks = 5;     // 100 ms of the key
constexpr int kPauseTicks = 3;  // 60 ms before the next
}  // namespace

struct DtmfSender::Tones {
  dtmf_tx_state_t* tx = nullptr;
  Tones() {
    tx = dtmf_tx_init(nullptr);
    dtmf_tx_set_timing(tx, 100, 60);
    dtmf_tx_set_level(tx, -10, 0);  // dBm0 for each tone, no twist
  }
  ~Tones() { dtmf_tx_free(tx); }
};

DtmfSender::DtmfSender(bool rfc4733) : rfc4733_(rfc4733) {
  if (!rfc4733_) tones_ = std::make_unique<Tones>();
}
DtmfSender::~DtmfSender() = default;

void DtmfSender::queue(std::string_view keys) {
  for (char k : keys) {
    if (char_event(k) < 0) continue;
    keys_.push_back(k);  // in band: counted until the generator has played them
    if (!rfc4733_) dtmf_tx_put(tones_->tx, &k, 1);
  }
}

bool DtmfSender::active() const {
  return !keys_.empty() || tick_ >= 0;
}

DtmfSender::Period DtmfSender::next() {
  Period p;
  if (!rfc4733_) {
    if (!active()) return p;
    int n = dtmf_tx(tones_->tx, p.pcm, 160);
    if (n <= 0) {  // the generator is through everything queued
      keys_.clear();
      return p;
    }
    if (n < 160) std::memset(p.pcm + n, 0, size_t(160 - n) * sizeof(int16_t));
    p.audio = true;
    return p;
  }
  if (tick_ < 0) {
    if (keys_.empty()) return p;
    key_ = keys_.front();
    keys_.pop_front();
    tick_ = 0;
  }
  TelephoneEvent e;
  e.event = uint8_t(char_event(key_));
  e.volume = 10;
  if (tick_ < kOnTicks) {
    e.duration = uint16_t((tick_ + 1) * 160);
    p.marker = tick_ == 0;
    p.events.push_back(e);
  } else if (tick_ == kOnTicks) {
    e.duration = uint16_t(kOnTicks * 160);
    e.end = true;
    p.events.assign(3, e);  // the end, three times (RFC 4733 §2.5.1.4)
  }
  p.started = uint32_t(tick_) * 160;
  if (++tick_ > kOnTicks + kPauseTicks) tick_ = -1;
  return p;
}

}  // namespace kefu::media
