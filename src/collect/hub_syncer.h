// HubSyncer: one hub's collection cycle (snapshot -> mapping -> one store transaction) and the
// rebuilding of its usage history from range queries.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>

#include "collect/apply.h"
#include "collect/hub_mirror.h"
#include "collect/snapshot_source.h"
#include "collect/spacing.h"
#include "collect/sync_metrics.h"
#include "collect/usage.h"
#include "core/result.h"
#include "core/time.h"
#include "store/store.h"

namespace aitelemetry::collect {

struct HubSyncOptions {
  std::string hub;
  std::string default_cluster;                // cluster of series without a `cluster` label
  Nanos interval = std::chrono::seconds(30);  // the sync period, and each live sample's length
  // The hub's sample spacing when a window has too few samples to work it out (hubs[].spacing);
  // zero: the last value worked out, else the interval.
  Nanos spacing{0};
  // After downtime, at most this much missed history is rebuilt by a sync (older gaps need
  // `sync --backfill`).
  Nanos max_catch_up = std::chrono::hours(24);
  // Write rows on a second thread while the next are built (both cores busy); false writes
  // inline (one core).
  bool write_behind = true;
};

struct SyncReport {
  Timestamp at;
  size_t series = 0;
  size_t gpus = 0;
  size_t slices = 0;
  ApplyCounts counts;
  bool usage_counted = false;  // false when `at` was already counted (a repeated sync)
  int caught_up_hours = 0;     // hours rebuilt after a gap
  Spacing spacing;             // the hub's sample spacing used (zero: unknown, none applied)
  // Seconds missed before this sync that no history could rebuild (an exporter hub after failed
  // syncs): from the end of the last counted sample to `at`. Each device seen again adds its
  // own missed time to unobserved_seconds of its usage rows.
  double unobserved_seconds = 0;
  // Nodes whose exporter failed this time (exporter hubs): their devices are stale, their time
  // unobserved, and the rest of the hub synced.
  size_t unreachable_nodes = 0;
  double seconds = 0;
  double collect_seconds = 0;  // querying, parsing and mapping the snapshot
  double store_seconds = 0;    // the store transaction (usage, entities, changes)
};

struct BackfillProgress {
  int hours_done = 0;
  int hours_total = 0;
  double elapsed_seconds = 0;
  Timestamp hour;  // the hour just written
};

struct BackfillReport {
  int hours = 0;
  size_t rows = 0;
  size_t series = 0;
  double seconds = 0;
  // The spacings the hours were read with (worked out per hour; equal to the step when one was
  // given), smallest and largest, and how many hours had to assume one.
  Nanos min_spacing{0}, max_spacing{0};
  int assumed_hours = 0;
};

// Thread-compatible: one sync or backfill at a time per HubSyncer.
class HubSyncer {
 public:
  // `store` and `metrics` (nullable) must outlive the syncer.
  HubSyncer(HubSyncOptions options, store::Store& store, std::unique_ptr<SnapshotSource> source,
            SyncMetrics* metrics = nullptr);

  // Returns the evaluation time for a sync at wall time `now`: now rounded down to a multiple
  // of the interval, so every sample sits on the grid backfills use.
  static Timestamp GridTime(Timestamp now, Nanos interval);

  // Runs one cycle at evaluation time `at`: collects, maps and applies the snapshot in one
  // transaction (see ApplySnapshot) and adds the sample [at, at + interval) to the usage of
  // hour(at) unless the hub's usage_through is already >= at (so a repeated sync counts once).
  // Once per hour of `at` the hub's sample spacing s is worked out from the hour before
  // (ProbeSpacing; else assumed as in Backfill) and the snapshot then shows only series whose
  // newest sample is less than s old: a sample that Prometheus' lookback repeats after its series
  // ended is not counted past its spacing, whether the interval is shorter or longer than s.
  // A device whose previous sample ended before `at` (missed syncs of a hub without history, or
  // the device missing from the answers) adds the time between as unobserved_seconds and a "gap"
  // row (GapTracker).
  // When the last counted sample is more than one interval before `at` and the source keeps
  // history, the missed hours (up to max_catch_up) are first rebuilt with Backfill.
  // A collection without a single series counts as a failure (kUnavailable), so a wrong URL or
  // tenant never marks a whole hub gone.
  // On failure the store records it (RecordSyncFailure), the hub's entities keep their values
  // and turn stale, and the error is returned naming the hub.
  [[nodiscard]] Result<SyncReport> SyncOnce(Timestamp at);

  // Rebuilds the usage rows of every hour overlapping [from, to) from range queries, one hour per
  // transaction, each replacing that hour's rows of this hub. Idempotent. `progress` (may be
  // empty) is called after each hour.
  //
  // Without `step`, each hour is read at the hub's own sample spacing s, worked out from that
  // hour's raw sample timestamps (ProbeSpacing): points every GridForSpacing(s).step, each seeing
  // the series whose newest sample is less than s old, so each sample counts for s and time no
  // sample covers is left out (unobserved). An hour with fewer than two samples to go by assumes
  // options().spacing, else the last spacing worked out, else the interval. With `step` (an
  // override), every hour is read at that step as if it were the spacing. Time a device has no
  // sample between two of its samples is unobserved (usage.unobserved_seconds, a "gap" row).
  // Errors: kInvalidArgument for an empty window or a step that does not divide an hour;
  // the source's errors (kFailedPrecondition without history); store errors. Hours written
  // before an error stay written.
  [[nodiscard]] Result<BackfillReport> Backfill(
      Timestamp from, Timestamp to, std::optional<Nanos> step = std::nullopt,
      const std::function<void(const BackfillProgress&)>& progress = {});

  const HubSyncOptions& options() const { return options_; }
  const SnapshotSource& source() const { return *source_; }

 private:
  // Returns the spacing of [from, to): worked out, else assumed (see Backfill).
  Result<Spacing> SpacingOf(Timestamp from, Timestamp to);
  Status RebuildHour(Timestamp hour, Timestamp to, SampleGrid grid, EnergyTracker* energy,
                     GapTracker* gaps, BackfillReport* report);

  HubSyncOptions options_;
  store::Store& store_;
  std::unique_ptr<SnapshotSource> source_;
  SyncMetrics* metrics_;
  EnergyTracker energy_;   // live counter readings between syncs
  GapTracker gaps_;        // what live samples covered, per device (unobserved time)
  HubMirror mirror_;       // what the last syncs wrote (see HubMirror)
  Nanos last_spacing_{0};  // the last spacing worked out (zero: none yet)
  // "cluster/node" of nodes whose exporter failed and has not answered since.
  std::unordered_set<std::string> unreachable_nodes_;
  Spacing live_spacing_;            // what live syncs use, worked out once per hour
  int64_t live_spacing_hour_ = -1;  // the hour (Unix nanos) live_spacing_ was worked out for
  struct {
    size_t nodes = 0, gpus = 0, slices = 0;
  } last_size_;  // of the last snapshot: room reserved for the next
};

}  // namespace aitelemetry::collect
