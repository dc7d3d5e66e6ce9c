// SMPP 3.4 as data: PDUs through libsmpp34 and back, frames cut anywhere, what each
// command_status means, what a delivery receipt says.
#include <gtest/gtest.h>

#include <stdexcept>

#include "notify/smpp_pdu.hpp"
#include "notify/sms_text.hpp"

using namespace kefu::notify;
using namespace kefu::notify::smpp;

TEST(SmppPdu, SubmitSmRoundTripsWithItsUdh) {
  auto plan = plan_sms(std::string(80, 'x') + "中文");
  Pdu p;
  p.command = submit_sm;
  p.sequence = 7;
  p.source_addr = "95588";
  p.destination_addr = "13800138000";
  p.esm_class = 0x40;
  p.registered_delivery = 1;
  p.data_coding = plan.data_coding();
  p.short_message = concat_udh(9, 2, 1) + plan.parts[0];
  std::string wire = encode(p);
  ASSERT_GE(wire.size(), 16u);
  EXPECT_EQ(uint8_t(wire[3]) | uint8_t(wire[2]) << 8, wire.size());  // command_length
  Pdu back;
  EXPECT_EQ(decode(wire, back), wire.size());
  EXPECT_EQ(back.command, uint32_t(submit_sm));
  EXPECT_EQ(back.sequence, 7u);
  EXPECT_EQ(back.destination_addr, "13800138000");
  EXPECT_EQ(back.source_addr, "95588");
  EXPECT_EQ(back.data_coding, 0x08);
  EXPECT_EQ(back.esm_class, 0x40);
  EXPECT_EQ(back.short_message, p.short_message);
}

TEST(SmppPdu, APartialFrameWaitsAndAnOversizedOneIsRefused) {
  Pdu p;
  p.command = deliver_sm;
  p.sequence = 3;
  p.source_addr = "13800138000";
  p.destination_addr = "95588";
  p.short_message = "TD";
  std::string wire = encode(p);
  Pdu out;
  for (size_t cut = 0; cut < wire.size(); ++cut) EXPECT_EQ(decode(wire.substr(0, cut), out), 0u);
  EXPECT_EQ(decode(wire + wire, out), wire.size());  // one at a time
  EXPECT_EQ(out.short_message, "TD");
  std::string huge = "\x7f\xff\xff\xff";
  EXPECT_THROW(decode(huge, out), std::invalid_argument);
  std::string tiny("\x00\x00\x00\x08", 4);
  EXPECT_THROW(decode(tiny, out), std::invalid_argument);
}

TEST(SmppPdu, HeaderOnlyPdusAndBodilessErrorResponses) {
  Pdu e;
  e.command = enquire_link;
  e.sequence = 42;
  std::string wire = encode(e);
  EXPECT_EQ(wire.size(), 16u);
  Pdu out;
  EXPECT_EQ(decode(wire, out), 16u);
  EXPECT_EQ(out.command, uint32_t(enquire_link));
  EXPECT_EQ(out.sequence, 42u);
  // A submit_sm_resp with an error has no body (SMPP 3.4 §4.4.2).
  Pdu nack;
  nack.command = enquire_link_resp;
  nack.sequence = 1;
  std::string refused = encode(nack);
  refused[4] = char(0x80), refused[7] = char(0x04), refused[11] = char(0x58);
  EXPECT_EQ(decode(refused, out), 16u);
  EXPECT_EQ(out.command, uint32_t(submit_sm_resp));
  EXPECT_EQ(out.status, 0x58u);
  EXPECT_TRUE(out.message_id.empty());
}

TEST(SmppPdu, BindAndItsResponse) {
  Pdu b;
  b.command = bind_transceiver;
  b.sequence = 1;
  b.system_id = "kefu";
  b.password = "secret";
  Pdu out;
  decode(encode(b), out);
  EXPECT_EQ(out.system_id, "kefu");
  EXPECT_EQ(out.password, "secret");
  b.password = "much-too-long-for-smpp";
  EXPECT_THROW(encode(b), std::invalid_argument);
  Pdu r;
  r.command = bind_transceiver_resp;
  r.sequence = 1;
  r.system_id = "SMSC";
  decode(encode(r), out);
  EXPECT_EQ(out.system_id, "SMSC");
}

TEST(SmppRules, EachStatusHasItsRetry) {
  EXPECT_EQ(verdict(0).outcome, Outcome::accepted);
  auto throttled = verdict(0x58);
  EXPECT_EQ(throttled.outcome, Outcome::temporary);
  EXPECT_EQ(throttled.code, "smpp_throttled");
  EXPECT_GT(throttled.backoff_ms, 0);
  EXPECT_EQ(verdict(0x14).code, "smpp_queue_full");
  EXPECT_GT(verdict(0x14).backoff_ms, throttled.backoff_ms);
  EXPECT_EQ(verdict(0x0B).outcome, Outcome::permanent);
  EXPECT_EQ(verdict(0x0B).code, "smpp_invalid_destination");
  EXPECT_EQ(verdict(0x01).outcome, Outcome::permanent);
  EXPECT_EQ(verdict(0x08).outcome, Outcome::temporary);
  EXPECT_EQ(verdict(0x400).outcome, Outcome::temporary);  // a vendor's code: retried, slowly
  EXPECT_EQ(verdict(0x400).code, "smpp_0x00000400");
}

TEST(SmppRules, ReceiptsInTextAndInTlvs) {
  Pdu d;
  d.command = deliver_sm;
  d.sequence = 1;
  d.esm_class = 0x04;
  d.short_message =
      "id:0A1B2C sub:001 dlvrd:001 submit date:2612051030 done date:2612051031 stat:DELIVRD "
      "err:000 text:您好";
  Receipt r;
  ASSERT_TRUE(receipt_of(d, r));
  EXPECT_EQ(r.id, "0A1B2C");
  EXPECT_EQ(r.stat, "DELIVRD");
  EXPECT_EQ(r.err, "000");
  EXPECT_TRUE(r.final);
  EXPECT_TRUE(r.delivered);
  // The TLV's id wins; through the wire and back.
  d.receipted_message_id = "msg-77";
  d.short_message = "id:ignored stat:UNDELIV err:012";
  Pdu back;
  decode(encode(d), back);
  ASSERT_TRUE(receipt_of(back, r));
  EXPECT_EQ(r.id, "msg-77");
  EXPECT_EQ(r.stat, "UNDELIV");
  EXPECT_TRUE(r.final);
  EXPECT_FALSE(r.delivered);
  d.short_message = "id:5 stat:ENROUTE";
  d.receipted_message_id.clear();
  ASSERT_TRUE(receipt_of(d, r));
  EXPECT_FALSE(r.final);
  // A customer's reply is no receipt.
  d.esm_class = 0;
  EXPECT_FALSE(receipt_of(d, r));
}

TEST(SmppPdu, VendorTlvsAreIgnoredAndABrokenOneRefused) {
  Pdu d;
  d.command = deliver_sm;
  d.sequence = 9;
  d.esm_class = 0x04;
  d.receipted_message_id = "ab12";
  d.short_message = "stat:DELIVRD";
  std::string wire = encode(d);
  std::string vendor = wire + std::string("\x14\x01\x00\x02xy", 6);  // an SMSC's own TLV
  vendor[3] = char(vendor.size());
  Pdu out;
  ASSERT_EQ(decode(vendor, out), vendor.size());
  EXPECT_EQ(out.receipted_message_id, "ab12");
  std::string broken = wire + std::string("\x14\x01\x00\x09xy", 6);  // longer than the PDU
  broken[3] = char(broken.size());
  EXPECT_THROW(decode(broken, out), std::invalid_argument);
}
