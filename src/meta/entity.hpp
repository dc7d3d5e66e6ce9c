#pragma once
// An entity is declared once — its fields, rules, permissions and data scope — and the
// registry derives from it the table, validation, REST endpoints, export, import, audit
// and the description the web console builds its forms from.
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/json.hpp"
#include "base/principal.hpp"

namespace kefu::store {
class Connection;
}

namespace kefu::meta {

enum class FieldType {
  string,       // one line, max_length code points
  text,         // multi-line
  integer,
  money,        // integer fen (分)
  boolean,
  date,         // "YYYY-MM-DD"
  datetime,     // UTC epoch milliseconds
  enumeration,  // one of `options`
  dict,         // a code from the data dictionary of type `dict_type`
  ref,          // id of a record of `ref_entity`
  json,         // structured value (extended fields)
};

const char* to_string(FieldType t);

struct Field {
  std::string name;
  FieldType type = FieldType::string;
  std::string label_zh;
  std::string label_en;
  bool required = false;
  bool unique = false;
  bool searchable = false;  // matched by the free-text `q` filter
  bool sortable = false;
  bool filterable = false;
  bool readonly = false;  // set by the server, never by a client
  bool hidden = false;    // stored but never returned or accepted (password hashes)
  int max_length = 200;
  int64_t min = std::numeric_limits<int64_t>::min();
  int64_t max = std::numeric_limits<int64_t>::max();
  std::vector<std::string> options;  // codes, in display order
  // Display names of `options`, same order: {zh, en}. The console shows these, never the codes.
  std::vector<std::pair<std::string, std::string>> option_labels;
  std::string dict_type;
  std::string ref_entity;
  std::string pattern;  // simple ECMAScript regex for strings, e.g. usernames
  json::value default_value;
};

struct HookContext {
  store::Connection& conn;
  const Principal& who;
  json::object& record;          // the values being written (after validation)
  const json::object* before;    // null on create
  int64_t id;                    // 0 before insert
  int64_t now_ms;
};

struct Entity {
  std::string name;  // URL segment and table name
  std::string label_zh;
  std::string label_en;
  std::string permission;  // prefix of "<p>:read|create|update|archive|export|import|review1|review2"
  std::vector<Field> fields;
  std::string scope_column;  // organisation column that data scope applies to; empty = unscoped
  std::string owner_column;  // staff column that "self" scope applies to (defaults to created_by)
  int review_steps = 0;      // 0: writes apply at once; 1: one review; 2: 初审 then 终审
  std::string title_field;
  std::string default_sort = "id";
  std::string menu;  // console menu group
  bool archivable = true;
  std::function<void(HookContext&)> before_save;
  std::function<void(HookContext&)> after_save;

  const Field* field(std::string_view name) const;
  std::string perm(const char* action) const { return permission + ":" + action; }
};

// Columns every entity table has; clients read them and send `version` back on update.
inline const std::vector<std::string> kSystemColumns = {"id",         "version",    "archived",  "created_at",
                                                        "created_by", "updated_at", "updated_by"};

}  // namespace kefu::meta
