#include "ivr/session.hpp"

namespace kefu::ivr {

using T = Node::Type;
using K = Action::Kind;

Session::Session(std::shared_ptr<const Flow> flow, Facts facts)
    : flow_(std::move(flow)), facts_(std::move(facts)) {}

std::vector<Action> Session::start(const std::string& node) {
  std::vector<Action> out;
  enter(node.empty() ? flow_->start : node, out);
  return out;
}

void Session::enter(const std::string& id, std::vector<Action>& out) {
  wait_ = Wait::none;
  tries_ = 0;
  stage_ = 0;
  hops_ = 0;
  if (!flow_->nodes.count(id)) return exit(Action{K::hangup}, "no_such_node", out);
  node_ = id;
  run(out);
}

std::string Session::fill(const std::string& text) const {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    size_t close = text[i] == '{' ? text.find('}', i) : std::string::npos;
    if (close == std::string::npos) {
      out += text[i];
      continue;
    }
    auto it = facts_.vars.find(text.substr(i + 1, close - i - 1));
    if (it != facts_.vars.end()) out += it->second;
    i = close;
  }
  return out;
}

void Session::exit(Action a, const std::string& result, std::vector<Action>& out) {
  path_.push_back({node_, "", result});
  wait_ = Wait::over;
  out.push_back(std::move(a));
}

void Session::ask(const Node& n, const std::string& prompt, int min, int max,
                  std::vector<Action>& out) {
  if (!prompt.empty()) out.push_back(Action{K::play, fill(prompt)});
  Action c{K::collect};
  c.min_digits = min;
  c.max_digits = max;
  c.timeout_ms = n.timeout_ms;
  out.push_back(std::move(c));
  wait_ = Wait::digits;
}

// 菜单自动隐藏: only the options whose conditions hold are announced and accepted.
void Session::prompt_menu(const Node& n, std::vector<Action>& out) {
  std::string text = fill(n.prompt);
  for (auto& o : n.options)
    if (holds(o.show_if, facts_) && !o.prompt.empty())
      text += (text.empty() ? "" : "，") + fill(o.prompt);
  ask(n, text, 1, 1, out);
}

void Session::run(std::vector<Action>& out) {
  while (wait_ == Wait::none) {
    if (++hops_ > 100) return exit(Action{K::hangup}, "loop", out);  // a flow going round
    const Node& n = flow_->node(node_);
    switch (n.type) {
      case T::play:
        if (!n.prompt.empty()) out.push_back(Action{K::play, fill(n.prompt)});
        path_.push_back({n.id, "", "played"});
        node_ = n.next;
        break;
      case T::menu:
        return prompt_menu(n, out);
      case T::collect:
        return ask(n, n.prompt, n.min_digits, n.max_digits, out);
      case T::verify:
        stage_ = 0;
        return ask(n, n.prompt, 1, n.max_digits, out);
      case T::survey:
        return ask(n, n.prompt, 1, 1, out);
      case T::campaign:
        return ask(n, n.prompt, n.min_digits, n.max_digits, out);
      case T::service: {
        Action a{K::adapter, "", n.target};
        a.args = facts_.vars;
        out.push_back(std::move(a));
        wait_ = Wait::adapter;
        return;
      }
      case T::branch: {
        std::string next = n.next;
        for (auto& c : n.cases)
          if (holds(c.when, facts_)) {
            next = c.next;
            break;
          }
        path_.push_back({n.id, "", next});
        node_ = next;
        break;
      }
      case T::queue:
        return exit(Action{K::queue, "", n.target}, "queue:" + n.target, out);
      case T::voicemail:
        if (!n.prompt.empty()) out.push_back(Action{K::play, fill(n.prompt)});
        return exit(Action{K::voicemail}, "voicemail", out);
      case T::transfer:
        return exit(Action{K::transfer, "", n.target}, "transfer:" + n.target, out);
      case T::hangup:
        if (!n.prompt.empty()) out.push_back(Action{K::play, fill(n.prompt)});
        return exit(Action{K::hangup}, "hangup", out);
      case T::back:
        return exit(Action{K::back}, facts_.verified ? "return:verified" : "return", out);
    }
  }
}

void Session::failed(const Node& n, std::vector<Action>& out) {
  if (++tries_ <= n.retries) {
    if (!n.invalid_prompt.empty()) out.push_back(Action{K::play, fill(n.invalid_prompt)});
    if (n.type == T::menu) return prompt_menu(n, out);
    stage_ = 0;
    const bool sized = n.type == T::collect || n.type == T::campaign;
    return ask(n, n.prompt, sized ? n.min_digits : 1, n.max_digits, out);
  }
  if (n.on_fail.empty()) return exit(Action{K::hangup}, "failed", out);
  path_.push_back({n.id, "", "failed"});
  enter(n.on_fail, out);
}

std::vector<Action> Session::digits(const std::string& raw) {
  std::vector<Action> out;
  if (wait_ != Wait::digits) return out;
  std::string d = raw;
  if (!d.empty() && d.back() == '#') d.pop_back();  // the terminator key
  const Node& n = flow_->node(node_);
  wait_ = Wait::none;
  switch (n.type) {
    case T::menu:
      for (auto& o : n.options)
        if (!d.empty() && o.digit[0] == d[0] && holds(o.show_if, facts_)) {
          path_.push_back({n.id, o.digit, o.next});
          enter(o.next, out);
          return out;
        }
      path_.push_back({n.id, d, "invalid"});
      failed(n, out);
      return out;
    case T::collect:
      if (int(d.size()) < n.min_digits || int(d.size()) > n.max_digits) {
        path_.push_back({n.id, "", "invalid"});
        failed(n, out);
        return out;
      }
      facts_.vars[n.var] = d;
      path_.push_back({n.id, d, "collected"});
      enter(n.next, out);
      return out;
    case T::verify:
      if (d.empty()) {
        failed(n, out);
        return out;
      }
      if (stage_ == 0) {  // the account; then the password
        facts_.vars["account"] = d;
        stage_ = 1;
        ask(n, n.pin_prompt, 1, n.max_digits, out);
        return out;
      }
      {
        Action a{K::adapter, "", "verify"};
        a.args = {{"account", facts_.vars["account"]}, {"pin", d}};  // the pin is never stored
        out.push_back(std::move(a));
        wait_ = Wait::adapter;
      }
      return out;
    case T::campaign: {
      if (int(d.size()) < n.min_digits || int(d.size()) > n.max_digits) {
        path_.push_back({n.id, d, "invalid"});
        failed(n, out);
        return out;
      }
      facts_.vars["campaign_code"] = d;
      Action a{K::adapter, "", "campaign"};
      a.args = {{"code", d}};
      out.push_back(std::move(a));
      wait_ = Wait::adapter;
      return out;
    }
    case T::survey:
      if (d.size() != 1 || d[0] < '1' || d[0] > '5') {
        path_.push_back({n.id, "", "invalid"});
        failed(n, out);
        return out;
      }
      facts_.vars["survey"] = d;
      path_.push_back({n.id, d, "rated"});
      if (n.next.empty()) {
        exit(Action{K::hangup}, "hangup", out);
        return out;
      }
      enter(n.next, out);
      return out;
    default:
      return out;
  }
}

std::vector<Action> Session::timeout() {
  std::vector<Action> out;
  if (wait_ != Wait::digits) return out;
  wait_ = Wait::none;
  const Node& n = flow_->node(node_);
  path_.push_back({n.id, "", "timeout"});
  failed(n, out);
  return out;
}

std::vector<Action> Session::adapter_result(bool ok,
                                            const std::map<std::string, std::string>& values) {
  std::vector<Action> out;
  if (wait_ != Wait::adapter) return out;
  wait_ = Wait::none;
  const Node& n = flow_->node(node_);
  for (auto& [k, v] : values) facts_.vars[k] = v;
  if (n.type == T::verify) {
    path_.push_back({n.id, "", ok ? "verified" : "not_verified"});
    if (ok) {
      facts_.verified = true;
      enter(n.next, out);
    } else {
      failed(n, out);
    }
    return out;
  }
  if (n.type == T::campaign) {
    const std::string& code = facts_.vars["campaign_code"];
    auto number = values.find("number");
    if (!ok || number == values.end() || number->second.empty()) {
      path_.push_back({n.id, code, "unknown_code"});
      failed(n, out);
      return out;
    }
    path_.push_back({n.id, code, "campaign"});
    exit(Action{K::transfer, "", number->second}, "transfer:" + number->second, out);
    return out;
  }
  path_.push_back({n.id, "", ok ? "ok" : "failed"});
  if (!ok) {
    if (n.on_fail.empty())
      exit(Action{K::hangup}, "failed", out);
    else
      enter(n.on_fail, out);
    return out;
  }
  if (!n.prompt.empty()) out.push_back(Action{K::play, fill(n.prompt)});
  enter(n.next, out);
  return out;
}

}  // namespace kefu::ivr
