#pragma once
// The conference mixer of a call (who hears whom, SPEC M3): every 20 ms each participant gets
// the sum of everyone it may hear, in 32 bits, saturated to 16. The roles are the call model's
// mix modes (cti::MixMode): talk — heard by all (a party, or a supervisor barging in); listen —
// hears all, heard by none (监听); whisper — heard only by the one participant named (耳语: the
// agent); muted — hears all, heard by none (the agent's mute button).
#include <cstddef>
#include <cstdint>
#include <vector>

namespace kefu::media {

enum class Role : uint8_t { talk, listen, whisper, muted };

struct Participant {
  uint32_t id = 0;
  Role role = Role::talk;
  uint32_t whisper_to = 0;         // Role::whisper: the participant who hears him
  const int16_t* frame = nullptr;  // this period's samples; nullptr = silence (no packet)
};

// out[i] receives what participants[i] hears; every frame has `samples` samples. One pass to
// sum the talkers, then per listener the total minus his own voice plus whispers meant for
// him: O(participants × samples).
void mix(const std::vector<Participant>& participants, size_t samples,
         std::vector<std::vector<int16_t>>& out);

}  // namespace kefu::media
