#pragma once
// Validation of a client's JSON against an entity, collecting every field error at once
// so a form can show them all. Checks here need no database; references and dictionary
// codes are checked by the repository inside the write transaction.
#include <vector>

#include "meta/entity.hpp"
#include "store/database.hpp"

namespace kefu::meta {

enum class Mode { create, update };

json::object validate_input(const Entity& e, const json::object& input, Mode mode, std::vector<FieldError>& errors);
// Throws Error 422 with every field error when there are any.
json::object validate_or_throw(const Entity& e, const json::object& input, Mode mode);

store::Value to_db(const Field& f, const json::value& v);
json::value from_db(const Field& f, const store::Value& v);
// Converts CSV text to the JSON value the field expects (empty -> null).
json::value from_text(const Field& f, const std::string& text, std::vector<FieldError>& errors);

}  // namespace kefu::meta
