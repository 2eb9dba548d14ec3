// Solr-style search parameters (q, fq, sort, start, rows, fl, facet.field, stats.field, cursorMark)
// parsed into a store::QuerySpec, with every value typed and every field checked against the
// registry. Plain functions over decoded query pairs: no server needed to test them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "model/registry.h"
#include "store/query.h"

namespace aitelemetry::api {

using QueryPairs = std::vector<std::pair<std::string, std::string>>;

// Limits on what one search may ask for. Over a limit: kInvalidArgument naming it.
inline constexpr int64_t kDefaultRows = 100;
inline constexpr int64_t kMaxRows = 1000;
inline constexpr size_t kMaxValueBytes = 4096;  // one parameter value
inline constexpr size_t kMaxFilters = 64;       // fq parameters
inline constexpr size_t kMaxTerms = 256;        // values in one fq (a OR b OR ...)
inline constexpr size_t kMaxFacets = 32;        // facet.field and stats.field, each
inline constexpr size_t kMaxSortKeys = 8;
inline constexpr int kMaxFacetLimit = 1000;

// The body format a caller asked for.
enum class Format { kJson, kCsv };

struct SearchParams {
  store::QuerySpec spec;
  // cursorMark as sent ("*" starts an export); empty when no cursor was asked for. When set,
  // spec.after holds the decoded keyset position (nothing for "*").
  std::string cursor_mark;
  Format format = Format::kJson;
};

// Parses one fq value: `field:value`, `field:"quoted \" value"`, `field:[a TO b]` (inclusive),
// `field:{a TO b}` (exclusive; the brackets mix), `*` for an open bound, `field:(a OR b OR "c d")`,
// `-field:...` for negation (which also matches rows without a value, as Solr does), `field:*`
// (has a value; `-field:*` has none). Backslash escapes the next character in bare values.
// Values are typed by the field: integers, reals, true/false, RFC 3339 times. Returns
// kInvalidArgument naming the fq and what is wrong (unknown or unfilterable field, bad syntax,
// a value of the wrong type).
[[nodiscard]] Result<store::Filter> ParseFilterQuery(const model::Model& m, std::string_view fq);

// Parses a sort value: `field asc|desc` items, comma-separated (direction defaults to asc).
// Appends to `out`. Returns kInvalidArgument for an unknown or unsortable field, a bad direction,
// a field sorted twice, or more than kMaxSortKeys keys.
[[nodiscard]] Status ParseSort(const model::Model& m, std::string_view text,
                               std::vector<store::SortKey>& out);

// Parses a whole search request: the query pairs (decoded, repeats kept) and the Accept header.
// Single-valued parameters (q, start, rows, fl, cursorMark, facet.limit, format, wt) may appear
// once; unknown parameter names are refused so a typo is not silently ignored. Returns
// kInvalidArgument naming the parameter for anything malformed or over a limit, including
// values that are not UTF-8.
[[nodiscard]] Result<SearchParams> ParseSearchParams(const model::Model& m, const QueryPairs& query,
                                                     std::string_view accept);

// Returns the single value of `name` in `query`: nothing when absent, kInvalidArgument when it
// appears more than once.
[[nodiscard]] Result<std::optional<std::string>> SingleParam(const QueryPairs& query,
                                                             std::string_view name);

// Returns Ok when every parameter name of `query` is in `allowed` and every value is valid UTF-8
// of at most kMaxValueBytes; kInvalidArgument naming the first offender otherwise.
[[nodiscard]] Status CheckParams(const QueryPairs& query,
                                 const std::vector<std::string_view>& allowed);

// Chooses the body format from `format`/`wt` (json or csv) and the Accept header (text/csv when
// it does not also accept JSON). Returns kInvalidArgument for another format value.
[[nodiscard]] Result<Format> ParseFormat(const QueryPairs& query, std::string_view accept);

// Returns the percent-decoded rest of a request target's path after its first `segments` path
// segments, read from the raw target so that what a key holds survives exactly: an encoded
// slash (%2F) and empty segments included ("/api/allocation/a%2Fb%2F%2Fc@t?x=1" with 2 gives
// "a/b//c@t"). Returns nothing when the target does not start with `segments` non-empty
// segments each followed by one '/', or the rest is empty or does not decode.
std::optional<std::string> PathTail(std::string_view target, size_t segments);

// Returns whether `text` is well-formed UTF-8 (no overlongs, surrogates or code points past
// U+10FFFF).
bool IsValidUtf8(std::string_view text);

}  // namespace aitelemetry::api
