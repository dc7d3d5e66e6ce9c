#pragma once
// Conditions over a record's fields, as workflow transitions write them (流转条件):
//
//   severity == 'high' and amount >= 50000
//   source in ['regulator', '12386'] or not verified
//   outcome != 'reject' and (priority > 2 or vip)
//
// Comparisons take a field on the left and a literal on the right (a number, a quoted string,
// true/false); a bare field is true when present and not false/0/"". Parsed once, checked
// against the fields that exist, evaluated on a JSON object: no code in definitions.
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.hpp"

namespace kefu::workflow {

class Expression {
 public:
  // Throws std::invalid_argument with the position and what was expected.
  static Expression parse(std::string_view text);
  bool eval(const json::object& fields) const;
  // Every field the expression reads, for checking a definition against the ticket's fields.
  std::set<std::string> fields() const;
  const std::string& text() const { return text_; }

  struct Node;

 private:
  std::shared_ptr<const Node> root_;
  std::string text_;
};

}  // namespace kefu::workflow
