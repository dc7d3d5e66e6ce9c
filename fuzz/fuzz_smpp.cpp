// Bytes from an SMSC: a stream of SMPP PDUs cut into frames, each decoded through libsmpp34; a
// deliver_sm read as a receipt or as a customer's reply (its text decoded), and written back.
// Any input gives PDUs or a clean std::invalid_argument, never a crash or an endless loop.
#include <stdexcept>

#include "notify/sms_text.hpp"
#include "notify/smpp_pdu.hpp"

using namespace kefu::notify;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  try {
    while (!rest.empty()) {
      smpp::Pdu p;
      size_t used = smpp::decode(rest, p);
      if (used == 0) break;
      if (used > rest.size()) __builtin_trap();
      rest.remove_prefix(used);
      if (p.command != smpp::deliver_sm) continue;
      smpp::Receipt r;
      if (!smpp::receipt_of(p, r)) (void)decode_sms(p.short_message, p.data_coding);
      try {
        smpp::Pdu back;
        if (p.sequence && smpp::decode(smpp::encode(p), back) == 0) __builtin_trap();
      } catch (const std::invalid_argument&) {
      }
    }
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
