// SQL text for the store, generated from the registry. Identifiers come only from the registry;
// every value is a bound parameter. Internal to store/.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "model/registry.h"
#include "store/query.h"
#include "store/sql.h"

namespace aitelemetry::store {

struct SqlText {
  std::string sql;
  std::vector<Value> params;
};

// Returns the column type of `type` in `dialect`.
std::string ColumnType(model::FieldType type, Dialect dialect);

// One secondary index of a model's table: its name ("{table}_{suffix}_idx") and column list.
struct IndexSpec {
  std::string name;
  std::string columns;
};

// The secondary indexes of `m`, derived from the registry (scope, state/model, facets, relations).
std::vector<IndexSpec> Indexes(const model::Model& m);

// CREATE TABLE / CREATE INDEX statements for `m` (IF NOT EXISTS).
std::vector<std::string> CreateTableSql(const model::Model& m, Dialect dialect);

// The ON CONFLICT target of an upsert into `m` ("key", or "key, hour" for a partitioned table).
std::string ConflictTarget(const model::Model& m, Dialect dialect);

// ALTER TABLE statement adding `field` to `m`'s table.
std::string AddColumnSql(const model::Model& m, const model::Field& field, Dialect dialect);

// Appends " WHERE <scope> AND <filters> AND <text>" to `out`. Requires: ValidateQuery passed.
void AppendWhere(const model::Model& m, const std::vector<Filter>& filters, const std::string& text,
                 const Scope& scope, SqlText& out);

// The ORDER BY expression list for `spec` (with the key last) and, with `after`, the keyset
// condition appended to the WHERE clause already in `out`.
std::string OrderBy(const model::Model& m, const QuerySpec& spec);
void AppendKeyset(const model::Model& m, const QuerySpec& spec, SqlText& out);

// The expression a sort uses for `field` (nulls mapped to a sentinel so both backends agree).
std::string SortExpr(const model::Field& field);

}  // namespace aitelemetry::store
