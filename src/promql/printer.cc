#include "promql/printer.h"

#include <fmt/format.h>

#include "promql/lexer.h"

namespace aitelemetry::promql {
namespace {

std::string_view OpText(MatchOp op) {
  switch (op) {
    case MatchOp::kEqual:
      return "=";
    case MatchOp::kNotEqual:
      return "!=";
    case MatchOp::kRegexMatch:
      return "=~";
    case MatchOp::kRegexNoMatch:
      return "!~";
  }
  return "=";
}

void AppendLabels(const std::vector<std::string>& labels, std::string* out) {
  out->push_back('(');
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) *out += ", ";
    *out += labels[i];
  }
  out->push_back(')');
}

void AppendModifiers(const Expr& e, std::string* out) {
  switch (e.at.kind) {
    case AtModifier::Kind::kNone:
      break;
    case AtModifier::Kind::kStart:
      *out += " @ start()";
      break;
    case AtModifier::Kind::kEnd:
      *out += " @ end()";
      break;
    case AtModifier::Kind::kTimestamp:
      *out += fmt::format(" @ {}", e.at.timestamp_seconds);
      break;
  }
  if (e.offset_ms != 0) *out += " offset " + FormatDuration(e.offset_ms);
}

void AppendSelector(const Expr& e, std::string* out) {
  *out += e.metric_name;
  if (!e.matchers.empty() || e.metric_name.empty()) {
    out->push_back('{');
    for (size_t i = 0; i < e.matchers.size(); ++i) {
      const LabelMatcher& m = e.matchers[i];
      if (i > 0) *out += ", ";
      *out += m.name;
      *out += OpText(m.op);
      *out += Quote(m.value);
    }
    out->push_back('}');
  }
}

void Append(const Expr& e, std::string* out);

int Precedence(std::string_view op) {
  if (op == "or") return 1;
  if (op == "and" || op == "unless") return 2;
  if (op == "==" || op == "!=" || op == "<=" || op == "<" || op == ">=" || op == ">") return 3;
  if (op == "+" || op == "-") return 4;
  if (op == "^") return 6;
  return 5;  // * / % atan2
}

void AppendWrapped(const Expr& e, bool wrap, std::string* out) {
  if (wrap) out->push_back('(');
  Append(e, out);
  if (wrap) out->push_back(')');
}

// Operands get parentheses exactly where the grammar's precedence would otherwise read the text
// differently, so printing adds no nesting that the tree does not have.
void AppendBinary(const Expr& e, std::string* out) {
  int p = Precedence(e.op);
  bool pow = e.op == "^";
  const Expr& l = *e.lhs;
  const Expr& r = *e.rhs;
  bool wrap_l =
      (l.kind == ExprKind::kBinary && (Precedence(l.op) < p || (Precedence(l.op) == p && pow))) ||
      (l.kind == ExprKind::kUnary && pow);
  bool wrap_r =
      r.kind == ExprKind::kBinary && (Precedence(r.op) < p || (Precedence(r.op) == p && !pow));
  AppendWrapped(l, wrap_l, out);
  *out += ' ';
  *out += e.op;
  if (e.return_bool) *out += " bool";
  const VectorMatching& m = e.matching;
  if (m.has_clause) {
    *out += m.on ? " on" : " ignoring";
    AppendLabels(m.labels, out);
    if (m.card == VectorMatching::Card::kManyToOne || m.card == VectorMatching::Card::kOneToMany) {
      *out += m.card == VectorMatching::Card::kManyToOne ? " group_left" : " group_right";
      AppendLabels(m.include, out);
    }
  }
  *out += ' ';
  AppendWrapped(r, wrap_r, out);
}

void Append(const Expr& e, std::string* out) {
  switch (e.kind) {
    case ExprKind::kNumber:
      *out += e.number_text;
      return;
    case ExprKind::kString:
      *out += Quote(e.text);
      return;
    case ExprKind::kVectorSelector:
      AppendSelector(e, out);
      AppendModifiers(e, out);
      return;
    case ExprKind::kMatrixSelector:
      AppendSelector(*e.inner, out);
      *out += "[" + FormatDuration(e.range_ms) + "]";
      AppendModifiers(*e.inner, out);
      return;
    case ExprKind::kSubquery:
      Append(*e.inner, out);
      *out += "[" + FormatDuration(e.range_ms) + ":";
      if (e.step_ms > 0) *out += FormatDuration(e.step_ms);
      *out += "]";
      AppendModifiers(e, out);
      return;
    case ExprKind::kCall:
      *out += e.func;
      out->push_back('(');
      for (size_t i = 0; i < e.args.size(); ++i) {
        if (i > 0) *out += ", ";
        Append(*e.args[i], out);
      }
      out->push_back(')');
      return;
    case ExprKind::kAggregate:
      *out += e.op;
      if (e.has_grouping) {
        *out += e.without ? " without " : " by ";
        AppendLabels(e.grouping, out);
        *out += ' ';
      }
      out->push_back('(');
      if (e.param) {
        Append(*e.param, out);
        *out += ", ";
      }
      Append(*e.inner, out);
      out->push_back(')');
      return;
    case ExprKind::kBinary:
      AppendBinary(e, out);
      return;
    case ExprKind::kUnary:
      // The operand binds like ^'s operands: -a ^ b is -(a ^ b).
      *out += e.op;
      AppendWrapped(*e.inner, e.inner->kind == ExprKind::kBinary && e.inner->op != "^", out);
      return;
    case ExprKind::kParen:
      out->push_back('(');
      Append(*e.inner, out);
      out->push_back(')');
      return;
  }
}

}  // namespace

std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

std::string Print(const Expr& expr) {
  std::string out;
  Append(expr, &out);
  return out;
}

}  // namespace aitelemetry::promql
