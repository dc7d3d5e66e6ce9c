// RTCP reports written and read back field by field, malformed packets refused, and the
// receiver's statistics (RFC 3550 A.1, A.3, A.8) counting losses across a sequence wrap,
// ignoring one stray jump, following a restarted source and measuring jitter.
#include "media/rtcp.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace kefu::media {
namespace {

TEST(Rtcp, ASenderReportWithABlockAndItsCnameReadsBack) {
  RtcpReport sr;
  sr.sender = true;
  sr.ssrc = 0x11223344;
  sr.ntp = ntp_time(1'764'633'600'500'000);  // 2025-12-02 00:00:00.5 UTC
  sr.rtp_timestamp = 160'000, sr.packets = 250, sr.octets = 40'000;
  sr.blocks.push_back({0xabcdef01, 64, -3, 0x1'0005, 37, 0x12345678, 0x00018000});
  uint8_t buf[256];
  size_t n = write_rtcp(sr, "kefu@127.0.0.1", buf, sizeof buf);
  ASSERT_GT(n, 52u);
  EXPECT_EQ(n % 4, 0u);
  std::vector<RtcpReport> got;
  ASSERT_TRUE(parse_rtcp(buf, n, got));
  ASSERT_EQ(got.size(), 1u);  // the SDES is skipped
  EXPECT_TRUE(got[0].sender);
  EXPECT_EQ(got[0].ssrc, sr.ssrc);
  EXPECT_EQ(got[0].ntp, sr.ntp);
  EXPECT_EQ(uint32_t(got[0].ntp >> 32), 1'764'633'600u + 2'208'988'800u);
  EXPECT_EQ(got[0].packets, 250u);
  EXPECT_EQ(got[0].octets, 40'000u);
  ASSERT_EQ(got[0].blocks.size(), 1u);
  const auto& b = got[0].blocks[0];
  EXPECT_EQ(b.ssrc, 0xabcdef01u);
  EXPECT_EQ(b.fraction_lost, 64);
  EXPECT_EQ(b.cumulative_lost, -3);  // duplicates can make it negative: 24-bit signed
  EXPECT_EQ(b.highest_seq, 0x1'0005u);
  EXPECT_EQ(b.jitter, 37u);
  EXPECT_EQ(b.lsr, 0x12345678u);
  EXPECT_EQ(b.dlsr, 0x00018000u);
  // The CNAME is where RFC 3550 puts it.
  EXPECT_EQ(buf[n - (n - 52)], 0x81);
  EXPECT_EQ(std::memcmp(buf + 52 + 10, "kefu@127.0.0.1", 14), 0);
}

TEST(Rtcp, AReceiverReportWithoutBlocksAndCompoundsOfSeveral) {
  RtcpReport rr;
  rr.ssrc = 7;
  uint8_t buf[512];
  size_t n = write_rtcp(rr, "x", buf, sizeof buf);
  ASSERT_EQ(n, 8u + 12u);
  RtcpReport sr;
  sr.sender = true, sr.ssrc = 9;
  size_t m = write_rtcp(sr, "y", buf + n, sizeof buf - n);
  std::vector<RtcpReport> got;
  ASSERT_TRUE(parse_rtcp(buf, n + m, got));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_FALSE(got[0].sender);
  EXPECT_EQ(got[0].ssrc, 7u);
  EXPECT_TRUE(got[1].sender);
  EXPECT_EQ(write_rtcp(sr, "y", buf, 20), 0u);  // too small
}

TEST(Rtcp, MalformedPacketsAreRefused) {
  RtcpReport rr;
  rr.ssrc = 7;
  rr.blocks.resize(2);
  uint8_t buf[256];
  size_t n = write_rtcp(rr, "x", buf, sizeof buf);
  std::vector<RtcpReport> got;
  EXPECT_FALSE(parse_rtcp(buf, n - 1, got));  // the last part runs past the packet
  EXPECT_FALSE(parse_rtcp(buf, 3, got));
  uint8_t bad[sizeof buf];
  std::memcpy(bad, buf, n);
  bad[0] = (bad[0] & 0x3f) | 0x40;  // version 1
  EXPECT_FALSE(parse_rtcp(bad, n, got));
  std::memcpy(bad, buf, n);
  bad[0] = 0x80 | 5;  // five blocks claimed in a report long enough for two
  EXPECT_FALSE(parse_rtcp(bad, n, got));
  EXPECT_TRUE(parse_rtcp(buf, n, got));
}

TEST(ReceptionStats, CountsLossesAcrossTheSequenceWrapAndReportsEachInterval) {
  ReceptionStats s;
  uint16_t seq = 65'500;
  uint32_t ts = 0;
  for (int i = 0; i < 100; ++i, ++seq, ts += 160)
    if (i % 10 != 5) s.on_packet(seq, ts, ts + 1000);  // every tenth packet lost
  EXPECT_EQ(s.expected(), 100u);
  EXPECT_EQ(s.received(), 90u);
  EXPECT_EQ(s.lost(), 10);
  auto b = s.block(42, 0, 0);
  EXPECT_EQ(b.fraction_lost, 25);  // 10 of 100 in 1/256
  EXPECT_EQ(b.cumulative_lost, 10);
  EXPECT_EQ(b.highest_seq, 0x10000u + uint16_t(seq - 1));  // one wrap
  EXPECT_EQ(b.jitter, 0u);                                 // evenly spaced
  for (int i = 0; i < 50; ++i, ++seq, ts += 160) s.on_packet(seq, ts, ts + 1000);
  EXPECT_EQ(s.block(42, 0, 0).fraction_lost, 0);  // nothing lost since the last report
  EXPECT_EQ(s.lost(), 10);
}

TEST(ReceptionStats, OneStrayJumpIsIgnoredARestartedSourceIsFollowed) {
  ReceptionStats s;
  for (uint16_t q = 100; q < 110; ++q) s.on_packet(q, q * 160u, q * 160u);
  s.on_packet(40'000, 0, 0);  // one stray packet far away: not counted
  s.on_packet(110, 110 * 160u, 110 * 160u);
  EXPECT_EQ(s.received(), 11u);
  EXPECT_EQ(s.lost(), 0);
  s.on_packet(20'000, 0, 0);      // a new sequence twice in a row: the source restarted, and the
  s.on_packet(20'001, 160, 160);  // count starts again from the second (A.1)
  s.on_packet(20'002, 320, 320);
  EXPECT_EQ(s.received(), 2u);
  EXPECT_EQ(s.expected(), 2u);
  EXPECT_EQ(s.lost(), 0);
}

TEST(ReceptionStats, JitterFollowsUnevenArrival) {
  ReceptionStats s;
  uint32_t ts = 0;
  for (int i = 0; i < 500; ++i, ts += 160) s.on_packet(uint16_t(i), ts, ts + (i % 2 ? 80 : 0));
  // Transit alternates by 80 units (10 ms): the estimate converges towards 80.
  EXPECT_NEAR(double(s.jitter()), 80, 8);
}

}  // namespace
}  // namespace kefu::media
