#include "ticket/entities.hpp"

#include "meta/field_builder.hpp"

namespace kefu::ticket {

using meta::F;
using meta::FieldType;

// 工单类型: what admins configure per kind of request — its workflow, number prefix, SLA and
// its own fields (a JSON list of {key, label, type, required, options}).
void register_entities(meta::Registry& reg) {
  reg.add(
      {.name = "ticket_type",
       .label_zh = "工单类型",
       .label_en = "Ticket type",
       .permission = "ticket_type",
       .fields = {F("code", FieldType::string, "编码", "Code")
                      .required()
                      .unique()
                      .len(32)
                      .pattern("[a-z][a-z0-9_]*"),
                  F("name", FieldType::string, "名称", "Name").required().search().sort().len(60),
                  F("workflow", FieldType::string, "流程", "Workflow").required().len(40),
                  F("prefix", FieldType::string, "编号前缀", "Number prefix")
                      .required()
                      .len(4)
                      .pattern("[A-Z]{1,4}"),
                  F("response_minutes", FieldType::integer, "响应时限(工作分钟)",
                    "Response (business minutes)")
                      .range(0, 100000),
                  F("resolve_amount", FieldType::integer, "办结时限", "Resolution deadline")
                      .range(0, 100000),
                  F("resolve_unit", FieldType::enumeration, "时限单位", "Deadline unit")
                      .options({{"business_hours", "工作小时", "Business hours"},
                                {"calendar_days", "自然日", "Calendar days"},
                                {"minutes", "分钟", "Minutes"}})
                      .def("business_hours"),
                  F("remind_before_minutes", FieldType::integer, "到期前提醒(分钟)",
                    "Remind before (minutes)")
                      .range(0, 100000),
                  F("escalate_every_minutes", FieldType::integer, "逾期升级间隔(分钟)",
                    "Escalate every (minutes)")
                      .range(0, 100000),
                  F("reopen_days", FieldType::integer, "可重新打开天数", "Reopen within (days)")
                      .range(0, 365)
                      .def(7),
                  F("fields", FieldType::json, "自定义字段", "Own fields"),
                  F("done_sms_template", FieldType::string, "办结短信模板", "SMS when done (template)")
                      .len(40),
                  F("done_email_template", FieldType::string, "办结邮件模板",
                    "E-mail when done (template)")
                      .len(40),
                  F("description", FieldType::text, "说明", "Description").len(500)},
       .title_field = "name",
       .menu = "ticket"});
}

}  // namespace kefu::ticket
