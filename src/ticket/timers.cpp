// The SLA and workflow timers: rows with an indexed due time. Each due row is taken by deleting
// it in the transaction that acts on it, so on several nodes one fires it and a failure leaves
// it for the next look.
#include <spdlog/spdlog.h>

#include <chrono>

#include "base/error.hpp"
#include "ticket/loaded.hpp"

namespace kefu::ticket {

int TicketService::run_due_timers() {
  std::vector<int64_t> due;
  int64_t now = clock_.now_ms();
  db_.read([&](store::Connection& c) {
    for (auto& r :
         c.exec("SELECT id FROM ticket_timer WHERE fires_at <= ? ORDER BY fires_at LIMIT 200",
                {now})
             .rows)
      due.push_back(store::as_int(r[0]));
  });
  int fired = 0;
  for (int64_t id : due) {
    int64_t ticket = 0;
    try {
      db_.write([&](store::Connection& c) {
        auto r = c.exec("SELECT ticket_id FROM ticket_timer WHERE id = ?", {id});
        if (r.empty()) return;
        ticket = store::as_int(r.rows[0][0]);
        fire(c, id);
      });
      ++fired;
      if (ticket) announce(ticket);
    } catch (const std::exception& e) {
      // The row stays (the transaction rolled back): the next look tries again.
      spdlog::warn("ticket timer {} of ticket {}: {}", id, ticket, e.what());
    }
  }
  return fired;
}

void TicketService::fire(store::Connection& c, int64_t timer_id) {
  auto r =
      c.exec("SELECT ticket_id, kind, token, level FROM ticket_timer WHERE id = ?", {timer_id});
  if (r.empty()) return;
  int64_t ticket = store::as_int(r.rows[0][0]), token = store::as_int(r.rows[0][2]),
          level = store::as_int(r.rows[0][3]);
  std::string kind = store::as_text(r.rows[0][1]);
  if (c.exec("DELETE FROM ticket_timer WHERE id = ?", {timer_id}).affected == 0)
    return;  // another node took it
  Loaded t = load(c, ticket, true);
  if (t.status == "closed") return;
  int64_t now = clock_.now_ms();
  if (kind == "wf") {
    workflow::Event e;
    e.kind = workflow::Event::Kind::timer;
    e.token = int(token);
    try {
      auto s = step(c, t, e, 0);
      persist(c, t, s, 0, "timer", json::object{{"token", token}}, t.version);
    } catch (const Error& err) {
      if (err.status() != 409) throw;  // suspended: resuming arms it again
    }
    return;
  }
  // Who is late: the live tasks' holders (a unit's queue counts as its leader's), else the creator.
  std::vector<int64_t> holders;
  for (auto& k : t.inst.tasks)
    if (k.live() && k.assignee.staff_id) holders.push_back(k.assignee.staff_id);
  if (holders.empty()) holders.push_back(t.creator_id);
  if (kind == "remind") {
    json::array to;
    for (auto h : holders) to.push_back(h);
    event(c, ticket, 0, "sla.remind", 0, "",
          json::object{{"to", to}, {"resolve_due", t.resolve_due}});
    return;
  }
  // 逾期升级: level 1 goes to the holder's leader, each further level one step up.
  json::array to;
  for (int64_t h : holders) {
    int64_t target = h;
    for (int64_t i = 0; i < level && target; ++i) {
      int64_t up = leader_of(c, target, 0);
      if (!up) break;
      target = up;
    }
    if (target && target != h) to.push_back(target);
  }
  c.exec("UPDATE ticket SET escalation = ? WHERE id = ?", {level, ticket});
  event(c, ticket, 0, "sla.escalate", 0, "",
        json::object{{"level", level}, {"to", to}, {"resolve_due", t.resolve_due}});
  int64_t every = t.type_int("escalate_every_minutes") * opt_.minute_ms;
  if (every > 0 && level < opt_.max_escalation)
    c.exec(
        "INSERT INTO ticket_timer (ticket_id, kind, token, level, fires_at) VALUES (?, 'overdue', "
        "0, ?, ?)",
        {ticket, level + 1, now + every});
}

void TicketService::start() {
  if (running_.exchange(true)) return;
  timer_thread_ = std::thread([this] {
    while (running_) {
      try {
        while (running_ && run_due_timers() > 0) {
        }
        push_handoffs();
      } catch (const std::exception& e) {
        spdlog::warn("ticket timers: {}", e.what());
      }
      for (int64_t waited = 0; running_ && waited < opt_.poll_ms; waited += 10)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
}

void TicketService::stop() {
  if (!running_.exchange(false)) return;
  if (timer_thread_.joinable()) timer_thread_.join();
}

void TicketService::announce(int64_t ticket_id) {
  if (!listener_) return;
  json::object notice;
  std::vector<int64_t> staff;
  try {
    db_.read([&](store::Connection& c) {
      auto r =
          c.exec("SELECT no, status, creator_id, escalation FROM ticket WHERE id = ?", {ticket_id});
      if (r.empty()) return;
      notice = json::object{{"id", ticket_id},
                            {"no", store::as_text(r.rows[0][0])},
                            {"status", store::as_text(r.rows[0][1])},
                            {"escalation", store::as_int(r.rows[0][3])}};
      staff.push_back(store::as_int(r.rows[0][2]));
      for (auto& k : c.exec("SELECT staff_id, group_id FROM ticket_task WHERE ticket_id = ? AND "
                            "status IN ('open', 'started')",
                            {ticket_id})
                         .rows) {
        if (!store::is_null(k[0]))
          staff.push_back(store::as_int(k[0]));
        else if (!store::is_null(k[1]))
          for (auto& m : c.exec("SELECT id FROM staff WHERE org_id = ? AND status = 'active'",
                                {store::as_int(k[1])})
                             .rows)
            staff.push_back(store::as_int(m[0]));
      }
      // Escalations reach the leaders they went to.
      for (auto& e :
           c.exec("SELECT detail FROM ticket_event WHERE ticket_id = ? AND action = 'sla.escalate'",
                  {ticket_id})
               .rows) {
        auto d = parse_value(store::as_text(e[0]));
        if (auto to = d.as_object().if_contains("to"); to && to->is_array())
          for (auto& s : to->as_array()) staff.push_back(s.to_number<int64_t>());
      }
    });
  } catch (const std::exception& e) {
    spdlog::warn("ticket {} notice: {}", ticket_id, e.what());
    return;
  }
  if (!notice.empty()) listener_(notice, staff);
}

}  // namespace kefu::ticket
