#pragma once
// The SIP softswitch (issue 6): sofia-sip's nua on a thread of its own, implementing the core's
// Switch interface — the way FreeSWITCH's mod_sofia uses nua: media disabled in sofia (Kefu
// negotiates SDP itself, src/media/sdp.*), the application answers every INVITE and REGISTER.
//
// Threads: every nua call runs on the SIP thread. Commands from the core are queued and the SIP
// thread is woken through an eventfd; what happens on the wire is queued the other way and
// delivered to the sink by advance(), on the core's thread, as the simulator switch does.
//
// Registrar: agents' phones register their extension with digest authentication (MD5, qop
// auth; stateless nonces). A call for a registered extension is sent to its contact.
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "cti/switch.hpp"

namespace kefu::sip {

struct SipOptions {
  std::string listen = "127.0.0.1:5060";  // host:port, UDP and TCP
  std::string realm = "kefu";
  std::string media_address;  // the address in our SDP; the listen host when empty
  int rtp_port_min = 20000, rtp_port_max = 29998;
  std::string nonce_key;  // shared by the nodes of a cluster; random when empty
  int register_max_s = 3600;
  int session_expires_s = 1800;  // RFC 4028 session interval offered and accepted (min 90)
  std::string gateway;           // host:port: calls to numbers that are not extensions go there
  std::string gateway_user, gateway_password;    // answered when the trunk challenges (digest)
  std::string recording_dir = "var/recordings";  // the core's recording names are below it
  std::string prompt_dir = "var/prompts";        // <prompt>.wav (or FLAC, Ogg), any rate
  int media_threads = 0;                         // 0 = one per core, at most 4
};

class SipSwitch : public cti::Switch {
 public:
  SipSwitch(SipOptions opt, cti::IdSource& ids);
  ~SipSwitch() override;
  // Binds and starts the SIP thread; throws std::runtime_error if it cannot listen.
  void start();
  void stop();

  // Every extension → the SIP secret of its phone ("" = it may not register), replaced live.
  void set_accounts(std::map<std::string, std::string> secrets);
  bool registered(const std::string& extension) const;
  // For /metrics: SIP legs (dialogs) held, their RTP legs, extensions registered.
  struct Gauges {
    size_t legs = 0, media_legs = 0, registered = 0;
  };
  Gauges gauges() const;
  // Whether a new leg to `to` is this switch's: a registered extension, or an outside number
  // when there is a gateway.
  bool reaches(const std::string& to) const;
  // Delivers what the SIP thread saw since the last call, in order; `wake` is called (from the
  // SIP thread) whenever something is waiting, so the owner's loop need not poll.
  void advance();
  void on_ready(std::function<void()> wake);

  void set_sink(Sink sink) override;
  void originate(cti::LegId leg, const std::string& to, const std::string& caller_id,
                 bool auto_answer) override;
  void answer(cti::LegId leg) override;
  void join(cti::CallId mix, cti::LegId leg, cti::MixMode mode, cti::LegId whisper_to) override;
  void leave(cti::CallId mix, cti::LegId leg) override;
  void play(cti::LegId leg, const std::string& prompt) override;
  void collect(cti::LegId leg, int max_digits, cti::Millis timeout_ms) override;
  void record_start(cti::CallId mix, const std::string& name) override;
  void record_stop(cti::CallId mix) override;
  void hang_up(cti::LegId leg, const std::string& cause) override;
  void refer_result(cti::LegId leg, bool accepted) override;
  void send_digits(cti::LegId leg, const std::string& keys) override;

  // Whether the leg is one of this switch's (so a composite switch can route commands).
  bool owns(cti::LegId leg) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace kefu::sip
