#include "base/text.hpp"

#include <cctype>
#include <cstdio>
#include <ctime>

namespace kefu {

bool valid_utf8(std::string_view s) {
  size_t i = 0, n = s.size();
  while (i < n) {
    unsigned char c = s[i];
    size_t len;
    uint32_t cp;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = s[i + k];
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and out-of-range code points are invalid.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::string iso_utc(int64_t ms) {
  time_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  int milli = int(ms - int64_t(secs) * 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, milli);
  return buf;
}

bool parse_iso(std::string_view s, int64_t& out) {
  int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
  std::string str(s);
  int n = 0;
  if (s.size() == 10) {
    if (sscanf(str.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10) return false;
  } else {
    int got = sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n);
    if (got != 6) return false;
    std::string_view rest = s.substr(n);
    if (!rest.empty() && rest[0] == '.') {
      size_t k = 1;
      int digits = 0;
      while (k < rest.size() && isdigit((unsigned char)rest[k])) {
        if (digits < 3) ms = ms * 10 + (rest[k] - '0'), ++digits;
        ++k;
      }
      while (digits < 3) ms *= 10, ++digits;
      rest = rest.substr(k);
    }
    if (rest != "Z" && rest != "") return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return false;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  time_t t = timegm(&tm);
  std::tm back{};
  gmtime_r(&t, &back);
  if (back.tm_mday != d) return false;  // 2026-02-30 and the like
  out = int64_t(t) * 1000 + ms;
  return true;
}

std::string to_lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = char(tolower((unsigned char)c));
  return r;
}

}  // namespace kefu
