#pragma once
// A provider account of one channel (an SMTP relay, an SMSC, a voice trunk) as the outbox's
// sender sees it: one message in, accepted or failed (temporarily or for good) out. Each account
// is used by one sender thread, so an implementation may keep its connection between messages.
#include <cstdint>
#include <string>
#include <vector>

#include "notify/policy.hpp"

namespace kefu::notify {

struct Attachment {
  std::string name, content_type, data;
};

struct Outgoing {
  int64_t id = 0;
  std::string message_id;  // stable across retries: the receiver's duplicate check
  std::string recipient;
  std::string subject, text, html;
  std::vector<Attachment> attachments;
  bool bulk = false;  // marketing and newsletters: List-Unsubscribe headers
  std::string unsubscribe_url;
};

struct Sent {
  Outcome outcome = Outcome::temporary;
  std::string provider_id;       // the provider's reference (SMSC message id, SMTP queue id)
  std::string code;              // stable: smtp_550, connect_failed, login_denied …
  std::string error;             // for people
  int64_t backoff_floor_ms = 0;  // a provider asking to slow down says how much
};

class Channel {
 public:
  virtual ~Channel() = default;
  virtual Sent send(const Outgoing& m) = 0;
};

}  // namespace kefu::notify
