#pragma once
// SMPP 3.4 as data: the PDUs an ESME sends and receives, framed and coded through libsmpp34 (the
// Osmocom library Debian ships), and the rules an ESME lives by — which command_status is worth a
// retry and after how long, what a delivery receipt says. Pure: no sockets here (notify/smpp.hpp).
#include <cstdint>
#include <string>
#include <string_view>

#include "notify/policy.hpp"

namespace kefu::notify::smpp {

enum Command : uint32_t {
  generic_nack = 0x80000000,
  submit_sm = 0x00000004,
  submit_sm_resp = 0x80000004,
  deliver_sm = 0x00000005,
  deliver_sm_resp = 0x80000005,
  unbind = 0x00000006,
  unbind_resp = 0x80000006,
  bind_transceiver = 0x00000009,
  bind_transceiver_resp = 0x80000009,
  enquire_link = 0x00000015,
  enquire_link_resp = 0x80000015,
};

// The fields of every PDU Kefu uses, flat; each command reads the ones it has.
struct Pdu {
  uint32_t command = 0, status = 0, sequence = 0;
  // bind_transceiver
  std::string system_id, password, system_type;
  // submit_sm, deliver_sm
  std::string service_type, source_addr, destination_addr;
  uint8_t source_ton = 0, source_npi = 0, dest_ton = 1, dest_npi = 1;
  uint8_t esm_class = 0, registered_delivery = 0, data_coding = 0;
  std::string short_message;  // with its UDH when esm_class has UDHI (0x40)
  // submit_sm_resp; deliver_sm's receipted_message_id TLV; message_payload TLV; message_state TLV
  std::string message_id, receipted_message_id, message_payload;
  int message_state = -1;
};

constexpr size_t kMaxPdu = 64 * 1024;  // larger is a broken or hostile peer

// The PDU on the wire. Throws std::invalid_argument when a field does not fit.
std::string encode(const Pdu& p);

// Decodes the PDU at the front of `buf`: its length in bytes, or 0 when `buf` holds only part of
// it. Throws std::invalid_argument for a frame no SMPP peer sends (length < 16 or > kMaxPdu, a
// body that does not parse); the link is then closed. Commands Kefu does not use keep only
// their header.
size_t decode(std::string_view buf, Pdu& out);

// ---- rules ----------------------------------------------------------------------------------

// What a submit_sm_resp's command_status means for the message: retry (and not before how long),
// or give up. Throttling and a full queue slow the link down; an address or content the SMSC
// refuses is final.
struct Verdict {
  Outcome outcome = Outcome::accepted;
  std::string code;  // smpp_throttled, smpp_invalid_destination, smpp_0x00000045 …
  int64_t backoff_ms = 0;
};
Verdict verdict(uint32_t command_status);

// A delivery receipt (SMPP 3.4 Appendix B): "id:… sub:… dlvrd:… submit date:… done date:…
// stat:DELIVRD err:000 text:…". The id from the receipted_message_id TLV wins when present.
struct Receipt {
  std::string id, stat, err;
  bool final = false;      // DELIVRD, UNDELIV, EXPIRED, REJECTD, DELETED, UNKNOWN
  bool delivered = false;  // DELIVRD
};
// False when the PDU is not a receipt (a mobile-originated message).
bool receipt_of(const Pdu& deliver, Receipt& out);

}  // namespace kefu::notify::smpp
