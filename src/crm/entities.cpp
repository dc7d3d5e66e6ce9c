#include "crm/entities.hpp"

#include "base/error.hpp"
#include "crm/phone.hpp"
#include "meta/field_builder.hpp"
#include "meta/registry.hpp"

namespace kefu::crm {
using meta::F;
using meta::FieldType;

namespace {
// Numbers are stored in the one form the switch's lookup uses.
void normalize_number_field(meta::HookContext& h) {
  auto* v = h.record.if_contains("number");
  if (!v || !v->is_string() || v->as_string().empty()) return;
  Phone p;
  std::string code = normalize_phone(std::string(v->as_string()), p);
  if (!code.empty()) throw Error::validation({{"number", code, "not a valid phone number"}});
  h.record["number"] = p.number + (p.extension.empty() ? "" : "-" + p.extension);
}
}  // namespace

void register_entities(meta::Registry& reg) {
  // 红黑名单 (M9): red — fast track to the highest service level; black — blocked, or sent to a
  // special-handling queue. By number or by customer, for a period.
  reg.add(
      {.name = "crm_call_list",
       .label_zh = "红黑名单",
       .label_en = "Red and black list",
       .permission = "crm_call_list",
       .fields = {F("list", FieldType::enumeration, "名单", "List")
                      .required()
                      .options({{"red", "红名单(优先)", "Red (fast track)"},
                                {"black", "黑名单", "Black"}}),
                  F("number", FieldType::string, "电话号码", "Number").search().len(30),
                  F("customer_id", FieldType::integer, "客户编号", "Customer id").filter(),
                  F("action", FieldType::enumeration, "黑名单处理", "Black-list action")
                      .options({{"block", "拒接", "Block"},
                                {"queue", "转特殊处理队列", "Special queue"}})
                      .def("block"),
                  F("target", FieldType::string, "特殊处理队列代码", "Special queue code").len(32),
                  F("valid_from", FieldType::datetime, "生效时间", "Valid from").sort(),
                  F("valid_to", FieldType::datetime, "失效时间", "Valid to").sort(),
                  F("reason", FieldType::string, "原因", "Reason").len(200),
                  F("enabled", FieldType::boolean, "启用", "Enabled").filter().def(true)},
       .title_field = "number",
       .menu = "crm",
       .before_save = [](meta::HookContext& h) {
         normalize_number_field(h);
         auto val = [&](const char* k) -> json::value {
           if (auto* v = h.record.if_contains(k)) return *v;
           if (h.before && h.before->contains(k)) return h.before->at(k);
           return nullptr;
         };
         auto num = val("number"), cust = val("customer_id");
         if ((num.is_null() || (num.is_string() && num.as_string().empty())) && cust.is_null())
           throw Error::validation({{"number", "required", "give a number or a customer"}});
         auto act = val("action"), target = val("target");
         if (val("list").as_string() == "black" && act.is_string() && act.as_string() == "queue" &&
             (!target.is_string() || target.as_string().empty()))
           throw Error::validation({{"target", "required", "name the special-handling queue"}});
         auto from = val("valid_from"), to = val("valid_to");
         if (from.is_int64() && to.is_int64() && to.as_int64() <= from.as_int64())
           throw Error::validation({{"valid_to", "out_of_range", "the end comes after the start"}});
       }});

  // 常用电话 (M9): numbers agents dial or transfer to often (branches, the trading desk, partners).
  reg.add(
      {.name = "crm_frequent_number",
       .label_zh = "常用电话",
       .label_en = "Frequent number",
       .permission = "crm_frequent_number",
       .fields = {F("name", FieldType::string, "名称", "Name").required().search().sort().len(60),
                  F("number", FieldType::string, "号码", "Number").required().search().len(30),
                  F("category", FieldType::string, "分类", "Category").filter().len(40),
                  F("org_id", FieldType::ref, "所属机构", "Organisation").ref("org_unit"),
                  F("note", FieldType::string, "备注", "Note").len(200)},
       .title_field = "name",
       .menu = "crm",
       .before_save = normalize_number_field});

  // 客户扩展资料: fields the administrator adds to every customer's file.
  reg.add(
      {.name = "crm_ext_field",
       .label_zh = "客户扩展字段",
       .label_en = "Customer extended field",
       .permission = "crm_ext_field",
       .fields = {F("key", FieldType::string, "字段名", "Key")
                      .required()
                      .unique()
                      .len(40)
                      .pattern("[a-z][a-z0-9_]*"),
                  F("label_zh", FieldType::string, "中文名称", "Chinese label").required().len(60),
                  F("label_en", FieldType::string, "英文名称", "English label").len(60),
                  F("required", FieldType::boolean, "必填", "Required").def(false)},
       .title_field = "label_zh",
       .menu = "crm"});

  // Named comprehensive queries (综合查询), each user's own.
  reg.add(
      {.name = "crm_saved_query",
       .label_zh = "客户查询方案",
       .label_en = "Saved customer query",
       .permission = "crm_saved_query",
       .fields = {F("name", FieldType::string, "名称", "Name").required().search().sort().len(60),
                  F("definition", FieldType::json, "查询条件", "Conditions").required()},
       .owner_column = "created_by",
       .title_field = "name",
       .menu = "crm"});
}

}  // namespace kefu::crm
