#include "promql/functions.h"

#include <array>

namespace aitelemetry::promql {
namespace {

constexpr ValueType S = ValueType::kScalar;
constexpr ValueType V = ValueType::kVector;
constexpr ValueType M = ValueType::kMatrix;
constexpr ValueType T = ValueType::kString;

const std::vector<FunctionInfo>& Functions() {
  static const std::vector<FunctionInfo> kFunctions = [] {
    std::vector<FunctionInfo> f;
    auto add = [&](std::string_view name, std::vector<ValueType> args, ValueType result = V,
                   bool per_series = false, int optional = 0, bool variadic = false) {
      f.push_back({name, std::move(args), optional, variadic, result, per_series});
    };
    // Instant-vector maths, one series in, one out.
    for (std::string_view n : {"abs",
                               "acos",
                               "acosh",
                               "asin",
                               "asinh",
                               "atan",
                               "atanh",
                               "ceil",
                               "cos",
                               "cosh",
                               "deg",
                               "exp",
                               "floor",
                               "ln",
                               "log10",
                               "log2",
                               "rad",
                               "sgn",
                               "sin",
                               "sinh",
                               "sqrt",
                               "tan",
                               "tanh",
                               "histogram_avg",
                               "histogram_count",
                               "histogram_sum",
                               "histogram_stddev",
                               "histogram_stdvar"}) {
      add(n, {V});
    }
    for (std::string_view n : {"day_of_month", "day_of_week", "day_of_year", "days_in_month",
                               "hour", "minute", "month", "year"}) {
      add(n, {V}, V, false, 1);
    }
    // Range-vector functions: per series over its samples in the range.
    for (std::string_view n :
         {"changes", "delta", "deriv", "idelta", "increase", "irate", "rate", "resets",
          "avg_over_time", "count_over_time", "last_over_time", "max_over_time", "min_over_time",
          "present_over_time", "stddev_over_time", "stdvar_over_time", "sum_over_time",
          "mad_over_time"}) {
      add(n, {M}, V, true);
    }
    add("quantile_over_time", {S, M}, V, true);
    add("predict_linear", {M, S}, V, true);
    add("holt_winters", {M, S, S}, V, true);
    add("double_exponential_smoothing", {M, S, S}, V, true);
    add("absent_over_time", {M});  // answers for the whole selector, not per series
    add("absent", {V});
    add("clamp", {V, S, S});
    add("clamp_max", {V, S});
    add("clamp_min", {V, S});
    add("histogram_fraction", {S, S, V});
    add("histogram_quantile", {S, V});
    add("label_join", {V, T, T, T}, V, false, 0, true);
    add("label_replace", {V, T, T, T, T});
    add("pi", {}, S);
    add("round", {V, S}, V, false, 1);
    add("scalar", {V}, S);
    add("sort", {V});
    add("sort_desc", {V});
    add("sort_by_label", {V, T}, V, false, 0, true);
    add("sort_by_label_desc", {V, T}, V, false, 0, true);
    add("time", {}, S);
    add("timestamp", {V}, V, true);
    add("vector", {S});
    return f;
  }();
  return kFunctions;
}

}  // namespace

const FunctionInfo* FindFunction(std::string_view name) {
  for (const auto& f : Functions()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

bool IsAggregation(std::string_view name, bool* takes_param) {
  static constexpr std::array<std::string_view, 9> kPlain = {
      "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values"};
  static constexpr std::array<std::string_view, 3> kParam = {"topk", "bottomk", "quantile"};
  for (auto n : kPlain) {
    if (n == name) {
      *takes_param = name == "count_values";
      return true;
    }
  }
  for (auto n : kParam) {
    if (n == name) {
      *takes_param = true;
      return true;
    }
  }
  return false;
}

}  // namespace aitelemetry::promql
