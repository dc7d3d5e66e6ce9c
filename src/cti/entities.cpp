#include "cti/entities.hpp"

#include "base/error.hpp"
#include "base/json.hpp"
#include "ivr/flow.hpp"
#include "meta/field_builder.hpp"

namespace kefu::cti {
using meta::F;
using meta::FieldType;

namespace {
// The fields several contact-centre records share.
F code_field() {
  return F("code", FieldType::string, "代码", "Code")
      .required()
      .unique()
      .sort()
      .len(32)
      .pattern("[a-z][a-z0-9_]*");
}
F access_numbers_field() {
  return F("access_numbers", FieldType::string, "接入号码(逗号分隔)",
           "Access numbers (comma separated)")
      .search()
      .len(200)
      .pattern("[0-9, ]*");
}
}  // namespace

void register_entities(meta::Registry& reg) {
  reg.add(
      {.name = "cti_queue",
       .label_zh = "技能队列",
       .label_en = "Queue",
       .fields =
           {code_field(),
            F("name", FieldType::string, "名称", "Name").required().search().sort().len(60),
            F("strategy", FieldType::enumeration, "分配策略", "Strategy")
                .required()
                .options({{"longest_idle", "最长空闲", "Longest idle"},
                          {"fewest_calls", "最少接听", "Fewest calls"},
                          {"least_talk_time", "最短通话时长", "Least talk time"},
                          {"round_robin", "轮询", "Round robin"},
                          {"top_down", "按级别优先", "Top down by level"},
                          {"random", "随机", "Random"},
                          {"ring_all", "同振(全部振铃)", "Ring all"}})
                .def("longest_idle"),
            F("channel", FieldType::enumeration, "渠道", "Channel")
                .required()
                .options({{"voice", "语音", "Voice"},
                          {"chat", "在线交谈", "Web chat"},
                          {"email", "电子邮件", "E-mail"}})
                .def("voice"),
            F("skills", FieldType::string, "所需技能(逗号分隔)", "Skills (comma separated)")
                .len(200),
            access_numbers_field(),
            F("weight_s", FieldType::integer, "队列权重(秒)", "Weight (s)").range(0, 3600).def(0),
            F("widen_after_s", FieldType::integer, "溢出到低级别(秒)", "Widen levels after (s)")
                .range(0, 3600)
                .def(30),
            F("max_wait_s", FieldType::integer, "最长等待(秒,0不限)", "Max wait (s, 0 none)")
                .range(0, 7200)
                .def(0),
            F("max_length", FieldType::integer, "最大排队数(0不限)", "Max queue length (0 none)")
                .range(0, 100000)
                .def(0),
            F("fallback", FieldType::enumeration, "无人应答处理", "Fallback")
                .required()
                .options({{"hangup", "提示后挂机", "Prompt and hang up"},
                          {"voicemail", "语音留言", "Voicemail"},
                          {"queue", "溢出到其他队列", "Overflow to a queue"},
                          {"number", "转外线号码", "Forward to a number"},
                          {"callback", "预约回呼", "Call back"}})
                .def("hangup"),
            F("fallback_target", FieldType::string, "溢出目标(队列代码或号码)",
              "Fallback target (queue code or number)")
                .len(40),
            F("sticky_wait_s", FieldType::integer, "粘滞等待上次坐席(秒,-1关闭)",
              "Wait for the caller's last agent (s, -1 off)")
                .range(-1, 600)
                .def(-1),
            F("callback_digit", FieldType::string, "预约回呼按键", "Callback key")
                .len(1)
                .pattern("[0-9*#]?"),
            F("announce_s", FieldType::integer, "排队播报间隔(秒,0不播报)",
              "Announce place and wait every (s, 0 never)")
                .range(0, 600)
                .def(0),
            F("sl_threshold_s", FieldType::integer, "服务水平时限(秒)",
              "Service level threshold (s)")
                .range(1, 600)
                .def(20),
            F("enabled", FieldType::boolean, "启用", "Enabled").filter().def(true)},
       .title_field = "name",
       .default_sort = "code",
       .menu = "cti"});

  reg.add(
      {.name = "cti_agent",
       .label_zh = "座席",
       .label_en = "Agent profile",
       .fields = {F("staff_id", FieldType::ref, "员工", "Staff").required().unique().ref("staff"),
                  F("skills", FieldType::string, "技能(逗号分隔)", "Skills (comma separated)")
                      .search()
                      .len(200),
                  F("chat_capacity", FieldType::integer, "同时在线会话数", "Concurrent chats")
                      .range(0, 20)
                      .def(0),
                  F("email_capacity", FieldType::integer, "同时处理邮件数", "Concurrent e-mails")
                      .range(0, 50)
                      .def(0),
                  F("voice_with_media", FieldType::boolean, "通话中可同时处理会话",
                    "Chats and e-mails during a call")
                      .def(false),
                  // The registrar's account of his phone: digest needs the secret itself.
                  F("sip_secret", FieldType::string, "话机注册密码", "Phone (SIP) secret").len(64),
                  F("enabled", FieldType::boolean, "启用", "Enabled").filter().def(true)},
       .title_field = "staff_id",
       .menu = "cti"});

  // 接入站点 (M9): a region's or branch's numbers; agents of that organisation (and below) show
  // its caller id on outbound calls.
  reg.add(
      {.name = "cti_site",
       .label_zh = "接入站点",
       .label_en = "Access site",
       .fields =
           {code_field(), F("name", FieldType::string, "名称", "Name").required().search().len(60),
            F("org_id", FieldType::ref, "所属机构", "Organisation").required().ref("org_unit"),
            F("caller_id", FieldType::string, "外呼主叫号码", "Outbound caller id")
                .required()
                .len(20)
                .pattern("[0-9+]{3,20}"),
            access_numbers_field(),
            F("enabled", FieldType::boolean, "启用", "Enabled").filter().def(true)},
       .title_field = "name",
       .default_sort = "code",
       .menu = "cti"});

  // 活动反馈码 (seed 003): the codes campaigns give their customers; a caller who keys one in an
  // IVR `campaign` node is put through to that campaign's reception number while it runs.
  reg.add(
      {.name = "cti_campaign_code",
       .label_zh = "活动反馈码",
       .label_en = "Campaign feedback code",
       .fields = {F("code", FieldType::string, "反馈码", "Code")
                      .required()
                      .unique()
                      .sort()
                      .len(8)
                      .pattern("[0-9]{3,8}"),
                  F("name", FieldType::string, "活动名称", "Campaign").required().search().len(60),
                  F("reception_number", FieldType::string, "受理号码", "Reception number")
                      .required()
                      .len(20)
                      .pattern("[0-9]{3,20}"),
                  F("valid_from", FieldType::date, "开始日期", "First day").filter(),
                  F("valid_to", FieldType::date, "结束日期", "Last day").filter(),
                  F("enabled", FieldType::boolean, "启用", "Enabled").filter().def(true)},
       .title_field = "name",
       .default_sort = "code",
       .menu = "cti"});

  // IVR菜单管理: versioned flows (the record's version is the flow's), checked on every save.
  reg.add({.name = "ivr_flow",
           .label_zh = "IVR流程",
           .label_en = "IVR flow",
           .fields = {code_field(),
                      F("name", FieldType::string, "名称", "Name").required().search().len(60),
                      access_numbers_field(),
                      F("definition", FieldType::json, "流程定义", "Definition").required(),
                      F("enabled", FieldType::boolean, "启用", "Enabled").filter().def(true)},
           .title_field = "name",
           .default_sort = "code",
           .menu = "cti",
           .before_save = [](meta::HookContext& h) {
             if (!h.record.contains("definition")) return;
             try {
               ivr::parse_flow(to_json(h.record["definition"]));
             } catch (Error& e) {  // the flow's own field paths, under the record's field
               for (auto& d : e.details)
                 d.field = d.field == "definition" ? d.field : "definition." + d.field;
               throw Error::validation(e.details);
             }
           }});
}

}  // namespace kefu::cti
