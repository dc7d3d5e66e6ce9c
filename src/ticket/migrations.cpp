#include "ticket/service.hpp"

namespace kefu::ticket {

// Tickets keep their workflow state as JSON beside the rows that are queried: the tasks (我的待办,
// 我的已办), the events (history), the timers (one indexed due time per SLA step, never a scan of
// open tickets).
std::vector<store::Migration> TicketService::migrations() {
  return {{"ticket/0001_tickets", R"(
CREATE TABLE wf_definition (
  id {{ID}}, code TEXT NOT NULL, version BIGINT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
  created_at BIGINT NOT NULL, created_by BIGINT NOT NULL, UNIQUE (code, version));
CREATE TABLE ticket (
  id {{ID}}, no TEXT NOT NULL UNIQUE, type_id BIGINT NOT NULL, title TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '', status TEXT NOT NULL, priority BIGINT NOT NULL DEFAULT 2,
  customer_id BIGINT, phone TEXT, call_id TEXT, channel TEXT,
  org_id BIGINT NOT NULL, org_path TEXT NOT NULL, creator_id BIGINT NOT NULL,
  fields TEXT NOT NULL DEFAULT '{}', wf_definition_id BIGINT NOT NULL, wf_state TEXT NOT NULL,
  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
  response_due BIGINT, responded_at BIGINT, resolve_due BIGINT, resolved_at BIGINT, closed_at BIGINT,
  paused_at BIGINT, sla_left_ms BIGINT, escalation BIGINT NOT NULL DEFAULT 0,
  version BIGINT NOT NULL DEFAULT 1);
CREATE INDEX ix_ticket_status_due ON ticket (status, resolve_due);
CREATE INDEX ix_ticket_creator ON ticket (creator_id, created_at);
CREATE INDEX ix_ticket_org ON ticket (org_path, created_at);
CREATE INDEX ix_ticket_customer ON ticket (customer_id, created_at);
CREATE TABLE ticket_task (
  id {{ID}}, ticket_id BIGINT NOT NULL, seq BIGINT NOT NULL, node TEXT NOT NULL, node_name TEXT NOT NULL,
  kind TEXT NOT NULL, status TEXT NOT NULL, staff_id BIGINT, group_id BIGINT, system TEXT,
  outcome TEXT, done_by BIGINT, created_at BIGINT NOT NULL, done_at BIGINT, due_at BIGINT,
  UNIQUE (ticket_id, seq));
CREATE INDEX ix_ticket_task_staff ON ticket_task (staff_id, status, ticket_id);
CREATE INDEX ix_ticket_task_group ON ticket_task (group_id, status, ticket_id);
CREATE INDEX ix_ticket_task_done ON ticket_task (done_by, done_at);
CREATE INDEX ix_ticket_task_system ON ticket_task (system, status);
CREATE TABLE ticket_event (
  id {{ID}}, ticket_id BIGINT NOT NULL, at BIGINT NOT NULL, staff_id BIGINT NOT NULL, action TEXT NOT NULL,
  task_seq BIGINT, node TEXT, detail TEXT NOT NULL DEFAULT '{}');
CREATE INDEX ix_ticket_event ON ticket_event (ticket_id, id);
CREATE TABLE ticket_timer (
  id {{ID}}, ticket_id BIGINT NOT NULL, kind TEXT NOT NULL, token BIGINT NOT NULL DEFAULT 0,
  level BIGINT NOT NULL DEFAULT 0, fires_at BIGINT NOT NULL);
CREATE INDEX ix_ticket_timer_due ON ticket_timer (fires_at);
CREATE INDEX ix_ticket_timer_ticket ON ticket_timer (ticket_id);
CREATE TABLE ticket_counter (day BIGINT PRIMARY KEY, last BIGINT NOT NULL);
)"},
          // 转外部系统: a task handed to an outside system is an outbox row, written with the step
          // that opened it and pushed (signed, retried with back-off) until the system takes it.
          {"ticket/0002_handoffs", R"(
CREATE TABLE ticket_handoff (
  id {{ID}}, ticket_id BIGINT NOT NULL, task_seq BIGINT NOT NULL, system TEXT NOT NULL, body TEXT NOT NULL,
  created_at BIGINT NOT NULL, attempts BIGINT NOT NULL DEFAULT 0, next_at BIGINT, last_status BIGINT,
  last_error TEXT, delivered_at BIGINT, UNIQUE (ticket_id, task_seq));
CREATE INDEX ix_ticket_handoff_next ON ticket_handoff (next_at);
)"}};
}

}  // namespace kefu::ticket
