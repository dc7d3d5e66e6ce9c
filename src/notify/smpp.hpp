#pragma once
// The SMS channel: an ESME bound as a transceiver to an SMSC over SMPP 3.4.
//
// One link per account, kept up by its own thread: it connects, binds, answers and sends
// enquire_link, reads every PDU, and reconnects with backoff (1 s doubling to 30 s; a refused
// bind is shown as the account's state). The outbox's sender submits through `send_all`, with at
// most `window` submit_sm outstanding; each submit_sm_resp decides its message by
// smpp::verdict, and a throttling answer pauses the whole link for the time it names. While the
// link is down a message is never dropped: it fails temporarily (smpp_link_down) and the outbox
// tries it again later.
//
// Receipts and customers' replies (deliver_sm) go to the Inbound sink; deliver_sm_resp is sent
// only once the sink has stored them, and a temporary error otherwise, so the SMSC delivers them
// again — a receipt that comes before its submit_sm_resp, or after a reconnect, is kept until its
// message is known (NotifyService matches them).
#include <cstdint>
#include <memory>
#include <string>

#include "notify/channel.hpp"

namespace kefu::notify {

struct SmppAccount {
  std::string host = "127.0.0.1";
  int port = 2775;
  std::string system_id, password, system_type;
  std::string source_addr;  // the number customers see, and reply to
  int window = 10;          // submit_sm outstanding at once
  int64_t enquire_link_ms = 30'000;
  int64_t response_timeout_ms = 10'000;
  int64_t connect_timeout_ms = 5'000;
};

class SmppChannel : public Channel {
 public:
  SmppChannel(std::string account, SmppAccount config, Inbound& inbound);
  ~SmppChannel() override;
  Sent send(const Outgoing& m) override;
  std::vector<Sent> send_all(const std::vector<Outgoing>& batch,
                             const std::function<bool(size_t)>& pace) override;
  std::string state() const override;
  // Waits until the link is bound; false after `ms`.
  bool wait_bound(int64_t ms) const;

 private:
  struct Link;
  std::unique_ptr<Link> link_;
};

}  // namespace kefu::notify
