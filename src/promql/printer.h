// Writes a PromQL syntax tree back as text that Prometheus parses to the same tree: strings are
// re-quoted with escapes, nested binary operations get parentheses, durations are canonical.
#pragma once

#include <string>

#include "promql/ast.h"

namespace aitelemetry::promql {

// Returns the PromQL text of `expr`. Print(Parse(Print(e))) == Print(e) for every parsed e.
std::string Print(const Expr& expr);

// Returns `text` as a double-quoted PromQL string literal.
std::string Quote(std::string_view text);

}  // namespace aitelemetry::promql
