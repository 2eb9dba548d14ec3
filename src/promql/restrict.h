// Restricts a PromQL query to the series a caller may read. The caller's grants become a union of
// parts, each a conjunction of label matchers; every vector and range selector of the query gets
// a part's matchers ANDed to its own (never replacing them), so whatever the query computes, it
// computes over granted series only.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/result.h"
#include "promql/ast.h"

namespace aitelemetry::promql {

// What a caller may read in one hub: the whole hub, whole clusters, or namespaces of clusters.
struct HubGrants {
  bool whole_hub = false;
  std::set<std::string> clusters;                         // whole clusters
  std::map<std::string, std::set<std::string>> projects;  // cluster -> namespaces
};

struct RestrictionOptions {
  // Series without a `cluster` label belong to this cluster.
  std::string default_cluster;
  // Empty: a series' workload namespace is `exported_namespace` where it has one, else
  // `namespace`. Otherwise the one label that holds it (a hub whose scrape honours labels).
  std::string namespace_label;
};

// The series a caller may read: the union of `parts`, each the conjunction of its matchers.
// Parts are disjoint (they differ in cluster or namespace labels, or in having exported_namespace).
struct Restriction {
  std::vector<std::vector<LabelMatcher>> parts;

  // No parts: the caller may read nothing in this hub.
  bool Nothing() const { return parts.empty(); }
  // One part without matchers: the caller may read everything.
  bool Everything() const { return parts.size() == 1 && parts[0].empty(); }
};

// Returns the restriction for `grants`. Whole clusters form one part (cluster=~"a|b"); clusters
// with the same set of granted namespaces form one part per namespace label (two when
// namespace_label is empty: exported_namespace=~S, and exported_namespace="" with
// namespace=~S). Grants of namespaces in a wholly granted cluster are redundant and dropped.
Restriction RestrictionFor(const HubGrants& grants, const RestrictionOptions& options);

// Returns `query` with every selector restricted. With one part, each selector gets its matchers.
// With several, an instant selector becomes the `or` of one copy per part, and a per-series
// function over a selector (rate(x[5m]), timestamp(x)) becomes the `or` of one call per part;
// the parts being disjoint, each is exactly the granted share of what the query reads.
// Errors: kPermissionDenied for a query that cannot be restricted exactly with several parts (a
// bare range selector, absent_over_time of a selector); kInvalidArgument when `restriction` is
// Nothing().
[[nodiscard]] Result<ExprPtr> Restrict(const ExprPtr& query, const Restriction& restriction);

// Returns the series selectors that together select the granted share of `selector` (one per
// part), as text for match[].
std::vector<std::string> RestrictSelector(const Expr& selector, const Restriction& restriction);

// Returns the selectors that select every granted series (one per part, each with
// __name__=~".+" so that Prometheus takes it), for metadata requests without match[].
std::vector<std::string> GrantSelectors(const Restriction& restriction);

// Returns whether every selector of `query` carries all the matchers of one part of
// `restriction` (false when it has no parts and the query has a selector). Run on the re-parsed
// text of a restricted query, it checks the rewrite and the printer together.
bool EverySelectorRestricted(const Expr& query, const Restriction& restriction);

// Returns the longest range a matrix selector or subquery of `query` reads, in milliseconds
// (its range plus the absolute value of its offset); 0 when it has none.
int64_t LongestRangeMs(const Expr& query);

// Escapes `text` for a literal match inside an RE2 regular expression.
std::string QuoteRegex(std::string_view text);

}  // namespace aitelemetry::promql
