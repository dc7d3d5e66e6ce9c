#include "media/rtcp.hpp"

#include <algorithm>
#include <cstdlib>

namespace kefu::media {

namespace {

uint32_t be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
void put32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24), p[1] = uint8_t(v >> 16), p[2] = uint8_t(v >> 8), p[3] = uint8_t(v);
}

constexpr uint8_t kSr = 200, kRr = 201, kSdes = 202;

ReportBlock read_block(const uint8_t* p) {
  ReportBlock b;
  b.ssrc = be32(p);
  b.fraction_lost = p[4];
  uint32_t lost = uint32_t(p[5]) << 16 | uint32_t(p[6]) << 8 | p[7];
  b.cumulative_lost = lost & 0x800000 ? int32_t(lost | 0xff000000) : int32_t(lost);
  b.highest_seq = be32(p + 8);
  b.jitter = be32(p + 12);
  b.lsr = be32(p + 16);
  b.dlsr = be32(p + 20);
  return b;
}

}  // namespace

bool parse_rtcp(const uint8_t* data, size_t size, std::vector<RtcpReport>& out) {
  out.clear();
  if (size < 4) return false;
  size_t pos = 0;
  while (pos < size) {
    if (size - pos < 4) return false;
    const uint8_t* p = data + pos;
    if ((p[0] >> 6) != 2) return false;
    const size_t count = p[0] & 0x1f, len = (size_t(p[2]) << 8 | p[3]) * 4 + 4;
    if (len > size - pos) return false;
    const uint8_t type = p[1];
    if (type == kSr || type == kRr) {
      const size_t head = type == kSr ? 28 : 8;
      if (len < head + count * 24) return false;
      RtcpReport r;
      r.sender = type == kSr;
      r.ssrc = be32(p + 4);
      if (r.sender) {
        r.ntp = uint64_t(be32(p + 8)) << 32 | be32(p + 12);
        r.rtp_timestamp = be32(p + 16);
        r.packets = be32(p + 20);
        r.octets = be32(p + 24);
      }
      for (size_t i = 0; i < count; ++i) r.blocks.push_back(read_block(p + head + i * 24));
      out.push_back(std::move(r));
    }
    pos += len;
  }
  return true;
}

size_t write_rtcp(const RtcpReport& r, const std::string& cname, uint8_t* out, size_t cap) {
  const size_t blocks = std::min<size_t>(r.blocks.size(), 31);
  const size_t head = r.sender ? 28 : 8, report = head + blocks * 24;
  const size_t name = std::min<size_t>(cname.size(), 255);
  // SDES: header, SSRC, CNAME item (type, length, text), a zero byte ending the list, padded.
  const size_t sdes = (8 + 2 + name + 1 + 3) / 4 * 4;
  if (cap < report + sdes) return 0;
  std::fill(out, out + report + sdes, 0);
  out[0] = uint8_t(0x80 | blocks);
  out[1] = r.sender ? kSr : kRr;
  out[2] = uint8_t((report / 4 - 1) >> 8), out[3] = uint8_t(report / 4 - 1);
  put32(out + 4, r.ssrc);
  if (r.sender) {
    put32(out + 8, uint32_t(r.ntp >> 32));
    put32(out + 12, uint32_t(r.ntp));
    put32(out + 16, r.rtp_timestamp);
    put32(out + 20, r.packets);
    put32(out + 24, r.octets);
  }
  for (size_t i = 0; i < blocks; ++i) {
    const ReportBlock& b = r.blocks[i];
    uint8_t* p = out + head + i * 24;
    put32(p, b.ssrc);
    const int32_t lost = std::clamp(b.cumulative_lost, -0x800000, 0x7fffff);
    put32(p + 4, uint32_t(b.fraction_lost) << 24 | (uint32_t(lost) & 0xffffff));
    put32(p + 8, b.highest_seq);
    put32(p + 12, b.jitter);
    put32(p + 16, b.lsr);
    put32(p + 20, b.dlsr);
  }
  uint8_t* s = out + report;
  s[0] = 0x81;
  s[1] = kSdes;
  s[2] = uint8_t((sdes / 4 - 1) >> 8), s[3] = uint8_t(sdes / 4 - 1);
  put32(s + 4, r.ssrc);
  s[8] = 1;  // CNAME
  s[9] = uint8_t(name);
  std::copy(cname.begin(), cname.begin() + long(name), s + 10);
  return report + sdes;
}

uint64_t ntp_time(int64_t unix_us) {
  const uint64_t seconds = uint64_t(unix_us / 1'000'000) + 2'208'988'800ULL;
  const uint64_t fraction = (uint64_t(unix_us % 1'000'000) << 32) / 1'000'000;
  return seconds << 32 | fraction;
}

void ReceptionStats::on_packet(uint16_t seq, uint32_t timestamp, uint32_t arrival) {
  if (!started_) {
    started_ = true;
    base_seq_ = seq, max_seq_ = seq;
    transit_ = arrival - timestamp;
    received_ = 1;
    return;
  }
  const uint16_t delta = uint16_t(seq - max_seq_);
  if (delta < 3000) {  // in order, with a permissible gap
    if (seq < max_seq_) cycles_ += 0x10000;
    max_seq_ = seq;
  } else if (delta <= 0x10000 - 100) {  // a very large jump: the source restarted?
    if (seq == bad_seq_) {              // two in a row: yes, start counting again
      *this = ReceptionStats{};
      on_packet(seq, timestamp, arrival);
      return;
    }
    bad_seq_ = (uint32_t(seq) + 1) & 0xffff;
    return;
  }  // else a duplicate or a late packet: counted, the highest sequence stays
  ++received_;
  // A.8: the difference of relative transit times, smoothed by 1/16.
  const uint32_t transit = arrival - timestamp;
  const int32_t d = int32_t(transit - transit_);
  transit_ = transit;
  jitter_ += std::abs(int64_t(d)) - (jitter_ + 8) / 16;
}

uint64_t ReceptionStats::expected() const {
  if (!started_) return 0;
  return uint64_t(cycles_) + max_seq_ - base_seq_ + 1;
}

ReportBlock ReceptionStats::block(uint32_t ssrc, uint32_t lsr, uint32_t dlsr) {
  ReportBlock b;
  b.ssrc = ssrc;
  const uint64_t expected = this->expected();
  const int64_t interval_expected = int64_t(expected - expected_prior_);
  const int64_t interval_lost = interval_expected - int64_t(received_ - received_prior_);
  expected_prior_ = expected, received_prior_ = received_;
  b.fraction_lost = interval_expected <= 0 || interval_lost <= 0
                        ? 0
                        : uint8_t(std::min<int64_t>((interval_lost << 8) / interval_expected, 255));
  b.cumulative_lost = int32_t(std::clamp<int64_t>(lost(), -0x800000, 0x7fffff));
  b.highest_seq = cycles_ + max_seq_;
  b.jitter = jitter();
  b.lsr = lsr;
  b.dlsr = dlsr;
  return b;
}

}  // namespace kefu::media
