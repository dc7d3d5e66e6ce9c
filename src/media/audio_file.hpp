#pragma once
// Sound files through libsndfile. Prompts and music on hold come in whatever form an operator
// has them (WAV at any rate and sample format, FLAC, Ogg Vorbis) and are made into what the
// media engine plays: 8 kHz mono 16-bit, resampled by speexdsp. Call recordings (全程录音) are
// written as stereo WAV whose header is kept current, so a recording cut short by a crash is
// still a file any player opens.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kefu::media {

struct Prompt {
  std::vector<int16_t> samples;  // 8 kHz mono
  int source_rate = 0, source_channels = 0;
  std::string error;  // empty when decoded: not_audio, unsupported, too_long, empty
};

// The longest prompt accepted (music on hold included): 20 minutes.
inline constexpr size_t kMaxPromptSamples = 20 * 60 * 8000;

// From bytes (an upload, a fuzzer's input) or from a file; never throws.
Prompt decode_prompt(std::string_view bytes);
Prompt read_prompt(const std::string& path);

// Mono float samples at `rate` to 8 kHz 16-bit, with saturation.
std::vector<int16_t> to_8k(const std::vector<float>& mono, int rate);

// A stereo 8 kHz 16-bit WAV being written, customer left and agent right.
class StereoWavWriter {
 public:
  StereoWavWriter() = default;
  ~StereoWavWriter() { close(); }
  StereoWavWriter(const StereoWavWriter&) = delete;
  StereoWavWriter& operator=(const StereoWavWriter&) = delete;

  bool open(const std::string& path);
  // Interleaved samples, left then right; `frames` pairs.
  void write(const int16_t* interleaved, size_t frames);
  void close();
  bool is_open() const { return file_ != nullptr; }

 private:
  void* file_ = nullptr;  // SNDFILE*, kept out of this header
};

}  // namespace kefu::media
