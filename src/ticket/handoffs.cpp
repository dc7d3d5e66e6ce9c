// 转外部系统: pushing the tasks handed to outside systems (the enterprise OA). Each hand-off is a
// row written with the step that opened the task; here it is taken with a lease (so one node sends
// it), sent signed like every Kefu webhook, and either marked delivered or retried with back-off
// (1 s, 2 s, 4 s … 5 min). Nothing is lost while the system is down; the receiver tells repeats
// apart by X-Kefu-Delivery.
#include <spdlog/spdlog.h>

#include "integration/http_client.hpp"
#include "ticket/loaded.hpp"

namespace kefu::ticket {

int TicketService::push_handoffs() {
  struct Due {
    int64_t id, ticket, task, next_at, attempts;
    std::string system, body;
  };
  std::vector<Due> due;
  int64_t now = clock_.now_ms();
  db_.read([&](store::Connection& c) {
    for (auto& r : c.exec("SELECT id, ticket_id, task_seq, next_at, attempts, system, body FROM "
                          "ticket_handoff WHERE "
                          "next_at <= ? ORDER BY next_at LIMIT 50",
                          {now})
                       .rows)
      due.push_back({store::as_int(r[0]), store::as_int(r[1]), store::as_int(r[2]),
                     store::as_int(r[3]), store::as_int(r[4]), store::as_text(r[5]),
                     store::as_text(r[6])});
  });
  int delivered = 0;
  for (auto& h : due) {
    bool mine = false, live = false;
    db_.write([&](store::Connection& c) {
      // The lease: whoever moves next_at first sends it; the others see it changed.
      mine = c.exec("UPDATE ticket_handoff SET next_at = ? WHERE id = ? AND next_at = ?",
                    {now + 60'000, h.id, h.next_at})
                 .affected == 1;
      if (!mine) return;
      live = !c.exec(
                   "SELECT 1 FROM ticket_task WHERE ticket_id = ? AND seq = ? AND status IN "
                   "('open', 'started')",
                   {h.ticket, h.task})
                  .empty();
      if (!live)
        c.exec(
            "UPDATE ticket_handoff SET next_at = NULL, last_error = 'the task was closed before "
            "delivery' WHERE id = ?",
            {h.id});
    });
    if (!mine || !live) continue;
    auto sys = opt_.systems.find(h.system);
    integration::HttpResult sent;
    if (sys == opt_.systems.end())
      sent.error = "no address is configured for outside system " + h.system;
    else
      sent = integration::signed_post(sys->second.first, sys->second.second, "ticket.handoff",
                                      std::to_string(h.ticket) + ":" + std::to_string(h.task),
                                      h.body, clock_.now_ms(),
                                      5'000);  // the SLA timers share this thread
    int64_t done = clock_.now_ms();
    std::string error = sent.ok() ? std::string()
                        : sent.error.empty()
                            ? "HTTP " + std::to_string(sent.status) + " " + sent.body.substr(0, 200)
                            : sent.error;
    db_.write([&](store::Connection& c) {
      if (sent.ok()) {
        c.exec(
            "UPDATE ticket_handoff SET next_at = NULL, delivered_at = ?, attempts = attempts + 1, "
            "last_status = ?, "
            "last_error = NULL WHERE id = ?",
            {done, int64_t(sent.status), h.id});
        event(c, h.ticket, 0, "external.delivered", h.task, "",
              json::object{{"system", h.system}, {"attempts", h.attempts + 1}});
      } else {
        c.exec(
            "UPDATE ticket_handoff SET next_at = ?, attempts = attempts + 1, last_status = ?, "
            "last_error = ? WHERE id = ?",
            {done + integration::retry_delay_ms(int(h.attempts) + 1), int64_t(sent.status),
             error.substr(0, 300), h.id});
      }
    });
    if (sent.ok()) {
      ++delivered;
      announce(h.ticket);
    } else {
      spdlog::warn("ticket {} task {}: hand-off to {} failed ({}), attempt {}", h.ticket, h.task,
                   h.system, error, h.attempts + 1);
    }
  }
  return delivered;
}

}  // namespace kefu::ticket
