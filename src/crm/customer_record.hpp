#pragma once
// 客户基本信息 (CIF): the fields of a customer's file, how each is checked, and which are
// personal data shown masked. Pure: the same checks serve the form, the REST API and every
// imported row, so a bad value gets the same code wherever it comes from.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/json.hpp"
#include "crm/phone.hpp"
#include "store/database.hpp"

namespace kefu::crm {

enum class ColumnType { text, enumeration, integer, money, date };
enum class Sensitive { no, id_no, phone, account, email, address };

struct Column {
  const char* name;
  ColumnType type;
  const char* label_zh;
  const char* label_en;
  int max = 0;                         // text: characters; numbers: unused
  std::vector<const char*> options{};  // enumerations
  Sensitive sensitive = Sensitive::no;
  bool filterable = true;  // usable in the comprehensive query
};
// Every writable column of crm_customer, in table order.
const std::vector<Column>& customer_columns();
const Column* customer_column(std::string_view name);

// 产品账户: a fund (基金账户), TA, bond, futures or other product account of the customer.
struct ProductAccount {
  std::string kind;  // fund, ta, bond, futures, other
  std::string number, institution;
  std::string status = "normal";  // normal, frozen, closed
};

struct CustomerInput {
  std::map<std::string, store::Value> values;           // column → value (Null clears)
  std::optional<std::vector<Phone>> phones;             // present: replaces the customer's phones
  std::optional<std::vector<ProductAccount>> accounts;  // present: replaces his product accounts
  std::optional<std::string> ext;                       // extended fields, JSON text
  std::optional<std::vector<std::string>> tags;
};

// Checks one record; problems are appended with `prefix` before field names (import rows use
// ""). `partial`: an update, where missing fields stay as they are; else `name` is required.
void parse_customer(const json::object& in, bool partial, CustomerInput& out,
                    std::vector<FieldError>& errs);

// Text of a JSON scalar as a form or a CSV cell gives it (numbers too); nullopt otherwise.
std::optional<std::string> text_of(const json::value& v);

// A calendar date written YYYY-MM-DD.
bool valid_date(std::string_view s);

// GB 11643 citizen ID: 17 digits and a check character (0-9 or X) over its weighted sum.
bool valid_citizen_id(std::string_view id);

}  // namespace kefu::crm
