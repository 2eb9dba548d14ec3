// The PromQL syntax tree (Prometheus 2.x grammar): what the parser builds, the printer writes and
// the grant rewriter restricts. Nodes are immutable once built and shared between trees.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace aitelemetry::promql {

enum class MatchOp { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };

// One label matcher of a selector. `value` is the decoded string (escapes resolved).
struct LabelMatcher {
  std::string name;
  MatchOp op = MatchOp::kEqual;
  std::string value;

  bool operator==(const LabelMatcher&) const = default;
};

// The value type an expression evaluates to.
enum class ValueType { kScalar, kVector, kMatrix, kString };

enum class ExprKind {
  kNumber,          // 1, 1.5e3, 0x1f, Inf, NaN
  kString,          // "text"
  kVectorSelector,  // name{matchers} offset d @ t
  kMatrixSelector,  // selector[range]
  kSubquery,        // expr[range:step] offset d @ t
  kCall,            // func(args)
  kAggregate,       // op by (labels) (param, expr)
  kBinary,          // lhs op rhs
  kUnary,           // -expr, +expr
  kParen,           // (expr)
};

// The `@` modifier of a selector or subquery.
struct AtModifier {
  enum class Kind { kNone, kTimestamp, kStart, kEnd };
  Kind kind = Kind::kNone;
  double timestamp_seconds = 0;  // kTimestamp
};

// How a binary operation between two vectors pairs their series.
struct VectorMatching {
  enum class Card { kOneToOne, kManyToOne, kOneToMany, kManyToMany };
  Card card = Card::kOneToOne;
  bool has_clause = false;           // on(...) or ignoring(...) was written
  bool on = false;                   // on(...) rather than ignoring(...)
  std::vector<std::string> labels;   // of on/ignoring
  std::vector<std::string> include;  // of group_left/group_right
};

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

// One node. Which members are meaningful depends on `kind`, as commented.
struct Expr {
  ExprKind kind = ExprKind::kNumber;
  ValueType type = ValueType::kScalar;  // set by the parser

  // kNumber: the value and its source text (printed back as written, so 0x1f stays 0x1f).
  double number = 0;
  std::string number_text;
  // kString: the decoded text.
  std::string text;

  // kVectorSelector: the metric name (empty when only matchers were written) and the matchers
  // other than the name, in the order written.
  std::string metric_name;
  std::vector<LabelMatcher> matchers;
  // kVectorSelector and kSubquery: offset (may be negative) and @.
  int64_t offset_ms = 0;
  AtModifier at;

  // kMatrixSelector: range_ms and `inner` (a kVectorSelector). kSubquery: `inner` (any instant
  // vector expression), range_ms and step_ms (0: the default step).
  int64_t range_ms = 0;
  int64_t step_ms = 0;
  ExprPtr inner;

  // kCall: the function and its arguments.
  std::string func;
  std::vector<ExprPtr> args;

  // kAggregate: the operator, its grouping and its optional parameter (topk's k, quantile's
  // phi, count_values' label); the aggregated expression is `inner`.
  std::string op;
  bool without = false;
  bool has_grouping = false;  // by()/without() was written (possibly with no labels)
  std::vector<std::string> grouping;
  ExprPtr param;

  // kBinary: operator (in `op`), bool modifier, vector matching, operands. kUnary: '-' or '+' in
  // `op`, operand in `inner`. kParen: `inner`.
  bool return_bool = false;
  VectorMatching matching;
  ExprPtr lhs;
  ExprPtr rhs;
};

}  // namespace aitelemetry::promql
