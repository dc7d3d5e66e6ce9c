#include "sip/digest.hpp"

#include <sofia-sip/su_md5.h>

#include <cctype>

namespace kefu::sip {

std::string md5_hex(std::string_view s) {
  su_md5_t ctx;
  su_md5_init(&ctx);
  su_md5_update(&ctx, s.data(), s.size());
  char hex[33];
  su_md5_hexdigest(&ctx, hex);
  return std::string(hex, 32);
}

std::map<std::string, std::string> parse_digest(std::string_view h) {
  std::map<std::string, std::string> out;
  auto skip = [&](size_t& i) {
    while (i < h.size() && (h[i] == ' ' || h[i] == '\t' || h[i] == ',')) ++i;
  };
  size_t i = 0;
  skip(i);
  if (h.size() - i < 7 || !(h.substr(i, 6) == "Digest" || h.substr(i, 6) == "digest") ||
      (h[i + 6] != ' ' && h[i + 6] != '\t'))
    return {};
  i += 6;
  while (true) {
    skip(i);
    if (i >= h.size()) return out;
    size_t k = i;
    while (i < h.size() &&
           (std::isalnum(static_cast<unsigned char>(h[i])) || h[i] == '-' || h[i] == '_'))
      ++i;
    if (i == k || i >= h.size() || h[i] != '=') return {};
    std::string key(h.substr(k, i - k));
    for (auto& c : key) c = char(std::tolower(static_cast<unsigned char>(c)));
    ++i;
    std::string value;
    if (i < h.size() && h[i] == '"') {
      ++i;
      while (i < h.size() && h[i] != '"') {
        if (h[i] == '\\' && i + 1 < h.size()) ++i;
        value += h[i++];
      }
      if (i >= h.size()) return {};  // unterminated quote
      ++i;
    } else {
      while (i < h.size() && h[i] != ',' && h[i] != ' ' && h[i] != '\t') value += h[i++];
    }
    if (key.size() > 32 || value.size() > 512 || out.size() > 32) return {};
    out[key] = value;
  }
}

std::string make_nonce(std::string_view key, int64_t now_s) {
  std::string t = std::to_string(now_s);
  return t + "." + md5_hex(std::string(key) + ":" + t).substr(0, 16);
}

bool nonce_valid(std::string_view key, std::string_view nonce, int64_t now_s, int64_t ttl_s) {
  auto dot = nonce.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 19) return false;
  int64_t t = 0;
  for (char c : nonce.substr(0, dot)) {
    if (c < '0' || c > '9') return false;
    t = t * 10 + (c - '0');
  }
  return make_nonce(key, t) == nonce && now_s >= t && now_s - t <= ttl_s;
}

std::string challenge(std::string_view realm, std::string_view nonce, bool stale) {
  std::string out = "Digest realm=\"" + std::string(realm) + "\", nonce=\"" + std::string(nonce) +
                    "\", algorithm=MD5, qop=\"auth\"";
  if (stale) out += ", stale=true";
  return out;
}

DigestCheck check_digest(const std::map<std::string, std::string>& cred, std::string_view method,
                         std::string_view realm, std::string_view password, std::string_view key,
                         int64_t now_s, int64_t nonce_ttl_s) {
  auto get = [&](const char* k) -> const std::string* {
    auto it = cred.find(k);
    return it == cred.end() ? nullptr : &it->second;
  };
  const std::string *user = get("username"), *r = get("realm"), *nonce = get("nonce"),
                    *uri = get("uri"), *response = get("response");
  if (!user || !r || !nonce || !uri || !response) return DigestCheck::missing;
  if (*r != realm) return DigestCheck::bad_realm;
  if (auto* alg = get("algorithm"); alg && *alg != "MD5" && *alg != "md5")
    return DigestCheck::bad_response;
  std::string ha1 = md5_hex(*user + ":" + std::string(realm) + ":" + std::string(password));
  std::string ha2 = md5_hex(std::string(method) + ":" + *uri);
  std::string expected;
  const std::string* qop = get("qop");
  if (qop && *qop == "auth") {
    const std::string *nc = get("nc"), *cnonce = get("cnonce");
    if (!nc || !cnonce) return DigestCheck::missing;
    expected = md5_hex(ha1 + ":" + *nonce + ":" + *nc + ":" + *cnonce + ":auth:" + ha2);
  } else if (!qop) {
    expected = md5_hex(ha1 + ":" + *nonce + ":" + ha2);
  } else {
    return DigestCheck::bad_response;
  }
  if (expected != *response) return DigestCheck::bad_response;
  // Checked last: a right answer to an old challenge gets a fresh one (stale=true), not a failure.
  if (!nonce_valid(key, *nonce, now_s, nonce_ttl_s)) return DigestCheck::stale_nonce;
  return DigestCheck::ok;
}

}  // namespace kefu::sip
