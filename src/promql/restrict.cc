#include "promql/restrict.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include <fmt/format.h>

#include "promql/functions.h"
#include "promql/printer.h"

namespace aitelemetry::promql {
namespace {

// A matcher for label `name` being one of `values` (non-empty): = for one, =~ for several.
// `with_empty` also admits series without the label.
LabelMatcher OneOf(std::string name, const std::set<std::string>& values, bool with_empty) {
  LabelMatcher m;
  m.name = std::move(name);
  if (values.size() == 1 && !with_empty) {
    m.op = MatchOp::kEqual;
    m.value = *values.begin();
    return m;
  }
  m.op = MatchOp::kRegexMatch;
  for (const auto& v : values) {
    if (!m.value.empty()) m.value.push_back('|');
    m.value += QuoteRegex(v);
  }
  if (with_empty) m.value += "|";
  return m;
}

LabelMatcher ClusterMatcher(const std::set<std::string>& clusters,
                            const RestrictionOptions& options) {
  bool with_default =
      !options.default_cluster.empty() && clusters.count(options.default_cluster) > 0;
  return OneOf("cluster", clusters, with_default);
}

ExprPtr WithMatchers(const Expr& selector, const std::vector<LabelMatcher>& part) {
  auto copy = std::make_shared<Expr>(selector);
  copy->matchers.insert(copy->matchers.end(), part.begin(), part.end());
  return copy;
}

// The `or` of `pieces` (at least two), in parentheses.
ExprPtr Union(std::vector<ExprPtr> pieces) {
  ExprPtr acc = std::move(pieces[0]);
  for (size_t i = 1; i < pieces.size(); ++i) {
    auto node = std::make_shared<Expr>();
    node->kind = ExprKind::kBinary;
    node->type = ValueType::kVector;
    node->op = "or";
    node->matching.card = VectorMatching::Card::kManyToMany;
    node->lhs = std::move(acc);
    node->rhs = std::move(pieces[i]);
    acc = std::move(node);
  }
  auto paren = std::make_shared<Expr>();
  paren->kind = ExprKind::kParen;
  paren->type = ValueType::kVector;
  paren->inner = std::move(acc);
  return paren;
}

// A selector (instant, or inside a range) restricted to one part.
ExprPtr SelectorForPart(const Expr& e, const std::vector<LabelMatcher>& part) {
  if (e.kind == ExprKind::kVectorSelector) return WithMatchers(e, part);
  auto matrix = std::make_shared<Expr>(e);
  matrix->inner = WithMatchers(*e.inner, part);
  return matrix;
}

class Restricter {
 public:
  explicit Restricter(const Restriction& r) : r_(r) {}

  Result<ExprPtr> Walk(const ExprPtr& e) {
    switch (e->kind) {
      case ExprKind::kNumber:
      case ExprKind::kString:
        return e;
      case ExprKind::kVectorSelector:
        if (r_.parts.size() == 1) return WithMatchers(*e, r_.parts[0]);
        return Split(*e);
      case ExprKind::kMatrixSelector:
        if (r_.parts.size() == 1) return SelectorForPart(*e, r_.parts[0]);
        return Fail(ErrorCode::kPermissionDenied,
                    "a range selector outside a per-series function cannot be restricted to "
                    "grants in several clusters or namespace sets; wrap it in a function such as "
                    "last_over_time, or ask per cluster");
      case ExprKind::kCall:
        return WalkCall(e);
      default:
        break;
    }
    auto copy = std::make_shared<Expr>(*e);
    for (ExprPtr* child : {&copy->inner, &copy->lhs, &copy->rhs, &copy->param}) {
      if (!*child) continue;
      auto w = Walk(*child);
      if (!w) return w;
      *child = std::move(*w);
    }
    return ExprPtr(std::move(copy));
  }

 private:
  ExprPtr Split(const Expr& selector) {
    std::vector<ExprPtr> pieces;
    for (const auto& part : r_.parts) pieces.push_back(SelectorForPart(selector, part));
    return Union(std::move(pieces));
  }

  Result<ExprPtr> WalkCall(const ExprPtr& e) {
    const FunctionInfo* f = FindFunction(e->func);
    int selector_arg = -1;
    for (size_t i = 0; i < e->args.size(); ++i) {
      ExprKind k = e->args[i]->kind;
      if (k == ExprKind::kMatrixSelector ||
          (k == ExprKind::kVectorSelector && f != nullptr && f->per_series)) {
        selector_arg = static_cast<int>(i);
      }
    }
    auto copy = std::make_shared<Expr>(*e);
    for (size_t i = 0; i < copy->args.size(); ++i) {
      if (static_cast<int>(i) == selector_arg && r_.parts.size() > 1) continue;
      auto w = Walk(copy->args[i]);
      if (!w) return w;
      copy->args[i] = std::move(*w);
    }
    if (selector_arg < 0 || r_.parts.size() == 1) return ExprPtr(std::move(copy));
    if (f == nullptr || !f->per_series) {
      return Fail(
          ErrorCode::kPermissionDenied,
          fmt::format("{} over a selector cannot be restricted exactly to grants in several "
                      "clusters or namespace sets; ask per cluster",
                      e->func));
    }
    std::vector<ExprPtr> pieces;
    for (const auto& part : r_.parts) {
      auto call = std::make_shared<Expr>(*copy);
      call->args[static_cast<size_t>(selector_arg)] =
          SelectorForPart(*e->args[static_cast<size_t>(selector_arg)], part);
      pieces.push_back(std::move(call));
    }
    return Union(std::move(pieces));
  }

  const Restriction& r_;
};

void Longest(const Expr& e, int64_t* longest) {
  if (e.kind == ExprKind::kMatrixSelector) {
    *longest = std::max(*longest, e.range_ms + std::abs(e.inner->offset_ms));
  } else if (e.kind == ExprKind::kSubquery) {
    *longest = std::max(*longest, e.range_ms + std::abs(e.offset_ms));
  }
  for (const ExprPtr* child : {&e.inner, &e.lhs, &e.rhs, &e.param}) {
    if (*child && e.kind != ExprKind::kMatrixSelector) Longest(**child, longest);
  }
  for (const auto& a : e.args) Longest(*a, longest);
}

}  // namespace

Restriction RestrictionFor(const HubGrants& grants, const RestrictionOptions& options) {
  Restriction r;
  if (grants.whole_hub) {
    r.parts.emplace_back();
    return r;
  }
  if (!grants.clusters.empty()) r.parts.push_back({ClusterMatcher(grants.clusters, options)});
  // Clusters grouped by the namespaces granted in them.
  std::map<std::set<std::string>, std::set<std::string>> by_namespaces;
  for (const auto& [cluster, namespaces] : grants.projects) {
    if (grants.clusters.count(cluster) > 0 || namespaces.empty()) continue;
    by_namespaces[namespaces].insert(cluster);
  }
  for (const auto& [namespaces, clusters] : by_namespaces) {
    LabelMatcher cluster = ClusterMatcher(clusters, options);
    if (!options.namespace_label.empty()) {
      r.parts.push_back({cluster, OneOf(options.namespace_label, namespaces, false)});
      continue;
    }
    r.parts.push_back({cluster, OneOf("exported_namespace", namespaces, false)});
    r.parts.push_back({cluster, LabelMatcher{"exported_namespace", MatchOp::kEqual, ""},
                       OneOf("namespace", namespaces, false)});
  }
  return r;
}

Result<ExprPtr> Restrict(const ExprPtr& query, const Restriction& restriction) {
  if (restriction.Nothing()) {
    return Fail(ErrorCode::kInvalidArgument, "no grants to restrict the query to");
  }
  Restricter r(restriction);
  return r.Walk(query);
}

std::vector<std::string> RestrictSelector(const Expr& selector, const Restriction& restriction) {
  std::vector<std::string> out;
  for (const auto& part : restriction.parts) out.push_back(Print(*WithMatchers(selector, part)));
  return out;
}

std::vector<std::string> GrantSelectors(const Restriction& restriction) {
  Expr any;
  any.kind = ExprKind::kVectorSelector;
  any.type = ValueType::kVector;
  any.matchers.push_back({"__name__", MatchOp::kRegexMatch, ".+"});
  return RestrictSelector(any, restriction);
}

bool EverySelectorRestricted(const Expr& query, const Restriction& restriction) {
  if (query.kind == ExprKind::kVectorSelector) {
    for (const auto& part : restriction.parts) {
      bool all = std::all_of(part.begin(), part.end(), [&](const LabelMatcher& m) {
        return std::find(query.matchers.begin(), query.matchers.end(), m) != query.matchers.end();
      });
      if (all) return true;
    }
    return false;
  }
  for (const ExprPtr* child : {&query.inner, &query.lhs, &query.rhs, &query.param}) {
    if (*child && !EverySelectorRestricted(**child, restriction)) return false;
  }
  for (const auto& a : query.args) {
    if (!EverySelectorRestricted(*a, restriction)) return false;
  }
  return true;
}

int64_t LongestRangeMs(const Expr& query) {
  int64_t longest = 0;
  Longest(query, &longest);
  return longest;
}

std::string QuoteRegex(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (std::string_view("\\.+*?()|[]{}^$").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

}  // namespace aitelemetry::promql
