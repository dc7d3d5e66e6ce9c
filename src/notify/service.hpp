#pragma once
// 消息外发 (the outbox): every message to a customer — SMS, e-mail, later voice notices — is a row
// written before anything is sent, in the transaction of whatever caused it (a ticket step, an
// API call, a campaign), with its recipient, content, cause and state:
//   queued → sending → sent → delivered          (delivered when the provider reports it)
//          ↘ failed (permanent, or attempts used up) · expired · cancelled
// One sender thread per provider account takes due rows by priority with a lease (claimed_by,
// lease_until), sends them through the account's Channel and writes the outcome. Sending is
// at-least-once: a node killed while sending re-sends, after its restart, only the rows it had
// claimed and not yet recorded — at most one batch per account (Options::batch, or twice the
// account's window) — and the same stable message id goes with them so the receiver can tell a
// repeat.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "audit/audit_log.hpp"
#include "base/clock.hpp"
#include "base/config.hpp"
#include "base/principal.hpp"
#include "notify/channel.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"

namespace kefu::notify {

struct Options {
  int64_t poll_ms = 500;
  int64_t lease_ms = 60'000;
  int max_attempts = 8;
  int batch = 20;
  int sms_max_segments = 10;
  size_t email_max_bytes = 2 << 20;
  int utc_offset_min = 8 * 60;
  std::string node;  // cti_node: whose claims a restart takes back at once
  static Options from(const Config& c);
};

// A provider account: which channel it serves, how fast it may go, what a unit costs.
struct Account {
  std::string name;      // "smtp", "smsc-1"
  std::string channel;   // email, sms, voice
  double rate = 10;      // messages a second (a token bucket with a burst of one second's worth)
  int64_t cost_fen = 0;  // per SMS segment, per e-mail
  // Opens the account's channel; what the provider sends back (receipts, replies) goes to `in`.
  std::function<std::unique_ptr<Channel>(Inbound& in)> open;
  int window = 1;  // requests the channel keeps outstanding at once (SMPP)
};

struct Request {
  std::string channel;  // sms, email
  std::string type;     // a notify_type code: priority, caps, window, expiry
  std::string recipient;
  int64_t customer_id = 0;
  std::string template_code;
  json::object variables;
  std::string subject, text, html;  // used when no template is named
  std::string cause;                // "api", "ticket:12", "campaign:3"
  std::string dedup_key;            // the same key twice queues one message
  int64_t not_before = 0;
  int64_t created_by = 0;
};

class NotifyService : public Inbound {
 public:
  NotifyService(store::Database& db, const Clock& clock, const audit::AuditLog& audit,
                Options options);
  ~NotifyService() override;
  static std::vector<store::Migration> migrations();

  void add_account(Account account);
  bool has_channel(const std::string& channel) const;

  // Queues a message in the caller's transaction (rendered, measured, checked against the type's
  // caps). Throws kefu::Error with the field concerned; a repeated dedup_key answers the first.
  json::object enqueue(store::Connection& c, const Request& r);
  static Request request_from(const json::object& body);
  json::object cancel(store::Connection& c, const audit::Actor& actor, int64_t id);
  json::object list(const Principal& who, const std::map<std::string, std::string>& query) const;
  json::object get(const Principal& who, int64_t id) const;
  // The provider accounts and their links' state; the reply pool (customers' SMS to us).
  json::array accounts() const;
  json::object replies(const std::map<std::string, std::string>& query) const;

  // Inbound: a delivery receipt is kept (once, however often the provider repeats it) and settles
  // its part as soon as the part is known — now, or when its submit is recorded; a reply goes to
  // the pool with its keyword.
  bool receipt(const std::string& account, const Receipt& r) override;
  bool receipts(const std::string& account, const std::vector<Receipt>& rs) override;
  bool reply(const std::string& account, const Reply& r) override;
  // Settles kept receipts whose parts are now known; how many.
  int match_receipts();

  // One round of one account's sender: claims due messages, sends, records; how many were sent.
  int pump(const std::string& account);
  // Takes back this node's claims (on start) and any claim whose lease ran out; how many.
  int recover(bool at_start);
  void start();
  void stop();

  using ContactWriter = std::function<void(store::Connection&, int64_t customer_id, int64_t at,
                                           int64_t staff_id, int64_t message_id,
                                           const std::string& channel, const std::string& summary)>;
  void on_customer_message(ContactWriter w) { contact_ = std::move(w); }
  using CustomerCheck = std::function<bool(store::Connection&, int64_t customer_id)>;
  void on_customer_check(CustomerCheck f) { customer_exists_ = std::move(f); }

  store::Database& db() { return db_; }

 private:
  struct Sender;
  struct Claimed;
  void run(Sender& s);
  Channel& channel_of(Sender& s);
  int apply_receipts(store::Connection& c, const std::string& account,
                     const std::string& provider_id);
  const Account* account_for(const std::string& channel) const;

  store::Database& db_;
  const Clock& clock_;
  const audit::AuditLog& audit_;
  Options opt_;
  std::vector<Account> accounts_;
  std::map<std::string, std::unique_ptr<Sender>> senders_;
  ContactWriter contact_;
  CustomerCheck customer_exists_;
  std::atomic<bool> running_{false};
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace kefu::notify
