#pragma once
// 受理单 (service tickets): created from a call, chat, e-mail, voicemail or the API, moved by the
// workflow engine through the departments, with SLA deadlines on the business calendar,
// reminders and escalation, history, and data scope. Rules live here; routes.cpp is thin.
//
// Every change runs in one transaction that also writes the ticket's history and the operation
// log, and checks the ticket's version: of two completions of the same task one commits, the other
// gets 409. Timers are rows with an indexed due time (ticket_timer), so the timer loop reads only
// what is due, never every open ticket.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "audit/audit_log.hpp"
#include "base/clock.hpp"
#include "base/config.hpp"
#include "base/principal.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"
#include "workflow/calendar.hpp"
#include "workflow/engine.hpp"

namespace kefu::ticket {

struct Options {
  int day_start_min = 9 * 60, day_end_min = 17 * 60;
  std::vector<std::string> leader_roles{"team_leader", "branch_manager", "hq_manager"};
  int64_t minute_ms = 60'000;
  int64_t poll_ms = 1000;
  int max_escalation = 3;
  // Outside systems by name ("oa"): URL and signing secret of their hand-off webhook.
  std::map<std::string, std::pair<std::string, std::string>> systems;
  static Options from(const Config& c);
};

// What a ticket's node looks like to the engine's resolver: the ticket's organisation, its
// creator, and whom it is about (the handler of a complaint is never the person complained about).
struct TicketFacts {
  int64_t id = 0, org_id = 0, creator_id = 0, excluded_staff = 0;
};

class TicketService {
 public:
  TicketService(store::Database& db, const Clock& clock, const audit::AuditLog& audit,
                Options options);
  ~TicketService();
  static std::vector<store::Migration> migrations();

  // Workflow definitions (流程定义): saving checks everything and adds a version; running tickets
  // keep the version they started on.
  json::object save_definition(const Principal& who, const audit::Actor& actor,
                               const json::object& body);
  json::array definitions(const Principal& who) const;
  json::object definition(const Principal& who, const std::string& code, int64_t version) const;

  json::object create(store::Connection& c, const Principal& who, const audit::Actor& actor,
                      const json::object& body);
  // An action on the ticket: claim, complete, return, transfer, consult, withdraw, suspend, resume,
  // wait_customer, customer_replied, reopen, note, reply.
  json::object act(store::Connection& c, const Principal& who, const audit::Actor& actor,
                   int64_t id, const std::string& action, const json::object& body);
  // An outside system (the enterprise OA) completes the task it holds.
  json::object complete_external(store::Connection& c, const Principal& who,
                                 const audit::Actor& actor, int64_t id, int64_t task,
                                 const json::object& body);

  json::object list(const Principal& who, const std::map<std::string, std::string>& query) const;
  json::object get(const Principal& who, int64_t id) const;
  json::object counters(const Principal& who) const;
  // The live ticket types with their own fields, for whoever registers tickets.
  json::array types() const;

  // Runs the due timers once (workflow timers, reminders, escalations); returns how many fired.
  int run_due_timers();
  // Pushes the hand-offs that are due to their systems once; returns how many were delivered.
  int push_handoffs();
  void start();
  void stop();

  // Live notice after a commit: the ticket and the staff it concerns (holders, creator).
  using Listener =
      std::function<void(const json::object& notice, const std::vector<int64_t>& staff)>;
  void on_change(Listener l) { listener_ = std::move(l); }
  // A line in the customer's contact history when a ticket about him is created.
  using ContactWriter =
      std::function<void(store::Connection&, int64_t customer_id, int64_t at, int64_t staff_id,
                         int64_t ticket_id, const std::string& summary)>;
  void on_customer_ticket(ContactWriter w) { contact_ = std::move(w); }

  // 办结通知: when a ticket closes, in its transaction; answers what was sent (or why not), which
  // goes into the ticket's history. Failing to notify never keeps a ticket from closing.
  struct Closed {
    int64_t id = 0, customer_id = 0, by = 0, at = 0;
    std::string no, title, phone, sms_template, email_template;
  };
  using ClosedListener = std::function<json::array(store::Connection&, const Closed&)>;
  void on_closed(ClosedListener l) { closed_ = std::move(l); }

  store::Database& db() { return db_; }
  void announce(int64_t ticket_id);

 private:
  struct Loaded;
  Loaded load(store::Connection& c, int64_t id, bool for_update) const;
  bool visible(store::Connection& c, const Principal& who, const Loaded& t) const;
  std::shared_ptr<const workflow::Definition> definition_of(store::Connection& c,
                                                            int64_t definition_id) const;
  workflow::BusinessCalendar calendar(store::Connection& c) const;
  std::vector<workflow::Assignee> resolve(store::Connection& c, const TicketFacts& t,
                                          const workflow::AssigneeRule& rule,
                                          int64_t previous) const;
  int64_t leader_of(store::Connection& c, int64_t staff_id, int64_t excluded) const;
  // Applies one engine event to a loaded ticket and stores everything it changed.
  workflow::Step step(store::Connection& c, Loaded& t, const workflow::Event& e, int64_t by);
  void persist(store::Connection& c, Loaded& t, const workflow::Step& s, int64_t by,
               const std::string& action, const json::object& detail, int64_t expected_version);
  void event(store::Connection& c, int64_t ticket, int64_t staff, const std::string& action,
             int64_t task, const std::string& node, const json::object& detail) const;
  void arm_sla(store::Connection& c, int64_t ticket, int64_t due, int64_t remind_before_ms) const;
  void fire(store::Connection& c, int64_t timer_id);

  store::Database& db_;
  const Clock& clock_;
  const audit::AuditLog& audit_;
  Options opt_;
  Listener listener_;
  ContactWriter contact_;
  ClosedListener closed_;
  mutable std::mutex definitions_mu_;
  mutable std::map<int64_t, std::shared_ptr<const workflow::Definition>> definitions_;
  std::atomic<bool> running_{false};
  std::thread timer_thread_;
};

}  // namespace kefu::ticket
