// SMS channel benchmark (issue 20), against the test SMSC (node-smpp's server, tests/api/smsc.mjs,
// which answers every submit_sm and sends a delivery receipt for each):
//   send      the outbox sending every queued SMS over SMPP (claim with a lease, submit_sm within
//             the window, record the outcome, its parts and event; receipts stored and matched)
//             vs the same SmppChannel sending the same PDUs straight from memory, no database;
//   receipts  how long after the last send every message is `delivered`.
//   Memory (VmRSS) before and after sending shows whether it stays flat.
//   kefu_bench_sms MESSAGES DB SMSC_PORT WINDOW   (bench/sms.sh starts the SMSC)
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "app/application.hpp"
#include "base/crypto.hpp"
#include "base/log.hpp"
#include "notify/service.hpp"
#include "notify/smpp.hpp"
#include "proc_status.hpp"
#include "scalar.hpp"
#include "store/database.hpp"

using namespace kefu;
using Steady = std::chrono::steady_clock;

namespace {

double s_since(Steady::time_point t0) {
  return std::chrono::duration<double>(Steady::now() - t0).count();
}

// The bare client's sink: receipts counted and acknowledged, nothing stored.
struct Counting : notify::Inbound {
  std::atomic<long> receipts{0};
  bool receipt(const std::string&, const notify::Receipt& r) override {
    receipts += r.final;
    return true;
  }
  bool reply(const std::string&, const notify::Reply&) override { return true; }
};

const char* kText = "您的受理单已办结，感谢致电客服中心。";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: kefu_bench_sms MESSAGES DB SMSC_PORT WINDOW\n");
    return 2;
  }
  const long n = std::atol(argv[1]);
  const std::string db_url = argv[2], port = argv[3], window = argv[4];
  crypto::init();
  init_logging("warn");
  Config config;
  config.set("db", db_url);
  config.set("admin_password", "Bench@2026x");
  config.set("notify_smpp_host", "127.0.0.1");
  config.set("notify_smpp_port", port);
  config.set("notify_smpp_system_id", "kefu");
  config.set("notify_smpp_password", "Sms@2026");
  config.set("notify_smpp_window", window);
  config.set("notify_smpp_rate", "1000000");
  Application app(config);
  app.migrate();
  app.load_demo_data();
  auto& notify = app.notifications();
  auto& db = app.db();
  std::printf("outbox on %s, %ld SMS over SMPP, window %s\n",
              db_url.rfind("postgres", 0) == 0 ? "PostgreSQL" : "SQLite", n, window.c_str());

  for (long i = 0; i < n; i += 1000)
    db.write([&](store::Connection& c) {
      for (long k = i; k < std::min(n, i + 1000); ++k) {
        notify::Request r;
        r.channel = "sms";
        r.type = "service";
        r.recipient = std::to_string(13'000'000'000L + k);
        r.text = kText;
        r.cause = "bench";
        notify.enqueue(c, r);
      }
    });

  // ---- send: the outbox vs the channel alone ---------------------------------------------------
  long rss0 = bench::status_kb("VmRSS");
  auto t0 = Steady::now();
  long sent = 0;
  for (int idle = 0; sent < n && idle < 200;) {
    int k = notify.pump("smsc");
    sent += k;
    idle = k ? 0 : idle + 1;
  }
  double outbox_s = s_since(t0);
  long rss1 = bench::status_kb("VmRSS");
  auto t1 = Steady::now();
  int64_t delivered = 0;
  while (s_since(t1) < 120) {
    notify.match_receipts();
    delivered = bench::scalar(db, "SELECT COUNT(*) FROM notify_message WHERE status = 'delivered'");
    if (delivered >= n) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  double receipts_s = s_since(t1);

  Counting sink;
  notify::SmppAccount acc;
  acc.port = std::atoi(port.c_str());
  acc.system_id = "kefu";
  acc.password = "Sms@2026";
  acc.source_addr = "95588";
  acc.window = std::atoi(window.c_str());
  notify::SmppChannel bare("bare", acc, sink);
  bare.wait_bound(10'000);
  const size_t batch = size_t(std::max(20, 2 * acc.window));
  std::vector<notify::Outgoing> out;
  long bare_ok = 0;
  t0 = Steady::now();
  for (long i = 0; i < n;) {
    out.clear();
    for (; i < n && out.size() < batch; ++i) {
      notify::Outgoing m;
      m.id = i;
      m.recipient = std::to_string(14'000'000'000L + i);
      m.text = kText;
      out.push_back(std::move(m));
    }
    for (auto& r : bare.send_all(out, [](size_t) { return true; }))
      bare_ok += r.outcome == notify::Outcome::accepted;
  }
  double bare_s = s_since(t0);
  std::printf(
      "send         %8.0f /s   channel alone %6.0f /s   ratio %.2f   (sent %ld, channel ok %ld)\n",
      n / outbox_s, n / bare_s, outbox_s / bare_s, sent, bare_ok);
  std::printf("receipts     all %lld delivered %.1f s after the last send\n", (long long)delivered,
              receipts_s);
  std::printf("memory       VmRSS %ld kB before sending, %ld kB after (%+ld kB)\n", rss0, rss1,
              rss1 - rss0);
  return sent == n && bare_ok == n && delivered == n ? 0 : 1;
}
