#pragma once
// The network side of kefud: Boost.Beast HTTP/1.1 with keep-alive and WebSocket on one
// port, optional TLS. I/O threads only move bytes; handlers run on a worker pool, and
// routes marked slow on a separate pool so a burst of logins cannot starve other requests.
#include <memory>
#include <string>

#include "http/pipeline.hpp"
#include "http/ws_hub.hpp"

namespace kefu::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0 picks a free port; start() returns it
  int io_threads = 1;
  int worker_threads = 8;
  int slow_threads = 1;
  int64_t body_limit = 4 << 20;
  int read_timeout_s = 30;
  int write_timeout_s = 30;
  std::string tls_cert;
  std::string tls_key;
  std::string ws_path = "/api/v1/ws";
};

class Server {
 public:
  Server(ServerOptions options, const Pipeline& pipeline, WsHub& hub);
  ~Server();
  int start();
  // Graceful: stop accepting, let in-flight requests finish (up to `grace_s`), close sockets.
  void stop(int grace_s = 10);
  int active_connections() const;

  struct Impl;  // public so the session templates in server.cpp can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace kefu::http
