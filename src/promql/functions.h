// The PromQL functions this parser knows (Prometheus 2.x), with their argument and result types.
// A function not listed here is refused, so a construct added upstream fails closed.
#pragma once

#include <string_view>
#include <vector>

#include "promql/ast.h"

namespace aitelemetry::promql {

struct FunctionInfo {
  std::string_view name;
  std::vector<ValueType> args;  // declared argument types
  int optional_args = 0;        // trailing args that may be left out
  bool variadic = false;        // the last declared type repeats
  ValueType result = ValueType::kVector;
  // True when the function maps each input series to at most one output series on its own,
  // independently of the other series (rate, *_over_time, timestamp): applying it to the parts
  // of a selector and joining the answers with `or` equals applying it to the whole.
  bool per_series = false;
};

// Returns the function named `name`, or null.
const FunctionInfo* FindFunction(std::string_view name);

// Returns whether `name` is an aggregation operator (sum, topk, ...); `takes_param` says whether
// it has a parameter before the vector (topk, bottomk, quantile, count_values).
bool IsAggregation(std::string_view name, bool* takes_param);

}  // namespace aitelemetry::promql
