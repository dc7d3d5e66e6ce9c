#pragma once
// The narrow, asynchronous interface through which the core drives telephony. Commands return
// at once; what happened comes back later as SwitchEvents, in any order SIP allows: a leg may
// fail at any step, ring forever (the core keeps its own deadlines), be hung up by the far end
// while a command for it is in flight, or answer after the core gave up on it (the core then
// hangs it up). Implementations: SimSwitch (deterministic, for tests, the demo and load runs)
// and the SIP softswitch.
//
// Media model: each call is one mix (a conference with per-leg modes). Bridging two legs is
// putting both in the mix; listen, whisper, barge-in and three-way calls are modes of the same.
#include <functional>
#include <string>

#include "cti/model.hpp"

namespace kefu::cti {

struct SwitchEvent {
  enum class Kind : uint8_t {
    incoming,  // a new inbound leg (from, to); `tier` when the front end knows the customer
    alerting,  // an originated leg rings
    answered,  // a leg is up (inbound answered by us, originated answered by the far end)
    hung_up,   // the far end hung up (cause)
    failed,    // an originated leg could not be set up (cause: busy, unreachable, timeout, ...)
    digits,    // DTMF collected
    refer,     // the phone on this leg asks to transfer its call to `to` (SIP REFER, blind)
    media,     // a closed leg's RTP statistics (`quality`) in the mix `call` it was last in
    held,      // the far end put the call on hold (its own hold button: a re-INVITE)
    resumed,   // … and took it back
  };
  Kind kind;
  LegId leg = 0;
  std::string from, to, cause, digits;
  int tier = -1;
  // What the customer file says of an incoming caller (filled before the core sees the event):
  // his customer id (0 unknown), a black-listed caller blocked, or sent to a special queue.
  int64_t customer = 0;
  bool blocked = false;
  std::string queue;
  CallId call = 0;
  MediaQuality quality;
};
const char* to_string(SwitchEvent::Kind k);

// What the customer file says of a caller's number or a chat's or e-mail's address.
struct Screening {
  int64_t customer = 0;  // 0: unknown, or several customers share the address
  int tier = -1;         // -1: unknown
  bool blocked = false;  // black list: refuse
  std::string queue;     // black list: the special-handling queue (calls)
};

class Switch {
 public:
  using Sink = std::function<void(const SwitchEvent&)>;
  virtual ~Switch() = default;
  // Where events go. Called from the switch's own thread; never from inside a command.
  virtual void set_sink(Sink sink) = 0;

  // A new leg to `to` (an extension or an external number). auto_answer: the device answers by
  // itself (click-to-dial, a supervisor's monitoring phone).
  virtual void originate(LegId leg, const std::string& to, const std::string& caller_id,
                         bool auto_answer) = 0;
  // Answer an inbound leg; for a ringing device leg, ask the device to answer (desktop button).
  virtual void answer(LegId leg) = 0;
  // Put a leg in the call's mix or change its mode; whisper_to: the only leg that hears it.
  virtual void join(CallId mix, LegId leg, MixMode mode, LegId whisper_to = 0) = 0;
  virtual void leave(CallId mix, LegId leg) = 0;
  // Music on hold / queue music, until the leg joins a mix or another prompt starts.
  virtual void play(LegId leg, const std::string& prompt) = 0;
  virtual void collect(LegId leg, int max_digits, Millis timeout_ms) = 0;
  virtual void record_start(CallId mix, const std::string& name) = 0;
  virtual void record_stop(CallId mix) = 0;
  virtual void hang_up(LegId leg, const std::string& cause) = 0;
  // How a `refer` ended, for the phone that asked (a NOTIFY): accepted (the call went on to the
  // target) or refused (the call stays with the phone). Switches without transfers ignore it.
  virtual void refer_result(LegId leg, bool accepted) {}
  // Keys (0-9 * # A-D) to the far end of a leg: an agent keying into an outside party's menu.
  virtual void send_digits(LegId leg, const std::string& keys) {}
};

}  // namespace kefu::cti
