// The store's generation: a token that changes with every committed write to the database, by
// this process or any other (another replica, a CLI run, a test's second connection). A cache of
// read answers keys on it, so it never serves an answer older than the data.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "core/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace aitelemetry::store {

// SQLite: `PRAGMA data_version` on a dedicated connection that never writes. SQLite changes that
// value whenever another connection (in this process or any other) commits to the file, and
// reading it only looks at the WAL index in shared memory. Thread-safe (one mutex, held for the
// microseconds of the pragma).
class SqliteGeneration {
 public:
  // Opens the dedicated connection to the database file `path`. Errors: kUnavailable when it
  // cannot be opened; kFailedPrecondition for ":memory:" (each connection is its own database,
  // so no connection can see another's writes).
  [[nodiscard]] static Result<std::unique_ptr<SqliteGeneration>> Open(const std::string& path);
  ~SqliteGeneration();
  SqliteGeneration(const SqliteGeneration&) = delete;
  SqliteGeneration& operator=(const SqliteGeneration&) = delete;

  // Returns the current data version. Two calls return the same value only when no write
  // committed in between. With `may_wait` false the call never sleeps: kUnavailable when the
  // file is busy (a WAL restart in progress); with it, it retries for up to a second.
  [[nodiscard]] Result<int64_t> Current(bool may_wait);

 private:
  SqliteGeneration(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}

  std::mutex mu_;  // guards the use of db_ and stmt_
  sqlite3* const db_;
  sqlite3_stmt* const stmt_;
};

}  // namespace aitelemetry::store
