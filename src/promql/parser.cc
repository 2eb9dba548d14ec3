#include "promql/parser.h"

#include <array>
#include <cmath>
#include <utility>

#include <fmt/format.h>

#include "promql/functions.h"
#include "promql/lexer.h"

namespace aitelemetry::promql {
namespace {

using MutExpr = std::shared_ptr<Expr>;

// Binary operators by precedence, lowest first; ^ is right-associative.
struct BinOp {
  std::string_view text;
  int precedence;
};
constexpr std::array<BinOp, 17> kBinOps = {{{"or", 1},
                                            {"and", 2},
                                            {"unless", 2},
                                            {"==", 3},
                                            {"!=", 3},
                                            {"<=", 3},
                                            {"<", 3},
                                            {">=", 3},
                                            {">", 3},
                                            {"+", 4},
                                            {"-", 4},
                                            {"*", 5},
                                            {"/", 5},
                                            {"%", 5},
                                            {"atan2", 5},
                                            {"^", 6},
                                            {"", 0}}};
constexpr int kPowPrecedence = 6;

bool IsComparison(std::string_view op) {
  return op == "==" || op == "!=" || op == "<=" || op == "<" || op == ">=" || op == ">";
}
bool IsSetOp(std::string_view op) { return op == "and" || op == "or" || op == "unless"; }

// Words that are operators or modifiers, never metric names.
bool IsKeyword(std::string_view w) {
  for (std::string_view k : {"and", "or", "unless", "atan2", "by", "without", "on", "ignoring",
                             "group_left", "group_right", "bool", "offset"}) {
    if (w == k) return true;
  }
  return false;
}

bool IsLabelName(std::string_view s) {
  if (s.empty() || s.find(':') != std::string_view::npos) return false;
  return !(s[0] >= '0' && s[0] <= '9');
}

std::string_view TypeName(ValueType t) {
  switch (t) {
    case ValueType::kScalar:
      return "scalar";
    case ValueType::kVector:
      return "instant vector";
    case ValueType::kMatrix:
      return "range vector";
    case ValueType::kString:
      return "string";
  }
  return "?";
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Result<ExprPtr> ParseQuery() {
    auto e = ParseExpr(0);
    if (!e) return e;
    if (Peek().kind != TokenKind::kEnd) return Bad(Peek(), "unexpected token");
    return e;
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    size_t i = std::min(pos_ + ahead, tokens_.size() - 1);
    return tokens_[i];
  }
  const Token& Next() {
    const Token& t = Peek();
    if (pos_ < tokens_.size() - 1) ++pos_;
    return t;
  }
  bool IsWord(const Token& t, std::string_view w) const {
    return t.kind == TokenKind::kIdentifier && t.text == w;
  }
  tl::unexpected<Error> Bad(const Token& t, std::string_view what) const {
    std::string near =
        t.kind == TokenKind::kEnd ? "end of input" : "\"" + t.text.substr(0, 32) + "\"";
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("parse error at position {}: {} near {}", t.pos, what, near));
  }
  Status Expect(TokenKind kind, std::string_view what) {
    if (Peek().kind != kind) return Bad(Peek(), fmt::format("expected {}", what));
    Next();
    return Ok();
  }

  // The binary operator at the current token, or null.
  const BinOp* PeekBinOp() const {
    const Token& t = Peek();
    if (t.kind != TokenKind::kIdentifier && t.kind != TokenKind::kEql &&
        t.kind != TokenKind::kNeq && t.kind != TokenKind::kLte && t.kind != TokenKind::kLss &&
        t.kind != TokenKind::kGte && t.kind != TokenKind::kGtr && t.kind != TokenKind::kAdd &&
        t.kind != TokenKind::kSub && t.kind != TokenKind::kMul && t.kind != TokenKind::kDiv &&
        t.kind != TokenKind::kMod && t.kind != TokenKind::kPow) {
      return nullptr;
    }
    for (const BinOp& op : kBinOps) {
      if (!op.text.empty() && op.text == t.text) return &op;
    }
    return nullptr;
  }

  Result<ExprPtr> ParseExpr(int min_precedence) {
    if (++depth_ > kMaxNestingDepth) return Bad(Peek(), "expression nested too deeply");
    auto lhs = ParseUnary();
    if (!lhs) return lhs;
    while (const BinOp* op = PeekBinOp()) {
      if (op->precedence < min_precedence) break;
      const Token& op_token = Next();
      auto node = std::make_shared<Expr>();
      node->kind = ExprKind::kBinary;
      node->op = std::string(op->text);
      if (auto st = ParseBinaryModifiers(node.get()); !st) return Fail(st.error());
      int next = op->precedence == kPowPrecedence ? op->precedence : op->precedence + 1;
      auto rhs = ParseExpr(next);
      if (!rhs) return rhs;
      node->lhs = std::move(*lhs);
      node->rhs = std::move(*rhs);
      if (auto st = CheckBinary(node.get(), op_token); !st) return Fail(st.error());
      lhs = ExprPtr(std::move(node));
    }
    --depth_;
    return lhs;
  }

  Status ParseBinaryModifiers(Expr* node) {
    if (IsWord(Peek(), "bool")) {
      Next();
      node->return_bool = true;
    }
    VectorMatching& m = node->matching;
    if (IsSetOp(node->op)) m.card = VectorMatching::Card::kManyToMany;
    if (IsWord(Peek(), "on") || IsWord(Peek(), "ignoring")) {
      m.has_clause = true;
      m.on = Next().text == "on";
      if (auto st = ParseLabelList(&m.labels); !st) return st;
      if (IsWord(Peek(), "group_left") || IsWord(Peek(), "group_right")) {
        const Token& g = Next();
        if (IsSetOp(node->op)) return Bad(g, "no grouping allowed for set operations");
        m.card = g.text == "group_left" ? VectorMatching::Card::kManyToOne
                                        : VectorMatching::Card::kOneToMany;
        if (Peek().kind == TokenKind::kLeftParen) {
          if (auto st = ParseLabelList(&m.include); !st) return st;
        }
      }
    }
    return Ok();
  }

  Status CheckBinary(Expr* node, const Token& at) {
    ValueType l = node->lhs->type, r = node->rhs->type;
    for (ValueType t : {l, r}) {
      if (t != ValueType::kScalar && t != ValueType::kVector) {
        return Bad(at, fmt::format("binary operator on a {}", TypeName(t)));
      }
    }
    bool both_scalar = l == ValueType::kScalar && r == ValueType::kScalar;
    if (node->return_bool && !IsComparison(node->op)) {
      return Bad(at, "bool modifier on a non-comparison operator");
    }
    if (both_scalar && IsComparison(node->op) && !node->return_bool) {
      return Bad(at, "comparisons between scalars must use bool");
    }
    if (IsSetOp(node->op) && (l != ValueType::kVector || r != ValueType::kVector)) {
      return Bad(at, fmt::format("set operator \"{}\" needs instant vectors", node->op));
    }
    if ((node->matching.has_clause || node->matching.card != VectorMatching::Card::kOneToOne) &&
        !IsSetOp(node->op) && (l != ValueType::kVector || r != ValueType::kVector)) {
      return Bad(at, "vector matching only allowed between instant vectors");
    }
    node->type = both_scalar ? ValueType::kScalar : ValueType::kVector;
    return Ok();
  }

  Status ParseLabelList(std::vector<std::string>* out) {
    if (auto st = Expect(TokenKind::kLeftParen, "\"(\""); !st) return st;
    while (Peek().kind != TokenKind::kRightParen) {
      const Token& t = Next();
      if (t.kind != TokenKind::kIdentifier || !IsLabelName(t.text)) {
        return Bad(t, "expected a label name");
      }
      out->push_back(t.text);
      if (Peek().kind == TokenKind::kComma) {
        Next();
      } else if (Peek().kind != TokenKind::kRightParen) {
        return Bad(Peek(), "expected \",\" or \")\"");
      }
    }
    Next();
    return Ok();
  }

  Result<ExprPtr> ParseUnary() {
    if (Peek().kind == TokenKind::kAdd || Peek().kind == TokenKind::kSub) {
      const Token& sign = Next();
      auto operand = ParseExpr(kPowPrecedence);
      if (!operand) return operand;
      ValueType t = (*operand)->type;
      if (t != ValueType::kScalar && t != ValueType::kVector) {
        return Bad(sign, fmt::format("unary operator on a {}", TypeName(t)));
      }
      auto node = std::make_shared<Expr>();
      node->kind = ExprKind::kUnary;
      node->op = sign.text;
      node->type = t;
      node->inner = std::move(*operand);
      return ExprPtr(std::move(node));
    }
    auto primary = ParsePrimary();
    if (!primary) return primary;
    return ParsePostfix(std::move(*primary));
  }

  Result<ExprPtr> ParsePrimary() {
    const Token& t = Peek();
    switch (t.kind) {
      case TokenKind::kNumber: {
        Next();
        auto node = std::make_shared<Expr>();
        node->kind = ExprKind::kNumber;
        node->type = ValueType::kScalar;
        node->number = t.number;
        node->number_text = t.text;
        return ExprPtr(std::move(node));
      }
      case TokenKind::kString: {
        Next();
        auto node = std::make_shared<Expr>();
        node->kind = ExprKind::kString;
        node->type = ValueType::kString;
        node->text = t.text;
        return ExprPtr(std::move(node));
      }
      case TokenKind::kLeftParen: {
        Next();
        auto inner = ParseExpr(0);
        if (!inner) return inner;
        if (auto st = Expect(TokenKind::kRightParen, "\")\""); !st) return Fail(st.error());
        if ((*inner)->type == ValueType::kMatrix) {
          return Bad(t, "parentheses around a range vector");
        }
        auto node = std::make_shared<Expr>();
        node->kind = ExprKind::kParen;
        node->type = (*inner)->type;
        node->inner = std::move(*inner);
        return ExprPtr(std::move(node));
      }
      case TokenKind::kLeftBrace:
        return ParseSelector("");
      case TokenKind::kIdentifier:
        break;
      default:
        return Bad(t, "unexpected token");
    }
    bool takes_param = false;
    if (IsAggregation(t.text, &takes_param) &&
        (Peek(1).kind == TokenKind::kLeftParen || IsWord(Peek(1), "by") ||
         IsWord(Peek(1), "without"))) {
      return ParseAggregation(takes_param);
    }
    if (Peek(1).kind == TokenKind::kLeftParen) return ParseCall();
    if (IsKeyword(t.text) || IsAggregation(t.text, &takes_param)) {
      return Bad(t, "unexpected keyword");
    }
    Next();
    return ParseSelector(t.text);
  }

  Result<ExprPtr> ParseSelector(const std::string& name) {
    auto node = std::make_shared<Expr>();
    node->kind = ExprKind::kVectorSelector;
    node->type = ValueType::kVector;
    node->metric_name = name;
    if (Peek().kind == TokenKind::kLeftBrace) {
      const Token& brace = Next();
      while (Peek().kind != TokenKind::kRightBrace) {
        auto m = ParseMatcher();
        if (!m) return Fail(m.error());
        if (m->name == "__name__" && !name.empty()) return Bad(brace, "metric name set twice");
        node->matchers.push_back(std::move(*m));
        if (Peek().kind == TokenKind::kComma) {
          Next();
        } else if (Peek().kind != TokenKind::kRightBrace) {
          return Bad(Peek(), "expected \",\" or \"}\"");
        }
      }
      Next();
      if (name.empty() && node->matchers.empty()) return Bad(brace, "empty selector");
    }
    return ExprPtr(std::move(node));
  }

  Result<LabelMatcher> ParseMatcher() {
    const Token& n = Next();
    if (n.kind != TokenKind::kIdentifier || !IsLabelName(n.text)) {
      return Bad(n, "expected a label name");
    }
    LabelMatcher m;
    m.name = n.text;
    const Token& op = Next();
    switch (op.kind) {
      case TokenKind::kAssign:
        m.op = MatchOp::kEqual;
        break;
      case TokenKind::kNeq:
        m.op = MatchOp::kNotEqual;
        break;
      case TokenKind::kRegexEq:
        m.op = MatchOp::kRegexMatch;
        break;
      case TokenKind::kRegexNeq:
        m.op = MatchOp::kRegexNoMatch;
        break;
      default:
        return Bad(op, "expected a label matching operator");
    }
    const Token& v = Next();
    if (v.kind != TokenKind::kString) return Bad(v, "expected a string");
    m.value = v.text;
    return m;
  }

  Result<ExprPtr> ParseCall() {
    const Token& name = Next();
    const FunctionInfo* f = FindFunction(name.text);
    if (f == nullptr) return Bad(name, "unknown function");
    auto node = std::make_shared<Expr>();
    node->kind = ExprKind::kCall;
    node->func = name.text;
    node->type = f->result;
    auto args = ParseArgs();
    if (!args) return Fail(args.error());
    node->args = std::move(*args);
    size_t n = node->args.size();
    size_t declared = f->args.size();
    size_t min = declared - static_cast<size_t>(f->optional_args);
    if (n < min || (!f->variadic && n > declared)) {
      return Bad(name, fmt::format("wrong number of arguments ({}) to {}", n, f->name));
    }
    for (size_t i = 0; i < n; ++i) {
      ValueType want = f->args[std::min(i, declared - 1)];
      if (node->args[i]->type != want) {
        return Bad(name, fmt::format("argument {} of {} must be a {}, not a {}", i + 1, f->name,
                                     TypeName(want), TypeName(node->args[i]->type)));
      }
    }
    return ExprPtr(std::move(node));
  }

  Result<std::vector<ExprPtr>> ParseArgs() {
    std::vector<ExprPtr> args;
    if (auto st = Expect(TokenKind::kLeftParen, "\"(\""); !st) return Fail(st.error());
    while (Peek().kind != TokenKind::kRightParen) {
      auto a = ParseExpr(0);
      if (!a) return Fail(a.error());
      args.push_back(std::move(*a));
      if (Peek().kind == TokenKind::kComma) {
        Next();
        if (Peek().kind == TokenKind::kRightParen) return Bad(Peek(), "expected an expression");
      } else if (Peek().kind != TokenKind::kRightParen) {
        return Bad(Peek(), "expected \",\" or \")\"");
      }
    }
    Next();
    return args;
  }

  Status ParseGrouping(Expr* node) {
    if (node->has_grouping) return Bad(Peek(), "grouping given twice");
    node->has_grouping = true;
    node->without = Next().text == "without";
    return ParseLabelList(&node->grouping);
  }

  Result<ExprPtr> ParseAggregation(bool takes_param) {
    const Token& name = Next();
    auto node = std::make_shared<Expr>();
    node->kind = ExprKind::kAggregate;
    node->type = ValueType::kVector;
    node->op = name.text;
    if (IsWord(Peek(), "by") || IsWord(Peek(), "without")) {
      if (auto st = ParseGrouping(node.get()); !st) return Fail(st.error());
    }
    auto args = ParseArgs();
    if (!args) return Fail(args.error());
    if (IsWord(Peek(), "by") || IsWord(Peek(), "without")) {
      if (auto st = ParseGrouping(node.get()); !st) return Fail(st.error());
    }
    size_t want = takes_param ? 2 : 1;
    if (args->size() != want)
      return Bad(name, fmt::format("{} takes {} arguments", name.text, want));
    node->inner = args->back();
    if (node->inner->type != ValueType::kVector) {
      return Bad(name, fmt::format("{} needs an instant vector", name.text));
    }
    if (takes_param) {
      node->param = args->front();
      ValueType pt = name.text == "count_values" ? ValueType::kString : ValueType::kScalar;
      if (node->param->type != pt) {
        return Bad(name, fmt::format("parameter of {} must be a {}", name.text, TypeName(pt)));
      }
    }
    return ExprPtr(std::move(node));
  }

  // Ranges ([5m], [5m:1m]), offset and @ after a primary expression.
  Result<ExprPtr> ParsePostfix(ExprPtr e) {
    while (true) {
      const Token& t = Peek();
      if (t.kind == TokenKind::kLeftBracket) {
        auto r = ParseRange(e);
        if (!r) return r;
        e = std::move(*r);
      } else if (IsWord(t, "offset") || t.kind == TokenKind::kAt) {
        auto r = ParseModifier(e);
        if (!r) return r;
        e = std::move(*r);
      } else {
        return e;
      }
    }
  }

  Result<ExprPtr> ParseRange(const ExprPtr& e) {
    const Token& open = Next();
    const Token& range = Next();
    if (range.kind != TokenKind::kDuration || range.duration_ms <= 0) {
      return Bad(range, "expected a positive duration");
    }
    auto node = std::make_shared<Expr>();
    node->type = ValueType::kMatrix;
    node->range_ms = range.duration_ms;
    node->inner = e;
    if (Peek().kind == TokenKind::kColon) {
      Next();
      if (Peek().kind == TokenKind::kDuration) node->step_ms = Next().duration_ms;
      if (e->type != ValueType::kVector) return Bad(open, "subquery of a non-instant vector");
      node->kind = ExprKind::kSubquery;
    } else {
      if (e->kind != ExprKind::kVectorSelector) return Bad(open, "range of a non-selector");
      if (e->offset_ms != 0 || e->at.kind != AtModifier::Kind::kNone) {
        return Bad(open, "offset or @ before a range");
      }
      node->kind = ExprKind::kMatrixSelector;
    }
    if (auto st = Expect(TokenKind::kRightBracket, "\"]\""); !st) return Fail(st.error());
    return ExprPtr(std::move(node));
  }

  Result<ExprPtr> ParseModifier(const ExprPtr& e) {
    const Token& t = Next();
    // The node that carries the modifier: a selector, the selector of a range, or a subquery.
    ExprPtr target = e->kind == ExprKind::kMatrixSelector ? e->inner : e;
    if (target->kind != ExprKind::kVectorSelector && target->kind != ExprKind::kSubquery) {
      return Bad(t, "offset or @ on something other than a selector or subquery");
    }
    auto changed = std::make_shared<Expr>(*target);
    if (t.kind == TokenKind::kAt) {
      if (changed->at.kind != AtModifier::Kind::kNone) return Bad(t, "@ given twice");
      auto st = ParseAt(&changed->at);
      if (!st) return Fail(st.error());
    } else {
      if (changed->offset_ms != 0) return Bad(t, "offset given twice");
      bool negative = Peek().kind == TokenKind::kSub;
      if (negative) Next();
      const Token& d = Next();
      if (d.kind != TokenKind::kDuration) return Bad(d, "expected a duration");
      changed->offset_ms = negative ? -d.duration_ms : d.duration_ms;
      if (changed->offset_ms == 0) return Bad(d, "offset of zero");
    }
    if (e->kind != ExprKind::kMatrixSelector) return ExprPtr(std::move(changed));
    auto matrix = std::make_shared<Expr>(*e);
    matrix->inner = std::move(changed);
    return ExprPtr(std::move(matrix));
  }

  Status ParseAt(AtModifier* at) {
    const Token& t = Peek();
    if (IsWord(t, "start") || IsWord(t, "end")) {
      Next();
      if (auto st = Expect(TokenKind::kLeftParen, "\"(\""); !st) return st;
      if (auto st = Expect(TokenKind::kRightParen, "\")\""); !st) return st;
      at->kind = t.text == "start" ? AtModifier::Kind::kStart : AtModifier::Kind::kEnd;
      return Ok();
    }
    bool negative = false;
    if (t.kind == TokenKind::kSub || t.kind == TokenKind::kAdd) {
      negative = Next().kind == TokenKind::kSub;
    }
    const Token& n = Next();
    if (n.kind != TokenKind::kNumber || !std::isfinite(n.number)) {
      return Bad(n, "expected a timestamp after @");
    }
    at->kind = AtModifier::Kind::kTimestamp;
    at->timestamp_seconds = negative ? -n.number : n.number;
    return Ok();
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

Result<ExprPtr> Parse(std::string_view query) {
  auto tokens = Lex(query);
  if (!tokens) return Fail(tokens.error());
  Parser p(std::move(*tokens));
  return p.ParseQuery();
}

Result<ExprPtr> ParseSeriesSelector(std::string_view selector) {
  auto e = Parse(selector);
  if (!e) return e;
  const Expr& x = **e;
  if (x.kind != ExprKind::kVectorSelector || x.offset_ms != 0 ||
      x.at.kind != AtModifier::Kind::kNone) {
    return Fail(ErrorCode::kInvalidArgument, "match[] must be a series selector");
  }
  return e;
}

}  // namespace aitelemetry::promql
