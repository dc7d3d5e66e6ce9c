#pragma once
// A ticket as the service works on it within one transaction (internal to src/ticket).
#include "ticket/service.hpp"

namespace kefu::ticket {

struct TicketService::Loaded {
  int64_t id = 0, type_id = 0, org_id = 0, creator_id = 0, customer_id = 0, version = 0, def_id = 0;
  int64_t created_at = 0, resolve_due = 0, responded_at = 0, closed_at = 0, paused_at = 0,
          sla_left = 0;
  int64_t escalation = 0, priority = 2;
  std::string no, status, org_path, title, channel;
  json::object fields;  // the ticket's own fields (the type's)
  json::object type;    // the ticket_type row
  workflow::Instance inst;

  TicketFacts facts() const;
  // What transition conditions read: the own fields and the ticket's standard ones.
  json::object condition_fields() const;
  int64_t type_int(const char* key) const;
  std::string type_text(const char* key) const;
};

// The ticket's columns, in the order Loaded reads them.
inline constexpr const char* kTicketColumns =
    "t.id, t.type_id, t.org_id, t.creator_id, t.customer_id, t.version, t.wf_definition_id, "
    "t.created_at, "
    "t.resolve_due, t.responded_at, t.closed_at, t.paused_at, t.sla_left_ms, t.escalation, "
    "t.priority, t.no, "
    "t.status, t.org_path, t.title, t.channel, t.fields, t.wf_state";

// Ids of an organisation path "/1/4/9/", nearest first.
std::vector<int64_t> units_upward(const std::string& path);
bool in_data_scope(const Principal& who, int64_t org_id, const std::string& org_path);

}  // namespace kefu::ticket
