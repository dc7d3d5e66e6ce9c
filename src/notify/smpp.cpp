#include "notify/smpp.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "base/error.hpp"
#include "notify/smpp_pdu.hpp"
#include "notify/sms_text.hpp"

namespace kefu::notify {
namespace {

using Steady = std::chrono::steady_clock;

int64_t ms_since(Steady::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now() - t).count();
}

std::string status_name(uint32_t s) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%08X", s);
  switch (s) {
    case 0x0D:
      return std::string("bind failed (") + b + ")";
    case 0x0E:
      return std::string("invalid password (") + b + ")";
    case 0x0F:
      return std::string("invalid system_id (") + b + ")";
    case 0x05:
      return std::string("already bound (") + b + ")";
    default:
      return std::string("status ") + b;
  }
}

// A connected TCP socket within `timeout_ms`, or -1 with `err` said.
int connect_to(const std::string& host, int port, int64_t timeout_ms, std::string& err) {
  addrinfo hints{}, *res = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  if (int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res); rc != 0) {
    err = std::string("cannot resolve ") + host + ": " + gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo* a = res; a && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
      err = std::string("connect: ") + std::strerror(errno);
      close(fd), fd = -1;
      continue;
    }
    pollfd p{fd, POLLOUT, 0};
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (poll(&p, 1, int(timeout_ms)) != 1 ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
      err = soerr ? std::string("connect: ") + std::strerror(soerr) : "connect: timed out";
      close(fd), fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd >= 0) {
    // Writes block (bounded by a send timeout); reads are polled.
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

}  // namespace

struct SmppChannel::Link {
  std::string account;
  SmppAccount cfg;
  Inbound& inbound;

  // The socket: opened and closed by the link's thread, written by both threads under `wmu`.
  std::mutex wmu;
  int fd = -1;

  mutable std::mutex mu;
  mutable std::condition_variable cv;
  bool bound = false;
  std::string state = "connecting";
  Steady::time_point paused_until{};  // throttled by the SMSC
  uint32_t next_seq = 0;

  // The batch being sent: one Sent per message, and each outstanding submit_sm's place in it.
  struct Pending {
    size_t message = 0, part = 0;
    Steady::time_point sent;
  };
  std::map<uint32_t, Pending> pending;
  std::vector<Sent>* results = nullptr;
  std::mutex send_mu;  // one batch at a time
  uint8_t next_ref = 0;

  // Enquire-link bookkeeping (the link's thread only).
  Steady::time_point last_traffic = Steady::now();
  bool enquiring = false;
  Steady::time_point enquired;

  std::atomic<bool> stopping{false};
  std::thread thread;

  Link(std::string a, SmppAccount c, Inbound& in)
      : account(std::move(a)), cfg(std::move(c)), inbound(in) {
    thread = std::thread([this] { run(); });
  }

  ~Link() {
    stopping = true;
    cv.notify_all();
    if (thread.joinable()) thread.join();
  }

  uint32_t sequence() {  // mu held
    next_seq = next_seq >= 0x7FFFFFFF ? 1 : next_seq + 1;
    return next_seq;
  }

  bool write(const std::string& bytes) {
    std::lock_guard lk(wmu);
    if (fd < 0) return false;
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) {
        if (n < 0 && errno == EINTR) continue;
        shutdown(fd, SHUT_RDWR);  // the link's thread sees it and reconnects
        return false;
      }
      off += size_t(n);
    }
    return true;
  }

  void respond(uint32_t command, uint32_t seq, uint32_t status = 0) {
    smpp::Pdu r;
    r.command = command;
    r.sequence = seq;
    r.status = status;
    write(smpp::encode(r));
  }

  // Settles one outstanding submit_sm (mu held).
  void settle(uint32_t seq, Outcome outcome, const std::string& code, const std::string& error,
              const std::string& message_id, int64_t backoff_ms) {
    auto it = pending.find(seq);
    if (it == pending.end()) return;  // answered after it timed out: the outbox retries it anyway
    auto [msg, part, sent] = it->second;
    pending.erase(it);
    if (results && msg < results->size()) {
      Sent& s = (*results)[msg];
      if (part < s.part_ids.size()) s.part_ids[part] = message_id;
      if (outcome != Outcome::accepted &&
          (s.outcome == Outcome::accepted ||
           (outcome == Outcome::permanent && s.outcome == Outcome::temporary))) {
        s.outcome = outcome;
        s.code = code;
        s.error = error;
        s.backoff_floor_ms = std::max(s.backoff_floor_ms, backoff_ms);
      }
    }
    cv.notify_all();
  }

  void drop(const std::string& why) {
    {
      std::lock_guard lk(wmu);
      if (fd >= 0) close(fd);
      fd = -1;
    }
    std::lock_guard lk(mu);
    if (bound && !stopping) spdlog::warn("smpp {}: link lost: {}", account, why);
    bound = false;
    state = "down: " + why;
    std::vector<uint32_t> seqs;
    for (auto& [seq, p] : pending) seqs.push_back(seq);
    for (auto seq : seqs)
      settle(seq, Outcome::temporary, "smpp_link_lost", "the link went down: " + why, "", 1'000);
    cv.notify_all();
  }

  // Reads until one whole PDU is in `buf` or `deadline_ms` passes; false on close or timeout.
  bool read_some(std::string& buf, int wait_ms) {
    pollfd p{fd, POLLIN, 0};
    int rc = poll(&p, 1, wait_ms);
    if (rc <= 0) return rc == 0;
    char tmp[16384];
    ssize_t n = recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf.append(tmp, size_t(n));
    last_traffic = Steady::now();
    return true;
  }

  bool connect_and_bind(std::string& why) {
    std::string err;
    int s = connect_to(cfg.host, cfg.port, cfg.connect_timeout_ms, err);
    if (s < 0) {
      why = err;
      return false;
    }
    {
      std::lock_guard lk(wmu);
      fd = s;
    }
    smpp::Pdu b;
    b.command = smpp::bind_transceiver;
    {
      std::lock_guard lk(mu);
      b.sequence = sequence();
    }
    b.system_id = cfg.system_id;
    b.password = cfg.password;
    b.system_type = cfg.system_type;
    if (!write(smpp::encode(b))) {
      why = "connection closed while binding";
      return false;
    }
    std::string buf;
    auto start = Steady::now();
    while (ms_since(start) < cfg.response_timeout_ms && !stopping) {
      if (!read_some(buf, 100)) {
        why = "connection closed while binding";
        return false;
      }
      smpp::Pdu r;
      size_t used = smpp::decode(buf, r);
      if (!used) continue;
      buf.erase(0, used);
      if (r.command != smpp::bind_transceiver_resp) continue;
      if (r.status != 0) {
        why = "bind refused: " + status_name(r.status);
        return false;
      }
      rbuf = std::move(buf);
      return true;
    }
    why = "no answer to bind_transceiver";
    return false;
  }

  std::string rbuf;

  void handle(const smpp::Pdu& p) {
    switch (p.command) {
      case smpp::submit_sm_resp: {
        auto v = smpp::verdict(p.status);
        std::lock_guard lk(mu);
        if (v.backoff_ms && (p.status == 0x58 || p.status == 0x14))
          paused_until = Steady::now() + std::chrono::milliseconds(v.backoff_ms);
        settle(p.sequence, v.outcome, v.code,
               v.outcome == Outcome::accepted ? "" : "SMSC answered " + status_name(p.status),
               p.message_id, v.backoff_ms);
        break;
      }
      case smpp::generic_nack: {
        std::lock_guard lk(mu);
        settle(p.sequence, Outcome::temporary, "smpp_generic_nack",
               "SMSC answered generic_nack " + status_name(p.status), "", 2'000);
        break;
      }
      case smpp::deliver_sm: {
        bool stored = false;
        try {
          smpp::Receipt r;
          if (smpp::receipt_of(p, r)) {
            // Held, and stored with the others of this read in one transaction (flush_receipts).
            held.push_back({p.sequence, Receipt{r.id, r.stat, r.err, r.final, r.delivered}});
            break;
          } else {
            std::string payload = p.short_message.empty() ? p.message_payload : p.short_message;
            if ((p.esm_class & 0x40) && !payload.empty())  // a part of a long reply: its UDH off
              payload.erase(0, std::min<size_t>(payload.size(), uint8_t(payload[0]) + 1u));
            stored = inbound.reply(account, Reply{p.source_addr, p.destination_addr,
                                                  decode_sms(payload, p.data_coding)});
          }
        } catch (const std::exception& e) {
          spdlog::error("smpp {}: deliver_sm {} not stored: {}", account, p.sequence, e.what());
        }
        // Not stored: a temporary error, and the SMSC delivers it again later.
        respond(smpp::deliver_sm_resp, p.sequence, stored ? 0 : 0x64 /* ESME_RX_T_APPN */);
        break;
      }
      case smpp::enquire_link:
        respond(smpp::enquire_link_resp, p.sequence);
        break;
      case smpp::enquire_link_resp:
        enquiring = false;
        break;
      case smpp::unbind:
        respond(smpp::unbind_resp, p.sequence);
        drop("unbound by the SMSC");
        break;
      default:
        if (!(p.command & 0x80000000)) respond(smpp::generic_nack, p.sequence, 0x03);
        break;
    }
  }

  // Receipts read but not yet stored or acknowledged.
  std::vector<std::pair<uint32_t, Receipt>> held;

  void flush_receipts() {
    if (held.empty()) return;
    std::vector<Receipt> rs;
    rs.reserve(held.size());
    for (auto& [seq, r] : held) rs.push_back(r);
    bool stored = false;
    try {
      stored = inbound.receipts(account, rs);
    } catch (const std::exception& e) {
      spdlog::error("smpp {}: {} receipts not stored: {}", account, rs.size(), e.what());
    }
    // Not stored: a temporary error each, and the SMSC delivers them again later.
    for (auto& [seq, r] : held) respond(smpp::deliver_sm_resp, seq, stored ? 0 : 0x64);
    held.clear();
  }

  void run() {
    int64_t backoff = 1'000;
    while (!stopping) {
      std::string why;
      if (!connect_and_bind(why)) {
        drop(why);
        spdlog::warn("smpp {}: {} (again in {} ms)", account, why, backoff);
        std::unique_lock lk(mu);
        cv.wait_for(lk, std::chrono::milliseconds(backoff), [&] { return stopping.load(); });
        backoff = std::min<int64_t>(backoff * 2, 30'000);
        continue;
      }
      backoff = 1'000;
      {
        std::lock_guard lk(mu);
        bound = true;
        state = "bound";
        enquiring = false;
        cv.notify_all();
      }
      spdlog::info("smpp {}: bound to {}:{} as {}", account, cfg.host, cfg.port, cfg.system_id);
      serve();
      std::unique_lock lk(mu);  // not a tight loop against an SMSC that closes at once
      cv.wait_for(lk, std::chrono::milliseconds(200), [&] { return stopping.load(); });
    }
    // Leaving: a polite unbind, then the socket closed.
    std::unique_lock lk(mu);
    bool was_bound = bound;
    lk.unlock();
    if (was_bound) {
      smpp::Pdu u;
      u.command = smpp::unbind;
      u.sequence = 0x7FFFFFFF;
      write(smpp::encode(u));
    }
    drop("stopped");
  }

  // The bound link: reads PDUs, keeps it alive, times out what goes unanswered.
  void serve() {
    while (!stopping) {
      if (!read_some(rbuf, 100)) return drop("connection closed by the SMSC");
      try {
        smpp::Pdu p;
        size_t at = 0;
        while (size_t used = smpp::decode(std::string_view(rbuf).substr(at), p)) {
          at += used;
          handle(p);
          if (held.size() >= 500) flush_receipts();
          std::lock_guard lk(wmu);
          if (fd < 0) {  // dropped while handling (unbind): what is held comes again
            held.clear();
            return;
          }
        }
        rbuf.erase(0, at);
        flush_receipts();
      } catch (const std::exception& e) {
        held.clear();
        return drop(std::string("unreadable PDU: ") + e.what());
      }
      if (enquiring && ms_since(enquired) > cfg.response_timeout_ms)
        return drop("no answer to enquire_link");
      if (!enquiring && ms_since(last_traffic) > cfg.enquire_link_ms) {
        smpp::Pdu e;
        e.command = smpp::enquire_link;
        {
          std::lock_guard lk(mu);
          e.sequence = sequence();
        }
        enquiring = true;
        enquired = Steady::now();
        last_traffic = enquired;
        write(smpp::encode(e));
      }
      std::lock_guard lk(mu);
      std::vector<uint32_t> late;
      for (auto& [seq, p] : pending)
        if (ms_since(p.sent) > cfg.response_timeout_ms) late.push_back(seq);
      for (auto seq : late)
        settle(seq, Outcome::temporary, "smpp_timeout", "no submit_sm_resp in time", "", 1'000);
    }
  }
};

SmppChannel::SmppChannel(std::string account, SmppAccount config, Inbound& inbound)
    : link_(std::make_unique<Link>(std::move(account), std::move(config), inbound)) {}

SmppChannel::~SmppChannel() = default;

std::string SmppChannel::state() const {
  std::lock_guard lk(link_->mu);
  return link_->state;
}

bool SmppChannel::wait_bound(int64_t ms) const {
  std::unique_lock lk(link_->mu);
  return link_->cv.wait_for(lk, std::chrono::milliseconds(ms), [&] { return link_->bound; });
}

Sent SmppChannel::send(const Outgoing& m) {
  auto r = send_all({m}, [](size_t) { return true; });
  return r.empty() ? Sent{Outcome::temporary, "", "stopped", "not sent"} : r[0];
}

std::vector<Sent> SmppChannel::send_all(const std::vector<Outgoing>& batch,
                                        const std::function<bool(size_t)>& pace) {
  Link& l = *link_;
  std::lock_guard one(l.send_mu);
  std::vector<Sent> results;
  results.reserve(batch.size());
  {
    std::lock_guard lk(l.mu);
    l.results = &results;
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!pace(i)) break;
    const Outgoing& m = batch[i];
    SmsPlan plan;
    try {
      plan = plan_sms(m.text);
    } catch (const Error& e) {
      std::lock_guard lk(l.mu);
      results.push_back(Sent{Outcome::permanent, "", "invalid_text", e.what()});
      continue;
    }
    bool concatenated = plan.parts.size() > 1;
    uint8_t ref = 0;
    {
      std::lock_guard lk(l.mu);
      Sent s{Outcome::accepted};
      s.part_ids.resize(plan.parts.size());
      results.push_back(std::move(s));
      ref = ++l.next_ref;
    }
    for (size_t k = 0; k < plan.parts.size(); ++k) {
      smpp::Pdu p;
      p.command = smpp::submit_sm;
      p.source_addr = l.cfg.source_addr;
      bool alpha = std::any_of(p.source_addr.begin(), p.source_addr.end(),
                               [](char c) { return !std::isdigit(uint8_t(c)); });
      p.source_ton = alpha ? 5 : 0;
      p.source_npi = alpha ? 0 : 1;
      p.dest_ton = 0;
      p.dest_npi = 1;
      p.destination_addr = m.recipient;
      p.registered_delivery = 1;  // a receipt for every part, delivered or not
      p.data_coding = plan.data_coding();
      p.esm_class = concatenated ? 0x40 : 0x00;
      p.short_message =
          concatenated ? concat_udh(ref, uint8_t(plan.parts.size()), uint8_t(k + 1)) + plan.parts[k]
                       : plan.parts[k];
      std::unique_lock lk(l.mu);
      // A place in the window, on a bound link that the SMSC has not asked to pause. A link that
      // is down gets a moment to come back (a reconnect), not the batch's whole time.
      auto waited = Steady::now();
      bool ready = false;
      while (!l.stopping) {
        if (!l.bound && ms_since(waited) > 1'000) break;
        if (l.bound && int(l.pending.size()) < l.cfg.window && Steady::now() >= l.paused_until) {
          ready = true;
          break;
        }
        if (ms_since(waited) > l.cfg.response_timeout_ms) break;
        l.cv.wait_for(lk, std::chrono::milliseconds(20));
      }
      if (!ready) {
        Sent& s = results[i];
        if (s.outcome == Outcome::accepted) {
          s.outcome = Outcome::temporary;
          s.code = "smpp_link_down";
          s.error = "the SMSC link is " + l.state;
          s.backoff_floor_ms = 2'000;
        }
        break;
      }
      p.sequence = l.sequence();
      l.pending[p.sequence] = Link::Pending{i, k, Steady::now()};
      lk.unlock();
      l.write(smpp::encode(p));  // a failed write drops the link, which settles the part
    }
  }
  // Every answer, or the link's timeout, settles what is outstanding.
  std::unique_lock lk(l.mu);
  l.cv.wait(lk, [&] { return l.pending.empty(); });
  l.results = nullptr;
  return results;
}

}  // namespace kefu::notify
