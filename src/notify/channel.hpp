#pragma once
// A provider account of one channel (an SMTP relay, an SMSC, a voice trunk) as the outbox's
// sender sees it: one message in, accepted or failed (temporarily or for good) out. Each account
// is used by one sender thread, so an implementation may keep its connection between messages.
#include <cstdint>
#include <functional>
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
  // An SMS of several parts: each part's reference, in order (receipts come per part).
  std::vector<std::string> part_ids;
};

// What a provider reports later, on its own: a delivery receipt for a part it accepted, or a
// customer's reply (mobile-originated SMS).
struct Receipt {
  std::string provider_id, stat, err;
  bool final = false, delivered = false;
};
struct Reply {
  std::string sender, recipient, text;
};
// Where a channel hands what it receives. True once stored: only then does the channel acknowledge
// it to the provider, which re-sends what was not acknowledged — so nothing received is lost.
class Inbound {
 public:
  virtual ~Inbound() = default;
  virtual bool receipt(const std::string& account, const Receipt& r) = 0;
  virtual bool reply(const std::string& account, const Reply& r) = 0;
  // Several at once (what one read from the provider brought), stored together or not at all.
  virtual bool receipts(const std::string& account, const std::vector<Receipt>& rs) {
    for (auto& r : rs)
      if (!receipt(account, r)) return false;
    return true;
  }
};

class Channel {
 public:
  virtual ~Channel() = default;
  virtual Sent send(const Outgoing& m) = 0;
  // A batch, in order; `pace` is called before each message (the account's rate) and says whether
  // to go on. A channel with a window of outstanding requests (SMPP) overlaps them.
  virtual std::vector<Sent> send_all(const std::vector<Outgoing>& batch,
                                     const std::function<bool(size_t)>& pace) {
    std::vector<Sent> out;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!pace(i)) break;
      try {
        out.push_back(send(batch[i]));
      } catch (const std::exception& e) {
        out.push_back(Sent{Outcome::temporary, "", "channel_error", e.what()});
      }
    }
    return out;
  }
  // For the accounts page: "bound", "connecting", "bind_refused: …"; "ready" when always ready.
  virtual std::string state() const { return "ready"; }
};

}  // namespace kefu::notify
