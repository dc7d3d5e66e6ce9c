#include "crm/mask.hpp"

namespace kefu::crm {

namespace {
// Byte offsets of code points, so a multi-byte character is never cut in half.
size_t utf8_prefix(std::string_view s, size_t chars) {
  size_t i = 0;
  while (i < s.size() && chars) {
    unsigned char c = s[i];
    i += c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    --chars;
  }
  return std::min(i, s.size());
}

std::string keep(std::string_view s, size_t head, size_t tail) {
  if (s.size() <= head + tail) return std::string(s.size(), '*');
  return std::string(s.substr(0, head)) + std::string(s.size() - head - tail, '*') +
         std::string(s.substr(s.size() - tail));
}
}  // namespace

std::string mask_id_no(std::string_view s) {
  return s.empty() ? "" : keep(s, 3, 4);
}

std::string mask_phone(std::string_view s) {
  if (s.empty()) return "";
  if (s.size() == 11 && s[0] == '1') return keep(s, 3, 4);
  return keep(s, s.size() > 8 ? 4 : 2, 2);
}

std::string mask_account(std::string_view s) {
  return s.empty() ? "" : keep(s, 0, 4);
}

std::string mask_email(std::string_view s) {
  auto at = s.find('@');
  if (at == std::string_view::npos || at == 0) return keep(s, 0, 0);
  return std::string(s.substr(0, 1)) + "***" + std::string(s.substr(at));
}

std::string mask_address(std::string_view s) {
  size_t p = utf8_prefix(s, 6);
  if (p >= s.size()) return std::string(s);
  return std::string(s.substr(0, p)) + "****";
}

}  // namespace kefu::crm
