#include "media/jitter.hpp"

#include <spandsp.h>
#include <speex/speex_jitter.h>

#include <cstring>
#include <vector>

namespace kefu::media {

struct AudioJitter::State {
  JitterBuffer* jb = nullptr;
  plc_state_t* plc = nullptr;
  bool started = false;
  int missing_run = 0;  // frames concealed in a row
  ~State() {
    if (jb) jitter_buffer_destroy(jb);
    if (plc) plc_free(plc);
  }
};

// Concealment beyond this is worse than silence (spandsp fades out over about 50 ms anyway).
constexpr int kMaxConcealed = 5;

AudioJitter::AudioJitter() : s_(std::make_unique<State>()) {
  s_->jb = jitter_buffer_init(kFrame);
  s_->plc = plc_init(nullptr);
}

AudioJitter::~AudioJitter() = default;

void AudioJitter::put(uint32_t timestamp, const int16_t* pcm, size_t n) {
  if (n == 0 || n > 480) return;
  JitterBufferPacket p{};
  p.data = reinterpret_cast<char*>(const_cast<int16_t*>(pcm));  // copied by the buffer
  p.len = spx_uint32_t(n * sizeof(int16_t));
  p.timestamp = timestamp;
  p.span = spx_uint32_t(n);
  jitter_buffer_put(s_->jb, &p);
  s_->started = true;
}

bool AudioJitter::get(int16_t out[kFrame]) {
  if (!s_->started) return false;
  int16_t buf[480];
  JitterBufferPacket p{};
  p.data = reinterpret_cast<char*>(buf);
  p.len = sizeof buf;
  spx_int32_t offset = 0;
  int r = jitter_buffer_get(s_->jb, &p, kFrame, &offset);
  jitter_buffer_tick(s_->jb);
  ++stats_.frames;
  if (r == JITTER_BUFFER_OK && p.len >= kFrame * sizeof(int16_t)) {
    std::memcpy(out, buf, kFrame * sizeof(int16_t));
    plc_rx(s_->plc, out, kFrame);  // what concealment repeats if the next one is lost
    s_->missing_run = 0;
    return true;
  }
  if (++s_->missing_run > kMaxConcealed) return false;
  plc_fillin(s_->plc, out, kFrame);
  ++stats_.concealed;
  return true;
}

}  // namespace kefu::media
