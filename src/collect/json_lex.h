// JSON tokens read from a bounded buffer, for the streaming Prometheus answer parser
// (prom_stream.h). Each function reads one token starting at `p`, never reads at or past `end`,
// and says whether the token was complete, ran past the end of the buffer (more bytes are needed
// to decide) or is invalid. Validation follows RFC 8259 as simdjson applies it: strings must be
// valid UTF-8 without raw control characters and with valid escapes (surrogates paired); numbers
// follow the JSON grammar.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace aitelemetry::collect::json {

enum class Lex : uint8_t {
  kOk,    // the token is complete and `p` is past it
  kMore,  // the buffer ended inside the token; `p` is unchanged
  kBad,   // the token is invalid; `*why` says why (a static string)
};

// Holds the unescaped text of strings that had escapes. Views into it stay valid until Clear().
//
// Sizing rule: the text decoded from a buffer position onwards is never longer than the bytes
// from there to the buffer's end, so the first string decoded after a Clear() reserves
// `end - start` bytes and later strings of the same buffer never reallocate (which would move the
// text that earlier views point at).
class Scratch {
 public:
  void Clear() { size_ = 0; }
  size_t capacity() const { return capacity_; }

  // Makes room for `n` more bytes. Returns false when that would move bytes already held (a
  // violated sizing rule: the caller's bug, reported rather than leaving views dangling).
  bool Prepare(size_t n);
  char* end() { return data_.get() + size_; }
  void Append(const char* s, size_t n);
  void Push(char c) { data_[size_++] = c; }

 private:
  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

inline bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// Advances `p` past whitespace. Returns false when the buffer ended.
inline bool SkipSpace(const char*& p, const char* end) {
  while (p != end && IsSpace(*p)) ++p;
  return p != end;
}

// Returns the first byte in [p, end) that is '"', '\\', a control character (< 0x20) or not
// ASCII (>= 0x80), or `end`. Sixteen bytes per step with SSE2: as signed bytes, both control
// characters and non-ASCII bytes are less than 0x20.
inline const char* FindStringSpecial(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  while (end - p >= 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                               _mm_cmplt_epi8(v, space));
    if (int mask = _mm_movemask_epi8(hit); mask != 0) return p + __builtin_ctz(mask);
    p += 16;
  }
#endif
  for (; p != end; ++p) {
    auto c = static_cast<unsigned char>(*p);
    if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) return p;
  }
  return end;
}

// The part of ReadString for strings with escapes or non-ASCII bytes; `q` is the first such byte.
Lex ReadStringSlow(const char*& p, const char* end, const char* start, const char* q,
                   std::string_view* out, Scratch* scratch, const char** why);

// Reads the string token at `p` (requires *p == '"'). On kOk, *out is its unescaped text: a view
// into the buffer when the string has no escapes, else into *scratch (see Scratch's sizing rule).
inline Lex ReadString(const char*& p, const char* end, std::string_view* out, Scratch* scratch,
                      const char** why) {
  const char* start = p + 1;
  const char* q = FindStringSpecial(start, end);
  if (q == end) return Lex::kMore;
  if (*q == '"') {
    *out = std::string_view(start, static_cast<size_t>(q - start));
    p = q + 1;
    return Lex::kOk;
  }
  return ReadStringSlow(p, end, start, q, out, scratch, why);
}

// Reads the number token at `p` (a '-' or a digit; anything else is kBad) into *token. A number
// is complete only once a byte that cannot continue it follows, so one that reaches `end` is
// kMore.
Lex ReadNumber(const char*& p, const char* end, std::string_view* token, const char** why);

// Returns the value of a number token the way simdjson's DOM parser reads it: nullopt for an
// integer outside int64/uint64 or a value beyond double's range; a value too small for a double
// is zero.
std::optional<double> NumberValue(std::string_view token);

// Reads true, false or null at `p`.
Lex ReadLiteral(const char*& p, const char* end, const char** why);

}  // namespace aitelemetry::collect::json
