#include "notify/service.hpp"

#include <spdlog/spdlog.h>

#include "base/error.hpp"
#include "base/text.hpp"
#include "crm/phone.hpp"
#include "notify/sms_text.hpp"
#include "notify/smtp.hpp"
#include "notify/templates.hpp"

namespace kefu::notify {
namespace {

constexpr int kPriorities = 9;  // 1 goes first (验证码, account alerts) … 9 last (newsletters)

std::string text_of(const json::object& b, const char* key) {
  auto* v = b.if_contains(key);
  if (!v || v->is_null()) return {};
  if (!v->is_string())
    throw Error::validation({{key, "wrong_type", std::string(key) + " is text"}});
  return std::string(v->get_string());
}

int64_t int_of(const json::object& b, const char* key) {
  auto* v = b.if_contains(key);
  if (!v || v->is_null()) return 0;
  if (!v->is_int64())
    throw Error::validation({{key, "wrong_type", std::string(key) + " is a number"}});
  return v->get_int64();
}

std::string upper(std::string s) {
  for (auto& ch : s)
    if (ch >= 'a' && ch <= 'z') ch = char(ch - 'a' + 'A');
  return s;
}

store::Value opt(const std::string& s) {
  return s.empty() ? store::Value() : store::Value(s);
}
store::Value opt(int64_t v) {
  return v ? store::Value(v) : store::Value();
}

// "HH:MM" of a type's sending window, in minutes; `fallback` when empty.
int minutes_of(const std::string& hhmm, int fallback) {
  if (hhmm.size() != 5 || hhmm[2] != ':') return fallback;
  return std::stoi(hhmm.substr(0, 2)) * 60 + std::stoi(hhmm.substr(3, 2));
}

void event(store::Connection& c, int64_t id, int64_t at, const std::string& status,
           const std::string& code, const std::string& detail) {
  c.exec("INSERT INTO notify_event (message_id, at, status, code, detail) VALUES (?, ?, ?, ?, ?)",
         {id, at, status, opt(code), opt(detail)});
}

json::value nullable(const store::Value& v) {
  if (store::is_null(v)) return nullptr;
  if (std::holds_alternative<int64_t>(v)) return std::get<int64_t>(v);
  return json::string(store::as_text(v));
}

}  // namespace

Options Options::from(const Config& c) {
  Options o;
  o.poll_ms = c.notify_poll_ms;
  o.max_attempts = c.notify_max_attempts;
  o.sms_max_segments = c.notify_sms_max_segments;
  o.node = c.cti_node;
  return o;
}

struct NotifyService::Sender {
  Account account;
  mutable std::mutex channel_mu;  // the channel is made by the sender, its state read by the API
  std::unique_ptr<Channel> channel;
  TokenBucket bucket;
  std::thread thread;
  Sender(Account a) : account(std::move(a)), bucket(account.rate, std::max(1.0, account.rate)) {}
};

struct NotifyService::Claimed {
  int64_t id = 0, segments = 1, attempts = 0;
  Outgoing out;
  Sent result;
};

NotifyService::NotifyService(store::Database& db, const Clock& clock, const audit::AuditLog& audit,
                             Options options)
    : db_(db), clock_(clock), audit_(audit), opt_(std::move(options)) {}

NotifyService::~NotifyService() {
  stop();
}

std::vector<store::Migration> NotifyService::migrations() {
  return {
      {"notify/0001_outbox", R"(
CREATE TABLE notify_message (
  id {{ID}}, channel TEXT NOT NULL, account TEXT NOT NULL, type TEXT NOT NULL, priority BIGINT NOT NULL,
  recipient TEXT NOT NULL, customer_id BIGINT, subject TEXT, body TEXT NOT NULL, html TEXT, template TEXT,
  segments BIGINT NOT NULL DEFAULT 1, cost_fen BIGINT NOT NULL DEFAULT 0, status TEXT NOT NULL,
  cause TEXT NOT NULL, dedup_key TEXT UNIQUE, bulk BIGINT NOT NULL DEFAULT 0,
  window_start BIGINT NOT NULL DEFAULT 0, window_end BIGINT NOT NULL DEFAULT 1440,
  created_by BIGINT, created_at BIGINT NOT NULL, next_at BIGINT, expires_at BIGINT,
  attempts BIGINT NOT NULL DEFAULT 0, claimed_by TEXT, lease_until BIGINT, attempt_at BIGINT,
  sent_at BIGINT, delivered_at BIGINT, provider_id TEXT, error_code TEXT, last_error TEXT);
CREATE INDEX ix_notify_due ON notify_message (account, priority, next_at);
CREATE INDEX ix_notify_lease ON notify_message (status, lease_until);
CREATE INDEX ix_notify_recipient ON notify_message (recipient, type, created_at);
CREATE INDEX ix_notify_customer ON notify_message (customer_id, created_at);
CREATE INDEX ix_notify_provider ON notify_message (account, provider_id);
CREATE INDEX ix_notify_created ON notify_message (created_at);
CREATE TABLE notify_event (
  id {{ID}}, message_id BIGINT NOT NULL, at BIGINT NOT NULL, status TEXT NOT NULL, code TEXT, detail TEXT);
CREATE INDEX ix_notify_event ON notify_event (message_id, id);
)"},
      // SMS parts as the SMSC numbered them; receipts as they came (one per part and state,
      // however often repeated), matched to their parts when both are known; customers' replies.
      {"notify/0002_sms", R"(
CREATE TABLE notify_part (
  id {{ID}}, message_id BIGINT NOT NULL, account TEXT NOT NULL, part BIGINT NOT NULL,
  provider_id TEXT NOT NULL, status TEXT NOT NULL, sent_at BIGINT NOT NULL, done_at BIGINT, stat TEXT);
CREATE INDEX ix_notify_part_provider ON notify_part (account, provider_id);
CREATE INDEX ix_notify_part_message ON notify_part (message_id);
CREATE TABLE notify_receipt (
  id {{ID}}, account TEXT NOT NULL, provider_id TEXT NOT NULL, stat TEXT NOT NULL, err TEXT,
  delivered BIGINT NOT NULL, received_at BIGINT NOT NULL, matched_at BIGINT,
  UNIQUE (account, provider_id, stat));
CREATE INDEX ix_notify_receipt_open ON notify_receipt (matched_at);
CREATE TABLE notify_reply (
  id {{ID}}, account TEXT NOT NULL, sender TEXT NOT NULL, recipient TEXT, body TEXT NOT NULL,
  keyword TEXT, action TEXT, received_at BIGINT NOT NULL, answer_id BIGINT);
CREATE TABLE notify_optout (
  channel TEXT NOT NULL, recipient TEXT NOT NULL, at BIGINT NOT NULL, source TEXT NOT NULL,
  PRIMARY KEY (channel, recipient));
CREATE INDEX ix_notify_reply_at ON notify_reply (received_at);
CREATE INDEX ix_notify_reply_sender ON notify_reply (sender, received_at);
)"}};
}

void NotifyService::add_account(Account account) {
  senders_[account.name] = std::make_unique<Sender>(account);
  accounts_.push_back(std::move(account));
}

bool NotifyService::has_channel(const std::string& channel) const {
  return account_for(channel) != nullptr;
}

const Account* NotifyService::account_for(const std::string& channel) const {
  for (auto& a : accounts_)
    if (a.channel == channel) return &a;
  return nullptr;
}

Request NotifyService::request_from(const json::object& b) {
  Request r;
  r.channel = text_of(b, "channel");
  r.type = text_of(b, "type");
  r.recipient = text_of(b, "recipient");
  r.customer_id = int_of(b, "customer_id");
  r.template_code = text_of(b, "template");
  if (auto* v = b.if_contains("variables"); v && !v->is_null()) {
    if (!v->is_object())
      throw Error::validation({{"variables", "wrong_type", "variables is an object"}});
    r.variables = v->get_object();
  }
  r.subject = text_of(b, "subject");
  r.text = text_of(b, "text");
  r.html = text_of(b, "html");
  r.not_before = int_of(b, "not_before");
  return r;
}

json::object NotifyService::enqueue(store::Connection& c, const Request& r) {
  int64_t now = clock_.now_ms();
  if (r.channel != "sms" && r.channel != "email")
    throw Error::validation({{"channel", "invalid_option", "channel is sms or email"}});
  const Account* acc = account_for(r.channel);
  if (!acc)
    throw Error::validation(
        {{"channel", "no_account", "no provider account is configured for " + r.channel}});
  if (!r.dedup_key.empty()) {
    auto d = c.exec("SELECT id, status FROM notify_message WHERE dedup_key = ?", {r.dedup_key});
    if (!d.empty())
      return json::object{{"id", store::as_int(d.rows[0][0])},
                          {"status", store::as_text(d.rows[0][1])},
                          {"duplicate", true}};
  }

  // The message type: priority, caps, window, expiry.
  if (r.type.empty()) throw Error::validation({{"type", "required", "name the message type"}});
  auto t = c.exec(
      "SELECT priority, per_minute, per_hour, per_day, over_cap, window_start, window_end, "
      "expire_minutes, bulk FROM notify_type WHERE code = ? AND archived = 0",
      {r.type});
  if (t.empty()) throw Error::validation({{"type", "not_found", "no message type " + r.type}});
  auto& tr = t.rows[0];
  int64_t priority =
      std::clamp<int64_t>(store::is_null(tr[0]) ? 5 : store::as_int(tr[0]), 1, kPriorities);
  std::vector<Cap> caps;
  if (!store::is_null(tr[1])) caps.push_back({60'000, int(store::as_int(tr[1]))});
  if (!store::is_null(tr[2])) caps.push_back({3'600'000, int(store::as_int(tr[2]))});
  if (!store::is_null(tr[3])) caps.push_back({86'400'000, int(store::as_int(tr[3]))});
  bool reject_over_cap = store::as_text(tr[4]) != "delay";
  int w_start = minutes_of(store::is_null(tr[5]) ? "" : store::as_text(tr[5]), 0);
  int w_end = minutes_of(store::is_null(tr[6]) ? "" : store::as_text(tr[6]), 24 * 60);
  int64_t expire_min = store::is_null(tr[7]) ? 0 : store::as_int(tr[7]);
  bool bulk = !store::is_null(tr[8]) && store::as_int(tr[8]) != 0;

  // The content: a template filled with the sender's variables, or the text as given.
  std::string subject = r.subject, text = r.text, html = r.html;
  if (!r.template_code.empty()) {
    auto tp = c.exec(
        "SELECT channel, subject, body, html, enabled FROM notify_template WHERE code = ? AND "
        "archived = 0",
        {r.template_code});
    if (tp.empty() || (!store::is_null(tp.rows[0][4]) && store::as_int(tp.rows[0][4]) == 0))
      throw Error::validation({{"template", "not_found", "no usable template " + r.template_code}});
    if (store::as_text(tp.rows[0][0]) != r.channel)
      throw Error::validation(
          {{"template", "wrong_channel",
            "template " + r.template_code + " is for " + store::as_text(tp.rows[0][0])}});
    auto field = [&](int i) {
      return store::is_null(tp.rows[0][i]) ? std::string() : store::as_text(tp.rows[0][i]);
    };
    subject = render_template(field(1), r.variables, Escape::none);
    text = render_template(field(2), r.variables, Escape::none);
    html = render_template(field(3), r.variables, Escape::html);
  }
  if (text.empty()) throw Error::validation({{"text", "required", "the message has no text"}});

  // The recipient and the size, per channel.
  std::string recipient = r.recipient;
  int64_t segments = 1;
  if (r.channel == "sms") {
    crm::Phone p;
    std::string err = crm::normalize_phone(recipient, p);
    if (!err.empty() || p.kind != crm::PhoneKind::mobile)
      throw Error::validation(
          {{"recipient", "invalid_phone", "not a mobile number: " + recipient}});
    recipient = p.number;
    auto plan = plan_sms(text);
    segments = plan.segments();
    if (segments > opt_.sms_max_segments)
      throw Error::validation(
          {{r.template_code.empty() ? "text" : "template", "message_too_long",
            "the SMS would take " + std::to_string(segments) + " segments; at most " +
                std::to_string(opt_.sms_max_segments)}});
  } else {
    if (!valid_email(recipient))
      throw Error::validation(
          {{"recipient", "invalid_email", "not an e-mail address: " + recipient}});
    if (subject.empty())
      throw Error::validation({{"subject", "required", "an e-mail needs a subject"}});
    if (text.size() + html.size() + subject.size() > opt_.email_max_bytes)
      throw Error::validation({{"text", "message_too_long", "the e-mail is over its size limit"}});
    if (!valid_utf8(text) || !valid_utf8(html) || !valid_utf8(subject))
      throw Error::validation({{"text", "invalid_text", "the e-mail is not UTF-8"}});
  }
  // A customer who replied TD gets no more marketing; service messages still reach him.
  if (bulk && !c.exec("SELECT 1 FROM notify_optout WHERE channel = ? AND recipient = ?",
                      {r.channel, recipient})
                   .empty())
    throw Error::validation(
        {{"recipient", "opted_out", recipient + " has unsubscribed from marketing messages"}});
  if (r.customer_id && customer_exists_ && !customer_exists_(c, r.customer_id))
    throw Error::validation({{"customer_id", "not_found", "no such customer"}});

  // Frequency caps per recipient and type: refused (验证码) or held back (marketing).
  int64_t not_before = std::max(now, r.not_before);
  if (!caps.empty()) {
    int64_t longest = 0;
    int most = 0;
    for (auto& cap : caps) {
      longest = std::max(longest, cap.window_ms);
      most = std::max(most, cap.max);
    }
    std::vector<int64_t> sent;
    for (auto& row :
         c.exec("SELECT created_at FROM notify_message WHERE recipient = ? AND type = ? "
                "AND created_at > ? AND status NOT IN ('cancelled', 'failed', 'expired') "
                "ORDER BY created_at DESC LIMIT ?",
                {recipient, r.type, now - longest, int64_t(most)})
             .rows)
      sent.push_back(store::as_int(row[0]));
    int64_t allowed = next_allowed_by_caps(sent, caps, now);
    if (allowed > now && reject_over_cap)
      throw Error(429, "frequency_capped",
                  "too many " + r.type + " messages to this recipient; the next may go in " +
                      std::to_string((allowed - now + 999) / 1000) + " s",
                  "recipient");
    not_before = std::max(not_before, allowed);
  }
  int64_t next_at = next_in_window(not_before, {w_start, w_end}, opt_.utc_offset_min);
  int64_t expires_at = expire_min ? now + expire_min * 60'000 : 0;

  auto ins = c.exec(
      "INSERT INTO notify_message (channel, account, type, priority, recipient, customer_id, "
      "subject, body, html, template, segments, status, cause, dedup_key, bulk, window_start, "
      "window_end, created_by, created_at, next_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
      "?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {r.channel,
       acc->name,
       r.type,
       priority,
       recipient,
       opt(r.customer_id),
       opt(subject),
       text,
       opt(html),
       opt(r.template_code),
       segments,
       r.cause.empty() ? std::string("api") : r.cause,
       opt(r.dedup_key),
       int64_t(bulk),
       int64_t(w_start),
       int64_t(w_end),
       opt(r.created_by),
       now,
       next_at,
       opt(expires_at)});
  int64_t id = store::as_int(ins.rows[0][0]);
  event(c, id, now, "queued", "", next_at > now ? "held until " + iso_utc(next_at) : "");
  if (r.customer_id && contact_) {
    std::string summary = r.channel == "sms" ? text : subject;
    if (utf8_length(summary) > 60) {
      size_t cut = 0;
      for (int n = 0; n < 60 && cut < summary.size(); ++n) {
        auto ch = uint8_t(summary[cut]);
        cut += ch < 0x80 ? 1 : ch < 0xE0 ? 2 : ch < 0xF0 ? 3 : 4;
      }
      summary = summary.substr(0, cut) + "…";
    }
    contact_(c, r.customer_id, now, r.created_by, id, r.channel, summary);
  }
  return json::object{{"id", id},
                      {"status", "queued"},
                      {"recipient", recipient},
                      {"segments", segments},
                      {"cost_fen", segments * acc->cost_fen},
                      {"next_at", next_at}};
}

json::object NotifyService::cancel(store::Connection& c, const audit::Actor& actor, int64_t id) {
  int64_t now = clock_.now_ms();
  auto n = c.exec(
      "UPDATE notify_message SET status = 'cancelled', next_at = NULL WHERE id = ? AND status = "
      "'queued'",
      {id});
  if (n.affected != 1) {
    auto s = c.exec("SELECT status FROM notify_message WHERE id = ?", {id});
    if (s.empty()) throw Error(404, "not_found", "no such message");
    throw Error(409, "not_cancellable",
                "the message is " + store::as_text(s.rows[0][0]) +
                    "; only a queued message can be cancelled");
  }
  event(c, id, now, "cancelled", "", "");
  audit_.append(c, actor, {"notify_message", id, "cancel", json::object{}});
  return json::object{{"id", id}, {"status", "cancelled"}};
}

// ---- sending ----------------------------------------------------------------------------------

int NotifyService::recover(bool at_start) {
  int64_t now = clock_.now_ms();
  return int(db_.write_result([&](store::Connection& c) {
    store::Result r;
    if (at_start)
      r = c.exec(
          "UPDATE notify_message SET status = 'queued', next_at = ?, claimed_by = NULL, "
          "lease_until = NULL WHERE status = 'sending' AND (? = '' OR claimed_by = ? OR "
          "lease_until < ?)",
          {now, opt_.node, opt_.node, now});
    else
      r = c.exec(
          "UPDATE notify_message SET status = 'queued', next_at = ?, claimed_by = NULL, "
          "lease_until = NULL WHERE status = 'sending' AND lease_until < ?",
          {now, now});
    return r.affected;
  }));
}

int NotifyService::pump(const std::string& account) {
  auto it = senders_.find(account);
  if (it == senders_.end()) return 0;
  Sender& s = *it->second;
  int64_t now = clock_.now_ms();
  // A batch fills the account's window (SMPP) at least twice over, or the window never fills.
  const int limit = std::max(opt_.batch, 2 * s.account.window);
  std::vector<Claimed> batch;
  db_.write([&](store::Connection& c) {
    for (int p = 1; p <= kPriorities && int(batch.size()) < limit; ++p) {
      auto due = c.exec(
          "SELECT id, window_start, window_end, expires_at FROM notify_message WHERE account = ? "
          "AND priority = ? AND next_at <= ? ORDER BY next_at LIMIT ?",
          {account, int64_t(p), now, int64_t(limit - int(batch.size()))});
      for (auto& row : due.rows) {
        int64_t id = store::as_int(row[0]);
        if (!store::is_null(row[3]) && store::as_int(row[3]) < now) {
          c.exec("UPDATE notify_message SET status = 'expired', next_at = NULL WHERE id = ?", {id});
          event(c, id, now, "expired", "expired", "not sent before it expired");
          continue;
        }
        int64_t open = next_in_window(now, {int(store::as_int(row[1])), int(store::as_int(row[2]))},
                                      opt_.utc_offset_min);
        if (open > now) {
          c.exec("UPDATE notify_message SET next_at = ? WHERE id = ?", {open, id});
          continue;
        }
        auto claim = c.exec(
            "UPDATE notify_message SET status = 'sending', next_at = NULL, claimed_by = ?, "
            "lease_until = ?, attempts = attempts + 1, attempt_at = ? WHERE id = ? AND status = "
            "'queued' AND next_at IS NOT NULL",
            {opt_.node, now + opt_.lease_ms, now, id});
        if (claim.affected == 1) batch.push_back(Claimed{id});
      }
    }
    for (auto& m : batch) {
      auto r = c.exec(
          "SELECT recipient, subject, body, html, bulk, segments, attempts FROM notify_message "
          "WHERE id = ?",
          {m.id});
      auto& row = r.rows[0];
      m.out.id = m.id;
      m.out.message_id = "kefu-notify-" + std::to_string(m.id) + "@" +
                         (opt_.node.empty() ? std::string("kefu") : opt_.node);
      m.out.recipient = store::as_text(row[0]);
      m.out.subject = store::is_null(row[1]) ? "" : store::as_text(row[1]);
      m.out.text = store::as_text(row[2]);
      m.out.html = store::is_null(row[3]) ? "" : store::as_text(row[3]);
      m.out.bulk = store::as_int(row[4]) != 0;
      m.segments = store::as_int(row[5]);
      m.attempts = store::as_int(row[6]);
    }
  });
  if (batch.empty()) return 0;

  Channel& channel = channel_of(s);
  int64_t renewed = now;
  std::vector<Outgoing> outgoing;
  outgoing.reserve(batch.size());
  for (auto& m : batch) outgoing.push_back(m.out);
  auto pace = [&](size_t i) {
    // A slow provider (each send may take its full timeout) must not outlive the lease, or the
    // rest of the batch would be taken back and sent twice: renew it for what is left.
    if (clock_.now_ms() - renewed > opt_.lease_ms / 3) {
      renewed = clock_.now_ms();
      db_.write([&](store::Connection& c) {
        for (size_t k = i; k < batch.size(); ++k)
          c.exec("UPDATE notify_message SET lease_until = ? WHERE id = ? AND status = 'sending'",
                 {renewed + opt_.lease_ms, batch[k].id});
      });
    }
    // The account's rate: wait for a token (an SMS takes one per segment).
    double need = std::min(s.account.channel == "sms" ? double(batch[i].segments) : 1.0,
                           std::max(1.0, s.account.rate));
    while (running_ && !s.bucket.take(clock_.now_ms(), need)) {
      std::unique_lock lk(mu_);
      cv_.wait_for(lk, std::chrono::milliseconds(
                           std::min<int64_t>(100, s.bucket.wait_ms(clock_.now_ms(), need))));
    }
    return true;
  };
  std::vector<Sent> results;
  try {
    results = channel.send_all(outgoing, pace);
  } catch (const std::exception& e) {
    results.assign(1, Sent{Outcome::temporary, "", "channel_error", e.what()});
  }
  for (size_t i = 0; i < batch.size(); ++i)
    batch[i].result = i < results.size() ? std::move(results[i])
                                         : Sent{Outcome::temporary, "", "not_sent", "not tried"};

  int sent = 0;
  int64_t done = clock_.now_ms();
  db_.write([&](store::Connection& c) {
    for (auto& m : batch) {
      auto& r = m.result;
      if (r.outcome == Outcome::accepted) {
        ++sent;
        std::string pid =
            r.provider_id.empty() && !r.part_ids.empty() ? r.part_ids[0] : r.provider_id;
        c.exec(
            "UPDATE notify_message SET status = 'sent', sent_at = ?, provider_id = ?, cost_fen = "
            "?, "
            "claimed_by = NULL, lease_until = NULL, error_code = NULL, last_error = NULL WHERE id "
            "= "
            "? AND status = 'sending'",
            {done, opt(pid), m.segments * s.account.cost_fen, m.id});
        event(c, m.id, done, "sent", "", pid);
        for (size_t k = 0; k < r.part_ids.size(); ++k) {
          c.exec(
              "INSERT INTO notify_part (message_id, account, part, provider_id, status, sent_at) "
              "VALUES (?, ?, ?, ?, 'sent', ?)",
              {m.id, account, int64_t(k + 1), r.part_ids[k], done});
          apply_receipts(c, account, r.part_ids[k]);  // one that came before its submit_sm_resp
        }
        continue;
      }
      int64_t next =
          next_attempt_at(r.outcome, int(m.attempts), opt_.max_attempts, done, r.backoff_floor_ms);
      if (next < 0) {
        c.exec(
            "UPDATE notify_message SET status = 'failed', claimed_by = NULL, lease_until = NULL, "
            "error_code = ?, last_error = ? WHERE id = ? AND status = 'sending'",
            {r.code, r.error.substr(0, 300), m.id});
        event(c, m.id, done, "failed", r.code, r.error.substr(0, 300));
      } else {
        c.exec(
            "UPDATE notify_message SET status = 'queued', next_at = ?, claimed_by = NULL, "
            "lease_until = NULL, error_code = ?, last_error = ? WHERE id = ? AND status = "
            "'sending'",
            {next, r.code, r.error.substr(0, 300), m.id});
        event(c, m.id, done, "retry", r.code, r.error.substr(0, 300));
      }
    }
  });
  for (auto& m : batch)
    if (m.result.outcome != Outcome::accepted)
      spdlog::warn("notify: message {} on {} not sent ({}: {})", m.id, account, m.result.code,
                   m.result.error);
  return sent;
}

Channel& NotifyService::channel_of(Sender& s) {
  std::lock_guard lk(s.channel_mu);
  if (!s.channel) s.channel = s.account.open(*this);
  return *s.channel;
}

void NotifyService::run(Sender& s) {
  int64_t last_recover = 0;
  while (running_) {
    int n = 0;
    try {
      channel_of(s);  // a link that receives (SMPP) is up before there is anything to send
      match_receipts();
      if (clock_.now_ms() - last_recover > opt_.lease_ms / 2) {
        last_recover = clock_.now_ms();
        if (int back = recover(false))
          spdlog::warn("notify: {} messages whose sender's lease ran out are queued again", back);
      }
      n = pump(s.account.name);
    } catch (const std::exception& e) {
      // The sender never dies: a database hiccup is logged and the round tried again.
      spdlog::error("notify: sender {}: {}", s.account.name, e.what());
    }
    if (n == 0) {
      std::unique_lock lk(mu_);
      cv_.wait_for(lk, std::chrono::milliseconds(opt_.poll_ms), [&] { return !running_; });
    }
  }
}

void NotifyService::start() {
  if (running_.exchange(true)) return;
  if (int back = recover(true))
    spdlog::warn("notify: {} messages in flight at the last stop are queued again (at-least-once)",
                 back);
  for (auto& [name, s] : senders_) {
    Sender* raw = s.get();
    raw->thread = std::thread([this, raw] { run(*raw); });
  }
}

void NotifyService::stop() {
  if (!running_.exchange(false)) return;
  cv_.notify_all();
  for (auto& [name, s] : senders_) {
    if (s->thread.joinable()) s->thread.join();
    // A link that receives on its own thread (SMPP) unbinds now, while the database is there for
    // what it still receives.
    std::lock_guard lk(s->channel_mu);
    s->channel.reset();
  }
}

// ---- what providers report ------------------------------------------------------------------

bool NotifyService::receipt(const std::string& account, const Receipt& r) {
  return receipts(account, {r});
}

bool NotifyService::receipts(const std::string& account, const std::vector<Receipt>& rs) {
  int64_t now = clock_.now_ms();
  db_.write([&](store::Connection& c) {
    for (auto& r : rs) {
      if (!r.final || r.provider_id.empty()) continue;  // ENROUTE, ACCEPTD: nothing to keep
      c.exec(
          "INSERT INTO notify_receipt (account, provider_id, stat, err, delivered, received_at) "
          "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
          {account, r.provider_id, r.stat, opt(r.err), int64_t(r.delivered), now});
      apply_receipts(c, account, r.provider_id);
    }
  });
  return true;
}

int NotifyService::apply_receipts(store::Connection& c, const std::string& account,
                                  const std::string& provider_id) {
  int64_t now = clock_.now_ms();
  auto rs = c.exec(
      "SELECT r.id, r.stat, r.err, r.delivered, p.id, p.message_id FROM notify_receipt r JOIN "
      "notify_part p ON p.account = r.account AND p.provider_id = r.provider_id WHERE "
      "r.account = ? AND r.provider_id = ? AND r.matched_at IS NULL ORDER BY r.id",
      {account, provider_id});
  for (auto& row : rs.rows) {
    int64_t receipt = store::as_int(row[0]), part = store::as_int(row[4]),
            message = store::as_int(row[5]);
    std::string stat = store::as_text(row[1]);
    bool delivered = store::as_int(row[3]) != 0;
    c.exec("UPDATE notify_receipt SET matched_at = ? WHERE id = ?", {now, receipt});
    c.exec(
        "UPDATE notify_part SET status = ?, done_at = ?, stat = ? WHERE id = ? AND status = "
        "'sent'",
        {delivered ? "delivered" : "undelivered", now, stat, part});
    // The message is delivered when every part is; it has failed when any part has.
    auto left = c.exec(
        "SELECT SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END), SUM(CASE WHEN status = "
        "'undelivered' THEN 1 ELSE 0 END), COUNT(*) FROM notify_part WHERE message_id = ?",
        {message});
    int64_t open = store::as_int(left.rows[0][0]), failed = store::as_int(left.rows[0][1]),
            parts = store::as_int(left.rows[0][2]);
    auto seg = c.exec("SELECT segments FROM notify_message WHERE id = ?", {message});
    if (failed > 0) {
      auto u = c.exec(
          "UPDATE notify_message SET status = 'failed', error_code = ?, last_error = ? WHERE id = "
          "? AND status = 'sent'",
          {"smsc_" + to_lower(stat),
           "the SMSC reports " + stat + " (err " +
               (store::is_null(row[2]) ? "" : store::as_text(row[2])) + ")",
           message});
      if (u.affected == 1) event(c, message, now, "failed", "smsc_" + to_lower(stat), stat);
    } else if (open == 0 && !seg.empty() && parts >= store::as_int(seg.rows[0][0])) {
      auto u = c.exec(
          "UPDATE notify_message SET status = 'delivered', delivered_at = ? WHERE id = ? AND "
          "status = 'sent'",
          {now, message});
      if (u.affected == 1) event(c, message, now, "delivered", "", stat);
    }
  }
  return int(rs.rows.size());
}

int NotifyService::match_receipts() {
  std::vector<std::pair<std::string, std::string>> open;
  db_.read([&](store::Connection& c) {
    for (auto& row : c.exec("SELECT DISTINCT r.account, r.provider_id FROM notify_receipt r JOIN "
                            "notify_part p ON p.account = r.account AND p.provider_id = "
                            "r.provider_id WHERE r.matched_at IS NULL LIMIT 500")
                         .rows)
      open.emplace_back(store::as_text(row[0]), store::as_text(row[1]));
  });
  if (open.empty()) return 0;
  return int(db_.write_result([&](store::Connection& c) {
    int64_t n = 0;
    for (auto& [account, id] : open) n += apply_receipts(c, account, id);
    return n;
  }));
}

bool NotifyService::reply(const std::string& account, const Reply& r) {
  // The keyword is the reply's first word (TD, KT, 1 …), as customers type it, in upper case.
  std::string body = r.text, keyword;
  size_t start = body.find_first_not_of(" \t\r\n");
  if (start != std::string::npos) {
    size_t end = body.find_first_of(" \t\r\n", start);
    keyword = upper(body.substr(start, end == std::string::npos ? end : end - start));
  }
  if (keyword.size() > 40) keyword.clear();
  std::string sender = r.sender;
  crm::Phone phone;
  if (crm::normalize_phone(sender, phone).empty()) sender = phone.number;
  int64_t now = clock_.now_ms();
  db_.write([&](store::Connection& c) {
    auto k = c.exec(
        "SELECT action, reply, reply_type FROM notify_keyword WHERE keyword = ? AND archived = 0",
        {keyword});
    if (k.empty())  // not a keyword: the help text, if there is one
      k = c.exec(
          "SELECT action, reply, reply_type FROM notify_keyword WHERE action = 'help' AND "
          "archived = 0 ORDER BY id LIMIT 1");
    std::string action = k.empty() ? "" : store::as_text(k.rows[0][0]);
    if (action == "stop")
      c.exec(
          "INSERT INTO notify_optout (channel, recipient, at, source) VALUES ('sms', ?, ?, ?) ON "
          "CONFLICT DO NOTHING",
          {sender, now, "sms:" + keyword});
    else if (action == "start")
      c.exec("DELETE FROM notify_optout WHERE channel = 'sms' AND recipient = ?", {sender});
    int64_t answer = 0;
    if (!k.empty() && !store::is_null(k.rows[0][1]) && !store::as_text(k.rows[0][1]).empty()) {
      Request a;
      a.channel = "sms";
      a.type = store::is_null(k.rows[0][2]) ? "service" : store::as_text(k.rows[0][2]);
      a.recipient = sender;
      a.text = store::as_text(k.rows[0][1]);
      a.cause = "reply";
      try {  // the answer is a courtesy: a cap or a bad number must not lose the reply itself
        answer = enqueue(c, a).at("id").as_int64();
      } catch (const std::exception& e) {
        spdlog::warn("notify: no answer to {}'s reply: {}", sender, e.what());
      }
    }
    c.exec(
        "INSERT INTO notify_reply (account, sender, recipient, body, keyword, action, "
        "received_at, answer_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        {account, sender, opt(r.recipient), body, opt(keyword), opt(action), now, opt(answer)});
  });
  return true;
}

json::array NotifyService::accounts() const {
  json::array out;
  for (auto& a : accounts_) {
    auto& s = *senders_.at(a.name);
    std::string state = "idle";
    {
      std::lock_guard lk(s.channel_mu);
      if (s.channel) state = s.channel->state();
    }
    out.push_back(json::object{{"name", a.name},
                               {"channel", a.channel},
                               {"rate", a.rate},
                               {"cost_fen", a.cost_fen},
                               {"state", state}});
  }
  return out;
}

json::object NotifyService::replies(const std::map<std::string, std::string>& q) const {
  std::string where = " WHERE 1 = 1";
  std::vector<store::Value> params;
  if (auto it = q.find("sender"); it != q.end() && !it->second.empty()) {
    where += " AND sender = ?";
    params.push_back(it->second);
  }
  if (auto it = q.find("keyword"); it != q.end() && !it->second.empty()) {
    where += " AND keyword = ?";
    params.push_back(upper(it->second));
  }
  int64_t size = 50;
  if (auto it = q.find("size"); it != q.end())
    size = std::clamp<int64_t>(std::atoll(it->second.c_str()), 1, 500);
  json::object out;
  db_.read([&](store::Connection& c) {
    auto total = c.exec("SELECT COUNT(*) FROM notify_reply" + where, params);
    auto p = params;
    p.push_back(size);
    auto r = c.exec(
        "SELECT id, account, sender, recipient, body, keyword, action, received_at, answer_id "
        "FROM notify_reply" +
            where + " ORDER BY id DESC LIMIT ?",
        p);
    json::array items;
    for (size_t i = 0; i < r.rows.size(); ++i) {
      json::object o;
      for (size_t k = 0; k < r.columns.size(); ++k) o[r.columns[k]] = nullable(r.rows[i][k]);
      items.push_back(std::move(o));
    }
    out = json::object{{"items", std::move(items)}, {"total", store::as_int(total.rows[0][0])}};
  });
  return out;
}

// ---- reading ----------------------------------------------------------------------------------

namespace {
const char* kColumns =
    "id, channel, account, type, priority, recipient, customer_id, subject, body, template, "
    "segments, cost_fen, status, cause, created_by, created_at, next_at, expires_at, attempts, "
    "sent_at, delivered_at, provider_id, error_code, last_error";

json::object row_object(const store::Result& r, size_t i) {
  json::object o;
  for (size_t k = 0; k < r.columns.size(); ++k) o[r.columns[k]] = nullable(r.rows[i][k]);
  return o;
}
}  // namespace

json::object NotifyService::list(const Principal& who,
                                 const std::map<std::string, std::string>& q) const {
  std::string where = " WHERE 1 = 1";
  std::vector<store::Value> params;
  auto filter = [&](const char* key, const char* column) {
    auto it = q.find(key);
    if (it != q.end() && !it->second.empty()) {
      where += std::string(" AND ") + column + " = ?";
      params.push_back(it->second);
    }
  };
  filter("status", "status");
  filter("channel", "channel");
  filter("type", "type");
  filter("recipient", "recipient");
  filter("cause", "cause");
  if (auto it = q.find("customer_id"); it != q.end() && !it->second.empty()) {
    where += " AND customer_id = ?";
    params.push_back(store::Value(int64_t(std::atoll(it->second.c_str()))));
  }
  if (!who.has("notify:read")) {  // a sender sees what he sent
    where += " AND created_by = ?";
    params.push_back(who.staff_id);
  }
  int64_t size = 50, page = 1;
  if (auto it = q.find("size"); it != q.end())
    size = std::clamp<int64_t>(std::atoll(it->second.c_str()), 1, 500);
  if (auto it = q.find("page"); it != q.end())
    page = std::max<int64_t>(1, std::atoll(it->second.c_str()));
  json::object out;
  db_.read([&](store::Connection& c) {
    auto total = c.exec("SELECT COUNT(*) FROM notify_message" + where, params);
    auto p = params;
    p.push_back(size);
    p.push_back((page - 1) * size);
    auto r = c.exec(std::string("SELECT ") + kColumns + " FROM notify_message" + where +
                        " ORDER BY id DESC LIMIT ? OFFSET ?",
                    p);
    json::array items;
    for (size_t i = 0; i < r.rows.size(); ++i) items.push_back(row_object(r, i));
    out = json::object{{"items", std::move(items)},
                       {"total", store::as_int(total.rows[0][0])},
                       {"page", page},
                       {"size", size}};
  });
  return out;
}

json::object NotifyService::get(const Principal& who, int64_t id) const {
  json::object out;
  db_.read([&](store::Connection& c) {
    auto r =
        c.exec(std::string("SELECT ") + kColumns + ", html FROM notify_message WHERE id = ?", {id});
    if (r.empty()) throw Error(404, "not_found", "no such message");
    out = row_object(r, 0);
    if (!who.has("notify:read") && out["created_by"] != json::value(who.staff_id))
      throw Error(404, "not_found", "no such message");
    json::array events;
    auto e = c.exec(
        "SELECT at, status, code, detail FROM notify_event WHERE message_id = ? ORDER BY id", {id});
    for (size_t i = 0; i < e.rows.size(); ++i) events.push_back(row_object(e, i));
    out["events"] = std::move(events);
    json::array parts;
    auto pr = c.exec(
        "SELECT part, provider_id, status, sent_at, done_at, stat FROM notify_part WHERE "
        "message_id = ? ORDER BY part, id",
        {id});
    for (size_t i = 0; i < pr.rows.size(); ++i) parts.push_back(row_object(pr, i));
    out["parts"] = std::move(parts);
  });
  return out;
}

}  // namespace kefu::notify
