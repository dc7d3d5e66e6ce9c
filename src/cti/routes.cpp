#include "cti/routes.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

#include "base/error.hpp"
#include "cti/interactions.hpp"
#include "cti/service.hpp"
#include "cti/sim_switch.hpp"
#include "store/database.hpp"
#include "store/sql.hpp"

namespace kefu::cti {

using http::Context;
using http::Response;

namespace {

// Every refusal of the core, in words; the console translates the code.
std::string message_for(const std::string& code) {
  static const std::map<std::string, std::string> m = {
      {"not_signed_in", "the agent is not signed in"},
      {"already_signed_in", "the agent is already signed in"},
      {"in_call", "the agent is on a call"},
      {"not_ringing", "no call is ringing for the agent"},
      {"not_talking", "the agent has no call in progress"},
      {"not_in_wrap_up", "the agent is not in after-call work"},
      {"already_held", "the customer is already on hold"},
      {"not_held", "the customer is not on hold"},
      {"in_consultation", "finish or cancel the consultation first"},
      {"no_consultation", "there is no consultation"},
      {"consultation_not_answered", "the consulted party has not answered yet"},
      {"unknown_target", "no such agent or queue"},
      {"same_agent", "a call cannot be transferred to the agent who has it"},
      {"target_not_ready", "the target agent is not ready"},
      {"bad_number", "the number must be 3 to 20 digits"},
      {"no_agents", "no agent of that queue is signed in"},
      {"queue_full", "that queue is full"},
      {"no_extension", "you have no extension to monitor from"},
      {"taken_over", "you have taken this call over"},
      {"not_monitoring", "you are not monitoring a call"},
      {"unknown_agent", "no such agent"},
      {"unknown_conversation", "no such conversation in progress"},
      {"unknown_queue", "no such queue"},
      {"wrong_channel", "that queue serves another channel"},
      {"bad_channel", "channel is chat or email"},
      {"conversation_ended", "the conversation has ended"},
      {"unknown_task", "no such conversation offered to you"},
  };
  auto it = m.find(code);
  return it == m.end() ? code : it->second;
}

void check(const std::string& result) {
  if (!result.empty()) throw Error::conflict(result, message_for(result));
}

bool visible(const Principal& p, const AgentInfo& a) {
  switch (p.scope) {
    case DataScope::all:
      return true;
    case DataScope::subtree:
      return a.org_path.rfind(p.org_path, 0) == 0;
    case DataScope::org:
      return a.org_id == p.org_id;
    case DataScope::self:
      return a.staff_id == p.staff_id;
  }
  return false;
}

AgentId agent_of(const Service::Ctx& c, const Principal& p) {
  auto a = c.cc.agent_by_staff(p.staff_id);
  if (!a) throw Error::forbidden("you have no agent profile (座席)", "not_an_agent");
  return *a;
}

AgentId target_of(const Service::Ctx& c, const Principal& p, const json::object& body) {
  auto user = string_field(body, "agent", true, 64);
  auto a = c.cc.agent_by_username(user);
  if (!a || !visible(p, c.agents[size_t(*a)]))
    throw Error::not_found("no such agent in your scope", "agent");
  return *a;
}

// Who may read a stored call (its record, recording, conversation lines): the agents who took
// part; everybody, for a voicemail (the hotline's shared inbox); whoever reads customers
// (crm:read) in a scope that holds the call's customer; a supervisor whose data scope holds one
// of its agents, or every call with scope all. Anything else is 404, like a missing call.
bool may_read_call(const Service& svc, store::Connection& c, const Principal& p, int64_t id) {
  if (!c.exec("SELECT 1 FROM cti_segment WHERE call_id = ? AND staff_id = ? UNION ALL SELECT 1 FROM "
              "cti_voicemail WHERE call_id = ?",
              {id, p.staff_id, id})
           .empty())
    return true;
  // A call of a customer in the scope he reads customers in (a branch hears its own customers).
  if (p.has("crm:read")) {
    auto customer =
        c.exec("SELECT customer_id FROM cti_call WHERE id = ? AND customer_id IS NOT NULL", {id});
    if (!customer.empty() && svc.customer_in_scope(c, p, store::as_int(customer.rows[0][0])))
      return true;
  }
  if (p.has("cti:supervise")) {
    if (p.scope == DataScope::all) return true;
    std::string staff_in_scope =
        p.scope == DataScope::subtree
            ? "SELECT st.id FROM staff st JOIN org_unit o ON o.id = st.org_id WHERE o.path LIKE ? "
              "ESCAPE '\\'"
        : p.scope == DataScope::org ? "SELECT id FROM staff WHERE org_id = ?"
                                    : "SELECT id FROM staff WHERE id = ?";
    store::Value scope = p.scope == DataScope::subtree ? store::Value(store::like_escape(p.org_path) + "%")
                         : p.scope == DataScope::org   ? store::Value(p.org_id)
                                                       : store::Value(p.staff_id);
    if (!c.exec("SELECT 1 FROM cti_segment WHERE call_id = ? AND staff_id IN (" + staff_in_scope +
                    ") UNION ALL SELECT 1 FROM cti_agent_state WHERE call_id = ? AND staff_id IN (" +
                    staff_in_scope + ")",
                {id, scope, id, scope})
             .empty())
      return true;
  }
  return false;
}

void check_call_access(const Service& svc, store::Connection& c, const Principal& p, int64_t id) {
  if (!may_read_call(svc, c, p, id)) throw Error::not_found("no such call", "id");
}

json::object body_of(const Context& ctx) {
  return ctx.req.body.empty() ? json::object{} : parse_object(ctx.req.body);
}

// The agent's own picture: his state, his call, who and where he can transfer to.
json::value desk(Service& svc, Service::Ctx& c, AgentId a) {
  auto me = svc.agent_json(c, a);
  json::value call = nullptr;
  if (auto id = c.cc.agent(a).call)
    if (auto v = c.cc.call(id)) call = svc.call_json(c, *v);
  json::array colleagues, queues;
  for (size_t i = 0; i < c.cc.agent_defs().size(); ++i) {
    if (AgentId(i) == a) continue;
    auto& d = c.cc.agent_defs()[i];
    if (d.retired) continue;
    colleagues.push_back(json::object{{"username", d.username},
                                      {"name", d.name},
                                      {"state", acd::to_string(c.cc.agent(AgentId(i)).state)}});
  }
  for (auto& q : c.cc.queue_defs())
    if (!q.retired) queues.push_back(json::object{{"code", q.code}, {"name", q.name}});
  // Where the agent may send a caller in the IVR: every node of every flow; "verify" is the
  // first identity check that returns the caller to him (身份验证 and back).
  json::array ivr_targets;
  json::value verify = nullptr;
  for (auto& d : c.cc.ivrs())
    for (auto& [id, n] : d.flow->nodes) {
      ivr_targets.push_back(
          json::object{{"value", d.code + ":" + id}, {"label", d.name + " · " + id}});
      if (verify.is_null() && n.type == ivr::Node::Type::verify && d.flow->nodes.count(n.next) &&
          d.flow->node(n.next).type == ivr::Node::Type::back)
        verify = json::value(d.code + ":" + id);
    }
  json::array conversations;
  for (auto& v : c.cc.conversations_of(a)) conversations.push_back(svc.conversation_json(c, v));
  return json::object{{"agent", me},
                      {"call", call},
                      {"conversations", conversations},
                      {"colleagues", colleagues},
                      {"queues", queues},
                      {"ivr_targets", ivr_targets},
                      {"verify_target", verify}};
}

// 座席工作台: the agent's own desk and softphone commands.
void add_desk_routes(http::Router& router, Service& svc) {
  router.add({"GET", "/api/v1/cti/me", "cti:agent",
              [&svc](Context& ctx) {
                const auto& p = ctx.who();
                return Response::json(
                    svc.exec([&](Service::Ctx& c) { return desk(svc, c, agent_of(c, p)); }));
              },
              false, "The agent's own state, call, colleagues and queues", "cti"});

  router.add(
      {"POST", "/api/v1/cti/agent/{action}", "cti:agent",
       [&svc](Context& ctx) {
         const auto& p = ctx.who();
         std::string action = ctx.req.param("action");
         auto body = body_of(ctx);
         auto v = svc.exec([&](Service::Ctx& c) -> json::value {
           AgentId a = agent_of(c, p);
           auto& cc = c.cc;
           if (action == "sign-in")
             only_fields(body, {}), check(cc.sign_in(a, c.now));
           else if (action == "sign-out")
             only_fields(body, {}), check(cc.sign_out(a, "signed_out", c.now));
           else if (action == "ready")
             only_fields(body, {}), check(cc.ready(a, c.now));
           else if (action == "not-ready") {
             only_fields(body, {"reason"});
             check(cc.not_ready(a, string_field(body, "reason", true, 40), c.now));
           } else if (action == "answer")
             check(cc.answer(a, c.now));
           else if (action == "hang-up")
             check(cc.hang_up(a, c.now));
           else if (action == "hold")
             check(cc.hold(a, c.now));
           else if (action == "retrieve")
             check(cc.retrieve(a, c.now));
           else if (action == "mute")
             only_fields(body, {"on"}), check(cc.mute(a, bool_field(body, "on", true), c.now));
           else if (action == "transfer") {
             only_fields(body, {"kind", "target", "consult"});
             auto kind = string_field(body, "kind", true, 10);
             Target t{Target::Kind::agent, string_field(body, "target", true, 64)};
             if (kind == "queue")
               t.kind = Target::Kind::queue;
             else if (kind == "number")
               t.kind = Target::Kind::number;
             else if (kind == "ivr")  // target: flow code, or flow:node
               t.kind = Target::Kind::ivr;
             else if (kind != "agent")
               throw Error::validation(
                   {{"kind", "invalid_option", "kind is agent, queue, number or ivr"}});
             check(cc.transfer(a, t, bool_field(body, "consult", false), c.now));
           } else if (action == "complete-transfer")
             check(cc.complete_transfer(a, c.now));
           else if (action == "cancel-consult")
             check(cc.cancel_consult(a, c.now));
           else if (action == "conference")
             check(cc.conference(a, c.now));
           else if (action == "dtmf") {
             only_fields(body, {"digits"});
             auto keys = string_field(body, "digits", true, 32);
             if (keys.find_first_not_of("0123456789*#ABCD") != std::string::npos)
               throw Error::validation({{"digits", "invalid_format", "keys are 0-9, *, #, A-D"}});
             check(cc.send_digits(a, keys, c.now));
           } else if (action == "dial") {
             only_fields(body, {"number"});
             check(cc.dial(a, string_field(body, "number", true, 20), c.now));
           } else if (action == "wrap-up") {
             only_fields(body, {"call_type", "summary", "done"});
             check(cc.wrap_up(a, string_field(body, "call_type", false, 40),
                              string_field(body, "summary", false, 2000),
                              bool_field(body, "done", true), c.now));
           } else if (action == "help") {
             only_fields(body, {"note"});
             check(cc.flag_help(a, string_field(body, "note", false, 500), c.now));
           } else {
             throw Error::not_found("no such agent command", "action");
           }
           return desk(svc, c, a);
         });
         return Response::json(v);
       },
       false,
       "Agent softphone command: sign-in, sign-out, ready, not-ready, answer, hang-up, "
       "hold, retrieve, "
       "mute, transfer, complete-transfer, cancel-consult, conference, dtmf, dial, wrap-up, "
       "help",
       "cti"});

}

// 实时监控: the live picture and the supervisor's commands.
void add_supervisor_routes(http::Router& router, Service& svc, store::Database& db) {
  router.add({"GET", "/api/v1/cti/live", "cti:supervise",
              [&svc](Context& ctx) {
                const auto& p = ctx.who();
                auto snap = svc.snapshot();
                // Only the agents (and their calls) in the supervisor's data scope.
                json::array agents;
                std::set<std::string> mine;
                for (auto& a : snap["agents"].as_array()) {
                  auto& o = a.as_object();
                  AgentInfo info{o.at("staff_id").as_int64(), o.at("org_id").as_int64(),
                                 std::string(o.at("org_path").as_string()), ""};
                  if (!visible(p, info)) continue;
                  mine.insert(std::string(o.at("username").as_string()));
                  agents.push_back(a);
                }
                json::array calls;
                for (auto& c : snap["calls"].as_array()) {
                  auto& owner = c.as_object().at("owner");
                  if (owner.is_null() || mine.count(std::string(owner.as_string())))
                    calls.push_back(c);
                }
                snap["agents"] = agents;
                snap["calls"] = calls;
                return Response::json(snap);
              },
              false, "Live wallboard: agents, calls, queues and teams with 15/30/60-minute KPIs",
              "cti"});

  router.add(
      {"POST", "/api/v1/cti/supervisor/{action}", "cti:supervise",
       [&svc, &db](Context& ctx) {
         const auto& p = ctx.who();
         std::string action = ctx.req.param("action");
         auto body = body_of(ctx);
         only_fields(body, {"agent", "mode", "reason"});
         Supervisor s{p.staff_id, p.name, ""};
         db.read_one([&](store::Connection& c) {
           auto r = c.exec("SELECT extension FROM staff WHERE id = ?", {p.staff_id});
           if (!r.empty() && !store::is_null(r.rows[0][0]))
             s.extension = store::as_text(r.rows[0][0]);
         });
         auto v = svc.exec([&](Service::Ctx& c) -> json::value {
           auto& cc = c.cc;
           if (action == "stop") {
             check(cc.stop_monitor(p.staff_id, c.now));
             return json::object{{"ok", true}};
           }
           AgentId a = target_of(c, p, body);
           if (action == "monitor") {
             MixMode m = MixMode::listen;
             auto mode = string_field(body, "mode", false, 10);
             if (!mode.empty() && (!parse_mix_mode(mode, m) || m == MixMode::muted))
               throw Error::validation(
                   {{"mode", "invalid_option", "mode is listen, whisper or barge"}});
             check(cc.monitor(s, a, m, c.now));
           } else if (action == "take-over") {
             check(cc.take_over(s, a, c.now));
           } else if (action == "force-not-ready") {
             auto reason = string_field(body, "reason", false, 40);
             check(
                 cc.force_not_ready(a, reason.empty() ? "forced_by:" + p.username : reason, c.now));
           } else if (action == "force-sign-out") {
             check(cc.force_sign_out(a, c.now));
           } else {
             throw Error::not_found("no such supervisor command", "action");
           }
           return json::object{{"agent", svc.agent_json(c, a)}};
         });
         return Response::json(v);
       },
       false,
       "Supervisor command: monitor (listen, whisper, barge), take-over, stop, force-not-ready, "
       "force-sign-out",
       "cti"});

}

// 通话记录: stored calls, recordings, voicemails and a number's history, each to whoever may read it.
void add_record_routes(http::Router& router, Service& svc, store::Database& db) {
  router.add(
      {"GET", "/api/v1/cti/calls/{id}", "cti:agent",
       [&db, &svc](Context& ctx) {
         const auto& p = ctx.who();
         int64_t id = ctx.req.param_id("id");
         json::object out;
         db.read([&](store::Connection& c) {
           auto call = c.exec(
               "SELECT id, direction, ani, dnis, tier, started_at, ended_at, disposition, "
               "recording FROM cti_call WHERE id = ?",
               {id});
           if (call.empty()) throw Error::not_found("no such call", "id");
           check_call_access(svc, c, p, id);
           auto rows = [&](const char* sql) { return store::rows_json(c.exec(sql, {id})); };
           out = store::row_json(call, 0);
           out["segments"] = rows(
               "SELECT seq, kind, queue, staff_id, party, started_at, ended_at, result FROM "
               "cti_segment WHERE call_id = ? ORDER BY seq");
           out["events"] = rows(
               "SELECT leg_id, type, staff_id, queue, detail, at FROM cti_call_event WHERE "
               "call_id = ? ORDER BY id");
           out["queue_log"] = rows(
               "SELECT queue, event, staff_id, wait_ms, at FROM cti_queue_log WHERE call_id "
               "= ? ORDER BY id");
           out["wrap_ups"] = rows(
               "SELECT staff_id, call_type, summary, at FROM cti_wrap_up WHERE call_id = ? "
               "ORDER BY id");
           out["ivr_path"] = rows(
               "SELECT seq, flow, node, input, result, at FROM cti_ivr_path WHERE call_id = ? "
               "ORDER BY seq");
           // 通话质量: each leg's RTP as received, and as its far end reported ours (RTCP).
           out["media"] = rows(
               "SELECT leg_id, packets_in, lost, packets_out, jitter_us, far_lost, far_jitter_us, "
               "rtt_us FROM cti_leg_media WHERE call_id = ? ORDER BY leg_id");
         });
         return Response::json(out);
       },
       false,
       "A stored call detail record with its segments, events, queue log, wrap-ups, IVR path "
       "and each leg's media quality",
       "cti"});

  // 录音调听: the call's stereo WAV (customer left, agent right) for whoever may read the call.
  router.add({"GET", "/api/v1/cti/calls/{id}/recording", "cti:agent",
              [&db, &svc](Context& ctx) {
                const auto& p = ctx.who();
                int64_t id = ctx.req.param_id("id");
                std::string name;
                db.read([&](store::Connection& c) {
                  auto r = c.exec("SELECT recording FROM cti_call WHERE id = ?", {id});
                  if (r.empty()) throw Error::not_found("no such call", "id");
                  check_call_access(svc, c, p, id);
                  name = store::as_text(r.rows[0][0]);
                });
                if (name.empty() || name.find("..") != std::string::npos)
                  throw Error::not_found("the call has no recording", "recording");
                std::ifstream f(svc.recording_path(name), std::ios::binary);
                if (!f)  // simulated calls have a name but no audio
                  throw Error::not_found("the recording has no audio on this node", "recording");
                std::ostringstream body;
                body << f.rdbuf();
                return Response::text(body.str(), "audio/wav");
              },
              false, "A call's recording (stereo WAV: customer left, agent right)", "cti"});

  // 客户留言: the voicemail inbox. A message is a task until someone has called back (or
  // otherwise dealt with it) and says so, once.
  router.add(
      {"GET", "/api/v1/cti/voicemails", "cti:agent",
       [&db](Context& ctx) {
         std::string status = ctx.req.q("status", "new");
         if (status != "new" && status != "done" && status != "all")
           throw Error::bad_request("invalid_option", "status is new, done or all", "status");
         json::array out;
         db.read([&](store::Connection& c) {
           out = store::rows_json(c.exec(
               "SELECT v.call_id, v.queue, v.ani, v.at, v.seconds, v.status, v.handled_at, "
               "v.note, s.name AS handled_by FROM cti_voicemail v LEFT JOIN staff s ON s.id "
               "= v.handled_by WHERE (? = 'all' OR v.status = ?) ORDER BY v.at DESC LIMIT 200",
               {status, status}));
         });
         return Response::json(json::object{{"items", out}});
       },
       false, "客户留言: voicemails (status new, done or all), newest first", "cti"});
  router.add({"POST", "/api/v1/cti/voicemails/{id}/handle", "cti:agent",
              [&db, &svc](Context& ctx) {
                auto body = body_of(ctx);
                only_fields(body, {"note"});
                std::string note = string_field(body, "note", false, 500);
                int64_t id = ctx.req.param_id("id");
                const auto& p = ctx.who();
                db.write([&](store::Connection& c) {
                  auto r = c.exec(
                      "UPDATE cti_voicemail SET status = 'done', handled_by = ?, handled_at = ?, "
                      "note = ? WHERE call_id = ? AND status = 'new'",
                      {p.staff_id, svc.now(), note, id});
                  if (r.affected == 1) return;
                  if (c.exec("SELECT 1 FROM cti_voicemail WHERE call_id = ?", {id}).empty())
                    throw Error::not_found("no such voicemail", "id");
                  throw Error::conflict("already_handled", "someone has handled it already", "id");
                });
                return Response::json(json::object{{"call_id", id}, {"status", "done"}});
              },
              false, "Mark a voicemail handled (called back), with a note; once", "cti"});

  router.add({"GET", "/api/v1/cti/history", "cti:agent",
              [&db, &svc](Context& ctx) {
                auto number = ctx.req.q("number");
                if (number.empty() || number.size() > 20)
                  throw Error::bad_request("invalid_number", "number is required", "number");
                const auto& p = ctx.who();
                json::array out;
                db.read([&](store::Connection& c) {
                  // An agent reads the history of the number he serves, not of any number; a
                  // supervisor the calls of his data scope.
                  bool serving = !interaction_with_number(c, p.staff_id, number,
                                                          svc.now() - svc.serving_grace_ms())
                                      .empty();
                  if (!serving && !p.has("cti:supervise"))
                    throw Error::not_found("no call of yours with this number", "number");
                  out = store::rows_json(
                      c.exec("SELECT c.id, c.direction, c.started_at, c.ended_at, c.disposition, "
                             "(SELECT w.call_type FROM cti_wrap_up w WHERE w.call_id = c.id ORDER "
                             "BY w.id DESC LIMIT 1) AS call_type, "
                             "(SELECT w.summary FROM cti_wrap_up w WHERE w.call_id = c.id ORDER BY "
                             "w.id DESC LIMIT 1) AS summary "
                             "FROM cti_call c WHERE (c.ani = ? OR c.dnis = ?) ORDER BY "
                             "c.started_at DESC LIMIT 20",
                             {number, number}));
                  if (!serving && p.scope != DataScope::all) {
                    json::array mine;
                    for (auto& row : out)
                      if (may_read_call(svc, c, p, row.as_object().at("id").as_int64()))
                        mine.push_back(row);
                    out = std::move(mine);
                  }
                });
                return Response::json(json::object{{"items", out}});
              },
              false, "Contact history of a phone number: its last 20 calls with their wrap-ups",
              "cti"});

}

void add_conversation_routes(http::Router& router, Service& svc, store::Database& db) {
  // 多渠道: the web-chat gateway and the mail fetcher open conversations for customers, write
  // their lines and say when they leave; agents accept, write, close and wrap them up.
  router.add(
      {"POST", "/api/v1/cti/conversations", "cti:channel",
       [&svc](Context& ctx) {
         auto body = body_of(ctx);
         only_fields(body, {"channel", "queue", "customer", "subject", "body", "tier"});
         CallCenter::ConversationRequest r;
         if (!parse_channel(string_field(body, "channel", true, 10), r.channel) ||
             acd::is_phone(r.channel))
           throw Error::validation({{"channel", "invalid_option", "channel is chat or email"}});
         r.queue = string_field(body, "queue", true, 32);
         r.customer = string_field(body, "customer", true, 120);
         r.subject = string_field(body, "subject", false, 200);
         r.body = string_field(body, "body", false, 20000);
         // The customer file knows the address (a phone number, an e-mail address): his tier,
         // unless the gateway says, and his id for the contact history; a black-listed one is
         // refused here, as his calls are.
         Screening s = svc.screen(r.customer);
         if (s.blocked) throw Error::forbidden("this customer is on the black list", "blocked");
         r.tier = int(get_int(body, "tier").value_or(std::max(0, s.tier)));
         r.customer_id = s.customer;
         if (r.tier < 0 || r.tier > 4)
           throw Error::validation({{"tier", "out_of_range", "tier is 0 to 4"}});
         auto v = svc.exec([&](Service::Ctx& c) -> json::value {
           CallId id = 0;
           auto res = c.cc.open_conversation(r, c.now, id);
           if (res == "unknown_queue" || res == "wrong_channel")
             throw Error::validation({{"queue", res, message_for(res)}});
           check(res);
           return svc.conversation_json(c, *c.cc.conversation(id));
         });
         return Response::json(v, 201);
       },
       false,
       "Channel gateway: a customer starts a web chat or sends an e-mail; it queues like a call",
       "cti"});
  router.add({"POST", "/api/v1/cti/conversations/{id}/{action}", "cti:channel",
              [&svc](Context& ctx) {
                int64_t id = ctx.req.param_id("id");
                std::string action = ctx.req.param("action");
                auto body = body_of(ctx);
                auto v = svc.exec([&](Service::Ctx& c) -> json::value {
                  if (action == "messages") {
                    only_fields(body, {"body"});
                    check(
                        c.cc.post_message(id, -1, string_field(body, "body", true, 20000), c.now));
                  } else if (action == "leave") {
                    only_fields(body, {});
                    check(c.cc.customer_leaves(id, c.now));
                  } else {
                    throw Error::not_found("no such conversation command", "action");
                  }
                  auto v = c.cc.conversation(id);
                  return v ? json::value(svc.conversation_json(c, *v)) : json::value(nullptr);
                });
                return Response::json(json::object{{"conversation", v}});
              },
              false, "Channel gateway: the customer writes (messages) or leaves (leave)", "cti"});
  router.add(
      {"GET", "/api/v1/cti/conversations/{id}", "",
       [&svc, &db](Context& ctx) {
         const auto& p = ctx.who();
         int64_t id = ctx.req.param_id("id");
         // The live part, and who holds or was offered it (an agent may read it then).
         std::set<int64_t> live_staff;
         json::value live = svc.exec([&](Service::Ctx& c) -> json::value {
           auto v = c.cc.conversation(id);
           if (!v) return nullptr;
           if (v->agent >= 0) live_staff.insert(c.cc.agent_defs()[size_t(v->agent)].staff_id);
           for (AgentId a : v->offered) live_staff.insert(c.cc.agent_defs()[size_t(a)].staff_id);
           return svc.conversation_json(c, *v);
         });
         json::object out;
         db.read([&](store::Connection& c) {
           auto row = c.exec(
               "SELECT id, channel, ani AS customer, dnis AS queue, tier, started_at, ended_at, "
               "disposition FROM cti_call WHERE id = ? AND channel <> 'voice'",
               {id});
           if (row.empty()) throw Error::not_found("no such conversation", "id");
           bool allowed =
               p.has("cti:channel") || live_staff.count(p.staff_id) || may_read_call(svc, c, p, id);
           if (!allowed) throw Error::not_found("no such conversation", "id");
           out = store::row_json(row, 0);
           out["messages"] = store::rows_json(
               c.exec("SELECT seq, sender, staff_id, body, at FROM cti_message WHERE call_id = ? "
                      "ORDER BY seq",
                      {id}));
         });
         out["live"] = live;
         return Response::json(out);
       },
       false,
       "A conversation (chat or e-mail): its record, its lines and, while it lasts, its live state",
       "cti"});
  router.add({"POST", "/api/v1/cti/agent/conversations/{id}/{action}", "cti:agent",
              [&svc](Context& ctx) {
                const auto& p = ctx.who();
                int64_t id = ctx.req.param_id("id");
                std::string action = ctx.req.param("action");
                auto body = body_of(ctx);
                auto v = svc.exec([&](Service::Ctx& c) -> json::value {
                  AgentId a = agent_of(c, p);
                  auto& cc = c.cc;
                  if (action == "accept")
                    only_fields(body, {}), check(cc.accept(a, id, c.now));
                  else if (action == "decline")
                    only_fields(body, {}), check(cc.decline(a, id, c.now));
                  else if (action == "messages") {
                    only_fields(body, {"body"});
                    check(cc.post_message(id, a, string_field(body, "body", true, 20000), c.now));
                  } else if (action == "close")
                    only_fields(body, {}), check(cc.close_conversation(a, id, c.now));
                  else if (action == "wrap-up") {
                    only_fields(body, {"call_type", "summary", "done"});
                    check(cc.wrap_up_conversation(a, id, string_field(body, "call_type", false, 40),
                                                  string_field(body, "summary", false, 2000),
                                                  bool_field(body, "done", true), c.now));
                  } else {
                    throw Error::not_found("no such conversation command", "action");
                  }
                  return desk(svc, c, a);
                });
                return Response::json(v);
              },
              false, "Agent command on a chat or e-mail: accept, decline, messages, close, wrap-up",
              "cti"});
}

// 菜单记录 statistics: how often each node of each flow was reached and how it ended (the
// option chosen, verified or not, the queue the caller left for), over a time window.
void add_ivr_statistics_routes(http::Router& router, Service& svc, store::Database& db) {
  router.add(
      {"GET", "/api/v1/cti/ivr-stats", "cti:supervise",
       [&db, &svc](Context& ctx) {
         auto millis = [&](const char* name, int64_t def) {
           auto v = ctx.req.q(name);
           if (v.empty()) return def;
           int64_t out = 0;
           auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
           if (ec != std::errc() || p != v.data() + v.size() || out < 0)
             throw Error::bad_request("invalid_time",
                                      std::string(name) + " is milliseconds since the epoch", name);
           return out;
         };
         const int64_t now = svc.now();
         const int64_t to = millis("to", now + 1), from = millis("from", now - 86'400'000);
         if (from >= to) throw Error::bad_request("invalid_time", "from must be before to", "from");
         std::string flow = ctx.req.q("flow");
         json::array items;
         db.read([&](store::Connection& c) {
           std::string sql =
               "SELECT flow, node, result, COUNT(*) AS visits, COUNT(DISTINCT call_id) AS "
               "callers FROM cti_ivr_path WHERE at >= ? AND at < ?";
           std::vector<store::Value> args{from, to};
           if (!flow.empty()) sql += " AND flow = ?", args.emplace_back(flow);
           sql += " GROUP BY flow, node, result ORDER BY flow, node, visits DESC, result";
           items = store::rows_json(c.exec(sql, args));
         });
         return Response::json(json::object{{"from", from}, {"to", to}, {"items", items}});
       },
       false, "IVR path statistics (菜单记录): visits per flow, node and outcome in [from, to)",
       "cti"});

}

// The simulator switch's far ends, for the console's 模拟来电 and the tests.
void add_simulator_routes(http::Router& router, Service& svc) {
  router.add({"POST", "/api/v1/cti/sim/calls", "cti:simulate",
              [&svc](Context& ctx) {
                auto body = body_of(ctx);
                only_fields(body, {"from", "to", "tier"});
                auto from = string_field(body, "from", true, 20);
                auto to = string_field(body, "to", true, 20);
                // No tier: the customer file decides, as for a real call.
                int tier = int(get_int(body, "tier").value_or(-1));
                if (body.contains("tier") && (tier < 0 || tier > 4))
                  throw Error::validation({{"tier", "out_of_range", "tier is 0 to 4"}});
                auto v = svc.exec([&](Service::Ctx& c) -> json::value {
                  return json::object{{"leg", c.sim.incoming(from, to, tier)}};
                });
                return Response::json(v, 201);
              },
              false,
              "Simulator: a customer calls `to` from `from` (tier 0 ordinary … 4 VIP; none: the "
              "customer file's)",
              "cti"});
  router.add({"POST", "/api/v1/cti/sim/legs/{id}/hang-up", "cti:simulate",
              [&svc](Context& ctx) {
                int64_t id = ctx.req.param_id("id");
                auto v = svc.exec([&](Service::Ctx& c) -> json::value {
                  if (!c.sim.far_end_hang_up(id)) throw Error::not_found("no such live leg", "id");
                  return json::object{{"ok", true}};
                });
                return Response::json(v);
              },
              false, "Simulator: the far end of a leg hangs up", "cti"});
  router.add({"POST", "/api/v1/cti/sim/legs/{id}/digits", "cti:simulate",
              [&svc](Context& ctx) {
                int64_t id = ctx.req.param_id("id");
                auto body = body_of(ctx);
                only_fields(body, {"digits"});
                auto digits = string_field(body, "digits", true, 32);
                if (digits.find_first_not_of("0123456789*#") != std::string::npos)
                  throw Error::validation({{"digits", "bad_format", "digits are 0-9, * and #"}});
                auto v = svc.exec([&](Service::Ctx& c) -> json::value {
                  auto* l = c.sim.leg(id);
                  if (!l || l->state == "gone") throw Error::not_found("no such live leg", "id");
                  c.sim.press(id, digits);
                  return json::object{{"ok", true}};
                });
                return Response::json(v);
              },
              false, "Simulator: the far end of a leg presses keys (DTMF)", "cti"});
}

}  // namespace

void add_routes(http::Router& router, Service& svc, store::Database& db, bool simulator) {
  add_desk_routes(router, svc);
  add_supervisor_routes(router, svc, db);
  add_record_routes(router, svc, db);
  add_conversation_routes(router, svc, db);
  add_ivr_statistics_routes(router, svc, db);
  if (simulator) add_simulator_routes(router, svc);
}

}  // namespace kefu::cti
