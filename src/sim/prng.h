// Small, portable pseudo-random helpers for the simulator: every value is a pure function of its
// inputs, identical on every standard library and platform (no <random> distributions).
#pragma once

#include <cstdint>

namespace aitelemetry::sim {

// One SplitMix64 step: a bijective 64-bit finaliser with good avalanche. Returns the mixed value.
constexpr uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Hashes an ordered tuple of 64-bit words into one word. Different arities or orders give unrelated
// values; the first word is usually the fleet seed and the second a domain tag (kTag*), so that
// streams for different purposes never correlate.
constexpr uint64_t Hash(uint64_t a, uint64_t b) { return SplitMix64(SplitMix64(a) ^ b); }
constexpr uint64_t Hash(uint64_t a, uint64_t b, uint64_t c) { return Hash(Hash(a, b), c); }
constexpr uint64_t Hash(uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
  return Hash(Hash(a, b, c), d);
}

// Maps a hash to a double in [0, 1) using its top 53 bits.
constexpr double UnitInterval(uint64_t h) {
  return static_cast<double>(h >> 11) * (1.0 / 9007199254740992.0);
}

// Maps a hash to an integer in [0, n). Requires: n > 0. (Modulo bias is irrelevant for a
// simulator.)
constexpr uint64_t Below(uint64_t h, uint64_t n) { return h % n; }

// A sequential generator for building the fleet: each Next() hashes an incrementing counter.
class SplitMixStream {
 public:
  explicit constexpr SplitMixStream(uint64_t seed) : state_(seed) {}
  constexpr uint64_t Next() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return SplitMix64(state_);
  }
  // Returns an integer in [0, n). Requires: n > 0.
  constexpr uint64_t Below(uint64_t n) { return Next() % n; }
  constexpr double Uniform() { return UnitInterval(Next()); }

 private:
  uint64_t state_;
};

}  // namespace aitelemetry::sim
