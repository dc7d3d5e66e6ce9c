// JSON-to-entity validation and CSV import parsing: any bytes give a value or a clean Error.
#include "auth/entities.hpp"
#include "meta/exchange.hpp"
#include "meta/validate.hpp"
#include "system/entities.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static kefu::meta::Registry* reg = [] {
    auto* r = new kefu::meta::Registry;
    kefu::auth::register_entities(*r);
    kefu::system::register_entities(*r);
    return r;
  }();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    auto obj = kefu::parse_object(text);
    for (auto& e : reg->all()) {
      std::vector<kefu::FieldError> errors;
      auto clean = kefu::meta::validate_input(*e, obj, kefu::meta::Mode::create, errors);
      for (auto& [k, v] : clean)
        if (auto f = e->field(k)) (void)kefu::meta::to_db(*f, v);
    }
  } catch (const kefu::Error&) {
  }
  try {
    auto rows = kefu::meta::parse_csv(text);
    (void)rows;
  } catch (const kefu::Error&) {
  }
  return 0;
}
