// Demo data for `make run`: an organisation tree (headquarters and three branches),
// 30 staff in several roles, dictionaries, parameters and contact types.
#include <spdlog/spdlog.h>

#include "app/application.hpp"
#include "base/crypto.hpp"
#include "base/text.hpp"
#include "crm/service.hpp"
#include "meta/repository.hpp"

namespace kefu {

void Application::load_demo_data() {
  const Principal sys = system_principal();
  const audit::Actor actor{0, "system", "", "demo-data"};
  bool loaded = false;
  db_->read([&](store::Connection& c) {
    loaded = !c.exec("SELECT 1 FROM sys_param WHERE key = 'demo.loaded'", {}).empty();
  });
  if (loaded) return load_demo_customers();
  const std::string hash = crypto::hash_password("Kefu@2026");
  auto create = [&](store::Connection& c, const char* entity, json::object o) {
    return repo_->create(c, registry_.get(entity), sys, actor, std::move(o)).at("id").as_int64();
  };
  db_->write([&](store::Connection& c) {
    struct D {
      const char *type, *code, *zh, *en;
    };
    const D dicts[] = {
        {"staff_level", "L1", "初级座席", "Junior agent"},
        {"staff_level", "L2", "中级座席", "Agent"},
        {"staff_level", "L3", "高级座席", "Senior agent"},
        {"staff_level", "L4", "资深座席", "Expert agent"},
        {"staff_level", "L5", "VIP专席", "VIP desk"},
        {"not_ready_reason", "rest", "小休", "Rest"},
        {"not_ready_reason", "meal", "用餐", "Meal"},
        {"not_ready_reason", "meeting", "会议", "Meeting"},
        {"not_ready_reason", "training", "培训", "Training"},
        {"not_ready_reason", "no_answer", "未应答", "No answer"},
        {"customer_level", "normal", "普通客户", "Standard"},
        {"customer_level", "silver", "银卡客户", "Silver"},
        {"customer_level", "gold", "金卡客户", "Gold"},
        {"customer_level", "vip", "VIP客户", "VIP"},
        {"call_type", "consult", "业务咨询", "Enquiry"},
        {"call_type", "trade", "电话委托", "Telephone order"},
        {"call_type", "complaint", "投诉", "Complaint"},
        {"call_type", "suggestion", "建议", "Suggestion"},
        // 节假日 (yyyymmdd): IVR conditions read them ("not holiday").
        {"holiday", "20270101", "元旦", "New Year's Day"},
        {"holiday", "20270206", "春节", "Spring Festival"},
        {"holiday", "20270207", "春节", "Spring Festival"},
        {"holiday", "20270208", "春节", "Spring Festival"},
        // 调休 (yyyymmdd): weekend days worked instead; ticket deadlines count them.
        {"workday", "20270131", "春节调休", "Spring Festival make-up workday"},
    };
    int order = 0;
    for (auto& d : dicts)
      create(c, "dict_item",
             {{"dict_type", d.type},
              {"code", d.code},
              {"label_zh", d.zh},
              {"label_en", d.en},
              {"sort_order", ++order},
              {"enabled", true}});
    struct P {
      const char *key, *value, *type, *group, *desc;
    };
    const P params[] = {
        {"hotline.number", "95555", "string", "telephony", "客服热线号码 / Hotline number"},
        {"acd.ring_timeout_s", "20", "integer", "telephony", "振铃超时秒数 / Ring timeout"},
        {"acd.wrapup_s", "30", "integer", "telephony", "事后处理时长 / Wrap-up seconds"},
        {"sla.answer_within_s", "20", "integer", "reports",
         "服务水平应答秒数 / Service level threshold"},
        {"recording.enabled", "true", "boolean", "telephony", "全程录音 / Full-call recording"},
        {"demo.loaded", "true", "boolean", "system", "演示数据已加载 / Demo data loaded"},
    };
    for (auto& p : params)
      create(c, "sys_param",
             {{"key", p.key},
              {"value", p.value},
              {"value_type", p.type},
              {"param_group", p.group},
              {"description", p.desc}});
    struct CT {
      const char *code, *name, *channel, *dir;
    };
    const CT cts[] = {
        {"call_in", "客户来电", "phone", "inbound"}, {"call_out", "座席外呼", "phone", "outbound"},
        {"sms", "短信", "sms", "outbound"},          {"email", "电子邮件", "email", "both"},
        {"wechat", "微信", "wechat", "both"},        {"counter", "临柜", "visit", "inbound"}};
    for (auto& t : cts)
      create(c, "contact_type",
             {{"code", t.code},
              {"name", t.name},
              {"channel", t.channel},
              {"direction", t.dir},
              {"enabled", true}});

    auto hq_row =
        c.exec("SELECT id FROM org_unit WHERE kind = 'headquarters' ORDER BY id LIMIT 1", {});
    int64_t hq =
        hq_row.empty()
            ? create(c, "org_unit", {{"name", "总部"}, {"code", "HQ"}, {"kind", "headquarters"}})
            : store::as_int(hq_row.rows[0][0]);
    int64_t center = create(c, "org_unit",
                            {{"name", "客户服务中心"},
                             {"code", "HQ-CC"},
                             {"kind", "department"},
                             {"parent_id", hq},
                             {"region", "上海"}});
    int64_t center_team = create(
        c, "org_unit",
        {{"name", "热线一组"}, {"code", "HQ-CC-T1"}, {"kind", "team"}, {"parent_id", center}});
    struct B {
      const char *name, *code, *city;
    };
    const B branches[] = {
        {"上海分公司", "SH", "上海"}, {"北京分公司", "BJ", "北京"}, {"深圳分公司", "SZ", "深圳"}};
    std::vector<std::pair<int64_t, int64_t>> branch_units;  // (department, team)
    for (auto& b : branches) {
      int64_t br = create(c, "org_unit",
                          {{"name", b.name},
                           {"code", b.code},
                           {"kind", "branch"},
                           {"parent_id", hq},
                           {"region", b.city}});
      int64_t dept = create(c, "org_unit",
                            {{"name", std::string(b.city) + "营业部"},
                             {"code", std::string(b.code) + "-YYB"},
                             {"kind", "department"},
                             {"parent_id", br},
                             {"region", b.city}});
      int64_t team = create(c, "org_unit",
                            {{"name", std::string(b.city) + "服务组"},
                             {"code", std::string(b.code) + "-T1"},
                             {"kind", "team"},
                             {"parent_id", dept},
                             {"region", b.city}});
      branch_units.emplace_back(br, team);
    }
    int64_t pos_agent = create(c, "position", {{"code", "agent"}, {"name", "客服代表"}});
    int64_t pos_lead = create(c, "position", {{"code", "team_leader"}, {"name", "班组长"}});
    int64_t pos_mgr = create(c, "position", {{"code", "duty_manager"}, {"name", "值班经理"}});
    int64_t pos_qa = create(c, "position", {{"code", "qa"}, {"name", "质检员"}});
    int64_t pos_trainer = create(c, "position", {{"code", "trainer"}, {"name", "讲师"}});
    create(c, "staff_ext_field",
           {{"key", "employee_no"},
            {"label_zh", "工号"},
            {"label_en", "Employee no."},
            {"value_type", "string"},
            {"required", false}});
    create(c, "staff_ext_field",
           {{"key", "certificate"},
            {"label_zh", "从业资格"},
            {"label_en", "Licence"},
            {"value_type", "enum"},
            {"options", "none,securities,fund,futures"},
            {"required", false}});

    auto role = [&](const char* code, const char* name, const char* scope, json::array perms) {
      auto r = c.exec("SELECT id FROM role WHERE code = ?", {code});
      if (!r.empty()) return store::as_int(r.rows[0][0]);
      return create(
          c, "role",
          {{"code", code}, {"name", name}, {"data_scope", scope}, {"permissions", perms}});
    };
    int64_t r_admin = role("admin", "系统管理员", "all", {"*"});
    int64_t r_hq =
        role("hq_manager", "总部经理", "all",
             {"menu:org",        "menu:review",       "menu:audit",      "org_unit:read",
              "staff:read",      "staff:review2",     "staff:export",    "role:read",
              "position:read",   "staff_group:read",  "audit:read",      "grant:review1",
              "dict_item:read",  "contact_type:read", "sys_param:read",  "menu:cti",
              "cti:agent",       "cti:supervise",     "cti:simulate",    "cti:channel",
              "cti_queue:read",  "cti_agent:read",    "menu:crm",        "crm:read",
              "crm:serve",       "crm:write",         "crm:unmask",      "crm:import",
              "crm:grade",       "crm:sync",          "crm_call_list:*", "crm_frequent_number:*",
              "crm_ext_field:*", "crm_saved_query:*",
              "menu:ticket",     "ticket:create",     "ticket:read",     "ticket:manage",
              "workflow:design", "ticket_type:*",
              "menu:notify",     "notify:send",       "notify:read",     "notify:manage",
              "notify_type:*",   "notify_template:*", "notify_keyword:*"});
    int64_t r_branch = role(
        "branch_manager", "分公司经理", "subtree",
        {"menu:org",        "menu:review",       "org_unit:read",     "org_unit:create",
         "org_unit:update", "staff:read",        "staff:create",      "staff:update",
         "staff:review1",   "staff:export",      "staff:import",      "staff:reset_password",
         "position:read",   "staff_group:*",     "role:read",         "grant:submit",
         "dict_item:read",  "contact_type:read", "menu:cti",          "cti:agent",
         "cti:agent",       "cti:supervise",     "cti_queue:read",    "cti_agent:read",
         "menu:crm",        "crm:read",          "crm:serve",         "crm:write",
         "crm:import",      "crm:grade",         "crm_saved_query:*", "crm_frequent_number:read",
         "menu:ticket",     "ticket:create",     "ticket:read",       "notify:send"});
    int64_t r_lead =
        role("team_leader", "班组长", "org",
             {"menu:org", "org_unit:read", "staff:read", "position:read", "dict_item:read",
              "contact_type:read", "menu:cti", "cti:agent", "cti:supervise", "cti:simulate",
              "cti:channel", "cti_queue:read", "cti_agent:read", "menu:crm", "crm:serve",
              "crm_call_list:read", "crm_frequent_number:read", "menu:ticket", "ticket:create",
              "ticket:read"});
    // 投诉处理: a role of its own beside one's post, so that granting team leaders stays within
    // what their granters hold; lina (a team leader) handles complaints.
    int64_t r_complaints = role("complaints", "投诉处理", "org", {"crm:emergency"});
    int64_t r_compliance = role("compliance", "合规专员", "all",
                                {"menu:crm", "menu:audit", "audit:read", "crm:access_log"});
    int64_t r_agent = role("agent", "客服代表", "self",
                           {"staff:read", "dict_item:read", "contact_type:read", "org_unit:read",
                            "cti:agent", "crm:serve", "crm_frequent_number:read", "menu:ticket",
                            "ticket:create", "notify:send"});

    struct S {
      std::string user, name;
      int unit;
      int64_t pos;
      int64_t role;
      const char* level;
    };
    // unit: -1 HQ, -2 HQ service centre team, 0..2 branch team index
    std::vector<S> staff = {
        {"zhangwei", "张伟", -1, pos_mgr, r_hq, "L5"},
        {"wangfang", "王芳", -1, pos_mgr, r_hq, "L5"},
        {"lina", "李娜", -2, pos_lead, r_lead, "L4"},
        {"liuyang", "刘洋", -2, pos_agent, r_agent, "L3"},
        {"chenjing", "陈静", -2, pos_agent, r_agent, "L2"},
        {"yangli", "杨丽", -2, pos_agent, r_agent, "L1"},
        {"zhaolei", "赵磊", -2, pos_qa, r_agent, "L3"},
        {"huangmin", "黄敏", -2, pos_trainer, r_agent, "L4"},
    };
    const char* given[] = {"军", "强", "秀英", "杰", "磊", "婷", "鹏"};
    const char* family[] = {"周", "吴", "徐", "孙", "马", "朱", "胡"};
    const char* pinyin_f[] = {"zhou", "wu", "xu", "sun", "ma", "zhu", "hu"};
    const char* pinyin_g[] = {"jun", "qiang", "xiuying", "jie", "lei2", "ting", "peng"};
    for (int b = 0; b < 3; ++b) {
      for (int k = 0; k < 7; ++k) {
        int i = (b * 7 + k) % 7, j = (b * 3 + k) % 7;
        bool manager = k == 0, lead = k == 1;
        staff.push_back({std::string(pinyin_f[i]) + pinyin_g[j] + std::to_string(b + 1),
                         std::string(family[i]) + given[j], b,
                         manager ? pos_mgr
                         : lead  ? pos_lead
                                 : pos_agent,
                         manager ? r_branch
                         : lead  ? r_lead
                                 : r_agent,
                         manager ? "L5"
                         : lead  ? "L4"
                                 : "L2"});
      }
    }
    staff.push_back({"sunhui", "孙慧", -1, pos_mgr, r_compliance, "L5"});  // 合规: the access log
    int n = 0;
    for (auto& s : staff) {
      int64_t org = s.unit == -1   ? hq
                    : s.unit == -2 ? center_team
                                   : (s.role == r_branch ? branch_units[s.unit].first
                                                         : branch_units[s.unit].second);
      int64_t id =
          create(c, "staff",
                 {{"username", s.user},
                  {"name", s.name},
                  {"org_id", org},
                  {"position_id", s.pos},
                  {"level", s.level},
                  {"status", "active"},
                  {"points", 100 * (++n % 7)},
                  {"extension", std::to_string(8000 + n)},
                  {"ext", json::object{{"employee_no", "E" + std::to_string(10000 + n)}}}});
      c.exec("UPDATE staff SET password_hash = ?, password_changed_at = 0 WHERE id = ?",
             {hash, id});
      c.exec(
          "INSERT INTO staff_role (staff_id, role_id, granted_at, granted_by) VALUES (?, ?, 0, 0)",
          {id, s.role});
      if (s.user == "lina")
        c.exec(
            "INSERT INTO staff_role (staff_id, role_id, granted_at, granted_by) VALUES (?, ?, 0, 0)",
            {id, r_complaints});
      // Agents and team leaders take calls: senior levels also serve the VIP line (M5 员工分级).
      if (s.role == r_agent || s.role == r_lead) {
        std::string skills = std::string(s.level) >= "L3" ? "vip" : "";
        if (n % 2) skills += skills.empty() ? "fund" : ",fund";
        create(c, "cti_agent",
               {{"staff_id", id},
                {"skills", skills},
                {"chat_capacity", 3},
                {"email_capacity", 5},
                {"sip_secret", "Kefu@" + std::to_string(8000 + n)},
                {"enabled", true}});
      }
    }
    // 技能队列: the hotline's access numbers lead to three queues.
    create(c, "cti_queue",
           {{"code", "general"},
            {"name", "综合业务"},
            {"strategy", "longest_idle"},
            {"access_numbers", "95555,95500"},
            {"max_wait_s", 180},
            {"fallback", "voicemail"},
            {"sl_threshold_s", 20},
            {"sticky_wait_s", 10},
            {"callback_digit", "1"},
            {"announce_s", 30},
            {"enabled", true}});
    create(c, "cti_queue",
           {{"code", "vip"},
            {"name", "VIP专线"},
            {"strategy", "top_down"},
            {"skills", "vip"},
            {"access_numbers", "95501"},
            {"widen_after_s", 20},
            {"max_wait_s", 60},
            {"fallback", "queue"},
            {"fallback_target", "general"},
            {"sl_threshold_s", 10},
            {"enabled", true}});
    create(c, "cti_queue",
           {{"code", "fund"},
            {"name", "基金业务"},
            {"strategy", "fewest_calls"},
            {"skills", "fund"},
            {"access_numbers", "95502"},
            {"fallback", "queue"},
            {"fallback_target", "general"},
            {"sl_threshold_s", 20},
            {"enabled", true}});
    // 多渠道: the web site's chat and the service mailbox, served by every agent (3 chats or 5
    // e-mails at once, never during a call: the profiles do not blend).
    create(c, "cti_queue",
           {{"code", "webchat"},
            {"name", "在线客服"},
            {"channel", "chat"},
            {"strategy", "longest_idle"},
            {"max_wait_s", 300},
            {"sl_threshold_s", 30},
            {"enabled", true}});
    create(c, "cti_queue",
           {{"code", "mail"},
            {"name", "客服邮箱"},
            {"channel", "email"},
            {"strategy", "round_robin"},
            {"sl_threshold_s", 600},
            {"enabled", true}});
    // 接入站点: the hotline for headquarters; the first branch dials out with its local number.
    create(c, "cti_site",
           {{"code", "hq"},
            {"name", "总部热线"},
            {"org_id", hq},
            {"caller_id", "95555"},
            {"access_numbers", "95555,95500,95588"},
            {"enabled", true}});
    create(c, "cti_site",
           {{"code", "branch1"},
            {"name", "分公司站点"},
            {"org_id", branch_units[0].first},
            {"caller_id", "02168880000"},
            {"enabled", true}});
    // 活动反馈码 2026: the fund-plan campaign's customers reach the general queue through it.
    create(c, "cti_campaign_code",
           {{"code", "2026"},
            {"name", "基金定投推广活动"},
            {"reception_number", "95555"},
            {"enabled", true}});
    // IVR主菜单 on 95588: self-service balance after the identity check (demo accounts 880001 /
    // 123456 and 880002 / 654321), the fund line in business hours, a campaign's feedback code,
    // an agent, a message; the survey after the agent hangs up.
    create(c, "ivr_flow",
           {{"code", "main"},
            {"name", "客服热线主菜单"},
            {"access_numbers", "95588"},
            {"enabled", true},
            {"definition", parse_value(R"({
      "start": "vip", "survey": "rate",
      "nodes": {
        "vip": {"type": "branch", "cases": [{"if": "tier >= 3", "next": "vipq"}], "else": "menu"},
        "menu": {"type": "menu", "prompt": "您好，欢迎致电客服热线", "retries": 2, "timeout_s": 6,
                 "invalid_prompt": "输入有误，请重新选择",
                 "options": [{"digit": "1", "prompt": "查询资金余额请按1", "next": "verify"},
                             {"digit": "2", "prompt": "基金业务请按2", "next": "fund",
                              "show_if": "hours 09:00-17:00 and weekday 1-5 and not holiday"},
                             {"digit": "8", "prompt": "活动反馈请按8", "next": "campaign"},
                             {"digit": "9", "prompt": "留言请按9", "next": "vm"},
                             {"digit": "0", "prompt": "人工服务请按0", "next": "agent"}],
                 "on_fail": "agent"},
        "verify": {"type": "verify", "prompt": "请输入资金账号，以井号键结束", "pin_prompt": "请输入交易密码",
                   "max_digits": 12, "next": "balance", "on_fail": "agent"},
        "balance": {"type": "service", "adapter": "balance", "prompt": "您的可用资金为{available}元",
                    "next": "menu", "on_fail": "agent"},
        "check": {"type": "verify", "prompt": "请输入资金账号，以井号键结束", "pin_prompt": "请输入交易密码",
                  "max_digits": 12, "retries": 1, "next": "back", "on_fail": "back"},
        "back": {"type": "return"},
        "vipq": {"type": "queue", "queue": "vip"},
        "fund": {"type": "queue", "queue": "fund"},
        "agent": {"type": "queue", "queue": "general"},
        "vm": {"type": "voicemail", "prompt": "请在提示音后留言，按任意键结束"},
        "campaign": {"type": "campaign", "prompt": "请输入活动反馈码，以井号键结束",
                     "invalid_prompt": "反馈码无效", "retries": 1, "on_fail": "menu"},
        "rate": {"type": "survey", "prompt": "请对本次服务评价：满意请按1，一般请按3，不满意请按5", "next": "bye"},
        "bye": {"type": "hangup", "prompt": "感谢您的来电，再见"}}})")}});
    load_demo_tickets(c);
    load_demo_notify(c);
    (void)r_admin;
    spdlog::info("demo data loaded: {} staff (password Kefu@2026), 3 branches", staff.size());
  });
  load_demo_customers();
}

// 客户: 60 customers of the three business departments, imported the way the trading counter's
// file would be, then graded by a contribution model. Phones 136100000NN; 13610000001 is on the
// red list, 13610009999 (no customer) on the black list.
void Application::load_demo_customers() {
  const Principal sys = system_principal();
  const audit::Actor actor{0, "system", "", "demo-data"};
  bool loaded = false;
  db_->read([&](store::Connection& c) {
    loaded =
        !c.exec("SELECT 1 FROM crm_import_batch WHERE batch_key = 'demo-customers'", {}).empty();
  });
  if (loaded) return;
  const char* family[] = {"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"};
  const char* given[] = {"建国", "秀兰", "志强", "丽华", "海涛", "静怡"};
  const char* depts[] = {"SH-YYB", "BJ-YYB", "SZ-YYB"};
  const char* risk[] = {"C1", "C2", "C3", "C4", "C5"};
  auto citizen_id = [](int n) {  // a valid 18-character ID: area, birth date, serial, check digit
    static const int w[] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    std::string id =
        fmt::format("310101{:04d}{:02d}{:02d}{:03d}", 1950 + n % 50, 1 + n % 12, 1 + n % 28, n);
    int sum = 0;
    for (int i = 0; i < 17; ++i) sum += (id[size_t(i)] - '0') * w[i];
    return id + "10X98765432"[sum % 11];
  };
  json::array rows;
  for (int n = 1; n <= 60; ++n) {
    int64_t assets = int64_t(n * n) * 250'000'00 / 36;  // 0.07 to 250 million fen
    json::object r{{"external_key", fmt::format("C{:06d}", n)},
                   {"name", std::string(family[n % 10]) + given[n % 6]},
                   {"id_type", "id_card"},
                   {"id_no", citizen_id(n)},
                   {"fund_account", fmt::format("8800{:06d}", n)},
                   {"sh_account", fmt::format("A{:09d}", 100000000 + n)},
                   {"phones", json::array{fmt::format("136100000{:02d}", n)}},
                   {"email", fmt::format("customer{}@example.com", n)},
                   {"address", "上海市浦东新区世纪大道" + std::to_string(n) + "号"},
                   {"risk_level", risk[n % 5]},
                   {"risk_expires", n % 7 ? "2027-06-30" : "2026-03-31"},
                   {"org_code", depts[n % 3]},
                   {"assets_fen", assets},
                   {"turnover_fen", assets * (n % 5 + 1)},
                   {"commission_fen", assets * (n % 5 + 1) / 4000},
                   {"products", n % 6},
                   {"opened_on", fmt::format("{}-{:02d}-15", 2005 + n % 20, 1 + n % 12)},
                   {"tags", n % 4 ? json::array{"股票"} : json::array{"股票", "基金定投"}}};
    if (n % 10 == 0) r["status"] = "dormant";
    if (n % 3 == 0)
      r["accounts"] = fmt::format("fund:F{:08d}@华夏基金;ta:TA{:08d}", 10000000 + n, 20000000 + n);
    rows.push_back(std::move(r));
  }
  crm_->import_customers(sys, actor, "demo-customers", rows, false, "demo-customers");
  crm_->apply_grading(sys, actor, parse_value(R"({"indicators": [
      {"code": "assets_fen", "weight": 60, "full_mark": 200000000},
      {"code": "commission_fen", "weight": 30, "full_mark": 3000000},
      {"code": "tenure_days", "weight": 10, "full_mark": 3650}],
    "thresholds": [20, 45, 70, 90]})"),
                      "演示数据初始分级");
  // 客户交易分析: half a year of the counter's trades and fund movements for every second customer.
  const char* products[][3] = {{"600519", "贵州茅台", "stock"},
                               {"601318", "中国平安", "stock"},
                               {"000001", "平安银行", "stock"},
                               {"510300", "沪深300ETF", "fund"},
                               {"019547", "国债2406", "bond"}};
  std::string today = iso_utc(clock_.now_ms() + 8 * 3'600'000);
  int year = std::stoi(today.substr(0, 4)), month = std::stoi(today.substr(5, 2));
  json::array trades;
  for (int n = 2; n <= 60; n += 2)
    for (int m = 0; m < 6; ++m) {
      int y = year, mo = month - m;
      if (mo < 1) mo += 12, --y;
      auto& p = products[(n + m) % 5];
      int64_t amount = int64_t(n) * 1'000'000 * (1 + m % 3);
      trades.push_back(
          json::object{{"external_key", fmt::format("T{:03d}{:02d}", n, m)},
                       {"customer_key", fmt::format("C{:06d}", n)},
                       {"trade_date", fmt::format("{:04d}-{:02d}-{:02d}", y, mo, 1 + n % 27)},
                       {"product_code", p[0]},
                       {"product_name", p[1]},
                       {"product_type", p[2]},
                       {"side", m % 2 ? "sell" : "buy"},
                       {"quantity", 100 * (1 + n % 9)},
                       {"amount_fen", amount},
                       {"commission_fen", amount / 4000}});
    }
  crm_->import_ledger(sys, actor, crm::CustomerService::kTrades, "demo-trades", trades,
                      "demo-trades");
  // 资金流水: a monthly transfer in from the bank, every other month some of it back out.
  json::array flows;
  for (int n = 2; n <= 60; n += 2)
    for (int m = 0; m < 6; ++m) {
      int y = year, mo = month - m;
      if (mo < 1) mo += 12, --y;
      flows.push_back(
          json::object{{"external_key", fmt::format("F{:03d}{:02d}", n, m)},
                       {"customer_key", fmt::format("C{:06d}", n)},
                       {"flow_date", fmt::format("{:04d}-{:02d}-{:02d}", y, mo, 1 + n % 27)},
                       {"kind", m % 2 ? "withdrawal" : "deposit"},
                       {"amount_fen", int64_t(n) * (m % 2 ? 300'000 : 500'000)},
                       {"bank", "工商银行"}});
    }
  crm_->import_ledger(sys, actor, crm::CustomerService::kFundFlows, "demo-fund-flows", flows,
                      "demo-fund-flows");
  db_->write([&](store::Connection& c) {
    auto create = [&](json::object o) {
      repo_->create(c, registry_.get("crm_call_list"), sys, actor, std::move(o));
    };
    create({{"list", "red"},
            {"number", "13610000001"},
            {"reason", "重点客户优先接入"},
            {"enabled", true}});
    create({{"list", "black"},
            {"number", "13610009999"},
            {"action", "block"},
            {"reason", "骚扰电话"},
            {"enabled", true}});
    repo_->create(c, registry_.get("crm_ext_field"), sys, actor,
                  {{"key", "hobby"},
                   {"label_zh", "兴趣爱好"},
                   {"label_en", "Interests"},
                   {"required", false}});
  });
}

}  // namespace kefu
