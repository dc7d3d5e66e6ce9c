#pragma once
// SDP (RFC 4566) and the offer/answer rules of RFC 3264 for Kefu's audio: PCMU, PCMA and
// telephone-event (RFC 4733). Pure: bytes in, a description or a stable error out; the SIP layer
// (issue 6) answers 488 Not Acceptable Here when negotiate() finds nothing in common.
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kefu::media {

struct SdpError : std::runtime_error {
  SdpError(std::string code, int line, const std::string& what)
      : std::runtime_error(what), code(std::move(code)), line(line) {}
  std::string code;  // bad_line, bad_version, bad_origin, bad_connection, bad_media, too_large
  int line;          // 1-based, 0 for the whole description
};

struct RtpMap {
  std::string encoding;  // "PCMU", "telephone-event", ...
  int clock_rate = 8000;
  int channels = 1;
};

struct MediaDescription {
  std::string media;  // audio, video, ...
  uint16_t port = 0;  // 0: the stream is refused or removed
  std::string proto;  // RTP/AVP
  std::vector<int> formats;
  std::map<int, RtpMap> rtpmap;
  std::map<int, std::string> fmtp;
  std::string direction = "sendrecv";  // sendrecv, sendonly, recvonly, inactive
  std::string connection;              // this stream's c= address, if any
  int ptime = 0;
};

struct SessionDescription {
  std::string origin_user = "-";
  uint64_t session_id = 0, session_version = 0;
  std::string origin_address;
  std::string session_name = "-";
  std::string connection;  // session-level c= address
  std::vector<MediaDescription> media;
};

SessionDescription parse_sdp(std::string_view text);
std::string to_string(const SessionDescription& sdp);

// What both sides agreed on for the first audio stream.
struct Negotiated {
  int payload_type = -1;       // 0 PCMU, 8 PCMA (or the dynamic number the offer used for them)
  std::string codec;           // PCMU | PCMA
  int dtmf_payload_type = -1;  // telephone-event, -1 when not offered: detect DTMF in band
  std::string remote_address;
  uint16_t remote_port = 0;
  std::string direction;  // ours, the mirror of the offer's (sendonly → recvonly: on hold)
  int ptime = 20;
  size_t media_index = 0;  // which m= line
};

// Picks the first offered codec Kefu speaks, in the offer's order of preference. Throws
// SdpError "no_common_codec" (→ SIP 488) when there is none, "no_audio" without an audio stream.
Negotiated negotiate(const SessionDescription& offer);
// Kefu's answer: same m= lines in the same order (others refused with port 0), our address and
// port on the audio stream, the chosen codec and telephone-event.
SessionDescription answer(const SessionDescription& offer, const Negotiated& n,
                          const std::string& address, uint16_t port, uint64_t session_id);
// An offer of our own (outbound calls, re-INVITE for hold with direction "sendonly").
SessionDescription offer(const std::string& address, uint16_t port, uint64_t session_id,
                         uint64_t version, const std::string& direction = "sendrecv");

}  // namespace kefu::media
