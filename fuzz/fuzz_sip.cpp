// SIP requests as the softswitch reads them: sofia-sip's parser with Kefu's request line (a bad
// Request-URI is still a request, answered 400) through msg_make, then what Kefu does
// with the parsed message — the digest credentials of a REGISTER, checked against a secret,
// and the SDP offer of an INVITE, negotiated and answered. Nothing may crash, hang or leak.
#include <sofia-sip/msg.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "media/sdp.hpp"
#include "sip/digest.hpp"
#include "sip/request_line.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 65536) return 0;
  msg_t* msg = msg_make(kefu::sip::parser_answering_bad_request_uris(), 0, data, ssize_t(size));
  if (!msg) return 0;
  sip_t* sip = sip_object(msg);
  if (sip && sip->sip_authorization && sip->sip_authorization->au_scheme) {
    const msg_auth_t* au = sip->sip_authorization;
    std::string text = std::string(au->au_scheme) + " ";
    for (msg_param_t const* p = au->au_params; p && *p; ++p)
      text += std::string(p == au->au_params ? "" : ", ") + *p;
    auto cred = kefu::sip::parse_digest(text);
    kefu::sip::check_digest(cred, "REGISTER", "kefu", "secret", "key", 1'800'000'000);
  }
  if (sip && sip->sip_payload && sip->sip_payload->pl_data) {
    try {
      auto offer = kefu::media::parse_sdp(
          std::string_view(sip->sip_payload->pl_data, sip->sip_payload->pl_len));
      auto n = kefu::media::negotiate(offer);
      kefu::media::to_string(kefu::media::answer(offer, n, "127.0.0.1", 20000, 1));
    } catch (const kefu::media::SdpError&) {
    }
  }
  // Digest text straight from the input too: the parser must hold on any bytes.
  kefu::sip::parse_digest(std::string_view(reinterpret_cast<const char*>(data), size));
  msg_destroy(msg);
  return 0;
}
