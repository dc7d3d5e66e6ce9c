#include "media/g711.hpp"

namespace kefu::media {
namespace {
constexpr int kBias = 0x84, kClip = 32635;

int top_bit(int v) {  // floor(log2(v)) for v in 1..255, 0 for 0
  int e = 0;
  while (v > 1) v >>= 1, ++e;
  return e;
}
}  // namespace

int16_t ulaw_to_linear(uint8_t u) {
  u = uint8_t(~u);
  const int exponent = (u >> 4) & 0x07, mantissa = u & 0x0f;
  const int sample = (((mantissa << 3) + kBias) << exponent) - kBias;
  return int16_t((u & 0x80) ? -sample : sample);
}

uint8_t linear_to_ulaw(int16_t pcm) {
  int v = pcm;
  const int sign = v < 0 ? 0x80 : 0;
  if (sign) v = -v;
  if (v > kClip) v = kClip;
  v += kBias;
  const int exponent = top_bit((v >> 7) & 0xff);
  const int mantissa = (v >> (exponent + 3)) & 0x0f;
  return uint8_t(~(sign | (exponent << 4) | mantissa));
}

int16_t alaw_to_linear(uint8_t a) {
  a ^= 0x55;
  int t = (a & 0x0f) << 4;
  const int seg = (a & 0x70) >> 4;
  if (seg == 0)
    t += 8;
  else
    t = (t + 0x108) << (seg - 1);
  return int16_t((a & 0x80) ? t : -t);
}

uint8_t linear_to_alaw(int16_t pcm) {
  int v = pcm >> 3;  // 13-bit
  int mask;
  if (v >= 0) {
    mask = 0xd5;
  } else {
    mask = 0x55;
    v = -v - 1;
  }
  int seg = 0;
  while (seg < 8 && v > (0x20 << seg) - 1) ++seg;  // segment ends 0x1f, 0x3f, ... 0xfff
  if (seg >= 8) return uint8_t(0x7f ^ mask);
  int aval = seg << 4;
  aval |= seg < 2 ? (v >> 1) & 0x0f : (v >> seg) & 0x0f;
  return uint8_t(aval ^ mask);
}

void decode(Codec c, const uint8_t* in, size_t n, int16_t* out) {
  for (size_t i = 0; i < n; ++i)
    out[i] = c == Codec::pcmu ? ulaw_to_linear(in[i]) : alaw_to_linear(in[i]);
}

void encode(Codec c, const int16_t* in, size_t n, uint8_t* out) {
  for (size_t i = 0; i < n; ++i)
    out[i] = c == Codec::pcmu ? linear_to_ulaw(in[i]) : linear_to_alaw(in[i]);
}

}  // namespace kefu::media
