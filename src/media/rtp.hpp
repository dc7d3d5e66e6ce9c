#pragma once
// RTP packets (RFC 3550) and telephone events (RFC 4733): parsing every byte that arrives from
// the network with its lengths checked, and the small state that turns a stream of event packets
// (each event is sent several times, with an end bit, and its end three times) into one digit.
#include <cstddef>
#include <cstdint>
#include <optional>

namespace kefu::media {

struct RtpHeader {
  bool marker = false;
  uint8_t payload_type = 0;
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  size_t payload_offset = 0;  // after CSRCs and the header extension
  size_t payload_size = 0;    // without padding
};

// False for anything that is not a well-formed RTP version 2 packet (short, bad CSRC count,
// extension or padding longer than the packet).
bool parse_rtp(const uint8_t* data, size_t size, RtpHeader& out);
// Writes a 12-byte header (no CSRC, no extension) and the payload; returns the packet size, or
// 0 when `cap` is too small.
size_t write_rtp(const RtpHeader& h, const uint8_t* payload, size_t payload_size, uint8_t* out,
                 size_t cap);

struct TelephoneEvent {
  uint8_t event = 0;  // 0-9, 10 = *, 11 = #, 12-15 = A-D
  bool end = false;
  uint8_t volume = 0;
  uint16_t duration = 0;  // in timestamp units
};

bool parse_telephone_event(const uint8_t* payload, size_t size, TelephoneEvent& out);
size_t write_telephone_event(const TelephoneEvent& e, uint8_t* out, size_t cap);
char event_char(uint8_t event);  // '0'-'9', '*', '#', 'A'-'D'; 0 for others
int char_event(char c);          // the inverse; -1 for others

// One digit per event, however many packets carry it: an event is identified by its RTP
// timestamp; it is reported on its first packet (keys feel immediate), its repeats and end
// packets are absorbed.
class DtmfReceiver {
 public:
  std::optional<char> on_packet(const RtpHeader& h, const TelephoneEvent& e);

 private:
  bool seen_ = false;
  uint32_t last_timestamp_ = 0;
};

}  // namespace kefu::media
