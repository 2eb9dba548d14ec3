// Grouped sums over one model (usage reports): GROUP BY registry fields and, optionally, a
// fixed-width time bucket, with the caller's scope applied inside the SQL like every other read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/value.h"
#include "store/query.h"

namespace aitelemetry::store {

// One summed column: SUM(field), or, when `only_where_set` names a field, the sum over the rows
// where that field is not null (e.g. the seconds attributed to some project).
struct SumColumn {
  std::string field;           // a kStat field
  std::string only_where_set;  // empty: every row
};

struct AggregateSpec {
  std::vector<Filter> filters;        // all must hold (fields must be filterable)
  std::vector<std::string> group_by;  // registry fields; may be empty (one total row)
  // A time or integer field cut into buckets of `bucket_width` (its units: nanoseconds for a
  // time field). Empty: no bucket. Buckets start at multiples of the width since the epoch, so
  // hours and UTC days are exact (Unix time has no leap seconds).
  std::string bucket_field;
  int64_t bucket_width = 0;
  std::vector<SumColumn> sums;
  // More groups than this fail with kInvalidArgument rather than building a huge answer.
  int64_t max_groups = 100000;
};

struct AggregateRow {
  std::vector<model::Value> group;          // one per group_by field, in order
  std::optional<int64_t> bucket;            // the bucket start, when bucket_field is set
  std::vector<std::optional<double>> sums;  // one per SumColumn; null when no row had a value
};

// Checks `spec` against `m`: known fields, filters filterable, sums kStat, the bucket field an
// integer or time with a positive width. Returns kInvalidArgument naming the offender.
[[nodiscard]] Status ValidateAggregate(const model::Model& m, const AggregateSpec& spec);

}  // namespace aitelemetry::store
