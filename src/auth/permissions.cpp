#include "auth/permissions.hpp"

#include "meta/registry.hpp"

namespace kefu::auth {

std::vector<PermissionInfo> permission_catalogue(const meta::Registry& registry) {
  std::vector<PermissionInfo> out = {
      {"*", "全部权限", "All permissions", "system"},
      {"menu:org", "菜单：组织人员", "Menu: organisation and staff", "menu"},
      {"menu:system", "菜单：系统管理", "Menu: system administration", "menu"},
      {"menu:audit", "菜单：操作流水", "Menu: operation log", "menu"},
      {"menu:review", "菜单：审核", "Menu: reviews", "menu"},
      {"audit:read", "查询操作流水", "Query the operation log", "audit"},
      {"grant:review1", "菜单权限审核", "Review role grants", "grant"},
      {"grant:submit", "申请授予角色", "Request role grants", "grant"},
      {"staff:reset_password", "重置密码", "Reset passwords", "staff"},
      {"staff:unmask", "查看敏感信息", "See unmasked personal data", "staff"},
      {"menu:cti", "菜单：呼叫中心", "Menu: contact centre", "menu"},
      {"cti:agent", "座席话务", "Take and make calls as an agent", "cti"},
      {"cti:supervise", "班长监控", "Monitor queues and agents, listen, whisper, barge in, take over", "cti"},
      {"cti:simulate", "模拟来电", "Place simulated calls (simulator switch)", "cti"},
      {"cti:channel", "渠道接入", "Open web chats and e-mails for customers (channel gateways)", "cti"},
      {"menu:crm", "菜单：客户管理", "Menu: customers", "menu"},
      {"crm:read", "查询客户(数据范围内)", "Query customers within the data scope", "crm"},
      {"crm:serve", "服务来电客户(弹屏、客户资料)", "Serve the customer on one's own call, chat or e-mail: screen pop and file, masked", "crm"},
      {"crm:emergency", "紧急查询客户资料(须说明理由)", "Open any customer's file in an emergency, with a stated reason (logged, reported daily)", "crm"},
      {"crm:access_log", "客户信息访问记录(合规)", "Read who opened customers' files outside their data scope, and the daily emergency report", "crm"},
      {"crm:write", "维护客户资料", "Maintain customer records", "crm"},
      {"crm:unmask", "查看客户敏感信息", "See customers' unmasked personal data (logged)", "crm"},
      {"crm:import", "导入客户数据", "Import customers from the trading system and the CRM", "crm"},
      {"crm:grade", "客户分级(试算、应用)", "Grade customers: trial calculation and runs", "crm"},
      {"crm:sync", "读取客户变更流", "Read the customer change feed (external CRM)", "crm"},
      {"crm:webhook", "管理客户变更推送", "Manage webhooks that push the change feed", "crm"},
      {"menu:ticket", "菜单：工单", "Menu: tickets", "menu"},
      {"ticket:create", "登记受理单", "Register tickets (from a call, chat, e-mail or by hand)", "ticket"},
      {"ticket:read", "查看工单(数据范围内)", "See the tickets of one's data scope (team and overdue views)", "ticket"},
      {"ticket:manage", "管理工单(挂起、转派、重新打开)", "Suspend, reassign and reopen any ticket one can see", "ticket"},
      {"ticket:external", "外部系统办理任务(OA)", "Complete the tasks handed to an outside system (the enterprise OA's token)", "ticket"},
      {"workflow:design", "设计流程", "Design workflows (definitions and versions)", "ticket"},
      {"menu:notify", "菜单：消息", "Menu: messages", "menu"},
      {"notify:send", "发送消息(短信、邮件)", "Send messages to customers (SMS, e-mail) through the outbox", "notify"},
      {"notify:read", "查看全部外发消息", "See every message sent, with its delivery", "notify"},
      {"notify:manage", "管理外发消息(撤销)", "Cancel queued messages", "notify"},
  };
  static const std::pair<const char*, const char*> actions[] = {
      {"read", "查看"}, {"create", "新增"}, {"update", "修改"}, {"archive", "归档"},
      {"export", "导出"}, {"import", "导入"}, {"review1", "初审"}, {"review2", "终审"}};
  for (auto& e : registry.all()) {
    for (auto& [a, zh] : actions) {
      std::string act = a;
      if ((act == "review1" && e->review_steps < 1) || (act == "review2" && e->review_steps < 2)) continue;
      out.push_back({e->perm(a), std::string(zh) + e->label_zh, act + " " + e->label_en, e->name});
    }
    out.push_back({e->permission + ":*", "全部" + e->label_zh + "操作", "all " + e->label_en + " operations", e->name});
  }
  return out;
}

bool known_permission(const meta::Registry& registry, const std::string& code) {
  for (auto& p : permission_catalogue(registry))
    if (p.code == code) return true;
  return false;
}

json::array catalogue_json(const meta::Registry& registry) {
  json::array out;
  for (auto& p : permission_catalogue(registry))
    out.push_back(json::object{{"code", p.code}, {"label_zh", p.label_zh}, {"label_en", p.label_en}, {"group", p.group}});
  return out;
}

}  // namespace kefu::auth
