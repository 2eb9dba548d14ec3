// Parses PromQL (the Prometheus 2.x grammar) into a typed syntax tree. Anything the grammar does
// not have, or that this parser does not know (an unknown function, a newer construct), is an
// error: callers that enforce access on the tree fail closed.
#pragma once

#include <string_view>

#include "core/result.h"
#include "promql/ast.h"

namespace aitelemetry::promql {

// Limits that keep hostile input cheap: nesting beyond this depth is refused.
inline constexpr int kMaxNestingDepth = 128;

// Parses a whole query. Returns the tree with each node's value type set, or kInvalidArgument
// with a message naming the position for malformed input, a type error (a range vector where an
// instant vector belongs, say), an unknown function or keyword, or input past kMaxQueryBytes or
// kMaxNestingDepth.
[[nodiscard]] Result<ExprPtr> Parse(std::string_view query);

// Parses a series selector as the match[] parameter of the metadata endpoints takes it: one
// vector selector without offset or @. Errors as Parse().
[[nodiscard]] Result<ExprPtr> ParseSeriesSelector(std::string_view selector);

}  // namespace aitelemetry::promql
