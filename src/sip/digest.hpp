#pragma once
// HTTP digest authentication for SIP (RFC 2617 / RFC 3261 §22, MD5, qop "auth" or none): what
// the registrar needs to challenge a phone and check its answer. Pure: no clock, no sockets;
// the nonce carries its issue time and a keyed hash, so a restart or a second node with the
// same key accepts it and nothing is kept per challenge.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace kefu::sip {

std::string md5_hex(std::string_view s);

// The parameters of an Authorization header's Digest credentials (quotes removed). Empty when
// the scheme is not Digest or the text is malformed.
std::map<std::string, std::string> parse_digest(std::string_view header);

// A nonce valid for `ttl_s` seconds from `now_s`, bound to the key.
std::string make_nonce(std::string_view key, int64_t now_s);
bool nonce_valid(std::string_view key, std::string_view nonce, int64_t now_s, int64_t ttl_s);

// The WWW-Authenticate value of a challenge.
std::string challenge(std::string_view realm, std::string_view nonce, bool stale = false);

// Whether the credentials answer the challenge for this method with this password.
enum class DigestCheck { ok, missing, bad_realm, stale_nonce, bad_response };
DigestCheck check_digest(const std::map<std::string, std::string>& cred, std::string_view method,
                         std::string_view realm, std::string_view password, std::string_view key,
                         int64_t now_s, int64_t nonce_ttl_s = 300);

}  // namespace kefu::sip
