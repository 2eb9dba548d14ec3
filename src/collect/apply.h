// Applying a snapshot to the store: the entity rows of one hub at one evaluation time, what
// vanished marked gone, allocations and health events opened and closed, and the hub's sync
// bookkeeping. All inside the caller's transaction, so a failure leaves the store as it was.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "collect/hub_mirror.h"
#include "collect/snapshot.h"
#include "collect/sync_changes.h"
#include "collect/write_behind.h"
#include "core/result.h"
#include "core/time.h"
#include "store/store.h"

namespace aitelemetry::collect {

struct ApplyCounts {
  int64_t entities = 0;  // entities in the snapshot (clusters, nodes, projects, GPUs, slices)
  int64_t gone = 0;      // rows newly marked gone
  int64_t stale = 0;     // rows newly marked stale (their node's exporter failed)
  int64_t touched = 0;   // open allocations touched by key (when some node was unreachable)
  int64_t allocations_opened = 0;
  int64_t allocations_closed = 0;
  int64_t events_opened = 0;
  int64_t events_closed = 0;
};

// Reads the hub row of `hub` inside `w`; nullopt when there is none yet.
[[nodiscard]] Result<std::optional<model::Record>> ReadHub(store::Store::Writer& w,
                                                           const std::string& hub);

// Makes `mirror` describe `hub` as stored: keeps it when it was loaded for `hub` and the hub
// row's last_sync_at is the one it wrote last, else loads it.
[[nodiscard]] Status EnsureMirror(store::Store::Writer& w, const std::string& hub,
                                  HubMirror& mirror);

// Writes `snap` as the state of its hub at `at`:
//  - upserts the hub (last_sync_at = last_sync_ok_at = at, last_error and stale_since cleared,
//    usage_through as given) and every cluster, node, project, GPU and slice with
//    last_seen_at = at, gone_at = stale_since = null and the state from its readings: a unit is
//    `active` when its activity is above zero, `allocated-idle` when held with activity zero,
//    `idle` when free with activity zero or unknown, and null (unknown) when held with unknown
//    activity; a MIG parent takes the most active state of its slices; last_active_at is `at`
//    when active, else the stored value;
//  - marks the hub's entities that are not in `snap` and not gone as gone (gone_at = at);
//  - keeps an open allocation (same device, pod and container) open, opens new ones with
//    started_at = at and closes those no longer seen (ended_at = at, state closed);
//  - opens a health event for a non-zero XID code or remapped-row count, keeps it while the same
//    code holds, and ends it (ended_at = at) when it clears;
//  - adds to `changes` (nullable) the entities inserted, gone, or whose state or holder changed,
//    and touches every model that has entities (see ChangeBatch).
// Only what changed since `mirror` is written (see HubMirror), and `mirror` describes the store
// afterwards. kAborted when the store turns out not to match the mirror (a row it knows is
// missing): the caller rolls back, clears the mirror and may retry.
// With `write_behind` the writes run on its thread while the rows are built (it is drained before
// this returns), and the caller must have called EnsureMirror in this transaction before it
// queued any job; without, EnsureMirror is called first and writes run inline.
// Requires: `w` belongs to an open transaction; on any error the caller clears `mirror`.
[[nodiscard]] Result<ApplyCounts> ApplySnapshot(store::Store::Writer& w, const Snapshot& snap,
                                                Timestamp at,
                                                std::optional<Timestamp> usage_through,
                                                HubMirror& mirror, ChangeBatch* changes,
                                                WriteBehind* write_behind = nullptr);

// Records a failed sync of `hub` started at `at`: the hub row gets last_sync_at = at and
// last_error = `error` (created if missing), and every entity of the hub that is not gone and
// not already stale gets stale_since = the hub's last_sync_ok_at. Values are left as they were.
[[nodiscard]] Status RecordSyncFailure(store::Store& store, const std::string& hub, Timestamp at,
                                       const std::string& error);

}  // namespace aitelemetry::collect
