#pragma once
// In-band DTMF (ITU-T Q.24 tones in the audio) for callers whose phone or trunk did not offer
// RFC 4733 telephone-event: spandsp's detector on the decoded audio.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

namespace kefu::media {

class DtmfDetector {
 public:
  explicit DtmfDetector(std::function<void(char)> on_digit);
  ~DtmfDetector();
  DtmfDetector(const DtmfDetector&) = delete;
  DtmfDetector& operator=(const DtmfDetector&) = delete;
  void feed(const int16_t* pcm, size_t n);

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Q.23 tones of a digit at 8 kHz (tests, and prompts that must send a digit in band).
void dtmf_tone(char digit, int ms, int16_t* out, double level = 8000);

}  // namespace kefu::media
