#pragma once
#include <string>
#include <string_view>

#include "base/json.hpp"
#include "store/database.hpp"

namespace kefu::store {

// Rewrites `?` placeholders to PostgreSQL's $1, $2, ... leaving quoted text alone.
std::string to_postgres_placeholders(std::string_view sql);
// True for identifiers Kefu generates SQL from (lower-case letters, digits, underscore).
bool safe_identifier(std::string_view name);
// Escapes LIKE wildcards so user text matches literally (used with ESCAPE '\').
std::string like_escape(std::string_view text);
// One result row as JSON: NULL → null, integers → numbers, everything else → text.
json::object row_json(const Result& r, size_t row);
json::array rows_json(const Result& r);

}  // namespace kefu::store
