#include "http/server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <spdlog/spdlog.h>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <thread>

#include "base/error.hpp"

namespace kefu::http {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = net::ip::tcp;

struct Server::Impl {
  ServerOptions opt;
  const Pipeline& pipeline;
  WsHub& hub;
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::unique_ptr<ssl::context> tls;
  net::thread_pool workers;
  net::thread_pool slow;
  std::vector<std::thread> io_threads;
  std::atomic<int> connections{0};
  std::atomic<int> in_flight{0};
  std::atomic<bool> stopping{false};

  Impl(ServerOptions o, const Pipeline& p, WsHub& h)
      : opt(std::move(o)), pipeline(p), hub(h), workers(size_t(opt.worker_threads)), slow(size_t(opt.slow_threads)) {}

  void do_accept();
};

namespace {

using Body = bhttp::string_body;

Request to_request(const bhttp::request<Body>& in, const std::string& client_ip) {
  Request r;
  r.method = std::string(in.method_string());
  r.target = std::string(in.target());
  auto qpos = r.target.find('?');
  r.path = percent_decode(std::string_view(r.target).substr(0, qpos));
  if (qpos != std::string::npos) r.query = parse_query(std::string_view(r.target).substr(qpos + 1));
  for (auto& f : in) {
    std::string name(f.name_string());
    for (auto& c : name) c = char(tolower((unsigned char)c));
    r.headers.emplace_back(std::move(name), std::string(f.value()));
  }
  r.body = in.body();
  r.client_ip = client_ip;
  return r;
}

bhttp::response<Body> to_beast(const Response& r, unsigned version, bool keep_alive, bool head) {
  bhttp::response<Body> out{bhttp::status(r.status), version};
  out.set(bhttp::field::server, "kefud");
  if (!r.content_type.empty()) out.set(bhttp::field::content_type, r.content_type);
  for (auto& [k, v] : r.headers) out.set(k, v);
  out.set("X-Content-Type-Options", "nosniff");
  out.keep_alive(keep_alive);
  if (head) {
    out.content_length(r.body.size());
  } else {
    out.body() = r.body;
    out.prepare_payload();
  }
  return out;
}

template <class Stream>
beast::tcp_stream& lowest(Stream& s) {
  return beast::get_lowest_layer(s);
}

// Slow work (argon2id hashing, imports) runs at a lower CPU priority, so on a busy
// machine the ordinary requests keep their latency while a burst of sign-ins queues.
void lower_priority_once() {
  thread_local bool done = false;
  if (done) return;
  done = true;
  setpriority(PRIO_PROCESS, pid_t(syscall(SYS_gettid)), 10);
}

// ---- WebSocket --------------------------------------------------------------------

template <class Stream>
class WsSession : public WsClient, public std::enable_shared_from_this<WsSession<Stream>> {
 public:
  WsSession(Stream&& s, Server::Impl& srv, std::shared_ptr<const Principal> who)
      : ws_(std::move(s)), srv_(srv), who_(std::move(who)) {}
  ~WsSession() override { srv_.hub.remove(this); }

  void run(bhttp::request<Body> req) {
    lowest(ws_.next_layer()).expires_never();
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.read_message_max(64 * 1024);
    ws_.async_accept(req, [self = this->shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->srv_.hub.add(self);
      self->send(std::make_shared<const std::string>(
          to_json(json::object{{"type", "hello"}, {"data", json::object{{"staff_id", self->who_->staff_id}}}})));
      self->do_read();
    });
  }

  const Principal& principal() const override { return *who_; }

  void send(std::shared_ptr<const std::string> text) override {
    net::post(ws_.get_executor(), [self = this->shared_from_this(), text] {
      // A client that stops reading is cut off rather than buffered without bound.
      if (self->queue_.size() >= 1024) {
        self->ws_.async_close(websocket::close_code::policy_error, [self](beast::error_code) {});
        return;
      }
      self->queue_.push_back(text);
      if (self->queue_.size() == 1) self->do_write();
    });
  }

 private:
  void do_read() {
    ws_.async_read(buf_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return;  // closed; the destructor leaves the hub
      std::string msg = beast::buffers_to_string(self->buf_.data());
      self->buf_.consume(self->buf_.size());
      if (msg.find("\"ping\"") != std::string::npos)
        self->send(std::make_shared<const std::string>("{\"type\":\"pong\"}"));
      self->do_read();
    });
  }
  void do_write() {
    ws_.text(true);
    ws_.async_write(net::buffer(*queue_.front()), [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return;
      self->queue_.pop_front();
      if (!self->queue_.empty()) self->do_write();
    });
  }

  websocket::stream<Stream> ws_;
  Server::Impl& srv_;
  std::shared_ptr<const Principal> who_;
  beast::flat_buffer buf_;
  std::deque<std::shared_ptr<const std::string>> queue_;
};

// ---- HTTP ---------------------------------------------------------------------------

template <class Stream>
class HttpSession : public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(Stream&& s, Server::Impl& srv, std::string ip) : stream_(std::move(s)), srv_(srv), ip_(std::move(ip)) {
    ++srv_.connections;
  }
  ~HttpSession() { --srv_.connections; }

  void run() {
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      lowest(stream_).expires_after(std::chrono::seconds(srv_.opt.read_timeout_s));
      stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (!ec) self->do_read();
      });
    } else {
      do_read();
    }
  }

 private:
  void do_read() {
    if (srv_.stopping) return do_close();
    parser_.emplace();
    parser_->body_limit(uint64_t(srv_.opt.body_limit));
    parser_->header_limit(32 * 1024);
    lowest(stream_).expires_after(std::chrono::seconds(srv_.opt.read_timeout_s));
    bhttp::async_read(stream_, buf_, *parser_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      self->on_read(ec);
    });
  }

  void on_read(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == net::error::operation_aborted || ec == beast::error::timeout)
      return do_close();
    if (ec == bhttp::error::body_limit) {
      return reply_error(413, "body_too_large",
                         "request body exceeds " + std::to_string(srv_.opt.body_limit) + " bytes");
    }
    if (ec) {
      if (ec.category() == make_error_code(bhttp::error::end_of_stream).category())
        return reply_error(400, "bad_request", "malformed HTTP request: " + ec.message());
      return do_close();
    }
    auto req = parser_->release();
    if (websocket::is_upgrade(req)) return upgrade(std::move(req));
    version_ = req.version();
    keep_alive_ = req.keep_alive();
    head_ = req.method() == bhttp::verb::head;
    auto kreq = std::make_shared<Request>(to_request(req, ip_));
    ++srv_.in_flight;
    bool slow = srv_.pipeline.is_slow(*kreq);
    auto& pool = slow ? srv_.slow : srv_.workers;
    net::post(pool, [self = this->shared_from_this(), kreq, slow] {
      if (slow) lower_priority_once();
      auto resp = std::make_shared<Response>(self->srv_.pipeline.handle(*kreq));
      net::post(self->stream_.get_executor(), [self, resp] { self->write(*resp); });
    });
  }

  void upgrade(bhttp::request<Body> req) {
    auto kreq = std::make_shared<Request>(to_request(req, ip_));
    auto breq = std::make_shared<bhttp::request<Body>>(std::move(req));
    net::post(srv_.workers, [self = this->shared_from_this(), kreq, breq] {
      std::shared_ptr<const Principal> who;
      std::string err;
      int status = 401;
      std::string code = "unauthenticated";
      try {
        if (kreq->path != self->srv_.opt.ws_path) {
          err = "no WebSocket endpoint at " + kreq->path;
          status = 404;
          code = "not_found";
        } else {
          who = self->srv_.pipeline.authenticate(*kreq);
          if (who && who->must_change_password) {  // as for every other route but the password change
            who = nullptr;
            err = "change your password first";
            status = 403;
            code = "password_change_required";
          }
        }
      } catch (const std::exception& e) {
        err = e.what();
      }
      net::post(self->stream_.get_executor(), [self, who, err, status, code, breq] {
        if (!who) {
          self->version_ = breq->version();
          self->keep_alive_ = false;
          return self->reply_error(status, code, err.empty() ? "sign in first" : err);
        }
        std::make_shared<WsSession<Stream>>(std::move(self->stream_), self->srv_, who)->run(std::move(*breq));
      });
    });
  }

  void reply_error(int status, const std::string& code, const std::string& msg) {
    keep_alive_ = false;
    ++srv_.in_flight;
    write(error_response(status, code, msg, "", new_request_id()));
  }

  void write(const Response& r) {
    bool keep = keep_alive_ && !srv_.stopping;
    res_ = std::make_shared<bhttp::response<Body>>(to_beast(r, version_, keep, head_));
    lowest(stream_).expires_after(std::chrono::seconds(srv_.opt.write_timeout_s));
    bhttp::async_write(stream_, *res_, [self = this->shared_from_this(), keep](beast::error_code ec, size_t) {
      --self->srv_.in_flight;
      self->res_.reset();
      if (ec || !keep) return self->do_close();
      self->do_read();
    });
  }

  void do_close() {
    beast::error_code ec;
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      lowest(stream_).expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
    } else {
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    }
  }

  Stream stream_;
  Server::Impl& srv_;
  std::string ip_;
  beast::flat_buffer buf_;
  std::optional<bhttp::request_parser<Body>> parser_;
  std::shared_ptr<bhttp::response<Body>> res_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool head_ = false;
};

}  // namespace

void Server::Impl::do_accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket sock) {
    if (stopping) return;
    if (!ec) {
      std::string ip;
      beast::error_code ec2;
      auto ep = sock.remote_endpoint(ec2);
      if (!ec2) ip = ep.address().to_string();
      sock.set_option(tcp::no_delay(true), ec2);
      if (tls) {
        std::make_shared<HttpSession<beast::ssl_stream<beast::tcp_stream>>>(
            beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(sock)), *tls), *this, ip)
            ->run();
      } else {
        std::make_shared<HttpSession<beast::tcp_stream>>(beast::tcp_stream(std::move(sock)), *this, ip)->run();
      }
    }
    do_accept();
  });
}

Server::Server(ServerOptions options, const Pipeline& pipeline, WsHub& hub)
    : impl_(std::make_unique<Impl>(std::move(options), pipeline, hub)) {}

Server::~Server() { stop(1); }

int Server::start() {
  auto& s = *impl_;
  if (!s.opt.tls_cert.empty() || !s.opt.tls_key.empty()) {
    s.tls = std::make_unique<ssl::context>(ssl::context::tls_server);
    s.tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    s.tls->use_certificate_chain_file(s.opt.tls_cert);
    s.tls->use_private_key_file(s.opt.tls_key, ssl::context::pem);
  }
  auto addr = net::ip::make_address(s.opt.host);
  tcp::endpoint ep{addr, static_cast<unsigned short>(s.opt.port)};
  s.acceptor.open(ep.protocol());
  s.acceptor.set_option(net::socket_base::reuse_address(true));
  s.acceptor.bind(ep);
  s.acceptor.listen(net::socket_base::max_listen_connections);
  int port = s.acceptor.local_endpoint().port();
  s.do_accept();
  for (int i = 0; i < s.opt.io_threads; ++i) s.io_threads.emplace_back([&s] { s.ioc.run(); });
  return port;
}

void Server::stop(int grace_s) {
  auto& s = *impl_;
  if (s.stopping.exchange(true)) return;
  net::post(s.ioc, [&s] {
    beast::error_code ec;
    s.acceptor.close(ec);
  });
  // In-flight requests finish and are answered with Connection: close.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(grace_s);
  while (s.in_flight > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  s.workers.join();
  s.slow.join();
  s.ioc.stop();
  for (auto& t : s.io_threads)
    if (t.joinable()) t.join();
  s.io_threads.clear();
}

int Server::active_connections() const { return impl_->connections; }

}  // namespace kefu::http
