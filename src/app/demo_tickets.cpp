// Demo tickets: the two workflows a hotline starts with (通用受理, 投诉处理) and the ticket types
// that use them, with the complaint type's own fields and the regulator's 15 calendar days.
#include <spdlog/spdlog.h>

#include "app/application.hpp"
#include "workflow/definition.hpp"

namespace kefu {

namespace {

constexpr const char* kGeneral =
    R"({"name": "通用受理流程", "start": "s", "reopen_to": "handle", "nodes": {
  "s": {"type": "start", "name": "开始"},
  "accept": {"type": "task", "name": "受理", "assignee": {"rule": "creator"}},
  "handle": {"type": "task", "name": "处理", "sla_hours": 8,
             "assignees": [{"rule": "role", "role": "branch_manager", "org": "ticket"},
                           {"rule": "group", "org": "HQ-CC-T1", "pick": "queue"}]},
  "visit": {"type": "task", "name": "回访", "assignee": {"rule": "creator"}},
  "e": {"type": "end", "name": "办结"}},
 "transitions": [{"from": "s", "to": "accept"}, {"from": "accept", "to": "handle"},
                 {"from": "handle", "to": "visit"}, {"from": "visit", "to": "e"}]})";

constexpr const char* kComplaint =
    R"({"name": "投诉处理流程", "start": "s", "reopen_to": "handle", "nodes": {
  "s": {"type": "start", "name": "开始"},
  "accept": {"type": "task", "name": "受理登记", "assignee": {"rule": "creator"}, "form": ["complaint_source", "severity"]},
  "grade": {"type": "condition", "name": "分级"},
  "review": {"type": "approval", "name": "班组长审核", "mode": "any", "assignees": [{"rule": "leader"}]},
  "handle": {"type": "task", "name": "投诉处理", "sla_hours": 8, "form": ["result", "root_cause"],
             "assignees": [{"rule": "role", "role": "branch_manager", "org": "ticket"},
                           {"rule": "group", "org": "HQ-CC-T1", "pick": "queue"}]},
  "visit": {"type": "task", "name": "回访", "assignee": {"rule": "creator"}, "form": ["satisfaction"]},
  "e": {"type": "end", "name": "结案"}},
 "transitions": [{"from": "s", "to": "accept"}, {"from": "accept", "to": "grade"},
                 {"from": "grade", "to": "review", "if": "severity == 'major'"}, {"from": "grade", "to": "handle"},
                 {"from": "review", "to": "accept", "if": "outcome == 'reject'"}, {"from": "review", "to": "handle"},
                 {"from": "handle", "to": "visit"}, {"from": "visit", "to": "e"}]})";

constexpr const char* kComplaintFields = R"([
  {"key": "complaint_source", "label": "投诉来源", "type": "enum", "required": true,
   "options": ["hotline", "ivr", "letter", "regulator", "12386", "online"]},
  {"key": "category", "label": "投诉类别", "type": "string"},
  {"key": "severity", "label": "严重程度", "type": "enum", "required": true, "options": ["minor", "major"]},
  {"key": "complained_org", "label": "被投诉部门", "type": "string"},
  {"key": "result", "label": "处理结果", "type": "string"},
  {"key": "root_cause", "label": "原因分析", "type": "string"},
  {"key": "satisfaction", "label": "客户满意度", "type": "enum", "options": ["satisfied", "neutral", "dissatisfied"]},
  {"key": "recomplaint_of", "label": "重复投诉原单号", "type": "string"}])";

}  // namespace

void Application::load_demo_tickets(store::Connection& c) {
  Principal sys = system_principal();
  audit::Actor actor{0, "demo", "", ""};
  int64_t now = 0;
  for (auto [code, body] : {std::pair{"general", kGeneral}, std::pair{"complaint", kComplaint}}) {
    auto def = parse_value(body);
    workflow::Definition::parse(def, workflow::Catalog{});  // the demo's own definitions are sound
    c.exec(
        "INSERT INTO wf_definition (code, version, name, body, created_at, created_by) VALUES (?, "
        "1, ?, ?, ?, 0)",
        {code, std::string(def.as_object().at("name").as_string()), to_json(def), now});
  }
  struct T {
    const char *code, *name, *workflow, *prefix;
    int64_t response_minutes, resolve_amount;
    const char* unit;
    int64_t remind_minutes, escalate_minutes;
    const char* fields;
  };
  const T types[] = {
      {"consult", "咨询", "general", "ZX", 60, 8, "business_hours", 60, 240, "[]"},
      {"service", "业务办理", "general", "YW", 120, 16, "business_hours", 120, 480, "[]"},
      {"complaint", "投诉", "complaint", "TS", 480, 15, "calendar_days", 2880, 1440,
       kComplaintFields},
      {"suggestion", "建议", "general", "JY", 480, 5, "calendar_days", 1440, 1440, "[]"},
      {"requirement", "需求", "general", "XQ", 480, 10, "calendar_days", 1440, 1440, "[]"},
  };
  for (auto& t : types)
    repo_->create(c, registry_.get("ticket_type"), sys, actor,
                  json::object{{"code", t.code},
                               {"name", t.name},
                               {"workflow", t.workflow},
                               {"prefix", t.prefix},
                               {"response_minutes", t.response_minutes},
                               {"resolve_amount", t.resolve_amount},
                               {"resolve_unit", t.unit},
                               {"remind_before_minutes", t.remind_minutes},
                               {"escalate_every_minutes", t.escalate_minutes},
                               {"reopen_days", 7},
                               {"fields", parse_value(t.fields)}});
  spdlog::info("demo tickets: 2 workflows, {} ticket types", std::size(types));
}

}  // namespace kefu
