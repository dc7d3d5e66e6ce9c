#pragma once
// G.711 μ-law (PCMU) and A-law (PCMA), ITU-T G.711: 8-bit samples to 16-bit linear and back.
// Decoding is a table; encoding follows the segment rules (the reference implementation's
// arithmetic, not a table). Only legs that need decoding (IVR, DTMF detection, mixing,
// recording) pay for it: a plain two-party bridge relays the bytes.
#include <cstddef>
#include <cstdint>

namespace kefu::media {

int16_t ulaw_to_linear(uint8_t u);
int16_t alaw_to_linear(uint8_t a);
uint8_t linear_to_ulaw(int16_t pcm);
uint8_t linear_to_alaw(int16_t pcm);

enum class Codec : uint8_t { pcmu, pcma };
void decode(Codec c, const uint8_t* in, size_t n, int16_t* out);
void encode(Codec c, const int16_t* in, size_t n, uint8_t* out);

}  // namespace kefu::media
