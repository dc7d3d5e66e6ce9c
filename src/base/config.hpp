#pragma once
// Configuration: defaults < TOML file < KEFU_* environment < command-line flags.
// Every setting has one key; the TOML key, the environment name (KEFU_ + upper case)
// and the flag (--set key=value) all use it, so the three layers cannot drift apart.
#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace kefu {

struct Config {
  std::string listen = "127.0.0.1:8080";
  std::string db = "var/kefu.db";  // SQLite path or postgresql:// URL
  std::string web_root = "web/dist";
  std::string log_level = "info";
  bool access_log = true;
  // One I/O thread and one handler thread per core measured best on SQLite (bench/run-http.sh);
  // raise worker_threads when the database is a remote PostgreSQL (handlers block on it).
  int io_threads = cores();
  int worker_threads = cores();
  int slow_threads = 1;  // password hashing, imports: kept apart so they cannot starve the rest
  int64_t body_limit = 4 << 20;
  int read_timeout_s = 30;
  int write_timeout_s = 30;
  int db_readers = 4;  // SQLite reader connections / PostgreSQL pool size
  std::string sqlite_synchronous = "FULL";
  std::string tls_cert;  // PEM files; both set => HTTPS and WSS
  std::string tls_key;
  std::string admin_password;  // creates the first administrator when no staff exists
  int session_ttl_min = 480;   // a working shift
  int lockout_threshold = 5;
  int lockout_min = 15;
  int session_cache_s = 5;
  bool demo = false;
  // Real-time core. Telephony runs on the built-in simulator switch until the SIP softswitch.
  int cti_ring_timeout_s = 15;  // an offer not answered by then: back to the queue, agent not ready
  int cti_wrap_up_s = 30;       // after-call work ends by itself after this
  std::string cti_caller_id = "95500";  // shown on outbound calls
  // The SIP softswitch: host:port for UDP and TCP ("" = off: the simulator switch only), the
  // digest realm of the registrar, and the address put in SDP (the listen host when empty).
  std::string cti_sip_listen;
  std::string cti_sip_realm = "kefu";
  std::string cti_media_address;
  std::string cti_sip_gateway;  // host:port of the trunk for outside numbers ("" = none)
  // The account the trunk asks for when it challenges (401/407 digest); unused otherwise.
  std::string cti_sip_gateway_user, cti_sip_gateway_password;
  // The broker's trading counter for the IVR's adapters (verify, balance), speaking the adapter
  // protocol (integration/counter_adapters.hpp); "" = the in-process simulation.
  std::string cti_counter_url;
  std::string cti_recording_dir = "var/recordings";  // WAV files of calls and voicemail
  std::string cti_prompt_dir = "var/prompts";        // IVR prompts and music on hold: <name>.wav
  // Media threads of the softswitch (RTP, mixing, recording); 0 = one per core, at most 4.
  int cti_media_threads = 0;
  // This node's name in a cluster sharing PostgreSQL (cti_call.node): a restart closes only its own
  // calls and agents, so the name must stay the same across restarts. Empty: a single node, which
  // closes everything left open.
  std::string cti_node;
  // Serving access to customers outside one's data scope (crm/serving.hpp): how long after an
  // interaction its file stays open, how long an emergency opening lasts, and how many unknown or
  // foreign customer ids one session may ask for in 10 minutes before it is throttled.
  int crm_serving_grace_s = 1800;
  int crm_emergency_min = 60;
  int crm_enumeration_misses = 20;
  // Tickets (ticket/service.hpp): the working day of business deadlines (local time, minutes from
  // midnight), the roles whose holders are a unit's leaders (escalation, the `leader` assignee),
  // how often the SLA timers are looked at, and how long an SLA minute lasts (60000; shorter only
  // for tests and demonstrations, so a deadline passes while one watches).
  int ticket_day_start_min = 9 * 60;
  int ticket_day_end_min = 17 * 60;
  std::string ticket_leader_roles = "team_leader,branch_manager,hq_manager";
  int ticket_timer_poll_ms = 1000;
  int ticket_minute_ms = 60'000;
  // The enterprise OA (外部系统 "oa" of workflow definitions): where hand-offs are pushed and the
  // secret they are signed with.
  std::string ticket_oa_url;
  std::string ticket_oa_secret;
  // The outbox (notify/service.hpp): how often each sender looks for due messages, how many times a
  // temporary failure is tried, and the most segments one SMS may take.
  int notify_poll_ms = 500;
  int notify_max_attempts = 8;
  int notify_sms_max_segments = 10;
  // The e-mail account: the relay (smtp://host:port or smtps://; "" = no e-mail channel), its
  // login, the From address, STARTTLS ("require", "try", "off"), a CA file to trust, messages a
  // second, and what one e-mail costs (fen).
  std::string notify_smtp_url;
  std::string notify_smtp_user, notify_smtp_password;
  std::string notify_smtp_from = "Kefu <kefu@localhost>";
  std::string notify_smtp_tls = "try";
  std::string notify_smtp_ca;
  int notify_smtp_rate = 20;
  int notify_email_cost_fen = 0;
  // The SMS account: an SMSC over SMPP 3.4 ("" host = no SMS channel), the ESME's login, the
  // number customers see and reply to, submit_sm outstanding at once, segments a second, what one
  // segment costs (fen), and how often an idle link is checked.
  std::string notify_smpp_host;
  int notify_smpp_port = 2775;
  std::string notify_smpp_system_id, notify_smpp_password, notify_smpp_system_type;
  std::string notify_smpp_source = "95588";
  int notify_smpp_window = 10;
  int notify_smpp_rate = 100;
  int notify_sms_cost_fen = 5;
  int notify_smpp_enquire_ms = 30'000;

  // Sets one key from text; throws std::invalid_argument naming the key on bad input.
  void set(const std::string& key, const std::string& value);
  void load_toml(const std::string& path);
  void load_env(char** envp);
  static std::vector<std::string> keys();
  static int cores() { return std::max(1, int(std::thread::hardware_concurrency())); }
  // Defaults, then `file` (or $KEFU_CONFIG when empty), then the KEFU_* environment.
  static Config load(std::string file, char** envp);

  std::string listen_host() const;
  int listen_port() const;
  bool is_postgres() const {
    return db.rfind("postgresql://", 0) == 0 || db.rfind("postgres://", 0) == 0;
  }
};

}  // namespace kefu
