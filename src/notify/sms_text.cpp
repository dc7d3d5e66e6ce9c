#include "notify/sms_text.hpp"

#include <array>

#include "base/error.hpp"
#include "base/text.hpp"

namespace kefu::notify {
namespace {

// GSM 03.38 default alphabet, indexed by its code; 0x1B is the escape to the extension table.
constexpr std::array<char32_t, 128> kGsm = {
    0x40,  0xA3, 0x24, 0xA5,  0xE8, 0xE9,  0xF9,  0xEC,  0xF2,  0xC7,  0x0A,  0xD8,  0xF8,
    0x0D,  0xC5, 0xE5, 0x394, 0x5F, 0x3A6, 0x393, 0x39B, 0x3A9, 0x3A0, 0x3A8, 0x3A3, 0x398,
    0x39E, 0x00, 0xC6, 0xE6,  0xDF, 0xC9,  0x20,  0x21,  0x22,  0x23,  0xA4,  0x25,  0x26,
    0x27,  0x28, 0x29, 0x2A,  0x2B, 0x2C,  0x2D,  0x2E,  0x2F,  0x30,  0x31,  0x32,  0x33,
    0x34,  0x35, 0x36, 0x37,  0x38, 0x39,  0x3A,  0x3B,  0x3C,  0x3D,  0x3E,  0x3F,  0xA1,
    0x41,  0x42, 0x43, 0x44,  0x45, 0x46,  0x47,  0x48,  0x49,  0x4A,  0x4B,  0x4C,  0x4D,
    0x4E,  0x4F, 0x50, 0x51,  0x52, 0x53,  0x54,  0x55,  0x56,  0x57,  0x58,  0x59,  0x5A,
    0xC4,  0xD6, 0xD1, 0xDC,  0xA7, 0xBF,  0x61,  0x62,  0x63,  0x64,  0x65,  0x66,  0x67,
    0x68,  0x69, 0x6A, 0x6B,  0x6C, 0x6D,  0x6E,  0x6F,  0x70,  0x71,  0x72,  0x73,  0x74,
    0x75,  0x76, 0x77, 0x78,  0x79, 0x7A,  0xE4,  0xF6,  0xF1,  0xFC,  0xE0};

struct Ext {
  uint8_t code;
  char32_t cp;
};
constexpr std::array<Ext, 10> kGsmExt = {{{0x0A, 0x0C},
                                          {0x14, U'^'},
                                          {0x28, U'{'},
                                          {0x29, U'}'},
                                          {0x2F, U'\\'},
                                          {0x3C, U'['},
                                          {0x3D, U'~'},
                                          {0x3E, U']'},
                                          {0x40, U'|'},
                                          {0x65, 0x20AC}}};

std::vector<char32_t> code_points(std::string_view s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    auto c = uint8_t(s[i]);
    int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    char32_t cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
    for (int k = 1; k < n; ++k) cp = (cp << 6) | (uint8_t(s[i + k]) & 0x3F);
    out.push_back(cp);
    i += n;
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

// The GSM code(s) of a character: one octet, two (escape + extension), or none.
std::string gsm_code(char32_t cp) {
  for (size_t i = 0; i < kGsm.size(); ++i)
    if (kGsm[i] == cp && i != 0x1B) return std::string(1, char(i));
  for (auto& e : kGsmExt)
    if (e.cp == cp) return std::string{char(0x1B), char(e.code)};
  return {};
}

// Cuts a sequence of characters (each an indivisible string of units of `unit` octets) into
// parts of at most `single` units, or `multi` units each when it does not fit in one.
std::vector<std::string> cut(const std::vector<std::string>& chars, size_t unit, size_t single,
                             size_t multi, int& units) {
  size_t total = 0;
  for (auto& c : chars) total += c.size() / unit;
  units = int(total);
  std::vector<std::string> parts;
  if (total <= single) {
    std::string all;
    for (auto& c : chars) all += c;
    parts.push_back(std::move(all));
    return parts;
  }
  std::string cur;
  for (auto& c : chars) {
    if ((cur.size() + c.size()) / unit > multi) {
      parts.push_back(std::move(cur));
      cur.clear();
    }
    cur += c;
  }
  if (!cur.empty()) parts.push_back(std::move(cur));
  return parts;
}

}  // namespace

SmsPlan plan_sms(std::string_view text) {
  if (text.empty()) throw Error::validation({{"text", "required", "the message is empty"}});
  if (!valid_utf8(text))
    throw Error::validation({{"text", "invalid_text", "the message is not UTF-8"}});
  auto cps = code_points(text);
  SmsPlan plan;
  std::vector<std::string> chars;
  chars.reserve(cps.size());
  bool gsm = true;
  for (char32_t cp : cps) {
    auto code = gsm_code(cp);
    if (code.empty()) {
      gsm = false;
      break;
    }
    chars.push_back(std::move(code));
  }
  if (gsm) {
    plan.encoding = SmsEncoding::gsm7;
    plan.parts = cut(chars, 1, 160, 153, plan.units);
    return plan;
  }
  chars.clear();
  for (char32_t cp : cps) {
    std::string c;
    auto put = [&](uint16_t u) {
      c += char(u >> 8);
      c += char(u & 0xFF);
    };
    if (cp >= 0x10000) {  // a surrogate pair: two units that stay in one part
      char32_t v = cp - 0x10000;
      put(uint16_t(0xD800 | (v >> 10)));
      put(uint16_t(0xDC00 | (v & 0x3FF)));
    } else {
      put(uint16_t(cp));
    }
    chars.push_back(std::move(c));
  }
  plan.encoding = SmsEncoding::ucs2;
  plan.parts = cut(chars, 2, 70, 67, plan.units);
  return plan;
}

std::string concat_udh(uint8_t ref, uint8_t total, uint8_t seq) {
  return std::string{char(0x05), char(0x00), char(0x03), char(ref), char(total), char(seq)};
}

std::string decode_sms(std::string_view p, uint8_t data_coding) {
  std::string out;
  if (data_coding == 0x08) {
    for (size_t i = 0; i + 1 < p.size(); i += 2) {
      char32_t u = (char32_t(uint8_t(p[i])) << 8) | uint8_t(p[i + 1]);
      if (u >= 0xD800 && u < 0xDC00 && i + 3 < p.size()) {
        char32_t lo = (char32_t(uint8_t(p[i + 2])) << 8) | uint8_t(p[i + 3]);
        if (lo >= 0xDC00 && lo < 0xE000) {
          append_utf8(out, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
          i += 2;
          continue;
        }
      }
      append_utf8(out, (u >= 0xD800 && u < 0xE000) ? 0xFFFD : u);
    }
    return out;
  }
  if (data_coding == 0x00) {
    for (size_t i = 0; i < p.size(); ++i) {
      auto c = uint8_t(p[i]) & 0x7F;
      if (c == 0x1B && i + 1 < p.size()) {
        auto e = uint8_t(p[++i]);
        char32_t cp = 0xFFFD;
        for (auto& x : kGsmExt)
          if (x.code == e) cp = x.cp;
        append_utf8(out, cp);
      } else {
        append_utf8(out, kGsm[c]);
      }
    }
    return out;
  }
  // Latin-1 (3) and anything else: octets taken as Latin-1 code points.
  for (char ch : p) append_utf8(out, uint8_t(ch));
  return out;
}

}  // namespace kefu::notify
