#pragma once
// 客户变更推送: webhooks that push the change feed (crm_change) to an external CRM (I1, I2).
// Every webhook has its own cursor. Changes go out in id order, in batches, signed with the
// webhook's secret (HMAC-SHA-256 over "timestamp.body"), at least once: a receiver that answers
// 2xx moves the cursor; anything else is retried with back-off, and nothing is skipped. Several
// kefud nodes on one PostgreSQL take a lease per webhook, so only one of them pushes it.
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit_log.hpp"
#include "base/clock.hpp"
#include "base/json.hpp"
#include "integration/http_client.hpp"
#include "store/database.hpp"

namespace kefu::crm {

// Which of the ids read after `cursor` (ascending) may be delivered now. PostgreSQL takes ids at
// insert but shows rows at commit, so a change may appear behind one already seen. A gap in the
// ids is waited on until every transaction that was running when it was seen has ended (a later
// snapshot's xmin ≥ the xmax of the one that saw it); whatever is still missing then was rolled
// back. Every writer of crm_change has written the customer first, so it holds its transaction id
// before it takes a change id. SQLite has one writer at a time: its ids commit in order.
struct FeedGap {
  int64_t first_missing = 0;
  int64_t xmax = 0;
};
struct FeedWindow {
  size_t deliverable = 0;      // the first n ids
  int64_t cursor = 0;          // where the cursor may move (past a gap known to be empty, too)
  std::optional<FeedGap> gap;  // still waited on
};
FeedWindow settle_feed(int64_t cursor, const std::vector<int64_t>& ids, std::optional<FeedGap> gap,
                       int64_t xmin, int64_t xmax, bool gaps_possible);
using integration::retry_delay_ms;

class ChangeWebhooks {
 public:
  struct Options {
    int poll_ms = 1000;
    int batch = 200;  // changes per request
    int timeout_ms = 10000;
    int lease_ms = 30000;
  };
  ChangeWebhooks(store::Database& db, const Clock& clock, const audit::AuditLog& audit,
                 Options options);
  ~ChangeWebhooks();

  // Administration (crm:webhook). The secret is write-only: answers say only whether one is set.
  json::object list() const;
  json::object create(const audit::Actor& actor, const json::object& body);
  // `version` as read; `after` rewinds (or skips) the cursor to replay from a change id.
  json::object update(const audit::Actor& actor, int64_t id, const json::object& body);

  void start();
  void stop();
  // One pass over the webhooks that are due; how many batches were delivered. The worker's loop.
  int push_once();

 private:
  struct Outcome {
    bool delivered = false;
    bool more = false;  // a full batch went out: there may be more behind it
  };
  Outcome push_one(const store::Result& hook, size_t row);
  json::object read_one(store::Connection& c, int64_t id) const;

  store::Database& db_;
  const Clock& clock_;
  const audit::AuditLog& audit_;
  Options options_;
  std::string node_;  // this process, for leases
  std::map<int64_t, FeedGap> gaps_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace kefu::crm
