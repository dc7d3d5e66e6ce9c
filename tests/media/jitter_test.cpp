// The decoded receive path: packets reordered and lost on the way come out in order, a lost frame
// is concealed rather than silent, and DTMF tones in the audio are heard as digits.
#include "media/jitter.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "media/dtmf_detector.hpp"
#include "media/dtmf_sender.hpp"

namespace kefu::media {
namespace {

// Frame k of a 400 Hz tone whose loudness says k: 400 × (k + 2) at its peak.
std::vector<int16_t> frame(int k) {
  std::vector<int16_t> f(160);
  for (int i = 0; i < 160; ++i)
    f[i] = int16_t(400 * (k + 2) * std::sin(2 * M_PI * 400 * i / 8000.0 + M_PI / 2));
  return f;
}

int which(const int16_t* x) {
  int peak = 0;
  for (int i = 0; i < 160; ++i) peak = std::max(peak, std::abs(int(x[i])));
  return int(std::lround(peak / 400.0)) - 2;
}

double rms(const int16_t* x, int n) {
  double s = 0;
  for (int i = 0; i < n; ++i) s += double(x[i]) * x[i];
  return std::sqrt(s / n);
}

TEST(AudioJitter, PutsReorderedPacketsBackInOrder) {
  AudioJitter jb;
  int16_t out[160];
  EXPECT_FALSE(jb.get(out));  // nothing heard yet: the mixer takes silence
  // Arrival order 0 2 1 4 3 5 …: every pair swapped after the first.
  std::vector<int> order = {0, 2, 1, 4, 3, 6, 5, 8, 7, 9, 10, 11, 12, 13, 14, 15};
  std::vector<int> got;
  size_t next = 0;
  for (int tick = 0; tick < 40; ++tick) {
    for (int k = 0; k < 2 && next < order.size(); ++k, ++next) {
      auto f = frame(order[next]);
      jb.put(uint32_t(1000 + order[next] * 160), f.data(), f.size());
    }
    if (jb.get(out) && jb.stats().concealed == 0) got.push_back(which(out));
  }
  ASSERT_GE(got.size(), 12u);
  for (size_t i = 1; i < got.size(); ++i) EXPECT_LT(got[i - 1], got[i]);
}

TEST(AudioJitter, ALostFrameIsConcealedNotSilent) {
  AudioJitter jb;
  int16_t out[160];
  int concealed_loud = 0;
  for (int k = 10; k < 30; ++k) {
    if (k != 15) {  // frame 15 never arrives
      auto f = frame(k);
      jb.put(uint32_t(k * 160), f.data(), f.size());
    }
    if (jb.get(out) && jb.stats().concealed > 0 && concealed_loud == 0)
      concealed_loud = int(rms(out, 160));
  }
  EXPECT_EQ(jb.stats().concealed, 1u);
  EXPECT_GT(concealed_loud, 1000);  // the repeated pitch period, not a hole
}

TEST(AudioJitter, ALongSilenceIsNotConcealedForever) {
  AudioJitter jb;
  int16_t out[160];
  auto f = frame(0);
  jb.put(0, f.data(), f.size());
  int frames = 0;
  for (int k = 0; k < 50; ++k) frames += jb.get(out);
  EXPECT_LE(frames, 7);
}

TEST(DtmfDetector, HearsDigitsInTheAudio) {
  std::string heard;
  DtmfDetector d([&](char c) { heard += c; });
  std::vector<int16_t> pcm;
  for (char c : std::string("95588#")) {
    std::vector<int16_t> tone(8 * 80), gap(8 * 60, 0);
    dtmf_tone(c, 80, tone.data());
    pcm.insert(pcm.end(), tone.begin(), tone.end());
    pcm.insert(pcm.end(), gap.begin(), gap.end());
  }
  for (size_t i = 0; i < pcm.size(); i += 160)
    d.feed(pcm.data() + i, std::min<size_t>(160, pcm.size() - i));
  EXPECT_EQ(heard, "95588#");
}

TEST(DtmfSender, KeysGoOutAsRfc4733EventsThatTheReceiverReadsOnce) {
  DtmfSender tx(true);
  EXPECT_FALSE(tx.active());
  tx.queue("1x#");  // x is not a key: skipped
  std::string got;
  DtmfReceiver rx;
  uint32_t ts = 1000;  // the stream's clock, 160 a period
  int periods = 0, end_packets = 0;
  while (tx.active() && periods < 100) {
    auto p = tx.next();
    ts += 160;
    ++periods;
    for (size_t i = 0; i < p.events.size(); ++i) {
      RtpHeader h;
      h.timestamp = ts - p.started;  // every packet of a key carries its first timestamp
      h.marker = p.marker && i == 0;
      end_packets += p.events[i].end;
      if (auto c = rx.on_packet(h, p.events[i])) got += *c;
    }
  }
  EXPECT_EQ(got, "1#");
  EXPECT_EQ(end_packets, 6);  // each key's end, three times
  EXPECT_EQ(periods, 18);     // 100 ms of key, its end, 60 ms of pause: 9 periods a key
}

TEST(DtmfSender, WithoutTelephoneEventTheTonesAreInTheAudio) {
  DtmfSender tx(false);
  tx.queue("95#");
  std::string heard;
  DtmfDetector d([&](char c) { heard += c; });
  int periods = 0;
  while (tx.active() && periods < 200) {
    auto p = tx.next();
    ++periods;
    if (p.audio) d.feed(p.pcm, 160);
  }
  int16_t silence[160] = {};
  for (int i = 0; i < 5; ++i) d.feed(silence, 160);
  EXPECT_EQ(heard, "95#");
  EXPECT_LT(periods, 40);  // 160 ms a key
}

TEST(DtmfDetector, SpeechAndMusicAreNotDigits) {
  std::string heard;
  DtmfDetector d([&](char c) { heard += c; });
  std::vector<int16_t> pcm(8000 * 3);
  for (size_t i = 0; i < pcm.size(); ++i)  // a chord and a glide
    pcm[i] = int16_t(3000 * std::sin(2 * M_PI * 440 * i / 8000.0) +
                     3000 * std::sin(2 * M_PI * (300 + i / 40.0) * i / 8000.0));
  for (size_t i = 0; i < pcm.size(); i += 160) d.feed(pcm.data() + i, 160);
  EXPECT_EQ(heard, "");
}

}  // namespace
}  // namespace kefu::media
