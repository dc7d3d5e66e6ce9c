#include "notify/entities.hpp"

#include <sstream>

#include "meta/field_builder.hpp"
#include "notify/templates.hpp"

namespace kefu::notify {

using meta::F;
using meta::FieldType;

namespace {

// A template is checked on save against the variables its sender provides: a text that does not
// parse, or names a variable nobody fills, is refused with every error at once.
void check_template_record(meta::HookContext& h) {
  auto val = [&](const char* k) -> std::string {
    const json::value* v = h.record.if_contains(k);
    if (!v && h.before) v = h.before->if_contains(k);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  std::set<std::string> provided;
  std::stringstream list(val("variables"));
  for (std::string name; std::getline(list, name, ',');) {
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    if (!name.empty()) provided.insert(name);
  }
  auto errors = check_template(
      {{"subject", val("subject")}, {"body", val("body")}, {"html", val("html")}}, provided);
  std::string channel = val("channel");
  if (channel == "email" && val("subject").empty())
    errors.push_back({"subject", "required", "an e-mail template needs a subject"});
  std::string type = val("type");
  if (!type.empty() &&
      h.conn.exec("SELECT 1 FROM notify_type WHERE code = ? AND archived = 0", {type}).empty())
    errors.push_back({"type", "not_found", "no message type " + type});
  if (!errors.empty()) throw Error::validation(std::move(errors));
}

}  // namespace

void register_entities(meta::Registry& reg) {
  const char* hhmm = "([01][0-9]|2[0-3]):[0-5][0-9]|24:00";
  reg.add(
      {.name = "notify_type",
       .label_zh = "消息类型",
       .label_en = "Message type",
       .permission = "notify_type",
       .fields =
           {F("code", FieldType::string, "编码", "Code")
                .required()
                .unique()
                .len(32)
                .pattern("[a-z][a-z0-9_]*"),
            F("name", FieldType::string, "名称", "Name").required().search().sort().len(60),
            F("priority", FieldType::integer, "优先级(1最高)", "Priority (1 first)")
                .range(1, 9)
                .def(5),
            F("per_minute", FieldType::integer, "每分钟上限", "At most a minute").range(1, 1000),
            F("per_hour", FieldType::integer, "每小时上限", "At most an hour").range(1, 10000),
            F("per_day", FieldType::integer, "每天上限", "At most a day").range(1, 100000),
            F("over_cap", FieldType::enumeration, "超限处理", "Over the cap")
                .options({{"reject", "拒绝", "Refuse"}, {"delay", "延后发送", "Hold back"}})
                .def("reject"),
            F("window_start", FieldType::string, "发送时段开始", "Window opens").pattern(hhmm),
            F("window_end", FieldType::string, "发送时段结束", "Window closes").pattern(hhmm),
            F("expire_minutes", FieldType::integer, "有效期(分钟)", "Expires after (minutes)")
                .range(1, 525600),
            F("bulk", FieldType::boolean, "群发/营销", "Bulk or marketing").def(false),
            F("description", FieldType::text, "说明", "Description").len(500)},
       .title_field = "name",
       .menu = "notify"});
  reg.add(
      {.name = "notify_template",
       .label_zh = "消息模板",
       .label_en = "Message template",
       .permission = "notify_template",
       .fields = {F("code", FieldType::string, "编码", "Code")
                      .required()
                      .unique()
                      .len(40)
                      .pattern("[a-z][a-z0-9_]*"),
                  F("name", FieldType::string, "名称", "Name").required().search().sort().len(60),
                  F("channel", FieldType::enumeration, "渠道", "Channel")
                      .required()
                      .filter()
                      .options({{"sms", "短信", "SMS"}, {"email", "邮件", "E-mail"}}),
                  F("type", FieldType::string, "消息类型", "Message type").required().len(32),
                  F("variables", FieldType::string, "可用变量", "Variables provided").len(500),
                  F("subject", FieldType::string, "邮件主题", "Subject").len(200),
                  F("body", FieldType::text, "正文", "Text").required().len(20000),
                  F("html", FieldType::text, "HTML 正文", "HTML").len(200000),
                  F("enabled", FieldType::boolean, "启用", "Enabled").filter().def(true)},
       .title_field = "name",
       .menu = "notify",
       .before_save = check_template_record});
  // 短信指令: what a customer's reply does — TD stops marketing SMS at once (never charged), KT
  // starts them again, anything else gets the help text.
  reg.add({.name = "notify_keyword",
           .label_zh = "短信指令",
           .label_en = "SMS keyword",
           .permission = "notify_keyword",
           .fields = {F("keyword", FieldType::string, "指令", "Keyword")
                          .required()
                          .unique()
                          .len(10)
                          .pattern("[^a-z[:space:]]+"),  // upper case: replies are matched so
                      F("name", FieldType::string, "名称", "Name").required().len(60),
                      F("action", FieldType::enumeration, "动作", "Action")
                          .required()
                          .options({{"stop", "退订营销短信", "Stop marketing SMS"},
                                    {"start", "恢复营销短信", "Start marketing SMS"},
                                    {"help", "帮助", "Help"}}),
                      F("reply", FieldType::string, "回复内容", "Reply").len(300),
                      F("reply_type", FieldType::string, "回复的消息类型", "Reply's message type")
                          .len(32)
                          .def("service")},
           .title_field = "name",
           .menu = "notify"});
}

}  // namespace kefu::notify
