#include "notify/templates.hpp"

#include <boost/json/serialize.hpp>
#include <kainjow/mustache.hpp>

namespace kefu::notify {
namespace mu = kainjow::mustache;
namespace {

// Answers every name with a placeholder and writes it down. Rendered twice, once with truthy and
// once with falsy placeholders, so the inside of both kinds of section is seen.
class Recorder : public mu::basic_context<std::string> {
 public:
  explicit Recorder(bool truthy) : placeholder_(truthy ? mu::data("x") : mu::data(false)) {}
  void push(const mu::data* d) override { stack_.push_back(d); }
  void pop() override { stack_.pop_back(); }
  const mu::data* get(const std::string& name) const override {
    if (name != ".") names.insert(name);
    return &placeholder_;
  }
  const mu::data* get_partial(const std::string& name) const override {
    partials.insert(name);
    return nullptr;
  }
  mutable std::set<std::string> names, partials;

 private:
  mu::data placeholder_;
  std::vector<const mu::data*> stack_;
};

class Strict : public mu::context<std::string> {
 public:
  explicit Strict(const mu::data* d) : mu::context<std::string>(d) {}
  const mu::data* get(const std::string& name) const override {
    auto* v = mu::context<std::string>::get(name);
    if (!v) missing.insert(name);
    return v;
  }
  mutable std::set<std::string> missing;
};

mu::data to_data(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string:
      return mu::data(std::string(v.get_string()));
    case json::kind::bool_:
      return mu::data(v.get_bool());
    case json::kind::null:
      return mu::data(false);
    case json::kind::int64:
      return mu::data(std::to_string(v.get_int64()));
    case json::kind::uint64:
      return mu::data(std::to_string(v.get_uint64()));
    case json::kind::double_:
      return mu::data(json::serialize(v));
    case json::kind::array: {
      mu::data list(mu::data::type::list);
      for (auto& x : v.get_array()) list.push_back(to_data(x));
      return list;
    }
    case json::kind::object: {
      mu::data obj;
      for (auto& [k, x] : v.get_object()) obj.set(std::string(k), to_data(x));
      return obj;
    }
  }
  return mu::data(false);
}

}  // namespace

std::set<std::string> template_variables(const std::string& text, const std::string& field) {
  mu::mustache tmpl(text);
  if (!tmpl.is_valid())
    throw Error::validation({{field, "invalid_template", tmpl.error_message()}});
  std::set<std::string> names;
  for (bool truthy : {true, false}) {
    Recorder r(truthy);
    tmpl.render(r);
    if (!r.partials.empty())
      throw Error::validation({{field, "invalid_template",
                                "partials are not allowed: {{> " + *r.partials.begin() + "}}"}});
    names.insert(r.names.begin(), r.names.end());
  }
  return names;
}

std::vector<FieldError> check_template(const std::vector<TemplateText>& texts,
                                       const std::set<std::string>& provided) {
  std::vector<FieldError> errors;
  for (auto& t : texts) {
    try {
      for (auto& name : template_variables(t.text, t.field))
        if (!provided.count(name) && !provided.count(name.substr(0, name.find('.'))))
          errors.push_back({t.field, "unknown_variable",
                            "{{" + name +
                                "}} is not among the variables this template's sender "
                                "provides"});
    } catch (const Error& e) {
      errors.insert(errors.end(), e.details.begin(), e.details.end());
    }
  }
  return errors;
}

std::string render_template(const std::string& text, const json::object& vars, Escape escape) {
  mu::mustache tmpl(text);
  if (!tmpl.is_valid())
    throw Error::validation({{"template", "invalid_template", tmpl.error_message()}});
  if (escape == Escape::none) tmpl.set_custom_escape([](const std::string& s) { return s; });
  mu::data data = to_data(vars);
  Strict ctx(&data);
  std::string out = tmpl.render(ctx);
  if (!ctx.missing.empty()) {
    std::vector<FieldError> errors;
    for (auto& m : ctx.missing)
      errors.push_back({"variables." + m, "missing_variable", "the template uses {{" + m + "}}"});
    throw Error::validation(std::move(errors));
  }
  return out;
}

}  // namespace kefu::notify
