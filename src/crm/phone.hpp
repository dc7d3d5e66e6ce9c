#pragma once
// Chinese telephone numbers in one canonical form, so a caller's number finds his file however
// it was typed or signalled: "+86 138-1234-5678" and "13812345678" are the same mobile,
// "(021)6888-0000", "+86 21 68880000" and "02168880000" the same landline.
#include <string>
#include <string_view>

namespace kefu::crm {

enum class PhoneKind { mobile, landline, service };
const char* to_string(PhoneKind k);

struct Phone {
  std::string number;     // digits only: 11 for mobiles, area code with its 0 for landlines
  std::string extension;  // 分机, digits, may be empty
  PhoneKind kind = PhoneKind::mobile;
};

// "" when `text` is a valid full number (out filled); else a stable error code:
// phone_empty, phone_chars (something besides digits, spaces, + - ( ) . and an extension),
// phone_area_code (a local number without its area code), phone_format.
std::string normalize_phone(std::string_view text, Phone& out);

// For lookups of what a switch signals: the canonical number when it parses, else the digits
// as they came (an unknown form still matches a number stored in that form).
std::string lookup_key(std::string_view text);

}  // namespace kefu::crm
