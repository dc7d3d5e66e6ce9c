#include "http/router.hpp"

#include <stdexcept>

namespace kefu::http {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string::npos) next = path.size();
    if (next > pos) out.push_back(path.substr(pos, next - pos));
    pos = next + 1;
  }
  return out;
}

void Router::add(Route route) {
  Compiled c;
  c.segments = split_path(route.pattern);
  for (auto& s : c.segments)
    if (s.empty() || s.front() != '{') ++c.literals;
  for (size_t i = 0; i < routes_.size(); ++i)
    if (routes_[i].method == route.method && routes_[i].pattern == route.pattern)
      throw std::logic_error("route declared twice: " + route.method + " " + route.pattern);
  routes_.push_back(std::move(route));
  compiled_.push_back(std::move(c));
}

Router::Match Router::match(const std::string& method, const std::string& path) const {
  auto segs = split_path(path);
  Match best;
  int best_literals = -1;
  for (size_t i = 0; i < routes_.size(); ++i) {
    const auto& c = compiled_[i];
    if (c.segments.size() != segs.size()) continue;
    std::map<std::string, std::string> params;
    bool ok = true;
    for (size_t k = 0; k < segs.size() && ok; ++k) {
      const auto& p = c.segments[k];
      if (!p.empty() && p.front() == '{') params[p.substr(1, p.size() - 2)] = segs[k];
      else ok = p == segs[k];
    }
    if (!ok) continue;
    best.path_exists = true;
    // The most literal pattern wins: /api/v1/staff/stats beats /api/v1/{entity}/{id}.
    if (routes_[i].method == method && c.literals > best_literals) {
      best.route = &routes_[i];
      best.params = std::move(params);
      best_literals = c.literals;
    }
  }
  return best;
}

}  // namespace kefu::http
