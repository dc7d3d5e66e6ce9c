#include "crm/customer_record.hpp"

#include <algorithm>
#include <cctype>

#include "base/text.hpp"

namespace kefu::crm {

const std::vector<Column>& customer_columns() {
  using T = ColumnType;
  using S = Sensitive;
  static const std::vector<Column> cols = {
      {"external_key", T::text, "外部编号", "External key", 64},
      {"kind", T::enumeration, "客户类型", "Kind", 0, {"individual", "institution"}},
      {"status",
       T::enumeration,
       "客户状态",
       "Status",
       0,
       {"potential", "normal", "dormant", "closed", "loss_reported"}},
      {"name", T::text, "客户名称", "Name", 60},
      {"id_type",
       T::enumeration,
       "证件类型",
       "ID type",
       0,
       {"id_card", "passport", "hk_macao_permit", "taiwan_permit", "business_licence", "other"}},
      {"id_no", T::text, "证件号码", "ID number", 40, {}, S::id_no},
      {"fund_account", T::text, "资金账号", "Fund account", 20, {}, S::account},
      {"sh_account", T::text, "沪A股东账号", "Shanghai stockholder account", 10, {}, S::account},
      {"sz_account", T::text, "深A股东账号", "Shenzhen stockholder account", 10, {}, S::account},
      {"commission_rate_ppm", T::integer, "佣金费率(百万分之)", "Commission rate (ppm)"},
      {"risk_level",
       T::enumeration,
       "风险测评等级",
       "Risk assessment level",
       0,
       {"C1", "C2", "C3", "C4", "C5"}},
      {"risk_expires", T::date, "测评有效期", "Risk assessment expires"},
      {"org_id", T::integer, "所属营业部", "Branch"},
      {"manager_id", T::integer, "客户经理", "Customer manager"},
      {"email", T::text, "电子邮箱", "E-mail", 120, {}, S::email},
      {"address", T::text, "联系地址", "Address", 200, {}, S::address},
      {"assets_fen", T::money, "资产", "Assets"},
      {"liabilities_fen", T::money, "负债", "Liabilities"},
      {"credit_limit_fen", T::money, "授信额度", "Credit limit"},
      {"turnover_fen", T::money, "年交易量", "Turnover (12 months)"},
      {"commission_fen", T::money, "佣金贡献", "Commission (12 months)"},
      {"products", T::integer, "持有产品数", "Products held"},
      {"opened_on", T::date, "开户日期", "Opened on"},
      {"cards",
       T::text,
       "银行卡号(逗号分隔)",
       "Bank cards (comma separated)",
       200,
       {},
       S::account,
       false},
  };
  return cols;
}

const Column* customer_column(std::string_view name) {
  for (auto& c : customer_columns())
    if (name == c.name) return &c;
  return nullptr;
}

// Text of a scalar as a form or a CSV cell gives it: numbers are accepted where text is asked.
std::optional<std::string> text_of(const json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_int64()) return std::to_string(v.as_int64());
  if (v.is_uint64()) return std::to_string(v.as_uint64());
  return std::nullopt;
}

bool valid_date(std::string_view s) {
  int64_t ms;
  return s.size() == 10 && s[4] == '-' && s[7] == '-' && parse_iso(s, ms);
}

bool valid_citizen_id(std::string_view id) {
  static const int w[] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static const char check[] = "10X98765432";
  if (id.size() != 18) return false;
  int sum = 0;
  for (int i = 0; i < 17; ++i) {
    if (id[size_t(i)] < '0' || id[size_t(i)] > '9') return false;
    sum += (id[size_t(i)] - '0') * w[i];
  }
  char c = id[17] == 'x' ? 'X' : id[17];
  return c == check[sum % 11];
}

namespace {
bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

void check_column(const Column& c, const json::value& v, CustomerInput& out,
                  std::vector<FieldError>& errs) {
  const std::string f = c.name;
  if (v.is_null() || (v.is_string() && v.as_string().empty())) {
    if (f == "name" || f == "kind" || f == "status")
      errs.push_back({f, "required", f + " is required"});
    else
      out.values[f] = store::Null{};
    return;
  }
  switch (c.type) {
    case ColumnType::integer:
    case ColumnType::money: {
      int64_t n = 0;
      if (v.is_int64())
        n = v.as_int64();
      else if (std::string_view sv =
                   v.is_string() ? std::string_view(v.as_string()) : std::string_view();
               sv.size() < 19 &&
               (all_digits(sv) || (sv.size() > 1 && sv[0] == '-' && all_digits(sv.substr(1)))))
        n = std::stoll(std::string(sv));
      else {
        errs.push_back({f, "wrong_type", f + " must be a whole number"});
        return;
      }
      int64_t max = f == "commission_rate_ppm" ? 10'000
                    : f == "products"          ? 100'000
                                               : int64_t(1) << 53;
      if (n < 0 || n > max) return errs.push_back({f, "out_of_range", f + " is out of range"});
      if ((f == "org_id" || f == "manager_id") && n == 0)
        return errs.push_back({f, "out_of_range", f + " is an id"});
      out.values[f] = n;
      return;
    }
    default:
      break;
  }
  auto t = text_of(v);
  if (!t) return errs.push_back({f, "wrong_type", f + " must be text"});
  std::string s = *t;
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.erase(0, 1);
  if (!valid_utf8(s)) return errs.push_back({f, "invalid_utf8", f + " is not valid UTF-8"});
  if (c.type == ColumnType::enumeration) {
    if (std::none_of(c.options.begin(), c.options.end(), [&](const char* o) { return s == o; }))
      return errs.push_back({f, "invalid_option", f + " is not one of its options"});
  } else if (c.type == ColumnType::date) {
    if (!valid_date(s))
      return errs.push_back({f, "invalid_date", f + " must be a date YYYY-MM-DD"});
  } else if (utf8_length(s) > size_t(c.max)) {
    return errs.push_back(
        {f, "too_long", f + " is longer than " + std::to_string(c.max) + " characters"});
  }
  if (f == "fund_account" && (!all_digits(s) || s.size() < 6))
    return errs.push_back({f, "invalid_account", "a fund account is 6 to 20 digits"});
  if (f == "sh_account" &&
      !(s.size() == 10 && (s[0] == 'A' || s[0] == 'B' || s[0] == 'F') && all_digits(s.substr(1))))
    return errs.push_back(
        {f, "invalid_account", "a Shanghai account is a letter (A, B, F) and 9 digits"});
  if (f == "sz_account" && !(s.size() == 10 && all_digits(s)))
    return errs.push_back({f, "invalid_account", "a Shenzhen account is 10 digits"});
  if (f == "email" && (s.find('@') == std::string::npos || s.find('@') == 0 ||
                       s.find('@') + 1 == s.size() || s.find(' ') != std::string::npos))
    return errs.push_back({f, "invalid_email", "not an e-mail address"});
  if (f == "cards") {
    for (size_t p = 0; p <= s.size();) {
      size_t q = s.find(',', p);
      std::string card = s.substr(p, q == std::string::npos ? std::string::npos : q - p);
      if (!all_digits(card) || card.size() < 12 || card.size() > 19)
        return errs.push_back({f, "invalid_account", "a bank card number is 12 to 19 digits"});
      if (q == std::string::npos) break;
      p = q + 1;
    }
  }
  out.values[f] = s;
}
// Product accounts as a list of {kind, number, institution, status}, or as a form or CSV cell
// gives them: "fund:F00123@华夏基金;ta:T456".
std::vector<ProductAccount> parse_accounts(const json::value& v, std::vector<FieldError>& errs) {
  std::vector<ProductAccount> out;
  if (v.is_null()) return out;
  std::vector<json::object> items;
  if (v.is_array()) {
    for (auto& x : v.as_array()) items.push_back(x.is_object() ? x.as_object() : json::object{});
  } else if (v.is_string()) {
    std::string s(v.as_string());
    for (size_t p = 0; p <= s.size();) {
      size_t q = s.find(';', p);
      std::string part = s.substr(p, q == std::string::npos ? std::string::npos : q - p);
      if (!part.empty()) {
        json::object o;
        size_t colon = part.find(':'), at = part.find('@');
        o["kind"] = colon == std::string::npos ? "" : part.substr(0, colon);
        o["number"] = part.substr(colon == std::string::npos ? 0 : colon + 1,
                                  at == std::string::npos ? std::string::npos : at - colon - 1);
        if (at != std::string::npos) o["institution"] = part.substr(at + 1);
        items.push_back(std::move(o));
      }
      if (q == std::string::npos) break;
      p = q + 1;
    }
  } else {
    errs.push_back({"accounts", "wrong_type", "accounts is a list of product accounts"});
    return out;
  }
  if (items.size() > 20) errs.push_back({"accounts", "too_many", "at most 20 product accounts"});
  static const char* kinds[] = {"fund", "ta", "bond", "futures", "other"};
  static const char* statuses[] = {"normal", "frozen", "closed"};
  for (size_t i = 0; i < items.size() && i < 20; ++i) {
    std::string at = "accounts[" + std::to_string(i) + "]";
    ProductAccount a;
    a.kind = text_of(items[i]["kind"]).value_or("");
    a.number = text_of(items[i]["number"]).value_or("");
    a.institution = text_of(items[i]["institution"]).value_or("");
    if (auto st = text_of(items[i]["status"]); st && !st->empty()) a.status = *st;
    size_t before = errs.size();
    if (std::none_of(std::begin(kinds), std::end(kinds),
                     [&](const char* k) { return a.kind == k; }))
      errs.push_back({at + ".kind", "invalid_option", "kind is fund, ta, bond, futures or other"});
    if (a.number.size() < 4 || a.number.size() > 32 ||
        !std::all_of(a.number.begin(), a.number.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)); }))
      errs.push_back(
          {at + ".number", "invalid_account", "an account number is 4 to 32 letters and digits"});
    if (!valid_utf8(a.institution) || utf8_length(a.institution) > 60)
      errs.push_back({at + ".institution", "too_long", "at most 60 characters"});
    if (std::none_of(std::begin(statuses), std::end(statuses),
                     [&](const char* k) { return a.status == k; }))
      errs.push_back({at + ".status", "invalid_option", "status is normal, frozen or closed"});
    bool dup = std::any_of(out.begin(), out.end(),
                           [&](auto& b) { return b.kind == a.kind && b.number == a.number; });
    if (errs.size() == before && !dup) out.push_back(std::move(a));
  }
  return out;
}
}  // namespace

void parse_customer(const json::object& in, bool partial, CustomerInput& out,
                    std::vector<FieldError>& errs) {
  size_t before = errs.size();
  for (auto& [k, v] : in) {
    if (k == "phones") {
      std::vector<Phone> phones;
      if (v.is_null()) {
        out.phones = phones;
        continue;
      }
      std::vector<json::value> items;
      if (v.is_array())
        items.assign(v.as_array().begin(), v.as_array().end());
      else if (v.is_string()) {  // "138..., 021-..." as a form or a CSV cell gives them
        std::string s(v.as_string());
        for (size_t p = 0; p <= s.size();) {
          size_t q = s.find_first_of(",;/\xef", p);  // also the fullwidth ，；
          std::string part = s.substr(p, q == std::string::npos ? std::string::npos : q - p);
          if (part.find_first_not_of(' ') != std::string::npos) items.emplace_back(part);
          if (q == std::string::npos) break;
          p = q + (static_cast<unsigned char>(s[q]) == 0xef ? 3 : 1);
        }
      } else {
        errs.push_back({"phones", "wrong_type", "phones is a list of numbers"});
        continue;
      }
      if (items.size() > 10) errs.push_back({"phones", "too_many", "at most 10 phone numbers"});
      for (size_t i = 0; i < items.size() && i < 10; ++i) {
        std::string at = "phones[" + std::to_string(i) + "]";
        auto t = items[i].is_object() ? (items[i].as_object().contains("number")
                                             ? text_of(items[i].as_object().at("number"))
                                             : std::nullopt)
                                      : text_of(items[i]);
        Phone p;
        std::string code = t ? normalize_phone(*t, p) : "wrong_type";
        if (!code.empty()) {
          errs.push_back({at, code, at + " is not a valid phone number"});
          continue;
        }
        if (std::none_of(phones.begin(), phones.end(), [&](auto& q) {
              return q.number == p.number && q.extension == p.extension;
            }))
          phones.push_back(std::move(p));
      }
      out.phones = std::move(phones);
    } else if (k == "accounts") {
      out.accounts = parse_accounts(v, errs);
    } else if (k == "ext") {
      if (v.is_null())
        out.ext = "";
      else if (!v.is_object())
        errs.push_back({"ext", "wrong_type", "ext is an object of extended fields"});
      else
        out.ext = to_json(v);
    } else if (k == "tags") {
      std::vector<std::string> tags;
      auto add = [&](std::string t) {
        while (!t.empty() && t.back() == ' ') t.pop_back();
        while (!t.empty() && t.front() == ' ') t.erase(0, 1);
        if (t.empty()) return;
        if (utf8_length(t) > 20 || t.find(',') != std::string::npos || !valid_utf8(t))
          return errs.push_back(
              {"tags", "invalid_tag", "a tag is at most 20 characters, without commas"});
        if (std::find(tags.begin(), tags.end(), t) == tags.end()) tags.push_back(std::move(t));
      };
      if (v.is_array()) {
        for (auto& t : v.as_array())
          if (t.is_string())
            add(std::string(t.as_string()));
          else
            errs.push_back({"tags", "wrong_type", "tags are text"});
      } else if (v.is_string()) {
        std::string s(v.as_string());
        for (size_t p = 0; p <= s.size();) {
          size_t q = s.find_first_of(",;", p);
          add(s.substr(p, q == std::string::npos ? std::string::npos : q - p));
          if (q == std::string::npos) break;
          p = q + 1;
        }
      } else if (!v.is_null()) {
        errs.push_back({"tags", "wrong_type", "tags are a list of words"});
      }
      if (tags.size() > 20) errs.push_back({"tags", "too_many", "at most 20 tags"});
      out.tags = std::move(tags);
    } else if (k == "version" || k == "id") {
      continue;  // the service reads these
    } else if (const Column* c = customer_column(k)) {
      check_column(*c, v, out, errs);
    } else {
      errs.push_back({std::string(k), "unknown_field", "no field named " + std::string(k)});
    }
  }
  if (!partial) {
    if (!in.contains("name")) errs.push_back({"name", "required", "name is required"});
    if (!out.values.count("kind")) out.values["kind"] = std::string("individual");
    if (!out.values.count("status")) out.values["status"] = std::string("normal");
  }
  // The ID number must match its type; a citizen ID carries its own check digit.
  auto type = out.values.find("id_type");
  auto no = out.values.find("id_no");
  if (errs.size() == before && no != out.values.end() &&
      std::holds_alternative<std::string>(no->second)) {
    std::string t = type == out.values.end() || store::is_null(type->second)
                        ? ""
                        : store::as_text(type->second);
    const std::string& n = std::get<std::string>(no->second);
    if (t.empty() && !partial)
      errs.push_back({"id_type", "required", "give the ID type with the ID number"});
    else if (t == "id_card" && !valid_citizen_id(n))
      errs.push_back(
          {"id_no", "invalid_id_no", "not a valid citizen ID number (18 characters, check digit)"});
    else if (t == "id_card" && n.back() == 'x')
      no->second = n.substr(0, 17) + "X";
  }
}

}  // namespace kefu::crm
