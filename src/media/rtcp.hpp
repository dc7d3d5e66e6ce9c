#pragma once
// RTCP (RFC 3550 §6): the sender and receiver reports each side of a call sends every few
// seconds, and the reception statistics they carry — packets lost and interarrival jitter —
// kept per leg, so every call leaves a record of how it sounded (通话质量) on both sides: what
// Kefu received, and what the far end says it received from Kefu.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace kefu::media {

struct ReportBlock {  // what a receiver says of one source
  uint32_t ssrc = 0;
  uint8_t fraction_lost = 0;    // of the packets expected since the last report, in 1/256
  int32_t cumulative_lost = 0;  // 24-bit signed on the wire
  uint32_t highest_seq = 0;     // extended: cycles << 16 | sequence
  uint32_t jitter = 0;          // in timestamp units
  uint32_t lsr = 0;             // middle 32 bits of the last SR's NTP time
  uint32_t dlsr = 0;            // delay since that SR, in 1/65536 s
};

struct RtcpReport {  // an SR (sender) or an RR
  bool sender = false;
  uint32_t ssrc = 0;
  uint64_t ntp = 0;  // SR: the sender's wall clock, NTP format
  uint32_t rtp_timestamp = 0, packets = 0, octets = 0;
  std::vector<ReportBlock> blocks;
};

// The SRs and RRs of a compound RTCP packet (SDES, BYE, APP and others are skipped). False
// when the packet is malformed: not version 2, a length beyond the packet, too many blocks.
bool parse_rtcp(const uint8_t* data, size_t size, std::vector<RtcpReport>& out);
// An SR (r.sender) or RR with its blocks, then an SDES with the CNAME (RFC 3550 wants both in
// every compound packet). Returns the size written, 0 when `cap` is too small.
size_t write_rtcp(const RtcpReport& r, const std::string& cname, uint8_t* out, size_t cap);

// NTP time (seconds since 1900 in the high 32 bits) of a Unix time in microseconds.
uint64_t ntp_time(int64_t unix_us);
inline uint32_t ntp_middle(uint64_t ntp) {
  return uint32_t(ntp >> 16);
}

// RFC 3550 A.1, A.3 and A.8: the sequence numbers and arrival times of the packets of one
// source, as the receiver's statistics.
class ReceptionStats {
 public:
  // A packet: its sequence number and timestamp, and when it arrived, in timestamp units.
  void on_packet(uint16_t seq, uint32_t timestamp, uint32_t arrival);
  // The report block about this source (fraction lost since the previous call).
  ReportBlock block(uint32_t ssrc, uint32_t lsr, uint32_t dlsr);

  uint64_t received() const { return received_; }
  uint64_t expected() const;
  int64_t lost() const { return int64_t(expected()) - int64_t(received_); }
  uint32_t jitter() const { return uint32_t(jitter_ / 16); }  // timestamp units

 private:
  bool started_ = false;
  uint16_t max_seq_ = 0;
  uint32_t cycles_ = 0, base_seq_ = 0, bad_seq_ = 0x10000;
  uint64_t received_ = 0, expected_prior_ = 0, received_prior_ = 0;
  uint32_t transit_ = 0;
  int64_t jitter_ = 0;  // ×16, as A.8 keeps it
};

}  // namespace kefu::media
