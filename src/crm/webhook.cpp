#include "crm/webhook.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>

#include "base/crypto.hpp"
#include "base/error.hpp"
#include "integration/http_client.hpp"
#include "store/sql.hpp"

namespace kefu::crm {
using store::Value;

FeedWindow settle_feed(int64_t cursor, const std::vector<int64_t>& ids, std::optional<FeedGap> gap,
                       int64_t xmin, int64_t xmax, bool gaps_possible) {
  FeedWindow w{0, cursor, gap};
  int64_t expected = cursor + 1;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] != expected && gaps_possible) {
      bool settled = w.gap && w.gap->first_missing == expected && xmin >= w.gap->xmax;
      if (!settled) {
        if (!w.gap || w.gap->first_missing != expected) w.gap = FeedGap{expected, xmax};
        break;
      }
    }
    w.deliverable = i + 1;
    w.cursor = ids[i];
    expected = ids[i] + 1;
    if (w.gap && w.gap->first_missing < expected) w.gap.reset();
  }
  return w;
}

namespace {

std::string node_name() {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + crypto::random_token(6);
}

constexpr const char* kColumns =
    "id, name, url, enabled, after_id, version, created_at, updated_at, failures, next_attempt_at, "
    "last_attempt_at, last_status, last_error, last_delivered_at, delivered";

json::object hook_json(const store::Result& r, size_t i, int64_t latest) {
  json::object o = store::row_json(r, i);
  o["enabled"] = store::as_int(r.rows[i][size_t(r.column("enabled"))]) != 0;
  o["has_secret"] = true;
  o["lag"] = std::max<int64_t>(0, latest - store::as_int(r.rows[i][size_t(r.column("after_id"))]));
  return o;
}

std::string checked_url(const json::object& body, std::vector<FieldError>& errs) {
  std::string url = string_field(body, "url", true, 500);
  if (!integration::valid_url(url))
    errs.push_back({"url", "invalid_url", "an http:// or https:// address with a host"});
  return url;
}

void check_secret(const std::string& s, std::vector<FieldError>& errs) {
  if (s.size() < 16)
    errs.push_back({"secret", "weak_secret", "the signing secret has at least 16 characters"});
}

}  // namespace

ChangeWebhooks::ChangeWebhooks(store::Database& db, const Clock& clock,
                               const audit::AuditLog& audit, Options options)
    : db_(db), clock_(clock), audit_(audit), options_(options), node_(node_name()) {}

ChangeWebhooks::~ChangeWebhooks() {
  stop();
}

json::object ChangeWebhooks::read_one(store::Connection& c, int64_t id) const {
  auto r = c.exec(std::string("SELECT ") + kColumns + " FROM crm_webhook WHERE id = ?", {id});
  if (r.empty()) throw Error::not_found("no such webhook", "id");
  auto latest = c.exec("SELECT COALESCE(MAX(id), 0) FROM crm_change");
  return hook_json(r, 0, store::as_int(latest.rows[0][0]));
}

json::object ChangeWebhooks::list() const {
  json::object out;
  db_.read([&](store::Connection& c) {
    auto r = c.exec(std::string("SELECT ") + kColumns + " FROM crm_webhook ORDER BY id");
    auto latest = store::as_int(c.exec("SELECT COALESCE(MAX(id), 0) FROM crm_change").rows[0][0]);
    json::array items;
    for (size_t i = 0; i < r.size(); ++i) items.push_back(hook_json(r, i, latest));
    out = {{"items", std::move(items)}, {"latest_change", latest}};
  });
  return out;
}

json::object ChangeWebhooks::create(const audit::Actor& actor, const json::object& body) {
  only_fields(body, {"name", "url", "secret", "enabled", "start"});
  std::vector<FieldError> errs;
  std::string name = string_field(body, "name", true, 60);
  std::string url = checked_url(body, errs);
  std::string secret = string_field(body, "secret", true, 200);
  check_secret(secret, errs);
  std::string start = get_string(body, "start").value_or("now");
  if (start != "now" && start != "beginning")
    errs.push_back({"start", "invalid_option", "now (changes from here on) or beginning"});
  bool enabled = bool_field(body, "enabled", true);
  if (!errs.empty()) throw Error::validation(errs);
  json::object out;
  db_.write([&](store::Connection& c) {
    int64_t after =
        start == "now"
            ? store::as_int(c.exec("SELECT COALESCE(MAX(id), 0) FROM crm_change").rows[0][0])
            : 0;
    int64_t now = clock_.now_ms();
    auto r = c.exec(
        "INSERT INTO crm_webhook (name, url, secret, enabled, after_id, version, created_at, "
        "created_by, updated_at, failures, delivered) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, 0, 0) "
        "RETURNING id",
        {name, url, secret, int64_t(enabled), after, now, actor.id, now});
    int64_t id = store::as_int(r.rows[0][0]);
    json::object state{{"name", name}, {"url", url}, {"enabled", enabled}, {"after_id", after}};
    audit_.append(c, actor, {"crm_webhook", id, "create", audit::AuditLog::diff(nullptr, &state)});
    out = read_one(c, id);
  });
  return out;
}

json::object ChangeWebhooks::update(const audit::Actor& actor, int64_t id,
                                    const json::object& body) {
  only_fields(body, {"version", "name", "url", "secret", "enabled", "after"});
  auto version = get_int(body, "version");
  if (!version) throw Error::validation({{"version", "required", "send the version you read"}});
  std::vector<FieldError> errs;
  std::optional<std::string> name, url, secret;
  if (body.contains("name")) name = string_field(body, "name", true, 60);
  if (body.contains("url")) url = checked_url(body, errs);
  if (body.contains("secret")) {
    secret = string_field(body, "secret", true, 200);
    check_secret(*secret, errs);
  }
  std::optional<bool> enabled;
  if (body.contains("enabled")) enabled = bool_field(body, "enabled", false);
  auto after = get_int(body, "after");
  if (after && *after < 0) errs.push_back({"after", "out_of_range", "a change id, 0 or more"});
  if (!errs.empty()) throw Error::validation(errs);
  json::object out;
  db_.write([&](store::Connection& c) {
    json::object before = read_one(c, id);
    if (before["version"].as_int64() != *version)
      throw Error::conflict("stale_version", "the webhook was changed by someone else", "version");
    json::object was{{"name", before["name"]},
                     {"url", before["url"]},
                     {"enabled", before["enabled"]},
                     {"after_id", before["after_id"]}};
    json::object now_state = was;
    if (name) now_state["name"] = *name;
    if (url) now_state["url"] = *url;
    if (enabled) now_state["enabled"] = *enabled;
    if (after) now_state["after_id"] = *after;
    // A change of address or secret, or a re-enable, is tried at once: the failures were the old
    // configuration's.
    c.exec(
        "UPDATE crm_webhook SET name = ?, url = ?, secret = COALESCE(?, secret), enabled = ?, "
        "after_id = ?, version = version + 1, updated_at = ?, failures = 0, next_attempt_at = NULL "
        "WHERE id = ? AND version = ?",
        {std::string(now_state["name"].as_string()), std::string(now_state["url"].as_string()),
         secret ? Value(*secret) : Value(), int64_t(now_state["enabled"].as_bool()),
         now_state["after_id"].as_int64(), clock_.now_ms(), id, *version});
    json::object diff = audit::AuditLog::diff(&was, &now_state);
    if (secret) diff["secret"] = "(changed)";
    audit_.append(c, actor, {"crm_webhook", id, "update", diff});
    out = read_one(c, id);
  });
  return out;
}

ChangeWebhooks::Outcome ChangeWebhooks::push_one(const store::Result& hooks, size_t row) {
  auto col = [&](const char* k) -> const Value& {
    return hooks.rows[row][size_t(hooks.column(k))];
  };
  const int64_t id = store::as_int(col("id"));
  const int64_t cursor = store::as_int(col("after_id"));
  const int failures = int(store::as_int(col("failures")));
  const bool pg = db_.dialect() == store::Dialect::postgres;
  const int64_t now = clock_.now_ms();

  // The lease: one node pushes a webhook at a time.
  bool mine = db_.write_result([&](store::Connection& c) {
    return c.exec(
                "UPDATE crm_webhook SET lease_owner = ?, lease_until = ? WHERE id = ? AND "
                "enabled = 1 AND (lease_owner IS NULL OR lease_owner = ? OR lease_until < ?)",
                {node_, now + options_.lease_ms, id, node_, now})
               .affected == 1;
  });
  if (!mine) return {};

  store::Result r;
  db_.read([&](store::Connection& c) {
    std::string snap = pg ? "txid_snapshot_xmin(txid_current_snapshot()), "
                            "txid_snapshot_xmax(txid_current_snapshot())"
                          : "0, 0";
    r = c.exec(
        "SELECT ch.id, ch.customer_id, cu.external_key, ch.action, ch.fields, ch.at, "
        "ch.staff_id, " +
            snap +
            " FROM crm_change ch LEFT JOIN crm_customer cu ON cu.id = ch.customer_id WHERE ch.id > "
            "? ORDER BY ch.id LIMIT ?",
        {cursor, int64_t(options_.batch)});
  });
  if (r.empty()) return {};
  std::vector<int64_t> ids;
  for (auto& x : r.rows) ids.push_back(store::as_int(x[0]));
  std::optional<FeedGap> gap;
  if (auto it = gaps_.find(id); it != gaps_.end()) gap = it->second;
  FeedWindow w =
      settle_feed(cursor, ids, gap, store::as_int(r.rows[0][7]), store::as_int(r.rows[0][8]), pg);
  if (w.gap)
    gaps_[id] = *w.gap;
  else
    gaps_.erase(id);
  if (w.deliverable == 0) return {};  // the first id is a gap still waited on

  json::array changes;
  for (size_t i = 0; i < w.deliverable; ++i) {
    const auto& x = r.rows[i];
    changes.push_back(json::object{
        {"id", store::as_int(x[0])},
        {"customer_id", store::as_int(x[1])},
        {"external_key",
         store::is_null(x[2]) ? json::value(nullptr) : json::value(store::as_text(x[2]))},
        {"action", store::as_text(x[3])},
        {"fields", parse_value(store::as_text(x[4]))},
        {"at", store::as_int(x[5])},
        {"staff_id",
         store::is_null(x[6]) ? json::value(nullptr) : json::value(store::as_int(x[6]))}});
  }
  std::string body =
      to_json(json::object{{"webhook", id}, {"changes", std::move(changes)}, {"next", w.cursor}});
  std::string delivery =
      std::to_string(id) + ":" + std::to_string(ids[0]) + "-" + std::to_string(w.cursor);
  auto sent = integration::signed_post(store::as_text(col("url")), store::as_text(col("secret")),
                                       "crm.changes", delivery, body, now, options_.timeout_ms,
                                       {"X-Kefu-Webhook: " + std::to_string(id)});
  const int64_t done = clock_.now_ms();
  db_.write([&](store::Connection& c) {
    if (sent.ok())
      c.exec(
          "UPDATE crm_webhook SET after_id = ?, failures = 0, next_attempt_at = NULL, "
          "last_attempt_at = ?, last_status = ?, last_error = NULL, last_delivered_at = ?, "
          "delivered = delivered + ?, lease_until = ? WHERE id = ? AND after_id = ? AND "
          "lease_owner = ?",
          {w.cursor, done, int64_t(sent.status), done, int64_t(w.deliverable),
           done + options_.lease_ms, id, cursor, node_});
    else
      c.exec(
          "UPDATE crm_webhook SET failures = failures + 1, next_attempt_at = ?, last_attempt_at = "
          "?, last_status = ?, last_error = ? WHERE id = ? AND lease_owner = ?",
          {done + retry_delay_ms(failures + 1), done, int64_t(sent.status),
           (sent.error.empty() ? "HTTP " + std::to_string(sent.status) + " " + sent.body
                               : sent.error)
               .substr(0, 300),
           id, node_});
  });
  if (!sent.ok())
    spdlog::warn("crm webhook {}: delivery {} failed ({}), retry {}", id, delivery,
                 sent.error.empty() ? "HTTP " + std::to_string(sent.status) : sent.error,
                 failures + 1);
  return {sent.ok(), sent.ok() && r.size() == size_t(options_.batch) && w.deliverable == r.size()};
}

int ChangeWebhooks::push_once() {
  store::Result due;
  db_.read([&](store::Connection& c) {
    due = c.exec(
        "SELECT id, url, secret, after_id, failures FROM crm_webhook WHERE enabled = 1 AND "
        "(next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY id",
        {clock_.now_ms()});
  });
  int batches = 0;
  for (size_t i = 0; i < due.size(); ++i) {
    // A full batch delivered: there may be more; drain a while before the next webhook. Each
    // round re-reads the webhook (its cursor moved).
    store::Result hook = due;
    size_t row = i;
    for (int round = 0; round < 50; ++round) {
      Outcome o = push_one(hook, row);
      batches += o.delivered;
      if (!o.more) break;
      db_.read([&](store::Connection& c) {
        hook = c.exec("SELECT id, url, secret, after_id, failures FROM crm_webhook WHERE id = ?",
                      {due.rows[i][0]});
      });
      if (hook.empty()) break;
      row = 0;
    }
  }
  return batches;
}

void ChangeWebhooks::start() {
  worker_ = std::thread([this] {
    std::unique_lock lk(mu_);
    while (!stopping_) {
      lk.unlock();
      try {
        push_once();
      } catch (const std::exception& e) {
        spdlog::warn("crm webhooks: {}", e.what());  // the database may be restarting; next poll
      }
      lk.lock();
      cv_.wait_for(lk, std::chrono::milliseconds(options_.poll_ms), [this] { return stopping_; });
    }
  });
}

void ChangeWebhooks::stop() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

}  // namespace kefu::crm
