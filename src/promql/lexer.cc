#include "promql/lexer.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

#include <fmt/format.h>

#include "core/utf8.h"

namespace aitelemetry::promql {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentStart(char c) { return IsAlpha(c) || c == ':'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c); }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int HexValue(char c) {
  if (IsDigit(c)) return c - '0';
  return (c | 0x20) - 'a' + 10;
}

tl::unexpected<Error> Bad(size_t pos, std::string_view what) {
  return Fail(ErrorCode::kInvalidArgument, fmt::format("{} at position {}", what, pos));
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Decodes one escape after the backslash at in[*i - 1], as Go's strconv.Unquote does for a
// string quoted with `quote`. Advances *i past it.
Status DecodeEscape(std::string_view in, size_t* i, char quote, std::string* out) {
  size_t start = *i - 1;
  if (*i >= in.size()) return Bad(start, "unterminated escape");
  char c = in[(*i)++];
  switch (c) {
    case 'a':
      out->push_back('\a');
      return Ok();
    case 'b':
      out->push_back('\b');
      return Ok();
    case 'f':
      out->push_back('\f');
      return Ok();
    case 'n':
      out->push_back('\n');
      return Ok();
    case 'r':
      out->push_back('\r');
      return Ok();
    case 't':
      out->push_back('\t');
      return Ok();
    case 'v':
      out->push_back('\v');
      return Ok();
    case '\\':
      out->push_back('\\');
      return Ok();
    default:
      break;
  }
  if (c == quote) {
    out->push_back(c);
    return Ok();
  }
  int hex_digits = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
  if (hex_digits > 0) {
    uint32_t v = 0;
    for (int k = 0; k < hex_digits; ++k, ++*i) {
      if (*i >= in.size() || !IsHex(in[*i])) return Bad(start, "bad escape in string");
      v = v * 16 + static_cast<uint32_t>(HexValue(in[*i]));
    }
    if (c == 'x') {
      out->push_back(static_cast<char>(v));
      return Ok();
    }
    if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return Bad(start, "bad code point");
    AppendUtf8(v, out);
    return Ok();
  }
  if (c >= '0' && c <= '7') {
    uint32_t v = static_cast<uint32_t>(c - '0');
    for (int k = 0; k < 2; ++k, ++*i) {
      if (*i >= in.size() || in[*i] < '0' || in[*i] > '7') return Bad(start, "bad octal escape");
      v = v * 8 + static_cast<uint32_t>(in[*i] - '0');
    }
    if (v > 255) return Bad(start, "bad octal escape");
    out->push_back(static_cast<char>(v));
    return Ok();
  }
  return Bad(start, "unknown escape in string");
}

Result<Token> LexString(std::string_view in, size_t* i) {
  Token t;
  t.kind = TokenKind::kString;
  t.pos = *i;
  char quote = in[(*i)++];
  while (true) {
    if (*i >= in.size()) return Bad(t.pos, "unterminated string");
    char c = in[(*i)++];
    if (c == quote) break;
    if (quote == '`') {
      t.text.push_back(c);
      continue;
    }
    if (c == '\n') return Bad(t.pos, "unterminated string");
    if (c == '\\') {
      if (auto st = DecodeEscape(in, i, quote, &t.text); !st) return Fail(st.error());
      continue;
    }
    t.text.push_back(c);
  }
  if (!IsValidUtf8(t.text)) return Bad(t.pos, "string is not valid UTF-8");
  return t;
}

// A number (decimal, float, exponent, hex) or, for digits followed by a unit, a duration.
Result<Token> LexNumberOrDuration(std::string_view in, size_t* i) {
  Token t;
  t.pos = *i;
  size_t j = *i;
  bool hex = in.size() > j + 1 && in[j] == '0' && (in[j + 1] == 'x' || in[j + 1] == 'X');
  if (hex) {
    j += 2;
    size_t digits = j;
    while (j < in.size() && IsHex(in[j])) ++j;
    if (j == digits) return Bad(t.pos, "bad number");
  } else {
    bool integer = true;
    while (j < in.size() && IsDigit(in[j])) ++j;
    if (j < in.size() && in[j] == '.') {
      integer = false;
      ++j;
      while (j < in.size() && IsDigit(in[j])) ++j;
    }
    if (j == t.pos || (j == t.pos + 1 && in[t.pos] == '.')) return Bad(t.pos, "bad number");
    if (integer && j < in.size() &&
        std::string_view("smhdwy").find(in[j]) != std::string_view::npos) {
      while (j < in.size() && (IsDigit(in[j]) || IsAlpha(in[j]))) ++j;
      t.kind = TokenKind::kDuration;
      t.text = std::string(in.substr(t.pos, j - t.pos));
      auto ms = ParseDurationMs(t.text);
      if (!ms) return Bad(t.pos, "bad duration");
      t.duration_ms = *ms;
      *i = j;
      return t;
    }
    if (j < in.size() && (in[j] == 'e' || in[j] == 'E')) {
      size_t k = j + 1;
      if (k < in.size() && (in[k] == '+' || in[k] == '-')) ++k;
      size_t digits = k;
      while (k < in.size() && IsDigit(in[k])) ++k;
      if (k == digits) return Bad(t.pos, "bad number");
      j = k;
    }
  }
  if (j < in.size() && (IsIdentChar(in[j]) || in[j] == '.')) return Bad(t.pos, "bad number");
  t.kind = TokenKind::kNumber;
  t.text = std::string(in.substr(t.pos, j - t.pos));
  if (hex) {
    t.number = 0;
    for (size_t k = t.pos + 2; k < j; ++k) t.number = t.number * 16 + HexValue(in[k]);
  } else {
    errno = 0;
    t.number = std::strtod(t.text.c_str(), nullptr);  // ERANGE: ±Inf or 0, as Go parses it
  }
  *i = j;
  return t;
}

bool EqualsFold(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t k = 0; k < a.size(); ++k) {
    if ((a[k] | 0x20) != (b[k] | 0x20)) return false;
  }
  return true;
}

struct Op {
  std::string_view text;
  TokenKind kind;
};
// Longest first, so "=~" wins over "=".
constexpr Op kOps[] = {
    {"==", TokenKind::kEql},       {"!=", TokenKind::kNeq},        {"=~", TokenKind::kRegexEq},
    {"!~", TokenKind::kRegexNeq},  {"<=", TokenKind::kLte},        {">=", TokenKind::kGte},
    {"=", TokenKind::kAssign},     {"<", TokenKind::kLss},         {">", TokenKind::kGtr},
    {"+", TokenKind::kAdd},        {"-", TokenKind::kSub},         {"*", TokenKind::kMul},
    {"/", TokenKind::kDiv},        {"%", TokenKind::kMod},         {"^", TokenKind::kPow},
    {"(", TokenKind::kLeftParen},  {")", TokenKind::kRightParen},  {"{", TokenKind::kLeftBrace},
    {"}", TokenKind::kRightBrace}, {"[", TokenKind::kLeftBracket}, {"]", TokenKind::kRightBracket},
    {",", TokenKind::kComma},      {":", TokenKind::kColon},       {"@", TokenKind::kAt},
};

}  // namespace

Result<std::vector<Token>> Lex(std::string_view in) {
  if (in.size() > kMaxQueryBytes) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("query longer than {} bytes", kMaxQueryBytes));
  }
  std::vector<Token> out;
  size_t i = 0;
  while (true) {
    while (i < in.size() && (in[i] == ' ' || in[i] == '\t' || in[i] == '\n' || in[i] == '\r')) ++i;
    if (i >= in.size()) break;
    char c = in[i];
    if (c == '#') {
      while (i < in.size() && in[i] != '\n') ++i;
      continue;
    }
    if (c == '"' || c == '\'' || c == '`') {
      auto t = LexString(in, &i);
      if (!t) return Fail(t.error());
      out.push_back(std::move(*t));
      continue;
    }
    if (IsDigit(c) || (c == '.' && i + 1 < in.size() && IsDigit(in[i + 1]))) {
      auto t = LexNumberOrDuration(in, &i);
      if (!t) return Fail(t.error());
      out.push_back(std::move(*t));
      continue;
    }
    if (IsAlpha(c)) {  // a leading ':' is the subquery colon
      Token t;
      t.pos = i;
      while (i < in.size() && IsIdentChar(in[i])) ++i;
      t.text = std::string(in.substr(t.pos, i - t.pos));
      t.kind = TokenKind::kIdentifier;
      if (EqualsFold(t.text, "inf") || EqualsFold(t.text, "nan")) {
        t.kind = TokenKind::kNumber;
        t.number = EqualsFold(t.text, "inf") ? std::numeric_limits<double>::infinity()
                                             : std::numeric_limits<double>::quiet_NaN();
      }
      out.push_back(std::move(t));
      continue;
    }
    bool matched = false;
    for (const Op& op : kOps) {
      if (in.substr(i).starts_with(op.text)) {
        Token t;
        t.kind = op.kind;
        t.text = std::string(op.text);
        t.pos = i;
        out.push_back(std::move(t));
        i += op.text.size();
        matched = true;
        break;
      }
    }
    if (!matched) return Bad(i, "unexpected character");
  }
  Token end;
  end.kind = TokenKind::kEnd;
  end.pos = in.size();
  out.push_back(end);
  return out;
}

Result<int64_t> ParseDurationMs(std::string_view text) {
  struct Unit {
    std::string_view name;
    int64_t ms;
  };
  static constexpr Unit kUnits[] = {{"y", 365LL * 24 * 3600 * 1000},
                                    {"w", 7LL * 24 * 3600 * 1000},
                                    {"d", 24LL * 3600 * 1000},
                                    {"h", 3600LL * 1000},
                                    {"m", 60LL * 1000},
                                    {"s", 1000},
                                    {"ms", 1}};
  auto bad = [&] {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("bad duration \"{}\"", text.substr(0, 32)));
  };
  if (text.empty()) return bad();
  int64_t total = 0;
  size_t i = 0;
  size_t next_unit = 0;  // units must come largest first, each once
  while (i < text.size()) {
    size_t start = i;
    int64_t n = 0;
    while (i < text.size() && IsDigit(text[i])) {
      if (n > std::numeric_limits<int64_t>::max() / 10 - 10) return bad();
      n = n * 10 + (text[i++] - '0');
    }
    if (i == start) return bad();
    size_t u_start = i;
    while (i < text.size() && IsAlpha(text[i])) ++i;
    std::string_view unit = text.substr(u_start, i - u_start);
    size_t k = next_unit;
    while (k < std::size(kUnits) && kUnits[k].name != unit) ++k;
    if (k == std::size(kUnits)) return bad();
    next_unit = k + 1;
    if (n > (std::numeric_limits<int64_t>::max() - total) / kUnits[k].ms) return bad();
    total += n * kUnits[k].ms;
  }
  return total;
}

std::string FormatDuration(int64_t ms) {
  if (ms == 0) return "0s";
  std::string out;
  uint64_t v = ms < 0 ? static_cast<uint64_t>(-(ms + 1)) + 1 : static_cast<uint64_t>(ms);
  if (ms < 0) out.push_back('-');
  struct Unit {
    const char* name;
    uint64_t ms;
  };
  static constexpr Unit kUnits[] = {{"y", 365ULL * 24 * 3600 * 1000},
                                    {"w", 7ULL * 24 * 3600 * 1000},
                                    {"d", 24ULL * 3600 * 1000},
                                    {"h", 3600ULL * 1000},
                                    {"m", 60ULL * 1000},
                                    {"s", 1000},
                                    {"ms", 1}};
  for (const Unit& u : kUnits) {
    if (v >= u.ms) {
      out += std::to_string(v / u.ms);
      out += u.name;
      v %= u.ms;
    }
  }
  return out;
}

}  // namespace aitelemetry::promql
