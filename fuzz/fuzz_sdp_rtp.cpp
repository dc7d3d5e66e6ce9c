// Bytes from the network: SDP bodies (offer → negotiate → answer → parse the answer again), RTP
// packets with telephone events, and RTCP compound packets (whose reports must write and read
// back the same). Any input gives a result or a clean SdpError/false.
#include "media/rtcp.hpp"
#include "media/rtp.hpp"
#include "media/sdp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    auto offer = kefu::media::parse_sdp(text);
    auto n = kefu::media::negotiate(offer);
    auto answer = kefu::media::answer(offer, n, "192.0.2.1", 20000, 1);
    (void)kefu::media::parse_sdp(kefu::media::to_string(answer));  // our own answer must read back
  } catch (const kefu::media::SdpError&) {
  }
  kefu::media::RtpHeader h;
  if (kefu::media::parse_rtp(data, size, h)) {
    if (h.payload_offset + h.payload_size > size) __builtin_trap();
    kefu::media::TelephoneEvent e;
    kefu::media::DtmfReceiver rx;
    if (kefu::media::parse_telephone_event(data + h.payload_offset, h.payload_size, e))
      (void)rx.on_packet(h, e);
    kefu::media::ReceptionStats stats;
    stats.on_packet(h.sequence, h.timestamp, uint32_t(size));
    (void)stats.block(h.ssrc, 0, 0);
  }
  std::vector<kefu::media::RtcpReport> reports;
  if (kefu::media::parse_rtcp(data, size, reports)) {
    for (auto& r : reports) {
      if (r.blocks.size() > 31) __builtin_trap();
      uint8_t out[1024];
      size_t n = kefu::media::write_rtcp(r, "fuzz", out, sizeof out);
      std::vector<kefu::media::RtcpReport> again;
      if (!n || !kefu::media::parse_rtcp(out, n, again) || again.size() != 1 ||
          again[0].blocks.size() != r.blocks.size() || again[0].ssrc != r.ssrc)
        __builtin_trap();
    }
  }
  return 0;
}
