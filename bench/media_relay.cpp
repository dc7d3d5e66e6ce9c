// Media relay benchmark (issue 6): N concurrent two-party calls through the media engine at the
// real pace of telephony — every far end sends one 20 ms PCMU packet every 20 ms — for a number
// of seconds, then the same traffic through a baseline relay in the same binary: one thread
// that receives and sends the bytes unchanged (no RTP parsing, no header rewrite, no lock), the
// least any relay can do. Reports packets lost, one-way latency p50/p99 through the relay, and
// process CPU over the run (the far ends' sending and receiving are the same in both runs).
// With `listen`, every call also has a supervisor listening: three legs per mix, so every call
// goes through the paced mixer (decode, mix, encode every 20 ms) instead of the relay; the
// mixer sends each leg a frame every 20 ms, so what arrives is compared with that.
// Each runs with one media thread and with the engine's default (one per core, at most 4).
//   kefu_bench_media [calls] [seconds] [listen] [threads]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "media/rtp.hpp"
#include "sip/media_engine.hpp"

using Clock = std::chrono::steady_clock;

namespace {

int udp_socket(uint16_t& port) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  int size = 1 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  return fd;
}

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct Result {
  long sent = 0, received = 0;
  double p50_us = 0, p99_us = 0, cpu_pct = 0;
};

// Far ends: ends[2i] and ends[2i+1] are the two parties of call i; to[k] is where end k sends.
Result drive(const std::vector<int>& ends, const std::vector<sockaddr_in>& to, int seconds,
             size_t senders) {
  std::atomic<bool> done{false};
  std::atomic<long> received{0};
  std::vector<int64_t> latencies;
  latencies.reserve(size_t(ends.size()) * 50 * size_t(seconds));
  std::thread rx([&] {
    int ep = epoll_create1(0);
    for (int fd : ends) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = fd;
      epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    epoll_event evs[256];
    uint8_t buf[2048];
    while (!done) {
      int n = epoll_wait(ep, evs, 256, 100);
      for (int i = 0; i < n; ++i)
        while (true) {
          ssize_t got = ::recv(evs[i].data.fd, buf, sizeof buf, 0);
          if (got < 12 + 8) break;
          int64_t sent_ns;
          std::memcpy(&sent_ns, buf + 12, 8);
          latencies.push_back(
              std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
                  .count() -
              sent_ns);
          ++received;
        }
    }
    ::close(ep);
  });
  Result r;
  const double cpu0 = cpu_seconds();
  auto start = Clock::now(), next = start;
  std::vector<uint16_t> seq(ends.size(), 0);
  uint8_t payload[160];
  std::memset(payload, 0xff, sizeof payload);
  uint8_t pkt[200];
  while (next - start < std::chrono::seconds(seconds)) {
    std::this_thread::sleep_until(next);  // absolute deadlines: no drift
    for (size_t k = 0; k < senders; ++k) {
      kefu::media::RtpHeader h;
      h.payload_type = 0;
      h.sequence = ++seq[k];
      h.timestamp = uint32_t(seq[k]) * 160;
      h.ssrc = uint32_t(k + 1);
      int64_t now_ns =
          std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
              .count();
      std::memcpy(payload, &now_ns, 8);
      size_t n = kefu::media::write_rtp(h, payload, sizeof payload, pkt, sizeof pkt);
      ::sendto(ends[k], pkt, n, 0, reinterpret_cast<const sockaddr*>(&to[k]), sizeof to[k]);
      ++r.sent;
    }
    next += std::chrono::milliseconds(20);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the last packets drain
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  r.cpu_pct = 100.0 * (cpu_seconds() - cpu0) / wall;
  done = true;
  rx.join();
  r.received = received;
  std::sort(latencies.begin(), latencies.end());
  if (!latencies.empty()) {
    r.p50_us = double(latencies[latencies.size() / 2]) / 1000;
    r.p99_us = double(latencies[latencies.size() * 99 / 100]) / 1000;
  }
  return r;
}

void print(const char* name, const Result& r) {
  std::printf(
      "%-16s sent %8ld  received %8ld  lost %6.3f%%  latency p50 %7.1f us  p99 %8.1f us  "
      "process CPU %5.1f%%\n",
      name, r.sent, r.received, 100.0 * double(r.sent - r.received) / double(r.sent), r.p50_us,
      r.p99_us, r.cpu_pct);
}

// Every call also has a supervisor listening: three legs per mix, through the paced mixer.
int run_mixer(int calls, int seconds, int threads) {
  std::vector<int> ends(size_t(calls) * 2), sups(static_cast<size_t>(calls));
  std::vector<uint16_t> end_ports(ends.size()), sup_ports(sups.size());
  for (size_t k = 0; k < ends.size(); ++k) ends[k] = udp_socket(end_ports[k]);
  for (size_t k = 0; k < sups.size(); ++k) sups[k] = udp_socket(sup_ports[k]);
  kefu::sip::MediaEngine engine("127.0.0.1", 20000, 29998, "", threads);
  engine.start();
  std::vector<int> all = ends;
  all.insert(all.end(), sups.begin(), sups.end());
  std::vector<sockaddr_in> to(ends.size());
  for (size_t k = 0; k < all.size(); ++k) {
    auto leg = kefu::cti::LegId(k + 1);
    uint16_t port = engine.open(leg, k % 2 == 1);
    if (!port) return std::fprintf(stderr, "no RTP port\n"), 1;
    bool sup = k >= ends.size();
    engine.set_remote(leg, "127.0.0.1", sup ? sup_ports[k - ends.size()] : end_ports[k], 0, "PCMU",
                      101);
    engine.join(kefu::cti::CallId(sup ? k - ends.size() + 1 : k / 2 + 1), leg,
                sup ? kefu::cti::MixMode::listen : kefu::cti::MixMode::talk);
    if (!sup) to[k] = loopback(port);
  }
  Result r = drive(all, to, seconds, ends.size());
  const long expected = long(all.size()) * 50 * seconds;
  std::printf(
      "mixer, %d thread%s  sent %8ld  frames out %8ld of %8ld expected (%.2f%%)  "
      "process CPU %5.1f%%\n",
      threads, threads > 1 ? "s" : " ", r.sent, r.received, expected,
      100.0 * double(r.received) / double(expected), r.cpu_pct);
  engine.stop();
  for (int fd : sups) ::close(fd);
  for (int fd : ends) ::close(fd);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const int calls = argc > 1 ? std::atoi(argv[1]) : 500;
  const int seconds = argc > 2 ? std::atoi(argv[2]) : 10;
  const bool listen = argc > 3 && std::string(argv[3]) == "listen";
  // The engine's default: one media thread per core, at most 4; compared with one thread.
  const int threads =
      argc > 4 ? std::atoi(argv[4]) : std::clamp(int(std::thread::hardware_concurrency()), 1, 4);
  std::printf("%d concurrent calls, 2 × 50 packets/s each, %d s; 1 and %d media threads\n", calls,
              seconds, threads);
  if (listen) {
    for (int t : {1, threads})
      if (run_mixer(calls, seconds, t)) return 1;
    if (threads == 1) return 0;
    return run_mixer(calls, seconds,
                     1);  // again: the machine is noisy, the order should not matter
  }
  std::vector<int> ends(size_t(calls) * 2);
  std::vector<uint16_t> end_ports(ends.size());
  for (size_t k = 0; k < ends.size(); ++k) ends[k] = udp_socket(end_ports[k]);
  for (int t : {1, threads}) {  // Kefu's media engine: a leg per far end, a call's two in one mix
    kefu::sip::MediaEngine engine("127.0.0.1", 20000, 29998, "", t);  // below the ephemeral ports
    engine.start();
    std::vector<sockaddr_in> to(ends.size());
    for (size_t k = 0; k < ends.size(); ++k) {
      auto leg = kefu::cti::LegId(k + 1);
      uint16_t port = engine.open(leg, k % 2 == 1);
      if (!port) return std::fprintf(stderr, "no RTP port\n"), 1;
      engine.set_remote(leg, "127.0.0.1", end_ports[k], 0, "PCMU", 101);
      engine.join(kefu::cti::CallId(k / 2 + 1), leg, kefu::cti::MixMode::talk);
      to[k] = loopback(port);
    }
    print(t == 1 ? "engine, 1 thread" : "engine, threads", drive(ends, to, seconds, ends.size()));
    engine.stop();
  }
  {  // Baseline: bytes in, the same bytes out to the other party, nothing else.
    std::vector<int> legs(ends.size());
    std::vector<uint16_t> leg_ports(ends.size());
    for (size_t k = 0; k < legs.size(); ++k) legs[k] = udp_socket(leg_ports[k]);
    std::vector<sockaddr_in> to(ends.size());
    for (size_t k = 0; k < ends.size(); ++k) to[k] = loopback(leg_ports[k]);
    std::atomic<bool> stop{false};
    std::thread relay([&] {
      int ep = epoll_create1(0);
      for (size_t k = 0; k < legs.size(); ++k) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = k;
        epoll_ctl(ep, EPOLL_CTL_ADD, legs[k], &ev);
      }
      epoll_event evs[256];
      uint8_t buf[2048];
      while (!stop) {
        int n = epoll_wait(ep, evs, 256, 100);
        for (int i = 0; i < n; ++i) {
          size_t k = evs[i].data.u64, other = k ^ 1;
          sockaddr_in dst = loopback(end_ports[other]);
          while (true) {
            ssize_t got = ::recv(legs[k], buf, sizeof buf, 0);
            if (got <= 0) break;
            ::sendto(legs[other], buf, size_t(got), 0, reinterpret_cast<sockaddr*>(&dst),
                     sizeof dst);
          }
        }
      }
      ::close(ep);
    });
    print("baseline relay", drive(ends, to, seconds, ends.size()));
    stop = true;
    relay.join();
    for (int fd : legs) ::close(fd);
  }
  for (int fd : ends) ::close(fd);
  return 0;
}
