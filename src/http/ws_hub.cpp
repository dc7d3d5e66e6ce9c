#include "http/ws_hub.hpp"

#include <algorithm>

namespace kefu::http {

void WsHub::add(const std::shared_ptr<WsClient>& c) {
  std::lock_guard lk(mu_);
  clients_.push_back(c);
}

void WsHub::remove(const WsClient* c) {
  std::lock_guard lk(mu_);
  std::erase_if(clients_, [&](auto& w) {
    auto p = w.lock();
    return !p || p.get() == c;
  });
}

void WsHub::publish(const std::string& type, const kefu::json::value& data, const std::string& permission) {
  publish(type, data, [&permission](const Principal& p) { return permission.empty() || p.has(permission); });
}

void WsHub::publish(const std::string& type, const kefu::json::value& data,
                    const std::function<bool(const Principal&)>& audience) {
  auto text = std::make_shared<const std::string>(to_json(kefu::json::object{{"type", type}, {"data", data}}));
  std::vector<std::shared_ptr<WsClient>> targets;
  {
    std::lock_guard lk(mu_);
    for (auto& w : clients_)
      if (auto p = w.lock(); p && audience(p->principal())) targets.push_back(p);
  }
  for (auto& t : targets) t->send(text);  // outside the lock: a slow client must not hold up the rest
}

size_t WsHub::size() const {
  std::lock_guard lk(mu_);
  return size_t(std::count_if(clients_.begin(), clients_.end(), [](auto& w) { return !w.expired(); }));
}

}  // namespace kefu::http
