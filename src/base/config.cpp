#include "base/config.hpp"

#include <toml++/toml.h>

#include <cstdlib>
#include <functional>
#include <stdexcept>

#include "base/text.hpp"

namespace kefu {
namespace {

using Setter = std::function<void(Config&, const std::string&)>;

int64_t to_int(const std::string& key, const std::string& v) {
  try {
    size_t pos = 0;
    long long n = std::stoll(v, &pos);
    if (pos != v.size()) throw std::invalid_argument("");
    return n;
  } catch (...) {
    throw std::invalid_argument("config " + key + ": expected an integer, got '" + v + "'");
  }
}
bool to_bool(const std::string& key, const std::string& v) {
  std::string l = to_lower(v);
  if (l == "1" || l == "true" || l == "yes" || l == "on") return true;
  if (l == "0" || l == "false" || l == "no" || l == "off") return false;
  throw std::invalid_argument("config " + key + ": expected true or false, got '" + v + "'");
}

const std::map<std::string, Setter>& setters() {
  static const std::map<std::string, Setter> s = {
#define S(k)                                              \
  {                                                       \
#k, [](Config & c, const std::string& v) { c.k = v; } \
  }
#define I(k)                                                                         \
  {                                                                                  \
#k, [](Config & c, const std::string& v) { c.k = decltype(c.k)(to_int(#k, v)); } \
  }
#define B(k)                                                           \
  {                                                                    \
#k, [](Config & c, const std::string& v) { c.k = to_bool(#k, v); } \
  }
      S(listen),
      S(db),
      S(web_root),
      S(log_level),
      B(access_log),
      I(io_threads),
      I(worker_threads),
      I(slow_threads),
      I(body_limit),
      I(read_timeout_s),
      I(write_timeout_s),
      I(db_readers),
      S(sqlite_synchronous),
      S(tls_cert),
      S(tls_key),
      S(admin_password),
      I(session_ttl_min),
      I(lockout_threshold),
      I(lockout_min),
      I(session_cache_s),
      B(demo),
      I(cti_ring_timeout_s),
      I(cti_wrap_up_s),
      S(cti_caller_id),
      S(cti_sip_listen),
      S(cti_sip_realm),
      S(cti_media_address),
      S(cti_sip_gateway),
      S(cti_sip_gateway_user),
      S(cti_sip_gateway_password),
      S(cti_counter_url),
      S(cti_recording_dir),
      S(cti_prompt_dir),
      I(cti_media_threads),
      S(cti_node),
      I(crm_serving_grace_s),
      I(crm_emergency_min),
      I(crm_enumeration_misses),
      I(ticket_day_start_min),
      I(ticket_day_end_min),
      S(ticket_leader_roles),
      I(ticket_timer_poll_ms),
      I(ticket_minute_ms),
      S(ticket_oa_url),
      S(ticket_oa_secret),
      I(notify_poll_ms),
      I(notify_max_attempts),
      I(notify_sms_max_segments),
      S(notify_smtp_url),
      S(notify_smtp_user),
      S(notify_smtp_password),
      S(notify_smtp_from),
      S(notify_smtp_tls),
      S(notify_smtp_ca),
      I(notify_smtp_rate),
      I(notify_email_cost_fen),
      S(notify_smpp_host),
      I(notify_smpp_port),
      S(notify_smpp_system_id),
      S(notify_smpp_password),
      S(notify_smpp_system_type),
      S(notify_smpp_source),
      I(notify_smpp_window),
      I(notify_smpp_rate),
      I(notify_sms_cost_fen),
      I(notify_smpp_enquire_ms),
#undef S
#undef I
#undef B
  };
  return s;
}

}  // namespace

void Config::set(const std::string& key, const std::string& value) {
  auto it = setters().find(key);
  if (it == setters().end()) throw std::invalid_argument("unknown config key '" + key + "'");
  it->second(*this, value);
  if (io_threads < 1 || worker_threads < 1 || slow_threads < 1 || db_readers < 1)
    throw std::invalid_argument("config " + key + ": thread and pool sizes must be at least 1");
  if (cti_media_threads < 0 || cti_media_threads > 64)
    throw std::invalid_argument("config " + key + ": media threads from 0 (one per core) to 64");
  if (cti_ring_timeout_s < 1 || cti_wrap_up_s < 0)
    throw std::invalid_argument("config " + key +
                                ": ring timeout at least 1 s, wrap-up at least 0 s");
  if (crm_serving_grace_s < 0 || crm_emergency_min < 1 || crm_enumeration_misses < 1)
    throw std::invalid_argument("config " + key +
                                ": serving grace at least 0 s, emergency at least 1 min, misses "
                                "at least 1");
  if (ticket_day_start_min < 0 || ticket_day_end_min > 24 * 60 || ticket_day_start_min >= ticket_day_end_min ||
      ticket_timer_poll_ms < 10 || ticket_minute_ms < 1)
    throw std::invalid_argument("config " + key +
                                ": the ticket working day is within 0-1440 minutes and not empty, the timer "
                                "poll at least 10 ms, a minute at least 1 ms");
  if (notify_poll_ms < 10 || notify_max_attempts < 1 || notify_sms_max_segments < 1 ||
      notify_sms_max_segments > 255 || notify_smtp_rate < 1 || notify_email_cost_fen < 0 ||
      (notify_smtp_tls != "require" && notify_smtp_tls != "try" && notify_smtp_tls != "off") ||
      notify_smpp_port < 1 || notify_smpp_port > 65535 || notify_smpp_window < 1 ||
      notify_smpp_window > 1000 || notify_smpp_rate < 1 || notify_sms_cost_fen < 0 ||
      notify_smpp_enquire_ms < 100)
    throw std::invalid_argument("config " + key +
                                ": notify poll at least 10 ms, attempts at least 1, SMS segments "
                                "1-255, SMTP rate at least 1, cost not negative, TLS "
                                "require|try|off, SMPP port 1-65535, window 1-1000, rate at least "
                                "1, enquire_link at least 100 ms");
}

void Config::load_toml(const std::string& path) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw std::invalid_argument("config file " + path + ": " + std::string(e.description()));
  }
  for (auto&& [k, node] : t) {
    std::string key(k.str());
    std::string text;
    if (auto s = node.value<std::string>())
      text = *s;
    else if (auto i = node.value<int64_t>())
      text = std::to_string(*i);
    else if (auto b = node.value<bool>())
      text = *b ? "true" : "false";
    else
      throw std::invalid_argument("config file " + path + ": key " + key +
                                  " has an unsupported type");
    set(key, text);
  }
}

void Config::load_env(char** envp) {
  for (char** e = envp; e && *e; ++e) {
    std::string kv(*e);
    if (kv.rfind("KEFU_", 0) != 0) continue;
    auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    std::string key = to_lower(kv.substr(5, eq - 5));
    if (key == "config") continue;
    if (setters().count(key)) set(key, kv.substr(eq + 1));
  }
}

Config Config::load(std::string file, char** envp) {
  Config c;
  if (file.empty())
    if (const char* f = std::getenv("KEFU_CONFIG")) file = f;
  if (!file.empty()) c.load_toml(file);
  c.load_env(envp);
  return c;
}

std::vector<std::string> Config::keys() {
  std::vector<std::string> r;
  for (auto& [k, _] : setters()) r.push_back(k);
  return r;
}

std::string Config::listen_host() const {
  auto c = listen.rfind(':');
  return c == std::string::npos ? listen : listen.substr(0, c);
}
int Config::listen_port() const {
  auto c = listen.rfind(':');
  if (c == std::string::npos) return 8080;
  return int(to_int("listen", listen.substr(c + 1)));
}

}  // namespace kefu
