#include "cti/service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include "base/error.hpp"
#include "base/text.hpp"
#include "cti/kpi.hpp"
#include "cti/sim_adapters.hpp"
#include "cti/sim_switch.hpp"
#include "cti/switch_pair.hpp"
#include "integration/counter_adapters.hpp"
#include "sip/sip_switch.hpp"
#include "store/database.hpp"

namespace kefu::cti {

using store::Value;

std::vector<store::Migration> Service::migrations() {
  // Append-only facts; cti_call is the one row per call that its closing updates.
  return {{"cti/0001_facts", R"(
CREATE TABLE cti_call (
  id BIGINT PRIMARY KEY, direction TEXT NOT NULL, ani TEXT NOT NULL, dnis TEXT NOT NULL, tier BIGINT NOT NULL,
  started_at BIGINT NOT NULL, ended_at BIGINT, disposition TEXT, recording TEXT);
CREATE INDEX ix_cti_call_started ON cti_call (started_at);
CREATE INDEX ix_cti_call_open ON cti_call (ended_at);
CREATE TABLE cti_segment (
  id {{ID}}, call_id BIGINT NOT NULL, seq BIGINT NOT NULL, kind TEXT NOT NULL, queue TEXT, staff_id BIGINT,
  party TEXT, started_at BIGINT NOT NULL, ended_at BIGINT NOT NULL, result TEXT NOT NULL);
CREATE UNIQUE INDEX ix_cti_segment_call ON cti_segment (call_id, seq);
CREATE TABLE cti_call_event (
  id {{ID}}, call_id BIGINT NOT NULL, leg_id BIGINT NOT NULL, type TEXT NOT NULL, staff_id BIGINT, queue TEXT,
  detail TEXT NOT NULL, at BIGINT NOT NULL);
CREATE INDEX ix_cti_call_event_call ON cti_call_event (call_id);
CREATE TABLE cti_queue_log (
  id {{ID}}, call_id BIGINT NOT NULL, queue TEXT NOT NULL, event TEXT NOT NULL, staff_id BIGINT,
  wait_ms BIGINT NOT NULL, at BIGINT NOT NULL);
CREATE INDEX ix_cti_queue_log_at ON cti_queue_log (queue, at);
CREATE TABLE cti_agent_state (
  id {{ID}}, staff_id BIGINT NOT NULL, from_state TEXT NOT NULL, to_state TEXT NOT NULL, reason TEXT NOT NULL,
  call_id BIGINT, at BIGINT NOT NULL);
CREATE INDEX ix_cti_agent_state_staff ON cti_agent_state (staff_id, id);
CREATE TABLE cti_wrap_up (
  id {{ID}}, call_id BIGINT NOT NULL, staff_id BIGINT NOT NULL, call_type TEXT NOT NULL, summary TEXT NOT NULL,
  at BIGINT NOT NULL);
CREATE INDEX ix_cti_wrap_up_call ON cti_wrap_up (call_id);
)",
           ""},
          // Sticky routing reads who last talked with each number at start.
          {"cti/0002_talk_index",
           "CREATE INDEX ix_cti_segment_kind ON cti_segment (kind, started_at);\n", ""},
          // 菜单记录: every node each caller went through, for the menu statistics. A caller
          // may go through flows several times (the survey after his talk): seq counts per call.
          {"cti/0003_ivr_path", R"(
CREATE TABLE cti_ivr_path (
  id {{ID}}, call_id BIGINT NOT NULL, seq BIGINT NOT NULL, flow TEXT NOT NULL, node TEXT NOT NULL,
  input TEXT NOT NULL, result TEXT NOT NULL, at BIGINT NOT NULL);
CREATE UNIQUE INDEX ix_cti_ivr_path_call ON cti_ivr_path (call_id, seq);
CREATE INDEX ix_cti_ivr_path_node ON cti_ivr_path (flow, node, at);
)",
           ""},
          // 多渠道: a chat or an e-mail is a conversation with a CDR like a call's, and its lines.
          {"cti/0004_conversations", R"(
ALTER TABLE cti_call ADD COLUMN channel TEXT NOT NULL DEFAULT 'voice';
CREATE TABLE cti_message (
  id {{ID}}, call_id BIGINT NOT NULL, seq BIGINT NOT NULL, sender TEXT NOT NULL, staff_id BIGINT,
  body TEXT NOT NULL, at BIGINT NOT NULL);
CREATE UNIQUE INDEX ix_cti_message_call ON cti_message (call_id, seq);
)",
           ""},
          // 客户接触历史: the caller's customer, when the customer file knew the number.
          {"cti/0005_customer",
           "ALTER TABLE cti_call ADD COLUMN customer_id BIGINT;\n"
           "CREATE INDEX ix_cti_call_customer ON cti_call (customer_id, started_at);\n",
           ""},
          // Several nodes on one database (Kamailio in front): whose call and agent state a row
          // is, and the id block each node took when it started.
          {"cti/0006_node", R"(
ALTER TABLE cti_call ADD COLUMN node TEXT;
ALTER TABLE cti_agent_state ADD COLUMN node TEXT;
CREATE TABLE cti_id_block (first_id BIGINT PRIMARY KEY, node TEXT NOT NULL, at BIGINT NOT NULL);
)",
           ""},
          // 客户留言: every voicemail is a task in the hotline's inbox until someone handles it.
          {"cti/0007_voicemail", R"(
CREATE TABLE cti_voicemail (
  call_id BIGINT PRIMARY KEY, queue TEXT, ani TEXT NOT NULL, at BIGINT NOT NULL, seconds BIGINT NOT NULL,
  status TEXT NOT NULL, handled_by BIGINT, handled_at BIGINT, note TEXT);
CREATE INDEX ix_cti_voicemail_status ON cti_voicemail (status, at);
)",
           ""},
          // 通话质量: each leg's RTP statistics and the far end's RTCP view, for QA and reports.
          {"cti/0008_leg_media", R"(
CREATE TABLE cti_leg_media (
  call_id BIGINT NOT NULL, leg_id BIGINT NOT NULL, packets_in BIGINT NOT NULL, lost BIGINT NOT NULL,
  packets_out BIGINT NOT NULL, jitter_us BIGINT NOT NULL, far_lost BIGINT, far_jitter_us BIGINT,
  rtt_us BIGINT, at BIGINT NOT NULL, PRIMARY KEY (call_id, leg_id));
)",
           ""},
          // Who took part in a call, looked up by call when a customer's file is opened.
          {"cti/0009_agent_state_call",
           "CREATE INDEX ix_cti_agent_state_call ON cti_agent_state (call_id, staff_id);\n"
           "CREATE INDEX ix_cti_call_ani ON cti_call (ani, started_at);\n"
           "CREATE INDEX ix_cti_call_dnis ON cti_call (dnis, started_at);\n",
           ""}};
}

namespace {

// The first id of a block of a billion for this run of this node, above `at_least` and above
// every block taken before. Two nodes starting at once race for the same block: the primary key
// lets one win, and the other takes the next.
int64_t take_id_block(store::Database& db, int64_t at_least, const std::string& node, Millis now) {
  constexpr int64_t kBlock = 1'000'000'000;
  for (int attempt = 0;; ++attempt) {
    try {
      return db.write_result([&](store::Connection& c) {
        int64_t last =
            store::as_int(c.exec("SELECT COALESCE(MAX(first_id), 0) FROM cti_id_block").rows[0][0]);
        int64_t first = std::max(at_least, last ? last + kBlock : 1);
        c.exec("INSERT INTO cti_id_block (first_id, node, at) VALUES (?, ?, ?)",
               {first, node, now});
        return first;
      });
    } catch (const store::DbError& e) {
      if (e.kind() != store::DbError::Kind::unique || attempt >= 5) throw;
    }
  }
}

// clang-format off
constexpr const char* kLoadQueues =
    "SELECT code, name, strategy, skills, access_numbers, weight_s, widen_after_s, max_wait_s, max_length,"
    " fallback, fallback_target, sl_threshold_s, sticky_wait_s, callback_digit, channel, announce_s"
    " FROM cti_queue WHERE archived = 0 AND enabled <> 0 ORDER BY id";
// Who last talked with each number over the last week, newest last (the core keeps the last).
constexpr const char* kLoadLastAgents =
    "SELECT CASE WHEN c.direction = 'inbound' THEN c.ani ELSE c.dnis END, s.staff_id"
    " FROM cti_segment s JOIN cti_call c ON c.id = s.call_id"
    " WHERE s.kind = 'talk' AND s.staff_id IS NOT NULL AND s.started_at >= ? ORDER BY s.started_at";
constexpr const char* kLoadAgents =
    "SELECT s.id, s.username, s.name, s.extension, s.level, s.org_id, a.skills, a.chat_capacity, o.path, o.name,"
    " a.email_capacity, a.voice_with_media, a.sip_secret"
    " FROM cti_agent a JOIN staff s ON s.id = a.staff_id LEFT JOIN org_unit o ON o.id = s.org_id"
    " WHERE a.archived = 0 AND a.enabled <> 0 AND s.archived = 0 ORDER BY s.id";
// clang-format on

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : s + ",") {
    if (ch == ',' || ch == ' ' || ch == ';') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  return out;
}

acd::Strategy parse_strategy(const std::string& s) {
  using S = acd::Strategy;
  if (s == "fewest_calls") return S::fewest_calls;
  if (s == "least_talk_time") return S::least_talk_time;
  if (s == "round_robin") return S::round_robin;
  if (s == "top_down") return S::top_down;
  if (s == "random") return S::random;
  if (s == "ring_all") return S::ring_all;
  return S::longest_idle;
}

Value opt_staff(const std::vector<AgentDef>& defs, AgentId a) {
  return a >= 0 && size_t(a) < defs.size() ? Value(defs[size_t(a)].staff_id) : Value();
}
Value opt_queue(const std::vector<QueueDef>& defs, QueueId q) {
  return q >= 0 && size_t(q) < defs.size() ? Value(defs[size_t(q)].code) : Value();
}

}  // namespace

struct Service::Impl {
  store::Database& db;
  const Clock& clock;
  ServiceOptions opt;
  IdSource ids;
  std::unique_ptr<SimSwitch> sim;
  std::unique_ptr<sip::SipSwitch> sip;              // when configured: real phones and callers
  std::unique_ptr<SwitchPair> fabric;               // sim and SIP behind one interface
  std::map<std::string, std::string> sip_accounts;  // extension → SIP secret of his phone
  bool poked = false;                               // under mu: the SIP thread has events waiting
  std::unique_ptr<CallCenter> cc;
  std::unique_ptr<KpiBoard> kpi;
  std::vector<AgentInfo> agents;
  std::vector<std::pair<int64_t, std::string>> teams;

  std::mutex mu;
  std::condition_variable cv;
  struct Job {
    std::function<json::value(Ctx&)> fn;
    std::promise<json::value> done;
    bool taken = false;  // the core's thread has it (under mu): it will run and answer
  };
  std::deque<std::shared_ptr<Job>> jobs;
  bool stopping = false;
  std::thread thread;
  std::vector<Fact> unsaved;  // facts whose transaction failed: retried before anything else
  Millis next_stats = 0;
  std::map<std::string, acd::SkillId> skills;  // skill names, numbered once for the process
  std::string fingerprint;                     // of the configuration tables, to notice edits
  Millis next_reload_check = 0;
  std::atomic<uint64_t> facts_gen{0};  // turns that stored facts: the live picture changed
  std::mutex snap_mu;                  // the last picture, shared by the wallboards
  std::shared_ptr<const json::object> snap;
  uint64_t snap_gen = 0;
  Millis snap_at = 0;

  std::string config_fingerprint(store::Connection& c);
  void load_config(store::Connection& c, std::vector<QueueDef>& queues,
                   std::vector<AgentDef>& agents, std::vector<AgentInfo>& infos);
  std::vector<IvrDef> load_ivrs(store::Connection& c);
  std::vector<CampaignCode> load_campaign_codes(store::Connection& c);
  void refresh_views();  // KPI board and team list after the core's configuration changed
  // The IVR's adapters: the trading counter over the adapter protocol when one is configured,
  // else simulated in process (see sim_adapters.hpp).
  std::unique_ptr<Adapters> adapters;
  void reload(Millis now);

  Impl(store::Database& d, const Clock& c, ServiceOptions o) : db(d), clock(c), opt(std::move(o)) {
    if (!opt.counter_url.empty()) {
      adapters = std::make_unique<integration::CounterAdapters>(opt.counter_url);
    } else {
      // Demo accounts of the simulated trading counter (资金账号, password, holder, available).
      auto sim = std::make_unique<SimAdapters>();
      sim->add_account("880001", "123456", "张三", "12,345.67");
      sim->add_account("880002", "654321", "李四", "8,000.00");
      adapters = std::move(sim);
    }
  }

  void persist(const std::vector<Fact>& facts);
  // This node's name for the rows it writes; NULL for the only node.
  Value node_value() const { return opt.node.empty() ? Value() : Value(opt.node); }
  void record_contact(store::Connection& c, CallId call, const char* kind,
                      const std::string& summary, int64_t staff, Millis at);
  void loop(const Publish& publish);
  void publish_facts(const std::vector<Fact>& facts, const Publish& publish);
};

// Row counts and version sums of what the configuration is read from: any edit, archive or
// restore changes it. Cheap (hundreds of rows), read on the core's thread every few seconds.
std::string Service::Impl::config_fingerprint(store::Connection& c) {
  auto r = c.exec(
      "SELECT (SELECT COUNT(*) FROM cti_queue), (SELECT COALESCE(SUM(version), 0) FROM cti_queue),"
      " (SELECT COUNT(*) FROM cti_agent), (SELECT COALESCE(SUM(a.version + s.version), 0)"
      " FROM cti_agent a JOIN staff s ON s.id = a.staff_id),"
      " (SELECT COALESCE(SUM(o.version), 0) FROM org_unit o),"
      " (SELECT COUNT(*) FROM ivr_flow), (SELECT COALESCE(SUM(version), 0) FROM ivr_flow),"
      " (SELECT COUNT(*) FROM cti_site), (SELECT COALESCE(SUM(version), 0) FROM cti_site),"
      " (SELECT COALESCE(SUM(version), 0) FROM dict_item WHERE dict_type = 'holiday'),"
      " (SELECT COUNT(*) FROM cti_campaign_code),"
      " (SELECT COALESCE(SUM(version), 0) FROM cti_campaign_code)",
      {});
  std::string out;
  for (auto& v : r.rows[0]) out += std::to_string(store::as_int(v)) + ":";
  return out;
}

// The holiday calendar: dictionary `holiday`, codes yyyymmdd.
static std::vector<int> load_holidays(store::Connection& c) {
  std::vector<int> out;
  for (auto& r : c.exec("SELECT code FROM dict_item WHERE dict_type = 'holiday' AND archived = 0 "
                        "AND enabled <> 0",
                        {})
                     .rows) {
    std::string code = store::as_text(r[0]);
    if (code.size() == 8 && code.find_first_not_of("0123456789") == std::string::npos)
      out.push_back(std::stoi(code));
  }
  return out;
}

std::vector<CampaignCode> Service::Impl::load_campaign_codes(store::Connection& c) {
  std::vector<CampaignCode> out;
  auto day = [](const store::Value& v) {  // "YYYY-MM-DD" → yyyymmdd; 0 when open
    if (store::is_null(v)) return 0;
    std::string t = store::as_text(v);
    std::erase(t, '-');
    return t.size() == 8 && t.find_first_not_of("0123456789") == std::string::npos ? std::stoi(t)
                                                                                   : 0;
  };
  for (auto& r : c.exec("SELECT code, name, reception_number, valid_from, valid_to FROM "
                        "cti_campaign_code WHERE archived = 0 AND enabled <> 0",
                        {})
                     .rows)
    out.push_back(
        {store::as_text(r[0]), store::as_text(r[1]), store::as_text(r[2]), day(r[3]), day(r[4])});
  return out;
}

std::vector<IvrDef> Service::Impl::load_ivrs(store::Connection& c) {
  std::vector<IvrDef> out;
  auto r = c.exec(
      "SELECT code, name, access_numbers, definition FROM ivr_flow WHERE archived = 0 AND "
      "enabled <> 0 ORDER BY id",
      {});
  for (auto& row : r.rows) {
    IvrDef d{store::as_text(row[0]), store::as_text(row[1]), split_list(store::as_text(row[2])),
             nullptr};
    try {  // checked on save; a flow stored before a stricter check is skipped, not fatal
      d.flow = std::make_shared<const ivr::Flow>(ivr::parse_flow(store::as_text(row[3])));
      out.push_back(std::move(d));
    } catch (const std::exception& e) {
      spdlog::warn("cti: IVR flow {} is not usable: {}", d.code, e.what());
    }
  }
  return out;
}

void Service::Impl::load_config(store::Connection& c, std::vector<QueueDef>& queues,
                                std::vector<AgentDef>& agents, std::vector<AgentInfo>& infos) {
  auto skill_ids = [&](const std::string& list) {
    std::vector<acd::SkillId> out;
    for (auto& s : split_list(list))
      out.push_back(skills.emplace(s, acd::SkillId(skills.size())).first->second);
    return out;
  };
  auto q = c.exec(kLoadQueues, {});
  for (auto& r : q.rows) {
    QueueDef d;
    d.code = store::as_text(r[0]);
    d.name = store::as_text(r[1]);
    d.spec.strategy = parse_strategy(store::as_text(r[2]));
    d.spec.skills = skill_ids(store::as_text(r[3]));
    d.access_numbers = split_list(store::as_text(r[4]));
    d.spec.weight_ms = store::as_int(r[5]) * 1000;
    d.spec.widen_after_ms = store::as_int(r[6]) * 1000;
    d.spec.max_wait_ms = store::as_int(r[7]) * 1000;
    if (int64_t n = store::as_int(r[8]); n > 0) d.max_length = size_t(n);
    d.fallback = store::is_null(r[9]) ? "hangup" : store::as_text(r[9]);
    d.fallback_target = store::as_text(r[10]);
    d.sl_threshold_ms = store::as_int(r[11]) * 1000;
    d.sticky_wait_ms = store::is_null(r[12]) ? -1 : store::as_int(r[12]) * 1000;
    if (d.sticky_wait_ms < 0) d.sticky_wait_ms = -1;
    d.callback_digit = store::as_text(r[13]);
    if (!parse_channel(store::as_text(r[14]), d.spec.channel)) d.spec.channel = acd::Channel::voice;
    d.announce_ms = store::is_null(r[15]) ? 0 : store::as_int(r[15]) * 1000;
    queues.push_back(std::move(d));
  }
  // Access sites by organisation path; an agent takes the site of his nearest organisation.
  std::vector<std::pair<std::string, std::string>> sites;  // (org path, caller id)
  for (auto& r : c.exec("SELECT o.path, s.caller_id FROM cti_site s JOIN org_unit o ON o.id = "
                        "s.org_id WHERE s.archived = 0 AND s.enabled <> 0",
                        {})
                     .rows)
    sites.emplace_back(store::as_text(r[0]), store::as_text(r[1]));
  auto site_of = [&](const std::string& path) {
    std::string best, id;
    for (auto& [p, cid] : sites)
      if (path.compare(0, p.size(), p) == 0 && p.size() > best.size()) best = p, id = cid;
    return id;
  };
  infos.clear();
  std::map<std::string, std::string> accounts;
  auto a = c.exec(kLoadAgents, {});
  for (auto& r : a.rows) {
    AgentDef d;
    d.staff_id = store::as_int(r[0]);
    d.username = store::as_text(r[1]);
    d.name = store::as_text(r[2]);
    d.extension = store::as_text(r[3]);
    std::string level = store::as_text(r[4]);  // dictionary staff_level: L1..L5
    d.spec.level = level.size() == 2 && level[1] >= '1' && level[1] <= '5' ? level[1] - '0' : 1;
    d.org_id = store::is_null(r[5]) ? 0 : store::as_int(r[5]);
    d.spec.skills = skill_ids(store::as_text(r[6]));
    d.spec.capacity[size_t(acd::Channel::chat)] =
        int(store::is_null(r[7]) ? 0 : store::as_int(r[7]));
    d.spec.capacity[size_t(acd::Channel::email)] =
        int(store::is_null(r[10]) ? 0 : store::as_int(r[10]));
    d.spec.voice_with_media = !store::is_null(r[11]) && store::as_int(r[11]) != 0;
    // Every extension is known to the switch (a number that is not one may go to the gateway);
    // only those with a secret may register.
    if (!d.extension.empty()) accounts[d.extension] = store::as_text(r[12]);
    d.caller_id = site_of(store::as_text(r[8]));
    infos.push_back({d.staff_id, d.org_id, store::as_text(r[8]), store::as_text(r[9])});
    agents.push_back(std::move(d));
  }
  sip_accounts = std::move(accounts);
  if (sip) sip->set_accounts(sip_accounts);
}

void Service::Impl::refresh_views() {
  // Agent infos follow the core's agent ids (a retired agent keeps his place and last info).
  std::map<int64_t, AgentInfo> by_staff;
  for (auto& i : agents) by_staff[i.staff_id] = i;
  agents.clear();
  std::vector<int64_t> team_of;
  std::map<int64_t, std::string> team_names;
  for (auto& d : cc->agent_defs()) {
    auto it = by_staff.find(d.staff_id);
    AgentInfo info = it != by_staff.end() ? it->second : AgentInfo{d.staff_id, d.org_id, "", ""};
    agents.push_back(info);
    team_of.push_back(info.org_id);
    if (!d.retired) team_names[info.org_id] = info.org_name;
  }
  teams.assign(team_names.begin(), team_names.end());
  std::vector<Millis> thresholds;
  for (auto& q : cc->queue_defs()) thresholds.push_back(q.sl_threshold_ms);
  kpi->reconfigure(std::move(thresholds), std::move(team_of));
}

// 配置热加载: an administrator edited queues or agents; the core takes the edit at once.
void Service::Impl::reload(Millis now) {
  std::vector<QueueDef> queues;
  std::vector<AgentDef> defs;
  std::vector<AgentInfo> infos;
  std::vector<IvrDef> ivrs;
  std::vector<int> holidays;
  std::vector<CampaignCode> codes;
  std::string print;
  db.read([&](store::Connection& c) {
    print = config_fingerprint(c);
    if (print != fingerprint) {
      load_config(c, queues, defs, infos);
      ivrs = load_ivrs(c);
      holidays = load_holidays(c);
      codes = load_campaign_codes(c);
    }
  });
  if (print == fingerprint) return;
  fingerprint = print;
  // Old infos of retired agents stay; new ones replace by staff id.
  std::map<int64_t, AgentInfo> merged;
  for (auto& i : agents) merged[i.staff_id] = i;
  for (auto& i : infos) merged[i.staff_id] = i;
  agents.clear();
  for (auto& [id, i] : merged) agents.push_back(i);
  auto r = cc->reconfigure(std::move(queues), std::move(defs), now);
  cc->set_ivrs(std::move(ivrs));
  cc->set_holidays(std::move(holidays));
  cc->set_campaign_codes(std::move(codes));
  refresh_views();
  spdlog::info("cti: configuration reloaded: queues +{} ~{} -{}, agents +{} ~{} -{}",
               r.queues_added, r.queues_changed, r.queues_retired, r.agents_added, r.agents_changed,
               r.agents_retired);
}

Service::Service(store::Database& db, const Clock& clock, ServiceOptions opt)
    : impl_(std::make_unique<Impl>(db, clock, std::move(opt))) {}

Service::~Service() {
  stop();
}

Service::Recovery Service::start() {
  auto& m = *impl_;
  Recovery rec;
  Millis now = m.clock.now_ms();
  // 1. What a crash left open is closed, as facts.
  // E-mails nobody finished are not lost with the process: they go back to their queues.
  struct Reopen {
    CallId id;
    CallCenter::ConversationRequest req;
    Millis started;
    int segments, messages;
  };
  std::vector<Reopen> reopen;
  m.db.write([&](store::Connection& c) {
    auto open = c.exec(
        "SELECT id, channel, ani, dnis, tier, started_at, customer_id FROM cti_call WHERE ended_at "
        "IS NULL AND (? = '' OR node = ? OR node IS NULL)",
        {m.opt.node, m.opt.node});
    for (auto& row : open.rows) {
      int64_t id = store::as_int(row[0]);
      if (store::as_text(row[1]) == "email") {
        Reopen r{id, {}, store::as_int(row[5]), 0, 0};
        r.req.channel = acd::Channel::email;
        r.req.customer = store::as_text(row[2]);
        r.req.queue = store::as_text(row[3]);
        r.req.tier = int(store::as_int(row[4]));
        r.req.customer_id = store::is_null(row[6]) ? 0 : store::as_int(row[6]);
        auto n = c.exec(
            "SELECT (SELECT COALESCE(MAX(seq) + 1, 0) FROM cti_segment WHERE call_id = ?), "
            "(SELECT COALESCE(MAX(seq), 0) FROM cti_message WHERE call_id = ?), "
            "(SELECT MIN(detail) FROM cti_call_event WHERE call_id = ? AND type = 'offered')",
            {id, id, id});
        r.segments = int(store::as_int(n.rows[0][0]));
        r.messages = int(store::as_int(n.rows[0][1]));
        r.req.subject = store::as_text(n.rows[0][2]);
        c.exec(
            "INSERT INTO cti_call_event (call_id, leg_id, type, staff_id, queue, detail, at) "
            "VALUES (?, 0, 'diverted', NULL, NULL, 'system_restart', ?)",
            {id, now});
        reopen.push_back(std::move(r));
        continue;
      }
      c.exec(
          "INSERT INTO cti_call_event (call_id, leg_id, type, staff_id, queue, detail, at) VALUES "
          "(?, 0, 'cleared', NULL, NULL, 'system_restart', ?)",
          {id, now});
      auto last = c.exec(
          "SELECT queue, event FROM cti_queue_log WHERE call_id = ? ORDER BY id DESC LIMIT 1",
          {id});
      if (!last.empty()) {
        auto ev = store::as_text(last.rows[0][1]);
        if (ev == "enter" || ev == "ring_noanswer" || ev == "transfer")
          c.exec(
              "INSERT INTO cti_queue_log (call_id, queue, event, staff_id, wait_ms, at) VALUES (?, "
              "?, 'system_restart', NULL, 0, ?)",
              {id, last.rows[0][0], now});
      }
      c.exec("UPDATE cti_call SET ended_at = ?, disposition = 'system_restart' WHERE id = ?",
             {now, id});
      ++rec.calls;
    }
    auto states = c.exec(
        "SELECT s.staff_id, s.to_state FROM cti_agent_state s WHERE s.id = "
        "(SELECT MAX(id) FROM cti_agent_state t WHERE t.staff_id = s.staff_id) AND s.to_state <> "
        "'signed_out' AND (? = '' OR s.node = ? OR s.node IS NULL)",
        {m.opt.node, m.opt.node});
    for (auto& row : states.rows) {
      c.exec(
          "INSERT INTO cti_agent_state (staff_id, from_state, to_state, reason, call_id, at, node) "
          "VALUES (?, ?, 'signed_out', 'system_restart', NULL, ?, ?)",
          {row[0], row[1], now, m.node_value()});
      ++rec.agents;
    }
  });
  // 2. Configuration: queues and agent profiles (edits apply live: see reload()).
  std::vector<QueueDef> queues;
  std::vector<AgentDef> agents;
  std::vector<IvrDef> ivrs;
  std::vector<int> holidays;
  std::vector<CampaignCode> codes;
  int64_t max_id = 0;
  std::vector<std::vector<Value>> last_agents;
  m.db.read([&](store::Connection& c) {
    m.fingerprint = m.config_fingerprint(c);
    m.load_config(c, queues, agents, m.agents);
    ivrs = m.load_ivrs(c);
    holidays = load_holidays(c);
    codes = m.load_campaign_codes(c);
    last_agents = c.exec(kLoadLastAgents, {m.clock.now_ms() - 7 * 86'400'000LL}).rows;
    auto ids = c.exec("SELECT COALESCE(MAX(id), 0) FROM cti_call", {});
    auto legs = c.exec("SELECT COALESCE(MAX(leg_id), 0) FROM cti_call_event", {});
    max_id = std::max(store::as_int(ids.rows[0][0]), store::as_int(legs.rows[0][0]));
  });
  // Ids stay unique across restarts and across the nodes of a cluster: each start takes a block of
  // its own, after everything stored (with room for unsaved tasks) and after every block taken.
  m.ids.reset(take_id_block(m.db, max_id + 1'000'000, m.opt.node, m.clock.now_ms()));
  m.kpi = std::make_unique<KpiBoard>(std::vector<Millis>{}, std::vector<int64_t>{});
  m.sim = std::make_unique<SimSwitch>(m.clock, m.ids);
  Switch* sw = m.sim.get();
  if (!m.opt.sip_listen.empty()) {
    sip::SipOptions so;
    so.listen = m.opt.sip_listen;
    so.realm = m.opt.sip_realm;
    so.media_address = m.opt.media_address;
    so.recording_dir = m.opt.recording_dir;
    so.prompt_dir = m.opt.prompt_dir;
    so.media_threads = m.opt.media_threads;
    so.gateway = m.opt.sip_gateway;
    so.gateway_user = m.opt.sip_gateway_user;
    so.gateway_password = m.opt.sip_gateway_password;
    m.sip = std::make_unique<sip::SipSwitch>(so, m.ids);
    m.sip->set_accounts(m.sip_accounts);
    m.sip->start();
    m.sip->on_ready([this] {
      std::lock_guard lk(impl_->mu);
      impl_->poked = true;
      impl_->cv.notify_one();
    });
    // A registered phone takes its extension's calls, the gateway (if any) outside numbers;
    // everything else stays simulated.
    auto* s = m.sip.get();
    m.fabric = std::make_unique<SwitchPair>(*m.sim, *m.sip,
                                            [s](const std::string& to) { return s->reaches(to); });
    sw = m.fabric.get();
  }
  m.cc =
      std::make_unique<CallCenter>(m.opt.center, std::move(queues), std::move(agents), *sw, m.ids);
  m.cc->set_ivrs(std::move(ivrs));
  m.cc->set_holidays(std::move(holidays));
  m.cc->set_campaign_codes(std::move(codes));
  m.refresh_views();
  for (auto& r : reopen)
    m.cc->reopen_conversation(r.id, r.req, r.started, r.segments, r.messages, now);
  if (!reopen.empty()) {
    m.persist(m.cc->take_facts());
    spdlog::info("cti: {} e-mails from the last run are back in their queues", reopen.size());
  }
  std::map<int64_t, AgentId> by_staff;
  for (size_t i = 0; i < m.cc->agent_defs().size(); ++i)
    by_staff[m.cc->agent_defs()[i].staff_id] = AgentId(i);
  for (auto& r : last_agents)
    if (auto it = by_staff.find(store::as_int(r[1])); it != by_staff.end())
      m.cc->remember_agent(store::as_text(r[0]), it->second);
  sw->set_sink([this](const SwitchEvent& ev) {
    if (ev.kind == SwitchEvent::Kind::incoming && impl_->opt.screen) {
      SwitchEvent screened = ev;
      Screening s = impl_->opt.screen(ev.from);
      screened.customer = s.customer;
      if (screened.tier < 0) screened.tier = s.tier;
      screened.blocked = s.blocked;
      screened.queue = s.queue;
      return impl_->cc->on_switch(screened, impl_->clock.now_ms());
    }
    impl_->cc->on_switch(ev, impl_->clock.now_ms());
  });
  spdlog::info("cti: {} queues, {} agents; recovered {} open calls and {} agents from the last run",
               m.cc->queue_defs().size(), m.cc->agent_defs().size(), rec.calls, rec.agents);
  m.thread = std::thread([this] { impl_->loop(publish_); });
  return rec;
}

void Service::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  {
    std::lock_guard lk(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  impl_->thread.join();
  if (impl_->sip) impl_->sip->stop();  // calls in progress are hung up with a BYE
}

json::value Service::exec(const std::function<json::value(Ctx&)>& fn) {
  auto job = std::make_shared<Impl::Job>();
  job->fn = fn;
  auto fut = job->done.get_future();
  {
    std::lock_guard lk(impl_->mu);
    if (impl_->stopping || !impl_->thread.joinable())
      throw Error::unavailable("the real-time core is not running");
    impl_->jobs.push_back(job);
  }
  impl_->cv.notify_one();
  if (fut.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    // A 503 must mean "not done": a command still waiting is withdrawn; one the core has taken
    // is waited for (it finishes within the turn, whose store write has its own time limit).
    std::unique_lock lk(impl_->mu);
    if (!job->taken) {
      auto& q = impl_->jobs;
      q.erase(std::remove(q.begin(), q.end(), job), q.end());
      throw Error::unavailable("the real-time core did not answer in time; nothing was done");
    }
  }
  return fut.get();
}

// A call of a known customer goes into his contact history: the call when it ends (with who
// talked last and how long), the agent's wrap-up when it is written.
void Service::Impl::record_contact(store::Connection& c, CallId call, const char* kind,
                                   const std::string& summary, int64_t staff, Millis at) {
  if (!opt.record_contact) return;
  auto r = c.exec(
      "SELECT customer_id, channel, direction, started_at, dnis FROM cti_call WHERE id = ? AND "
      "customer_id IS NOT NULL",
      {call});
  if (r.empty()) return;
  CallContact k;
  k.customer_id = store::as_int(r.rows[0][0]);
  k.call = call;
  k.channel = store::as_text(r.rows[0][1]);
  k.direction = store::as_text(r.rows[0][2]) == "inbound" ? "inbound" : "outbound";
  k.kind = kind;
  k.at = at;
  k.staff_id = staff;
  k.summary = summary;
  if (k.kind == "call") {
    auto s = c.exec(
        "SELECT staff_id FROM cti_segment WHERE call_id = ? AND kind = 'talk' AND staff_id IS NOT "
        "NULL ORDER BY seq DESC LIMIT 1",
        {call});
    if (!s.empty()) k.staff_id = store::as_int(s.rows[0][0]);
    k.summary = summary + " · " + store::as_text(r.rows[0][4]) + " · " +
                std::to_string((at - store::as_int(r.rows[0][3])) / 1000) + "s";
    // 菜单记录: the menus he went through, in order, so the history shows his IVR path too.
    std::string path;
    for (auto& row :
         c.exec("SELECT flow, node FROM cti_ivr_path WHERE call_id = ? ORDER BY seq", {call}).rows)
      path += (path.empty() ? "" : ">") + store::as_text(row[1]);
    if (!path.empty()) k.summary += " · IVR " + path;
  }
  opt.record_contact(c, k);
  if (k.kind != "call") return;
  // 客户评价: the rating he keyed after the agent hung up is its own line of his history.
  for (auto& row : c.exec("SELECT flow, node, input, at FROM cti_ivr_path WHERE call_id = ? AND "
                          "result = 'rated' ORDER BY seq",
                          {call})
                       .rows) {
    CallContact rated = k;
    rated.channel = "survey";
    rated.kind = "survey";
    rated.at = store::as_int(row[3]);
    rated.summary = "客户评价 " + store::as_text(row[2]) + " · " + store::as_text(row[0]) + "/" +
                    store::as_text(row[1]);
    opt.record_contact(c, rated);
  }
}

void Service::Impl::persist(const std::vector<Fact>& facts) {
  const auto& ad = cc->agent_defs();
  const auto& qd = cc->queue_defs();
  db.write([&](store::Connection& c) {
    for (const Fact& f : facts) {
      if (auto* o = std::get_if<CallOpened>(&f)) {
        c.exec(
            "INSERT INTO cti_call (id, direction, ani, dnis, tier, started_at, channel, "
            "customer_id, node) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            {o->call, o->direction, o->ani, o->dnis, int64_t(o->tier), o->at, o->channel,
             o->customer_id ? Value(o->customer_id) : Value(), node_value()});
      } else if (auto* e = std::get_if<CallEvent>(&f)) {
        c.exec(
            "INSERT INTO cti_call_event (call_id, leg_id, type, staff_id, queue, detail, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            {e->call, e->leg, e->type, e->staff ? Value(e->staff) : opt_staff(ad, e->agent),
             opt_queue(qd, e->queue), e->detail, e->at});
      } else if (auto* q = std::get_if<QueueLog>(&f)) {
        c.exec(
            "INSERT INTO cti_queue_log (call_id, queue, event, staff_id, wait_ms, at) VALUES (?, "
            "?, ?, ?, ?, ?)",
            {q->call, opt_queue(qd, q->queue), q->event, opt_staff(ad, q->agent), q->wait_ms,
             q->at});
      } else if (auto* a = std::get_if<AgentChange>(&f)) {
        c.exec(
            "INSERT INTO cti_agent_state (staff_id, from_state, to_state, reason, call_id, at, "
            "node) VALUES (?, ?, ?, ?, ?, ?, ?)",
            {opt_staff(ad, a->agent), a->from, a->to, a->reason, a->call ? Value(a->call) : Value(),
             a->at, node_value()});
      } else if (auto* s = std::get_if<SegmentClosed>(&f)) {
        c.exec(
            "INSERT INTO cti_segment (call_id, seq, kind, queue, staff_id, party, started_at, "
            "ended_at, result) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            {s->call, int64_t(s->seg.seq), s->seg.kind, opt_queue(qd, s->seg.queue),
             s->seg.staff_id ? Value(s->seg.staff_id) : opt_staff(ad, s->seg.agent), s->seg.party,
             s->seg.started, s->seg.ended, s->seg.result});
      } else if (auto* k = std::get_if<CallClosed>(&f)) {
        c.exec(
            "UPDATE cti_call SET ended_at = ?, disposition = ?, recording = ? WHERE id = ?",
            {k->at, k->disposition, k->recording.empty() ? Value() : Value(k->recording), k->call});
        record_contact(c, k->call, "call", k->disposition, 0, k->at);
        // A message left: a task in the voicemail inbox, in the same transaction as the CDR.
        if (k->disposition == "voicemail" && !k->recording.empty())
          c.exec(
              "INSERT INTO cti_voicemail (call_id, queue, ani, at, seconds, status) SELECT c.id, "
              "s.queue, c.ani, s.started_at, (? - s.started_at) / 1000, 'new' FROM cti_call c JOIN "
              "cti_segment s ON s.call_id = c.id AND s.kind = 'voicemail' WHERE c.id = ?",
              {k->at, k->call});
      } else if (auto* w = std::get_if<WrapUp>(&f)) {
        c.exec(
            "INSERT INTO cti_wrap_up (call_id, staff_id, call_type, summary, at) VALUES (?, ?, ?, "
            "?, ?)",
            {w->call, opt_staff(ad, w->agent), w->call_type, w->summary, w->at});
        Value staff = opt_staff(ad, w->agent);
        record_contact(c, w->call, "wrap_up",
                       w->call_type + (w->summary.empty() ? "" : ": " + w->summary),
                       store::is_null(staff) ? 0 : store::as_int(staff), w->at);
      } else if (auto* st = std::get_if<IvrStep>(&f)) {
        c.exec(
            "INSERT INTO cti_ivr_path (call_id, seq, flow, node, input, result, at) VALUES (?, ?, "
            "?, ?, ?, ?, ?)",
            {st->call, int64_t(st->seq), st->flow, st->node, st->input, st->result, st->at});
      } else if (auto* m = std::get_if<Message>(&f)) {
        c.exec(
            "INSERT INTO cti_message (call_id, seq, sender, staff_id, body, at) VALUES (?, ?, ?, "
            "?, "
            "?, ?)",
            {m->call, int64_t(m->seq), m->sender, opt_staff(ad, m->agent), m->body, m->at});
      } else if (auto* al = std::get_if<Alert>(&f)) {
        c.exec(
            "INSERT INTO cti_call_event (call_id, leg_id, type, staff_id, queue, detail, at) "
            "VALUES (?, 0, 'help', ?, NULL, ?, ?)",
            {al->call, opt_staff(ad, al->agent), al->note, al->at});
      } else if (auto* lm = std::get_if<LegMedia>(&f)) {
        const auto& q = lm->quality;
        auto known = [](int64_t v) { return v < 0 ? Value() : Value(v); };
        c.exec(
            "INSERT INTO cti_leg_media (call_id, leg_id, packets_in, lost, packets_out, jitter_us, "
            "far_lost, far_jitter_us, rtt_us, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (call_id, leg_id) DO NOTHING",
            {lm->call, lm->leg, q.packets_in, q.lost, q.packets_out, q.jitter_us, known(q.far_lost),
             known(q.far_jitter_us), known(q.rtt_us), lm->at});
      }
    }
  });
}

void Service::Impl::publish_facts(const std::vector<Fact>& facts, const Publish& publish) {
  if (!publish) return;
  const auto& ad = cc->agent_defs();
  auto staff = [&](AgentId a) {
    return a >= 0 && size_t(a) < ad.size() ? ad[size_t(a)].staff_id : int64_t(0);
  };
  for (const Fact& f : facts) {
    if (auto* a = std::get_if<AgentChange>(&f)) {
      publish("cti.agent",
              json::object{{"staff_id", staff(a->agent)},
                           {"username", ad[size_t(a->agent)].username},
                           {"from", a->from},
                           {"state", a->to},
                           {"reason", a->reason},
                           {"call", a->call},
                           {"at", a->at}},
              staff(a->agent));
    } else if (auto* e = std::get_if<CallEvent>(&f)) {
      publish("cti.call",
              json::object{{"call", e->call},
                           {"type", e->type},
                           {"staff_id", staff(e->agent)},
                           {"detail", e->detail},
                           {"at", e->at}},
              staff(e->agent));
    } else if (auto* m = std::get_if<Message>(&f)) {
      // Who holds it hears of the line (not its text: the desk reads it with its rights).
      auto v = cc->conversation(m->call);
      AgentId holder = m->agent >= 0 ? m->agent : v ? v->agent : -1;
      if (holder >= 0)
        publish("cti.message",
                json::object{{"call", m->call}, {"seq", m->seq}, {"sender", m->sender}},
                staff(holder));
    } else if (auto* al = std::get_if<Alert>(&f)) {
      publish("cti.alert",
              json::object{{"call", al->call},
                           {"staff_id", staff(al->agent)},
                           {"username", ad[size_t(al->agent)].username},
                           {"name", ad[size_t(al->agent)].name},
                           {"note", al->note},
                           {"at", al->at}},
              0);
    }
  }
}

void Service::Impl::loop(const Publish& publish) {
  std::vector<std::shared_ptr<Job>> batch;
  std::vector<std::exception_ptr> errors;
  std::vector<json::value> results;
  while (true) {
    {
      std::unique_lock lk(mu);
      Millis wait = std::max<Millis>(1, std::min(opt.tick_ms, sim->next_due() - clock.now_ms()));
      cv.wait_for(lk, std::chrono::milliseconds(wait),
                  [&] { return stopping || !jobs.empty() || poked; });
      if (stopping && jobs.empty()) break;
      poked = false;
      batch.assign(jobs.begin(), jobs.end());
      for (auto& j : batch) j->taken = true;
      jobs.clear();
    }
    Millis now = clock.now_ms();
    results.assign(batch.size(), nullptr);
    errors.assign(batch.size(), nullptr);
    for (size_t i = 0; i < batch.size(); ++i) {
      Ctx ctx{*cc, *sim, now, agents};
      try {
        results[i] = batch[i]->fn(ctx);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
    if (now >= next_reload_check) {
      next_reload_check = now + opt.reload_check_ms;
      try {
        reload(now);
      } catch (const std::exception& e) {  // the store is away: the running configuration stays
        spdlog::warn("cti: configuration check failed: {}", e.what());
      }
    }
    sim->advance();
    if (sip) sip->advance();
    for (auto& r : adapters->due(clock.now_ms()))
      cc->on_adapter_result(r.call, r.ok, r.values, clock.now_ms());
    cc->tick(clock.now_ms());
    for (auto& r : cc->take_adapter_requests()) adapters->request(r, clock.now_ms());
    auto facts = cc->take_facts();
    unsaved.insert(unsaved.end(), std::make_move_iterator(facts.begin()),
                   std::make_move_iterator(facts.end()));
    bool saved = unsaved.empty();
    if (!saved) {
      try {
        persist(unsaved);
        saved = true;
      } catch (const std::exception& e) {
        // Kept and retried on the next turn; nothing is acknowledged until it is stored.
        spdlog::error("cti: storing {} facts failed, retrying: {}", unsaved.size(), e.what());
      }
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!saved)
        batch[i]->done.set_exception(
            std::make_exception_ptr(Error::unavailable("the store is not answering")));
      else if (errors[i])
        batch[i]->done.set_exception(errors[i]);
      else
        batch[i]->done.set_value(std::move(results[i]));
    }
    if (saved) {
      if (!unsaved.empty()) ++facts_gen;  // a picture of the centre built before is stale
      for (auto& f : unsaved) kpi->add(f);
      publish_facts(unsaved, publish);
      unsaved.clear();
    }
    batch.clear();
    if (publish && now >= next_stats) {
      next_stats = now + opt.stats_every_ms;
      publish("cti.stats", json::object{{"at", now}}, 0);
    }
  }
}

json::object Service::agent_json(const Ctx& c, AgentId a) const {
  const auto& d = c.cc.agent_defs()[size_t(a)];
  auto v = c.cc.agent(a);
  const auto& info = c.agents[size_t(a)];
  return json::object{{"staff_id", d.staff_id},
                      {"username", d.username},
                      {"name", d.name},
                      {"extension", d.extension},
                      {"level", d.spec.level},
                      {"org_id", info.org_id},
                      {"org_name", info.org_name},
                      {"org_path", info.org_path},
                      {"state", acd::to_string(v.state)},
                      {"reason", v.reason},
                      {"since", v.since},
                      {"call", v.call},
                      {"held", v.held},
                      {"muted", v.muted},
                      {"pending_not_ready", v.pending_not_ready},
                      {"conversations", int64_t(c.cc.conversation_count(a))},
                      // 话机: his extension has a live SIP registration (false on the simulator)
                      {"phone_registered", impl_->sip && impl_->sip->registered(d.extension)}};
}

json::object Service::call_json(const Ctx& c, const CallCenter::CallView& v) const {
  json::array legs;
  for (auto& [id, what] : v.legs) legs.push_back(json::object{{"leg", id}, {"what", what}});
  const auto& qd = c.cc.queue_defs();
  const auto& ad = c.cc.agent_defs();
  return json::object{
      {"id", v.id},
      {"direction", v.direction},
      {"ani", v.ani},
      {"dnis", v.dnis},
      {"phase", v.phase},
      {"queue", v.queue >= 0 ? json::value(qd[size_t(v.queue)].code) : json::value(nullptr)},
      {"queue_name", v.queue >= 0 ? json::value(qd[size_t(v.queue)].name) : json::value(nullptr)},
      {"owner", v.owner >= 0 ? json::value(ad[size_t(v.owner)].username) : json::value(nullptr)},
      {"owner_name", v.owner >= 0 ? json::value(ad[size_t(v.owner)].name) : json::value(nullptr)},
      {"tier", v.tier},
      {"started", v.started},
      {"queued_at", v.queued_at},
      {"verified", v.verified},
      {"ivr", v.ivr.empty() ? json::value(nullptr) : json::value(v.ivr)},
      {"legs", legs}};
}

json::object Service::conversation_json(const Ctx& c, const CallCenter::ConversationView& v) const {
  const auto& ad = c.cc.agent_defs();
  json::array offered;
  for (AgentId a : v.offered) offered.push_back(json::value(ad[size_t(a)].username));
  return json::object{
      {"id", v.id},
      {"channel", v.channel},
      {"customer", v.customer},
      {"subject", v.subject},
      {"state", v.state},
      {"queue", c.cc.queue_defs()[size_t(v.queue)].code},
      {"queue_name", c.cc.queue_defs()[size_t(v.queue)].name},
      {"agent", v.agent >= 0 ? json::value(ad[size_t(v.agent)].username) : json::value(nullptr)},
      {"offered_to", offered},
      {"tier", v.tier},
      {"started", v.started},
      {"queued_at", v.queued_at},
      {"accepted_at", v.accepted_at ? json::value(v.accepted_at) : json::value(nullptr)},
      {"ended", v.ended},
      {"messages", v.messages}};
}

namespace {
json::array windows_json(const std::vector<WindowStats>& ws) {
  json::array out;
  for (auto& w : ws)
    out.push_back(json::object{{"minutes", w.minutes},
                               {"offered", w.offered},
                               {"answered", w.answered},
                               {"answered_in_sl", w.answered_in_sl},
                               {"abandoned", w.abandoned},
                               {"short_abandoned", w.short_abandoned},
                               {"handled", w.handled},
                               {"service_level", w.service_level},
                               {"abandon_rate", w.abandon_rate},
                               {"asa_ms", w.asa_ms},
                               {"aht_ms", w.aht_ms}});
  return out;
}
}  // namespace

std::string Service::recording_path(const std::string& name) const {
  return impl_->opt.recording_dir + "/" + name;
}

Millis Service::serving_grace_ms() const {
  return impl_->opt.serving_grace_ms;
}

bool Service::customer_in_scope(store::Connection& c, const Principal& who,
                                int64_t customer) const {
  return impl_->opt.customer_in_scope && impl_->opt.customer_in_scope(c, who, customer);
}

Screening Service::screen(const std::string& address) const {
  return impl_ && impl_->opt.screen ? impl_->opt.screen(address) : Screening{};
}

Millis Service::now() const {
  return impl_->clock.now_ms();
}

std::string Service::metrics() {
  std::map<std::string, int> states;
  size_t calls = 0;
  exec([&](Ctx& c) -> json::value {
    calls = c.cc.live_calls();
    for (size_t a = 0; a < c.cc.agent_defs().size(); ++a)
      ++states[to_string(c.cc.agent(AgentId(a)).state)];
    return nullptr;
  });
  std::string out = fmt::format(
      "# TYPE kefu_cti_live_calls gauge\nkefu_cti_live_calls {}\n"
      "# TYPE kefu_cti_agents gauge\n",
      calls);
  for (auto& [state, n] : states)
    out += fmt::format("kefu_cti_agents{{state=\"{}\"}} {}\n", state, n);
  if (impl_->sip) {
    auto g = impl_->sip->gauges();
    out += fmt::format(
        "# TYPE kefu_sip_legs gauge\nkefu_sip_legs {}\n# TYPE kefu_media_legs gauge\n"
        "kefu_media_legs {}\n# TYPE kefu_sip_registered_phones gauge\nkefu_sip_registered_phones "
        "{}\n",
        g.legs, g.media_legs, g.registered);
  }
  return out;
}

json::object Service::snapshot() {
  // Every wallboard asks each second: one picture serves them all while nothing has changed
  // (no fact stored since) and it is less than half a second old.
  auto& m0 = *impl_;
  {
    std::lock_guard lk(m0.snap_mu);
    if (m0.snap && m0.snap_gen == m0.facts_gen.load() && m0.clock.now_ms() - m0.snap_at < 500)
      return *m0.snap;
  }
  uint64_t gen = 0;
  Millis at = 0;
  auto v = exec([this, &gen, &at](Ctx& c) -> json::value {
    auto& m = *impl_;
    gen = m.facts_gen.load();
    at = c.now;
    json::array agents, calls, queues, teams;
    size_t n = c.cc.agent_defs().size();
    for (size_t i = 0; i < n; ++i)
      if (!c.cc.agent_defs()[i].retired) agents.push_back(agent_json(c, AgentId(i)));
    std::vector<Millis> longest(c.cc.queue_defs().size(), 0);
    for (auto& cv : c.cc.calls()) {
      calls.push_back(call_json(c, cv));
      if (cv.queue >= 0 && (cv.phase == "queued" || cv.phase == "ringing"))
        longest[size_t(cv.queue)] = std::max(longest[size_t(cv.queue)], c.now - cv.queued_at);
    }
    std::vector<std::map<std::string, int64_t>> by_state(c.cc.queue_defs().size());
    for (size_t i = 0; i < n; ++i) {
      const char* st = acd::to_string(c.cc.agent(AgentId(i)).state);
      for (QueueId q : c.cc.queues_of(AgentId(i))) ++by_state[size_t(q)][st];
    }
    for (size_t q = 0; q < c.cc.queue_defs().size(); ++q) {
      const auto& d = c.cc.queue_defs()[q];
      if (d.retired && !c.cc.waiting(QueueId(q))) continue;  // gone from the configuration
      json::object states;
      for (auto& [k, cnt] : by_state[q]) states[k] = cnt;
      queues.push_back(json::object{{"code", d.code},
                                    {"name", d.name},
                                    {"agents", states},
                                    {"waiting", c.cc.waiting(QueueId(q))},
                                    {"longest_wait_ms", longest[q]},
                                    {"sl_threshold_ms", d.sl_threshold_ms},
                                    {"windows", windows_json(m.kpi->queue(QueueId(q), c.now))}});
    }
    for (auto& [org, name] : m.teams) {
      std::map<std::string, int64_t> counts;
      for (size_t i = 0; i < n; ++i)
        if (c.agents[i].org_id == org) ++counts[acd::to_string(c.cc.agent(AgentId(i)).state)];
      json::object states;
      for (auto& [k, cnt] : counts) states[k] = cnt;
      teams.push_back(json::object{{"org_id", org},
                                   {"name", name},
                                   {"agents", states},
                                   {"windows", windows_json(m.kpi->team(org, c.now))}});
    }
    return json::object{
        {"at", c.now}, {"agents", agents}, {"calls", calls}, {"queues", queues}, {"teams", teams}};
  });
  std::lock_guard lk(m0.snap_mu);
  m0.snap = std::make_shared<const json::object>(v.as_object());
  m0.snap_gen = gen;
  m0.snap_at = at;
  return v.as_object();
}

}  // namespace kefu::cti
