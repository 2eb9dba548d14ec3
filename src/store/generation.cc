#include "store/generation.h"

#include <sqlite3.h>

#include <chrono>
#include <thread>

#include <fmt/format.h>

namespace aitelemetry::store {

Result<std::unique_ptr<SqliteGeneration>> SqliteGeneration::Open(const std::string& path) {
  if (path.empty() || path == ":memory:" || path.starts_with("file::memory:")) {
    return Fail(ErrorCode::kFailedPrecondition,
                "an in-memory SQLite database has no generation another connection can see");
  }
  sqlite3* db = nullptr;
  // Read-write so that the WAL index can be attached even when this is the first connection;
  // this connection never writes (a write of its own would not change its data_version).
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  sqlite3_stmt* stmt = nullptr;
  if (rc == SQLITE_OK) rc = sqlite3_prepare_v2(db, "PRAGMA data_version", -1, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = fmt::format("sqlite: generation: cannot open {}: {}", path,
                                  db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_finalize(stmt);
    sqlite3_close_v2(db);
    return Fail(ErrorCode::kUnavailable, msg);
  }
  sqlite3_busy_timeout(db, 0);  // Current() decides whether to wait
  return std::unique_ptr<SqliteGeneration>(new SqliteGeneration(db, stmt));
}

SqliteGeneration::~SqliteGeneration() {
  sqlite3_finalize(stmt_);
  sqlite3_close_v2(db_);
}

Result<int64_t> SqliteGeneration::Current(bool may_wait) {
  std::lock_guard lock(mu_);
  for (int attempt = 0;; ++attempt) {
    int rc = sqlite3_step(stmt_);
    int64_t version = rc == SQLITE_ROW ? sqlite3_column_int64(stmt_, 0) : 0;
    // Reset at once: the statement's read transaction must not hold back WAL checkpoints.
    sqlite3_reset(stmt_);
    if (rc == SQLITE_ROW) return version;
    int primary = rc & 0xff;
    if ((primary == SQLITE_BUSY || primary == SQLITE_LOCKED) && may_wait && attempt < 1000) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    return Fail(ErrorCode::kUnavailable, fmt::format("sqlite: generation: {}", sqlite3_errstr(rc)));
  }
}

}  // namespace aitelemetry::store
