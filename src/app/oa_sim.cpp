// kefu-oa-sim: the reference simulator of an enterprise OA for workflow hand-offs (docs/
// ARCHITECTURE.md, "Outside systems"). A process of its own, so the round trip is tested over real
// sockets the way a real OA meets Kefu:
//   1. Kefu POSTs a hand-off here, signed (X-Kefu-Signature: sha256=HMAC(secret, ts + "." + body));
//   2. the OA checks the signature, answers 200 at once, and remembers the delivery id;
//   3. after --delay-ms it completes the task through Kefu's API with its own token and an
//      Idempotency-Key, retrying while Kefu does not answer 2xx.
//
//   kefu-oa-sim --listen 127.0.0.1:9200 --secret S --kefu http://127.0.0.1:8080 --token T
//               [--outcome approved] [--delay-ms 200]
// GET /handoffs lists what arrived (for tests and a curious operator).
#include <CLI/CLI.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include "app/sim_http.hpp"
#include "base/crypto.hpp"
#include "base/json.hpp"
#include "integration/http_client.hpp"

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

struct Options {
  std::string secret, kefu, token, outcome = "approved";
  int delay_ms = 200;
};

std::mutex mu;
std::set<std::string> seen;
kefu::json::array received;

// Completes the task in Kefu; the Idempotency-Key makes a repeat harmless.
void complete(const Options& o, std::string path, std::string delivery) {
  std::this_thread::sleep_for(std::chrono::milliseconds(o.delay_ms));
  std::string body =
      kefu::to_json(kefu::json::object{{"outcome", o.outcome}, {"comment", "OA 审批通过"}});
  for (int attempt = 1; attempt <= 30; ++attempt) {
    auto r = kefu::integration::post(
        {o.kefu + path,
         body,
         {"Content-Type: application/json", "Authorization: Bearer " + o.token,
          "Idempotency-Key: oa-" + delivery},
         5000});
    if (r.ok()) {
      std::cout << "completed " << delivery << std::endl;
      return;
    }
    std::cout << "completing " << delivery << " failed ("
              << (r.error.empty() ? std::to_string(r.status) : r.error) << "), attempt " << attempt
              << std::endl;
    std::this_thread::sleep_for(std::chrono::milliseconds(500 * attempt));
  }
}

std::pair<http::status, std::string> handle(const Options& o,
                                            const http::request<http::string_body>& req) {
  if (req.method() == http::verb::get && req.target() == "/handoffs") {
    std::lock_guard lock(mu);
    return {http::status::ok, kefu::to_json(kefu::json::object{{"items", received}})};
  }
  if (req.method() != http::verb::post) return {http::status::method_not_allowed, "{}"};
  std::string ts(req["X-Kefu-Timestamp"]), sig(req["X-Kefu-Signature"]),
      delivery(req["X-Kefu-Delivery"]);
  if (sig != "sha256=" + kefu::crypto::hmac_sha256_hex(o.secret, ts + "." + req.body()))
    return {http::status::unauthorized, R"({"error":"bad_signature"})"};
  kefu::json::object handoff;
  try {
    handoff = kefu::parse_object(req.body());
  } catch (const std::exception&) {
    return {http::status::bad_request, R"({"error":"bad_json"})"};
  }
  auto* path = handoff.if_contains("complete");
  if (!path || !path->is_string())
    return {http::status::bad_request, R"({"error":"no_complete_path"})"};
  std::lock_guard lock(mu);
  if (seen.insert(delivery).second) {  // a repeat of a delivery is acknowledged, not redone
    received.push_back(handoff);
    std::thread(complete, o, std::string(path->as_string()), delivery).detach();
  }
  return {http::status::ok, R"({"accepted":true})"};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"kefu-oa-sim: an enterprise OA taking workflow hand-offs from Kefu"};
  std::string listen = "127.0.0.1:9200";
  Options o;
  cli.add_option("--listen", listen, "host:port");
  cli.add_option("--secret", o.secret,
                 "the signing secret shared with Kefu (KEFU_TICKET_OA_SECRET)")
      ->required();
  cli.add_option("--kefu", o.kefu, "Kefu's base URL")->required();
  cli.add_option("--token", o.token, "the OA's API token (a user with ticket:external)")
      ->required();
  cli.add_option("--outcome", o.outcome, "the outcome the OA gives every task");
  cli.add_option("--delay-ms", o.delay_ms, "how long the OA takes to decide");
  CLI11_PARSE(cli, argc, argv);
  kefu::crypto::init();
  kefu::sim::serve(listen, "kefu-oa-sim listening on " + listen,
                   [&](const kefu::sim::Request& req) { return handle(o, req); });
}
