#pragma once
// Keys sent to a far end (二次拨号: an agent keying into an outside party's menu), paced by the
// media tick: as RFC 4733 events when telephone-event was negotiated — each key 100 ms of event
// packets on one timestamp with a growing duration, its end packet three times, then 60 ms of
// pause — else as the tones themselves in the audio (spandsp's generator), for old trunks.
#include <cstdint>
#include <deque>
#include <memory>
#include <string_view>
#include <vector>

#include "media/rtp.hpp"

namespace kefu::media {

class DtmfSender {
 public:
  explicit DtmfSender(bool rfc4733);
  ~DtmfSender();
  DtmfSender(const DtmfSender&) = delete;
  DtmfSender& operator=(const DtmfSender&) = delete;

  // Keys to send after those queued: 0-9 * # A-D (anything else is skipped).
  void queue(std::string_view keys);
  bool active() const;

  // What goes out in the next 20 ms. RFC 4733: `events` (none in a pause) whose RTP timestamp is
  // the one the key started at, `started` samples before this period's; in band: 160 samples.
  struct Period {
    std::vector<TelephoneEvent> events;
    bool marker = false;   // the first packet of a key
    uint32_t started = 0;  // samples from the key's start to this period
    bool audio = false;
    int16_t pcm[160] = {};
  };
  Period next();

 private:
  bool rfc4733_;
  std::deque<char> keys_;
  int tick_ = -1;  // periods into the current key; -1 between keys
  char key_ = 0;
  struct Tones;
  std::unique_ptr<Tones> tones_;  // spandsp's generator, in band only
};

}  // namespace kefu::media
