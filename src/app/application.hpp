#pragma once
// The application root: the one place that builds every component and wires them
// together, like a list of components. No other singletons.
#include <memory>

#include "audit/audit_log.hpp"
#include "auth/service.hpp"
#include "base/clock.hpp"
#include "base/config.hpp"
#include "http/metrics.hpp"
#include "http/pipeline.hpp"
#include "http/router.hpp"
#include "http/ws_hub.hpp"
#include "meta/review.hpp"

namespace kefu::cti {
class Service;
}
namespace kefu::crm {
class CustomerService;
class ChangeWebhooks;
}
namespace kefu::notify {
class NotifyService;
}
namespace kefu::ticket {
class TicketService;
}

namespace kefu {

class Application {
 public:
  explicit Application(Config config);
  ~Application();

  void migrate();
  // Runs the server until SIGTERM or SIGINT; returns the exit code.
  int serve();
  void load_demo_data();
  void load_demo_customers();
  void load_demo_tickets(store::Connection& c);
  void load_demo_notify(store::Connection& c);

  const Config& config() const { return config_; }
  store::Database& db() { return *db_; }
  meta::Registry& registry() { return registry_; }
  const meta::Repository& repo() { return *repo_; }
  meta::ReviewService& reviews() { return *reviews_; }
  cti::Service& cti() { return *cti_; }
  crm::CustomerService& crm() { return *crm_; }
  ticket::TicketService& tickets() { return *tickets_; }
  notify::NotifyService& notifications() { return *notify_; }
  auth::AuthService& auth() { return *auth_; }
  const http::Pipeline& pipeline() { return *pipeline_; }
  const http::Router& router() const { return router_; }
  const audit::AuditLog& audit() { return audit_; }

 private:
  void wire_notify();
  Config config_;
  SystemClock clock_;
  std::unique_ptr<store::Database> db_;
  meta::Registry registry_;
  audit::AuditLog audit_;
  std::unique_ptr<meta::Repository> repo_;
  std::unique_ptr<meta::ReviewService> reviews_;
  std::unique_ptr<auth::AuthService> auth_;
  std::unique_ptr<crm::CustomerService> crm_;
  std::unique_ptr<crm::ChangeWebhooks> webhooks_;
  std::unique_ptr<cti::Service> cti_;
  std::unique_ptr<ticket::TicketService> tickets_;
  std::unique_ptr<notify::NotifyService> notify_;
  http::Router router_;
  http::Metrics metrics_;
  http::WsHub hub_;
  std::unique_ptr<http::StaticFiles> files_;
  std::unique_ptr<http::Pipeline> pipeline_;
};

}  // namespace kefu
