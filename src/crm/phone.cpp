#include "crm/phone.hpp"

namespace kefu::crm {

const char* to_string(PhoneKind k) {
  switch (k) {
    case PhoneKind::mobile:
      return "mobile";
    case PhoneKind::landline:
      return "landline";
    case PhoneKind::service:
      return "service";
  }
  return "mobile";
}

namespace {
// Length of the area code (with its leading 0) of a national landline number: Beijing 010
// and the 02x cities have three digits, every other area four.
size_t area_code_length(std::string_view n) {
  if (n.size() < 3 || n[0] != '0') return 0;
  if (n[1] == '1') return n[2] == '0' ? 3 : 0;  // 010; 01x otherwise does not exist
  if (n[1] == '2') return 3;
  return 4;
}
}  // namespace

std::string normalize_phone(std::string_view text, Phone& out) {
  out = Phone{};
  std::string digits, ext;
  bool in_ext = false, plus = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= '0' && c <= '9') {
      (in_ext ? ext : digits) += c;
    } else if (c == ' ' || c == '-' || c == '(' || c == ')' || c == '.') {
      // Separators; a '-' after a full landline starts the extension (021-68880000-123).
      if (c == '-' && !in_ext && digits.size() >= 10 && digits[0] == '0' && i + 1 < text.size()) {
        size_t area = area_code_length(digits);
        if (area && digits.size() - area >= 7) in_ext = true;
      }
    } else if (c == '+' && digits.empty() && !plus) {
      plus = true;
    } else if ((c == 'x' || c == 'X' || c == '#' || c == ',') && !digits.empty() && !in_ext) {
      in_ext = true;
    } else if (text.substr(i, 3) == "ext" || text.substr(i, 3) == "EXT" ||
               text.substr(i, 3) == "\xe8\xbd\xac") {  // 转 (UTF-8): "分机" is typed as 转
      if (digits.empty() || in_ext) return "phone_chars";
      in_ext = true;
      i += 2;
    } else {
      return "phone_chars";
    }
  }
  if (digits.empty()) return "phone_empty";
  if (ext.size() > 6) return "phone_format";
  // Country code: +86, 0086, or a bare 86 before a mobile (as some trunks signal it).
  if (plus) {
    if (digits.rfind("86", 0) != 0) return "phone_format";  // foreign numbers are not served
    digits = digits.substr(2);
    if (!digits.empty() && digits[0] != '1' && digits[0] != '0') digits = "0" + digits;
  } else if (digits.rfind("0086", 0) == 0) {
    digits = digits.substr(4);
    if (!digits.empty() && digits[0] != '1' && digits[0] != '0') digits = "0" + digits;
  } else if (digits.size() == 13 && digits.rfind("861", 0) == 0) {
    digits = digits.substr(2);
  }
  // A mobile dialled with a trunk prefix 0 (013812345678).
  if (digits.size() == 12 && digits[0] == '0' && digits[1] == '1' && digits[2] != '0')
    digits = digits.substr(1);

  if (digits.size() == 11 && digits[0] == '1' && digits[1] >= '3' && digits[1] <= '9') {
    if (!ext.empty()) return "phone_format";
    out.number = std::move(digits);
    out.kind = PhoneKind::mobile;
    return "";
  }
  // Service numbers: 95xxx(x), 96xxx, 400/800 numbers, 1xxxx short codes (10086, 12345).
  if ((digits.size() >= 5 && digits.size() <= 6 &&
       (digits.rfind("95", 0) == 0 || digits.rfind("96", 0) == 0 || digits[0] == '1')) ||
      (digits.size() == 10 && (digits.rfind("400", 0) == 0 || digits.rfind("800", 0) == 0))) {
    out.number = std::move(digits);
    out.extension = std::move(ext);
    out.kind = PhoneKind::service;
    return "";
  }
  if (digits[0] != '0')
    return digits.size() == 7 || digits.size() == 8 ? "phone_area_code" : "phone_format";
  size_t area = area_code_length(digits);
  if (!area) return "phone_format";
  size_t local = digits.size() - area;
  if (local < 7 || local > 8 || digits[area] < '2') return "phone_format";
  out.number = std::move(digits);
  out.extension = std::move(ext);
  out.kind = PhoneKind::landline;
  return "";
}

std::string lookup_key(std::string_view text) {
  Phone p;
  if (normalize_phone(text, p).empty()) return p.number;
  std::string digits;
  for (char c : text)
    if (c >= '0' && c <= '9') digits += c;
  return digits;
}

}  // namespace kefu::crm
