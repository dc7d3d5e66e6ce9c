// The customer module's parsers of outside bytes: phone numbers as switches signal them, customer
// records and grading models as JSON, import files as CSV. Any bytes give a value or a clean Error.
#include "crm/customer_record.hpp"
#include "crm/grading.hpp"
#include "crm/mask.hpp"
#include "crm/phone.hpp"
#include "crm/service.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  kefu::crm::Phone p;
  if (kefu::crm::normalize_phone(text, p).empty()) (void)kefu::crm::mask_phone(p.number);
  (void)kefu::crm::lookup_key(text);
  (void)kefu::crm::mask_address(text);
  (void)kefu::crm::mask_email(text);
  try {
    auto v = kefu::parse_value(text);
    if (v.is_object()) {
      kefu::crm::CustomerInput in;
      std::vector<kefu::FieldError> errs;
      kefu::crm::parse_customer(v.as_object(), false, in, errs);
      kefu::crm::parse_customer(v.as_object(), true, in, errs);
    }
    auto m = kefu::crm::GradingModel::parse(v);
    std::vector<int64_t> values(m.indicators.size(), int64_t(size) << 40);
    (void)m.tier_of(m.score(values.data()));
  } catch (const kefu::Error&) {
  }
  try {
    (void)kefu::crm::rows_from_csv(text);
  } catch (const kefu::Error&) {
  }
  return 0;
}
