#include "collect/prom_json.h"

#include <cmath>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>

namespace aitelemetry::collect {
namespace {

namespace dom = simdjson::dom;

tl::unexpected<Error> Bad(std::string what) {
  return Fail(ErrorCode::kInvalidArgument, "malformed Prometheus answer: " + what);
}

tl::unexpected<Error> Bad(simdjson::error_code e, std::string_view where) {
  return Bad(fmt::format("{}: {}", where, simdjson::error_message(e)));
}

// Converts Prometheus' float seconds to Unix ms; rejects NaN, Inf and values past int64 ms.
std::optional<int64_t> SecondsToMillis(double s) {
  if (!std::isfinite(s) || std::fabs(s) > 9.0e12) return std::nullopt;
  return static_cast<int64_t>(std::llround(s * 1000.0));
}

struct Point {
  int64_t timestamp_ms;
  double value;
};

// Walks a parsed DOM. The DOM (not the on-demand API) because Debian's simdjson picks its on-demand
// kernel at compile time (the portable fallback without -mavx2), while the DOM parser dispatches
// to the best kernel (haswell, icelake) at run time; it also validates the whole document first.
class Walker {
 public:
  Walker(const ParseLimits& limits, SampleSet* out) : limits_(limits), out_(out) {}

  Status Root(dom::element doc) {
    dom::object root;
    if (auto e = doc.get_object().get(root)) return Bad(e, "top level is not an object");
    bool seen_status = false, seen_data = false, seen_type = false, seen_error = false,
         seen_warnings = false;
    std::string_view text;
    for (dom::key_value_pair field : root) {
      std::string_view key = field.key;
      dom::element v = field.value;
      if (key == "status") {
        if (seen_status) return Bad("repeated key \"status\"");
        seen_status = true;
        if (auto e = v.get_string().get(text)) return Bad(e, "\"status\"");
        status_ = text;
      } else if (key == "data") {
        if (seen_data) return Bad("repeated key \"data\"");
        seen_data = true;
        data_ = v;
      } else if (key == "errorType") {
        if (seen_type) return Bad("repeated key \"errorType\"");
        seen_type = true;
        if (auto e = v.get_string().get(text)) return Bad(e, "\"errorType\"");
        error_type_ = text;
      } else if (key == "error") {
        if (seen_error) return Bad("repeated key \"error\"");
        seen_error = true;
        if (auto e = v.get_string().get(text)) return Bad(e, "\"error\"");
        error_ = text;
      } else if (key == "warnings") {
        if (seen_warnings) return Bad("repeated key \"warnings\"");
        seen_warnings = true;
        if (Status st = Warnings(v); !st) return st;
      }
      // Unknown keys ("infos", ...) are ignored.
    }
    if (!seen_status) return Bad("no \"status\"");
    if (status_ == "error") return ApiError();
    if (status_ != "success") return Bad(fmt::format("unknown status \"{}\"", Clip(status_)));
    if (!seen_data) return Bad("no \"data\"");
    return Data(data_);
  }

 private:
  Status ApiError() const {
    ErrorCode code = ErrorCode::kInternal;
    if (error_type_ == "bad_data" || error_type_ == "execution") {
      code = ErrorCode::kInvalidArgument;
    } else if (error_type_ == "timeout" || error_type_ == "canceled" ||
               error_type_ == "unavailable") {
      code = ErrorCode::kUnavailable;
    } else if (error_type_ == "not_found") {
      code = ErrorCode::kNotFound;
    }
    return Fail(code, fmt::format("prometheus {}: {}",
                                  error_type_.empty() ? "error" : Clip(error_type_), error_));
  }

  Status Warnings(dom::element v) {
    dom::array arr;
    if (auto e = v.get_array().get(arr)) return Bad(e, "\"warnings\"");
    for (dom::element item : arr) {
      std::string_view w;
      if (auto e = item.get_string().get(w)) return Bad(e, "\"warnings\" item");
      out_->AddWarning(std::string(w));
    }
    return Ok();
  }

  Status Data(dom::element v) {
    dom::object data;
    if (auto e = v.get_object().get(data)) return Bad(e, "\"data\"");
    std::string_view type;
    dom::element result;
    bool seen_type = false, seen_result = false;
    for (dom::key_value_pair field : data) {
      if (field.key == "resultType") {
        if (seen_type) return Bad("repeated key \"resultType\"");
        seen_type = true;
        if (auto e = field.value.get_string().get(type)) return Bad(e, "\"resultType\"");
      } else if (field.key == "result") {
        if (seen_result) return Bad("repeated key \"result\"");
        seen_result = true;
        result = field.value;
      }
    }
    if (!seen_type) return Bad("no \"data.resultType\"");
    if (!seen_result) return Bad("no \"data.result\"");
    if (type == "vector") {
      out_->set_result_type(ResultType::kVector);
      return SeriesArray(result, /*matrix=*/false);
    }
    if (type == "matrix") {
      out_->set_result_type(ResultType::kMatrix);
      return SeriesArray(result, /*matrix=*/true);
    }
    if (type == "scalar") {
      out_->set_result_type(ResultType::kScalar);
      points_.clear();
      if (Status st = PointPair(result); !st) return st;
      out_->Add(Sample{kEmptyString, kEmptyLabelSet, points_[0].value, points_[0].timestamp_ms});
      return Ok();
    }
    return Bad(fmt::format("unsupported resultType \"{}\"", Clip(type)));
  }

  Status SeriesArray(dom::element v, bool matrix) {
    dom::array arr;
    if (auto e = v.get_array().get(arr)) return Bad(e, "\"data.result\" is not an array");
    out_->Reserve(out_->size() + arr.size());
    for (dom::element item : arr) {
      if (Status st = Series(item, matrix); !st) return st;
    }
    return Ok();
  }

  Status Series(dom::element item, bool matrix) {
    dom::object obj;
    if (auto e = item.get_object().get(obj)) return Bad(e, "series");
    labels_.clear();
    points_.clear();
    StringId metric = kEmptyString;
    bool seen_metric = false, seen_value = false, seen_values = false;
    for (dom::key_value_pair field : obj) {
      if (field.key == "metric") {
        if (seen_metric) return Bad("repeated key \"metric\"");
        seen_metric = true;
        if (Status st = Metric(field.value, &metric); !st) return st;
      } else if (field.key == "value") {
        if (seen_value) return Bad("repeated key \"value\"");
        if (matrix) return Bad("\"value\" in a matrix answer");
        seen_value = true;
        if (Status st = PointPair(field.value); !st) return st;
      } else if (field.key == "values") {
        if (seen_values) return Bad("repeated key \"values\"");
        if (!matrix) return Bad("\"values\" in a vector answer");
        seen_values = true;
        dom::array arr;
        if (auto e = field.value.get_array().get(arr)) return Bad(e, "\"values\"");
        for (dom::element pair : arr) {
          if (Status st = PointPair(pair); !st) return st;
        }
      }
      // "histogram"/"histograms" (native histograms) and unknown keys are ignored.
    }
    if (!seen_metric) return Bad("series without \"metric\"");
    LabelSetId set = out_->InternLabelSet(labels_);
    for (const Point& p : points_) out_->Add(Sample{metric, set, p.value, p.timestamp_ms});
    return Ok();
  }

  Status Metric(dom::element v, StringId* metric) {
    dom::object obj;
    if (auto e = v.get_object().get(obj)) return Bad(e, "\"metric\"");
    bool seen_name = false;
    for (dom::key_value_pair field : obj) {
      std::string_view name = field.key;
      std::string_view value;
      if (auto e = field.value.get_string().get(value)) {
        return Bad(e, fmt::format("value of label {}", Clip(name)));
      }
      if (value.size() > limits_.max_label_value_bytes) {
        return Fail(ErrorCode::kPayloadTooLarge,
                    fmt::format("Prometheus answer: value of label {} longer than {} bytes",
                                Clip(name), limits_.max_label_value_bytes));
      }
      if (name == "__name__") {
        if (seen_name) return Bad("label __name__ repeated in a series");
        seen_name = true;
        *metric = out_->Intern(value);
        continue;
      }
      StringId name_id = out_->Intern(name);
      for (const LabelPair& p : labels_) {
        if (p.name == name_id) return Bad(fmt::format("label {} repeated in a series", Clip(name)));
      }
      if (labels_.size() >= limits_.max_labels_per_series) {
        return Fail(ErrorCode::kPayloadTooLarge,
                    fmt::format("Prometheus answer: more than {} labels in a series",
                                limits_.max_labels_per_series));
      }
      if (value.empty()) continue;  // an empty label is an absent label
      labels_.push_back(LabelPair{name_id, out_->Intern(value)});
    }
    return Ok();
  }

  // Reads [ts, "v"] into points_.
  Status PointPair(dom::element v) {
    dom::array arr;
    if (auto e = v.get_array().get(arr)) return Bad(e, "sample is not [ts, \"v\"]");
    if (arr.size() != 2) return Bad("sample is not [ts, \"v\"]");
    auto it = arr.begin();
    double seconds = 0;
    if (auto e = (*it).get_double().get(seconds)) return Bad(e, "sample timestamp");
    ++it;
    std::string_view text;
    if (auto e = (*it).get_string().get(text)) return Bad(e, "sample value");
    std::optional<double> value = ParsePromFloat(text);
    if (!value) return Bad(fmt::format("sample value \"{}\" is not a float", Clip(text)));
    std::optional<int64_t> ms = SecondsToMillis(seconds);
    if (!ms) return Bad("sample timestamp out of range");
    points_.push_back(Point{*ms, *value});
    return Ok();
  }

  static std::string Clip(std::string_view s) {
    constexpr size_t kMax = 60;
    if (s.size() <= kMax) return std::string(s);
    return std::string(s.substr(0, kMax)) + "...";
  }

  const ParseLimits& limits_;
  SampleSet* out_;
  std::string_view status_, error_type_, error_;  // views into the parser's DOM
  dom::element data_;
  std::vector<LabelPair> labels_;  // scratch, reused per series
  std::vector<Point> points_;      // scratch, reused per series
};

Result<SampleSet> ParsePadded(dom::parser& parser, const char* data, size_t size,
                              const ParseLimits& limits) {
  if (size == 0) return Bad("empty body");
  dom::element doc;
  if (auto e = parser.parse(data, size, /*realloc_if_needed=*/false).get(doc)) {
    return Bad(e, "not JSON");
  }
  SampleSet out;
  Walker walker(limits, &out);
  if (Status st = walker.Root(doc); !st) return Fail(st.error());
  return out;
}

}  // namespace

Result<SampleSet> ParsePrometheusResponse(std::string_view body, const ParseLimits& limits) {
  simdjson::padded_string padded(body);
  dom::parser parser;
  return ParsePadded(parser, padded.data(), padded.size(), limits);
}

Result<SampleSet> ParsePrometheusResponseInPlace(std::string* body, const ParseLimits& limits) {
  body->reserve(body->size() + simdjson::SIMDJSON_PADDING);
  dom::parser parser;
  return ParsePadded(parser, body->data(), body->size(), limits);
}

struct PromJsonParser::Impl {
  dom::parser parser;
};

PromJsonParser::PromJsonParser() : impl_(std::make_unique<Impl>()) {}
PromJsonParser::~PromJsonParser() = default;

Result<SampleSet> PromJsonParser::ParseInPlace(std::string* body, const ParseLimits& limits) {
  body->reserve(body->size() + simdjson::SIMDJSON_PADDING);
  return ParsePadded(impl_->parser, body->data(), body->size(), limits);
}

}  // namespace aitelemetry::collect
