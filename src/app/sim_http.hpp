#pragma once
// The HTTP loop of Kefu's reference simulators (kefu-counter-sim, kefu-oa-sim): one connection at
// a time, keep-alive, JSON answers. Included only by the simulators' own .cpp files (Beast).
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <iostream>
#include <string>
#include <utility>

namespace kefu::sim {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Answer = std::pair<http::status, std::string>;

// Listens on "host:port", says so with `banner`, and answers each request with `handle`; never
// returns.
[[noreturn]] inline void serve(const std::string& listen, const std::string& banner,
                               const std::function<Answer(const Request&)>& handle) {
  using tcp = boost::asio::ip::tcp;
  auto colon = listen.rfind(':');
  boost::asio::io_context io;
  tcp::acceptor acceptor(io, {boost::asio::ip::make_address(listen.substr(0, colon)),
                              static_cast<unsigned short>(std::stoi(listen.substr(colon + 1)))});
  std::cout << banner << std::endl;
  for (;;) {
    tcp::socket socket(io);
    acceptor.accept(socket);
    boost::beast::flat_buffer buffer;
    boost::beast::error_code ec;
    for (;;) {  // keep-alive: one connection, many requests
      Request req;
      http::read(socket, buffer, req, ec);
      if (ec) break;
      auto [status, body] = handle(req);
      http::response<http::string_body> res{status, req.version()};
      res.set(http::field::content_type, "application/json");
      res.keep_alive(req.keep_alive());
      res.body() = std::move(body);
      res.prepare_payload();
      http::write(socket, res, ec);
      if (ec || !res.keep_alive()) break;
    }
  }
}

}  // namespace kefu::sim
