// IVR flow definitions (admin input) and the session walking them: any bytes give a flow or a
// clean Error, and any flow that loads can be walked by any keys without a crash or a runaway.
#include "base/error.hpp"
#include "ivr/session.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::shared_ptr<const kefu::ivr::Flow> flow;
  try {
    flow = std::make_shared<const kefu::ivr::Flow>(kefu::ivr::parse_flow(text));
  } catch (const kefu::Error&) {
    return 0;
  }
  kefu::ivr::Session s(flow, kefu::ivr::Facts{});
  auto acts = s.start();
  // The input's own bytes choose the caller's moves.
  for (size_t i = 0; i < size && i < 200 && !s.over(); ++i) {
    uint8_t b = data[i];
    if (b % 5 == 0)
      acts = s.timeout();
    else if (b % 5 == 1)
      acts = s.adapter_result(b & 8, {{"available", "1"}});
    else
      acts = s.digits(std::string(1, "0123456789*#"[b % 12]));
    if (acts.size() > 1000) __builtin_trap();
  }
  return 0;
}
