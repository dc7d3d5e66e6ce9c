#pragma once
#include <string>
#include <string_view>

namespace kefu::store {

// Rewrites `?` placeholders to PostgreSQL's $1, $2, ... leaving quoted text alone.
std::string to_postgres_placeholders(std::string_view sql);
// True for identifiers Kefu generates SQL from (lower-case letters, digits, underscore).
bool safe_identifier(std::string_view name);
// Escapes LIKE wildcards so user text matches literally (used with ESCAPE '\').
std::string like_escape(std::string_view text);

}  // namespace kefu::store
