#include "notify/smpp_pdu.hpp"

#include <cstring>
#include <mutex>
#include <stdexcept>

// smpp34_params.h names the structs of smpp34_structs.h without including it: keep this order.
// clang-format off
extern "C" {
#include <libsmpp34/smpp34.h>
#include <libsmpp34/smpp34_structs.h>
#include <libsmpp34/smpp34_params.h>
}
// clang-format on

namespace kefu::notify::smpp {
namespace {

// libsmpp34 reports errors through globals (smpp34_errno, smpp34_strerror): one caller at a time.
std::mutex& library() {
  static std::mutex m;
  return m;
}

uint32_t be32(const char* p) {
  auto u = reinterpret_cast<const uint8_t*>(p);
  return uint32_t(u[0]) << 24 | uint32_t(u[1]) << 16 | uint32_t(u[2]) << 8 | u[3];
}

void put32(std::string& s, uint32_t v) {
  s.push_back(char(v >> 24));
  s.push_back(char(v >> 16));
  s.push_back(char(v >> 8));
  s.push_back(char(v));
}

template <size_t N>
void put_c(uint8_t (&dst)[N], const std::string& v, const char* field) {
  if (v.size() >= N)
    throw std::invalid_argument(std::string("SMPP ") + field + " is longer than " +
                                std::to_string(N - 1));
  std::memcpy(dst, v.data(), v.size());
  dst[v.size()] = 0;
}

template <size_t N>
std::string get_c(const uint8_t (&src)[N]) {
  return std::string(reinterpret_cast<const char*>(src),
                     strnlen(reinterpret_cast<const char*>(src), N));
}

template <class T>
std::string pack(uint32_t type, T& body) {
  uint8_t buf[2048];
  int len = 0;
  std::lock_guard lk(library());
  if (smpp34_pack(type, buf, sizeof buf, &len, &body) != 0)
    throw std::invalid_argument(std::string("SMPP encode: ") + smpp34_strerror);
  std::string out(reinterpret_cast<char*>(buf), size_t(len));
  // The length in the header is the length of what was packed, whatever the library wrote.
  out[0] = char(len >> 24), out[1] = char(len >> 16), out[2] = char(len >> 8), out[3] = char(len);
  return out;
}

template <class T>
void header(T& b, const Pdu& p) {
  b.command_length = 0;
  b.command_id = p.command;
  b.command_status = p.status;
  b.sequence_number = p.sequence;
}

// The TLVs Kefu reads from a received PDU; frees the list libsmpp34 allocated.
void take_tlvs(tlv_t* list, Pdu& out) {
  for (tlv_t* t = list; t; t = t->next) {
    size_t n = std::min<size_t>(t->length, MAX_TLV_SIZE);
    auto octets = reinterpret_cast<const char*>(t->value.octet);
    if (t->tag == TLVID_receipted_message_id)
      out.receipted_message_id.assign(octets, strnlen(octets, n));
    else if (t->tag == TLVID_message_payload)
      out.message_payload.assign(octets, n);
    else if (t->tag == TLVID_message_state && t->length == 1)
      out.message_state = t->value.val08;
  }
  if (list) destroy_tlv(list);
}

// Where the mandatory part of a body with TLVs ends, walked by hand: C-octet strings of at most
// `max` octets and fixed fields, as SMPP 3.4 §4 lays them out. Throws when the body is shorter.
size_t mandatory_end(uint32_t command, std::string_view body) {
  size_t at = 0;
  auto cstr = [&](size_t max) {
    size_t end = body.find('\0', at);
    if (end == std::string_view::npos || end - at >= max)
      throw std::invalid_argument("SMPP decode: a field runs past its length");
    at = end + 1;
  };
  auto fixed = [&](size_t n) {
    if (body.size() - at < n) throw std::invalid_argument("SMPP decode: the body is cut short");
    at += n;
  };
  if (command == bind_transceiver_resp) {
    cstr(16);
    return at;
  }
  cstr(6), fixed(2), cstr(21), fixed(2), cstr(21), fixed(3), cstr(17), cstr(17), fixed(4);
  fixed(1);
  fixed(uint8_t(body[at - 1]));  // sm_length, then the short message
  return at;
}

// The frame libsmpp34 is given: the TLVs Kefu reads, and no other. An SMSC may send any TLV
// (vendors' own, 0x1400–0x3FFF), which SMPP 3.4 §3.2.5 says to ignore; libsmpp34 refuses some
// and leaks on a broken one (found by fuzz_smpp), so the TLV area is walked and checked here.
std::string with_known_tlvs(std::string_view frame, uint32_t command) {
  std::string_view body = frame.substr(16);
  size_t at = mandatory_end(command, body);
  std::string out(frame.substr(0, 16 + at));
  while (at < body.size()) {
    if (body.size() - at < 4) throw std::invalid_argument("SMPP decode: a TLV is cut short");
    uint16_t tag = uint16_t(uint8_t(body[at]) << 8 | uint8_t(body[at + 1]));
    uint16_t n = uint16_t(uint8_t(body[at + 2]) << 8 | uint8_t(body[at + 3]));
    if (body.size() - at - 4 < n)
      throw std::invalid_argument("SMPP decode: a TLV runs past the PDU");
    bool keep = (tag == TLVID_receipted_message_id && n >= 1 && n <= 65) ||
                (tag == TLVID_message_payload && n <= MAX_TLV_SIZE) ||
                (tag == TLVID_message_state && n == 1);
    if (keep && command != bind_transceiver_resp) out.append(body.substr(at, 4 + n));
    at += 4 + n;
  }
  uint32_t len = uint32_t(out.size());
  out[0] = char(len >> 24), out[1] = char(len >> 16), out[2] = char(len >> 8), out[3] = char(len);
  return out;
}

}  // namespace

std::string encode(const Pdu& p) {
  switch (p.command) {
    case bind_transceiver: {
      bind_transceiver_t b{};
      header(b, p);
      put_c(b.system_id, p.system_id, "system_id");
      put_c(b.password, p.password, "password");
      put_c(b.system_type, p.system_type, "system_type");
      b.interface_version = SMPP_VERSION;
      return pack(p.command, b);
    }
    case submit_sm:
    case deliver_sm: {
      submit_sm_t b{};  // deliver_sm shares the layout but for two 1-octet times
      deliver_sm_t d{};
      auto fill = [&](auto& x) {
        header(x, p);
        put_c(x.service_type, p.service_type, "service_type");
        x.source_addr_ton = p.source_ton;
        x.source_addr_npi = p.source_npi;
        put_c(x.source_addr, p.source_addr, "source_addr");
        x.dest_addr_ton = p.dest_ton;
        x.dest_addr_npi = p.dest_npi;
        put_c(x.destination_addr, p.destination_addr, "destination_addr");
        x.esm_class = p.esm_class;
        x.registered_delivery = p.registered_delivery;
        x.data_coding = p.data_coding;
        if (p.short_message.size() > 254)
          throw std::invalid_argument("SMPP short_message is longer than 254 octets");
        x.sm_length = uint8_t(p.short_message.size());
        std::memcpy(x.short_message, p.short_message.data(), p.short_message.size());
      };
      if (p.command == submit_sm) {
        fill(b);
        return pack(p.command, b);
      }
      fill(d);
      tlv_t t{};
      if (!p.receipted_message_id.empty()) {
        if (p.receipted_message_id.size() >= 65)
          throw std::invalid_argument("SMPP receipted_message_id is longer than 64");
        t.tag = TLVID_receipted_message_id;
        t.length = uint16_t(p.receipted_message_id.size() + 1);
        std::memcpy(t.value.octet, p.receipted_message_id.c_str(), t.length);
        std::lock_guard lk(library());
        build_tlv(&d.tlv, &t);
      }
      std::string out;
      try {
        out = pack(p.command, d);
      } catch (...) {
        if (d.tlv) destroy_tlv(d.tlv);
        throw;
      }
      if (d.tlv) destroy_tlv(d.tlv);
      return out;
    }
    case submit_sm_resp: {
      submit_sm_resp_t b{};
      header(b, p);
      put_c(b.message_id, p.message_id, "message_id");
      return pack(p.command, b);
    }
    case deliver_sm_resp: {
      deliver_sm_resp_t b{};
      header(b, p);
      return pack(p.command, b);
    }
    case bind_transceiver_resp: {
      bind_transceiver_resp_t b{};
      header(b, p);
      put_c(b.system_id, p.system_id, "system_id");
      return pack(p.command, b);
    }
    default: {  // the header-only PDUs: enquire_link(_resp), unbind(_resp), generic_nack
      std::string out;
      put32(out, 16);
      put32(out, p.command);
      put32(out, p.status);
      put32(out, p.sequence);
      return out;
    }
  }
}

size_t decode(std::string_view buf, Pdu& out) {
  if (buf.size() < 4) return 0;
  uint32_t len = be32(buf.data());
  if (len < 16 || len > kMaxPdu)
    throw std::invalid_argument("SMPP frame of " + std::to_string(len) + " octets");
  if (buf.size() < len) return 0;
  out = Pdu{};
  out.command = be32(buf.data() + 4);
  out.status = be32(buf.data() + 8);
  out.sequence = be32(buf.data() + 12);
  // A response with an error carries no body (SMPP 3.4 §3.3): the header says it all.
  if (len == 16) return len;
  std::string frame;
  std::string_view whole = buf.substr(0, len);
  if (out.command == deliver_sm || out.command == submit_sm ||
      out.command == bind_transceiver_resp) {
    frame = with_known_tlvs(whole, out.command);
    whole = frame;
  }
  auto unpack = [&](auto& b) {
    std::lock_guard lk(library());
    if (smpp34_unpack(out.command, &b, reinterpret_cast<const uint8_t*>(whole.data()),
                      int(whole.size())) != 0) {
      if constexpr (requires { b.tlv; })
        if (b.tlv) destroy_tlv(b.tlv);
      throw std::invalid_argument(std::string("SMPP decode: ") + smpp34_strerror);
    }
  };
  switch (out.command) {
    case bind_transceiver_resp: {
      bind_transceiver_resp_t b{};
      unpack(b);
      out.system_id = get_c(b.system_id);
      if (b.tlv) destroy_tlv(b.tlv);
      break;
    }
    case submit_sm_resp: {
      submit_sm_resp_t b{};
      unpack(b);
      out.message_id = get_c(b.message_id);
      break;
    }
    case deliver_sm:
    case submit_sm: {
      auto take = [&](auto& b) {
        out.service_type = get_c(b.service_type);
        out.source_ton = b.source_addr_ton;
        out.source_npi = b.source_addr_npi;
        out.source_addr = get_c(b.source_addr);
        out.dest_ton = b.dest_addr_ton;
        out.dest_npi = b.dest_addr_npi;
        out.destination_addr = get_c(b.destination_addr);
        out.esm_class = b.esm_class;
        out.registered_delivery = b.registered_delivery;
        out.data_coding = b.data_coding;
        out.short_message.assign(reinterpret_cast<const char*>(b.short_message),
                                 std::min<size_t>(b.sm_length, sizeof b.short_message));
        take_tlvs(b.tlv, out);
      };
      if (out.command == deliver_sm) {
        deliver_sm_t b{};
        unpack(b);
        take(b);
      } else {
        submit_sm_t b{};
        unpack(b);
        take(b);
      }
      break;
    }
    case bind_transceiver: {
      bind_transceiver_t b{};
      unpack(b);
      out.system_id = get_c(b.system_id);
      out.password = get_c(b.password);
      out.system_type = get_c(b.system_type);
      break;
    }
    default:
      break;  // a body Kefu has no use for: skipped whole
  }
  return len;
}

// ---- rules ------------------------------------------------------------------------------------

Verdict verdict(uint32_t s) {
  auto hex = [](uint32_t v) {
    char b[16];
    std::snprintf(b, sizeof b, "0x%08X", v);
    return std::string("smpp_") + b;
  };
  switch (s) {
    case ESME_ROK:
      return {Outcome::accepted, "", 0};
    // The SMSC asks the ESME to slow down: the link pauses, the message waits.
    case ESME_RTHROTTLED:
      return {Outcome::temporary, "smpp_throttled", 1'000};
    case ESME_RMSGQFUL:
      return {Outcome::temporary, "smpp_queue_full", 5'000};
    case ESME_RSYSERR:
    case ESME_RX_T_APPN:
    case ESME_RSUBMITFAIL:
    case ESME_RUNKNOWNERR:
      return {Outcome::temporary, s == ESME_RSYSERR ? "smpp_system_error" : hex(s), 2'000};
    case ESME_RINVBNDSTS:  // the bind was lost under us: send again on the next bind
      return {Outcome::temporary, "smpp_not_bound", 1'000};
    // What the SMSC will never take, however often it is sent.
    case ESME_RINVDSTADR:
    case ESME_RINVDSTTON:
    case ESME_RINVDSTNPI:
      return {Outcome::permanent, "smpp_invalid_destination", 0};
    case ESME_RINVSRCADR:
    case ESME_RINVSRCTON:
    case ESME_RINVSRCNPI:
      return {Outcome::permanent, "smpp_invalid_source", 0};
    case ESME_RINVMSGLEN:
      return {Outcome::permanent, "smpp_invalid_length", 0};
    case ESME_RX_P_APPN:
    case ESME_RX_R_APPN:
      return {Outcome::permanent, "smpp_rejected", 0};
    default:
      // Unknown and vendor codes (0x400–0x4FF): retried, a few times, slowly.
      return {Outcome::temporary, hex(s), 10'000};
  }
}

bool receipt_of(const Pdu& d, Receipt& out) {
  if (d.command != deliver_sm || (d.esm_class & 0x3C) != SMPP34_DELIVERY_RECEIPT) return false;
  out = Receipt{};
  const std::string& text = d.short_message.empty() ? d.message_payload : d.short_message;
  auto field = [&](std::string_view key) -> std::string {
    size_t at = 0;
    while ((at = text.find(key, at)) != std::string::npos) {
      if (at == 0 || text[at - 1] == ' ') {
        size_t start = at + key.size();
        size_t end = text.find(' ', start);
        return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
      }
      at += key.size();
    }
    return {};
  };
  out.id = d.receipted_message_id.empty() ? field("id:") : d.receipted_message_id;
  out.stat = field("stat:");
  out.err = field("err:");
  if (out.stat.empty() && d.message_state >= 0) {
    static const char* states[] = {"SCHEDULED", "ENROUTE", "DELIVRD", "EXPIRED", "DELETED",
                                   "UNDELIV",   "ACCEPTD", "UNKNOWN", "REJECTD"};
    if (d.message_state < 9) out.stat = states[d.message_state];
  }
  for (const char* f : {"DELIVRD", "UNDELIV", "EXPIRED", "REJECTD", "DELETED", "UNKNOWN"})
    if (out.stat == f) out.final = true;
  out.delivered = out.stat == "DELIVRD";
  return true;
}

}  // namespace kefu::notify::smpp
