#include "workflow/expression.hpp"

#include <cctype>
#include <stdexcept>

namespace kefu::workflow {

struct Expression::Node {
  enum class Kind { op_and, op_or, op_not, compare, in, truthy } kind;
  std::string field, op;  // compare: == != < <= > >=
  std::vector<json::value> literals;
  std::shared_ptr<const Node> a, b;
};

namespace {

using NodePtr = std::shared_ptr<const Expression::Node>;
using Node = Expression::Node;

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  NodePtr parse() {
    auto n = parse_or();
    skip();
    if (i_ != s_.size()) fail("end of condition");
    return n;
  }

 private:
  [[noreturn]] void fail(const std::string& expected) const {
    throw std::invalid_argument("at " + std::to_string(i_) + ": expected " + expected);
  }
  void skip() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool word(std::string_view w) {
    skip();
    if (s_.substr(i_, w.size()) != w) return false;
    size_t end = i_ + w.size();
    if (end < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[end])) || s_[end] == '_'))
      return false;
    i_ = end;
    return true;
  }
  bool symbol(std::string_view w) {
    skip();
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }
  NodePtr parse_or() {
    auto left = parse_and();
    while (word("or"))
      left = std::make_shared<Node>(Node{Node::Kind::op_or, {}, {}, {}, left, parse_and()});
    return left;
  }
  NodePtr parse_and() {
    auto left = parse_unary();
    while (word("and"))
      left = std::make_shared<Node>(Node{Node::Kind::op_and, {}, {}, {}, left, parse_unary()});
    return left;
  }
  NodePtr parse_unary() {
    if (word("not"))
      return std::make_shared<Node>(Node{Node::Kind::op_not, {}, {}, {}, parse_unary(), nullptr});
    if (symbol("(")) {
      auto n = parse_or();
      if (!symbol(")")) fail("')'");
      return n;
    }
    return parse_comparison();
  }
  std::string identifier() {
    skip();
    size_t start = i_;
    while (i_ < s_.size() &&
           (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_' || s_[i_] == '.'))
      ++i_;
    if (start == i_ || std::isdigit(static_cast<unsigned char>(s_[start]))) {
      i_ = start;
      fail("a field name");
    }
    return std::string(s_.substr(start, i_ - start));
  }
  json::value literal() {
    skip();
    if (i_ < s_.size() && (s_[i_] == '\'' || s_[i_] == '"')) {
      char q = s_[i_++];
      size_t start = i_;
      while (i_ < s_.size() && s_[i_] != q) ++i_;
      if (i_ == s_.size()) fail("a closing quote");
      return json::value(json::string(s_.substr(start, i_++ - start)));
    }
    if (word("true")) return json::value(true);
    if (word("false")) return json::value(false);
    size_t start = i_;
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    bool digits = false, dot = false;
    while (i_ < s_.size() &&
           (std::isdigit(static_cast<unsigned char>(s_[i_])) || (s_[i_] == '.' && !dot))) {
      dot |= s_[i_] == '.';
      digits = true;
      ++i_;
    }
    if (!digits) {
      i_ = start;
      fail("a number, a quoted text, true or false");
    }
    std::string n(s_.substr(start, i_ - start));
    if (dot) return json::value(std::stod(n));
    return json::value(static_cast<int64_t>(std::stoll(n)));
  }
  NodePtr parse_comparison() {
    Node n{Node::Kind::truthy, identifier(), {}, {}, nullptr, nullptr};
    for (const char* op : {"==", "!=", "<=", ">=", "<", ">"}) {
      if (symbol(op)) {
        n.kind = Node::Kind::compare;
        n.op = op;
        n.literals.push_back(literal());
        return std::make_shared<Node>(std::move(n));
      }
    }
    if (word("in")) {
      n.kind = Node::Kind::in;
      if (!symbol("[")) fail("'['");
      do n.literals.push_back(literal());
      while (symbol(","));
      if (!symbol("]")) fail("']'");
    }
    return std::make_shared<Node>(std::move(n));
  }

  std::string_view s_;
  size_t i_ = 0;
};

const json::value* lookup(const json::object& o, const std::string& field) {
  auto it = o.find(field);
  return it == o.end() ? nullptr : &it->value();
}

bool is_number(const json::value& v) {
  return v.is_int64() || v.is_uint64() || v.is_double();
}
double number(const json::value& v) {
  return v.is_double()  ? v.as_double()
         : v.is_int64() ? double(v.as_int64())
                        : double(v.as_uint64());
}

// -1, 0, 1; or 2 when the two cannot be ordered (different kinds).
int order(const json::value& a, const json::value& b) {
  if (is_number(a) && is_number(b)) {
    double x = number(a), y = number(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) {
    int c = a.as_string().compare(b.as_string());
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (a.is_bool() && b.is_bool()) return a.as_bool() == b.as_bool() ? 0 : 2;
  // A number stored as text (a dictionary code) still compares with a number literal.
  if (a.is_string() && is_number(b)) {
    try {
      size_t used = 0;
      double x = std::stod(std::string(a.as_string()), &used);
      if (used == a.as_string().size()) return x < number(b) ? -1 : x > number(b) ? 1 : 0;
    } catch (const std::exception&) {
    }
  }
  return 2;
}

bool truthy(const json::value* v) {
  if (!v || v->is_null()) return false;
  if (v->is_bool()) return v->as_bool();
  if (is_number(*v)) return number(*v) != 0;
  if (v->is_string()) return !v->as_string().empty();
  return true;
}

bool eval_node(const Node& n, const json::object& f) {
  switch (n.kind) {
    case Node::Kind::op_and:
      return eval_node(*n.a, f) && eval_node(*n.b, f);
    case Node::Kind::op_or:
      return eval_node(*n.a, f) || eval_node(*n.b, f);
    case Node::Kind::op_not:
      return !eval_node(*n.a, f);
    case Node::Kind::truthy:
      return truthy(lookup(f, n.field));
    case Node::Kind::in: {
      const json::value* v = lookup(f, n.field);
      if (!v) return false;
      for (auto& l : n.literals)
        if (order(*v, l) == 0) return true;
      return false;
    }
    case Node::Kind::compare: {
      const json::value* v = lookup(f, n.field);
      int c = v ? order(*v, n.literals[0]) : 2;
      if (n.op == "!=") return c != 0;
      if (c == 2) return false;  // a missing field or another kind meets no ordering
      if (n.op == "==") return c == 0;
      if (n.op == "<") return c < 0;
      if (n.op == "<=") return c <= 0;
      if (n.op == ">") return c > 0;
      return c >= 0;
    }
  }
  return false;
}

void collect(const Node& n, std::set<std::string>& out) {
  if (!n.field.empty()) out.insert(n.field);
  if (n.a) collect(*n.a, out);
  if (n.b) collect(*n.b, out);
}

}  // namespace

Expression Expression::parse(std::string_view text) {
  if (text.size() > 2000) throw std::invalid_argument("a condition is at most 2000 characters");
  Expression e;
  e.root_ = Parser(text).parse();
  e.text_ = std::string(text);
  return e;
}

bool Expression::eval(const json::object& fields) const {
  return root_ && eval_node(*root_, fields);
}

std::set<std::string> Expression::fields() const {
  std::set<std::string> out;
  if (root_) collect(*root_, out);
  return out;
}

}  // namespace kefu::workflow
