#include "collect/json_lex.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <system_error>

namespace aitelemetry::collect::json {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads four hex digits at p. Returns -1 when one is not a hex digit.
int32_t Hex4(const char* p) {
  int32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    int d = HexValue(p[i]);
    if (d < 0) return -1;
    v = (v << 4) | d;
  }
  return v;
}

void PushUtf8(uint32_t cp, Scratch* out) {
  if (cp < 0x80) {
    out->Push(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->Push(static_cast<char>(0xC0 | (cp >> 6)));
    out->Push(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->Push(static_cast<char>(0xE0 | (cp >> 12)));
    out->Push(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->Push(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->Push(static_cast<char>(0xF0 | (cp >> 18)));
    out->Push(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->Push(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->Push(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Checks the UTF-8 sequence whose lead byte (>= 0x80) is at q (RFC 3629: no overlong forms, no
// surrogates, nothing past U+10FFFF) and advances q past it.
Lex Utf8Sequence(const char*& q, const char* end, const char** why) {
  auto lead = static_cast<unsigned char>(q[0]);
  int n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the first continuation byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    n = 1;
  } else if (lead == 0xE0) {
    n = 2;
    lo = 0xA0;
  } else if ((lead >= 0xE1 && lead <= 0xEC) || lead == 0xEE || lead == 0xEF) {
    n = 2;
  } else if (lead == 0xED) {
    n = 2;
    hi = 0x9F;
  } else if (lead == 0xF0) {
    n = 3;
    lo = 0x90;
  } else if (lead >= 0xF1 && lead <= 0xF3) {
    n = 3;
  } else if (lead == 0xF4) {
    n = 3;
    hi = 0x8F;
  } else {
    *why = "invalid UTF-8 in a string";
    return Lex::kBad;
  }
  for (int k = 1; k <= n; ++k) {
    if (q + k == end) return Lex::kMore;
    auto c = static_cast<unsigned char>(q[k]);
    if (k == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF)) {
      *why = "invalid UTF-8 in a string";
      return Lex::kBad;
    }
  }
  q += n + 1;
  return Lex::kOk;
}

// Decodes the escape at q (*q == '\\') into *out and advances q past it.
Lex Escape(const char*& q, const char* end, Scratch* out, const char** why) {
  if (end - q < 2) return Lex::kMore;
  char c = q[1];
  char plain = 0;
  switch (c) {
    case '"':
    case '\\':
    case '/':
      plain = c;
      break;
    case 'b':
      plain = '\b';
      break;
    case 'f':
      plain = '\f';
      break;
    case 'n':
      plain = '\n';
      break;
    case 'r':
      plain = '\r';
      break;
    case 't':
      plain = '\t';
      break;
    case 'u':
      break;
    default:
      *why = "invalid escape in a string";
      return Lex::kBad;
  }
  if (c != 'u') {
    out->Push(plain);
    q += 2;
    return Lex::kOk;
  }
  if (end - q < 6) return Lex::kMore;
  int32_t cp = Hex4(q + 2);
  if (cp < 0) {
    *why = "invalid \\u escape in a string";
    return Lex::kBad;
  }
  if (cp >= 0xDC00 && cp <= 0xDFFF) {
    *why = "unpaired surrogate in a string";
    return Lex::kBad;
  }
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    // A high surrogate must be followed by an escaped low one.
    if (end - q < 12) {
      // Decide early when what is there already cannot be a low surrogate escape.
      for (const char* r = q + 6; r < end; ++r) {
        if ((r == q + 6 && *r != '\\') || (r == q + 7 && *r != 'u')) {
          *why = "unpaired surrogate in a string";
          return Lex::kBad;
        }
      }
      return Lex::kMore;
    }
    int32_t low = q[6] == '\\' && q[7] == 'u' ? Hex4(q + 8) : -1;
    if (low < 0xDC00 || low > 0xDFFF) {
      *why = "unpaired surrogate in a string";
      return Lex::kBad;
    }
    PushUtf8(0x10000 + ((static_cast<uint32_t>(cp) - 0xD800) << 10) +
                 (static_cast<uint32_t>(low) - 0xDC00),
             out);
    q += 12;
    return Lex::kOk;
  }
  PushUtf8(static_cast<uint32_t>(cp), out);
  q += 6;
  return Lex::kOk;
}

}  // namespace

bool Scratch::Prepare(size_t n) {
  if (capacity_ - size_ >= n) return true;
  if (size_ != 0) return false;
  size_t cap = std::max<size_t>(n, 2 * capacity_);
  data_ = std::make_unique<char[]>(cap);
  capacity_ = cap;
  return true;
}

void Scratch::Append(const char* s, size_t n) {
  if (n == 0) return;
  std::memcpy(data_.get() + size_, s, n);
  size_ += n;
}

Lex ReadStringSlow(const char*& p, const char* end, const char* start, const char* q,
                   std::string_view* out, Scratch* scratch, const char** why) {
  char* decoded = nullptr;  // where this string's text starts in *scratch, once it has an escape
  const char* pending = start;  // first byte not yet copied to *scratch (when decoding)
  for (;;) {
    q = FindStringSpecial(q, end);
    if (q == end) return Lex::kMore;
    auto c = static_cast<unsigned char>(*q);
    if (c == '"') {
      if (decoded == nullptr) {
        *out = std::string_view(start, static_cast<size_t>(q - start));
      } else {
        scratch->Append(pending, static_cast<size_t>(q - pending));
        *out = std::string_view(decoded, static_cast<size_t>(scratch->end() - decoded));
      }
      p = q + 1;
      return Lex::kOk;
    }
    if (c == '\\') {
      if (decoded == nullptr) {
        if (!scratch->Prepare(static_cast<size_t>(end - start))) {
          *why = "internal: string scratch too small";
          return Lex::kBad;
        }
        decoded = scratch->end();
      }
      scratch->Append(pending, static_cast<size_t>(q - pending));
      if (Lex l = Escape(q, end, scratch, why); l != Lex::kOk) return l;
      pending = q;
      continue;
    }
    if (c < 0x20) {
      *why = "unescaped control character in a string";
      return Lex::kBad;
    }
    if (Lex l = Utf8Sequence(q, end, why); l != Lex::kOk) return l;
  }
}

Lex ReadNumber(const char*& p, const char* end, std::string_view* token, const char** why) {
  const char* q = p;
  if (*q == '-') ++q;
  if (q == end) return Lex::kMore;
  if (*q == '0') {
    ++q;
  } else if (IsDigit(*q)) {
    while (q != end && IsDigit(*q)) ++q;
  } else {
    *why = "invalid number";
    return Lex::kBad;
  }
  if (q == end) return Lex::kMore;
  if (*q == '.') {
    ++q;
    if (q == end) return Lex::kMore;
    if (!IsDigit(*q)) {
      *why = "invalid number";
      return Lex::kBad;
    }
    while (q != end && IsDigit(*q)) ++q;
    if (q == end) return Lex::kMore;
  }
  if (*q == 'e' || *q == 'E') {
    ++q;
    if (q == end) return Lex::kMore;
    if (*q == '+' || *q == '-') ++q;
    if (q == end) return Lex::kMore;
    if (!IsDigit(*q)) {
      *why = "invalid number";
      return Lex::kBad;
    }
    while (q != end && IsDigit(*q)) ++q;
    if (q == end) return Lex::kMore;
  }
  if (IsDigit(*q)) {  // "01"
    *why = "invalid number";
    return Lex::kBad;
  }
  *token = std::string_view(p, static_cast<size_t>(q - p));
  p = q;
  return Lex::kOk;
}

std::optional<double> NumberValue(std::string_view token) {
  const char* b = token.data();
  const char* e = b + token.size();
  const bool negative = !token.empty() && token[0] == '-';
  if (token.find_first_of(".eE") == std::string_view::npos) {
    // An integer: simdjson keeps it as int64 or uint64 and refuses anything larger.
    if (negative) {
      int64_t v = 0;
      auto [end, ec] = std::from_chars(b, e, v);
      if (ec != std::errc() || end != e) return std::nullopt;
      return static_cast<double>(v);
    }
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(b, e, v);
    if (ec != std::errc() || end != e) return std::nullopt;
    return static_cast<double>(v);
  }
  double v = 0;
  auto [end, ec] = std::from_chars(b, e, v);
  if (end != e) return std::nullopt;
  if (ec == std::errc()) return v;
  if (ec != std::errc::result_out_of_range) return std::nullopt;
  // Out of range: too large is an error, too small is zero. The decimal exponent of the first
  // significant digit tells which.
  const char* q = b + (negative ? 1 : 0);
  int64_t magnitude = 0;
  bool significant = false;
  for (; q != e && IsDigit(*q); ++q) {
    if (significant || *q != '0') {
      significant = true;
      ++magnitude;
    }
  }
  if (q != e && *q == '.') {
    for (++q; q != e && IsDigit(*q); ++q) {
      if (significant) continue;
      if (*q == '0') {
        --magnitude;
      } else {
        significant = true;
      }
    }
  }
  int64_t exponent = 0;
  if (q != e && (*q == 'e' || *q == 'E')) {
    ++q;
    bool neg_exp = q != e && *q == '-';
    if (q != e && (*q == '-' || *q == '+')) ++q;
    for (; q != e; ++q) exponent = std::min<int64_t>(exponent * 10 + (*q - '0'), 1'000'000'000);
    if (neg_exp) exponent = -exponent;
  }
  if (!significant || magnitude + exponent < 0) return negative ? -0.0 : 0.0;
  return std::nullopt;
}

Lex ReadLiteral(const char*& p, const char* end, const char** why) {
  std::string_view want;
  switch (*p) {
    case 't':
      want = "true";
      break;
    case 'f':
      want = "false";
      break;
    case 'n':
      want = "null";
      break;
    default:
      *why = "unexpected character";
      return Lex::kBad;
  }
  size_t have = std::min(want.size(), static_cast<size_t>(end - p));
  if (std::string_view(p, have) != want.substr(0, have)) {
    *why = "invalid literal";
    return Lex::kBad;
  }
  if (have < want.size()) return Lex::kMore;
  p += want.size();
  return Lex::kOk;
}

}  // namespace aitelemetry::collect::json
