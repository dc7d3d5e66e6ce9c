// SDP offer/answer and RTP/RFC 4733 parsing, on offers as real phones send them (a Linphone-like
// offer with Opus first, a hold re-INVITE, an offer without any G.711) and on packets built
// byte by byte.
#include <gtest/gtest.h>

#include <cmath>

#include "media/g711.hpp"
#include "media/mixer.hpp"
#include "media/rtp.hpp"
#include "media/sdp.hpp"

namespace kefu::media {
namespace {

const char* kPhoneOffer =
    "v=0\r\n"
    "o=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\n"
    "s=Talk\r\n"
    "c=IN IP4 192.0.2.10\r\n"
    "t=0 0\r\n"
    "m=audio 7078 RTP/AVP 96 8 0 101\r\n"
    "a=rtpmap:96 opus/48000/2\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-16\r\n"
    "a=ptime:20\r\n"
    "m=video 9078 RTP/AVP 97\r\n"
    "a=rtpmap:97 H264/90000\r\n";

TEST(Sdp, ParsesAPhonesOfferAndAnswersWithG711AndTelephoneEvent) {
  auto o = parse_sdp(kPhoneOffer);
  ASSERT_EQ(o.media.size(), 2u);
  EXPECT_EQ(o.session_id, 2890844526u);
  EXPECT_EQ(o.media[0].formats, (std::vector<int>{96, 8, 0, 101}));
  auto n = negotiate(o);
  EXPECT_EQ(n.codec, "PCMA");  // the first one Kefu speaks, in the caller's order
  EXPECT_EQ(n.payload_type, 8);
  EXPECT_EQ(n.dtmf_payload_type, 101);
  EXPECT_EQ(n.remote_address, "192.0.2.10");
  EXPECT_EQ(n.remote_port, 7078);
  auto a = answer(o, n, "198.51.100.5", 20000, 42);
  std::string text = to_string(a);
  EXPECT_NE(text.find("m=audio 20000 RTP/AVP 8 101\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("m=video 0 RTP/AVP 97\r\n"), std::string::npos) << text;  // refused in place
  EXPECT_NE(text.find("a=rtpmap:101 telephone-event/8000\r\n"), std::string::npos);
  // Our answer reads back as what we meant.
  auto back = parse_sdp(text);
  EXPECT_EQ(back.connection, "198.51.100.5");
  EXPECT_EQ(back.media[0].direction, "sendrecv");
}

TEST(Sdp, HoldNoCommonCodecAndBrokenDescriptions) {
  std::string hold = kPhoneOffer;
  hold.replace(hold.find("a=ptime:20"), 10, "a=sendonly");
  EXPECT_EQ(negotiate(parse_sdp(hold)).direction, "recvonly");  // the phone put us on hold
  auto code = [](const std::string& text) {
    try {
      negotiate(parse_sdp(text));
    } catch (const SdpError& e) {
      return e.code + ":" + std::to_string(e.line);
    }
    return std::string("ok");
  };
  EXPECT_EQ(code("v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 1.2.3.4\r\nm=audio 5 RTP/AVP 18\r\n"),
            "no_common_codec:0");  // G.729 only
  EXPECT_EQ(code("v=0\r\no=- 1 1 IN IP4 h\r\nm=video 5 RTP/AVP 97\r\n"), "no_audio:0");
  EXPECT_EQ(code("v=1\r\n"), "bad_version:1");
  EXPECT_EQ(code("v=0\r\no=- x 1 IN IP4 h\r\n"), "bad_origin:2");
  EXPECT_EQ(code("v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IPX 1\r\n"), "bad_connection:3");
  // The connection address is a literal of its type: no names, no half addresses.
  EXPECT_EQ(code("v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 999.1.2.x\r\n"), "bad_connection:3");
  EXPECT_EQ(code("v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 media.example.com\r\n"), "bad_connection:3");
  EXPECT_EQ(code("v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP6 1.2.3.4\r\n"), "bad_connection:3");
  EXPECT_EQ(code("v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 224.2.1.1/127\r\nm=audio 5 RTP/AVP 0\r\n"), "ok");
  EXPECT_EQ(code("v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP6 2001:db8::1\r\nm=audio 5 RTP/AVP 0\r\n"), "ipv6_media:0");
  EXPECT_EQ(code("v=0\r\no=- 1 1 IN IP4 h\r\nm=audio port RTP/AVP 0\r\n"), "bad_media:3");
  EXPECT_EQ(code("v=0\r\no=- 1 1 IN IP4 h\r\nm=audio 5 RTP/AVP 300\r\n"), "bad_media:3");
  EXPECT_EQ(code("v=0\r\nbroken\r\n"), "bad_line:2");
  EXPECT_EQ(code("v=0\r\no=- 1 1 IN IP4 h\r\nm=audio 5 RTP/AVP 0\r\n"), "bad_connection:0");
  EXPECT_EQ(code(std::string(20000, 'a')), "too_large:0");
  // Static payload types need no rtpmap; a malformed attribute is ignored, not fatal.
  EXPECT_EQ(code("v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 1.2.3.4\r\nm=audio 5 RTP/AVP 0\r\n"
                 "a=rtpmap:zz nonsense\r\n"),
            "ok");
}

TEST(Sdp, OurOwnOfferForOutboundCallsAndHold) {
  auto o = parse_sdp(to_string(offer("198.51.100.5", 30000, 7, 2, "sendonly")));
  auto n = negotiate(o);
  EXPECT_EQ(n.codec, "PCMA");
  EXPECT_EQ(n.dtmf_payload_type, 101);
  EXPECT_EQ(n.direction, "recvonly");
}

TEST(Rtp, HeadersWithCsrcExtensionAndPaddingAreReadExactly) {
  uint8_t pkt[64] = {};
  RtpHeader h;
  h.marker = true;
  h.payload_type = 8;
  h.sequence = 0xabcd;
  h.timestamp = 0x01020304;
  h.ssrc = 0xdeadbeef;
  uint8_t payload[160];
  for (int i = 0; i < 160; ++i) payload[i] = uint8_t(i);
  uint8_t big[200];
  ASSERT_EQ(write_rtp(h, payload, 160, big, sizeof big), 172u);
  EXPECT_EQ(write_rtp(h, payload, 160, pkt, sizeof pkt), 0u);  // too small
  RtpHeader r;
  ASSERT_TRUE(parse_rtp(big, 172, r));
  EXPECT_TRUE(r.marker);
  EXPECT_EQ(r.payload_type, 8);
  EXPECT_EQ(r.sequence, 0xabcd);
  EXPECT_EQ(r.timestamp, 0x01020304u);
  EXPECT_EQ(r.ssrc, 0xdeadbeefu);
  EXPECT_EQ(r.payload_offset, 12u);
  EXPECT_EQ(r.payload_size, 160u);
  // One CSRC, a one-word extension and 3 bytes of padding around a 4-byte payload.
  uint8_t x[] = {0xb1, 0x00, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 9,  // CSRC
                 0xbe, 0xde, 0, 1, 1, 2, 3, 4,                          // extension
                 9,    9,    9, 9, 0, 0, 3};
  ASSERT_TRUE(parse_rtp(x, sizeof x, r));
  EXPECT_EQ(r.payload_offset, 24u);
  EXPECT_EQ(r.payload_size, 4u);
  // Lies about lengths are refused.
  x[sizeof x - 1] = 40;
  EXPECT_FALSE(parse_rtp(x, sizeof x, r));
  x[0] = 0x8f;  // 15 CSRCs in a 31-byte packet
  EXPECT_FALSE(parse_rtp(x, sizeof x, r));
  x[0] = 0x40;  // version 1
  EXPECT_FALSE(parse_rtp(x, sizeof x, r));
  EXPECT_FALSE(parse_rtp(x, 11, r));
}

TEST(Rtp, TelephoneEventsBecomeOneDigitEachHoweverOftenTheyAreSent) {
  DtmfReceiver rx;
  std::string digits;
  auto send = [&](char c, uint32_t ts, int packets) {
    for (int i = 0; i < packets; ++i) {  // repeats, then the end bit three times
      TelephoneEvent e{uint8_t(char_event(c)), i >= packets - 3, 10, uint16_t(160 * (i + 1))};
      uint8_t buf[4];
      ASSERT_EQ(write_telephone_event(e, buf, 4), 4u);
      TelephoneEvent back;
      ASSERT_TRUE(parse_telephone_event(buf, 4, back));
      RtpHeader h;
      h.timestamp = ts;
      if (auto d = rx.on_packet(h, back)) digits += *d;
    }
  };
  send('8', 1000, 7);
  send('8', 2600, 5);  // the same key again: a new event, a new timestamp
  send('#', 4000, 4);
  send('*', 5200, 3);
  EXPECT_EQ(digits, "88#*");
  EXPECT_EQ(event_char(16), 0);
  EXPECT_EQ(char_event('x'), -1);
  TelephoneEvent e;
  EXPECT_FALSE(parse_telephone_event(nullptr, 3, e));
}

TEST(G711, KnownValuesRoundTripsAndQuantisationError) {
  EXPECT_EQ(ulaw_to_linear(0x00), -32124);
  EXPECT_EQ(ulaw_to_linear(0x80), 32124);
  EXPECT_EQ(ulaw_to_linear(0xff), 0);
  EXPECT_EQ(alaw_to_linear(0xd5), 8);
  EXPECT_EQ(alaw_to_linear(0x55), -8);
  EXPECT_EQ(alaw_to_linear(0x2a), -32256);
  EXPECT_EQ(linear_to_ulaw(0), 0xff);
  EXPECT_EQ(linear_to_alaw(0), 0xd5);
  for (int c = 0; c < 256; ++c) {  // every code decodes to a value that encodes back to it
    if (c != 0x7f) {               // 0x7f is -0
      EXPECT_EQ(linear_to_ulaw(ulaw_to_linear(uint8_t(c))), c) << c;
    }
    EXPECT_EQ(linear_to_alaw(alaw_to_linear(uint8_t(c))), c) << c;
  }
  // Companding keeps the error within half a step of the segment: about 1/32 of the value.
  for (int x = -32768; x <= 32767; x += 7) {
    auto v = int16_t(x);
    double tol = std::max(std::abs(x) / 16.0, 16.0);
    EXPECT_NEAR(ulaw_to_linear(linear_to_ulaw(v)), x, tol) << x;
    EXPECT_NEAR(alaw_to_linear(linear_to_alaw(v)), x, tol) << x;
  }
  int16_t pcm[4] = {1000, -1000, 30000, -30000}, back[4];
  uint8_t bytes[4];
  encode(Codec::pcma, pcm, 4, bytes);
  decode(Codec::pcma, bytes, 4, back);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(back[i], pcm[i], std::abs(pcm[i]) / 16.0);
}

TEST(Mixer, WhoHearsWhomForConferenceListenWhisperBargeAndMute) {
  const size_t n = 4;
  int16_t cust[n] = {100, 100, 100, 100}, agent[n] = {10, 10, 10, 10}, sup[n] = {1, 1, 1, 1},
          loud[n] = {30000, 30000, -30000, -30000};
  std::vector<std::vector<int16_t>> out;
  // Listen (监听): the supervisor hears both, nobody hears him.
  mix({{1, Role::talk, 0, cust}, {2, Role::talk, 0, agent}, {3, Role::listen, 0, sup}}, n, out);
  EXPECT_EQ(out[0][0], 10);
  EXPECT_EQ(out[1][0], 100);
  EXPECT_EQ(out[2][0], 110);
  // Whisper (耳语): only the agent hears the supervisor.
  mix({{1, Role::talk, 0, cust}, {2, Role::talk, 0, agent}, {3, Role::whisper, 2, sup}}, n, out);
  EXPECT_EQ(out[0][0], 10);
  EXPECT_EQ(out[1][0], 101);
  EXPECT_EQ(out[2][0], 110);
  // Barge (强插) is talk: everyone hears everyone else.
  mix({{1, Role::talk, 0, cust}, {2, Role::talk, 0, agent}, {3, Role::talk, 0, sup}}, n, out);
  EXPECT_EQ(out[0][0], 11);
  EXPECT_EQ(out[1][0], 101);
  EXPECT_EQ(out[2][0], 110);
  // Muted agent: he still hears the customer; the customer hears silence. A lost packet is silence.
  mix({{1, Role::talk, 0, cust}, {2, Role::muted, 0, agent}, {3, Role::talk, 0, nullptr}}, n, out);
  EXPECT_EQ(out[0][0], 0);
  EXPECT_EQ(out[1][0], 100);
  // Three loud talkers saturate instead of wrapping round.
  mix({{1, Role::talk, 0, loud}, {2, Role::talk, 0, loud}, {3, Role::talk, 0, loud}}, n, out);
  EXPECT_EQ(out[0][0], 32767);
  EXPECT_EQ(out[0][2], -32768);
}

}  // namespace
}  // namespace kefu::media
