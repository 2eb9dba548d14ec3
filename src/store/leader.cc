#include "store/leader.h"

#include <fmt/format.h>

namespace aitelemetry::store {
namespace {

// FNV-1a: a stable 64-bit lock key from the job name.
int64_t LockKey(const std::string& name) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : "aitelemetry:" + name) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return static_cast<int64_t>(h);
}

}  // namespace

Result<std::unique_ptr<LeaderElection>> LeaderElection::Create(const std::string& url,
                                                               const std::string& name) {
  std::unique_ptr<LeaderElection> e(new LeaderElection(url, LockKey(name)));
  auto conn = Connect(url);
  if (!conn) return Fail(conn.error());
  e->conn_ = std::move(*conn);
  return e;
}

LeaderElection::~LeaderElection() { Release(); }

Result<bool> LeaderElection::Acquire() {
  if (!conn_) {
    auto conn = Connect(url_);
    if (!conn) {
      leader_ = false;
      return Fail(conn.error());
    }
    conn_ = std::move(*conn);
  }
  if (conn_->dialect() == Dialect::kSqlite) {
    leader_ = true;
    return true;
  }
  bool got = false;
  FieldType types[] = {FieldType::kBool};
  Value p[] = {key_};
  // Re-locking a held session lock succeeds and stacks; check first so the count stays at one.
  if (leader_) {
    auto st = conn_->Query(
        "SELECT COUNT(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND granted AND "
        "pid = pg_backend_pid() AND ((classid::bigint << 32) | objid::bigint) = ?",
        p, types, [&](std::vector<Value>& row) { got = std::get<bool>(row[0]); });
    if (st && got) return true;
    if (!st) {
      conn_.reset();  // the connection is gone, and the lock with it
      leader_ = false;
      return Fail(st.error());
    }
  }
  auto st = conn_->Query("SELECT pg_try_advisory_lock(?)", p, types,
                         [&](std::vector<Value>& row) { got = std::get<bool>(row[0]); });
  if (!st) {
    conn_.reset();
    leader_ = false;
    return Fail(st.error());
  }
  leader_ = got;
  return got;
}

void LeaderElection::Release() {
  if (conn_ && leader_ && conn_->dialect() == Dialect::kPostgres) {
    Value p[] = {key_};
    (void)conn_->Exec("SELECT pg_advisory_unlock(?)", p);
  }
  leader_ = false;
}

}  // namespace aitelemetry::store
