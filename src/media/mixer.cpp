#include "media/mixer.hpp"

#include <algorithm>

namespace kefu::media {

void mix(const std::vector<Participant>& ps, size_t n, std::vector<std::vector<int16_t>>& out) {
  std::vector<int32_t> talk(n, 0);
  for (const auto& p : ps)
    if (p.role == Role::talk && p.frame)
      for (size_t i = 0; i < n; ++i) talk[i] += p.frame[i];
  out.resize(ps.size());
  std::vector<int32_t> acc(n);
  for (size_t k = 0; k < ps.size(); ++k) {
    const auto& me = ps[k];
    acc = talk;
    if (me.role == Role::talk && me.frame)  // nobody hears himself
      for (size_t i = 0; i < n; ++i) acc[i] -= me.frame[i];
    for (const auto& w : ps)
      if (w.role == Role::whisper && w.whisper_to == me.id && w.id != me.id && w.frame)
        for (size_t i = 0; i < n; ++i) acc[i] += w.frame[i];
    auto& o = out[k];
    o.resize(n);
    for (size_t i = 0; i < n; ++i) o[i] = int16_t(std::clamp<int32_t>(acc[i], -32768, 32767));
  }
}

}  // namespace kefu::media
