// Demo message types and templates: what a securities hotline sends first — verification codes
// (capped, refused over the cap), account alerts, service notices about tickets, and marketing
// (held to 08:00-21:00, held back over its cap).
#include <spdlog/spdlog.h>

#include "app/application.hpp"

namespace kefu {

void Application::load_demo_notify(store::Connection& c) {
  Principal sys = system_principal();
  audit::Actor actor{0, "demo", "", ""};
  auto type = [&](json::object t) {
    repo_->create(c, registry_.get("notify_type"), sys, actor, t);
  };
  type({{"code", "verify"},
        {"name", "验证码"},
        {"priority", 1},
        {"per_minute", 1},
        {"per_hour", 5},
        {"per_day", 10},
        {"over_cap", "reject"},
        {"expire_minutes", 10}});
  type({{"code", "alert"}, {"name", "账户提醒"}, {"priority", 2}, {"expire_minutes", 1440}});
  type({{"code", "service"},
        {"name", "服务通知"},
        {"priority", 4},
        {"per_day", 20},
        {"over_cap", "delay"}});
  type({{"code", "marketing"},
        {"name", "营销推广"},
        {"priority", 8},
        {"per_day", 2},
        {"over_cap", "delay"},
        {"window_start", "08:00"},
        {"window_end", "21:00"},
        {"bulk", true}});
  auto keyword = [&](json::object k) {
    repo_->create(c, registry_.get("notify_keyword"), sys, actor, k);
  };
  keyword({{"keyword", "TD"},
           {"name", "退订"},
           {"action", "stop"},
           {"reply", "您已退订营销短信，回复KT可恢复。【客服中心】"}});
  keyword({{"keyword", "KT"},
           {"name", "恢复"},
           {"action", "start"},
           {"reply", "您已恢复接收营销短信，回复TD退订。【客服中心】"}});
  keyword({{"keyword", "BZ"},
           {"name", "帮助"},
           {"action", "help"},
           {"reply", "回复TD退订营销短信，KT恢复；咨询请致电95588。【客服中心】"}});
  auto tmpl = [&](json::object t) {
    repo_->create(c, registry_.get("notify_template"), sys, actor, t);
  };
  tmpl({{"code", "ticket_done_sms"},
        {"name", "受理单办结短信"},
        {"channel", "sms"},
        {"type", "service"},
        {"variables", "name, ticket_no, title"},
        {"body",
         "【客服中心】尊敬的{{name}}，您的受理单{{ticket_no}}（{{title}}"
         "）已办结。如有疑问请致电95500。"}});
  tmpl({{"code", "ticket_done_email"},
        {"name", "受理单办结邮件"},
        {"channel", "email"},
        {"type", "service"},
        {"variables", "name, ticket_no, title"},
        {"subject", "您的受理单{{ticket_no}}已办结"},
        {"body", "尊敬的{{name}}：\n\n您的受理单{{ticket_no}}（{{title}}）已办结。\n\n客服中心"},
        {"html",
         "<p>尊敬的{{name}}：</p><p>您的受理单<b>{{ticket_no}}</b>（{{title}}）已办结。</p>"
         "<p>客服中心</p>"}});
  tmpl({{"code", "verify_sms"},
        {"name", "验证码短信"},
        {"channel", "sms"},
        {"type", "verify"},
        {"variables", "code"},
        {"body", "【客服中心】您的验证码为{{code}}，10分钟内有效。请勿告诉他人。"}});
  tmpl({{"code", "morning_email"},
        {"name", "晨会纪要邮件"},
        {"channel", "email"},
        {"type", "marketing"},
        {"variables", "name, date, summary"},
        {"subject", "{{date}} 晨会纪要"},
        {"body", "{{name}}，您好：\n\n{{summary}}\n\n退订请回复 TD"},
        {"html", "<p>{{name}}，您好：</p><p>{{summary}}</p>"}});
  spdlog::info("demo messages: 4 types, 4 templates");
}

}  // namespace kefu
