// One active worker at a time: a PostgreSQL session-level advisory lock held on a dedicated
// connection. When the holder dies its connection drops and the lock is released, so a waiting
// worker takes over at its next attempt. On SQLite (a single process by design) it always leads.
#pragma once

#include <memory>
#include <string>

#include "core/result.h"
#include "store/sql.h"

namespace aitelemetry::store {

class LeaderElection {
 public:
  // Opens the dedicated connection for `url`. `name` selects the lock (one per job, e.g. "worker").
  [[nodiscard]] static Result<std::unique_ptr<LeaderElection>> Create(const std::string& url,
                                                                      const std::string& name);
  ~LeaderElection();

  // Returns true when this process holds the lock (acquiring it if free). A lost connection is
  // reopened and the lock tried again; errors mean "not leader" and are returned for logging.
  [[nodiscard]] Result<bool> Acquire();

  // Releases the lock (and keeps the connection). Idempotent.
  void Release();

  bool is_leader() const { return leader_; }

 private:
  LeaderElection(std::string url, int64_t key) : url_(std::move(url)), key_(key) {}
  std::string url_;
  int64_t key_;
  std::unique_ptr<SqlConnection> conn_;
  bool leader_ = false;
};

}  // namespace aitelemetry::store
