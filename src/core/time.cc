#include "core/time.h"

#include <cctype>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace aitelemetry {
namespace {

// Reads exactly `n` digits at `pos`, advancing it. Returns -1 when they are not all digits.
int ReadDigits(std::string_view s, size_t& pos, int n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  pos += n;
  return v;
}

bool Expect(std::string_view s, size_t& pos, char c) {
  if (pos < s.size() && s[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

tl::unexpected<Error> BadTime(std::string_view text) {
  std::string shown(text.substr(0, 64));
  return Fail(ErrorCode::kInvalidArgument, fmt::format("not an RFC 3339 time: \"{}\"", shown));
}

}  // namespace

Timestamp Now() { return std::chrono::time_point_cast<Nanos>(std::chrono::system_clock::now()); }

Result<Timestamp> ParseRfc3339(std::string_view s) {
  using namespace std::chrono;
  size_t pos = 0;
  int year = ReadDigits(s, pos, 4);
  if (year < 1970 || !Expect(s, pos, '-')) return BadTime(s);
  int month = ReadDigits(s, pos, 2);
  if (month < 1 || month > 12 || !Expect(s, pos, '-')) return BadTime(s);
  int day = ReadDigits(s, pos, 2);
  if (day < 1) return BadTime(s);
  if (!(Expect(s, pos, 'T') || Expect(s, pos, 't') || Expect(s, pos, ' '))) return BadTime(s);
  int hour = ReadDigits(s, pos, 2);
  if (hour < 0 || hour > 23 || !Expect(s, pos, ':')) return BadTime(s);
  int minute = ReadDigits(s, pos, 2);
  if (minute < 0 || minute > 59 || !Expect(s, pos, ':')) return BadTime(s);
  int second = ReadDigits(s, pos, 2);
  if (second < 0 || second > 60) return BadTime(s);  // 60: a leap second, folded into the next
  int64_t nanos = 0;
  if (Expect(s, pos, '.')) {
    int digits = 0;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      if (digits < 9) nanos = nanos * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return BadTime(s);
    for (int i = digits; i < 9; ++i) nanos *= 10;
  }
  int64_t offset_minutes = 0;
  if (Expect(s, pos, 'Z') || Expect(s, pos, 'z')) {
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int oh = ReadDigits(s, pos, 2);
    if (oh < 0 || oh > 23 || !Expect(s, pos, ':')) return BadTime(s);
    int om = ReadDigits(s, pos, 2);
    if (om < 0 || om > 59) return BadTime(s);
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return BadTime(s);
  }
  if (pos != s.size()) return BadTime(s);
  year_month_day ymd{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                     std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return BadTime(s);
  // Whole seconds first: nanoseconds since 1970 in 64 bits end in April 2262, and a later date
  // must be refused rather than wrap around.
  sys_seconds whole =
      sys_days{ymd} + hours{hour} + minutes{minute} + seconds{second} - minutes{offset_minutes};
  constexpr int64_t kMaxSeconds = std::numeric_limits<int64_t>::max() / 1000000000;
  int64_t secs = whole.time_since_epoch().count();
  if (secs > kMaxSeconds || (secs == kMaxSeconds && nanos > std::numeric_limits<int64_t>::max() -
                                                                kMaxSeconds * 1000000000)) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("time out of range (1970 to 2262-04-11): \"{}\"", s.substr(0, 64)));
  }
  return Timestamp{Nanos{secs * 1000000000 + nanos}};
}

std::string FormatRfc3339(Timestamp t) {
  using namespace std::chrono;
  auto days = floor<std::chrono::days>(t);
  year_month_day ymd{days};
  auto rest = t - days;
  auto h = duration_cast<hours>(rest);
  rest -= h;
  auto m = duration_cast<minutes>(rest);
  rest -= m;
  auto sec = duration_cast<seconds>(rest);
  rest -= sec;
  std::string out =
      fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), h.count(),
                  m.count(), sec.count());
  int64_t ns = rest.count();
  if (ns != 0) {
    std::string frac = fmt::format("{:09}", ns);
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
    out += '.';
    out += frac;
  }
  out += 'Z';
  return out;
}

Result<Nanos> ParseDuration(std::string_view text) {
  struct Unit {
    std::string_view name;
    int64_t nanos;
  };
  static constexpr Unit kUnits[] = {
      {"y", 365LL * 24 * 3600 * 1000000000LL},
      {"w", 7LL * 24 * 3600 * 1000000000LL},
      {"d", 24LL * 3600 * 1000000000LL},
      {"h", 3600LL * 1000000000LL},
      {"m", 60LL * 1000000000LL},
      {"s", 1000000000LL},
      {"ms", 1000000LL},
  };
  auto bad = [&] {
    return Fail(
        ErrorCode::kInvalidArgument,
        fmt::format("not a duration: \"{}\" (use e.g. 30s, 5m, 1h30m, 7d)", text.substr(0, 64)));
  };
  if (text.empty()) return bad();
  size_t pos = 0;
  int last_unit = -1;
  int64_t total = 0;
  while (pos < text.size()) {
    int64_t n = 0;
    size_t start = pos;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      if (n > std::numeric_limits<int64_t>::max() / 10) return bad();
      n = n * 10 + (text[pos] - '0');
      ++pos;
    }
    if (pos == start) return bad();
    int unit = -1;
    // "ms" must be tried before "m".
    if (text.substr(pos, 2) == "ms") {
      unit = 6;
    } else if (pos < text.size()) {
      for (int i = 0; i < 6; ++i) {
        if (text[pos] == kUnits[i].name[0]) unit = i;
      }
    }
    if (unit < 0 || unit <= last_unit) return bad();
    pos += kUnits[unit].name.size();
    last_unit = unit;
    if (n > std::numeric_limits<int64_t>::max() / kUnits[unit].nanos) return bad();
    int64_t add = n * kUnits[unit].nanos;
    if (total > std::numeric_limits<int64_t>::max() - add) return bad();
    total += add;
  }
  return Nanos{total};
}

std::string FormatDuration(Nanos d) {
  int64_t ns = d.count();
  if (ns == 0) return "0s";
  std::string out;
  if (ns < 0) {
    out += '-';
    ns = -ns;
  }
  constexpr int64_t kS = 1000000000LL;
  const std::pair<const char*, int64_t> units[] = {
      {"d", 86400 * kS}, {"h", 3600 * kS}, {"m", 60 * kS}, {"s", kS}, {"ms", 1000000LL}};
  for (auto [name, size] : units) {
    if (ns >= size) {
      out += std::to_string(ns / size);
      out += name;
      ns %= size;
    }
  }
  if (out.empty() || out == "-") out += std::to_string(ns) + "ns";
  return out;
}

double ToUnixSeconds(Timestamp t) {
  return static_cast<double>(t.time_since_epoch().count()) / 1e9;
}

Timestamp FromUnixSeconds(double seconds) {
  return Timestamp{Nanos{static_cast<int64_t>(std::llround(seconds * 1e9))}};
}

int64_t ToUnixMillis(Timestamp t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

int64_t ToUnixNanos(Timestamp t) { return t.time_since_epoch().count(); }

Timestamp FromUnixMillis(int64_t ms) { return Timestamp{std::chrono::milliseconds{ms}}; }

Timestamp FloorToHour(Timestamp t) { return std::chrono::floor<std::chrono::hours>(t); }

}  // namespace aitelemetry
