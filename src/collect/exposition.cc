#include "collect/exposition.h"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace aitelemetry::collect {
namespace {

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }
bool IsSpace(char c) { return c == ' ' || c == '\t'; }

// Returns the length of the metric name (colons allowed) at the start of `s`, or 0.
size_t MetricNameLength(std::string_view s) {
  if (s.empty() || !(IsNameStart(s[0]) || s[0] == ':')) return 0;
  size_t i = 1;
  while (i < s.size() && (IsNameChar(s[i]) || s[i] == ':')) ++i;
  return i;
}

// Returns the length of the label name at the start of `s`, or 0.
size_t LabelNameLength(std::string_view s) {
  if (s.empty() || !IsNameStart(s[0])) return 0;
  size_t i = 1;
  while (i < s.size() && IsNameChar(s[i])) ++i;
  return i;
}

void SkipSpace(std::string_view* s) {
  size_t i = 0;
  while (i < s->size() && IsSpace((*s)[i])) ++i;
  s->remove_prefix(i);
}

std::string_view NextToken(std::string_view* s) {
  SkipSpace(s);
  size_t i = 0;
  while (i < s->size() && !IsSpace((*s)[i])) ++i;
  std::string_view token = s->substr(0, i);
  s->remove_prefix(i);
  return token;
}

MetricType ParseType(std::string_view t, bool* ok) {
  *ok = true;
  if (t == "counter") return MetricType::kCounter;
  if (t == "gauge") return MetricType::kGauge;
  if (t == "histogram" || t == "gaugehistogram") return MetricType::kHistogram;
  if (t == "summary") return MetricType::kSummary;
  if (t == "info") return MetricType::kInfo;
  if (t == "stateset") return MetricType::kStateSet;
  if (t == "untyped" || t == "unknown") return MetricType::kUnknown;
  *ok = false;
  return MetricType::kUnknown;
}

class LineParser {
 public:
  LineParser(const ExpositionOptions& options, SampleSet* out) : options_(options), out_(out) {
    for (const auto& [name, value] : options.extra_labels) {
      extra_.push_back(LabelPair{out->Intern(name), out->Intern(value)});
    }
  }

  Status Parse(std::string_view text) {
    size_t line_no = 0;
    bool eof = false;
    while (!text.empty()) {
      ++line_no;
      size_t nl = text.find('\n');
      std::string_view line = text.substr(0, nl);
      text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
      if (line.size() > options_.limits.max_line_bytes) {
        return Fail(
            ErrorCode::kPayloadTooLarge,
            fmt::format("line {}: longer than {} bytes", line_no, options_.limits.max_line_bytes));
      }
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      SkipSpace(&line);
      if (line.empty()) continue;
      if (eof) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("line {}: content after # EOF", line_no));
      }
      Status st;
      if (line[0] == '#') {
        st = Comment(line, &eof);
      } else {
        st = SampleLine(line);
      }
      if (!st) {
        return Fail(st.error().code, fmt::format("line {}: {}", line_no, st.error().message));
      }
    }
    return Ok();
  }

 private:
  Status Comment(std::string_view line, bool* eof) {
    line.remove_prefix(1);
    std::string_view rest = line;
    std::string_view keyword = NextToken(&rest);
    if (keyword == "EOF") {
      *eof = true;
      return Ok();
    }
    if (keyword != "HELP" && keyword != "TYPE") return Ok();  // UNIT and free comments
    std::string_view name = NextToken(&rest);
    if (name.empty() || MetricNameLength(name) != name.size()) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("# {}: invalid metric name \"{}\"", keyword, Clip(name)));
    }
    if (keyword == "TYPE") {
      std::string_view type = NextToken(&rest);
      SkipSpace(&rest);
      bool ok = false;
      MetricType t = ParseType(type, &ok);
      if (!ok || !rest.empty()) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("# TYPE {}: unknown type \"{}\"", name, Clip(type)));
      }
      out_->SetType(out_->Intern(name), t);
    }
    return Ok();
  }

  Status SampleLine(std::string_view line) {
    size_t n = MetricNameLength(line);
    if (n == 0) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("invalid metric name at \"{}\"", Clip(line)));
    }
    StringId metric = out_->Intern(line.substr(0, n));
    line.remove_prefix(n);
    labels_.clear();
    names_seen_.clear();
    if (!line.empty() && line[0] == '{') {
      line.remove_prefix(1);
      if (Status st = LabelSet(&line); !st) return st;
    }
    if (line.empty() || !IsSpace(line[0])) {
      return Fail(ErrorCode::kInvalidArgument,
                  line.empty() ? std::string("missing value")
                               : fmt::format("unexpected \"{}\" after series", Clip(line)));
    }
    std::string_view value_text = NextToken(&line);
    if (value_text.empty()) return Fail(ErrorCode::kInvalidArgument, "missing value");
    std::optional<double> value = ParsePromFloat(value_text);
    if (!value) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("invalid value \"{}\"", Clip(value_text)));
    }
    int64_t ts = options_.default_timestamp_ms;
    std::string_view ts_text = NextToken(&line);
    if (!ts_text.empty()) {
      std::optional<int64_t> parsed = ParseTimestamp(ts_text);
      if (!parsed) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("invalid timestamp \"{}\"", Clip(ts_text)));
      }
      ts = *parsed;
    }
    SkipSpace(&line);
    if (!line.empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("unexpected \"{}\" after the value", Clip(line)));
    }
    for (const LabelPair& extra : extra_) {
      bool present = false;
      for (const LabelPair& p : labels_) present = present || p.name == extra.name;
      if (!present) labels_.push_back(extra);
    }
    out_->Add(Sample{metric, out_->InternLabelSet(labels_), *value, ts});
    return Ok();
  }

  // Parses `l="v", ...}` (the opening brace already consumed) into labels_.
  Status LabelSet(std::string_view* line) {
    std::string_view& s = *line;
    size_t seen = 0;  // labels written, including empty-valued ones
    while (true) {
      SkipSpace(&s);
      if (s.empty()) return Fail(ErrorCode::kInvalidArgument, "unterminated label set");
      if (s[0] == '}') {
        s.remove_prefix(1);
        return Ok();
      }
      size_t n = LabelNameLength(s);
      if (n == 0) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("invalid label name at \"{}\"", Clip(s)));
      }
      std::string_view name = s.substr(0, n);
      s.remove_prefix(n);
      if (name == "__name__") {
        return Fail(ErrorCode::kInvalidArgument, "label __name__ inside a label set");
      }
      SkipSpace(&s);
      if (s.empty() || s[0] != '=') {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("expected '=' after label name {}", name));
      }
      s.remove_prefix(1);
      SkipSpace(&s);
      if (s.empty() || s[0] != '"') {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("expected '\"' to open the value of label {}", name));
      }
      s.remove_prefix(1);
      if (Status st = QuotedValue(&s, name); !st) return st;
      if (++seen > options_.limits.max_labels_per_series) {
        return Fail(
            ErrorCode::kPayloadTooLarge,
            fmt::format("more than {} labels in a series", options_.limits.max_labels_per_series));
      }
      StringId name_id = out_->Intern(name);
      for (StringId prior : names_seen_) {
        if (prior == name_id) {
          return Fail(ErrorCode::kInvalidArgument,
                      fmt::format("label {} repeated in a series", name));
        }
      }
      names_seen_.push_back(name_id);
      if (!value_.empty()) labels_.push_back(LabelPair{name_id, out_->Intern(value_)});
      SkipSpace(&s);
      if (!s.empty() && s[0] == ',') {
        s.remove_prefix(1);
      } else if (s.empty() || s[0] != '}') {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("expected ',' or '}}' after the value of label {}", name));
      }
    }
  }

  // Reads an escaped label value up to its closing quote (consumed) into value_.
  Status QuotedValue(std::string_view* line, std::string_view name) {
    std::string_view& s = *line;
    value_.clear();
    size_t i = 0;
    while (true) {
      size_t j = i;
      while (j < s.size() && s[j] != '"' && s[j] != '\\') ++j;
      value_.append(s.data() + i, j - i);
      if (j >= s.size()) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("unterminated quoted value of label {}", name));
      }
      if (s[j] == '"') {
        s.remove_prefix(j + 1);
        break;
      }
      if (j + 1 >= s.size()) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("unterminated quoted value of label {}", name));
      }
      char e = s[j + 1];
      if (e == '\\' || e == '"') {
        value_.push_back(e);
      } else if (e == 'n') {
        value_.push_back('\n');
      } else {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("invalid escape \\{} in the value of label {}", e, name));
      }
      i = j + 2;
    }
    if (value_.size() > options_.limits.max_label_value_bytes) {
      return Fail(ErrorCode::kPayloadTooLarge,
                  fmt::format("value of label {} longer than {} bytes", name,
                              options_.limits.max_label_value_bytes));
    }
    return Ok();
  }

  std::optional<int64_t> ParseTimestamp(std::string_view text) const {
    if (options_.openmetrics) {
      std::optional<double> seconds = ParsePromFloat(text);
      if (!seconds || !std::isfinite(*seconds) || std::fabs(*seconds) > 9.0e12) return std::nullopt;
      return static_cast<int64_t>(std::llround(*seconds * 1000.0));
    }
    int64_t ms = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return ms;
  }

  // Shortens hostile text quoted in an error message.
  static std::string Clip(std::string_view s) {
    constexpr size_t kMax = 40;
    if (s.size() <= kMax) return std::string(s);
    return std::string(s.substr(0, kMax)) + "...";
  }

  const ExpositionOptions& options_;
  SampleSet* out_;
  std::vector<LabelPair> extra_;
  // Scratch reused across lines so a line allocates nothing once warmed up.
  std::vector<LabelPair> labels_;
  std::vector<StringId> names_seen_;
  std::string value_;
};

}  // namespace

Status ParseExposition(std::string_view text, const ExpositionOptions& options, SampleSet* out) {
  LineParser parser(options, out);
  return parser.Parse(text);
}

}  // namespace aitelemetry::collect
