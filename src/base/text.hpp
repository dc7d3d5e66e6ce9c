#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace kefu {

bool valid_utf8(std::string_view s);
// Length in Unicode code points, which is what a user means by "characters" (汉字 count as one).
size_t utf8_length(std::string_view s);
// ISO-8601 UTC with milliseconds, e.g. 2026-11-22T08:00:00.000Z.
std::string iso_utc(int64_t ms);
// Parses YYYY-MM-DD or ISO-8601 UTC into epoch ms; returns false when malformed.
bool parse_iso(std::string_view s, int64_t& ms_out);
std::string to_lower(std::string_view s);

}  // namespace kefu
