#include "media/sdp.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace kefu::media {
namespace {

constexpr size_t kMaxSdp = 16 * 1024, kMaxMedia = 16, kMaxFormats = 64;

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t end = s.find(sep, pos);
    if (end == std::string_view::npos) end = s.size();
    if (end > pos) out.push_back(s.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

template <class T>
bool number(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

// "IN IP4 192.0.2.1" → the address, which must be a literal of its type (RFC 4566 allows a
// domain name too, but the media engine sends to addresses and resolves nothing).
bool connection_address(std::string_view v, std::string& out) {
  auto parts = split(v, ' ');
  if (parts.size() != 3 || parts[0] != "IN" || (parts[1] != "IP4" && parts[1] != "IP6"))
    return false;
  out = std::string(parts[2]);
  if (auto slash = out.find('/'); slash != std::string::npos) out.resize(slash);  // multicast TTL
  unsigned char addr[16];
  return inet_pton(parts[1] == "IP4" ? AF_INET : AF_INET6, out.c_str(), addr) == 1;
}

const char* kDirections[] = {"sendrecv", "sendonly", "recvonly", "inactive"};

}  // namespace

SessionDescription parse_sdp(std::string_view text) {
  if (text.size() > kMaxSdp) throw SdpError("too_large", 0, "the SDP is larger than 16 KiB");
  SessionDescription sdp;
  bool seen_v = false, seen_o = false;
  int line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line.size() < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z')
      throw SdpError("bad_line", line_no, "an SDP line is <letter>=<value>");
    char type = line[0];
    std::string_view v = line.substr(2);
    MediaDescription* m = sdp.media.empty() ? nullptr : &sdp.media.back();
    switch (type) {
      case 'v':
        if (v != "0") throw SdpError("bad_version", line_no, "only SDP version 0 exists");
        seen_v = true;
        break;
      case 'o': {
        auto p = split(v, ' ');
        if (p.size() != 6 || !number(p[1], sdp.session_id) || !number(p[2], sdp.session_version) ||
            p[3] != "IN")
          throw SdpError("bad_origin", line_no, "o= is <user> <id> <version> IN <type> <address>");
        sdp.origin_user = std::string(p[0]);
        sdp.origin_address = std::string(p[5]);
        seen_o = true;
        break;
      }
      case 's':
        sdp.session_name = std::string(v);
        break;
      case 'c': {
        std::string addr;
        if (!connection_address(v, addr))
          throw SdpError("bad_connection", line_no, "c= is IN IP4|IP6 <an IPv4 or IPv6 address>");
        (m ? m->connection : sdp.connection) = addr;
        break;
      }
      case 'm': {
        if (sdp.media.size() >= kMaxMedia) throw SdpError("too_large", line_no, "too many streams");
        auto p = split(v, ' ');
        MediaDescription md;
        std::string_view port = p.size() >= 3 ? p[1] : std::string_view();
        if (auto slash = port.find('/'); slash != std::string_view::npos)
          port = port.substr(0, slash);
        if (p.size() < 3 || !number(port, md.port))
          throw SdpError("bad_media", line_no, "m= is <media> <port> <proto> <formats>");
        md.media = std::string(p[0]);
        md.proto = std::string(p[2]);
        for (size_t i = 3; i < p.size(); ++i) {
          int f = 0;
          if (md.formats.size() >= kMaxFormats)
            throw SdpError("too_large", line_no, "too many formats");
          if (md.proto.rfind("RTP/", 0) == 0) {
            if (!number(p[i], f) || f < 0 || f > 127)
              throw SdpError("bad_media", line_no, "an RTP format is a payload type 0-127");
            md.formats.push_back(f);
          }
        }
        sdp.media.push_back(std::move(md));
        break;
      }
      case 'a': {
        if (!m) break;  // session-level attributes are not needed for audio
        size_t colon = v.find(':');
        std::string_view name = v.substr(0, colon);
        std::string_view value = colon == std::string_view::npos ? "" : v.substr(colon + 1);
        if (std::find(std::begin(kDirections), std::end(kDirections), name) !=
            std::end(kDirections)) {
          m->direction = std::string(name);
        } else if (name == "ptime") {
          int pt = 0;
          if (number(value, pt) && pt > 0 && pt <= 200) m->ptime = pt;
        } else if (name == "rtpmap" || name == "fmtp") {
          size_t sp = value.find(' ');
          int pt = 0;
          if (sp == std::string_view::npos || !number(value.substr(0, sp), pt) || pt < 0 ||
              pt > 127)
            break;  // a malformed attribute is ignored, as RFC 4566 asks
          std::string_view rest = value.substr(sp + 1);
          if (name == "fmtp") {
            m->fmtp[pt] = std::string(rest);
            break;
          }
          auto enc = split(rest, '/');
          RtpMap r;
          if (enc.empty()) break;
          r.encoding = std::string(enc[0]);
          if (enc.size() > 1 && !number(enc[1], r.clock_rate)) break;
          if (enc.size() > 2 && !number(enc[2], r.channels)) break;
          m->rtpmap[pt] = r;
        }
        break;
      }
      default:
        break;  // t=, b=, i=, u=, e=, p=, z=, k=, r=: not needed
    }
  }
  if (!seen_v) throw SdpError("bad_version", 0, "v=0 is missing");
  if (!seen_o) throw SdpError("bad_origin", 0, "o= is missing");
  return sdp;
}

std::string to_string(const SessionDescription& s) {
  std::string out = "v=0\r\no=" + s.origin_user + " " + std::to_string(s.session_id) + " " +
                    std::to_string(s.session_version) + " IN IP4 " + s.origin_address + "\r\n";
  out += "s=" + s.session_name + "\r\n";
  if (!s.connection.empty()) out += "c=IN IP4 " + s.connection + "\r\n";
  out += "t=0 0\r\n";
  for (auto& m : s.media) {
    out += "m=" + m.media + " " + std::to_string(m.port) + " " + m.proto;
    for (int f : m.formats) out += " " + std::to_string(f);
    if (m.formats.empty()) out += " 0";  // a refused stream still names a format
    out += "\r\n";
    if (!m.connection.empty()) out += "c=IN IP4 " + m.connection + "\r\n";
    for (int f : m.formats) {
      auto r = m.rtpmap.find(f);
      if (r != m.rtpmap.end())
        out += "a=rtpmap:" + std::to_string(f) + " " + r->second.encoding + "/" +
               std::to_string(r->second.clock_rate) + "\r\n";
      auto p = m.fmtp.find(f);
      if (p != m.fmtp.end()) out += "a=fmtp:" + std::to_string(f) + " " + p->second + "\r\n";
    }
    if (m.ptime) out += "a=ptime:" + std::to_string(m.ptime) + "\r\n";
    if (m.port) out += "a=" + m.direction + "\r\n";
  }
  return out;
}

namespace {
// The encoding of a payload type: its rtpmap, else the static assignments of RFC 3551.
std::string encoding_of(const MediaDescription& m, int pt, int& rate) {
  if (auto r = m.rtpmap.find(pt); r != m.rtpmap.end()) {
    rate = r->second.clock_rate;
    std::string e = r->second.encoding;
    std::transform(e.begin(), e.end(), e.begin(),
                   [](unsigned char ch) { return ch == '-' ? ch : char(std::toupper(ch)); });
    return e;
  }
  rate = 8000;
  return pt == 0 ? "PCMU" : pt == 8 ? "PCMA" : "";
}
}  // namespace

Negotiated negotiate(const SessionDescription& offer) {
  for (size_t i = 0; i < offer.media.size(); ++i) {
    const auto& m = offer.media[i];
    if (m.media != "audio" || m.port == 0 || m.proto.rfind("RTP/AVP", 0) != 0) continue;
    Negotiated n;
    n.media_index = i;
    for (int pt : m.formats) {
      int rate = 0;
      std::string e = encoding_of(m, pt, rate);
      if (n.payload_type < 0 && (e == "PCMU" || e == "PCMA") && rate == 8000)
        n.payload_type = pt, n.codec = e;
      if (n.dtmf_payload_type < 0 && e == "TELEPHONE-EVENT" && rate == 8000)
        n.dtmf_payload_type = pt;
    }
    if (n.payload_type < 0)
      throw SdpError("no_common_codec", 0, "the offer has neither PCMU nor PCMA at 8 kHz");
    n.remote_address = m.connection.empty() ? offer.connection : m.connection;
    if (n.remote_address.empty()) throw SdpError("bad_connection", 0, "no c= for the audio stream");
    if (n.remote_address.find(':') != std::string::npos)  // a call with no audio is worse than a 488
      throw SdpError("ipv6_media", 0, "audio over IPv6 is not supported; offer an IPv4 address");
    n.remote_port = m.port;
    n.direction = m.direction == "sendonly"   ? "recvonly"
                  : m.direction == "recvonly" ? "sendonly"
                                              : m.direction;
    n.ptime = m.ptime ? m.ptime : 20;
    return n;
  }
  throw SdpError("no_audio", 0, "the offer has no RTP audio stream");
}

SessionDescription answer(const SessionDescription& o, const Negotiated& n,
                          const std::string& address, uint16_t port, uint64_t session_id) {
  SessionDescription a;
  a.origin_user = "kefu";
  a.session_id = session_id;
  a.session_version = 1;
  a.origin_address = address;
  a.session_name = "kefu";
  a.connection = address;
  for (size_t i = 0; i < o.media.size(); ++i) {
    MediaDescription m;
    m.media = o.media[i].media;
    m.proto = o.media[i].proto;
    if (i != n.media_index) {  // refused, in place (RFC 3264 §6)
      m.port = 0;
      m.formats = o.media[i].formats;
      a.media.push_back(std::move(m));
      continue;
    }
    m.port = port;
    m.formats.push_back(n.payload_type);
    m.rtpmap[n.payload_type] = RtpMap{n.codec, 8000, 1};
    if (n.dtmf_payload_type >= 0) {
      m.formats.push_back(n.dtmf_payload_type);
      m.rtpmap[n.dtmf_payload_type] = RtpMap{"telephone-event", 8000, 1};
      m.fmtp[n.dtmf_payload_type] = "0-15";
    }
    m.ptime = n.ptime;
    m.direction = n.direction;
    a.media.push_back(std::move(m));
  }
  return a;
}

SessionDescription offer(const std::string& address, uint16_t port, uint64_t session_id,
                         uint64_t version, const std::string& direction) {
  SessionDescription s;
  s.origin_user = "kefu";
  s.session_id = session_id;
  s.session_version = version;
  s.origin_address = address;
  s.session_name = "kefu";
  s.connection = address;
  MediaDescription m;
  m.media = "audio";
  m.port = port;
  m.proto = "RTP/AVP";
  m.formats = {8, 0, 101};  // PCMA first: Chinese networks use A-law
  m.rtpmap[8] = RtpMap{"PCMA", 8000, 1};
  m.rtpmap[0] = RtpMap{"PCMU", 8000, 1};
  m.rtpmap[101] = RtpMap{"telephone-event", 8000, 1};
  m.fmtp[101] = "0-15";
  m.ptime = 20;
  m.direction = direction;
  s.media.push_back(std::move(m));
  return s;
}

}  // namespace kefu::media
