#pragma once
// How an SMS is cut and encoded before it is sent: the GSM 03.38 default alphabet when every
// character has a place in it (160 septets, 153 per part of a long message), UCS-2 otherwise —
// every Chinese message — (70 characters, 67 per part). Parts of a long message carry a UDH
// (concatenation, 8-bit reference) and are cut so that no character is split: never between the
// two halves of a surrogate pair, never after a GSM escape. Pure; what a message costs is
// counted from this, before anything is sent.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kefu::notify {

enum class SmsEncoding { gsm7, ucs2 };

struct SmsPlan {
  SmsEncoding encoding = SmsEncoding::gsm7;
  int units = 0;  // septets (GSM) or UTF-16 code units (UCS-2)
  // Each part's short_message payload without its UDH: GSM codes one per octet (the SMSC default
  // alphabet, unpacked, data_coding 0), or UTF-16BE (data_coding 8).
  std::vector<std::string> parts;
  int segments() const { return int(parts.size()); }
  uint8_t data_coding() const { return encoding == SmsEncoding::gsm7 ? 0x00 : 0x08; }
};

// Throws kefu::Error (422 invalid_text) when `text` is not UTF-8 or is empty.
SmsPlan plan_sms(std::string_view text);

// The 6-octet UDH of part `seq` (1-based) of `total` with reference `ref`.
std::string concat_udh(uint8_t ref, uint8_t total, uint8_t seq);

// Decodes a payload received from the SMSC (a mobile-originated reply) to UTF-8.
std::string decode_sms(std::string_view payload, uint8_t data_coding);

}  // namespace kefu::notify
