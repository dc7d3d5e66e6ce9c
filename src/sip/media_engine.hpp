#pragma once
// RTP for the SIP legs (issue 6, first part of the media engine): one UDP socket per leg,
// symmetric RTP (a leg's far end is where its packets come from, once they come), a two-party
// bridge that relays packets between the two talking legs of a mix — rewriting SSRC, sequence
// and timestamp so each far end sees one continuous stream, transcoding PCMU ↔ PCMA when the
// two sides chose different codecs — and RFC 4733 digits reported to the switch.
//
// Anything else — three parties or more, a supervisor listening, whispering or barging in —
// is mixed: each leg's audio is decoded into a jitter buffer (speexdsp; a frame that does not come
// in time is concealed by spandsp's PLC, src/media/jitter.*), and every 20 ms (a timerfd, so the
// pace does not drift) the mixer (src/media/mixer.*) gives each leg what its mode lets it hear,
// encoded in its codec. A leg in a menu or a queue whose SDP has no telephone-event has its audio
// decoded for in-band DTMF (spandsp, src/media/dtmf_detector.*). A leg outside any mix hears what
// is played to it: a WAV prompt from the prompt directory, or music on hold (a WAV if there is one,
// else a soft generated chime).
//
// RTCP (RFC 3550) on the port above each leg's RTP port: an SR or RR every 5 s with a report block
// on what was received, and the far end's reports read; close() returns the leg's figures
// (通话质量) for the call's record.
//
// Full-call recording (全程录音) taps what each talking leg of a mix sends: the customer's side
// (legs from outside) on the left channel, the agents' side (phones of extensions) on the right,
// each packet placed by its RTP timestamp from the leg's first packet, so lost packets stay
// silence and both channels stay aligned. A writer thread appends to the WAV file off the packet
// path (libsndfile), its header kept current after every write.
//
// Media threads (shards), each with its own epoll and 20 ms tick: a call's mix lives on the
// shard its id picks and its legs move there when they join, so a call's packets, mixing and
// recording stay on one thread and calls spread over the cores. Control calls come from the SIP
// thread and take the short lock of the leg's shard. on_digit is set before start.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "cti/model.hpp"

namespace kefu::sip {

class MediaEngine {
 public:
  // threads: media threads (0 = one per core, at most 4).
  MediaEngine(std::string address, int port_min, int port_max, std::string prompt_dir = "",
              int threads = 0);
  ~MediaEngine();
  void start();
  void stop();
  int threads() const;

  // A leg's RTP: what Kefu received and sent, and what the far end said of Kefu's stream in its
  // RTCP reports (far_*: far_reported is false when it sent none).
  struct Counters {
    uint64_t received = 0, relayed = 0;
    int64_t lost = 0;      // expected by sequence number and never received
    double jitter_ms = 0;  // interarrival jitter (RFC 3550 A.8)
    uint64_t rtcp_received = 0, rtcp_sent = 0;
    bool far_reported = false;
    int64_t far_lost = 0;
    double far_jitter_ms = 0;
    double rtt_ms = -1;   // round trip from the far end's report blocks; -1 unknown
    cti::CallId mix = 0;  // the last mix the leg was in
  };

  // Binds the leg's socket; returns its port, 0 when no port of the range is free. agent_side:
  // the leg reaches an agent's or supervisor's phone (the right channel of recordings).
  uint16_t open(cti::LegId leg, bool agent_side = false);
  // What the far end's SDP said: where to send and in which payload types (PCMU 0 / PCMA 8 or
  // the offer's dynamic numbers; dtmf_pt -1 when telephone-event was not negotiated).
  void set_remote(cti::LegId leg, const std::string& address, uint16_t port, int payload_type,
                  const std::string& codec, int dtmf_pt);
  // Closes the leg's sockets; its final counters.
  Counters close(cti::LegId leg);
  void join(cti::CallId mix, cti::LegId leg, cti::MixMode mode, cti::LegId whisper_to = 0);
  // Plays `prompt` (prompt_dir/prompt.wav, 8 kHz or resampled) to a leg outside any mix, once;
  // music_on_hold and queue_music loop. Joining a mix or another play ends it.
  void play(cti::LegId leg, const std::string& prompt);
  void leave(cti::CallId mix, cti::LegId leg);
  // Stereo 8 kHz 16-bit WAV at `path` (directories created); stop finishes the file.
  void record_start(cti::CallId mix, const std::string& path);
  void record_stop(cti::CallId mix);
  // Keys to the far end of a leg (二次拨号): RFC 4733 events when negotiated, else tones in the
  // audio; what the leg would hear waits until they are sent.
  void send_digits(cti::LegId leg, const std::string& keys);
  // Called on the media thread for each digit a leg sends (RFC 4733).
  void on_digit(std::function<void(cti::LegId, char)> f);

  Counters counters(cti::LegId leg) const;
  size_t legs() const;  // open, over every media thread

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace kefu::sip
