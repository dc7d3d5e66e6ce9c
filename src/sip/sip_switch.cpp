#include "sip/sip_switch.hpp"

#include <sofia-sip/nua.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_string.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/url.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <future>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "media/sdp.hpp"
#include "sip/digest.hpp"
#include "sip/media_engine.hpp"
#include "sip/request_line.hpp"

namespace kefu::sip {

using cti::LegId;
using cti::SwitchEvent;
using K = SwitchEvent::Kind;

namespace {

int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string user_of(const url_t* u) {
  return u && u->url_user ? u->url_user : "";
}

// The failure cause the core understands for a final SIP status.
const char* cause_of(int status) {
  switch (status) {
    case 486:
    case 600:
      return "busy";
    case 408:
    case 480:
      return "timeout";
    case 487:
      return "cancelled";
    default:
      return "unreachable";
  }
}

// A body Kefu can answer: SDP (a body without a Content-Type is taken as SDP, as phones send it).
bool is_sdp(const sip_content_type_t* type) {
  return !type || !type->c_type || su_casematch(type->c_type, "application/sdp");
}

// The SIP status for a core's hang-up cause on an inbound call not answered yet.
int status_of(const std::string& cause) {
  if (cause == "busy" || cause == "queue_full") return 486;
  if (cause == "no_route") return 404;
  if (cause == "blocked") return 403;  // 黑名单
  return 480;
}

}  // namespace

struct SipSwitch::Impl {
  struct Leg {
    LegId id;
    nua_handle_t* nh = nullptr;
    bool inbound = false;
    bool up = false;
    bool gone = false;
    std::string remote_sdp;
    uint16_t rtp_port = 0;
    bool agent_side = false;  // a phone of an extension (the right channel of recordings)
    // A REFER from the phone waiting for its outcome: the Event of the NOTIFY that reports it.
    std::string refer_event;
    bool authenticated = false;  // credentials sent once: a second challenge is a refusal
    bool held = false;           // the far end put us on hold (a=sendonly/inactive, c=0.0.0.0)
    std::string phone_contact, phone_uri;  // an extension's phone we rang: where, and who
  };
  std::set<nua_handle_t*> talk_notifies;  // NOTIFY "talk" in flight, each on a handle of its own
  std::unique_ptr<MediaEngine> media;

  SipOptions opt;
  cti::IdSource& ids;
  std::string host;
  int port = 5060;

  // SIP thread state.
  su_root_t* root = nullptr;
  nua_t* nua = nullptr;
  int wake_fd = -1;
  su_wait_t wait[1];
  su_timer_t* shutdown_timer = nullptr;
  bool shutdown_done = false;
  std::thread thread;
  std::unordered_map<LegId, Leg> legs;
  std::unordered_map<nua_handle_t*, LegId> by_handle;
  uint64_t session_id = 1;

  // Shared.
  mutable std::mutex mu;
  std::deque<std::function<void()>> commands;  // run on the SIP thread
  std::vector<SwitchEvent> events;             // for the core's thread
  std::map<std::string, std::string> accounts;
  struct Binding {
    std::string contact;
    int64_t expires_s;
  };
  std::map<std::string, Binding> bindings;
  std::unordered_map<LegId, bool> owned;
  Sink sink;
  std::function<void()> wake;
  std::atomic<bool> running{false};

  Impl(SipOptions o, cti::IdSource& i) : opt(std::move(o)), ids(i) {
    auto colon = opt.listen.rfind(':');
    host = opt.listen.substr(0, colon);
    if (colon != std::string::npos) port = std::stoi(opt.listen.substr(colon + 1));
    if (opt.media_address.empty()) opt.media_address = host;
    if (opt.nonce_key.empty()) opt.nonce_key = std::to_string(std::random_device{}());
    media = std::make_unique<MediaEngine>(opt.media_address, opt.rtp_port_min, opt.rtp_port_max,
                                          opt.prompt_dir, opt.media_threads);
    media->on_digit([this](LegId leg, char c) {
      SwitchEvent ev{K::digits, leg};
      ev.digits = std::string(1, c);
      emit(std::move(ev));
    });
  }

  void emit(SwitchEvent ev) {
    std::function<void()> w;
    {
      std::lock_guard lk(mu);
      events.push_back(std::move(ev));
      w = wake;
    }
    if (w) w();
  }

  // From any thread: run f on the SIP thread.
  void post(std::function<void()> f) {
    {
      std::lock_guard lk(mu);
      commands.push_back(std::move(f));
    }
    uint64_t one = 1;
    if (wake_fd >= 0) (void)!::write(wake_fd, &one, sizeof one);
  }

  static int on_wake(su_root_magic_t*, su_wait_t*, su_wakeup_arg_t* arg) {
    auto* self = reinterpret_cast<Impl*>(arg);
    uint64_t n;
    (void)!::read(self->wake_fd, &n, sizeof n);
    std::deque<std::function<void()>> queued;
    {
      std::lock_guard lk(self->mu);
      queued.swap(self->commands);
    }
    for (auto& f : queued) f();
    return 0;
  }

  Leg* leg_of(nua_handle_t* nh) {
    auto it = by_handle.find(nh);
    if (it == by_handle.end()) return nullptr;
    auto l = legs.find(it->second);
    return l == legs.end() ? nullptr : &l->second;
  }

  void forget(Leg& l) {
    auto m = media->close(l.id);
    if (m.mix && (m.received || m.relayed)) {  // 通话质量, for the call's record
      SwitchEvent ev{K::media, l.id};
      ev.call = m.mix;
      ev.quality = cti::MediaQuality{int64_t(m.received),
                                     std::max<int64_t>(m.lost, 0),
                                     int64_t(m.relayed),
                                     int64_t(m.jitter_ms * 1000),
                                     m.far_reported ? m.far_lost : -1,
                                     m.far_reported ? int64_t(m.far_jitter_ms * 1000) : -1,
                                     m.rtt_ms < 0 ? -1 : int64_t(m.rtt_ms * 1000)};
      emit(std::move(ev));
    }
    if (l.nh) {
      by_handle.erase(l.nh);
      nua_handle_destroy(l.nh);
      l.nh = nullptr;
    }
    {
      std::lock_guard lk(mu);
      owned.erase(l.id);
    }
    legs.erase(l.id);
  }

  // ---- requests from the wire ----

  void on_register(nua_handle_t* nh, const sip_t* sip) {
    auto respond = [&](int status, const char* phrase) {
      nua_respond(nh, status, phrase, NUTAG_WITH_THIS(nua), TAG_END());
      nua_handle_destroy(nh);
    };
    if (!sip || !sip->sip_to || !sip->sip_to->a_url->url_user) return respond(SIP_400_BAD_REQUEST);
    std::string ext = sip->sip_to->a_url->url_user;
    std::string secret;
    {
      std::lock_guard lk(mu);
      auto it = accounts.find(ext);
      if (it != accounts.end()) secret = it->second;
    }
    std::string realm = opt.realm;
    auto challenge_again = [&](bool stale) {
      std::string c = challenge(realm, make_nonce(opt.nonce_key, now_s()), stale);
      nua_respond(nh, SIP_401_UNAUTHORIZED, NUTAG_WITH_THIS(nua),
                  SIPTAG_WWW_AUTHENTICATE_STR(c.c_str()), TAG_END());
      nua_handle_destroy(nh);
    };
    const msg_auth_t* au = sip->sip_authorization;
    if (!au || !au->au_scheme) return challenge_again(false);
    std::string text = std::string(au->au_scheme) + " ";
    for (msg_param_t const* p = au->au_params; p && *p; ++p)
      text += std::string(p == au->au_params ? "" : ", ") + *p;
    auto cred = parse_digest(text);
    if (secret.empty() || cred.empty() || cred["username"] != ext)
      return respond(SIP_403_FORBIDDEN);
    switch (check_digest(cred, "REGISTER", realm, secret, opt.nonce_key, now_s())) {
      case DigestCheck::ok:
        break;
      case DigestCheck::stale_nonce:
        return challenge_again(true);
      default:
        return respond(SIP_403_FORBIDDEN);
    }
    const sip_contact_t* m = sip->sip_contact;
    int64_t expires = sip->sip_expires ? int64_t(sip->sip_expires->ex_delta) : 3600;
    if (m && m->m_expires) expires = std::strtoll(m->m_expires, nullptr, 10);
    expires = std::min<int64_t>(expires, opt.register_max_s);
    {
      std::lock_guard lk(mu);
      if (!m || expires <= 0 || (m->m_url->url_type == url_any)) {
        bindings.erase(ext);
      } else {
        char buf[512];
        if (url_e(buf, sizeof buf, m->m_url) > 0) bindings[ext] = {buf, now_s() + expires};
      }
    }
    spdlog::info("sip: {} {} ({} s)", ext, expires > 0 ? "registered" : "unregistered", expires);
    std::string exp = std::to_string(std::max<int64_t>(expires, 0));
    if (m && expires > 0)
      nua_respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua), SIPTAG_CONTACT(m),
                  SIPTAG_EXPIRES_STR(exp.c_str()), TAG_END());
    else
      nua_respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua), TAG_END());
    nua_handle_destroy(nh);
  }

  void on_invite(nua_handle_t* nh, const sip_t* sip) {
    if (Leg* l = leg_of(nh)) {  // a re-INVITE (hold, resume, session refresh)
      if (sip && sip->sip_payload && !is_sdp(sip->sip_content_type)) {
        nua_respond(nh, SIP_415_UNSUPPORTED_MEDIA, NUTAG_WITH_THIS(nua),
                    SIPTAG_ACCEPT_STR("application/sdp"), TAG_END());
        return;
      }
      std::string offer = sip && sip->sip_payload && sip->sip_payload->pl_data
                              ? std::string(sip->sip_payload->pl_data, sip->sip_payload->pl_len)
                              : l->remote_sdp;
      try {
        bool held = false;
        std::string sdp = our_sdp(*l, &offer, &held);
        l->remote_sdp = offer;
        nua_respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua),
                    SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp.c_str()),
                    TAG_END());
        // The phone's own hold button: the core holds the customer (music) or takes him back.
        if (held != l->held && l->up) {
          l->held = held;
          emit({held ? K::held : K::resumed, l->id});
        }
      } catch (const media::SdpError&) {
        nua_respond(nh, SIP_488_NOT_ACCEPTABLE, NUTAG_WITH_THIS(nua), TAG_END());
      }
      return;
    }
    if (!sip || !sip->sip_request || !sip->sip_from) {
      nua_respond(nh, SIP_400_BAD_REQUEST, NUTAG_WITH_THIS(nua), TAG_END());
      nua_handle_destroy(nh);
      return;
    }
    std::string offer = sip->sip_payload && sip->sip_payload->pl_data
                            ? std::string(sip->sip_payload->pl_data, sip->sip_payload->pl_len)
                            : "";
    if (!offer.empty() && !is_sdp(sip->sip_content_type)) {  // RFC 3261 §21.4.13
      nua_respond(nh, SIP_415_UNSUPPORTED_MEDIA, NUTAG_WITH_THIS(nua),
                  SIPTAG_ACCEPT_STR("application/sdp"), TAG_END());
      nua_handle_destroy(nh);
      return;
    }
    if (offer.empty()) {  // a late offer (INVITE without SDP) is not supported yet
      nua_respond(nh, SIP_488_NOT_ACCEPTABLE, NUTAG_WITH_THIS(nua),
                  SIPTAG_WARNING_STR("399 kefu \"an SDP offer is required\""), TAG_END());
      nua_handle_destroy(nh);
      return;
    }
    try {
      media::negotiate(media::parse_sdp(offer));
    } catch (const media::SdpError& e) {
      std::string w = "399 kefu \"" + e.code + "\"";
      nua_respond(nh, SIP_488_NOT_ACCEPTABLE, NUTAG_WITH_THIS(nua), SIPTAG_WARNING_STR(w.c_str()),
                  TAG_END());
      nua_handle_destroy(nh);
      return;
    }
    LegId id = ids.take();
    Leg& l = legs[id];
    l.id = id;
    l.nh = nh;
    l.inbound = true;
    l.remote_sdp = std::move(offer);
    by_handle[nh] = id;
    {
      std::lock_guard lk(mu);
      owned[id] = true;
    }
    nua_respond(nh, SIP_180_RINGING, NUTAG_WITH_THIS(nua), TAG_END());
    SwitchEvent ev{K::incoming, id, user_of(sip->sip_from->a_url),
                   user_of(sip->sip_request->rq_url)};
    emit(std::move(ev));
  }

  void on_gone(nua_handle_t* nh, const char* cause) {
    Leg* l = leg_of(nh);
    if (!l) return;
    if (!l->gone) emit({K::hung_up, l->id, "", "", cause});
    l->gone = true;
  }

  void on_invite_response(nua_handle_t* nh, int status, const sip_t* sip) {
    Leg* l = leg_of(nh);
    if (!l || l->gone) return;
    if (status == 180 || status == 183) {
      emit({K::alerting, l->id});
    } else if (status >= 200 && status < 300) {
      if (!l->up) {
        l->up = true;
        if (sip && sip->sip_payload && sip->sip_payload->pl_data) {
          l->remote_sdp.assign(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
          try {
            use_remote(*l, media::negotiate(media::parse_sdp(l->remote_sdp)));
          } catch (const media::SdpError& e) {  // no audio we can use: the call cannot go on
            spdlog::warn("sip: leg {} answered with unusable SDP ({})", l->id, e.code);
            nua_bye(nh, TAG_END());
            l->gone = true;
            emit({K::failed, l->id, "", "", "unreachable"});
            return;
          }
        }
        emit({K::answered, l->id});
      }
    } else if ((status == 401 || status == 407) && !l->agent_side && !l->authenticated &&
               !opt.gateway_user.empty() && sip) {
      // The trunk wants our account: answer its challenge once, with its realm.
      const msg_auth_t* au =
          status == 401 ? sip->sip_www_authenticate : sip->sip_proxy_authenticate;
      const char* realm = au ? msg_params_find(au->au_params, "realm=") : nullptr;
      if (!realm) {
        l->gone = true;
        emit({K::failed, l->id, "", "", cause_of(status)});
        return;
      }
      l->authenticated = true;
      std::string cred = std::string(au->au_scheme) + ":" + realm + ":" + opt.gateway_user + ":" +
                         opt.gateway_password;
      nua_authenticate(nh, NUTAG_AUTH(cred.c_str()), TAG_END());
    } else if (status >= 300) {
      l->gone = true;
      emit({K::failed, l->id, "", "", cause_of(status)});
    }
  }

  // A phone's transfer button (RFC 3515): nua has answered 202 Accepted; the core decides, and
  // refer_result() tells the phone with a NOTIFY. Attended transfer (Refer-To with Replaces) is
  // not done by the switch: the agent's desk has consultative transfer.
  void on_refer(nua_handle_t* nh, const sip_t* sip, const tagi_t* tags) {
    Leg* l = leg_of(nh);
    sip_event_t const* event = nullptr;
    tl_gets(tags, NUTAG_REFER_EVENT_REF(event), TAG_END());
    std::string ev = event && event->o_type ? event->o_type : "refer";
    if (event && event->o_id) ev += std::string(";id=") + event->o_id;
    const url_t* to = sip && sip->sip_refer_to ? sip->sip_refer_to->r_url : nullptr;
    bool replaces =
        to && to->url_headers && std::string(to->url_headers).find("Replaces") != std::string::npos;
    spdlog::info("sip: REFER on leg {} to {}", l ? l->id : 0,
                 to && to->url_user ? to->url_user : "?");
    if (!l || l->gone || !to || !to->url_user || replaces) {
      notify_refer(nh, ev, replaces ? "SIP/2.0 501 Not Implemented" : "SIP/2.0 603 Declined");
      return;
    }
    l->refer_event = ev;
    emit({K::refer, l->id, "", to->url_user});
  }

  void notify_refer(nua_handle_t* nh, const std::string& event, const char* sipfrag) {
    std::string body = std::string(sipfrag) + "\r\n";
    nua_notify(nh, NUTAG_SUBSTATE(nua_substate_terminated), SIPTAG_EVENT_STR(event.c_str()),
               SIPTAG_CONTENT_TYPE_STR("message/sipfrag;version=2.0"),
               SIPTAG_PAYLOAD_STR(body.c_str()), TAG_END());
  }

  void do_refer_result(LegId id, bool accepted) {
    auto it = legs.find(id);
    if (it == legs.end() || it->second.refer_event.empty()) return;
    notify_refer(it->second.nh, it->second.refer_event,
                 accepted ? "SIP/2.0 200 OK" : "SIP/2.0 603 Declined");
    it->second.refer_event.clear();
  }

  void on_state(nua_handle_t* nh, const tagi_t* tags) {
    int state = nua_callstate_init;
    tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
    if (state != nua_callstate_terminated) return;
    Leg* l = leg_of(nh);
    if (!l) return;
    if (!l->gone) emit({K::hung_up, l->id, "", "", "terminated"});
    forget(*l);
  }

  static void callback(nua_event_t event, int status, char const* phrase, nua_t*,
                       nua_magic_t* magic, nua_handle_t* nh, nua_hmagic_t*, sip_t const* sip,
                       tagi_t tags[]) {
    auto* self = reinterpret_cast<Impl*>(magic);
    switch (event) {
      case nua_i_register:
        self->on_register(nh, sip);
        break;
      case nua_i_invite:
        self->on_invite(nh, sip);
        break;
      case nua_r_invite:
        self->on_invite_response(nh, status, sip);
        break;
      case nua_i_bye:
        self->on_gone(nh, "bye");
        break;
      case nua_i_refer:
        self->on_refer(nh, sip, tags);
        break;
      case nua_i_cancel:
        self->on_gone(nh, "cancel");
        break;
      case nua_i_state:
        self->on_state(nh, tags);
        break;
      case nua_r_shutdown:
        if (status >= 200) {
          self->shutdown_done = true;
          su_root_break(self->root);
        }
        break;
      case nua_r_notify:  // a NOTIFY "talk" answered (or given up): its handle is done
        if (status >= 200 && self->talk_notifies.erase(nh)) {
          if (status >= 300) spdlog::info("sip: the phone refused to answer remotely: {}", status);
          nua_handle_destroy(nh);
        }
        break;
      case nua_i_error:
        spdlog::warn("sip: {} {}", status, phrase ? phrase : "");
        break;
      default:
        // Requests nobody here handles (MESSAGE, SUBSCRIBE, ...) come with a handle of their
        // own; nua answered them already.
        if (nh && nua_event_is_incoming_request(event) && !self->leg_of(nh)) nua_handle_destroy(nh);
        break;
    }
  }

  // ---- commands from the core (run on the SIP thread) ----

  // Where the far end's audio goes, from its SDP (an offer we answer, or the answer to ours).
  void use_remote(Leg& l, const media::Negotiated& n) {
    media->set_remote(l.id, n.remote_address, n.remote_port, n.payload_type, n.codec,
                      n.dtmf_payload_type);
  }

  // held: set to whether the offer puts us on hold (RFC 3264 §8.4, or the old c=0.0.0.0).
  std::string our_sdp(Leg& l, const std::string* remote_offer, bool* held = nullptr) {
    if (!l.rtp_port) l.rtp_port = media->open(l.id, l.agent_side);
    if (!l.rtp_port) throw media::SdpError("no_port", 0, "no free RTP port");
    if (remote_offer) {
      auto offer = media::parse_sdp(*remote_offer);
      auto n = media::negotiate(offer);
      if (held)
        *held =
            n.direction == "recvonly" || n.direction == "inactive" || n.remote_address == "0.0.0.0";
      use_remote(l, n);
      return media::to_string(media::answer(offer, n, opt.media_address, l.rtp_port, session_id++));
    }
    return media::to_string(media::offer(opt.media_address, l.rtp_port, session_id++, 1));
  }

  void do_answer(LegId id) {
    auto it = legs.find(id);
    if (it == legs.end() || it->second.gone || it->second.up) return;
    Leg& l = it->second;
    if (!l.inbound) {
      // The desk's answer button for a phone that rings: an unsolicited NOTIFY "talk" to the
      // phone, the remote-answer event of BroadSoft's access side that Yealink, Polycom and
      // Grandstream phones honour. A phone that does not is answered by lifting its handset.
      if (l.phone_contact.empty()) return;
      nua_handle_t* h = nua_handle(nua, nullptr, SIPTAG_TO_STR(l.phone_uri.c_str()), TAG_END());
      talk_notifies.insert(h);
      nua_notify(h, NUTAG_URL(l.phone_contact.c_str()), NUTAG_NEWSUB(1), SIPTAG_EVENT_STR("talk"),
                 SIPTAG_SUBSCRIPTION_STATE_STR("terminated;reason=noresource"), TAG_END());
      return;
    }
    std::string sdp;
    try {
      sdp = our_sdp(l, &l.remote_sdp);
    } catch (const media::SdpError&) {  // no RTP port left
      nua_respond(l.nh, SIP_503_SERVICE_UNAVAILABLE, TAG_END());
      l.gone = true;
      emit({K::hung_up, id, "", "", "no_media"});
      return;
    }
    nua_respond(l.nh, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                SIPTAG_PAYLOAD_STR(sdp.c_str()), TAG_END());
    l.up = true;
    emit({K::answered, id});
  }

  void do_originate(LegId id, const std::string& to, const std::string& caller_id,
                    bool auto_answer) {
    std::string contact;
    {
      std::lock_guard lk(mu);
      auto b = bindings.find(to);
      if (b != bindings.end() && b->second.expires_s > now_s()) contact = b->second.contact;
    }
    const bool phone = !contact.empty();
    if (!phone && !opt.gateway.empty()) {
      std::lock_guard lk(mu);
      if (!accounts.count(to)) contact = "sip:" + to + "@" + opt.gateway;  // out to the trunk
    }
    if (contact.empty()) {  // an extension without a live registration
      std::lock_guard lk(mu);
      owned.erase(id);
      events.push_back({K::failed, id, "", "", "unreachable"});
      if (wake) wake();
      return;
    }
    std::string local = host + ":" + std::to_string(port);
    std::string from =
        "<sip:" + (caller_id.empty() ? std::string("kefu") : caller_id) + "@" + local + ">";
    std::string to_uri = "<sip:" + to + "@" + (phone ? local : opt.gateway) + ">";
    nua_handle_t* nh = nua_handle(nua, nullptr, SIPTAG_TO_STR(to_uri.c_str()),
                                  SIPTAG_FROM_STR(from.c_str()), TAG_END());
    Leg& l = legs[id];
    l.id = id;
    l.nh = nh;
    l.agent_side = phone;
    if (phone) l.phone_contact = contact, l.phone_uri = to_uri;
    by_handle[nh] = id;
    std::string sdp;
    try {
      sdp = our_sdp(l, nullptr);
    } catch (const media::SdpError&) {
      l.gone = true;
      emit({K::failed, id, "", "", "unreachable"});
      return;
    }
    // Auto-answer (supervisors' monitoring phones): the de-facto headers phones understand.
    std::string extra = auto_answer ? "Call-Info: <sip:" + local + ">;answer-after=0" : "";
    nua_invite(nh, NUTAG_URL(contact.c_str()), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
               SIPTAG_PAYLOAD_STR(sdp.c_str()),
               TAG_IF(auto_answer, SIPTAG_HEADER_STR(extra.c_str())), TAG_END());
  }

  void do_hang_up(LegId id, const std::string& cause) {
    auto it = legs.find(id);
    if (it == legs.end()) return;
    Leg& l = it->second;
    if (l.gone) return;
    l.gone = true;
    // The core hangs up a transferring phone's leg once its call has gone on: the phone hears
    // that first, then the BYE.
    if (!l.refer_event.empty()) {
      notify_refer(l.nh, l.refer_event, "SIP/2.0 200 OK");
      l.refer_event.clear();
    }
    if (l.up)
      nua_bye(l.nh, TAG_END());
    else if (l.inbound)
      nua_respond(l.nh, status_of(cause), sip_status_phrase(status_of(cause)), TAG_END());
    else
      nua_cancel(l.nh, TAG_END());
  }

  void run(std::promise<void>& ready) {
    su_init();
    root = su_root_create(nullptr);
    std::string url = "sip:" + opt.listen;
    nua = root ? nua_create(root, &Impl::callback, reinterpret_cast<nua_magic_t*>(this),
                            NUTAG_URL(url.c_str()),
                            NUTAG_SIP_PARSER(parser_answering_bad_request_uris()), TAG_END())
               : nullptr;
    if (!nua) {
      if (root) su_root_destroy(root);
      su_deinit();
      ready.set_exception(
          std::make_exception_ptr(std::runtime_error("sip: cannot listen on " + opt.listen)));
      return;
    }
    // Session timers (RFC 4028): a call whose far end has vanished without a BYE (a phone pulled
    // off the network, a trunk that crashed) is refreshed nowhere and ends at its expiry, so no
    // agent or caller stays "in a call" with nobody. nua refreshes by UPDATE or re-INVITE when it
    // is the refresher, and sends the BYE itself when nobody refreshed.
    nua_set_params(nua, NUTAG_SESSION_TIMER(unsigned(opt.session_expires_s)), NUTAG_MIN_SE(90),
                   NUTAG_SESSION_REFRESHER(nua_any_refresher), NUTAG_UPDATE_REFRESH(1), TAG_END());
    nua_set_params(nua, NUTAG_MEDIA_ENABLE(0), NUTAG_AUTOANSWER(0), NUTAG_AUTOALERT(0),
                   NUTAG_APPL_METHOD("REGISTER"),
                   NUTAG_ALLOW("INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER"),
                   SIPTAG_USER_AGENT_STR("Kefu"), TAG_END());
    wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    su_wait_create(wait, wake_fd, SU_WAIT_IN);
    su_root_register(root, wait, &Impl::on_wake, reinterpret_cast<su_wakeup_arg_t*>(this), 0);
    running = true;
    ready.set_value();
    su_root_run(root);
    for (auto& [id, l] : legs)
      if (l.nh) nua_handle_destroy(l.nh);
    legs.clear();
    by_handle.clear();
    if (shutdown_timer) su_timer_destroy(shutdown_timer);
    shutdown_timer = nullptr;
    if (!shutdown_done) {  // transactions still pending: the process is ending, leave them be
      ::close(wake_fd);
      wake_fd = -1;
      return;
    }
    nua_destroy(nua);
    nua = nullptr;
    su_root_unregister(root, wait, &Impl::on_wake, reinterpret_cast<su_wakeup_arg_t*>(this));
    su_root_destroy(root);
    root = nullptr;
    su_deinit();
    ::close(wake_fd);
    wake_fd = -1;
  }
};

SipSwitch::SipSwitch(SipOptions opt, cti::IdSource& ids)
    : impl_(std::make_unique<Impl>(std::move(opt), ids)) {}

SipSwitch::~SipSwitch() {
  stop();
}

void SipSwitch::start() {
  impl_->media->start();
  std::promise<void> ready;
  auto f = ready.get_future();
  impl_->thread = std::thread([this, &ready] { impl_->run(ready); });
  try {
    f.get();
  } catch (...) {
    impl_->thread.join();
    impl_->media->stop();
    throw;
  }
  spdlog::info("sip: listening on {} (UDP and TCP), realm {}, {} media threads", impl_->opt.listen,
               impl_->opt.realm, impl_->media->threads());
}

void SipSwitch::stop() {
  if (!impl_->thread.joinable()) return;
  auto* m = impl_.get();
  m->post([m] {
    for (auto& [id, l] : m->legs)  // calls in progress end with the process
      if (!l.gone && l.up) nua_bye(l.nh, TAG_END());
    nua_shutdown(m->nua);
    // A phone that never answers the BYE would hold the shutdown for 32 s of retransmissions:
    // three seconds is enough for those that do.
    m->shutdown_timer = su_timer_create(su_root_task(m->root), 3000);
    su_timer_set(
        m->shutdown_timer,
        [](su_root_magic_t*, su_timer_t*, su_timer_arg_t* arg) {
          auto* self = reinterpret_cast<Impl*>(arg);
          spdlog::warn("sip: stopping without waiting any longer for answers to BYE");
          su_root_break(self->root);
        },
        reinterpret_cast<su_timer_arg_t*>(m));
  });
  m->thread.join();
  m->running = false;
  m->media->stop();
}

void SipSwitch::set_accounts(std::map<std::string, std::string> secrets) {
  std::lock_guard lk(impl_->mu);
  impl_->accounts = std::move(secrets);
}

SipSwitch::Gauges SipSwitch::gauges() const {
  Gauges g;
  {
    std::lock_guard lk(impl_->mu);
    g.legs = impl_->owned.size();
    for (auto& [ext, b] : impl_->bindings) g.registered += b.expires_s > now_s();
  }
  g.media_legs = impl_->media->legs();
  return g;
}

bool SipSwitch::registered(const std::string& extension) const {
  std::lock_guard lk(impl_->mu);
  auto b = impl_->bindings.find(extension);
  return b != impl_->bindings.end() && b->second.expires_s > now_s();
}

bool SipSwitch::reaches(const std::string& to) const {
  if (registered(to)) return true;
  std::lock_guard lk(impl_->mu);
  return !impl_->opt.gateway.empty() && !impl_->accounts.count(to);
}

bool SipSwitch::owns(LegId leg) const {
  std::lock_guard lk(impl_->mu);
  return impl_->owned.count(leg) > 0;
}

void SipSwitch::advance() {
  std::vector<SwitchEvent> batch;
  Sink sink;
  {
    std::lock_guard lk(impl_->mu);
    batch.swap(impl_->events);
    sink = impl_->sink;
  }
  if (sink)
    for (auto& ev : batch) sink(ev);
}

void SipSwitch::on_ready(std::function<void()> wake) {
  std::lock_guard lk(impl_->mu);
  impl_->wake = std::move(wake);
}

void SipSwitch::set_sink(Sink sink) {
  std::lock_guard lk(impl_->mu);
  impl_->sink = std::move(sink);
}

void SipSwitch::originate(LegId leg, const std::string& to, const std::string& caller_id,
                          bool auto_answer) {
  {
    std::lock_guard lk(impl_->mu);
    impl_->owned[leg] = true;
  }
  auto* m = impl_.get();
  m->post(
      [m, leg, to, caller_id, auto_answer] { m->do_originate(leg, to, caller_id, auto_answer); });
}

void SipSwitch::answer(LegId leg) {
  auto* m = impl_.get();
  m->post([m, leg] { m->do_answer(leg); });
}

void SipSwitch::refer_result(LegId leg, bool accepted) {
  auto* m = impl_.get();
  m->post([m, leg, accepted] { m->do_refer_result(leg, accepted); });
}

void SipSwitch::send_digits(LegId leg, const std::string& keys) {
  impl_->media->send_digits(leg, keys);
}

void SipSwitch::hang_up(LegId leg, const std::string& cause) {
  auto* m = impl_.get();
  m->post([m, leg, cause] { m->do_hang_up(leg, cause); });
}

// The media engine relays two talking parties, mixes more (conference, listen, whisper,
// barge), plays prompts and music on hold, and records. Digits (RFC 4733) are always reported,
// so collect() has nothing to start.
void SipSwitch::join(cti::CallId mix, LegId leg, cti::MixMode mode, LegId whisper_to) {
  impl_->media->join(mix, leg, mode, whisper_to);
}
void SipSwitch::leave(cti::CallId mix, LegId leg) {
  impl_->media->leave(mix, leg);
}
void SipSwitch::play(LegId leg, const std::string& prompt) {
  impl_->media->play(leg, prompt);
}
void SipSwitch::collect(LegId, int, cti::Millis) {}
void SipSwitch::record_start(cti::CallId mix, const std::string& name) {
  impl_->media->record_start(mix, impl_->opt.recording_dir + "/" + name);
}
void SipSwitch::record_stop(cti::CallId mix) {
  impl_->media->record_stop(mix);
}

}  // namespace kefu::sip
