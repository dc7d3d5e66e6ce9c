// Outbox benchmark (issue 20), each figure beside a baseline from the same run:
//   enqueue   NotifyService::enqueue of a templated e-mail (type, template rendered, address
//             checked, caps, the row and its event; one transaction per message) vs a bare INSERT
//             of the same row, one transaction each;
//   send      the outbox sending every queued e-mail to a real SMTP server (claim with a lease,
//             send, record the outcome and its event) vs libcurl sending the same messages to the
//             same server straight from memory (SmtpChannel alone, one connection kept).
//   Memory (VmRSS) before and after sending shows whether it stays flat.
//   kefu_bench_notify MESSAGES DB SMTP_URL   (bench/notify.sh starts aiosmtpd and passes its URL)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "app/application.hpp"
#include "base/crypto.hpp"
#include "base/log.hpp"
#include "notify/service.hpp"
#include "notify/smtp.hpp"
#include "proc_status.hpp"
#include "scalar.hpp"
#include "store/database.hpp"

using namespace kefu;
using Steady = std::chrono::steady_clock;

namespace {

double s_since(Steady::time_point t0) {
  return std::chrono::duration<double>(Steady::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: kefu_bench_notify MESSAGES DB SMTP_URL\n");
    return 2;
  }
  const long n = std::atol(argv[1]);
  const std::string db_url = argv[2], smtp_url = argv[3];
  crypto::init();
  init_logging("warn");
  Config config;
  config.set("db", db_url);
  config.set("admin_password", "Bench@2026x");
  config.set("notify_smtp_url", smtp_url);
  config.set("notify_smtp_tls", "off");
  config.set("notify_smtp_rate", "1000000");
  Application app(config);
  app.migrate();
  app.load_demo_data();
  auto& notify = app.notifications();
  auto& db = app.db();
  std::printf("outbox on %s, %ld e-mails to %s\n",
              db_url.rfind("postgres", 0) == 0 ? "PostgreSQL" : "SQLite", n, smtp_url.c_str());

  // ---- enqueue: the service vs a bare INSERT ---------------------------------------------------
  auto t0 = Steady::now();
  for (long i = 0; i < n; ++i) {
    notify::Request r;
    r.channel = "email";
    r.type = "service";
    r.template_code = "ticket_done_email";
    r.recipient = "c" + std::to_string(i) + "@example.com";
    r.variables = json::object{{"name", "王丽"},
                               {"ticket_no", "YW2026120500" + std::to_string(i)},
                               {"title", "修改手机号"}};
    r.cause = "bench";
    db.write([&](store::Connection& c) { notify.enqueue(c, r); });
  }
  double enqueue_s = s_since(t0);
  t0 = Steady::now();
  for (long i = 0; i < n; ++i)
    db.write([&](store::Connection& c) {
      c.exec(
          "INSERT INTO notify_message (channel, account, type, priority, recipient, subject, body, "
          "html, status, cause, created_at) VALUES ('email', 'smtp', 'service', 4, ?, ?, ?, ?, "
          "'cancelled', 'bare', 0)",
          {"b" + std::to_string(i) + "@example.com", std::string("您的受理单已办结"),
           std::string("尊敬的王丽：您的受理单已办结。"), std::string("<p>尊敬的王丽：</p>")});
    });
  double bare_s = s_since(t0);
  std::printf("enqueue      %8.0f /s   bare INSERT %8.0f /s   ratio %.2f\n", n / enqueue_s,
              n / bare_s, enqueue_s / bare_s);

  // ---- send: the outbox vs libcurl alone --------------------------------------------------------
  long rss0 = bench::status_kb("VmRSS");
  t0 = Steady::now();
  long sent = 0;
  for (int idle = 0; sent < n && idle < 50;) {
    int k = notify.pump("smtp");
    sent += k;
    idle = k ? 0 : idle + 1;
  }
  double outbox_s = s_since(t0);
  long rss1 = bench::status_kb("VmRSS");
  int64_t stored = bench::scalar(db, "SELECT COUNT(*) FROM notify_message WHERE status = 'sent'");

  notify::SmtpChannel bare({smtp_url, "", "", "Kefu <kefu@localhost>", "off", ""});
  t0 = Steady::now();
  long bare_ok = 0;
  for (long i = 0; i < n; ++i) {
    notify::Outgoing m;
    m.id = i;
    m.message_id = "bare-" + std::to_string(i) + "@kefu";
    m.recipient = "d" + std::to_string(i) + "@example.com";
    m.subject = "您的受理单YW2026120500" + std::to_string(i) + "已办结";
    m.text = "尊敬的王丽：\n\n您的受理单已办结。\n\n客服中心";
    m.html = "<p>尊敬的王丽：</p><p>您的受理单已办结。</p><p>客服中心</p>";
    bare_ok += bare.send(m).outcome == notify::Outcome::accepted;
  }
  double curl_s = s_since(t0);
  std::printf(
      "send         %8.0f /s   libcurl alone %6.0f /s   ratio %.2f   (sent %ld, stored "
      "sent %lld, libcurl ok %ld)\n",
      n / outbox_s, n / curl_s, outbox_s / curl_s, sent, (long long)stored, bare_ok);
  std::printf("memory       VmRSS %ld kB before sending, %ld kB after (%+ld kB)\n", rss0, rss1,
              rss1 - rss0);
  return stored == n && bare_ok == n ? 0 : 1;
}
