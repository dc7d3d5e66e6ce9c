// Prompts in the forms operators bring them (44.1 kHz stereo WAV, FLAC, μ-law) come out as 8 kHz
// mono of the right length and pitch; what is not sound is refused with a reason; a recording
// being written is a valid WAV at every moment.
#include "media/audio_file.hpp"

#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace kefu::media {
namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("kefu-audio-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

// `seconds` of a `hz` tone at half scale, in every channel, written by libsndfile as `format`.
void write_tone(const std::string& path, int format, int rate, int channels, double seconds,
                double hz) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = format;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr) << sf_strerror(nullptr);
  auto frames = size_t(seconds * rate);
  std::vector<float> x(frames * size_t(channels));
  for (size_t i = 0; i < frames; ++i)
    for (int c = 0; c < channels; ++c)
      x[i * size_t(channels) + size_t(c)] =
          0.5f * float(std::sin(2 * M_PI * hz * double(i) / rate));
  sf_writef_float(f, x.data(), sf_count_t(frames));
  sf_close(f);
}

// The share of the signal's power at `hz` (Goertzel): about 1 for a clean tone.
double tone_share(const std::vector<int16_t>& x, double hz) {
  double re = 0, im = 0, energy = 0, w = 2 * M_PI * hz / 8000;
  for (size_t n = 0; n < x.size(); ++n) {
    re += x[n] * std::cos(w * double(n));
    im += x[n] * std::sin(w * double(n));
    energy += double(x[n]) * x[n];
  }
  return energy > 0 ? 2 * (re * re + im * im) / (double(x.size()) * energy) : 0;
}

double rms(const std::vector<int16_t>& x) {
  double s = 0;
  for (auto v : x) s += double(v) * v;
  return x.empty() ? 0 : std::sqrt(s / double(x.size()));
}

TEST(Prompt, A44kStereoWavBecomes8kMonoOfTheSameLengthAndPitch) {
  TempDir d;
  write_tone(d / "welcome.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, 1.5, 1000);
  auto p = read_prompt(d / "welcome.wav");
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.source_rate, 44100);
  EXPECT_EQ(p.source_channels, 2);
  EXPECT_NEAR(double(p.samples.size()), 12000, 2);
  EXPECT_GT(tone_share(p.samples, 1000), 0.95);
  EXPECT_NEAR(rms(p.samples), 0.5 * 32767 / std::sqrt(2), 400);  // the loudness is kept
  // The filter starts at once: no delay of silence in front of the words.
  EXPECT_GT(std::abs(p.samples[4]) + std::abs(p.samples[5]) + std::abs(p.samples[6]), 1000);
}

TEST(Prompt, AToneAboveFourKilohertzIsFilteredOutNotFoldedBack) {
  // 6 kHz at 44.1 kHz would alias to 2 kHz with the nearest-sample resampling this replaced.
  TempDir d;
  write_tone(d / "hiss.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 1, 1, 6000);
  auto p = read_prompt(d / "hiss.wav");
  ASSERT_EQ(p.error, "");
  EXPECT_LT(rms(p.samples), 300);
}

TEST(Prompt, FlacAndMuLawAreReadToo) {
  TempDir d;
  write_tone(d / "music.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 16000, 1, 1, 440);
  write_tone(d / "old.wav", SF_FORMAT_WAV | SF_FORMAT_ULAW, 8000, 1, 1, 440);
  for (auto name : {"music.flac", "old.wav"}) {
    auto p = read_prompt(d / name);
    ASSERT_EQ(p.error, "") << name;
    EXPECT_NEAR(double(p.samples.size()), 8000, 2) << name;
    EXPECT_GT(tone_share(p.samples, 440), 0.95) << name;
  }
}

TEST(Prompt, WhatIsNotSoundIsRefusedWithAReason) {
  TempDir d;
  EXPECT_EQ(read_prompt(d / "missing.wav").error, "not_audio");
  EXPECT_EQ(decode_prompt("RIFF\x10\0\0\0WAVEfmt garbage").error, "not_audio");
  EXPECT_EQ(decode_prompt(std::string(1000, '\xff')).error, "not_audio");
  write_tone(d / "long.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 4000, 1, 20 * 60 + 2, 300);
  auto p = read_prompt(d / "long.wav");
  EXPECT_EQ(p.error, "too_long");
  EXPECT_TRUE(p.samples.empty());
  // The same bytes from memory as from the file.
  write_tone(d / "ok.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 0.5, 440);
  std::ifstream in(d / "ok.wav", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(decode_prompt(bytes).samples, read_prompt(d / "ok.wav").samples);
}

TEST(StereoWavWriter, TheFileIsValidWhileItIsBeingWritten) {
  TempDir d;
  StereoWavWriter w;
  ASSERT_TRUE(w.open(d / "call.wav"));
  std::vector<int16_t> frames(2 * 8000);
  for (size_t i = 0; i < 8000; ++i) frames[2 * i] = 1000, frames[2 * i + 1] = -1000;
  w.write(frames.data(), 8000);
  // Read back before closing, as after a crash: one second, two channels, left and right apart.
  SF_INFO info{};
  SNDFILE* f = sf_open((d / "call.wav").c_str(), SFM_READ, &info);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(info.frames, 8000);
  EXPECT_EQ(info.channels, 2);
  EXPECT_EQ(info.samplerate, 8000);
  std::vector<int16_t> back(2 * 8000);
  EXPECT_EQ(sf_readf_short(f, back.data(), 8000), 8000);
  EXPECT_EQ(back, frames);
  sf_close(f);
  w.write(frames.data(), 4000);
  w.close();
  EXPECT_EQ(std::filesystem::file_size(d / "call.wav"), 44u + 12000u * 4);
}

}  // namespace
}  // namespace kefu::media
