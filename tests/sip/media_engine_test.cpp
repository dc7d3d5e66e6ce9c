// The media engine on real loopback sockets: two legs in a mix relay each other's packets with
// their own SSRC and continuous sequence and timestamps, PCMU is transcoded to PCMA for a far
// end that chose it, digits are reported and not relayed, and nothing is relayed out of a mix.
#include "sip/media_engine.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <vector>

#include "media/g711.hpp"
#include "media/rtcp.hpp"
#include "media/rtp.hpp"

namespace kefu::sip {
namespace {

struct Peer {  // a far end: a UDP socket on loopback
  int fd;
  uint16_t port;
  Peer() {
    fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    timeval tv{0, 300'000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Peer() { ::close(fd); }
  void send(uint16_t to, uint8_t pt, uint16_t seq, uint32_t ts, const std::vector<uint8_t>& p) {
    media::RtpHeader h;
    h.payload_type = pt;
    h.sequence = seq;
    h.timestamp = ts;
    h.ssrc = 0xabcdef;
    uint8_t buf[1500];
    size_t n = media::write_rtp(h, p.data(), p.size(), buf, sizeof buf);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(to);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::sendto(fd, buf, n, 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  // The next packet, or false after 300 ms.
  bool recv(media::RtpHeader& h, std::vector<uint8_t>& payload) {
    uint8_t buf[1500];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0 || !media::parse_rtp(buf, size_t(n), h)) return false;
    payload.assign(buf + h.payload_offset, buf + h.payload_offset + h.payload_size);
    return true;
  }
};

TEST(MediaEngine, BridgesTwoLegsRewritingHeadersAndTranscoding) {
  MediaEngine m("127.0.0.1", 31000, 31100);
  m.start();
  std::atomic<char> digit{0};
  m.on_digit([&](cti::LegId, char c) { digit = c; });
  Peer a, b;
  uint16_t pa = m.open(1), pb = m.open(2);
  ASSERT_NE(pa, 0);
  ASSERT_NE(pb, 0);
  m.set_remote(1, "127.0.0.1", a.port, 0, "PCMU", 101);
  m.set_remote(2, "127.0.0.1", b.port, 8, "PCMA", -1);
  std::vector<uint8_t> voice(160, media::linear_to_ulaw(1000));
  media::RtpHeader h;
  std::vector<uint8_t> got;
  a.send(pa, 0, 1, 1000, voice);  // not in a mix yet: nothing goes through
  EXPECT_FALSE(b.recv(h, got));
  m.join(7, 1, cti::MixMode::talk);
  m.join(7, 2, cti::MixMode::talk);
  uint32_t ssrc = 0;
  uint16_t seq = 0;
  uint32_t ts = 0;
  for (int i = 0; i < 5; ++i) {
    a.send(pa, 0, uint16_t(2 + i), 1160 + 160 * uint32_t(i), voice);
    ASSERT_TRUE(b.recv(h, got)) << i;
    EXPECT_EQ(h.payload_type, 8);
    ASSERT_EQ(got.size(), 160u);
    EXPECT_EQ(got[0], media::linear_to_alaw(media::ulaw_to_linear(voice[0])));
    if (i > 0) {
      EXPECT_EQ(h.ssrc, ssrc);
      EXPECT_EQ(uint16_t(h.sequence - seq), 1);
      EXPECT_EQ(h.timestamp - ts, 160u);
    }
    ssrc = h.ssrc, seq = h.sequence, ts = h.timestamp;
  }
  EXPECT_NE(ssrc, 0xabcdefu);  // the far end sees the leg's own stream, not the source's
  // The other way, PCMA back to PCMU.
  b.send(pb, 8, 9, 5000, std::vector<uint8_t>(160, media::linear_to_alaw(-500)));
  ASSERT_TRUE(a.recv(h, got));
  EXPECT_EQ(h.payload_type, 0);
  // A digit is reported, not relayed.
  a.send(pa, 101, 20, 9000, {5, 0x0a, 0x01, 0x90});
  EXPECT_FALSE(b.recv(h, got));
  EXPECT_EQ(digit.load(), '5');
  // Out of the mix: nothing more.
  m.leave(7, 2);
  a.send(pa, 0, 21, 9160, voice);
  EXPECT_FALSE(b.recv(h, got));
  EXPECT_GE(m.counters(1).received, 7u);
  EXPECT_EQ(m.counters(2).relayed, 5u);
  m.close(1);
  m.close(2);
  m.stop();
}

// The loudness of a received PCMU frame (0 for silence).
int level(const std::vector<uint8_t>& p) {
  int peak = 0;
  for (uint8_t b : p) peak = std::max(peak, std::abs(int(media::ulaw_to_linear(b))));
  return peak;
}

TEST(MediaEngine, MixesThreePartiesByTheirModesAndPlaysMusicOutsideAMix) {
  MediaEngine m("127.0.0.1", 31200, 31300);
  m.start();
  Peer customer, agent, supervisor;
  for (auto [leg, peer] : {std::pair{1, &customer}, {2, &agent}, {3, &supervisor}}) {
    ASSERT_NE(m.open(leg), 0);
    m.set_remote(leg, "127.0.0.1", peer->port, 0, "PCMU", 101);
  }
  uint16_t pc = m.open(1), ps = m.open(3);
  // Outside a mix, the customer hears music on hold (no prompt directory: the generated chime).
  m.play(1, "music_on_hold");
  media::RtpHeader h;
  std::vector<uint8_t> got;
  int loud = 0;
  for (int i = 0; i < 60 && customer.recv(h, got); ++i) loud = std::max(loud, level(got));
  EXPECT_GT(loud, 500);
  // A call with a listening supervisor: he hears the customer; the customer does not hear him.
  m.join(9, 1, cti::MixMode::talk);
  m.join(9, 2, cti::MixMode::talk);
  m.join(9, 3, cti::MixMode::listen);
  std::vector<uint8_t> voice(160, media::linear_to_ulaw(8000)),
      quiet(160, media::linear_to_ulaw(0));
  int sup_heard = 0, customer_heard = 0;
  for (int i = 0; i < 25; ++i) {  // half a second of both talking
    customer.send(pc, 0, uint16_t(100 + i), 160 * uint32_t(i), voice);
    supervisor.send(ps, 0, uint16_t(200 + i), 160 * uint32_t(i), voice);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    // What arrived so far (the mixer sends every 20 ms, silence included): a bounded drain.
    for (int k = 0; k < 3 && supervisor.recv(h, got); ++k)
      sup_heard = std::max(sup_heard, level(got));
    for (int k = 0; k < 3 && customer.recv(h, got); ++k)
      customer_heard = std::max(customer_heard, level(got));
  }
  EXPECT_GT(sup_heard, 4000);
  EXPECT_LT(customer_heard, 100);  // the agent said nothing, the supervisor is not heard
  m.stop();
}

TEST(MediaEngine, CallsSpreadOverMediaThreadsAndALegFollowsItsMixFromThreadToThread) {
  MediaEngine m("127.0.0.1", 31600, 31700, "", 3);
  ASSERT_EQ(m.threads(), 3);
  m.start();
  // Six calls of two legs: a leg starts on the thread its id picks, and most joins move it to
  // the thread of its call.
  constexpr int kCalls = 6;
  std::vector<std::unique_ptr<Peer>> peers;
  std::vector<uint16_t> ports;
  for (int k = 0; k < 2 * kCalls; ++k) {
    peers.push_back(std::make_unique<Peer>());
    auto leg = cti::LegId(k + 1);
    ports.push_back(m.open(leg));
    ASSERT_NE(ports.back(), 0);
    m.set_remote(leg, "127.0.0.1", peers.back()->port, 0, "PCMU", 101);
  }
  // Packets already flowing to every leg while the legs move (a caller talking in the queue).
  std::atomic<bool> talking{true};
  std::thread talk([&] {
    std::vector<uint8_t> voice(160, media::linear_to_ulaw(8000));
    for (uint16_t i = 0; talking; ++i) {
      for (size_t k = 0; k < peers.size(); ++k)
        peers[k]->send(ports[k], 0, i, 160u * i, std::vector<uint8_t>(160, uint8_t(k + 1)));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  for (int c = 0; c < kCalls; ++c) {
    m.join(cti::CallId(c + 1), cti::LegId(2 * c + 1), cti::MixMode::talk);
    m.join(cti::CallId(c + 1), cti::LegId(2 * c + 2), cti::MixMode::talk);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // Each far end now hears its partner's packets, relayed as they are.
  auto hears = [&](size_t k, uint8_t from) {
    media::RtpHeader h;
    std::vector<uint8_t> got;
    for (int i = 0; i < 20 && peers[k]->recv(h, got); ++i)
      if (!got.empty() && got[0] == from) return true;
    return false;
  };
  for (int c = 0; c < kCalls; ++c) {
    EXPECT_TRUE(hears(size_t(2 * c), uint8_t(2 * c + 2))) << "call " << c + 1;
    EXPECT_TRUE(hears(size_t(2 * c + 1), uint8_t(2 * c + 1))) << "call " << c + 1;
  }
  // A transfer: call 1's second leg leaves and joins call 2 (another thread) with a third party
  // there, so call 2 is mixed now; its first leg hears both others, decoded and mixed.
  m.leave(1, 2);
  m.join(2, 2, cti::MixMode::talk);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_GT(m.counters(3).relayed, 0u);
  auto before = m.counters(2).relayed;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_GT(m.counters(2).relayed, before);  // its packets come from the mixer of call 2 now
  talking = false;
  talk.join();
  for (int k = 1; k <= 2 * kCalls; ++k) m.close(cti::LegId(k));
  EXPECT_EQ(m.counters(1).relayed, 0u);  // closed: nothing known of it
  m.stop();
}

TEST(MediaEngine, RtcpReportsGoBothWaysAndEachLegKeepsItsQuality) {
  MediaEngine m("127.0.0.1", 31800, 31900);
  m.start();
  Peer a, b;
  // Leg ids whose first report is due at once (reports are spread over 5 s by leg id).
  const cti::LegId la = 249, lb = 498;
  uint16_t pa = m.open(la), pb = m.open(lb);
  m.set_remote(la, "127.0.0.1", a.port, 0, "PCMU", 101);
  m.set_remote(lb, "127.0.0.1", b.port, 0, "PCMU", 101);
  m.join(7, la, cti::MixMode::talk);
  m.join(7, lb, cti::MixMode::talk);
  auto send_rtcp = [](Peer& p, uint16_t port, const media::RtcpReport& r) {
    uint8_t buf[256];
    size_t n = media::write_rtcp(r, "peer", buf, sizeof buf);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(uint16_t(port + 1));  // RTCP: the port above RTP
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::sendto(p.fd, buf, n, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  };
  // A's first report (no blocks yet) teaches Kefu where A wants RTCP: its own socket.
  media::RtcpReport hello;
  hello.ssrc = 0xabcdef;
  send_rtcp(a, pa, hello);
  // One second of both talking; A loses two of its packets on the way to Kefu.
  std::vector<uint8_t> voice(160, media::linear_to_ulaw(3000));
  for (uint16_t i = 1; i <= 50; ++i) {
    if (i != 10 && i != 20) a.send(pa, 0, i, 160u * i, voice);
    b.send(pb, 0, i, 160u * i, voice);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // A reads what came: Kefu's RTP (B's voice relayed, with Kefu's SSRC) and Kefu's SR.
  uint32_t kefu_ssrc = 0;
  bool got_sr = false;
  uint8_t buf[1500];
  for (ssize_t n; (n = ::recv(a.fd, buf, sizeof buf, MSG_DONTWAIT)) > 0;) {
    std::vector<media::RtcpReport> reports;
    if (buf[1] >= 200 && buf[1] <= 204 && media::parse_rtcp(buf, size_t(n), reports)) {
      got_sr = got_sr || (!reports.empty() && reports[0].sender);
      continue;
    }
    media::RtpHeader h;
    if (media::parse_rtp(buf, size_t(n), h)) kefu_ssrc = h.ssrc;
  }
  ASSERT_NE(kefu_ssrc, 0u);
  EXPECT_TRUE(got_sr) << "no sender report from Kefu";
  // A reports on Kefu's stream: 3 lost, 10 ms of jitter.
  media::RtcpReport rr;
  rr.ssrc = 0xabcdef;
  rr.blocks.push_back({kefu_ssrc, 5, 3, 50, 80, 0, 0});
  send_rtcp(a, pa, rr);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto q = m.close(la);
  EXPECT_EQ(q.mix, 7u);
  EXPECT_EQ(q.received, 48u);
  EXPECT_EQ(q.lost, 2);
  EXPECT_EQ(q.rtcp_received, 2u);
  EXPECT_GE(q.rtcp_sent, 1u);
  EXPECT_TRUE(q.far_reported);
  EXPECT_EQ(q.far_lost, 3);
  EXPECT_DOUBLE_EQ(q.far_jitter_ms, 10.0);
  EXPECT_GT(q.relayed, 40u);
  EXPECT_FALSE(m.close(lb).far_reported);  // B sent no report
  m.stop();
}

// A 16-bit mono 8 kHz WAV of a 500 Hz tone at `amplitude` for `ms`.
void write_tone(const std::string& path, int amplitude, int ms) {
  std::vector<int16_t> pcm(size_t(ms) * 8);
  for (size_t i = 0; i < pcm.size(); ++i)
    pcm[i] = int16_t(amplitude * std::sin(2 * M_PI * 500 * double(i) / 8000));
  uint32_t data = uint32_t(pcm.size() * 2), riff = 36 + data, fmt = 16, rate = 8000, bps = 16000;
  uint16_t pcm_fmt = 1, ch = 1, align = 2, bits = 16;
  FILE* f = std::fopen(path.c_str(), "wb");
  std::fwrite("RIFF", 1, 4, f), std::fwrite(&riff, 4, 1, f), std::fwrite("WAVEfmt ", 1, 8, f);
  std::fwrite(&fmt, 4, 1, f), std::fwrite(&pcm_fmt, 2, 1, f), std::fwrite(&ch, 2, 1, f);
  std::fwrite(&rate, 4, 1, f), std::fwrite(&bps, 4, 1, f), std::fwrite(&align, 2, 1, f);
  std::fwrite(&bits, 2, 1, f), std::fwrite("data", 1, 4, f), std::fwrite(&data, 4, 1, f);
  std::fwrite(pcm.data(), 2, pcm.size(), f);
  std::fclose(f);
}

// The loudest sample of each of the next `frames` packets.
std::vector<int> levels(Peer& p, int frames) {
  std::vector<int> out;
  media::RtpHeader h;
  std::vector<uint8_t> got;
  for (int i = 0; i < frames && p.recv(h, got); ++i) out.push_back(level(got));
  return out;
}

TEST(MediaEngine, AnAnnouncementInterruptsTheQueueMusicWhichComesBackAfterIt) {
  auto dir =
      std::filesystem::temp_directory_path() / ("kefu-prompts-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  write_tone((dir / "queue_music.wav").string(), 1000, 400);  // soft
  write_tone((dir / "announce.wav").string(), 12000, 300);    // loud, 15 frames
  MediaEngine m("127.0.0.1", 31400, 31500, dir.string());
  m.start();
  Peer caller;
  ASSERT_NE(m.open(1), 0);
  m.set_remote(1, "127.0.0.1", caller.port, 0, "PCMU", 101);
  m.play(1, "queue_music");
  auto soft = levels(caller, 10);
  ASSERT_FALSE(soft.empty());
  EXPECT_LT(*std::max_element(soft.begin(), soft.end()), 2000);
  // The core's announcement: the words, then the music again.
  m.play(1, "announce");
  m.play(1, "queue_music");
  auto heard = levels(caller, 40);
  int loud = int(std::count_if(heard.begin(), heard.end(), [](int x) { return x > 8000; }));
  EXPECT_GE(loud, 12);  // the words, once
  ASSERT_GE(heard.size(), 35u);
  auto tail = std::vector<int>(heard.end() - 8, heard.end());
  EXPECT_TRUE(
      std::all_of(tail.begin(), tail.end(), [](int x) { return x > 300 && x < 2000; }));  // music
  m.stop();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kefu::sip
