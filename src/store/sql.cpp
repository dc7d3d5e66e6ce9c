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

json::object row_json(const Result& r, size_t row) {
  json::object o;
  for (size_t k = 0; k < r.columns.size(); ++k) {
    const auto& v = r.rows[row][k];
    if (is_null(v))
      o[r.columns[k]] = nullptr;
    else if (auto* n = std::get_if<int64_t>(&v))
      o[r.columns[k]] = *n;
    else
      o[r.columns[k]] = as_text(v);
  }
  return o;
}

json::array rows_json(const Result& r) {
  json::array out;
  for (size_t i = 0; i < r.size(); ++i) out.push_back(row_json(r, i));
  return out;
}

}  // namespace kefu::store
