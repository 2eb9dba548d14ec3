// What a read asks for (filters, text, sort, paging, facets, stats) and whom it is for (the grant
// scope). Field names are checked against the registry before any SQL is built.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/record.h"

namespace aitelemetry::store {

// One grant: a hub, a cluster of it, or a project of that cluster. Empty cluster = the whole hub;
// empty project = the whole cluster.
struct Grant {
  std::string hub;
  std::string cluster;
  std::string project;
};

// The set of things a caller may read. Applied inside the SQL of every read.
struct Scope {
  bool all = false;
  std::vector<Grant> grants;

  static Scope All() { return Scope{true, {}}; }
  static Scope None() { return Scope{false, {}}; }

  // Returns whether this scope may see a row placed at (hub, cluster, project) of a model whose
  // scope columns are those three (the change feed's): the in-memory form of the condition the
  // store puts in SQL (sql_builder.cc, beside which it is defined), for live streams that filter
  // a batch read once for everyone. An empty project is visible only to hub and cluster grants.
  bool Covers(std::string_view hub, std::string_view cluster, std::string_view project) const;
};

// A filter on one field. Kinds: equals any of `values`; a range with optional bounds; is null.
struct Filter {
  enum class Kind { kAnyOf, kRange, kIsNull, kNotNull };
  std::string field;
  Kind kind = Kind::kAnyOf;
  std::vector<model::Value> values;  // kAnyOf
  model::Value lower, upper;         // kRange; null = unbounded
  bool lower_inclusive = true, upper_inclusive = true;
  bool negate = false;  // NOT (...)

  static Filter Eq(std::string f, model::Value v) {
    Filter x;
    x.field = std::move(f);
    x.values.push_back(std::move(v));
    return x;
  }
  static Filter Null(std::string f) {
    Filter x;
    x.field = std::move(f);
    x.kind = Kind::kIsNull;
    return x;
  }
  static Filter Less(std::string f, model::Value v) {
    Filter x;
    x.field = std::move(f);
    x.kind = Kind::kRange;
    x.upper = std::move(v);
    x.upper_inclusive = false;
    return x;
  }
};

struct SortKey {
  std::string field;
  bool descending = false;
};

struct QuerySpec {
  std::string text;                 // full text over searchable fields; empty: none
  std::vector<Filter> filters;      // all must hold
  std::vector<SortKey> sort;        // the key is always appended as the last tie-breaker
  int64_t start = 0;                // rows to skip (ignored when `after` is set)
  int64_t rows = 100;               // rows to return; 0 is allowed (counts/facets only)
  std::vector<std::string> fields;  // fields to return; empty: all
  std::vector<std::string> facets;  // facetable fields to count by value
  int facet_limit = 100;            // values per facet, most frequent first
  std::vector<std::string> stats;   // numeric fields to summarise
  bool count = true;                // compute found
  // Keyset cursor: the sort values then the key of the last row already returned.
  std::optional<std::vector<model::Value>> after;
};

struct FacetCount {
  std::string value;  // text form; "" for null
  int64_t count = 0;
};

struct FieldStats {
  std::optional<double> min, max, sum, mean;
  int64_t count = 0;  // rows with a non-null value
};

struct QueryResult {
  int64_t found = 0;
  std::vector<model::Record> rows;
  std::map<std::string, std::vector<FacetCount>> facets;
  std::map<std::string, FieldStats> stats;
};

// Checks every field name in `spec` against `m` and its flags (fq needs filterable, sort sortable,
// facet facetable, stats stat, fl any). Returns kInvalidArgument naming the first offender, e.g.
// `sort: unknown field "foo" of gpu`.
[[nodiscard]] Status ValidateQuery(const model::Model& m, const QuerySpec& spec);

}  // namespace aitelemetry::store
