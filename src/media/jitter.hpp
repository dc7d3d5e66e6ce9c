#pragma once
// The receive side of a decoded leg (mixing, in-band DTMF): speexdsp's adaptive jitter buffer
// puts packets back in timestamp order and absorbs their uneven arrival; a frame that did not
// arrive in time is concealed by spandsp's packet loss concealment (a pitch-period repeat that
// fades out), not left as a click of silence. A plain two-party bridge never comes here: it relays.
#include <cstddef>
#include <cstdint>
#include <memory>

namespace kefu::media {

class AudioJitter {
 public:
  static constexpr int kFrame = 160;  // 20 ms at 8 kHz
  AudioJitter();
  ~AudioJitter();
  AudioJitter(const AudioJitter&) = delete;
  AudioJitter& operator=(const AudioJitter&) = delete;

  // A decoded packet: its RTP timestamp and its samples (any multiple of 10 ms up to 60 ms).
  void put(uint32_t timestamp, const int16_t* pcm, size_t n);
  // The next 20 ms, called every 20 ms. False while the leg has said nothing yet, or has been
  // quiet for longer than concealment should last (the mixer then takes silence from him).
  bool get(int16_t out[kFrame]);

  struct Stats {
    uint64_t frames = 0, concealed = 0, late = 0;
  };
  Stats stats() const { return stats_; }

 private:
  struct State;
  std::unique_ptr<State> s_;
  Stats stats_;
};

}  // namespace kefu::media
