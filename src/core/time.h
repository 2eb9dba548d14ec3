// Time vocabulary: instants as nanoseconds since the Unix epoch (UTC), RFC 3339 and duration text.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace aitelemetry {

using Nanos = std::chrono::nanoseconds;
// An instant in UTC with nanosecond precision (span times need it exactly).
using Timestamp = std::chrono::sys_time<std::chrono::nanoseconds>;

// Returns the current wall-clock time.
Timestamp Now();

// Parses RFC 3339 ("2026-11-01T00:00:00Z", "2026-11-01T01:02:03.123456789+01:00"). Also accepts a
// lower-case 't'/'z' and a space separator, as RFC 3339 section 5.6 allows. Returns
// kInvalidArgument naming the text on anything else, including out-of-range fields, years before
// 1970, and times after 2262-04-11T23:47:16.854775807Z (the last a Timestamp holds).
[[nodiscard]] Result<Timestamp> ParseRfc3339(std::string_view text);

// Formats as RFC 3339 in UTC with a 'Z'; fractional seconds only when non-zero (trailing zeros
// cut).
std::string FormatRfc3339(Timestamp t);

// Parses a Prometheus-style duration: one or more number+unit pairs in descending unit order, units
// ms, s, m, h, d, w, y ("30s", "1h30m", "7d"). Returns kInvalidArgument for empty text, a missing
// unit, units out of order, or an overflow.
[[nodiscard]] Result<Nanos> ParseDuration(std::string_view text);

// Formats a duration the way ParseDuration reads it, largest units first ("1h30m", "0s").
std::string FormatDuration(Nanos d);

// Seconds since the epoch as a double (Prometheus' timestamp convention).
double ToUnixSeconds(Timestamp t);
// Inverse of ToUnixSeconds, rounded to the nearest nanosecond.
Timestamp FromUnixSeconds(double seconds);
// Milliseconds / nanoseconds since the epoch.
int64_t ToUnixMillis(Timestamp t);
int64_t ToUnixNanos(Timestamp t);
Timestamp FromUnixMillis(int64_t ms);

// The start of the UTC hour containing t.
Timestamp FloorToHour(Timestamp t);

}  // namespace aitelemetry
