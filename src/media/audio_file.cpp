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

void put_pcm(const float* x, size_t n, std::vector<int16_t>& out) {
  for (size_t i = 0; i < n; ++i)
    out.push_back(int16_t(std::lrint(std::clamp(x[i] * 32767.f, -32768.f, 32767.f))));
}

// speexdsp's resampler to 8 kHz, fed block by block, so a long file is never held at its own
// rate. Quality 8 of 10: prompts are resampled once and cached, so the cost does not matter.
class To8k {
 public:
  explicit To8k(int rate) : rate_(rate), rs_(nullptr, speex_resampler_destroy) {
    if (rate == 8000) return;
    int err = 0;
    rs_.reset(speex_resampler_init(1, spx_uint32_t(rate), 8000, 8, &err));
    if (err != RESAMPLER_ERR_SUCCESS) rs_.reset();
    if (rs_) speex_resampler_skip_zeros(rs_.get());  // no filter delay before the first word
  }
  bool ok() const { return rate_ == 8000 || rs_ != nullptr; }

  void push(const float* x, size_t n, std::vector<int16_t>& out) {
    consumed_ += n;
    if (!rs_) return put_pcm(x, n, out);
    while (n > 0) {
      auto in_len = spx_uint32_t(std::min<size_t>(n, 16384));
      auto out_len = spx_uint32_t(buf_.size());
      speex_resampler_process_float(rs_.get(), 0, x, &in_len, buf_.data(), &out_len);
      if (in_len == 0 && out_len == 0) break;
      put_pcm(buf_.data(), out_len, out);
      x += in_len, n -= in_len;
    }
  }

  // The filter's tail (its latency in silence), and the length made exact: input × 8000 / rate.
  void finish(std::vector<int16_t>& out) {
    const size_t expected = size_t(std::llround(double(consumed_) * 8000.0 / rate_));
    if (rs_) {
      std::vector<float> tail(size_t(speex_resampler_get_input_latency(rs_.get())), 0.f);
      push(tail.data(), tail.size(), out);
    }
    if (out.size() > expected) out.resize(expected);
  }

 private:
  int rate_;
  std::unique_ptr<SpeexResamplerState, void (*)(SpeexResamplerState*)> rs_;
  std::vector<float> buf_ = std::vector<float>(4096);
  uint64_t consumed_ = 0;
};

// Every frame of an open file, its channels averaged, taken to 8 kHz as it is read.
Prompt decode(SNDFILE* f, const SF_INFO& info) {
  Prompt p;
  p.source_rate = info.samplerate;
  p.source_channels = info.channels;
  if (info.channels < 1 || info.channels > 8 || info.samplerate < 4000 ||
      info.samplerate > 192000) {
    p.error = "unsupported";
    return p;
  }
  To8k resample(info.samplerate);
  if (!resample.ok()) {
    p.error = "unsupported";
    return p;
  }
  std::vector<float> block(size_t(4096) * size_t(info.channels)), mono(4096);
  while (true) {
    sf_count_t n = sf_readf_float(f, block.data(), 4096);
    if (n <= 0) break;
    for (sf_count_t i = 0; i < n; ++i) {
      float sum = 0;
      for (int ch = 0; ch < info.channels; ++ch) sum += block[size_t(i * info.channels + ch)];
      mono[size_t(i)] = std::isfinite(sum) ? sum / float(info.channels) : 0.f;
    }
    resample.push(mono.data(), size_t(n), p.samples);
    if (p.samples.size() > kMaxPromptSamples) {
      p.samples = {};
      p.error = "too_long";
      return p;
    }
  }
  resample.finish(p.samples);
  if (p.samples.empty()) p.error = "empty";
  return p;
}

}  // namespace

std::vector<int16_t> to_8k(const std::vector<float>& mono, int rate) {
  std::vector<int16_t> out;
  To8k resample(rate);
  if (!resample.ok()) return out;
  resample.push(mono.data(), mono.size(), out);
  resample.finish(out);
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
