// The small connection interface the store is written against; one implementation per backend.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "model/value.h"

namespace aitelemetry::store {

using model::FieldType;
using model::Value;

enum class Dialect { kSqlite, kPostgres };

// One database connection. Not thread-safe: the store leases each to one thread at a time.
// SQL text uses `?` placeholders; a backend that numbers them ($1, $2) rewrites them.
class SqlConnection {
 public:
  virtual ~SqlConnection() = default;

  virtual Dialect dialect() const = 0;

  // Runs a statement that returns no rows. Returns the number of rows it changed.
  // Errors: kUnavailable when the connection is lost, kDataLoss for a corrupt database file,
  // kAlreadyExists for a unique violation, kInternal for other SQL errors.
  [[nodiscard]] virtual Result<int64_t> Exec(std::string_view sql,
                                             std::span<const Value> params = {}) = 0;

  // Runs the statement `sql` once per row of `params` (rows of `width` values each, in order) and
  // returns the rows changed in all. SQLite prepares it once; the default runs Exec per row.
  [[nodiscard]] virtual Result<int64_t> ExecBatch(std::string_view sql,
                                                  std::span<const Value> params, size_t width) {
    int64_t changed = 0;
    for (size_t i = 0; i + width <= params.size(); i += width) {
      auto n = Exec(sql, params.subspan(i, width));
      if (!n) return n;
      changed += *n;
    }
    return changed;
  }

  // Runs a query and calls `on_row` for each row with its columns converted to `types` (one per
  // selected column). The vector passed to `on_row` may be moved from. `params` are read while
  // rows are produced (SQLite binds text without copying it), so `on_row` must not change them.
  [[nodiscard]] virtual Status Query(std::string_view sql, std::span<const Value> params,
                                     std::span<const FieldType> types,
                                     const std::function<void(std::vector<Value>&)>& on_row) = 0;

  // Transactions. Begin starts a write transaction (SQLite: BEGIN IMMEDIATE).
  [[nodiscard]] virtual Status Begin() = 0;
  [[nodiscard]] virtual Status Commit() = 0;
  virtual void Rollback() = 0;

  // Returns the column names of `table`, empty when it does not exist.
  [[nodiscard]] virtual Result<std::vector<std::string>> Columns(std::string_view table) = 0;
};

// Opens a connection for `url`: "sqlite:PATH" (or "sqlite::memory:") or "postgresql://..." /
// "postgres://...". Errors: kInvalidArgument for an unknown scheme, kUnavailable when the server
// cannot be reached, kDataLoss when the SQLite file is not a database.
[[nodiscard]] Result<std::unique_ptr<SqlConnection>> Connect(const std::string& url);

// Returns the file path of a "sqlite:" URL ("sqlite:///abs" -> "/abs"), or "" for another scheme.
std::string SqlitePath(std::string_view url);

// Returns the database URL with any password replaced by "***", for logs.
std::string RedactUrl(std::string_view url);

}  // namespace aitelemetry::store
