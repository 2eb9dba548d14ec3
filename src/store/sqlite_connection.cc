// SQLite backend: WAL mode, foreign keys on, a busy timeout, a 64 MiB page cache, prepared
// statements cached per text.
#include <sqlite3.h>

#include <unordered_map>

#include <fmt/format.h>

#include "store/sql.h"

namespace aitelemetry::store {
namespace {

class SqliteConnection final : public SqlConnection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  Dialect dialect() const override { return Dialect::kSqlite; }

  Result<int64_t> Exec(std::string_view sql, std::span<const Value> params) override {
    auto stmt = Prepare(sql, params);
    if (!stmt) return Fail(stmt.error());
    int rc;
    while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
    }
    sqlite3_reset(*stmt);
    if (rc != SQLITE_DONE) return Error(rc, sql);
    return static_cast<int64_t>(sqlite3_changes(db_));
  }

  Result<int64_t> ExecBatch(std::string_view sql, std::span<const Value> params,
                            size_t width) override {
    if (width == 0 || params.empty()) return int64_t{0};
    auto stmt = Prepare(sql, params.subspan(0, width));
    if (!stmt) return Fail(stmt.error());
    int64_t changed = 0;
    for (size_t i = 0; i < params.size(); i += width) {
      if (i > 0) {
        if (auto st = Bind(*stmt, params.subspan(i, width), sql); !st) return Fail(st.error());
      }
      int rc;
      while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
      }
      sqlite3_reset(*stmt);
      if (rc != SQLITE_DONE) return Error(rc, sql);
      changed += sqlite3_changes(db_);
    }
    return changed;
  }

  Status Query(std::string_view sql, std::span<const Value> params,
               std::span<const FieldType> types,
               const std::function<void(std::vector<Value>&)>& on_row) override {
    auto stmt = Prepare(sql, params);
    if (!stmt) return Fail(stmt.error());
    std::vector<Value> row(types.size());
    int rc;
    while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
      row.resize(types.size());  // the callback may have moved the vector away
      for (size_t i = 0; i < types.size(); ++i)
        row[i] = Column(*stmt, static_cast<int>(i), types[i]);
      on_row(row);
    }
    sqlite3_reset(*stmt);
    if (rc != SQLITE_DONE) return Error(rc, sql);
    return Ok();
  }

  Status Begin() override { return Simple("BEGIN IMMEDIATE"); }
  Status Commit() override { return Simple("COMMIT"); }
  void Rollback() override { sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr); }

  Result<std::vector<std::string>> Columns(std::string_view table) override {
    std::vector<std::string> out;
    FieldType types[] = {FieldType::kString};
    Value p[] = {std::string(table)};
    auto st = Query("SELECT name FROM pragma_table_info(?)", p, types,
                    [&](std::vector<Value>& row) { out.push_back(std::get<std::string>(row[0])); });
    if (!st) return Fail(st.error());
    return out;
  }

  Status Simple(const char* sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
    if (err != nullptr) sqlite3_free(err);
    if (rc != SQLITE_OK) return Error(rc, sql);
    return Ok();
  }

 private:
  tl::unexpected<aitelemetry::Error> Error(int rc, std::string_view sql) {
    std::string msg = fmt::format("sqlite: {} (in: {:.80})", sqlite3_errmsg(db_), sql);
    int primary = rc & 0xff;
    if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB)
      return Fail(ErrorCode::kDataLoss, msg);
    if (primary == SQLITE_CONSTRAINT) return Fail(ErrorCode::kAlreadyExists, msg);
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED || primary == SQLITE_CANTOPEN ||
        primary == SQLITE_IOERR || primary == SQLITE_FULL || primary == SQLITE_READONLY)
      return Fail(ErrorCode::kUnavailable, msg);
    return Fail(ErrorCode::kInternal, msg);
  }

  Result<sqlite3_stmt*> Prepare(std::string_view sql, std::span<const Value> params) {
    sqlite3_stmt* stmt = nullptr;
    auto it = cache_.find(std::string(sql));
    if (it != cache_.end()) {
      stmt = it->second;
      sqlite3_clear_bindings(stmt);
    } else {
      int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
      if (rc != SQLITE_OK) return Error(rc, sql);
      if (cache_.size() > 512) {
        for (auto& [k, s] : cache_) sqlite3_finalize(s);
        cache_.clear();
      }
      cache_.emplace(std::string(sql), stmt);
    }
    if (auto st = Bind(stmt, params, sql); !st) return Fail(st.error());
    return stmt;
  }

  // Binds `params` to `stmt`'s placeholders 1..n. Strings are not copied: every step follows a
  // bind of values that outlive it (Exec, ExecBatch and Query bind before they step).
  Status Bind(sqlite3_stmt* stmt, std::span<const Value> params, std::string_view sql) {
    for (size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i) + 1;
      const Value& v = params[i];
      int rc = SQLITE_OK;
      if (std::holds_alternative<std::monostate>(v)) {
        rc = sqlite3_bind_null(stmt, idx);
      } else if (auto* n = std::get_if<int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, idx, *n);
      } else if (auto* d = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(stmt, idx, *d);
      } else if (auto* s = std::get_if<std::string>(&v)) {
        rc = sqlite3_bind_text(stmt, idx, s->data(), static_cast<int>(s->size()), SQLITE_STATIC);
      } else if (auto* b = std::get_if<bool>(&v)) {
        rc = sqlite3_bind_int64(stmt, idx, *b ? 1 : 0);
      }
      if (rc != SQLITE_OK) return Error(rc, sql);
    }
    return Ok();
  }

  static Value Column(sqlite3_stmt* stmt, int i, FieldType type) {
    int t = sqlite3_column_type(stmt, i);
    if (t == SQLITE_NULL) return Value{};
    switch (type) {
      case FieldType::kString: {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
        return Value{std::string(p, sqlite3_column_bytes(stmt, i))};
      }
      case FieldType::kInt:
      case FieldType::kTime:
        return Value{static_cast<int64_t>(sqlite3_column_int64(stmt, i))};
      case FieldType::kReal:
        return Value{sqlite3_column_double(stmt, i)};
      case FieldType::kBool:
        return Value{sqlite3_column_int64(stmt, i) != 0};
    }
    return Value{};
  }

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace

Result<std::unique_ptr<SqlConnection>> ConnectSqlite(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg =
        fmt::format("sqlite: cannot open {}: {}", path, db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close_v2(db);
    return Fail(ErrorCode::kUnavailable, msg);
  }
  sqlite3_busy_timeout(db, 10000);
  auto conn = std::make_unique<SqliteConnection>(db);
  // A file that is not a database fails on its first read: the journal-mode pragma reads page 1.
  // Each connection keeps up to 8 MiB of pages (SQLite's default is 2 MiB). More buys nothing
  // measurable: the collector's 100,000-GPU sync took as long with 8, 16 and 64 MiB (2.5-2.8 s)
  // and only 4 MiB was slower, while each 64 MiB connection added 56 MiB to the resident set;
  // the pages it rereads come from the OS's file cache, and repeated reads of the API from its
  // response cache. (A memory map instead counts every page of the file it touches in the
  // process's resident set: +360 MiB in that sync.)
  // No connection checkpoints the write-ahead log as part of a commit: the store's checkpointer
  // thread does, after commits (see Store), so a large sync does not wait for the copy back.
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA foreign_keys=ON", "PRAGMA synchronous=NORMAL",
        "PRAGMA temp_store=MEMORY", "PRAGMA cache_size=-8192", "PRAGMA wal_autocheckpoint=0"}) {
    auto st = conn->Simple(pragma);
    if (!st) {
      return Fail(st.error().code == ErrorCode::kDataLoss ? ErrorCode::kDataLoss : st.error().code,
                  fmt::format("{}: {}", path, st.error().message));
    }
  }
  return std::unique_ptr<SqlConnection>(std::move(conn));
}

}  // namespace aitelemetry::store
