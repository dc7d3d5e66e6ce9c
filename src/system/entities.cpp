#include "system/entities.hpp"

#include "meta/field_builder.hpp"
#include "store/database.hpp"

namespace kefu::system {
using meta::F;
using meta::FieldType;

void register_entities(meta::Registry& reg) {
  reg.add({.name = "sys_param",
           .label_zh = "系统参数",
           .label_en = "System parameter",
           .fields = {F("key", FieldType::string, "参数名", "Key").required().unique().search().sort().len(80)
                          .pattern("[a-z][a-z0-9_.]*"),
                      F("value", FieldType::text, "参数值", "Value").len(2000),
                      F("value_type", FieldType::enumeration, "类型", "Type").required()
                          .options({{"string", "文本", "Text"}, {"integer", "整数", "Integer"}, {"boolean", "是/否", "Yes/no"},
                                    {"json", "JSON", "JSON"}}).def("string"),
                      F("param_group", FieldType::string, "分组", "Group").filter().sort().len(40),
                      F("description", FieldType::text, "说明", "Description").len(500)},
           .title_field = "key",
           .default_sort = "key",
           .menu = "system",
           .archivable = true,
           .before_save = [](meta::HookContext& h) {
             auto type = h.record.contains("value_type") ? std::string(h.record["value_type"].as_string())
                         : h.before ? std::string(h.before->at("value_type").as_string()) : "string";
             auto* v = h.record.if_contains("value");
             if (!v || !v->is_string()) return;
             std::string s(v->as_string());
             bool ok = true;
             if (type == "integer") ok = !s.empty() && s.find_first_not_of("-0123456789") == std::string::npos;
             else if (type == "boolean") ok = s == "true" || s == "false";
             else if (type == "json") try { parse_value(s); } catch (...) { ok = false; }
             if (!ok) throw Error::validation({{"value", "wrong_type", "value is not a valid " + type}});
           }});

  reg.add({.name = "dict_item",
           .label_zh = "数据字典",
           .label_en = "Dictionary item",
           .fields = {F("dict_type", FieldType::string, "字典类型", "Dictionary").required().filter().sort().len(40)
                          .pattern("[a-z][a-z0-9_]*"),
                      F("code", FieldType::string, "代码", "Code").required().filter().sort().len(40),
                      F("label_zh", FieldType::string, "中文名称", "Chinese label").required().search().len(60),
                      F("label_en", FieldType::string, "英文名称", "English label").search().len(60),
                      F("sort_order", FieldType::integer, "排序", "Order").sort().def(0),
                      F("enabled", FieldType::boolean, "启用", "Enabled").filter().def(true)},
           .title_field = "label_zh",
           .default_sort = "dict_type",
           .menu = "system",
           .before_save = [](meta::HookContext& h) {
             // (dict_type, code) is unique among live items.
             auto get = [&](const char* k) {
               if (auto v = h.record.if_contains(k); v && v->is_string()) return std::string(v->as_string());
               return h.before ? std::string(h.before->at(k).as_string()) : std::string();
             };
             auto r = h.conn.exec("SELECT id FROM dict_item WHERE dict_type = ? AND code = ? AND archived = 0 AND id <> ?",
                                  {get("dict_type"), get("code"), h.id});
             if (!r.empty()) throw Error::conflict("duplicate", "this dictionary already has that code", "code");
           }});

  reg.add({.name = "contact_type",
           .label_zh = "联系种类",
           .label_en = "Contact type",
           .fields = {F("code", FieldType::string, "代码", "Code").required().unique().sort().len(32)
                          .pattern("[a-z][a-z0-9_]*"),
                      F("name", FieldType::string, "名称", "Name").required().search().sort().len(60),
                      F("channel", FieldType::enumeration, "渠道", "Channel").required()
                          .options({{"phone", "电话", "Phone"}, {"sms", "短信", "SMS"}, {"email", "邮件", "E-mail"},
                                    {"wechat", "微信", "WeChat"}, {"web", "网站", "Web"}, {"visit", "临柜", "Visit"},
                                    {"letter", "信函", "Letter"}, {"fax", "传真", "Fax"}}),
                      F("direction", FieldType::enumeration, "方向", "Direction").options({{"inbound", "呼入", "Inbound"}, {"outbound", "呼出", "Outbound"}, {"both", "双向", "Both"}})
                          .def("both"),
                      F("enabled", FieldType::boolean, "启用", "Enabled").filter().def(true),
                      F("description", FieldType::text, "说明", "Description").len(500)},
           .title_field = "name",
           .menu = "system"});
}

}  // namespace kefu::system
