#pragma once
// Personal data as people without the right to see it get it (脱敏): enough to recognise a
// customer on the phone, not enough to impersonate him. Pure functions; who may unmask, and
// the operation-log line each unmasking writes, are the service's business.
#include <string>
#include <string_view>

namespace kefu::crm {

std::string mask_id_no(std::string_view s);    // 110101********1234 → 110***********1234
std::string mask_phone(std::string_view s);    // 13812345678 → 138****5678
std::string mask_account(std::string_view s);  // every digit but the last four
std::string mask_email(std::string_view s);    // z***@example.com
std::string mask_address(std::string_view s);  // the first six characters, then ****

}  // namespace kefu::crm
