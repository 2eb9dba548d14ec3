#include "store/store.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

#include "store/sql_builder.h"

namespace aitelemetry::store {

using model::Field;
using model::FieldType;
using model::Model;
using model::Record;

namespace {

std::vector<FieldType> TypesOf(const Model& m) {
  std::vector<FieldType> t;
  t.reserve(m.fields.size());
  for (const auto& f : m.fields) t.push_back(f.type);
  return t;
}

std::string AllColumns(const Model& m) {
  std::string s;
  for (const auto& f : m.fields) {
    if (!s.empty()) s += ", ";
    s += f.name;
  }
  return s;
}

// The UTC month containing `ns`: its start and the next month's start, in ns.
std::pair<int64_t, int64_t> MonthOf(int64_t ns) {
  using namespace std::chrono;
  auto days = floor<std::chrono::days>(sys_time<nanoseconds>(nanoseconds(ns)));
  year_month_day ymd{days};
  auto first = sys_days{ymd.year() / ymd.month() / 1};
  auto next = sys_days{(ymd.year() / ymd.month() + months{1}) / 1};
  return {duration_cast<nanoseconds>(first.time_since_epoch()).count(),
          duration_cast<nanoseconds>(next.time_since_epoch()).count()};
}

std::string PartitionName(const Model& m, int64_t month_start_ns) {
  using namespace std::chrono;
  year_month_day ymd{floor<std::chrono::days>(sys_time<nanoseconds>(nanoseconds(month_start_ns)))};
  return fmt::format("{}_y{:04}m{:02}", m.table, static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()));
}

// Creates the monthly partitions that `records` fall in (PostgreSQL, partitioned models only).
Status EnsurePartitions(SqlConnection& conn, const Model& m, std::span<const Record> records) {
  if (conn.dialect() != Dialect::kPostgres || m.partition_field.empty()) return Ok();
  int idx = m.FieldIndex(m.partition_field);
  std::set<int64_t> months;
  for (const auto& r : records) {
    if (auto* ns = std::get_if<int64_t>(&r.values[idx])) months.insert(MonthOf(*ns).first);
  }
  for (int64_t start : months) {
    auto [from, to] = MonthOf(start);
    auto rc =
        conn.Exec(fmt::format("CREATE TABLE IF NOT EXISTS {} PARTITION OF {} FOR VALUES FROM "
                              "({}) TO ({})",
                              PartitionName(m, from), m.table, from, to));
    if (!rc) return Fail(rc.error());
  }
  return Ok();
}

// SQLite's planner needs statistics to choose between a model's indexes (without them a filter on
// `state` and one on `model_name` look alike). After an upsert of `written` rows, ANALYZE the table
// when it has no statistics yet or when the batch alone is more than twice the rows they describe:
// a first load or a large growth (about 0.1 s per 100,000 GPUs; a sampled ANALYZE is cheaper but
// its estimates mislead the planner). Statistics from a first load keep their proportions as a
// table grows by small batches, which is what the planner's choices rest on.
// PostgreSQL's autovacuum keeps its statistics current.
Status RefreshStatistics(SqlConnection& conn, const Model& m, size_t written) {
  constexpr size_t kMinRows = 1000;
  if (conn.dialect() != Dialect::kSqlite || written < kMinRows) return Ok();
  int64_t described = -1;
  bool have_stat_table = false;
  FieldType name_type[] = {FieldType::kString};
  auto st = conn.Query("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'", {}, name_type,
                       [&](std::vector<Value>&) { have_stat_table = true; });
  if (!st) return st;
  if (have_stat_table) {
    Value p[] = {m.table};
    auto q = conn.Query("SELECT stat FROM sqlite_stat1 WHERE tbl = ? LIMIT 1", p, name_type,
                        [&](std::vector<Value>& row) {
                          if (auto* text = std::get_if<std::string>(&row[0])) {
                            described = std::strtoll(text->c_str(), nullptr, 10);
                          }
                        });
    if (!q) return q;
  }
  if (described >= 0 && written <= 2 * static_cast<size_t>(described)) return Ok();
  auto rc = conn.Exec(fmt::format("ANALYZE {}", m.table));
  if (!rc) return Fail(rc.error());
  return Ok();
}

// Drops the indexes named like the store's own ("{table}_..._idx") that Indexes(m) no longer
// lists. Primary keys and indexes made by hand under other names are left alone.
Status DropObsoleteIndexes(SqlConnection& conn, const Model& m) {
  std::set<std::string> keep;
  for (const IndexSpec& ix : Indexes(m)) keep.insert(ix.name);
  std::vector<std::string> have;
  FieldType types[] = {FieldType::kString};
  Value p[] = {m.table};
  auto st = conn.Query(conn.dialect() == Dialect::kSqlite
                           ? "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
                           : "SELECT indexname FROM pg_indexes WHERE schemaname = "
                             "current_schema() AND tablename = ?",
                       p, types, [&](std::vector<Value>& row) {
                         if (auto* s = std::get_if<std::string>(&row[0])) have.push_back(*s);
                       });
  if (!st) return st;
  for (const std::string& name : have) {
    if (!name.starts_with(m.table + "_") || !name.ends_with("_idx") || keep.contains(name)) {
      continue;
    }
    auto rc = conn.Exec(fmt::format("DROP INDEX IF EXISTS {}", name));
    if (!rc) return Fail(rc.error());
  }
  return Ok();
}

// Inserts `records`; a row whose key is stored gets every written column updated, or with
// `set_fields`, only those (none: the stored row is kept as it is).
Status UpsertOn(SqlConnection& conn, const Model& m, std::span<const Record> records,
                std::optional<std::span<const std::string>> set_fields = std::nullopt,
                std::span<const int> add_fields = {}) {
  if (records.empty()) return Ok();
  std::vector<bool> add(m.fields.size(), false);
  for (int i : add_fields) {
    if (i <= 0 || static_cast<size_t>(i) >= m.fields.size() || m.fields[i].Has(model::kEditable) ||
        m.fields[i].Has(model::kWriteOnce) ||
        (m.fields[i].type != FieldType::kReal && m.fields[i].type != FieldType::kInt)) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("{}: cannot add to field #{}", m.name, i));
    }
    add[i] = true;
  }
  // Columns written: all but the editable ones (Patch owns those).
  std::vector<int> cols;
  for (size_t i = 0; i < m.fields.size(); ++i) {
    if (!m.fields[i].Has(model::kEditable)) cols.push_back(static_cast<int>(i));
  }
  // An adding upsert sets only its sums on a stored row.
  std::vector<bool> set(m.fields.size(), !set_fields.has_value() && add_fields.empty());
  for (int i : add_fields) set[i] = true;
  if (set_fields) {
    for (const std::string& name : *set_fields) {
      const int i = m.FieldIndex(name);
      if (i <= 0 || m.fields[i].Has(model::kEditable)) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("{}: cannot set field \"{}\"", m.name, name.substr(0, 64)));
      }
      set[i] = true;
    }
  }
  if (auto st = EnsurePartitions(conn, m, records); !st) return st;
  // Last write wins within a batch: one statement may not touch a row twice.
  std::unordered_map<std::string_view, size_t> last;
  last.reserve(records.size());
  for (size_t i = 0; i < records.size(); ++i) last[records[i].Key()] = i;
  std::vector<size_t> order;
  order.reserve(last.size());
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i].Key().empty()) {
      return Fail(ErrorCode::kInvalidArgument, fmt::format("{}: a record has no key", m.name));
    }
    if (last[records[i].Key()] == i) {
      order.push_back(i);
    } else if (!add_fields.empty()) {  // which of the two to add is the caller's to say
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("{}: key \"{}\" twice in one adding upsert", m.name,
                              records[i].Key().substr(0, 128)));
    }
  }
  std::string head = fmt::format("INSERT INTO {} (", m.table);
  std::string update;
  for (size_t c = 0; c < cols.size(); ++c) {
    const Field& f = m.fields[cols[c]];
    if (c) head += ", ";
    head += f.name;
    if (cols[c] == 0 || !set[cols[c]]) continue;
    if (!update.empty()) update += ", ";
    if (f.Has(model::kWriteOnce)) {
      update += fmt::format("{0} = COALESCE({1}.{0}, excluded.{0})", f.name, m.table);
    } else if (add[cols[c]]) {  // a sum: unknown (null) on one side leaves the other
      update += fmt::format(
          "{0} = CASE WHEN excluded.{0} IS NULL THEN {1}.{0} WHEN {1}.{0} IS NULL THEN "
          "excluded.{0} ELSE {1}.{0} + excluded.{0} END",
          f.name, m.table);
    } else {
      update += fmt::format("{0} = excluded.{0}", f.name);
    }
  }
  head += ") VALUES ";
  std::string tail = update.empty() ? fmt::format(" ON CONFLICT ({}) DO NOTHING",
                                                  ConflictTarget(m, conn.dialect()))
                                    : fmt::format(" ON CONFLICT ({}) DO UPDATE SET {}",
                                                  ConflictTarget(m, conn.dialect()), update);
  std::string row = "(";
  for (size_t c = 0; c < cols.size(); ++c) row += c ? ",?" : "?";
  row += ")";
  std::vector<Value> params;
  if (conn.dialect() == Dialect::kSqlite) {
    // In-process: one prepared single-row statement stepped per row beats a multi-row VALUES
    // list (no parsing of a large statement, no temporary table of the rows).
    params.reserve(order.size() * cols.size());
    for (size_t r : order) {
      for (int c : cols) params.push_back(records[r].values[c]);
    }
    auto rc = conn.ExecBatch(head + row + tail, params, cols.size());
    if (!rc) return Fail(rc.error());
    return RefreshStatistics(conn, m, order.size());
  }
  // A server: as few round trips as the parameter limit allows.
  const size_t per_statement = std::max<size_t>(1, 30000 / cols.size());
  std::string sql;
  for (size_t begin = 0; begin < order.size(); begin += per_statement) {
    size_t end = std::min(order.size(), begin + per_statement);
    sql = head;
    params.clear();
    params.reserve((end - begin) * cols.size());
    for (size_t r = begin; r < end; ++r) {
      if (r != begin) sql += ',';
      sql += row;
      const Record& rec = records[order[r]];
      for (int c : cols) params.push_back(rec.values[c]);
    }
    sql += tail;
    auto rc = conn.Exec(sql, params);
    if (!rc) return Fail(rc.error());
  }
  return RefreshStatistics(conn, m, order.size());
}

// The fields an update by key matches rows with: the key, and on a partitioned table the
// partition value too (it picks the partition, and the primary key includes it).
std::vector<int> MatchFields(const Model& m) {
  std::vector<int> match = {0};
  if (!m.partition_field.empty()) match.push_back(m.FieldIndex(m.partition_field));
  return match;
}

Result<int64_t> UpdateFieldsFlatOn(SqlConnection& conn, const Model& m, std::span<const int> fields,
                                   std::span<const Value> flat) {
  for (int f : fields) {
    if (f <= 0 || static_cast<size_t>(f) >= m.fields.size()) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("{}: cannot update field #{} by key", m.name, f));
    }
  }
  const std::vector<int> match = MatchFields(m);
  const size_t width = fields.size() + match.size();
  if (fields.empty() || flat.empty()) return int64_t{0};
  if (flat.size() % width != 0) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{}: {} values do not make rows of {}", m.name, flat.size(), width));
  }
  const size_t rows = flat.size() / width;
  if (conn.dialect() == Dialect::kSqlite) {
    std::string sql = fmt::format("UPDATE {} SET ", m.table);
    for (size_t i = 0; i < fields.size(); ++i) {
      sql += fmt::format("{}{} = ?", i ? ", " : "", m.fields[fields[i]].name);
    }
    for (size_t i = 0; i < match.size(); ++i) {
      sql += fmt::format(" {} {} = ?", i ? "AND" : "WHERE", m.fields[match[i]].name);
    }
    return conn.ExecBatch(sql, flat, width);
  }
  // PostgreSQL: UPDATE ... FROM (VALUES ...) in as few statements as the parameter limit allows;
  // each value is cast to its column's type (VALUES rows have no column types of their own).
  std::vector<int> cols(fields.begin(), fields.end());
  cols.insert(cols.end(), match.begin(), match.end());
  std::string head = fmt::format("UPDATE {} AS t SET ", m.table);
  for (size_t i = 0; i < fields.size(); ++i) {
    head += fmt::format("{}{} = v.{}", i ? ", " : "", m.fields[fields[i]].name,
                        m.fields[fields[i]].name);
  }
  head += " FROM (VALUES ";
  std::string row = "(";
  for (size_t i = 0; i < cols.size(); ++i) {
    row += fmt::format("{}?::{}", i ? ", " : "",
                       ColumnType(m.fields[cols[i]].type, Dialect::kPostgres));
  }
  row += ")";
  std::string tail = ") AS v (";
  for (size_t i = 0; i < cols.size(); ++i) {
    tail += fmt::format("{}{}", i ? ", " : "", m.fields[cols[i]].name);
  }
  tail += ")";
  for (size_t i = 0; i < match.size(); ++i) {
    tail += fmt::format(" {} t.{} = v.{}", i ? "AND" : "WHERE", m.fields[match[i]].name,
                        m.fields[match[i]].name);
  }
  const size_t per_statement = std::max<size_t>(1, 30000 / width);
  int64_t changed = 0;
  std::string sql;
  for (size_t begin = 0; begin < rows; begin += per_statement) {
    const size_t end = std::min(rows, begin + per_statement);
    sql = head;
    for (size_t r = begin; r < end; ++r) {
      if (r != begin) sql += ", ";
      sql += row;
    }
    sql += tail;
    auto n = conn.Exec(sql, flat.subspan(begin * width, (end - begin) * width));
    if (!n) return Fail(n.error());
    changed += *n;
  }
  return changed;
}

Result<int64_t> UpdateFieldsOn(SqlConnection& conn, const Model& m, std::span<const int> fields,
                               std::span<const Record> records) {
  std::vector<Value> flat;
  const std::vector<int> match = MatchFields(m);
  flat.reserve(records.size() * (fields.size() + match.size()));
  for (const Record& r : records) {
    for (int f : fields) {
      if (f >= 0 && static_cast<size_t>(f) < r.values.size()) flat.push_back(r.values[f]);
    }
    for (int f : match) flat.push_back(r.values[f]);
  }
  return UpdateFieldsFlatOn(conn, m, fields, flat);
}

Result<int64_t> UpdateOn(SqlConnection& conn, const Model& m, const std::vector<Filter>& where,
                         const std::vector<std::pair<std::string, Value>>& assignments) {
  if (assignments.empty()) return int64_t{0};
  SqlText q;
  q.sql = fmt::format("UPDATE {} SET ", m.table);
  for (size_t i = 0; i < assignments.size(); ++i) {
    const auto& [name, value] = assignments[i];
    if (m.FindField(name) == nullptr || name == "key") {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("{}: cannot set field \"{}\"", m.name, name));
    }
    if (i) q.sql += ", ";
    q.sql += name + " = ?";
    q.params.push_back(value);
  }
  QuerySpec spec;
  spec.filters = where;
  if (auto st = ValidateQuery(m, spec); !st) return Fail(st.error());
  AppendWhere(m, where, "", Scope::All(), q);
  return conn.Exec(q.sql, q.params);
}

Result<int64_t> DeleteOn(SqlConnection& conn, const Model& m, const std::vector<Filter>& where) {
  if (where.empty())
    return Fail(ErrorCode::kInvalidArgument, "delete: refusing to delete every row");
  QuerySpec spec;
  spec.filters = where;
  if (auto st = ValidateQuery(m, spec); !st) return Fail(st.error());
  SqlText q;
  q.sql = fmt::format("DELETE FROM {}", m.table);
  AppendWhere(m, where, "", Scope::All(), q);
  return conn.Exec(q.sql, q.params);
}

Result<std::vector<Record>> SelectOn(SqlConnection& conn, const Model& m, const QuerySpec& spec,
                                     const Scope& scope) {
  SqlText q;
  q.sql = fmt::format("SELECT {} FROM {}", AllColumns(m), m.table);
  AppendWhere(m, spec.filters, spec.text, scope, q);
  AppendKeyset(m, spec, q);
  q.sql += " ORDER BY " + OrderBy(m, spec);
  q.sql += " LIMIT ?";
  q.params.emplace_back(spec.rows);
  if (!spec.after && spec.start > 0) {
    q.sql += " OFFSET ?";
    q.params.emplace_back(spec.start);
  }
  std::vector<Record> rows;
  auto types = TypesOf(m);
  auto st = conn.Query(q.sql, q.params, types, [&](std::vector<Value>& row) {
    Record r(m);
    r.values = std::move(row);
    row.assign(types.size(), Value{});
    rows.push_back(std::move(r));
  });
  if (!st) return Fail(st.error());
  return rows;
}

struct Migration {
  int version;
  const char* what;
  std::function<Status(SqlConnection&)> apply;
};

std::vector<Migration> Migrations() {
  return {
      {1, "create the model tables from the registry",
       [](SqlConnection& conn) -> Status {
         for (const auto& m : model::Models()) {
           for (const auto& sql : CreateTableSql(m, conn.dialect())) {
             auto rc = conn.Exec(sql);
             if (!rc) return Fail(rc.error());
           }
         }
         return Ok();
       }},
  };
}

}  // namespace

class Store::Lease {
 public:
  explicit Lease(Store& s) : store_(s), conn_(s.Acquire()) {}
  ~Lease() {
    if (conn_) store_.Release(std::move(conn_));
  }
  SqlConnection* get() { return conn_.get(); }
  SqlConnection* operator->() { return conn_.get(); }
  // Drops a connection that failed (it may be broken); the pool opens a new one when needed.
  void Discard() {
    conn_.reset();
    std::lock_guard lock(store_.mu_);
    --store_.open_;
    store_.cv_.notify_one();
  }

 private:
  Store& store_;
  std::unique_ptr<SqlConnection> conn_;
};

// Copies SQLite's write-ahead log back into the database file on its own thread and connection,
// after write transactions commit: connections never checkpoint inside a commit (they are opened
// with wal_autocheckpoint=0), so a 100,000-GPU sync does not wait for the copy of the pages it
// wrote (~0.3 s of file writes and fsyncs). PASSIVE: it never blocks readers or writers, and
// what a long reader still needs is copied by a later round.
class Store::Checkpointer {
 public:
  explicit Checkpointer(std::unique_ptr<SqlConnection> conn)
      : conn_(std::move(conn)), thread_([this] { Run(); }) {}
  ~Checkpointer() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  void Poke() {
    {
      std::lock_guard lock(mu_);
      pending_ = true;
    }
    cv_.notify_one();
  }

 private:
  void Run() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return pending_ || stop_; });
      if (!pending_ && stop_) return;
      pending_ = false;
      lock.unlock();
      // A failure (the file busy, the disk full) leaves the log longer; the next round retries.
      (void)conn_->Exec("PRAGMA wal_checkpoint(PASSIVE)");
      lock.lock();
    }
  }

  std::unique_ptr<SqlConnection> conn_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the members it uses exist
};

Result<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  auto first = Connect(options.url);
  if (!first) return Fail(first.error());
  std::unique_ptr<Store> store(new Store());
  store->options_ = options;
  if (store->options_.connections < 1) store->options_.connections = 1;
  store->dialect_ = (*first)->dialect();
  store->idle_.push_back(std::move(*first));
  store->open_ = 1;
  if (store->dialect_ == Dialect::kSqlite) {
    // Without it (an in-memory database) Generation() reports that there is none.
    auto generation = SqliteGeneration::Open(SqlitePath(options.url));
    if (generation) store->sqlite_generation_ = std::move(*generation);
  }
  if (options.migrate) {
    auto v = store->Migrate();
    if (!v) return Fail(v.error());
  } else {
    auto v = store->SchemaVersion();
    if (!v) return Fail(v.error());
    if (*v > kSchemaVersion) {
      return Fail(ErrorCode::kFailedPrecondition,
                  fmt::format("database schema version {} is newer than this binary's ({}); "
                              "upgrade aitelemetry",
                              *v, kSchemaVersion));
    }
  }
  if (store->dialect_ == Dialect::kSqlite && options.url.find(":memory:") == std::string::npos) {
    auto conn = Connect(options.url);
    if (!conn) return Fail(conn.error());
    store->checkpointer_ = std::make_unique<Checkpointer>(std::move(*conn));
  }
  return store;
}

Store::~Store() = default;

std::unique_ptr<SqlConnection> Store::Acquire() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
    if (open_ < options_.connections) {
      ++open_;
      lock.unlock();
      auto c = Connect(options_.url);
      if (c) return std::move(*c);
      lock.lock();
      --open_;
      return nullptr;
    }
    cv_.wait(lock);
  }
}

void Store::DropIdle() {
  std::vector<std::unique_ptr<SqlConnection>> idle;
  {
    std::lock_guard lock(mu_);
    idle.swap(idle_);
    open_ -= static_cast<int>(idle.size());
    cv_.notify_all();
  }
  // Closed outside the lock: closing a broken connection may wait on the network.
}

void Store::Release(std::unique_ptr<SqlConnection> conn) {
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(conn));
  cv_.notify_one();
}

Status Store::WithConnection(const std::function<Status(SqlConnection&)>& fn) {
  Lease lease(*this);
  if (lease.get() == nullptr) {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("store: cannot connect to {}", RedactUrl(options_.url)));
  }
  Status st = fn(*lease.get());
  if (!st && st.error().code == ErrorCode::kUnavailable) {
    lease.Discard();
    // A lost connection usually means a restarted or failed-over server: the idle ones opened
    // before it are broken too, and each would fail one more caller. Reconnect lazily instead.
    DropIdle();
  }
  return st;
}

Result<std::string> Store::Generation(bool may_wait) {
  if (dialect_ == Dialect::kSqlite) {
    if (!sqlite_generation_) {
      return Fail(ErrorCode::kFailedPrecondition, "this SQLite database has no generation");
    }
    auto v = sqlite_generation_->Current(may_wait);
    if (!v) return Fail(v.error());
    return std::to_string(*v);
  }
  if (!may_wait) {
    return Fail(ErrorCode::kUnavailable, "the PostgreSQL generation needs a round trip");
  }
  std::string snapshot;
  auto st = WithConnection([&](SqlConnection& conn) -> Status {
    FieldType types[] = {FieldType::kString};
    return conn.Query("SELECT pg_current_snapshot()::text", {}, types,
                      [&](std::vector<Value>& row) {
                        if (auto* s = std::get_if<std::string>(&row[0])) snapshot = std::move(*s);
                      });
  });
  if (!st) return Fail(st.error());
  if (snapshot.empty()) return Fail(ErrorCode::kInternal, "pg_current_snapshot() was empty");
  return snapshot;
}

Result<int> Store::SchemaVersion() {
  int version = 0;
  auto st = WithConnection([&](SqlConnection& conn) -> Status {
    auto cols = conn.Columns("schema_migrations");
    if (!cols) return Fail(cols.error());
    if (cols->empty()) return Ok();
    FieldType types[] = {FieldType::kInt};
    return conn.Query("SELECT MAX(version) FROM schema_migrations", {}, types,
                      [&](std::vector<Value>& row) {
                        if (auto* v = std::get_if<int64_t>(&row[0])) version = static_cast<int>(*v);
                      });
  });
  if (!st) return Fail(st.error());
  return version;
}

Result<int> Store::Migrate() {
  int result = 0;
  auto st = WithConnection([&](SqlConnection& conn) -> Status {
    if (auto st = conn.Begin(); !st) return st;
    auto body = [&]() -> Status {
      auto rc = conn.Exec(
          "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
          "applied_at BIGINT NOT NULL, description TEXT NOT NULL)");
      if (!rc) return Fail(rc.error());
      if (conn.dialect() == Dialect::kPostgres) {
        // Two processes migrating at once: the second waits for the first's transaction.
        auto lock = conn.Exec("LOCK TABLE schema_migrations IN EXCLUSIVE MODE");
        if (!lock) return Fail(lock.error());
      }
      int current = 0;
      FieldType types[] = {FieldType::kInt};
      auto q = conn.Query("SELECT MAX(version) FROM schema_migrations", {}, types,
                          [&](std::vector<Value>& row) {
                            if (auto* v = std::get_if<int64_t>(&row[0]))
                              current = static_cast<int>(*v);
                          });
      if (!q) return q;
      if (current > kSchemaVersion) {
        return Fail(ErrorCode::kFailedPrecondition,
                    fmt::format("database schema version {} is newer than this binary's ({}); "
                                "upgrade aitelemetry",
                                current, kSchemaVersion));
      }
      for (const auto& mig : Migrations()) {
        if (mig.version <= current) continue;
        if (auto st = mig.apply(conn); !st) return st;
        Value p[] = {int64_t{mig.version}, ToUnixNanos(Now()), std::string(mig.what)};
        auto ins = conn.Exec(
            "INSERT INTO schema_migrations (version, applied_at, description) VALUES (?, ?, ?)", p);
        if (!ins) return Fail(ins.error());
        current = mig.version;
      }
      // Fields added to the registry since a table was created become new nullable columns;
      // tables added since (the change feed's among them) are created.
      std::vector<const Model*> tables;
      for (const auto& m : model::Models()) tables.push_back(&m);
      tables.push_back(&ChangeModel());
      for (const Model* mp : tables) {
        const Model& m = *mp;
        auto cols = conn.Columns(m.table);
        if (!cols) return Fail(cols.error());
        std::set<std::string> have(cols->begin(), cols->end());
        if (have.empty()) {
          for (const auto& sql : CreateTableSql(m, conn.dialect())) {
            auto rc2 = conn.Exec(sql);
            if (!rc2) return Fail(rc2.error());
          }
          continue;
        }
        // Indexes added since the table was created (the statements are IF NOT EXISTS), and
        // those the registry no longer derives dropped (each costs every write).
        auto create = CreateTableSql(m, conn.dialect());
        for (size_t i = 1; i < create.size(); ++i) {
          auto rc2 = conn.Exec(create[i]);
          if (!rc2) return Fail(rc2.error());
        }
        if (auto st = DropObsoleteIndexes(conn, m); !st) return st;
        for (const auto& f : m.fields) {
          if (have.count(f.name)) continue;
          auto rc2 = conn.Exec(AddColumnSql(m, f, conn.dialect()));
          if (!rc2) return Fail(rc2.error());
        }
      }
      result = current;
      return Ok();
    };
    Status st = body();
    if (!st) {
      conn.Rollback();
      return st;
    }
    return conn.Commit();
  });
  if (!st) return Fail(st.error());
  return result;
}

Status Store::Ping() {
  auto v = SchemaVersion();
  if (!v) return Fail(v.error());
  if (*v < kSchemaVersion) {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("store: schema version {} < {}", *v, kSchemaVersion));
  }
  return Ok();
}

Status Store::Transaction(const std::function<Status(Writer&)>& fn) {
  return WithConnection([&](SqlConnection& conn) -> Status {
    if (auto st = conn.Begin(); !st) return st;
    Writer w(conn);
    Status st = fn(w);
    if (!st) {
      conn.Rollback();
      return st;
    }
    if (auto c = conn.Commit(); !c) {
      conn.Rollback();
      return c;
    }
    if (checkpointer_) checkpointer_->Poke();
    return Ok();
  });
}

Status Store::Upsert(const Model& m, std::span<const Record> records) {
  return Transaction([&](Writer& w) { return w.Upsert(m, records); });
}

Result<int64_t> Store::Update(const Model& m, const std::vector<Filter>& where,
                              const std::vector<std::pair<std::string, Value>>& assignments) {
  int64_t n = 0;
  auto st = WithConnection([&](SqlConnection& conn) -> Status {
    auto r = UpdateOn(conn, m, where, assignments);
    if (!r) return Fail(r.error());
    n = *r;
    return Ok();
  });
  if (!st) return Fail(st.error());
  return n;
}

Result<int64_t> Store::Delete(const Model& m, const std::vector<Filter>& where) {
  int64_t n = 0;
  auto st = WithConnection([&](SqlConnection& conn) -> Status {
    auto r = DeleteOn(conn, m, where);
    if (!r) return Fail(r.error());
    n = *r;
    return Ok();
  });
  if (!st) return Fail(st.error());
  return n;
}

Result<Record> Store::Get(const Model& m, const std::string& key, const Scope& scope) {
  QuerySpec spec;
  spec.filters.push_back(Filter::Eq("key", key));
  spec.rows = 1;
  std::vector<Record> rows;
  auto st = WithConnection([&](SqlConnection& conn) -> Status {
    auto r = SelectOn(conn, m, spec, scope);
    if (!r) return Fail(r.error());
    rows = std::move(*r);
    return Ok();
  });
  if (!st) return Fail(st.error());
  if (rows.empty())
    return Fail(ErrorCode::kNotFound, fmt::format("{} \"{}\" not found", m.name, key));
  return std::move(rows[0]);
}

Result<QueryResult> Store::Query(const Model& m, const QuerySpec& spec, const Scope& scope) {
  if (auto st = ValidateQuery(m, spec); !st) return Fail(st.error());
  QueryResult result;
  auto st = WithConnection([&](SqlConnection& conn) -> Status {
    if (spec.rows > 0) {
      auto rows = SelectOn(conn, m, spec, scope);
      if (!rows) return Fail(rows.error());
      result.rows = std::move(*rows);
    }
    if (spec.count) {
      SqlText q;
      q.sql = fmt::format("SELECT COUNT(*) FROM {}", m.table);
      AppendWhere(m, spec.filters, spec.text, scope, q);
      FieldType types[] = {FieldType::kInt};
      auto c = conn.Query(q.sql, q.params, types, [&](std::vector<Value>& row) {
        result.found = std::get<int64_t>(row[0]);
      });
      if (!c) return c;
    }
    for (const auto& name : spec.facets) {
      const Field& f = *m.FindField(name);
      SqlText q;
      q.sql = fmt::format("SELECT {}, COUNT(*) FROM {}", f.name, m.table);
      AppendWhere(m, spec.filters, spec.text, scope, q);
      q.sql += fmt::format(" GROUP BY {} ORDER BY 2 DESC, 1 ASC LIMIT ?", f.name);
      q.params.emplace_back(int64_t{spec.facet_limit});
      FieldType types[] = {f.type, FieldType::kInt};
      auto& counts = result.facets[name];
      auto c = conn.Query(q.sql, q.params, types, [&](std::vector<Value>& row) {
        counts.push_back({model::ValueToText(f, row[0]), std::get<int64_t>(row[1])});
      });
      if (!c) return c;
    }
    for (const auto& name : spec.stats) {
      SqlText q;
      q.sql = fmt::format("SELECT MIN({0}), MAX({0}), SUM({0}), AVG({0}), COUNT({0}) FROM {1}",
                          name, m.table);
      AppendWhere(m, spec.filters, spec.text, scope, q);
      FieldType types[] = {FieldType::kReal, FieldType::kReal, FieldType::kReal, FieldType::kReal,
                           FieldType::kInt};
      FieldStats& s = result.stats[name];
      auto c = conn.Query(q.sql, q.params, types, [&](std::vector<Value>& row) {
        auto get = [](const Value& v) -> std::optional<double> {
          double d;
          if (model::AsDouble(v, &d)) return d;
          return std::nullopt;
        };
        s.min = get(row[0]);
        s.max = get(row[1]);
        s.sum = get(row[2]);
        s.mean = get(row[3]);
        s.count = std::get<int64_t>(row[4]);
      });
      if (!c) return c;
    }
    return Ok();
  });
  if (!st) return Fail(st.error());
  return result;
}

Result<Record> Store::Patch(const Model& m, const std::string& key,
                            const std::vector<std::pair<std::string, Value>>& patch,
                            const Scope& scope) {
  for (const auto& [name, value] : patch) {
    const Field* f = m.FindField(name);
    if (f == nullptr || !f->Has(model::kEditable)) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("{}: field \"{}\" is not editable", m.name, name.substr(0, 64)));
    }
  }
  auto existing = Get(m, key, scope);
  if (!existing) return existing;
  auto n = Update(m, {Filter::Eq("key", key)}, patch);
  if (!n) return Fail(n.error());
  auto updated = Get(m, key, scope);
  if (!updated) return updated;
  // Live views hear about admin edits; a failed append does not undo the edit.
  (void)AppendChanges({ChangeOf(*updated, "update", Now())});
  return updated;
}

Result<int64_t> Store::ApplyRetention(const Model& m, Timestamp cutoff) {
  if (m.partition_field.empty()) {
    return Fail(ErrorCode::kInvalidArgument, fmt::format("{}: not a partitioned model", m.name));
  }
  int64_t cutoff_ns = ToUnixNanos(cutoff);
  int64_t removed = 0;
  auto st = WithConnection([&](SqlConnection& conn) -> Status {
    if (conn.dialect() == Dialect::kPostgres) {
      // Whole months before the cutoff go by dropping their partitions (cheap, no bloat).
      std::vector<std::string> partitions;
      FieldType types[] = {FieldType::kString};
      Value p[] = {m.table};
      auto q = conn.Query(
          "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class "
          "parent ON parent.oid = i.inhparent WHERE parent.relname = ?",
          p, types,
          [&](std::vector<Value>& row) { partitions.push_back(std::get<std::string>(row[0])); });
      if (!q) return q;
      for (const auto& name : partitions) {
        // Names are {table}_yYYYYmMM: the month ends before the cutoff when the next month's
        // start is at or before it.
        int y = 0, mo = 0;
        if (std::sscanf(name.c_str() + m.table.size(), "_y%4dm%2d", &y, &mo) != 2) continue;
        using namespace std::chrono;
        auto next = sys_days{(year{y} / month{static_cast<unsigned>(mo)} + months{1}) / 1};
        if (duration_cast<nanoseconds>(next.time_since_epoch()).count() > cutoff_ns) continue;
        FieldType count_type[] = {FieldType::kInt};
        auto c = conn.Query(fmt::format("SELECT COUNT(*) FROM {}", name), {}, count_type,
                            [&](std::vector<Value>& row) { removed += std::get<int64_t>(row[0]); });
        if (!c) return c;
        auto d = conn.Exec(fmt::format("DROP TABLE {}", name));
        if (!d) return Fail(d.error());
      }
    }
    auto d = DeleteOn(conn, m, {Filter::Less(m.partition_field, cutoff_ns)});
    if (!d) return Fail(d.error());
    removed += *d;
    return Ok();
  });
  if (!st) return Fail(st.error());
  return removed;
}

Status Store::Writer::Upsert(const Model& m, std::span<const Record> records) {
  return UpsertOn(conn_, m, records);
}
Status Store::Writer::UpsertAdding(const Model& m, std::span<const Record> records,
                                   std::span<const int> add_fields) {
  return UpsertOn(conn_, m, records, std::nullopt, add_fields);
}
Status Store::Writer::UpsertSetting(const Model& m, std::span<const Record> records,
                                    std::span<const std::string> fields) {
  return UpsertOn(conn_, m, records, fields);
}
Result<int64_t> Store::Writer::Update(
    const Model& m, const std::vector<Filter>& where,
    const std::vector<std::pair<std::string, Value>>& assignments) {
  return UpdateOn(conn_, m, where, assignments);
}
Result<int64_t> Store::Writer::UpdateFields(const Model& m, std::span<const int> fields,
                                            std::span<const Record> records) {
  return UpdateFieldsOn(conn_, m, fields, records);
}
Result<int64_t> Store::Writer::UpdateFieldsFlat(const Model& m, std::span<const int> fields,
                                                std::span<const Value> rows) {
  return UpdateFieldsFlatOn(conn_, m, fields, rows);
}
void Store::Writer::AppendUpdateRow(const Model& m, std::span<const int> fields, Record&& record,
                                    std::vector<Value>* out) {
  for (int f : fields) out->push_back(std::move(record.values[static_cast<size_t>(f)]));
  for (int f : MatchFields(m)) out->push_back(std::move(record.values[static_cast<size_t>(f)]));
}
Result<int64_t> Store::Writer::Delete(const Model& m, const std::vector<Filter>& where) {
  return DeleteOn(conn_, m, where);
}
Result<std::vector<Record>> Store::Writer::Select(const Model& m, const QuerySpec& spec) {
  if (auto st = ValidateQuery(m, spec); !st) return Fail(st.error());
  return SelectOn(conn_, m, spec, Scope::All());
}
Result<std::vector<Record>> Store::Writer::SelectAnyOf(const Model& m, QuerySpec spec,
                                                       const std::string& field,
                                                       std::span<const Value> values) {
  std::vector<Record> rows;
  spec.filters.push_back(Filter::Eq(field, Value{}));
  if (auto st = ValidateQuery(m, spec); !st) return Fail(st.error());
  for (size_t begin = 0; begin < values.size(); begin += kMaxAnyOfValues) {
    const size_t end = std::min(values.size(), begin + kMaxAnyOfValues);
    size_t padded = 1;
    while (padded < end - begin) padded *= 2;
    std::vector<Value>& list = spec.filters.back().values;
    list.assign(values.begin() + begin, values.begin() + end);
    list.resize(padded, values[end - 1]);
    auto chunk = SelectOn(conn_, m, spec, Scope::All());
    if (!chunk) return Fail(chunk.error());
    if (rows.empty()) {
      rows = std::move(*chunk);
    } else {
      std::move(chunk->begin(), chunk->end(), std::back_inserter(rows));
    }
  }
  return rows;
}

}  // namespace aitelemetry::store
