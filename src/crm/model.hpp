#pragma once
// Plain records the customer module shares with the rest of Kefu.
#include <cstdint>
#include <string>

namespace kefu::crm {

// What the switch learns of a caller before routing him (M5, M9).
struct CallerInfo {
  int64_t customer_id = 0;  // 0: unknown, or several customers share the number
  int tier = -1;            // -1: unknown; the highest tier of the customers on the number
  std::string list;         // "", "red" (fast track), "black"
  bool blocked = false;     // black list, action "block"
  std::string queue;        // black list, action "queue": where he goes instead (special handling)
};

// One line of a customer's contact history (客户接触历史). Every module writes them through
// CustomerService::append_contact, in its own transaction.
struct Contact {
  int64_t customer_id = 0;
  int64_t at = 0;
  std::string channel;    // voice, chat, email, sms, ivr, ticket, campaign, survey, business, note
  std::string direction;  // inbound, outbound, internal
  std::string kind;       // call, wrap_up, note, ...
  std::string ref_type;   // what ref_id names: call, ticket, campaign, ...
  int64_t ref_id = 0;
  std::string summary;
  int64_t staff_id = 0;
  std::string source;  // the module that wrote it
};

// Tier names, the same everywhere the console shows a tier.
inline const char* tier_label_zh(int t) {
  static const char* n[] = {"普通", "银卡", "金卡", "白金", "钻石"};
  return t >= 0 && t < 5 ? n[t] : "";
}

}  // namespace kefu::crm
