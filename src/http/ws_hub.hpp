#pragma once
// Fan-out of live events to WebSocket clients, each event delivered only to clients
// whose principal holds the event's permission.
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/json.hpp"
#include "base/principal.hpp"

namespace kefu::http {

class WsClient {
 public:
  virtual ~WsClient() = default;
  virtual void send(std::shared_ptr<const std::string> text) = 0;
  virtual const Principal& principal() const = 0;
};

class WsHub {
 public:
  void add(const std::shared_ptr<WsClient>& c);
  void remove(const WsClient* c);
  // permission "" = every signed-in client.
  void publish(const std::string& type, const kefu::json::value& data, const std::string& permission = "");
  // For events whose audience depends on more than one permission (data scope, ownership).
  void publish(const std::string& type, const kefu::json::value& data,
               const std::function<bool(const Principal&)>& audience);
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::weak_ptr<WsClient>> clients_;
};

}  // namespace kefu::http
