// kefu-counter-sim: the reference simulator of a broker's trading counter (柜台) for the IVR's
// adapter wire protocol (src/integration/counter_adapters.hpp). A process of its own, so Kefu is
// tested against the protocol over a real socket, the way it meets a real counter.
//
//   kefu-counter-sim [--listen 127.0.0.1:9100] [--accounts FILE] [--delay-ms 50]
//
// FILE: CSV lines "account,pin,name,available" (the demo accounts 880001/123456 and
// 880002/654321 when none is given). Adapters: verify, balance. One request at a time.
#include <CLI/CLI.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "app/sim_http.hpp"
#include "base/json.hpp"

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

struct Account {
  std::string pin, name, available;
};

// One request of the protocol → (status, body).
std::pair<http::status, std::string> answer(const std::map<std::string, Account>& accounts,
                                            const std::string& target, const std::string& body) {
  using kefu::json::object;
  const std::string prefix = "/v1/";
  if (target.rfind(prefix, 0) != 0) return {http::status::not_found, R"({"error":"not_found"})"};
  std::string adapter = target.substr(prefix.size());
  object args;
  try {
    object req = kefu::parse_object(body);
    if (auto* a = req.if_contains("args"); a && a->is_object()) args = a->as_object();
  } catch (const std::exception&) {
    return {http::status::bad_request, R"({"error":"bad_json"})"};
  }
  auto arg = [&](const char* k) {
    auto* v = args.if_contains(k);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  auto acc = accounts.find(arg("account"));
  object out;
  if (adapter == "verify") {
    bool ok = acc != accounts.end() && acc->second.pin == arg("pin");
    out = {{"ok", ok},
           {"values",
            ok ? object{{"name", acc->second.name}} : object{{"error", "wrong_account_or_pin"}}}};
  } else if (adapter == "balance") {
    bool ok = acc != accounts.end();
    out = {{"ok", ok},
           {"values", ok ? object{{"available", acc->second.available}}
                         : object{{"error", "no_such_account"}}}};
  } else {
    return {http::status::not_found, R"({"error":"unknown_adapter"})"};
  }
  return {http::status::ok, kefu::to_json(out)};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"kefu-counter-sim: a trading counter for the IVR adapter protocol"};
  std::string listen = "127.0.0.1:9100", file;
  int delay_ms = 50;
  cli.add_option("--listen", listen, "host:port");
  cli.add_option("--accounts", file, "CSV: account,pin,name,available");
  cli.add_option("--delay-ms", delay_ms, "how long the counter takes to answer");
  CLI11_PARSE(cli, argc, argv);

  std::map<std::string, Account> accounts{{"880001", {"123456", "张三", "12,345.67"}},
                                          {"880002", {"654321", "李四", "8,000.00"}}};
  if (!file.empty()) {
    accounts.clear();
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
      std::stringstream ss(line);
      std::string a, p, n, v;
      if (std::getline(ss, a, ',') && std::getline(ss, p, ',') && std::getline(ss, n, ',') &&
          std::getline(ss, v))
        accounts[a] = {p, n, v};
    }
  }
  kefu::sim::serve(listen,
                   "kefu-counter-sim listening on " + listen + " (" +
                       std::to_string(accounts.size()) + " accounts)",
                   [&](const kefu::sim::Request& req) {
                     std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
                     return req.method() == http::verb::post
                                ? answer(accounts, std::string(req.target()), req.body())
                                : std::pair{http::status::method_not_allowed, std::string("{}")};
                   });
}
