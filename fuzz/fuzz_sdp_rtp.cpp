// Bytes from the network: SDP bodies (offer → negotiate → answer → parse the answer again) and
// RTP packets with telephone events. Any input gives a result or a clean SdpError/false.
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
  }
  return 0;
}
