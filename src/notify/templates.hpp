#pragma once
// 消息模板: message texts with variables filled per recipient, in mustache ({{name}},
// {{#section}}…{{/section}}, {{^inverted}}…{{/inverted}}; no partials). A template names the
// variables its sender provides; saving checks every text against them, so a typo is found by
// whoever writes the template, not by a customer receiving "尊敬的 ，". Pure.
#include <set>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/json.hpp"

namespace kefu::notify {

// The names a text uses. Throws Error::validation on `field` when it does not parse.
std::set<std::string> template_variables(const std::string& text, const std::string& field);

struct TemplateText {
  std::string field;  // "subject", "body", "html"
  std::string text;
};
// Every error at once: a text that does not parse, a variable the sender does not provide.
std::vector<FieldError> check_template(const std::vector<TemplateText>& texts,
                                       const std::set<std::string>& provided);

enum class Escape { none, html };
// Fills a text; a variable the text uses and `vars` lacks is an error (422 missing_variable on
// "variables.<name>"), never an empty hole.
std::string render_template(const std::string& text, const json::object& vars, Escape escape);

}  // namespace kefu::notify
