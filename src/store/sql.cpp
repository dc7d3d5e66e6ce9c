#include "store/sql.hpp"

namespace kefu::store {

std::string to_postgres_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  char quote = 0;
  for (char c : sql) {
    if (quote) {
      out += c;
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '?') {
      out += '$';
      out += std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

bool safe_identifier(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (!(name[0] >= 'a' && name[0] <= 'z')) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

std::string like_escape(std::string_view text) {
  std::string r;
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') r += '\\';
    r += c;
  }
  return r;
}

}  // namespace kefu::store
