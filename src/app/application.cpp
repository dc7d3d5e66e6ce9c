#include "app/application.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <signal.h>
#include <spdlog/spdlog.h>

#include "auth/entities.hpp"
#include "base/error.hpp"
#include "auth/routes.hpp"
#include "crm/entities.hpp"
#include "crm/phone.hpp"
#include "crm/routes.hpp"
#include "crm/service.hpp"
#include "crm/webhook.hpp"
#include "cti/entities.hpp"
#include "cti/interactions.hpp"
#include "cti/routes.hpp"
#include "cti/service.hpp"
#include "http/server.hpp"
#include "meta/routes.hpp"
#include "notify/entities.hpp"
#include "notify/routes.hpp"
#include "notify/service.hpp"
#include "notify/smtp.hpp"
#include "notify/smpp.hpp"
#include "system/entities.hpp"
#include "ticket/entities.hpp"
#include "ticket/routes.hpp"
#include "ticket/service.hpp"

namespace kefu {

Application::Application(Config config) : config_(std::move(config)), audit_(clock_) {
  db_ = store::open_database(config_);
  auth::register_entities(registry_);
  system::register_entities(registry_);
  cti::register_entities(registry_);
  crm::register_entities(registry_);
  ticket::register_entities(registry_);
  notify::register_entities(registry_);
  repo_ = std::make_unique<meta::Repository>(*db_, registry_, clock_, audit_);
  reviews_ = std::make_unique<meta::ReviewService>(*repo_);
  auth_ = std::make_unique<auth::AuthService>(*repo_, *reviews_, config_);
  // Review queues update live: each browser hears of the requests it could list.
  reviews_->on_change([this](const json::object& cr, const std::string& org_path) {
    json::object notice{{"id", cr.at("id")}, {"kind", cr.at("kind")}, {"status", cr.at("status")}};
    hub_.publish("review.changed", notice, [&cr, &org_path](const Principal& p) {
      return meta::ReviewService::visible_to(p, cr, org_path);
    });
  });

  router_.add({"GET", "/healthz", http::kPublic,
               [](http::Context&) {
                 return http::Response::json(json::object{{"status", "ok"}});
               },
               false, "Liveness: the process answers", "ops"});
  router_.add({"GET", "/readyz", http::kPublic,
               [this](http::Context&) {
                 try {
                   db_->read([](store::Connection& c) { c.exec("SELECT 1", {}); });
                   return http::Response::json(json::object{{"status", "ready"}});
                 } catch (const std::exception& e) {
                   return http::Response::json(
                       json::object{{"status", "unavailable"}, {"reason", e.what()}}, 503);
                 }
               },
               false, "Readiness: the database answers", "ops"});
  router_.add({"GET", "/metrics", http::kPublic,
               [this](http::Context&) {
                 return http::Response::text(metrics_.render(), "text/plain; version=0.0.4");
               },
               false, "Prometheus metrics", "ops"});
  auth::add_routes(router_, *auth_, *repo_);
  cti::ServiceOptions cti_opt;
  cti_opt.center.core.ring_timeout_ms = config_.cti_ring_timeout_s * 1000;
  cti_opt.center.core.wrap_up_ms = config_.cti_wrap_up_s * 1000;
  cti_opt.center.caller_id = config_.cti_caller_id;
  cti_opt.sip_listen = config_.cti_sip_listen;
  cti_opt.sip_realm = config_.cti_sip_realm;
  cti_opt.media_address = config_.cti_media_address;
  cti_opt.sip_gateway = config_.cti_sip_gateway;
  cti_opt.sip_gateway_user = config_.cti_sip_gateway_user;
  cti_opt.sip_gateway_password = config_.cti_sip_gateway_password;
  cti_opt.counter_url = config_.cti_counter_url;
  cti_opt.recording_dir = config_.cti_recording_dir;
  cti_opt.prompt_dir = config_.cti_prompt_dir;
  cti_opt.media_threads = config_.cti_media_threads;
  cti_opt.node = config_.cti_node;
  cti_opt.serving_grace_ms = int64_t(config_.crm_serving_grace_s) * 1000;
  crm_ = std::make_unique<crm::CustomerService>(*db_, clock_, audit_);
  // A customer's file opens outside the data scope only on the user's own call or conversation.
  crm::ServingOptions serving;
  serving.grace_ms = int64_t(config_.crm_serving_grace_s) * 1000;
  serving.emergency_ms = int64_t(config_.crm_emergency_min) * 60'000;
  serving.misses_to_alert = config_.crm_enumeration_misses;
  crm_->serve_through(cti::interaction_with, serving);
  webhooks_ =
      std::make_unique<crm::ChangeWebhooks>(*db_, clock_, audit_, crm::ChangeWebhooks::Options{});
  // The switch asks the customer file who is calling (tier, red/black list), and every call of
  // a known customer lands in his contact history.
  cti_opt.screen = [this](const std::string& address) {
    crm::CallerInfo info = crm_->caller(address);
    return cti::Screening{info.customer_id, info.tier, info.blocked, info.queue};
  };
  cti_opt.record_contact = [](store::Connection& c, const cti::CallContact& k) {
    crm::CustomerService::append_contact(
        c, crm::Contact{k.customer_id, k.at, k.channel, k.direction, k.kind, "call", k.call,
                        k.summary, k.staff_id, "cti"});
  };
  cti_opt.customer_in_scope = [this](store::Connection& c, const Principal& who, int64_t id) {
    return crm_->in_scope(c, who, id);
  };
  cti_ = std::make_unique<cti::Service>(*db_, clock_, cti_opt);
  // Live events: an agent hears of himself, supervisors of everybody in their data scope.
  cti_->on_publish([this](const std::string& type, const json::object& data, int64_t staff_id) {
    hub_.publish(type, data, [staff_id](const Principal& p) {
      return (staff_id && p.staff_id == staff_id) || p.has("cti:supervise");
    });
  });
  cti::add_routes(router_, *cti_, *db_, true);
  crm::add_routes(router_, *crm_);
  crm::add_webhook_routes(router_, *webhooks_);
  tickets_ = std::make_unique<ticket::TicketService>(*db_, clock_, audit_, ticket::Options::from(config_));
  // A ticket about a customer is a line in his contact history; its holders hear of each change.
  tickets_->on_customer_ticket([](store::Connection& c, int64_t customer, int64_t at, int64_t staff,
                                  int64_t ticket, const std::string& summary) {
    crm::CustomerService::append_contact(
        c, crm::Contact{customer, at, "ticket", "internal", "ticket", "ticket", ticket, summary, staff, "ticket"});
  });
  tickets_->on_change([this](const json::object& notice, const std::vector<int64_t>& staff) {
    hub_.publish("ticket.changed", notice, [staff](const Principal& p) {
      return std::find(staff.begin(), staff.end(), p.staff_id) != staff.end();
    });
  });
  ticket::add_routes(router_, *tickets_, clock_);
  wire_notify();
  meta::add_routes(router_, meta::MetaServices{registry_, *repo_, *reviews_});

  metrics_.add_collector([this] {
    auto s = db_->stats();
    return fmt::format(
        "# TYPE kefu_db_pool_size gauge\nkefu_db_pool_size {}\n# TYPE kefu_db_pool_in_use gauge\n"
        "kefu_db_pool_in_use {}\n# TYPE kefu_db_pool_waits_total counter\nkefu_db_pool_waits_total "
        "{}\n"
        "# TYPE kefu_websocket_connections gauge\nkefu_websocket_connections {}\n",
        s.size, s.in_use, s.waits, hub_.size());
  });
  metrics_.add_collector([this] { return cti_->metrics(); });
  files_ = std::make_unique<http::StaticFiles>(config_.web_root);
  pipeline_ = std::make_unique<http::Pipeline>(
      router_, metrics_,
      [this](const http::Request& r) { return auth::authenticate_request(*auth_, r); },
      files_.get(), config_.access_log);
}

namespace {

// 办结通知: the customer hears that his ticket is done, by the templates its type names — SMS to the
// number the ticket was registered with (else his first mobile), e-mail to his address. What could
// not be sent (no channel, no recipient) is said in the ticket's history; the ticket closes anyway.
json::array notify_ticket_closed(notify::NotifyService& outbox, store::Connection& c,
                                 const ticket::TicketService::Closed& k) {
  json::array out;
  std::string name = "客户", email, mobile;
  if (k.customer_id) {
    auto r = c.exec("SELECT name, email FROM crm_customer WHERE id = ?", {k.customer_id});
    if (!r.empty()) {
      name = store::as_text(r.rows[0][0]);
      email = store::is_null(r.rows[0][1]) ? "" : store::as_text(r.rows[0][1]);
    }
    auto m = c.exec(
        "SELECT number FROM crm_phone WHERE customer_id = ? AND kind = 'mobile' ORDER BY seq "
        "LIMIT 1",
        {k.customer_id});
    if (!m.empty()) mobile = store::as_text(m.rows[0][0]);
  }
  crm::Phone p;
  if (!k.phone.empty() && crm::normalize_phone(k.phone, p).empty() &&
      p.kind == crm::PhoneKind::mobile)
    mobile = p.number;
  auto send = [&](const std::string& channel, const std::string& tmpl,
                  const std::string& recipient) {
    if (tmpl.empty()) return;
    json::object r{{"channel", channel}, {"template", tmpl}};
    if (recipient.empty()) {
      r["skipped"] = "no_recipient";
    } else {
      notify::Request q;
      q.channel = channel;
      q.template_code = tmpl;
      q.recipient = recipient;
      q.customer_id = k.customer_id;
      q.variables = json::object{{"name", name}, {"ticket_no", k.no}, {"title", k.title}};
      q.cause = "ticket:" + std::to_string(k.id);
      q.dedup_key = q.cause + ":" + std::to_string(k.at) + ":" + channel;
      q.created_by = k.by;
      try {
        // The template's own type decides priority, caps and window.
        auto t = c.exec("SELECT type FROM notify_template WHERE code = ?", {tmpl});
        q.type = t.empty() ? std::string() : store::as_text(t.rows[0][0]);
        r["message_id"] = outbox.enqueue(c, q).at("id");
      } catch (const Error& e) {
        r["skipped"] = e.code();  // enqueue refuses before it writes anything
      }
    }
    out.push_back(std::move(r));
  };
  send("sms", k.sms_template, mobile);
  send("email", k.email_template, email);
  return out;
}

}  // namespace

Application::~Application() = default;

// The outbox and its provider accounts from the configuration; every message about a customer is a
// line in his contact history.
void Application::wire_notify() {
  notify_ = std::make_unique<notify::NotifyService>(*db_, clock_, audit_,
                                                    notify::Options::from(config_));
  if (!config_.notify_smtp_url.empty()) {
    notify::SmtpAccount smtp{config_.notify_smtp_url, config_.notify_smtp_user,
                             config_.notify_smtp_password, config_.notify_smtp_from,
                             config_.notify_smtp_tls, config_.notify_smtp_ca};
    notify_->add_account({"smtp", "email", double(config_.notify_smtp_rate),
                          config_.notify_email_cost_fen,
                          [smtp](notify::Inbound&) {
                            return std::make_unique<notify::SmtpChannel>(smtp);
                          }});
  }
  if (!config_.notify_smpp_host.empty()) {
    notify::SmppAccount smsc;
    smsc.host = config_.notify_smpp_host;
    smsc.port = config_.notify_smpp_port;
    smsc.system_id = config_.notify_smpp_system_id;
    smsc.password = config_.notify_smpp_password;
    smsc.system_type = config_.notify_smpp_system_type;
    smsc.source_addr = config_.notify_smpp_source;
    smsc.window = config_.notify_smpp_window;
    smsc.enquire_link_ms = config_.notify_smpp_enquire_ms;
    notify_->add_account({"smsc", "sms", double(config_.notify_smpp_rate),
                          config_.notify_sms_cost_fen,
                          [smsc](notify::Inbound& in) {
                            return std::make_unique<notify::SmppChannel>("smsc", smsc, in);
                          },
                          smsc.window});
  }
  notify_->on_customer_check([](store::Connection& c, int64_t id) {
    return !c.exec("SELECT 1 FROM crm_customer WHERE id = ?", {id}).empty();
  });
  notify_->on_customer_message([](store::Connection& c, int64_t customer, int64_t at, int64_t staff,
                                  int64_t message, const std::string& channel,
                                  const std::string& summary) {
    crm::CustomerService::append_contact(c, crm::Contact{customer, at, channel, "outbound",
                                                         "message", "message", message, summary,
                                                         staff, "notify"});
  });
  notify::add_routes(router_, *notify_, clock_);
  tickets_->on_closed([this](store::Connection& c, const ticket::TicketService::Closed& k) {
    return notify_ticket_closed(*notify_, c, k);
  });
}



void Application::migrate() {
  std::vector<store::Migration> all;
  for (auto& list : {audit::AuditLog::migrations(), meta::ReviewService::migrations(),
                     auth::AuthService::migrations(), cti::Service::migrations(),
                     crm::CustomerService::migrations(), ticket::TicketService::migrations(),
                     notify::NotifyService::migrations()})
    all.insert(all.end(), list.begin(), list.end());
  store::migrate(*db_, all);
  registry_.sync_schema(*db_);
  if (!config_.admin_password.empty() && auth_->create_admin("admin", config_.admin_password, true))
    spdlog::info("created the first administrator 'admin' from KEFU_ADMIN_PASSWORD");
}

int Application::serve() {
  // Signals are taken by this thread alone (sigwait); every other thread inherits the mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  http::ServerOptions o;
  o.host = config_.listen_host();
  o.port = config_.listen_port();
  o.io_threads = config_.io_threads;
  o.worker_threads = config_.worker_threads;
  o.slow_threads = config_.slow_threads;
  o.body_limit = config_.body_limit;
  o.read_timeout_s = config_.read_timeout_s;
  o.write_timeout_s = config_.write_timeout_s;
  o.tls_cert = config_.tls_cert;
  o.tls_key = config_.tls_key;
  cti_->start();
  webhooks_->start();
  tickets_->start();
  notify_->start();
  http::Server server(o, *pipeline_, hub_);
  int port = server.start();
  spdlog::info("kefud listening on {}://{}:{} (database {})",
               config_.tls_cert.empty() ? "http" : "https", o.host, port, db_->describe());
  int sig = 0;
  sigwait(&set, &sig);
  spdlog::info("signal {}: stopping (finishing in-flight requests)", sig);
  server.stop(10);
  webhooks_->stop();
  tickets_->stop();
  notify_->stop();
  cti_->stop();
  db_->close();
  spdlog::info("stopped cleanly");
  return 0;
}

}  // namespace kefu
