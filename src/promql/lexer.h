// Splits PromQL text into tokens: identifiers, numbers, durations, strings (decoded), operators and
// punctuation. Comments (# to the end of the line) and white space are dropped.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace aitelemetry::promql {

enum class TokenKind {
  kIdentifier,  // [a-zA-Z_:][a-zA-Z0-9_:]* (keywords too; the parser tells them apart)
  kNumber,      // 1, 1.5, .5, 1e-3, 0x1F, Inf, NaN (text kept as written)
  kDuration,    // 5m, 1h30m, 250ms (value in ms)
  kString,      // "…", '…' or `…` (value decoded)
  kLeftParen,
  kRightParen,
  kLeftBrace,
  kRightBrace,
  kLeftBracket,
  kRightBracket,
  kComma,
  kColon,
  kAt,
  kAssign,    // =
  kEql,       // ==
  kNeq,       // !=
  kRegexEq,   // =~
  kRegexNeq,  // !~
  kLss,       // <
  kGtr,       // >
  kLte,       // <=
  kGte,       // >=
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kEnd,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;   // identifiers and numbers as written; strings decoded; operators as written
  double number = 0;  // kNumber
  int64_t duration_ms = 0;  // kDuration
  size_t pos = 0;           // byte offset in the input
};

// Tokenizes `input`; the last token is kEnd. Returns kInvalidArgument naming the byte offset for
// an unknown character, an unterminated string, a bad escape, invalid UTF-8 in a string, or a
// malformed number or duration. Inputs over 64 KiB are refused.
[[nodiscard]] Result<std::vector<Token>> Lex(std::string_view input);

// Parses a Prometheus duration ("1h30m", "250ms"; units y w d h m s ms, largest first, each at
// most once). Returns kInvalidArgument when malformed, zero or too large.
[[nodiscard]] Result<int64_t> ParseDurationMs(std::string_view text);

// Writes `ms` as Prometheus does ("1h30m", "250ms", "0s"); negative values get a leading '-'.
std::string FormatDuration(int64_t ms);

inline constexpr size_t kMaxQueryBytes = 64 * 1024;

}  // namespace aitelemetry::promql
