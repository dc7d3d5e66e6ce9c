#include "auth/entities.hpp"

#include <regex>

#include "auth/permissions.hpp"
#include "meta/field_builder.hpp"
#include "store/database.hpp"
#include "store/sql.hpp"

namespace kefu::auth {
using meta::F;
using meta::FieldType;
using meta::HookContext;

namespace {

// The org tree keeps a materialised path ("/1/4/9/") so "this unit and everything
// under it" is one indexed LIKE; moving a unit rewrites its descendants' paths.
void org_before_save(HookContext& h) {
  auto kind = h.record.contains("kind") ? std::string(h.record["kind"].as_string())
                                        : std::string(h.before->at("kind").as_string());
  json::value parent = h.record.contains("parent_id") ? h.record["parent_id"]
                       : h.before                     ? h.before->at("parent_id")
                                                      : json::value(nullptr);
  if (kind == "headquarters" && !parent.is_null())
    throw Error::validation({{"parent_id", "invalid_parent", "the headquarters has no parent unit"}});
  if (kind != "headquarters" && parent.is_null())
    throw Error::validation({{"parent_id", "required", "choose the parent unit"}});
  if (!parent.is_null() && h.id) {
    auto r = h.conn.exec("SELECT path FROM org_unit WHERE id = ?", {parent.as_int64()});
    std::string mine = "/" + std::to_string(h.id) + "/";
    if (!r.empty() && store::as_text(r.rows[0][0]).find(mine) != std::string::npos)
      throw Error::validation({{"parent_id", "cycle", "a unit cannot be moved under itself or its descendants"}});
  }
  // Only the headquarters scope may create or move units at the top of someone's subtree.
  if (!parent.is_null() && h.who.scope != DataScope::all) {
    auto r = h.conn.exec("SELECT path FROM org_unit WHERE id = ?", {parent.as_int64()});
    if (r.empty() || store::as_text(r.rows[0][0]).rfind(h.who.org_path, 0) != 0)
      throw Error(403, "out_of_scope", "the parent unit is outside your data scope", "parent_id");
  }
}

void org_after_save(HookContext& h) {
  auto r = h.conn.exec("SELECT o.path, p.path FROM org_unit o LEFT JOIN org_unit p ON p.id = o.parent_id WHERE o.id = ?",
                       {h.id});
  std::string old_path = store::as_text(r.rows[0][0]);
  std::string new_path = (store::is_null(r.rows[0][1]) ? "/" : store::as_text(r.rows[0][1])) + std::to_string(h.id) + "/";
  if (old_path == new_path) return;
  h.conn.exec("UPDATE org_unit SET path = ? WHERE id = ?", {new_path, h.id});
  if (!old_path.empty())
    h.conn.exec("UPDATE org_unit SET path = ? || substr(path, ?) WHERE path LIKE ? ESCAPE '\\' AND id <> ?",
                {new_path, int64_t(old_path.size() + 1), store::like_escape(old_path) + "%", h.id});
}

// 员工扩展资料: values in staff.ext must match the administrator's field definitions.
void staff_before_save(HookContext& h) {
  if (!h.record.contains("ext") || h.record["ext"].is_null()) return;
  if (!h.record["ext"].is_object())
    throw Error::validation({{"ext", "wrong_type", "ext must be an object of extended fields"}});
  auto defs = h.conn.exec("SELECT key, value_type, options, required FROM staff_ext_field WHERE archived = 0", {});
  std::vector<FieldError> errors;
  auto& ext = h.record["ext"].as_object();
  for (auto& [k, v] : ext) {
    bool found = false;
    for (auto& d : defs.rows) {
      if (store::as_text(d[0]) != k) continue;
      found = true;
      std::string type = store::as_text(d[1]);
      std::string field = "ext." + std::string(k);
      if (v.is_null()) break;
      if (type == "integer" && !v.is_int64()) errors.push_back({field, "wrong_type", field + " must be an integer"});
      else if (type != "integer" && !v.is_string()) errors.push_back({field, "wrong_type", field + " must be text"});
      else if (type == "enum") {
        std::string opts = "," + store::as_text(d[2]) + ",";
        if (opts.find("," + std::string(v.as_string()) + ",") == std::string::npos)
          errors.push_back({field, "invalid_option", field + " must be one of " + store::as_text(d[2])});
      } else if (type == "date" && !std::regex_match(std::string(v.as_string()), std::regex(R"(\d{4}-\d{2}-\d{2})")))
        errors.push_back({field, "invalid_date", field + " must be a date YYYY-MM-DD"});
      else if (v.is_string() && v.as_string().size() > 400)
        errors.push_back({field, "too_long", field + " is too long"});
    }
    if (!found) errors.push_back({"ext." + std::string(k), "unknown_field", "no extended field named " + std::string(k)});
  }
  for (auto& d : defs.rows)
    if (store::as_int(d[3]) && (!ext.contains(store::as_text(d[0])) || ext[store::as_text(d[0])].is_null()))
      errors.push_back({"ext." + store::as_text(d[0]), "required", store::as_text(d[0]) + " is required"});
  if (!errors.empty()) throw Error::validation(std::move(errors));
}

}  // namespace

void register_entities(meta::Registry& reg) {
  reg.add({.name = "org_unit",
           .label_zh = "组织机构",
           .label_en = "Organisation unit",
           .fields = {F("name", FieldType::string, "名称", "Name").required().search().sort().len(60),
                      F("code", FieldType::string, "编码", "Code").required().unique().sort().len(32)
                          .pattern("[A-Za-z0-9_-]+"),
                      F("kind", FieldType::enumeration, "类型", "Kind").required()
                          .options({{"headquarters", "总部", "Headquarters"}, {"branch", "分公司", "Branch"},
                                    {"department", "营业部", "Business department"}, {"team", "班组", "Team"}}),
                      F("parent_id", FieldType::ref, "上级机构", "Parent unit").ref("org_unit"),
                      F("path", FieldType::string, "路径", "Path").readonly().filter().len(400),
                      F("region", FieldType::string, "地区", "Region").filter().len(40),
                      F("phone", FieldType::string, "电话", "Phone").len(40),
                      F("address", FieldType::string, "地址", "Address").len(200),
                      F("sort_order", FieldType::integer, "排序", "Order").sort().def(0)},
           .scope_column = "id",
           .title_field = "name",
           .default_sort = "path",
           .menu = "org",
           .before_save = org_before_save,
           .after_save = org_after_save});

  reg.add({.name = "position",
           .label_zh = "职位",
           .label_en = "Position",
           .fields = {F("code", FieldType::string, "编码", "Code").required().unique().len(32),
                      F("name", FieldType::string, "名称", "Name").required().search().sort().len(60),
                      F("description", FieldType::text, "说明", "Description").len(500)},
           .title_field = "name",
           .menu = "org"});

  reg.add({.name = "staff_group",
           .label_zh = "员工组",
           .label_en = "Staff group",
           .fields = {F("name", FieldType::string, "名称", "Name").required().search().sort().len(60),
                      F("org_id", FieldType::ref, "所属机构", "Organisation").required().ref("org_unit"),
                      F("description", FieldType::text, "说明", "Description").len(500)},
           .scope_column = "org_id",
           .title_field = "name",
           .menu = "org"});

  reg.add({.name = "staff_ext_field",
           .label_zh = "员工扩展字段",
           .label_en = "Staff extended field",
           .fields = {F("key", FieldType::string, "字段名", "Key").required().unique().len(40).pattern("[a-z][a-z0-9_]*"),
                      F("label_zh", FieldType::string, "中文名称", "Chinese label").required().len(60),
                      F("label_en", FieldType::string, "英文名称", "English label").len(60),
                      F("value_type", FieldType::enumeration, "类型", "Type").required()
                          .options({{"string", "文本", "Text"}, {"integer", "整数", "Integer"}, {"date", "日期", "Date"},
                                    {"enum", "选项", "Choice"}}),
                      F("options", FieldType::string, "选项(逗号分隔)", "Options (comma separated)").len(500),
                      F("required", FieldType::boolean, "必填", "Required").def(false)},
           .title_field = "label_zh",
           .menu = "org"});

  reg.add({.name = "staff",
           .label_zh = "员工",
           .label_en = "Staff",
           .fields = {F("username", FieldType::string, "登录名", "Username").required().unique().search().sort()
                          .len(32).pattern("[a-z][a-z0-9_.]{2,31}"),
                      F("name", FieldType::string, "姓名", "Name").required().search().sort().len(40),
                      F("org_id", FieldType::ref, "所属机构", "Organisation").required().ref("org_unit"),
                      F("position_id", FieldType::ref, "职位", "Position").ref("position"),
                      F("group_id", FieldType::ref, "员工组", "Staff group").ref("staff_group"),
                      F("level", FieldType::dict, "员工级别", "Staff level").dict("staff_level"),
                      F("points", FieldType::integer, "积分", "Points").sort().range(0, 1000000000).def(0),
                      F("gender", FieldType::enumeration, "性别", "Gender").options({{"male", "男", "Male"}, {"female", "女", "Female"}}),
                      F("phone", FieldType::string, "手机", "Mobile").search().len(20).pattern("[0-9+\\- ]{5,20}"),
                      F("email", FieldType::string, "邮箱", "E-mail").len(120).pattern("[^@\\s]+@[^@\\s]+"),
                      F("extension", FieldType::string, "分机号", "Extension").filter().len(20).pattern("[0-9]{2,10}"),
                      F("hire_date", FieldType::date, "入职日期", "Hire date").sort(),
                      F("status", FieldType::enumeration, "状态", "Status").required()
                          .options({{"active", "在职", "Active"}, {"disabled", "停用", "Disabled"}}).def("active"),
                      F("ext", FieldType::json, "扩展资料", "Extended fields"),
                      F("must_change_password", FieldType::boolean, "需修改密码", "Must change password").readonly(),
                      F("password_hash", FieldType::string, "", "").hidden().len(256),
                      F("password_changed_at", FieldType::datetime, "", "").hidden(),
                      F("failed_logins", FieldType::integer, "", "").hidden(),
                      F("locked_until", FieldType::datetime, "", "").hidden()},
           .scope_column = "org_id",
           .owner_column = "id",
           .review_steps = 2,
           .title_field = "name",
           .menu = "org",
           .before_save = staff_before_save});

  reg.add({.name = "role",
           .label_zh = "角色",
           .label_en = "Role",
           .fields = {F("code", FieldType::string, "编码", "Code").required().unique().len(32).pattern("[a-z][a-z0-9_]*"),
                      F("name", FieldType::string, "名称", "Name").required().search().sort().len(60),
                      F("data_scope", FieldType::enumeration, "数据范围", "Data scope").required()
                          .options({{"self", "仅本人", "Own records"}, {"org", "本机构", "Own unit"},
                                    {"subtree", "本机构及下级", "Own unit and below"}, {"all", "全部", "All"}}).def("self"),
                      F("permissions", FieldType::json, "权限", "Permissions").required(),
                      F("description", FieldType::text, "说明", "Description").len(500)},
           .review_steps = 1,
           .title_field = "name",
           .menu = "org",
           .before_save = [&reg](HookContext& h) {
             if (!h.record.contains("permissions")) return;
             auto& v = h.record["permissions"];
             if (!v.is_array()) throw Error::validation({{"permissions", "wrong_type", "permissions must be a list"}});
             for (auto& p : v.as_array()) {
               if (!p.is_string() || !known_permission(reg, std::string(p.as_string())))
                 throw Error::validation({{"permissions", "unknown_permission",
                                           "unknown permission " + (p.is_string() ? std::string(p.as_string()) : to_json(p))}});
               // Nobody hands out, or approves, more than he holds himself.
               if (!h.who.has(std::string(p.as_string())))
                 throw Error(403, "grant_exceeds_own", "you cannot grant " + std::string(p.as_string()) +
                                                           ", which you do not hold", "permissions");
             }
           }});
}

}  // namespace kefu::auth
