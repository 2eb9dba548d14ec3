// The change feed: an append-only log of entity changes (table change_log) that live views (SSE)
// poll with the reader's scope applied in SQL. Writers append only what a watcher must hear about
// (state or holder changes, admin edits, and at most one summary per model per sync), never one
// row per refreshed reading, so a 100,000-GPU sync every 30 s writes a handful of rows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/time.h"
#include "model/record.h"

namespace aitelemetry::store {

// The PostgreSQL notification channel appending changes signals (payload: the last seq).
inline constexpr const char* kChangeChannel = "aitelemetry_changes";

// One change. `hub`/`cluster`/`project` place it in the grant tree: a reader sees it only when its
// scope covers them (a change without a project is invisible to project-only grants).
struct Change {
  int64_t seq = 0;    // assigned by the store on append: 1, 2, 3, ... in commit order
  std::string model;  // the changed entity's model ("gpu"), or the model a summary is about
  std::string key;    // the entity's key; empty for a summary of a whole sync
  std::string op;     // "insert", "update", "state", "delete", "sync" (a summary), ...
  std::string hub;    // scope columns of the entity
  std::string cluster;
  std::string project;
  Timestamp at{};  // when the change was applied
};

// Returns the change of `op` at `at` for `record`, its scope columns filled from the record's
// model.
Change ChangeOf(const model::Record& record, std::string op, Timestamp at);

// The internal model that describes change_log (never served: Model::internal is true). It is not
// in model::Models(); the store creates its table beside the registry's.
const model::Model& ChangeModel();

}  // namespace aitelemetry::store
