#include "media/rtp.hpp"

#include <cstring>

namespace kefu::media {

bool parse_rtp(const uint8_t* d, size_t size, RtpHeader& out) {
  if (size < 12 || (d[0] >> 6) != 2) return false;
  const bool padding = d[0] & 0x20, extension = d[0] & 0x10;
  const size_t csrc = d[0] & 0x0f;
  size_t offset = 12 + 4 * csrc;
  if (offset > size) return false;
  if (extension) {
    if (offset + 4 > size) return false;
    const size_t words = size_t(d[offset + 2]) << 8 | d[offset + 3];
    offset += 4 + 4 * words;
    if (offset > size) return false;
  }
  size_t pad = 0;
  if (padding) {
    pad = d[size - 1];
    if (pad == 0 || offset + pad > size) return false;
  }
  out.marker = d[1] & 0x80;
  out.payload_type = d[1] & 0x7f;
  out.sequence = uint16_t(d[2] << 8 | d[3]);
  out.timestamp = uint32_t(d[4]) << 24 | uint32_t(d[5]) << 16 | uint32_t(d[6]) << 8 | d[7];
  out.ssrc = uint32_t(d[8]) << 24 | uint32_t(d[9]) << 16 | uint32_t(d[10]) << 8 | d[11];
  out.payload_offset = offset;
  out.payload_size = size - offset - pad;
  return true;
}

size_t write_rtp(const RtpHeader& h, const uint8_t* payload, size_t n, uint8_t* out, size_t cap) {
  if (cap < 12 + n) return 0;
  out[0] = 0x80;
  out[1] = uint8_t((h.marker ? 0x80 : 0) | (h.payload_type & 0x7f));
  out[2] = uint8_t(h.sequence >> 8);
  out[3] = uint8_t(h.sequence);
  for (int i = 0; i < 4; ++i) {
    out[4 + i] = uint8_t(h.timestamp >> (24 - 8 * i));
    out[8 + i] = uint8_t(h.ssrc >> (24 - 8 * i));
  }
  if (n) std::memcpy(out + 12, payload, n);
  return 12 + n;
}

bool parse_telephone_event(const uint8_t* p, size_t size, TelephoneEvent& out) {
  if (size < 4) return false;
  out.event = p[0];
  out.end = p[1] & 0x80;
  out.volume = p[1] & 0x3f;
  out.duration = uint16_t(p[2] << 8 | p[3]);
  return true;
}

size_t write_telephone_event(const TelephoneEvent& e, uint8_t* out, size_t cap) {
  if (cap < 4) return 0;
  out[0] = e.event;
  out[1] = uint8_t((e.end ? 0x80 : 0) | (e.volume & 0x3f));
  out[2] = uint8_t(e.duration >> 8);
  out[3] = uint8_t(e.duration);
  return 4;
}

char event_char(uint8_t event) {
  if (event <= 9) return char('0' + event);
  if (event == 10) return '*';
  if (event == 11) return '#';
  if (event <= 15) return char('A' + event - 12);
  return 0;
}

int char_event(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c == '*') return 10;
  if (c == '#') return 11;
  if (c >= 'A' && c <= 'D') return 12 + c - 'A';
  return -1;
}

std::optional<char> DtmfReceiver::on_packet(const RtpHeader& h, const TelephoneEvent& e) {
  char c = event_char(e.event);
  if (!c) return std::nullopt;
  if (seen_ && h.timestamp == last_timestamp_) return std::nullopt;  // a repeat or an end packet
  seen_ = true;
  last_timestamp_ = h.timestamp;
  return c;
}

}  // namespace kefu::media
