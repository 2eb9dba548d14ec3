// The store: every model's table on SQLite or PostgreSQL behind one interface. Every read takes a
// Scope that is applied inside its SQL, so a caller never sees (or counts) what it may not read.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "model/record.h"
#include "store/aggregate.h"
#include "store/change_feed.h"
#include "store/generation.h"
#include "store/query.h"
#include "store/sql.h"

namespace aitelemetry::store {

struct StoreOptions {
  std::string url = "sqlite:aitelemetry.db";
  int connections = 4;  // pool size (SQLite: readers share the WAL; writes serialise)
  bool migrate = true;  // apply migrations on open
};

// The most values one statement of Writer::SelectAnyOf binds for its IN list.
inline constexpr size_t kMaxAnyOfValues = 256;

// The schema version this binary writes. A database with a higher version is refused.
inline constexpr int kSchemaVersion = 1;

class Store {
 public:
  // Opens the pool and (when options.migrate) applies migrations. Errors: as Connect(); and
  // kFailedPrecondition when the database was written by a newer version.
  [[nodiscard]] static Result<std::unique_ptr<Store>> Open(const StoreOptions& options);
  ~Store();

  Dialect dialect() const { return dialect_; }

  // Applies pending migrations in one transaction, then adds registry fields missing from existing
  // tables. Idempotent. Returns the resulting schema version.
  [[nodiscard]] Result<int> Migrate();
  // Returns the applied schema version (0 for an empty database).
  [[nodiscard]] Result<int> SchemaVersion();
  // Returns Ok when a connection answers and migrations are applied (readiness).
  [[nodiscard]] Status Ping();

  // Inserts or updates `records` (all of model `m`) in one transaction. Editable fields are not
  // written (only Patch writes them); write-once fields keep their stored value.
  [[nodiscard]] Status Upsert(const model::Model& m, std::span<const model::Record> records);

  // Runs `fn` inside one write transaction; it commits when `fn` returns Ok, else rolls back.
  // The Writer passed to `fn` is valid only during the call.
  class Writer;
  [[nodiscard]] Status Transaction(const std::function<Status(Writer&)>& fn);

  // Sets `assignments` on the rows of `m` matching all `where` filters; returns rows changed.
  [[nodiscard]] Result<int64_t> Update(
      const model::Model& m, const std::vector<Filter>& where,
      const std::vector<std::pair<std::string, model::Value>>& assignments);

  // Deletes the rows of `m` matching all `where`; returns rows deleted. An empty `where` is
  // refused.
  [[nodiscard]] Result<int64_t> Delete(const model::Model& m, const std::vector<Filter>& where);

  // Returns the row with `key` if it exists and `scope` may see it; kNotFound otherwise.
  [[nodiscard]] Result<model::Record> Get(const model::Model& m, const std::string& key,
                                          const Scope& scope);

  // Searches `m`. Validates the spec first (kInvalidArgument names the bad field).
  [[nodiscard]] Result<QueryResult> Query(const model::Model& m, const QuerySpec& spec,
                                          const Scope& scope);

  // Writes the editable fields in `patch` (only those) on the row `key` visible in `scope`.
  // Returns the updated row. kNotFound when absent or invisible; kInvalidArgument for a
  // non-editable field.
  [[nodiscard]] Result<model::Record> Patch(
      const model::Model& m, const std::string& key,
      const std::vector<std::pair<std::string, model::Value>>& patch, const Scope& scope);

  // Deletes the rows of partitioned model `m` whose partition field is before `cutoff`: on
  // PostgreSQL whole monthly partitions are dropped, the rest deleted; on SQLite rows are deleted.
  // Returns the number of rows removed. kInvalidArgument when `m` is not partitioned.
  [[nodiscard]] Result<int64_t> ApplyRetention(const model::Model& m, Timestamp cutoff);

  // Sums stat fields of `m` grouped by fields and an optional time bucket, over the rows `scope`
  // may see. Rows come ordered by group then bucket. Errors: kInvalidArgument from
  // ValidateAggregate, or when more than spec.max_groups groups result.
  [[nodiscard]] Result<std::vector<AggregateRow>> Aggregate(const model::Model& m,
                                                            const AggregateSpec& spec,
                                                            const Scope& scope);

  // Appends `changes` to the change feed in one transaction, assigning each its seq (the input's
  // seq is ignored). Seqs grow in commit order, also across PostgreSQL writers.
  [[nodiscard]] Status AppendChanges(std::vector<Change> changes);

  // Returns up to `limit` changes with seq > `after_seq` that `scope` may see, oldest first; only
  // changes of `models` when it is non-empty.
  [[nodiscard]] Result<std::vector<Change>> ChangesSince(int64_t after_seq,
                                                         const std::vector<std::string>& models,
                                                         const Scope& scope, int64_t limit);

  // Returns the highest seq appended so far (0 when none): where a new live view starts.
  [[nodiscard]] Result<int64_t> LastChangeSeq();

  // Deletes changes applied before `before`, always keeping the newest one so that seqs never
  // restart. Returns the rows deleted.
  [[nodiscard]] Result<int64_t> TrimChanges(Timestamp before);

  // Returns the store's generation: a token that differs from every earlier one whenever a write
  // committed in between, by any connection of any process. SQLite: the data version a
  // dedicated connection sees; PostgreSQL: `pg_current_snapshot()`, which changes whenever any
  // transaction ends (and only then; reads take no transaction id). Read it BEFORE the reads it
  // labels: whatever they return is at least as new as the token. With `may_wait` false it
  // answers without waiting on a lock or the network, or fails with kUnavailable (always on
  // PostgreSQL, which needs a round trip). Errors: kFailedPrecondition when the database has no
  // such token (in-memory SQLite); kUnavailable as above or when the database cannot be read.
  [[nodiscard]] Result<std::string> Generation(bool may_wait);

  // Runs `fn` with a leased connection (for backend-specific statements such as advisory locks).
  [[nodiscard]] Status WithConnection(const std::function<Status(SqlConnection&)>& fn);

 private:
  class Lease;
  Store() = default;
  std::unique_ptr<SqlConnection> Acquire();
  void Release(std::unique_ptr<SqlConnection> conn);
  // Closes every idle connection (after one was found broken).
  void DropIdle();

  class Checkpointer;
  StoreOptions options_;
  Dialect dialect_ = Dialect::kSqlite;
  std::unique_ptr<Checkpointer> checkpointer_;  // SQLite files only
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<SqlConnection>> idle_;     // guarded by mu_
  int open_ = 0;                                         // guarded by mu_: connections created
  std::unique_ptr<SqliteGeneration> sqlite_generation_;  // SQLite files only; thread-safe
};

// The operations available inside Store::Transaction, all on one connection.
class Store::Writer {
 public:
  explicit Writer(SqlConnection& conn) : conn_(conn) {}
  [[nodiscard]] Status Upsert(const model::Model& m, std::span<const model::Record> records);
  // As Upsert, except that a record whose key is already stored updates only `fields` of its row
  // (a write-once field among them still keeps its stored value; no fields: the row is kept as
  // it is); the others are inserted whole. An update that names only the fields that changed
  // spares the indexes of the others (SQLite rewrites the entries of every index over a column
  // the statement sets, changed or not). Unlike UpdateFields it is an upsert: a record whose row
  // is gone (deleted by another writer since it was read) is inserted whole, as Upsert would.
  // Errors: kInvalidArgument for the key, an unknown or an editable field; else as Upsert.
  [[nodiscard]] Status UpsertSetting(const model::Model& m, std::span<const model::Record> records,
                                     std::span<const std::string> fields);
  // Inserts each record whose key is not stored, as Upsert would; a stored row keeps its fields
  // except `add_fields` (by index into m.fields: numbers, neither editable nor write-once), which
  // become the sum of the stored and the new value, null meaning unknown: null plus a value is
  // the value. Sums kept by the store itself, so a writer need not hold them, and only their
  // columns written (none is indexed in "usage"). Errors: kInvalidArgument for such a field, and
  // for a key given twice (merge them first: which to add is the caller's call); else as Upsert.
  [[nodiscard]] Status UpsertAdding(const model::Model& m, std::span<const model::Record> records,
                                    std::span<const int> add_fields);
  [[nodiscard]] Result<int64_t> Update(
      const model::Model& m, const std::vector<Filter>& where,
      const std::vector<std::pair<std::string, model::Value>>& assignments);
  // Sets the fields `fields` (by index into m.fields; never the key) of each stored row to the
  // values of the record with its key (and partition value), one row per record; records without
  // a stored row change nothing. Returns the number of rows changed. For refreshing the readings
  // of many known rows: no row is inserted and only the indexes covering `fields` are touched.
  [[nodiscard]] Result<int64_t> UpdateFields(const model::Model& m, std::span<const int> fields,
                                             std::span<const model::Record> records);
  // As UpdateFields, with the rows given flat (see AppendUpdateRow), so a caller can prepare them
  // away from the thread that writes.
  [[nodiscard]] Result<int64_t> UpdateFieldsFlat(const model::Model& m, std::span<const int> fields,
                                                 std::span<const model::Value> rows);
  // Appends the row UpdateFieldsFlat expects for `record` to `out`: the values of `fields`, then
  // the key (and the partition value of a partitioned model), moved out of `record`.
  static void AppendUpdateRow(const model::Model& m, std::span<const int> fields,
                              model::Record&& record, std::vector<model::Value>* out);
  [[nodiscard]] Result<int64_t> Delete(const model::Model& m, const std::vector<Filter>& where);
  [[nodiscard]] Result<std::vector<model::Record>> Select(const model::Model& m,
                                                          const QuerySpec& spec);
  // Returns the rows of `m` that match `spec` and whose `field` equals any of `values`, however
  // many values there are: one statement per chunk of up to kMaxAnyOfValues values, each chunk's
  // list padded to a power of two by repeating its last value, so that lists of any length share
  // a few statement texts (and prepared statements). Rows come chunk by chunk, each chunk in the
  // spec's order; spec.rows limits each chunk. No values: no rows, no statement. Errors: as Select.
  [[nodiscard]] Result<std::vector<model::Record>> SelectAnyOf(
      const model::Model& m, QuerySpec spec, const std::string& field,
      std::span<const model::Value> values);
  // As Store::AppendChanges, inside this transaction (a sync logs its changes atomically with
  // the rows it wrote).
  [[nodiscard]] Status AppendChanges(std::vector<Change> changes);
  SqlConnection& connection() { return conn_; }

 private:
  SqlConnection& conn_;
};

// The fields of `m` that the key or a secondary index of its table covers: writing one of them
// costs index updates, writing the others rewrites only the row.
std::set<std::string> IndexedFields(const model::Model& m);

}  // namespace aitelemetry::store
