#include "media/audio_file.hpp"

#include <sndfile.h>
#include <speex/speex_resampler.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

namespace kefu::media {

namespace {

// libsndfile reading from memory: its virtual I/O over a byte range.
struct Bytes {
  std::string_view data;
  sf_count_t pos = 0;
};

sf_count_t bytes_length(void* u) {
  return sf_count_t(static_cast<Bytes*>(u)->data.size());
}
sf_count_t bytes_seek(sf_count_t offset, int whence, void* u) {
  auto* b = static_cast<Bytes*>(u);
  sf_count_t base = whence == SEEK_CUR   ? b->pos
                    : whence == SEEK_END ? sf_count_t(b->data.size())
                                         : 0;
  b->pos = std::clamp<sf_count_t>(base + offset, 0, sf_count_t(b->data.size()));
  return b->pos;
}
sf_count_t bytes_read(void* ptr, sf_count_t count, void* u) {
  auto* b = static_cast<Bytes*>(u);
  sf_count_t n = std::clamp<sf_count_t>(sf_count_t(b->data.size()) - b->pos, 0, count);
  std::memcpy(ptr, b->data.data() + b->pos, size_t(n));
  b->pos += n;
  return n;
}
sf_count_t bytes_write(const void*, sf_count_t, void*) {
  return 0;
}
sf_count_t bytes_tell(void* u) {
  return static_cast<Bytes*>(u)->pos;
}

using File = std::unique_ptr<SNDFILE, int (*)(SNDFILE*)>;

// Every frame of an open file, its channels averaged, then taken to 8 kHz.
Prompt decode(SNDFILE* f, const SF_INFO& info) {
  Prompt p;
  p.source_rate = info.samplerate;
  p.source_channels = info.channels;
  if (info.channels < 1 || info.channels > 8 || info.samplerate < 4000 ||
      info.samplerate > 192000) {
    p.error = "unsupported";
    return p;
  }
  // The limit in source frames, with room for the resampler's rounding.
  const double ratio = info.samplerate / 8000.0;
  const auto max_frames = sf_count_t(double(kMaxPromptSamples) * ratio) + 1;
  std::vector<float> mono, block(size_t(4096) * size_t(info.channels));
  while (true) {
    sf_count_t n = sf_readf_float(f, block.data(), 4096);
    if (n <= 0) break;
    for (sf_count_t i = 0; i < n; ++i) {
      float sum = 0;
      for (int ch = 0; ch < info.channels; ++ch) sum += block[size_t(i * info.channels + ch)];
      mono.push_back(std::isfinite(sum) ? sum / float(info.channels) : 0.f);
    }
    if (sf_count_t(mono.size()) > max_frames) {
      p.error = "too_long";
      return p;
    }
  }
  p.samples = to_8k(mono, info.samplerate);
  if (p.samples.empty()) p.error = "empty";
  return p;
}

}  // namespace

std::vector<int16_t> to_8k(const std::vector<float>& mono, int rate) {
  std::vector<int16_t> out;
  auto put = [&](const float* x, size_t n) {
    for (size_t i = 0; i < n; ++i)
      out.push_back(int16_t(std::lrint(std::clamp(x[i] * 32767.f, -32768.f, 32767.f))));
  };
  if (rate == 8000 || mono.empty()) {
    put(mono.data(), mono.size());
    return out;
  }
  int err = 0;
  // Quality 8 of 10: prompts are resampled once and cached, so the cost does not matter.
  std::unique_ptr<SpeexResamplerState, void (*)(SpeexResamplerState*)> rs(
      speex_resampler_init(1, spx_uint32_t(rate), 8000, 8, &err), speex_resampler_destroy);
  if (!rs || err != RESAMPLER_ERR_SUCCESS) return out;
  speex_resampler_skip_zeros(rs.get());  // no filter delay at the start of a prompt
  // The input followed by the filter's latency in silence, so that the end is not cut short.
  std::vector<float> in(mono);
  in.resize(in.size() + size_t(speex_resampler_get_input_latency(rs.get())), 0.f);
  const size_t expected = size_t(std::llround(double(mono.size()) * 8000.0 / rate));
  std::vector<float> buf(4096);
  size_t pos = 0;
  while (pos < in.size() && out.size() < expected) {
    auto in_len = spx_uint32_t(std::min<size_t>(in.size() - pos, 16384));
    auto out_len = spx_uint32_t(buf.size());
    speex_resampler_process_float(rs.get(), 0, in.data() + pos, &in_len, buf.data(), &out_len);
    if (in_len == 0 && out_len == 0) break;
    pos += in_len;
    put(buf.data(), std::min<size_t>(out_len, expected - out.size()));
  }
  return out;
}

Prompt decode_prompt(std::string_view data) {
  Bytes b{data};
  SF_VIRTUAL_IO io{bytes_length, bytes_seek, bytes_read, bytes_write, bytes_tell};
  SF_INFO info{};
  File f(sf_open_virtual(&io, SFM_READ, &info, &b), sf_close);
  if (!f) return Prompt{{}, 0, 0, "not_audio"};
  return decode(f.get(), info);
}

Prompt read_prompt(const std::string& path) {
  SF_INFO info{};
  File f(sf_open(path.c_str(), SFM_READ, &info), sf_close);
  if (!f) return Prompt{{}, 0, 0, "not_audio"};
  return decode(f.get(), info);
}

bool StereoWavWriter::open(const std::string& path) {
  close();
  SF_INFO info{};
  info.samplerate = 8000;
  info.channels = 2;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  if (!f) return false;
  // The header follows every write: a crash leaves a valid file of what was recorded.
  sf_command(f, SFC_SET_UPDATE_HEADER_AUTO, nullptr, SF_TRUE);
  file_ = f;
  return true;
}

void StereoWavWriter::write(const int16_t* interleaved, size_t frames) {
  if (file_) sf_writef_short(static_cast<SNDFILE*>(file_), interleaved, sf_count_t(frames));
}

void StereoWavWriter::close() {
  if (file_) sf_close(static_cast<SNDFILE*>(file_));
  file_ = nullptr;
}

}  // namespace kefu::media
