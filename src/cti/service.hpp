#pragma once
// The real-time core as a running component (the `cti` role): one thread owns the CallCenter
// and its switch, like an actor. Commands are posted to it and answered only after the facts
// they caused are committed to the store, so an acknowledged state change survives a crash.
// At start it closes what a crash left open: calls get the disposition "system_restart", agents
// come back signed out with that reason, each as a stored fact.
#include <functional>
#include <memory>

#include "base/clock.hpp"
#include "base/json.hpp"
#include "base/principal.hpp"
#include "cti/call_center.hpp"
#include "store/migrations.hpp"

namespace kefu::store {
class Database;
class Connection;
}  // namespace kefu::store

namespace kefu::cti {

class SimSwitch;

struct AgentInfo {  // what the console shows next to an agent
  int64_t staff_id = 0, org_id = 0;
  std::string org_path, org_name;
};

struct ServiceOptions {
  CenterConfig center;
  Millis tick_ms = 100;
  Millis stats_every_ms = 1'000;
  Millis reload_check_ms = 2'000;  // how often edits of queues and agents are looked for
  // The SIP softswitch beside the simulator ("" = off); see sip/sip_switch.hpp.
  std::string sip_listen, sip_realm = "kefu", media_address, sip_gateway;
  std::string sip_gateway_user, sip_gateway_password;  // digest account at the trunk
  // The trading counter's adapter endpoint (integration/counter_adapters.hpp); "" = simulated.
  std::string counter_url;
  std::string recording_dir = "var/recordings", prompt_dir = "var/prompts";
  int media_threads = 0;  // the softswitch's media threads; 0 = one per core, at most 4
  // Nodes of a cluster share the database: each stores its name with its calls and agent states,
  // recovers only its own after a restart, and takes its ids from a block of its own. Empty: the
  // only node, which recovers every call and agent left open.
  std::string node;
  // Asked of the customer file for every incoming call before the core routes it (on the core
  // thread), and for every new chat or e-mail (on the request's thread). Must not throw.
  std::function<Screening(const std::string& address)> screen;
  // Adds a line to a customer's contact history, in the transaction that stores the fact.
  std::function<void(store::Connection&, const CallContact&)> record_contact;
  // How long after an interaction its agent may still read what belongs to the caller (a
  // number's contact history), as for his customer file (crm/serving.hpp).
  Millis serving_grace_ms = 30 * 60'000;
  // Whether a customer (crm_customer.id) is in the user's data scope: his calls are readable then.
  std::function<bool(store::Connection&, const Principal&, int64_t customer)> customer_in_scope;
};

class Service {
 public:
  Service(store::Database& db, const Clock& clock, ServiceOptions opt = {});
  ~Service();
  static std::vector<store::Migration> migrations();

  // Audience of a published event: the agent it concerns (staff id, 0 for none) and supervisors.
  using Publish =
      std::function<void(const std::string& type, const json::object& data, int64_t staff_id)>;
  void on_publish(Publish p) { publish_ = std::move(p); }

  struct Recovery {
    int calls = 0, agents = 0;
  };
  // Closes what a previous run left open, loads queues and agents, starts the core thread.
  Recovery start();
  void stop();

  // Runs `fn` on the core thread and returns its result once the facts it caused are
  // committed. Exceptions thrown by fn come back here.
  struct Ctx {
    CallCenter& cc;
    SimSwitch& sim;
    Millis now;
    const std::vector<AgentInfo>& agents;
  };
  json::value exec(const std::function<json::value(Ctx&)>& fn);

  // The live picture (agents, calls, queues and teams with their KPIs), built on the core thread.
  json::object snapshot();
  // Prometheus lines: live calls and conversations, agents by state; with the softswitch, its
  // SIP legs, RTP legs and registered phones (a leak shows as a count that never comes down).
  std::string metrics();
  Millis now() const;  // the service's clock
  Millis serving_grace_ms() const;
  bool customer_in_scope(store::Connection& c, const Principal& who, int64_t customer) const;
  // The customer file's word on an address (a number, an e-mail address); nothing known without it.
  Screening screen(const std::string& address) const;
  json::object agent_json(const Ctx& c, AgentId a) const;
  json::object call_json(const Ctx& c, const CallCenter::CallView& v) const;
  // Where a stored recording (the CDR's name) lives on disk.
  std::string recording_path(const std::string& name) const;
  json::object conversation_json(const Ctx& c, const CallCenter::ConversationView& v) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Publish publish_;
};

}  // namespace kefu::cti
