#include "sip/media_engine.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include "media/audio_file.hpp"
#include "media/dtmf_detector.hpp"
#include "media/dtmf_sender.hpp"
#include "media/g711.hpp"
#include "media/jitter.hpp"
#include "media/mixer.hpp"
#include "media/rtcp.hpp"
#include "media/rtp.hpp"
#include "sip/digest.hpp"

namespace kefu::sip {

using cti::LegId;

struct MediaEngine::Impl {
  struct Leg {
    LegId id;
    int fd = -1;
    uint16_t port = 0;
    sockaddr_in remote{};
    bool has_remote = false;
    int payload_type = 0, dtmf_pt = -1;
    media::Codec codec = media::Codec::pcmu;
    cti::CallId mix = 0;
    cti::MixMode mode = cti::MixMode::talk;
    media::DtmfReceiver dtmf;
    // What this leg sends: its own SSRC and a continuous sequence and timestamp, whoever the
    // packets come from.
    uint32_t out_ssrc = 0;
    uint16_t out_seq = 0;
    uint32_t out_ts = 0;
    LegId last_source = 0;
    uint32_t source_ts0 = 0, out_ts0 = 0;
    Counters counters;
    // RTCP on the port above (RFC 3550): a report every 5 s, the far end's read when it comes.
    int rtcp_fd = -1;
    sockaddr_in rtcp_remote{};
    bool rtcp_learned = false;  // answered where its reports come from, else the RTP port + 1
    media::ReceptionStats rx;
    uint32_t rx_ssrc = 0, sent_octets = 0;
    uint32_t last_sr = 0;  // the middle of the far end's last SR's NTP time, and when it came
    std::chrono::steady_clock::time_point last_sr_at;
    int rtcp_tick = 0;
    // Keys going out to the far end (二次拨号); its audio waits meanwhile.
    std::unique_ptr<media::DtmfSender> keys_out;
    bool sending_keys() const { return keys_out && keys_out->active(); }
    bool agent_side = false;
    cti::LegId whisper_to = 0;
    // Decoded audio waiting for the mixer (mixed mixes only): reordered, losses concealed.
    std::unique_ptr<media::AudioJitter> jitter;
    // Keys pressed as tones, for phones and trunks without telephone-event (IVR and queue).
    std::unique_ptr<media::DtmfDetector> inband;
    // What is played to it outside a mix, in order; an entry whose speech is still being
    // rendered (TTS) holds the text and no samples yet, and the leg hears silence meanwhile.
    struct Item {
      std::string text;
      std::shared_ptr<const std::vector<int16_t>> samples;
      bool loop = false;  // music: starts over until something replaces it
    };
    std::deque<Item> playlist;
    size_t prompt_pos = 0;
  };

  // A recording in progress: the samples not yet handed to the writer, from `flushed` on.
  struct Recorder {
    std::string path;
    std::chrono::steady_clock::time_point start;
    int64_t flushed = 0;
    std::vector<int16_t> left, right;
    struct Track {
      int64_t pos0;
      uint32_t ts0;
    };
    std::unordered_map<LegId, Track> tracks;
  };
  std::map<cti::CallId, Recorder> recorders;

  // The writer thread: chunks of interleaved stereo samples, appended to their files.
  struct Chunk {
    std::string path;
    std::vector<int16_t> stereo;
    bool close = false;
  };
  std::mutex wmu;
  std::condition_variable wcv;
  std::deque<Chunk> chunks;
  bool wstop = false;
  std::thread writer;
  std::map<std::string, std::unique_ptr<media::StereoWavWriter>> files;

  std::string address;
  int port_min, port_max, next_port;
  std::mutex port_mu;
  std::mt19937 rng{std::random_device{}()};  // under port_mu
  std::string prompt_dir;
  // Prompts and speech, shared by the shards (prompt_mu, taken inside a shard's lock, never
  // around one).
  std::mutex prompt_mu;
  std::map<std::string, std::shared_ptr<const std::vector<int16_t>>> prompts;  // loaded once
  // Speech (espeak-ng, Mandarin) rendered off the media threads into prompt_dir/tts/<md5>.wav.
  std::map<std::string, std::shared_ptr<const std::vector<int16_t>>> speech;
  std::deque<std::string> tts_jobs;
  std::condition_variable tts_cv;
  bool tts_stop = false;
  std::thread tts;
  std::atomic<bool> stopping{false};
  std::function<void(LegId, char)> digit;  // set before start

  // One media thread and what it owns: the sockets it waits on (epoll), the 20 ms tick of its
  // mixes and players (a timerfd, so the pace does not drift), the mixes and their recordings.
  // A mix lives on the shard its call id picks, and a leg moves there when it joins, so neither
  // the packet path nor the tick ever takes another thread's lock.
  struct Shard {
    explicit Shard(Impl& e) : engine(e) {}
    Impl& engine;
    mutable std::mutex mu;
    int epfd = -1, wake_fd = -1, tick_fd = -1;
    std::thread thread;
    std::unordered_map<LegId, Leg> legs;
    std::unordered_map<int, LegId> by_fd, rtcp_by_fd;
    std::map<cti::CallId, std::vector<LegId>> mixes;
    std::map<cti::CallId, Recorder> recorders;

    void start();
    void stop();

    bool is_mixed(cti::CallId mix) const {
      auto it = mixes.find(mix);
      if (it == mixes.end() || it->second.size() < 2) return false;
      if (it->second.size() > 2) return true;
      for (LegId id : it->second)
        if (auto l = legs.find(id); l != legs.end() && l->second.mode != cti::MixMode::talk)
          return true;
      return false;
    }

    void send_rtp(Leg& l, int pt, bool marker, uint32_t ts, const uint8_t* payload, size_t n) {
      media::RtpHeader h;
      h.payload_type = uint8_t(pt);
      h.marker = marker;
      h.sequence = ++l.out_seq;
      h.timestamp = ts;
      h.ssrc = l.out_ssrc;
      uint8_t out[256];
      size_t m = media::write_rtp(h, payload, n, out, sizeof out);
      if (m && ::sendto(l.fd, out, m, 0, reinterpret_cast<const sockaddr*>(&l.remote),
                        sizeof l.remote) > 0)
        ++l.counters.relayed, l.sent_octets += uint32_t(n);
    }

    void send_frame(Leg& l, const int16_t* pcm) {
      if (!l.has_remote || l.sending_keys()) return;
      uint8_t payload[160];
      media::encode(l.codec, pcm, 160, payload);
      l.out_ts += 160;
      l.last_source = -1;  // the relay, if it takes over, restarts its timeline from here
      send_rtp(l, l.payload_type, false, l.out_ts, payload, sizeof payload);
    }

    // The next 20 ms of keys: RFC 4733 events on the key's first timestamp, or the tones. The
    // stream's clock runs on through them, so the audio after them continues smoothly.
    void send_keys(Leg& l) {
      auto p = l.keys_out->next();
      l.out_ts += 160;
      l.last_source = -1;
      if (!l.has_remote) return;
      if (p.audio) {
        uint8_t payload[160];
        media::encode(l.codec, p.pcm, 160, payload);
        return send_rtp(l, l.payload_type, false, l.out_ts, payload, sizeof payload);
      }
      for (size_t i = 0; i < p.events.size(); ++i) {
        uint8_t b[4];
        media::write_telephone_event(p.events[i], b, sizeof b);
        send_rtp(l, l.dtmf_pt, p.marker && i == 0, l.out_ts - p.started, b, sizeof b);
      }
    }

    // An SR (or an RR before Kefu has sent anything) with a report block on what it received,
    // to where the far end's reports come from (or its RTP port + 1).
    bool send_rtcp(Leg& l) {
      if (l.rtcp_fd < 0 || !l.has_remote || (!l.counters.relayed && !l.rx.received())) return false;
      const auto now = std::chrono::system_clock::now();
      media::RtcpReport r;
      r.sender = l.counters.relayed > 0;
      r.ssrc = l.out_ssrc;
      r.ntp = media::ntp_time(
          std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count());
      r.rtp_timestamp = l.out_ts;
      r.packets = uint32_t(l.counters.relayed);
      r.octets = l.sent_octets;
      if (l.rx.received()) {
        uint32_t dlsr = 0;
        if (l.last_sr)
          dlsr = uint32_t(std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::steady_clock::now() - l.last_sr_at)
                              .count() *
                          65536 / 1'000'000);
        r.blocks.push_back(l.rx.block(l.rx_ssrc, l.last_sr, dlsr));
      }
      sockaddr_in to = l.rtcp_learned ? l.rtcp_remote : l.remote;
      if (!l.rtcp_learned) to.sin_port = htons(uint16_t(ntohs(l.remote.sin_port) + 1));
      uint8_t out[256];
      size_t n = media::write_rtcp(r, "kefu@" + engine.address, out, sizeof out);
      if (n &&
          ::sendto(l.rtcp_fd, out, n, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) > 0)
        ++l.counters.rtcp_sent;
      return true;
    }

    // The far end's reports: its SRs (for the delay in ours) and its blocks about our stream.
    void on_rtcp(Leg& l, const uint8_t* data, size_t n, const sockaddr_in& from) {
      std::vector<media::RtcpReport> reports;
      if (!media::parse_rtcp(data, n, reports)) return;
      ++l.counters.rtcp_received;
      l.rtcp_remote = from;
      l.rtcp_learned = true;
      const auto now = std::chrono::system_clock::now();
      const uint32_t now_mid = media::ntp_middle(media::ntp_time(
          std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count()));
      for (auto& r : reports) {
        if (r.sender) {
          l.last_sr = media::ntp_middle(r.ntp);
          l.last_sr_at = std::chrono::steady_clock::now();
        }
        for (auto& b : r.blocks) {
          if (b.ssrc != l.out_ssrc) continue;
          l.counters.far_reported = true;
          l.counters.far_lost = b.cumulative_lost;
          l.counters.far_jitter_ms = b.jitter / 8.0;
          if (b.lsr) {  // RFC 3550 6.4.1: now − LSR − DLSR, in 1/65536 s
            const uint32_t rtt = now_mid - b.lsr - b.dlsr;
            if (rtt < 65536u * 10) l.counters.rtt_ms = rtt * 1000.0 / 65536;
          }
        }
      }
    }

    // Every 20 ms: each mixed mix, and each leg that is played something.
    void tick() {
      std::vector<media::Participant> parts;
      std::vector<std::vector<int16_t>> frames, out;
      for (auto& [mix, members] : mixes) {
        if (!is_mixed(mix)) continue;
        parts.assign(members.size(), {});
        frames.assign(members.size(), std::vector<int16_t>(160, 0));
        for (size_t i = 0; i < members.size(); ++i) {
          Leg& l = legs.at(members[i]);
          parts[i].id = uint32_t(i + 1);
          parts[i].role = media::Role(l.mode);
          for (size_t j = 0; j < members.size(); ++j)
            if (members[j] == l.whisper_to) parts[i].whisper_to = uint32_t(j + 1);
          // Nothing due from him (or quiet too long to conceal): silence from him this period.
          if (!l.jitter || !l.jitter->get(frames[i].data())) continue;
          parts[i].frame = frames[i].data();
        }
        media::mix(parts, 160, out);
        for (size_t i = 0; i < members.size(); ++i) send_frame(legs.at(members[i]), out[i].data());
      }
      for (auto& [id, l] : legs) {
        // Every 5 s once there is something to report; legs start apart (by id), so their
        // reports do not bunch.
        if (++l.rtcp_tick >= 250 && send_rtcp(l)) l.rtcp_tick = 0;
        if (l.sending_keys()) {
          send_keys(l);
          continue;
        }
        if (l.mix || l.playlist.empty()) continue;
        int16_t frame[160] = {};
        for (int k = 0; k < 160 && !l.playlist.empty();) {
          auto& item = l.playlist.front();
          if (!item.samples) break;  // still being spoken into a file: silence meanwhile
          if (l.prompt_pos >= item.samples->size()) {
            l.prompt_pos = 0;
            if (item.loop && !item.samples->empty()) continue;  // music starts over
            l.playlist.pop_front();
            continue;
          }
          frame[k++] = (*item.samples)[l.prompt_pos++];
        }
        send_frame(l, frame);
      }
    }

    // The other talking leg of a two-party mix, if that is what the mix is.
    Leg* peer(const Leg& l) {
      if (!l.mix || l.mode != cti::MixMode::talk) return nullptr;
      auto it = mixes.find(l.mix);
      if (it == mixes.end() || it->second.size() != 2) return nullptr;
      LegId other = it->second[0] == l.id ? it->second[1] : it->second[0];
      auto o = legs.find(other);
      if (o == legs.end() || o->second.mode != cti::MixMode::talk || !o->second.has_remote)
        return nullptr;
      return &o->second;
    }

    // A key the caller pressed, as telephone-event or as tones: it cuts the words short (a menu's
    // prompt, an announcement); music plays on.
    void key(Leg& l, char c) {
      if (!l.playlist.empty() && !l.playlist.front().loop) l.prompt_pos = 0;
      std::erase_if(l.playlist, [](const Leg::Item& i) { return !i.loop; });
      if (engine.digit) engine.digit(l.id, c);
    }

    void on_packet(Leg& l, uint8_t* data, size_t n, const sockaddr_in& from) {
      media::RtpHeader h;
      if (!media::parse_rtp(data, n, h)) return;
      ++l.counters.received;
      // Reception statistics in timestamp units (8 kHz) for RTCP and the call's record.
      l.rx_ssrc = h.ssrc;
      l.rx.on_packet(h.sequence, h.timestamp,
                     uint32_t(std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::steady_clock::now().time_since_epoch())
                                  .count() /
                              125));
      if (!l.has_remote || l.remote.sin_port != from.sin_port ||
          l.remote.sin_addr.s_addr != from.sin_addr.s_addr) {
        l.remote = from;  // symmetric RTP: answer where the packets come from
        l.has_remote = true;
      }
      if (l.dtmf_pt >= 0 && h.payload_type == l.dtmf_pt) {
        media::TelephoneEvent e;
        if (media::parse_telephone_event(data + h.payload_offset, h.payload_size, e))
          if (auto c = l.dtmf.on_packet(h, e)) key(l, *c);
        return;  // digits are for the core, not for the other party
      }
      if (h.payload_type != l.payload_type) return;  // comfort noise and the like
      if (l.dtmf_pt < 0 && !l.mix) {  // in a menu or a queue, without RFC 4733: listen for tones
        if (!l.inband)
          l.inband = std::make_unique<media::DtmfDetector>([this, &l](char c) { key(l, c); });
        int16_t pcm[1024];
        size_t n = std::min<size_t>(h.payload_size, 1024);
        media::decode(l.codec, data + h.payload_offset, n, pcm);
        l.inband->feed(pcm, n);
        return;
      }
      if (l.mix && l.mode == cti::MixMode::talk)
        if (auto r = recorders.find(l.mix); r != recorders.end())
          record(r->second, l, h, data + h.payload_offset);
      if (l.mix && is_mixed(l.mix)) {  // decoded for the mixer's next periods (at most 100 ms)
        int16_t pcm[1024];
        size_t n = std::min<size_t>(h.payload_size, 1024);
        media::decode(l.codec, data + h.payload_offset, n, pcm);
        if (!l.jitter) l.jitter = std::make_unique<media::AudioJitter>();
        l.jitter->put(h.timestamp, pcm, n);
        return;
      }
      Leg* to = peer(l);
      if (!to || to->sending_keys()) return;
      if (to->last_source != l.id) {  // a new talker for this far end: keep its timeline smooth
        to->last_source = l.id;
        to->source_ts0 = h.timestamp;
        to->out_ts0 = to->out_ts + 160;
      }
      uint8_t out[1500];
      media::RtpHeader oh;
      oh.marker = h.marker;
      oh.payload_type = uint8_t(to->payload_type);
      oh.sequence = ++to->out_seq;
      oh.timestamp = to->out_ts = to->out_ts0 + (h.timestamp - to->source_ts0);
      oh.ssrc = to->out_ssrc;
      const uint8_t* payload = data + h.payload_offset;
      uint8_t converted[1500];
      if (to->codec != l.codec && h.payload_size <= sizeof converted) {
        int16_t pcm[1500];
        media::decode(l.codec, payload, h.payload_size, pcm);
        media::encode(to->codec, pcm, h.payload_size, converted);
        payload = converted;
      }
      size_t m = media::write_rtp(oh, payload, h.payload_size, out, sizeof out);
      if (m && ::sendto(to->fd, out, m, 0, reinterpret_cast<const sockaddr*>(&to->remote),
                        sizeof to->remote) > 0)
        ++to->counters.relayed, to->sent_octets += uint32_t(h.payload_size);
    }

    void record(Recorder& r, const Leg& l, const media::RtpHeader& h, const uint8_t* payload) {
      auto t = r.tracks.find(l.id);
      if (t == r.tracks.end()) {
        int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - r.start)
                          .count() *
                      8;
        t = r.tracks.emplace(l.id, Recorder::Track{now, h.timestamp}).first;
      }
      int64_t pos = t->second.pos0 + int32_t(h.timestamp - t->second.ts0);
      size_t n = std::min<size_t>(h.payload_size, 1024);
      if (pos < r.flushed || pos - r.flushed > 8000 * 600) return;  // too late, or absurd
      auto& ch = l.agent_side ? r.right : r.left;
      size_t off = size_t(pos - r.flushed);
      if (r.left.size() < off + n) r.left.resize(off + n, 0);
      if (r.right.size() < off + n) r.right.resize(off + n, 0);
      int16_t pcm[1024];
      media::decode(l.codec, payload, n, pcm);
      for (size_t i = 0; i < n; ++i)
        ch[off + i] = int16_t(std::clamp(int32_t(ch[off + i]) + pcm[i], -32768, 32767));
      // Everything older than a second is final: hand it to the writer.
      if (r.left.size() > 16000) flush(r, r.left.size() - 8000, false);
    }

    void flush(Recorder& r, size_t count, bool close) {
      Chunk c{r.path, {}, close};
      c.stereo.resize(count * 2);
      for (size_t i = 0; i < count; ++i)
        c.stereo[2 * i] = r.left[i], c.stereo[2 * i + 1] = r.right[i];
      r.left.erase(r.left.begin(), r.left.begin() + long(count));
      r.right.erase(r.right.begin(), r.right.begin() + long(count));
      r.flushed += int64_t(count);
      engine.write(std::move(c));
    }

    void run() {
      epoll_event evs[64];
      uint8_t buf[2048];
      while (!engine.stopping) {
        int n = epoll_wait(epfd, evs, 64, 500);
        for (int i = 0; i < n; ++i) {
          int fd = evs[i].data.fd;
          if (fd == wake_fd) {
            uint64_t x;
            (void)!::read(wake_fd, &x, sizeof x);
            continue;
          }
          if (fd == tick_fd) {
            uint64_t x = 0;
            (void)!::read(tick_fd, &x, sizeof x);
            std::lock_guard lk(mu);
            // Periods missed while busy are made up (a little late), so every leg keeps its 50
            // frames a second; beyond 100 ms behind, the rest are dropped.
            for (uint64_t k = 0; k < std::min<uint64_t>(x, 5); ++k) tick();
            continue;
          }
          while (true) {
            // Read under the lock: the socket may have moved to another shard (or been closed
            // and its number reused there) since epoll named it; its packets are not ours then.
            std::lock_guard lk(mu);
            auto it = by_fd.find(fd);
            auto rt = it == by_fd.end() ? rtcp_by_fd.find(fd) : rtcp_by_fd.end();
            if (it == by_fd.end() && rt == rtcp_by_fd.end()) break;
            sockaddr_in from{};
            socklen_t len = sizeof from;
            ssize_t got = ::recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT,
                                     reinterpret_cast<sockaddr*>(&from), &len);
            if (got <= 0) break;
            if (it != by_fd.end())
              on_packet(legs.at(it->second), buf, size_t(got), from);
            else
              on_rtcp(legs.at(rt->second), buf, size_t(got), from);
          }
        }
      }
    }
  };
  std::vector<std::unique_ptr<Shard>> shards;
  // Which shard holds each leg; control calls look it up, the packet path never does.
  std::mutex route_mu;
  std::unordered_map<LegId, Shard*> route;

  Shard& shard_for_mix(cti::CallId mix) { return *shards[size_t(mix) % shards.size()]; }
  Shard* shard_of(LegId leg) {
    std::lock_guard lk(route_mu);
    auto it = route.find(leg);
    return it == route.end() ? nullptr : it->second;
  }
  // `f(shard, leg)` under the lock of the shard holding the leg; nothing if there is none.
  template <class F>
  void with_leg(LegId id, F&& f) {
    for (int tries = 0; tries < 3; ++tries) {  // it may move between the lookup and the lock
      Shard* s = shard_of(id);
      if (!s) return;
      std::lock_guard lk(s->mu);
      if (auto it = s->legs.find(id); it != s->legs.end()) return f(*s, it->second);
    }
  }

  Impl(std::string a, int lo, int hi, std::string dir, int threads)
      : address(std::move(a)), port_min(lo), port_max(hi), prompt_dir(std::move(dir)) {
    next_port = port_min;
    if (threads < 1) threads = std::clamp(int(std::thread::hardware_concurrency()), 1, 4);
    for (int i = 0; i < threads; ++i) shards.push_back(std::make_unique<Shard>(*this));
  }

  // A sound file as the 8 kHz mono samples a leg hears; empty when missing or not audio.
  static std::vector<int16_t> read_wav(const std::string& path) {
    auto p = media::read_prompt(path);
    if (!p.error.empty() && std::filesystem::exists(path))
      spdlog::warn("media: prompt {} not played: {}", path, p.error);
    return std::move(p.samples);
  }

  // What the core's own prompt names say when no recording of them is in the prompt directory.
  static const char* default_text(const std::string& name) {
    static const std::map<std::string, const char*> texts = {
        {"sorry_no_agents", "对不起，现在没有座席可以接听，请稍后再拨"},
        {"sorry_queue_full", "对不起，线路繁忙，请稍后再拨"},
        {"sorry_timeout", "对不起，等待时间过长，请稍后再拨"},
        {"sorry_no_route", "您拨打的号码不存在"},
        {"callback_confirmed", "我们将尽快给您回电，再见"},
        {"callback_unavailable", "对不起，无法为您预约回电"},
        {"voicemail_greeting", "请在提示音后留言"},
    };
    auto it = texts.find(name);
    return it == texts.end() ? nullptr : it->second;
  }

  // A prompt name (a recording's file name) rather than words to speak.
  static bool is_name(const std::string& p) {
    return !p.empty() && std::all_of(p.begin(), p.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
  }

  // A recorded prompt (prompt_dir/<name>.wav), or the chime for music; null when none.
  std::shared_ptr<const std::vector<int16_t>> recorded(const std::string& name) {
    if (auto it = prompts.find(name); it != prompts.end()) return it->second;
    auto out = std::make_shared<std::vector<int16_t>>();
    if (!prompt_dir.empty()) *out = read_wav(prompt_dir + "/" + name + ".wav");
    if (out->empty() && (name == "music_on_hold" || name == "queue_music")) {
      // Two soft notes and a rest, four seconds: callers hear they are still connected.
      for (int i = 0; i < 32000; ++i) {
        double t = i / 8000.0, env = std::sin(M_PI * std::fmod(t, 1.0));
        double f = i < 8000 ? 523.25 : i < 16000 ? 659.25 : 0;
        out->push_back(int16_t(f ? 2500 * env * std::sin(2 * M_PI * f * t) : 0));
      }
    }
    return prompts[name] = out->empty() ? nullptr : out;
  }

  std::string tts_path(const std::string& text) const {
    return prompt_dir + "/tts/" + md5_hex(text) + ".wav";
  }

  // Speech for a text if rendered already (memory, then the disk cache); else a render is
  // queued and null returned.
  std::shared_ptr<const std::vector<int16_t>> spoken(const std::string& text) {
    if (auto it = speech.find(text); it != speech.end()) return it->second;
    auto samples = read_wav(tts_path(text));
    if (!samples.empty()) {
      if (speech.size() > 2000) speech.clear();  // texts with figures in them are one-offs
      return speech[text] = std::make_shared<const std::vector<int16_t>>(std::move(samples));
    }
    if (std::find(tts_jobs.begin(), tts_jobs.end(), text) == tts_jobs.end()) {
      tts_jobs.push_back(text);
      tts_cv.notify_one();
    }
    return nullptr;
  }

  // The TTS thread: espeak-ng's Mandarin voice, the text through a file (never an argument),
  // the WAV renamed into the cache when complete; the legs waiting for it start speaking.
  void tts_loop() {
    std::unique_lock lk(prompt_mu);
    while (true) {
      tts_cv.wait(lk, [&] { return tts_stop || !tts_jobs.empty(); });
      if (tts_stop) return;
      std::string text = tts_jobs.front();
      lk.unlock();
      std::string final = tts_path(text), tmp = final + ".part", txt = final + ".txt";
      std::error_code ec;
      std::filesystem::create_directories(prompt_dir + "/tts", ec);
      std::ofstream(txt) << text;
      pid_t pid = 0;
      const char* argv[] = {"espeak-ng", "-v",        "cmn", "-s",        "160",
                            "-w",        tmp.c_str(), "-f",  txt.c_str(), nullptr};
      int status = -1;
      if (posix_spawnp(&pid, "espeak-ng", nullptr, nullptr, const_cast<char* const*>(argv),
                       environ) == 0)
        waitpid(pid, &status, 0);
      std::vector<int16_t> samples;
      if (status == 0 && std::filesystem::file_size(tmp, ec) > 44) {
        std::filesystem::rename(tmp, final, ec);
        samples = read_wav(final);
      } else {
        spdlog::warn("media: speaking \"{}\" failed (is espeak-ng installed?)", text);
      }
      std::filesystem::remove(txt, ec);
      std::filesystem::remove(tmp, ec);
      auto ready = std::make_shared<const std::vector<int16_t>>(std::move(samples));
      for (auto& sh : shards) {  // never under prompt_mu: a shard takes it inside its own lock
        std::lock_guard sl(sh->mu);
        for (auto& [id, l] : sh->legs)
          for (auto& item : l.playlist)
            if (!item.samples && item.text == text) item.samples = ready;
      }
      lk.lock();
      std::erase(tts_jobs, text);
      speech[text] = ready;  // empty when it failed: the callers are not kept waiting
    }
  }

  void write(Chunk c) {
    {
      std::lock_guard lk(wmu);
      chunks.push_back(std::move(c));
    }
    wcv.notify_one();
  }

  void write_loop() {
    std::unique_lock lk(wmu);
    while (true) {
      wcv.wait(lk, [&] { return wstop || !chunks.empty(); });
      if (chunks.empty() && wstop) break;
      Chunk c = std::move(chunks.front());
      chunks.pop_front();
      lk.unlock();
      auto& f = files[c.path];
      if (!f) {
        std::error_code ec;
        std::filesystem::create_directories(std::filesystem::path(c.path).parent_path(), ec);
        f = std::make_unique<media::StereoWavWriter>();
        if (!f->open(c.path)) spdlog::error("media: cannot write recording {}", c.path);
      }
      f->write(c.stereo.data(), c.stereo.size() / 2);
      if (c.close) files.erase(c.path);
      lk.lock();
    }
  }
};

void MediaEngine::Impl::Shard::start() {
  epfd = epoll_create1(EPOLL_CLOEXEC);
  wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd;
  epoll_ctl(epfd, EPOLL_CTL_ADD, wake_fd, &ev);
  tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  itimerspec period{{0, 20'000'000}, {0, 20'000'000}};
  timerfd_settime(tick_fd, 0, &period, nullptr);
  ev.data.fd = tick_fd;
  epoll_ctl(epfd, EPOLL_CTL_ADD, tick_fd, &ev);
  thread = std::thread([this] { run(); });
}

void MediaEngine::Impl::Shard::stop() {
  uint64_t one = 1;
  (void)!::write(wake_fd, &one, sizeof one);
  thread.join();
  std::lock_guard lk(mu);  // recordings still open are finished, not lost
  for (auto& [mix, r] : recorders) flush(r, r.left.size(), true);
  recorders.clear();
}

MediaEngine::MediaEngine(std::string address, int port_min, int port_max, std::string prompt_dir,
                         int threads)
    : impl_(std::make_unique<Impl>(std::move(address), port_min, port_max, std::move(prompt_dir),
                                   threads)) {}

MediaEngine::~MediaEngine() {
  stop();
  for (auto& sh : impl_->shards) {
    std::lock_guard lk(sh->mu);
    for (auto& [id, l] : sh->legs) ::close(l.fd), ::close(l.rtcp_fd);
  }
}

int MediaEngine::threads() const {
  return int(impl_->shards.size());
}

void MediaEngine::start() {
  for (auto& sh : impl_->shards) sh->start();
  impl_->writer = std::thread([this] { impl_->write_loop(); });
  impl_->tts = std::thread([this] { impl_->tts_loop(); });
}

void MediaEngine::stop() {
  auto& m = *impl_;
  if (!m.writer.joinable()) return;
  m.stopping = true;
  for (auto& sh : m.shards) sh->stop();
  {
    std::lock_guard lk(m.prompt_mu);
    m.tts_stop = true;
  }
  m.tts_cv.notify_one();
  m.tts.join();
  {
    std::lock_guard lk(m.wmu);
    m.wstop = true;
  }
  m.wcv.notify_one();
  m.writer.join();
  for (auto& sh : m.shards) {
    ::close(sh->epfd);
    ::close(sh->wake_fd);
    ::close(sh->tick_fd);
  }
}

void MediaEngine::record_start(cti::CallId mix, const std::string& path) {
  auto& sh = impl_->shard_for_mix(mix);
  std::lock_guard lk(sh.mu);
  if (sh.recorders.count(mix)) return;
  auto& r = sh.recorders[mix];
  r.path = path;
  r.start = std::chrono::steady_clock::now();
}

void MediaEngine::record_stop(cti::CallId mix) {
  auto& sh = impl_->shard_for_mix(mix);
  std::lock_guard lk(sh.mu);
  auto it = sh.recorders.find(mix);
  if (it == sh.recorders.end()) return;
  sh.flush(it->second, it->second.left.size(), true);
  sh.recorders.erase(it);
}

uint16_t MediaEngine::open(LegId leg, bool agent_side) {
  auto& m = *impl_;
  if (auto* s = m.shard_of(leg)) {
    std::lock_guard lk(s->mu);
    if (auto it = s->legs.find(leg); it != s->legs.end()) return it->second.port;
  }
  std::unique_lock pl(m.port_mu);
  const int span = (m.port_max - m.port_min) / 2 + 1;
  for (int tries = 0; tries < span; ++tries) {
    int port = m.next_port;
    m.next_port = m.next_port + 2 > m.port_max ? m.port_min : m.next_port + 2;
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port));
    inet_pton(AF_INET, m.address.c_str(), &a.sin_addr);
    int rtcp = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in b = a;
    b.sin_port = htons(uint16_t(port + 1));
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || rtcp < 0 ||
        ::bind(rtcp, reinterpret_cast<sockaddr*>(&b), sizeof b) != 0) {
      ::close(fd);
      if (rtcp >= 0) ::close(rtcp);
      continue;  // in use: the next pair
    }
    uint32_t ssrc = m.rng(), seq = m.rng(), ts = m.rng();
    pl.unlock();
    // Until it joins a mix, the leg (a menu, a queue) stays where its id falls.
    auto& sh = *m.shards[size_t(leg) % m.shards.size()];
    std::lock_guard lk(sh.mu);
    Impl::Leg& l = sh.legs[leg];
    l.id = leg;
    l.fd = fd;
    l.port = uint16_t(port);
    l.out_ssrc = ssrc;
    l.out_seq = uint16_t(seq);
    l.out_ts = ts;
    l.agent_side = agent_side;
    l.rtcp_fd = rtcp;
    l.rtcp_tick = int(leg % 250);
    sh.by_fd[fd] = leg;
    sh.rtcp_by_fd[rtcp] = leg;
    {
      std::lock_guard rl(m.route_mu);
      m.route[leg] = &sh;
    }
    for (int s : {fd, rtcp}) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = s;
      epoll_ctl(sh.epfd, EPOLL_CTL_ADD, s, &ev);
    }
    return l.port;
  }
  spdlog::error("media: no free RTP port in {}-{}", m.port_min, m.port_max);
  return 0;
}

void MediaEngine::set_remote(LegId leg, const std::string& address, uint16_t port, int payload_type,
                             const std::string& codec, int dtmf_pt) {
  impl_->with_leg(leg, [&](Impl::Shard&, Impl::Leg& l) {
    l.payload_type = payload_type;
    l.codec = codec == "PCMA" ? media::Codec::pcma : media::Codec::pcmu;
    l.dtmf_pt = dtmf_pt;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    if (port && inet_pton(AF_INET, address.c_str(), &a.sin_addr) == 1) {
      l.remote = a;
      l.has_remote = true;
    }
  });
}

MediaEngine::Counters MediaEngine::close(LegId leg) {
  auto& m = *impl_;
  Counters last;
  m.with_leg(leg, [&](Impl::Shard& sh, Impl::Leg& l) {
    if (l.mix) std::erase(sh.mixes[l.mix], leg);
    for (int s : {l.fd, l.rtcp_fd}) {
      epoll_ctl(sh.epfd, EPOLL_CTL_DEL, s, nullptr);
      ::close(s);
    }
    sh.by_fd.erase(l.fd);
    sh.rtcp_by_fd.erase(l.rtcp_fd);
    last = l.counters;
    last.lost = l.rx.lost();
    last.jitter_ms = l.rx.jitter() / 8.0;
    sh.legs.erase(leg);
    std::lock_guard rl(m.route_mu);
    m.route.erase(leg);
  });
  return last;
}

void MediaEngine::join(cti::CallId mix, LegId leg, cti::MixMode mode, LegId whisper_to) {
  auto& m = *impl_;
  auto& to = m.shard_for_mix(mix);
  Impl::Shard* from = m.shard_of(leg);
  if (!from) return;
  std::unique_lock a(from->mu, std::defer_lock), b(to.mu, std::defer_lock);
  if (from == &to)
    b.lock();
  else
    std::lock(a, b);
  if (from != &to) {  // the leg moves to its mix's thread, socket and all
    auto node = from->legs.extract(leg);
    if (node.empty()) return;
    Impl::Leg& l = node.mapped();
    if (l.mix) {
      std::erase(from->mixes[l.mix], leg);
      if (from->mixes[l.mix].empty()) from->mixes.erase(l.mix);
      l.mix = 0;
    }
    for (int s : {l.fd, l.rtcp_fd}) {
      epoll_ctl(from->epfd, EPOLL_CTL_DEL, s, nullptr);
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = s;
      epoll_ctl(to.epfd, EPOLL_CTL_ADD, s, &ev);
    }
    from->by_fd.erase(l.fd);
    from->rtcp_by_fd.erase(l.rtcp_fd);
    to.by_fd[l.fd] = leg;
    to.rtcp_by_fd[l.rtcp_fd] = leg;
    to.legs.insert(std::move(node));  // the node keeps its address: callbacks still hold it
    std::lock_guard rl(m.route_mu);
    m.route[leg] = &to;
  }
  auto it = to.legs.find(leg);
  if (it == to.legs.end()) return;
  auto& l = it->second;
  if (l.mix && l.mix != mix) std::erase(to.mixes[l.mix], leg);
  auto& members = to.mixes[mix];
  if (std::find(members.begin(), members.end(), leg) == members.end()) members.push_back(leg);
  l.mix = l.counters.mix = mix;
  l.mode = mode;
  l.whisper_to = whisper_to;
  l.playlist.clear();
  l.prompt_pos = 0;
  l.jitter.reset();  // a new mix, a new timeline
}

void MediaEngine::play(LegId leg, const std::string& prompt) {
  auto& m = *impl_;
  m.with_leg(leg, [&](Impl::Shard&, Impl::Leg& l) {
    const bool music = prompt == "music_on_hold" || prompt == "queue_music";
    // Music replaces music and follows words still being said (an announcement, then the music
    // again); words stop the music.
    const bool music_now = !l.playlist.empty() && l.playlist.front().loop;
    if (music) {
      std::erase_if(l.playlist, [](const Impl::Leg::Item& i) { return i.loop; });
      if (music_now) l.prompt_pos = 0;
    } else if (music_now) {
      l.playlist.clear();
      l.prompt_pos = 0;
    }
    std::lock_guard pl(m.prompt_mu);
    if (auto rec = Impl::is_name(prompt) ? m.recorded(prompt) : nullptr) {
      l.playlist.push_back({prompt, rec, music});
      return;
    }
    const char* text = Impl::is_name(prompt) ? Impl::default_text(prompt) : prompt.c_str();
    if (!text || m.prompt_dir.empty()) return;  // a name with neither a recording nor words
    l.playlist.push_back({text, m.spoken(text), music});
  });
}

void MediaEngine::leave(cti::CallId mix, LegId leg) {
  impl_->with_leg(leg, [&](Impl::Shard& sh, Impl::Leg& l) {
    if (l.mix != mix) return;
    auto& members = sh.mixes[mix];
    std::erase(members, leg);
    if (members.empty()) sh.mixes.erase(mix);
    l.mix = 0;
  });
}

void MediaEngine::send_digits(LegId leg, const std::string& keys) {
  impl_->with_leg(leg, [&](Impl::Shard&, Impl::Leg& l) {
    if (!l.keys_out) l.keys_out = std::make_unique<media::DtmfSender>(l.dtmf_pt >= 0);
    l.keys_out->queue(keys);
  });
}

void MediaEngine::on_digit(std::function<void(LegId, char)> f) {
  impl_->digit = std::move(f);
}

size_t MediaEngine::legs() const {
  size_t n = 0;
  for (auto& sh : impl_->shards) {
    std::lock_guard lk(sh->mu);
    n += sh->legs.size();
  }
  return n;
}

MediaEngine::Counters MediaEngine::counters(LegId leg) const {
  Counters c;
  impl_->with_leg(leg, [&](Impl::Shard&, Impl::Leg& l) {
    c = l.counters;
    c.lost = l.rx.lost();
    c.jitter_ms = l.rx.jitter() / 8.0;
  });
  return c;
}

}  // namespace kefu::sip
