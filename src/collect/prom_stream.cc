#include "collect/prom_stream.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "collect/json_lex.h"

namespace aitelemetry::collect {
namespace {

using json::Lex;

constexpr size_t kMaxDepth = 1024;  // simdjson's default, counting the answer object as 1
constexpr size_t kMinCarryGrowth = 256;

// Depths of the containers the grammar knows: the answer, "data", "data.result", a series.
constexpr size_t kRootDepth = 1;
constexpr size_t kDataDepth = 2;
constexpr size_t kSeriesDepth = 4;

enum class Step : uint8_t {
  kDone,   // the unit is complete and committed
  kMore,   // the buffer ended inside the unit: nothing of it was committed
  kError,  // the parser failed; Impl::error says why
};

// Where the parser is between units. A unit is one token or value of the answer's outer
// structure, or one whole series; units start at a non-whitespace byte.
enum class Stage : uint8_t {
  kRootOpen,       // '{'
  kRootFirst,      // '}' or a key
  kRootKey,        // a key and ':'
  kRootValue,      // the value of `key`
  kRootNext,       // ',' or '}'
  kWarningsFirst,  // ']' or a string
  kWarningsItem,   // a string
  kWarningsNext,   // ',' or ']'
  kDataFirst,      // '}' or a key
  kDataKey,        // a key and ':'
  kDataValue,      // the value of `key`
  kDataNext,       // ',' or '}'
  kSeries,         // a series object
  kSeriesNext,     // ',' or ']'
  kDone,           // nothing but whitespace
};

enum class Key : uint8_t {
  kOther,
  kStatus,
  kData,
  kErrorType,
  kError,
  kWarnings,
  kResultType,
  kResult
};
enum class Type : uint8_t { kUnknown, kVector, kMatrix, kScalar };
// What "data.result" held: nothing yet, [], series objects, or a [ts, "v"] pair.
enum class Form : uint8_t { kNone, kEmpty, kSeries, kPair };

Error Malformed(std::string what) {
  return Error{ErrorCode::kInvalidArgument, "malformed Prometheus answer: " + what};
}

std::string Clip(std::string_view s) {
  constexpr size_t kMax = 60;
  if (s.size() <= kMax) return std::string(s);
  return std::string(s.substr(0, kMax)) + "...";
}

// Converts Prometheus' float seconds to Unix ms; rejects NaN, Inf and values past int64 ms.
std::optional<int64_t> SecondsToMillis(double s) {
  if (!std::isfinite(s) || std::fabs(s) > 9.0e12) return std::nullopt;
  return static_cast<int64_t>(std::llround(s * 1000.0));
}

// A cheap fingerprint of a label name, so that the duplicate check compares strings only when
// fingerprints match.
uint64_t NameKey(std::string_view s) {
  uint64_t k = s.size() * 0x9E3779B97F4A7C15ULL;
  if (s.size() >= 4) {
    uint32_t head = 0, tail = 0;
    std::memcpy(&head, s.data(), 4);
    std::memcpy(&tail, s.data() + s.size() - 4, 4);
    return k ^ ((static_cast<uint64_t>(head) << 32) | tail);
  }
  for (char c : s) k = (k << 8) ^ static_cast<unsigned char>(c);
  return k;
}

}  // namespace

struct PromStreamParser::Impl {
  explicit Impl(ParseLimits l) : limits(l) {}

  void Begin(SeriesSink* s) {
    sink = s;
    stage = Stage::kRootOpen;
    key = Key::kOther;
    failed = false;
    error = Error{};
    total_bytes = 0;
    carry.clear();
    carry_base = 0;
    retry_at = 0;
    seen_status = seen_data = seen_error_type = seen_error = seen_warnings = false;
    status.clear();
    error_type.clear();
    error_text.clear();
    warnings.clear();
    seen_result_type = seen_result = false;
    type = Type::kUnknown;
    form = Form::kNone;
    saw_value = saw_values = false;
    series = 0;
  }

  // ---- Feeding ----

  Status Feed(std::string_view piece) {
    if (failed) return Fail(error);
    const uint64_t piece_base = total_bytes;
    total_bytes += piece.size();
    size_t start = 0;  // where parsing of `piece` itself begins
    if (!carry.empty()) {
      // A unit straddles the pieces: append to the carry until it has grown enough to be worth
      // another try (doubling keeps the re-reading linear), then resume in the piece itself.
      size_t carried = carry.size();  // carry bytes from earlier pieces
      size_t taken = 0;               // bytes of `piece` appended to the carry
      for (;;) {
        size_t want = retry_at > carry.size() ? retry_at - carry.size() : 0;
        size_t take = std::min(piece.size() - taken, want);
        carry.append(piece.data() + taken, take);
        taken += take;
        if (carry.size() < retry_at) return Ok();  // the piece is used up
        const char* p = carry.data();
        Step s = Run(p, carry.data() + carry.size(), carry.data(), carry_base);
        if (s == Step::kError) return Fail(error);
        auto used = static_cast<size_t>(p - carry.data());
        if (used >= carried) {
          start = used - carried;
          carry.clear();
          break;
        }
        carry.erase(0, used);
        carry_base += used;
        carried -= used;
        retry_at = std::max(2 * carry.size(), carry.size() + kMinCarryGrowth);
      }
    }
    const char* p = piece.data() + start;
    const char* end = piece.data() + piece.size();
    if (Run(p, end, piece.data(), piece_base) == Step::kError) return Fail(error);
    if (p != end) {
      carry.assign(p, end);
      carry_base = piece_base + static_cast<uint64_t>(p - piece.data());
      retry_at = std::max(2 * carry.size(), carry.size() + kMinCarryGrowth);
    }
    return Ok();
  }

  Status Finish() {
    if (failed) return Fail(error);
    if (total_bytes == 0) return Stop(Malformed("empty body"));
    if (!carry.empty()) {
      const char* p = carry.data();
      const char* end = carry.data() + carry.size();
      if (Run(p, end, carry.data(), carry_base) == Step::kError) return Fail(error);
      if (p != end) return Stop(Malformed(fmt::format("truncated at byte {}", total_bytes)));
    }
    if (stage != Stage::kDone) {
      return Stop(Malformed(fmt::format("truncated at byte {}", total_bytes)));
    }
    if (!seen_status) return Stop(Malformed("no \"status\""));
    if (status == "error") return Stop(ApiError());
    if (status != "success") {
      return Stop(Malformed(fmt::format("unknown status \"{}\"", Clip(status))));
    }
    if (!seen_data) return Stop(Malformed("no \"data\""));
    if (!seen_result_type) return Stop(Malformed("no \"data.resultType\""));
    if (!seen_result) return Stop(Malformed("no \"data.result\""));
    // Checks that "data.result" matches a resultType written after it.
    switch (type) {
      case Type::kVector:
        if (form == Form::kPair) return Stop(Malformed("series is not an object"));
        if (saw_values) return Stop(Malformed("\"values\" in a vector answer"));
        break;
      case Type::kMatrix:
        if (form == Form::kPair) return Stop(Malformed("series is not an object"));
        if (saw_value) return Stop(Malformed("\"value\" in a matrix answer"));
        break;
      case Type::kScalar:
        if (form != Form::kPair) return Stop(Malformed("sample is not [ts, \"v\"]"));
        break;
      case Type::kUnknown:
        break;
    }
    return Ok();
  }

  Status Stop(Error e) {
    failed = true;
    error = std::move(e);
    return Fail(error);
  }

  Error ApiError() const {
    ErrorCode code = ErrorCode::kInternal;
    if (error_type == "bad_data" || error_type == "execution") {
      code = ErrorCode::kInvalidArgument;
    } else if (error_type == "timeout" || error_type == "canceled" || error_type == "unavailable") {
      code = ErrorCode::kUnavailable;
    } else if (error_type == "not_found") {
      code = ErrorCode::kNotFound;
    }
    return Error{code, fmt::format("prometheus {}: {}",
                                   error_type.empty() ? "error" : Clip(error_type), error_text)};
  }

  // ---- Units ----

  // Parses units from p until the buffer ends inside one (kMore; p is at that unit's start, or at
  // `end` when nothing is pending) or fails. `begin` and `base` place the buffer in the body.
  Step Run(const char*& p, const char* end, const char* begin, uint64_t base) {
    buf_begin = begin;
    buf_base = base;
    for (;;) {
      if (!json::SkipSpace(p, end)) return Step::kMore;
      const char* q = p;
      scratch.Clear();
      Step s = Unit(q, end);
      if (s != Step::kDone) return s;
      p = q;
    }
  }

  Step Unit(const char*& p, const char* end) {
    switch (stage) {
      case Stage::kSeries:
        return Series(p, end);
      case Stage::kSeriesNext:
        return Separator(p, ']', Stage::kSeries, Stage::kDataNext, "\"data.result\"");
      case Stage::kRootOpen:
        if (*p != '{') return Bad(p, "top level is not an object");
        ++p;
        stage = Stage::kRootFirst;
        return Step::kDone;
      case Stage::kRootFirst:
        return Closes(p, '}', Stage::kDone) ? Step::kDone : RootKey(p, end);
      case Stage::kRootKey:
        return RootKey(p, end);
      case Stage::kRootValue:
        return RootValue(p, end);
      case Stage::kRootNext:
        return Separator(p, '}', Stage::kRootKey, Stage::kDone, "the answer object");
      case Stage::kWarningsFirst:
        return Closes(p, ']', Stage::kRootNext) ? Step::kDone : Warning(p, end);
      case Stage::kWarningsItem:
        return Warning(p, end);
      case Stage::kWarningsNext:
        return Separator(p, ']', Stage::kWarningsItem, Stage::kRootNext, "\"warnings\"");
      case Stage::kDataFirst:
        return Closes(p, '}', Stage::kRootNext) ? Step::kDone : DataKey(p, end);
      case Stage::kDataKey:
        return DataKey(p, end);
      case Stage::kDataValue:
        return DataValue(p, end);
      case Stage::kDataNext:
        return Separator(p, '}', Stage::kDataKey, Stage::kRootNext, "\"data\"");
      case Stage::kDone:
        return Bad(p, "bytes after the answer");
    }
    return Bad(p, "internal: unknown stage");
  }

  // Right after an opening bracket: `close` ends the empty container (and goes on at `after`).
  bool Closes(const char*& p, char close, Stage after) {
    if (*p != close) return false;
    ++p;
    stage = after;
    return true;
  }

  Step Separator(const char*& p, char close, Stage next_item, Stage after, const char* where) {
    if (*p == ',') {
      ++p;
      stage = next_item;
      return Step::kDone;
    }
    if (*p == close) {
      ++p;
      stage = after;
      return Step::kDone;
    }
    return Bad(p, fmt::format("expected ',' or '{}' in {}", close, where));
  }

  // Reads `"name"` and ':' into *name.
  [[gnu::always_inline]] Step KeyAndColon(const char*& p, const char* end, std::string_view* name) {
    if (*p != '"') return Bad(p, "expected a key");
    if (Step s = String(p, end, name); s != Step::kDone) return s;
    if (!json::SkipSpace(p, end)) return Step::kMore;
    if (*p != ':') return Bad(p, "expected ':' after a key");
    ++p;
    return Step::kDone;
  }

  Step RootKey(const char*& p, const char* end) {
    const char* at = p;
    std::string_view name;
    if (Step s = KeyAndColon(p, end, &name); s != Step::kDone) return s;
    struct Known {
      std::string_view name;
      Key key;
      bool* seen;
    };
    const Known known[] = {{"status", Key::kStatus, &seen_status},
                           {"data", Key::kData, &seen_data},
                           {"errorType", Key::kErrorType, &seen_error_type},
                           {"error", Key::kError, &seen_error},
                           {"warnings", Key::kWarnings, &seen_warnings}};
    key = Key::kOther;
    for (const Known& k : known) {
      if (name != k.name) continue;
      if (*k.seen) return Bad(at, fmt::format("repeated key \"{}\"", k.name));
      *k.seen = true;
      key = k.key;
      break;
    }
    stage = Stage::kRootValue;
    return Step::kDone;
  }

  Step RootValue(const char*& p, const char* end) {
    switch (key) {
      case Key::kStatus:
        return StringValue(p, end, &status, "\"status\"", Stage::kRootNext);
      case Key::kErrorType:
        return StringValue(p, end, &error_type, "\"errorType\"", Stage::kRootNext);
      case Key::kError:
        return StringValue(p, end, &error_text, "\"error\"", Stage::kRootNext);
      case Key::kData:
        if (seen_status && status == "error") break;  // not read, as ParsePrometheusResponse
        if (*p != '{') return Bad(p, "\"data\" is not an object");
        ++p;
        stage = Stage::kDataFirst;
        return Step::kDone;
      case Key::kWarnings:
        if (*p != '[') return Bad(p, "\"warnings\" is not an array");
        ++p;
        stage = Stage::kWarningsFirst;
        return Step::kDone;
      default:
        break;
    }
    if (Step s = Skip(p, end, kRootDepth); s != Step::kDone) return s;
    stage = Stage::kRootNext;
    return Step::kDone;
  }

  Step StringValue(const char*& p, const char* end, std::string* out, const char* what,
                   Stage next) {
    if (*p != '"') return Bad(p, fmt::format("{} is not a string", what));
    std::string_view text;
    if (Step s = String(p, end, &text); s != Step::kDone) return s;
    out->assign(text);
    stage = next;
    return Step::kDone;
  }

  Step Warning(const char*& p, const char* end) {
    if (*p != '"') return Bad(p, "\"warnings\" item is not a string");
    std::string_view text;
    if (Step s = String(p, end, &text); s != Step::kDone) return s;
    warnings.emplace_back(text);
    stage = Stage::kWarningsNext;
    return Step::kDone;
  }

  Step DataKey(const char*& p, const char* end) {
    const char* at = p;
    std::string_view name;
    if (Step s = KeyAndColon(p, end, &name); s != Step::kDone) return s;
    key = Key::kOther;
    if (name == "resultType") {
      if (seen_result_type) return Bad(at, "repeated key \"resultType\"");
      seen_result_type = true;
      key = Key::kResultType;
    } else if (name == "result") {
      if (seen_result) return Bad(at, "repeated key \"result\"");
      seen_result = true;
      key = Key::kResult;
    }
    stage = Stage::kDataValue;
    return Step::kDone;
  }

  Step DataValue(const char*& p, const char* end) {
    if (key == Key::kResultType) {
      const char* at = p;
      std::string type_text;
      if (Step s = StringValue(p, end, &type_text, "\"resultType\"", Stage::kDataNext);
          s != Step::kDone) {
        return s;
      }
      if (type_text == "vector") {
        type = Type::kVector;
      } else if (type_text == "matrix") {
        type = Type::kMatrix;
      } else if (type_text == "scalar") {
        type = Type::kScalar;
      } else {
        return Bad(at, fmt::format("unsupported resultType \"{}\"", Clip(type_text)));
      }
      return Step::kDone;
    }
    if (key == Key::kResult) return ResultValue(p, end);
    if (Step s = Skip(p, end, kDataDepth); s != Step::kDone) return s;
    stage = Stage::kDataNext;
    return Step::kDone;
  }

  // "data.result": an array of series, or a [ts, "v"] pair for a scalar answer.
  Step ResultValue(const char*& p, const char* end) {
    if (type == Type::kScalar) return Scalar(p, end);
    if (*p != '[') return Bad(p, "\"data.result\" is not an array");
    const char* q = p + 1;
    if (!json::SkipSpace(q, end)) return Step::kMore;
    if (*q == ']') {
      form = Form::kEmpty;
      p = q + 1;
      stage = Stage::kDataNext;
      return Step::kDone;
    }
    if (*q == '{') {
      form = Form::kSeries;
      p = q;
      stage = Stage::kSeries;
      return Step::kDone;
    }
    if (type != Type::kUnknown) return Bad(q, "series is not an object");
    return Scalar(p, end);  // no resultType yet: a pair here can only be a scalar
  }

  Step Scalar(const char*& p, const char* end) {
    points.clear();
    if (Step s = Pair(p, end); s != Step::kDone) return s;
    form = Form::kPair;
    stage = Stage::kDataNext;
    return Emit({}, {});
  }

  // One element of "data.result".
  Step Series(const char*& p, const char* end) {
    if (*p != '{') return Bad(p, "series is not an object");
    ++p;
    labels.clear();
    label_keys.clear();
    label_bloom = 0;
    points.clear();
    std::string_view metric;
    bool seen_metric = false, seen_value = false, seen_values = false;
    if (!json::SkipSpace(p, end)) return Step::kMore;
    if (*p == '}') {
      ++p;
    } else {
      for (;;) {
        const char* at = p;
        std::string_view name;
        if (Step s = KeyAndColon(p, end, &name); s != Step::kDone) return s;
        if (!json::SkipSpace(p, end)) return Step::kMore;
        Step s = Step::kDone;
        if (name == "metric") {
          if (seen_metric) return Bad(at, "repeated key \"metric\"");
          seen_metric = true;
          s = Metric(p, end, &metric);
        } else if (name == "value") {
          if (seen_value) return Bad(at, "repeated key \"value\"");
          if (type == Type::kMatrix) return Bad(at, "\"value\" in a matrix answer");
          seen_value = true;
          s = Pair(p, end);
        } else if (name == "values") {
          if (seen_values) return Bad(at, "repeated key \"values\"");
          if (type == Type::kVector) return Bad(at, "\"values\" in a vector answer");
          seen_values = true;
          s = Pairs(p, end);
        } else {
          s = Skip(p, end, kSeriesDepth);  // "histogram", "histograms", anything newer
        }
        if (s != Step::kDone) return s;
        if (!json::SkipSpace(p, end)) return Step::kMore;
        if (*p == ',') {
          ++p;
          if (!json::SkipSpace(p, end)) return Step::kMore;
          continue;
        }
        if (*p == '}') {
          ++p;
          break;
        }
        return Bad(p, "expected ',' or '}' in a series");
      }
    }
    if (!seen_metric) return Bad(p, "series without \"metric\"");
    saw_value |= seen_value;
    saw_values |= seen_values;
    stage = Stage::kSeriesNext;
    if (Step s = Emit(metric, labels); s != Step::kDone) return s;
    // Take the separator too when it is at hand: one unit fewer per series.
    const char* q = p;
    if (json::SkipSpace(q, end) && *q == ',') {
      p = q + 1;
      stage = Stage::kSeries;
    }
    return Step::kDone;
  }

  // The "metric" object: __name__ into *metric, every other label into `labels`.
  Step Metric(const char*& p, const char* end, std::string_view* metric) {
    if (*p != '{') return Bad(p, "\"metric\" is not an object");
    ++p;
    if (!json::SkipSpace(p, end)) return Step::kMore;
    if (*p == '}') {
      ++p;
      return Step::kDone;
    }
    bool seen_name = false;
    for (;;) {
      const char* at = p;
      std::string_view name, value;
      if (Step s = KeyAndColon(p, end, &name); s != Step::kDone) return s;
      if (!json::SkipSpace(p, end)) return Step::kMore;
      if (*p != '"') return Bad(p, fmt::format("value of label {} is not a string", Clip(name)));
      if (Step s = String(p, end, &value); s != Step::kDone) return s;
      if (value.size() > limits.max_label_value_bytes) {
        return TooLarge(fmt::format("Prometheus answer: value of label {} longer than {} bytes",
                                    Clip(name), limits.max_label_value_bytes));
      }
      if (name.size() == 8 && name == "__name__") {
        if (seen_name) return Bad(at, "label __name__ repeated in a series");
        seen_name = true;
        *metric = value;
      } else {
        // As ParsePrometheusResponse: a name is checked against the labels kept so far (those
        // with a value), and the limit counts those too.
        const uint64_t k = NameKey(name);
        const uint64_t bit = uint64_t{1} << ((k * 0x9E3779B97F4A7C15ULL) >> 58);
        if ((label_bloom & bit) != 0) {
          for (size_t i = 0; i < label_keys.size(); ++i) {
            if (label_keys[i] == k && labels[i].name == name) {
              return Bad(at, fmt::format("label {} repeated in a series", Clip(name)));
            }
          }
        }
        if (labels.size() >= limits.max_labels_per_series) {
          return TooLarge(fmt::format("Prometheus answer: more than {} labels in a series",
                                      limits.max_labels_per_series));
        }
        if (!value.empty()) {
          labels.push_back(SeriesLabel{name, value});
          label_keys.push_back(k);
          label_bloom |= bit;
        }
      }
      if (!json::SkipSpace(p, end)) return Step::kMore;
      if (*p == ',') {
        ++p;
        if (!json::SkipSpace(p, end)) return Step::kMore;
        continue;
      }
      if (*p == '}') {
        ++p;
        return Step::kDone;
      }
      return Bad(p, "expected ',' or '}' in \"metric\"");
    }
  }

  // "values": an array of pairs.
  Step Pairs(const char*& p, const char* end) {
    if (*p != '[') return Bad(p, "\"values\" is not an array");
    ++p;
    if (!json::SkipSpace(p, end)) return Step::kMore;
    if (*p == ']') {
      ++p;
      return Step::kDone;
    }
    for (;;) {
      if (Step s = Pair(p, end); s != Step::kDone) return s;
      if (!json::SkipSpace(p, end)) return Step::kMore;
      if (*p == ',') {
        ++p;
        if (!json::SkipSpace(p, end)) return Step::kMore;
        continue;
      }
      if (*p == ']') {
        ++p;
        return Step::kDone;
      }
      return Bad(p, "expected ',' or ']' in \"values\"");
    }
  }

  // [ts, "v"] into `points`.
  Step Pair(const char*& p, const char* end) {
    constexpr const char* kNotPair = "sample is not [ts, \"v\"]";
    if (*p != '[') return Bad(p, kNotPair);
    ++p;
    if (!json::SkipSpace(p, end)) return Step::kMore;
    const char* ts_at = p;
    std::string_view ts;
    if (*p == '-' || (*p >= '0' && *p <= '9')) {
      const char* why = nullptr;
      Lex l = json::ReadNumber(p, end, &ts, &why);
      if (l == Lex::kMore) return Step::kMore;
      if (l == Lex::kBad) return Bad(p, why);
    } else {
      return Bad(p, *p == ']' ? kNotPair : "sample timestamp is not a number");
    }
    if (!json::SkipSpace(p, end)) return Step::kMore;
    if (*p != ',') return Bad(p, kNotPair);
    ++p;
    if (!json::SkipSpace(p, end)) return Step::kMore;
    if (*p != '"') return Bad(p, "sample value is not a string");
    std::string_view text;
    if (Step s = String(p, end, &text); s != Step::kDone) return s;
    if (!json::SkipSpace(p, end)) return Step::kMore;
    if (*p != ']') return Bad(p, kNotPair);
    ++p;
    std::optional<double> value = ParsePromFloat(text);
    if (!value) return Bad(p, fmt::format("sample value \"{}\" is not a float", Clip(text)));
    // The answers of one query share their timestamp: convert it once.
    if (ts.size() != last_ts.size() || ts != last_ts) {
      std::optional<double> seconds = json::NumberValue(ts);
      if (!seconds) return Bad(ts_at, "sample timestamp: number out of range");
      std::optional<int64_t> ms = SecondsToMillis(*seconds);
      if (!ms) return Bad(ts_at, "sample timestamp out of range");
      last_ts.assign(ts);
      last_ts_ms = *ms;
    }
    points.push_back(SeriesPoint{last_ts_ms, *value});
    return Step::kDone;
  }

  Step Emit(std::string_view metric, std::span<const SeriesLabel> series_labels) {
    if (points.empty()) return Step::kDone;  // a native-histogram-only series has no samples
    Status st = sink->OnSeries(SeriesView{metric, series_labels, points});
    if (!st) {
      failed = true;
      error = st.error();
      return Step::kError;
    }
    ++series;
    return Step::kDone;
  }

  // Checks and skips any JSON value. `depth` is the number of containers around it.
  Step Skip(const char*& p, const char* end, size_t depth) {
    skip_stack.clear();
    bool want_key = false;  // in an object, after '{' or ','
    for (;;) {
      if (!json::SkipSpace(p, end)) return Step::kMore;
      if (want_key) {
        std::string_view name;
        if (Step s = KeyAndColon(p, end, &name); s != Step::kDone) return s;
        want_key = false;
        continue;
      }
      // A value.
      const char c = *p;
      if (c == '{' || c == '[') {
        if (depth + skip_stack.size() + 1 > kMaxDepth) return Bad(p, "nested deeper than 1024");
        skip_stack.push_back(c == '{' ? '}' : ']');
        ++p;
        if (!json::SkipSpace(p, end)) return Step::kMore;
        if (*p == skip_stack.back()) {
          ++p;
          skip_stack.pop_back();
        } else {
          want_key = c == '{';
          continue;
        }
      } else {
        const char* why = "unexpected character";
        Lex l = Lex::kBad;
        if (c == '"') {
          std::string_view text;
          l = json::ReadString(p, end, &text, &scratch, &why);
        } else if (c == '-' || (c >= '0' && c <= '9')) {
          const char* at = p;
          std::string_view number;
          l = json::ReadNumber(p, end, &number, &why);
          if (l == Lex::kOk && !json::NumberValue(number)) return Bad(at, "number out of range");
        } else if (c == 't' || c == 'f' || c == 'n') {
          l = json::ReadLiteral(p, end, &why);
        }
        if (l == Lex::kMore) return Step::kMore;
        if (l == Lex::kBad) return Bad(p, why);
      }
      // After a value: the end of the skipped value, or ',' / a close in a container.
      for (;;) {
        if (skip_stack.empty()) return Step::kDone;
        if (!json::SkipSpace(p, end)) return Step::kMore;
        if (*p == skip_stack.back()) {
          ++p;
          skip_stack.pop_back();
          continue;
        }
        if (*p != ',') return Bad(p, "expected ',' or a close bracket");
        ++p;
        want_key = skip_stack.back() == '}';
        break;
      }
    }
  }

  [[gnu::always_inline]] Step String(const char*& p, const char* end, std::string_view* out) {
    const char* why = nullptr;
    Lex l = json::ReadString(p, end, out, &scratch, &why);
    if (l == Lex::kOk) return Step::kDone;
    if (l == Lex::kMore) return Step::kMore;
    return Bad(p, why);
  }

  Step Bad(const char* at, std::string_view what) {
    failed = true;
    error = Malformed(fmt::format("{} at byte {}", what, buf_base + (at - buf_begin)));
    return Step::kError;
  }

  Step TooLarge(std::string what) {
    failed = true;
    error = Error{ErrorCode::kPayloadTooLarge, std::move(what)};
    return Step::kError;
  }

  const ParseLimits limits;
  SeriesSink* sink = nullptr;

  // Progress. Invariant: the body's first total_bytes bytes were fed; those from carry_base on
  // are in `carry` (an unfinished unit and what followed it).
  Stage stage = Stage::kRootOpen;
  Key key = Key::kOther;  // the key whose value comes next
  bool failed = false;
  Error error;
  uint64_t total_bytes = 0;
  std::string carry;
  uint64_t carry_base = 0;
  size_t retry_at = 0;              // carry size at which to try the unfinished unit again
  const char* buf_begin = nullptr;  // the buffer being parsed and its offset in the body
  uint64_t buf_base = 0;

  // The answer.
  bool seen_status = false, seen_data = false, seen_error_type = false, seen_error = false,
       seen_warnings = false;
  std::string status, error_type, error_text;
  std::vector<std::string> warnings;
  bool seen_result_type = false, seen_result = false;
  Type type = Type::kUnknown;
  Form form = Form::kNone;
  bool saw_value = false, saw_values = false;  // series with "value" / "values" seen
  size_t series = 0;

  // Scratch, reused per unit.
  json::Scratch scratch;
  std::vector<SeriesLabel> labels;
  std::vector<uint64_t> label_keys;  // NameKey of labels[i]
  uint64_t label_bloom = 0;          // one bit per name in `labels`, set by a hash of NameKey
  std::vector<SeriesPoint> points;
  std::vector<char> skip_stack;  // closing brackets of the containers Skip is in
  std::string last_ts;           // the last timestamp token and its value
  int64_t last_ts_ms = 0;
};

PromStreamParser::PromStreamParser(ParseLimits limits) : impl_(std::make_unique<Impl>(limits)) {}
PromStreamParser::~PromStreamParser() = default;

void PromStreamParser::Begin(SeriesSink* sink) { impl_->Begin(sink); }
Status PromStreamParser::Feed(std::string_view piece) { return impl_->Feed(piece); }
Status PromStreamParser::Finish() { return impl_->Finish(); }

ResultType PromStreamParser::result_type() const {
  switch (impl_->type) {
    case Type::kMatrix:
      return ResultType::kMatrix;
    case Type::kScalar:
      return ResultType::kScalar;
    default:
      return ResultType::kVector;
  }
}

const std::vector<std::string>& PromStreamParser::warnings() const { return impl_->warnings; }
size_t PromStreamParser::series() const { return impl_->series; }
size_t PromStreamParser::carry_capacity() const { return impl_->carry.capacity(); }

}  // namespace aitelemetry::collect
