#include "collect/hub_syncer.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <algorithm>
#include <chrono>
#include <utility>

#include <fmt/format.h>

#include "collect/sync_changes.h"
#include "collect/sync_error.h"
#include "core/redact.h"

namespace aitelemetry::collect {
namespace {

using store::Filter;

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

HubSyncer::HubSyncer(HubSyncOptions options, store::Store& store,
                     std::unique_ptr<SnapshotSource> source, SyncMetrics* metrics)
    : options_(std::move(options)), store_(store), source_(std::move(source)), metrics_(metrics) {
  if (options_.default_cluster.empty()) options_.default_cluster = options_.hub;
}

Timestamp HubSyncer::GridTime(Timestamp now, Nanos interval) {
  if (interval.count() <= 0) return now;
  auto since = now.time_since_epoch();
  return Timestamp(since - since % interval);
}

Result<SyncReport> HubSyncer::SyncOnce(Timestamp at) {
  const auto start = std::chrono::steady_clock::now();
  const std::string& hub = options_.hub;
  SyncReport report;
  report.at = at;
  // `e` goes back to the caller (for the log) with URLs masked; `for_readers` is what the hub's
  // readers see in last_error (see sync_error.h).
  auto fail = [&](const Error& e, const std::string& for_readers) -> Result<SyncReport> {
    std::string message = RedactUrlsIn(fmt::format("hub {}: {}", hub, e.message));
    if (metrics_) metrics_->errors.Add({hub}, 1);
    if (auto st = RecordSyncFailure(store_, hub, at, fmt::format("hub {}: {}", hub, for_readers));
        !st) {
      message += fmt::format(" (and recording the failure failed: {})", st.error().message);
    }
    if (metrics_) metrics_->duration.Observe({hub}, SecondsSince(start));
    return Fail(e.code, message);
  };
  auto source_failed = [&](const Error& e) {
    return fail(e, SyncErrorForReaders(e, source_->Describe()));
  };
  auto store_failed = [&](const Error& e) {
    return fail(e, fmt::format("the store failed ({})", ErrorCodeName(e.code)));
  };

  // The hub's spacing, worked out once per hour of `at` from the hour before: the snapshot then
  // shows only samples less than one spacing old (a spacing merely assumed from the interval
  // is not applied: it would hide a hub that samples less often than we sync).
  if (source_->has_history() && ToUnixNanos(FloorToHour(at)) != live_spacing_hour_) {
    auto spacing = SpacingOf(at - std::chrono::hours(1), at);
    if (!spacing) return source_failed(spacing.error());
    live_spacing_ = *spacing;
    const bool known = !spacing->assumed || options_.spacing.count() > 0;
    source_->set_fresh_within(known ? spacing->value : Nanos(0));
    // An assumed spacing is worked out again at the next sync, once samples have arrived.
    if (!spacing->assumed) live_spacing_hour_ = ToUnixNanos(FloorToHour(at));
  }
  report.spacing = live_spacing_;

  Snapshot snap;
  {
    Mapper mapper(hub, options_.default_cluster);
    // A fleet changes little between syncs: room for what the last one found, and a little more.
    mapper.Reserve(last_size_.nodes + last_size_.nodes / 64, last_size_.gpus + last_size_.gpus / 64,
                   last_size_.slices + last_size_.slices / 64);
    if (auto st = source_->Collect(at, &mapper); !st) return source_failed(st.error());
    snap = mapper.Finish();
  }
  if (live_spacing_.value.count() > 0) {
    snap.spacing_seconds = std::chrono::duration<double>(live_spacing_.value).count();
    snap.spacing_assumed = live_spacing_.assumed;
  }
  last_size_ = {snap.nodes.size(), snap.gpus.size(), snap.slices.size()};
  report.collect_seconds = SecondsSince(start);
  if (snap.series == 0) {
    // An empty answer is far likelier a wrong URL, tenant or lookback than a hub whose every GPU
    // vanished at once; failing keeps the last state (stale) instead of marking it all gone.
    const std::string empty = fmt::format("{} returned no series at {}",
                                          RedactUrlsIn(source_->Describe()), FormatRfc3339(at));
    return fail(Error{ErrorCode::kUnavailable, empty}, empty);
  }
  report.series = snap.series;
  report.gpus = snap.gpus.size();
  report.slices = snap.slices.size();
  if (metrics_) metrics_->series.Add({hub}, static_cast<double>(snap.series));

  // Catch up after downtime before counting this sample.
  std::optional<Timestamp> counted;
  {
    auto row = store_.Get(*model::FindModel("hub"), model::HubKey(hub), store::Scope::All());
    if (row) {
      if (auto* v = std::get_if<int64_t>(&row->Get("usage_through"))) {
        counted = Timestamp(Nanos(*v));
      }
    } else if (row.error().code != ErrorCode::kNotFound) {
      return store_failed(row.error());
    }
  }
  if (counted && at - *counted > options_.interval && source_->has_history()) {
    Timestamp from = std::max(*counted + options_.interval, at - options_.max_catch_up);
    auto caught = Backfill(from, at);
    if (!caught) return source_failed(caught.error());
    report.caught_up_hours = caught->hours;
    gaps_.Clear();  // the missed time is rebuilt, not unobserved
  }
  if (counted && at - *counted > options_.interval && !source_->has_history()) {
    // No history to rebuild from (exporters): the missed time is unobserved (GapTracker).
    report.unobserved_seconds =
        std::chrono::duration<double>(at - *counted - options_.interval).count();
  }

  const bool count_usage = !counted || at > *counted;
  const auto store_start = std::chrono::steady_clock::now();
  const model::Model& usage_model = *model::FindModel("usage");
  Status st = Ok();
  // A mirror that no longer matches the store (kAborted) is reloaded and the write tried again.
  for (int attempt = 0; attempt < 2; ++attempt) {
    st = store_.Transaction([&](store::Store::Writer& w) -> Status {
      if (auto s = EnsureMirror(w, hub, mirror_); !s) return s;
      // Rows are written on a second thread while the next ones are built (see WriteBehind).
      WriteBehind wb(options_.write_behind, 2);
      std::optional<Timestamp> through = counted;
      if (count_usage) {
        // The store keeps the hour's sums: each row adds this sample's share to its stored row.
        std::vector<model::Record> batch;
        auto submit = [&]() -> Status {
          return wb.Submit([&w, &usage_model, rows = std::move(batch)] {
            return w.UpsertAdding(usage_model, rows, UsageAccumulator::SumFields());
          });
        };
        (void)gaps_.TakeFound();  // of a failed attempt: found again below
        auto s = ForEachUsageRow(snap, at, options_.interval, &energy_, &gaps_,
                                 [&](model::Record&& r) -> Status {
                                   batch.push_back(std::move(r));
                                   if (batch.size() < 500) return Ok();
                                   auto st = submit();
                                   batch = {};
                                   batch.reserve(500);
                                   return st;
                                 });
        if (s && !batch.empty()) s = submit();
        // The gaps found, each a "gap" row: the hub's missed syncs, or the device alone missing.
        if (s) {
          std::vector<GapTracker::Found> missed_syncs, missing, unreachable;
          for (auto& f : gaps_.TakeFound()) {
            const bool hub_missed =
                report.unobserved_seconds > 0 && counted && f.from == *counted + options_.interval;
            const bool node_missed = unreachable_nodes_.contains(f.cluster + "/" + f.node);
            (hub_missed    ? missed_syncs
             : node_missed ? unreachable
                           : missing)
                .push_back(std::move(f));
          }
          auto rows = GapRecords(hub, missed_syncs, "sync failed");
          for (auto& r : GapRecords(hub, missing, "device missing")) rows.push_back(std::move(r));
          for (auto& r : GapRecords(hub, unreachable, "exporter unreachable")) {
            rows.push_back(std::move(r));
          }
          if (!rows.empty()) {
            s = wb.Submit(
                [&w, rows = std::move(rows)] { return w.Upsert(*model::FindModel("gap"), rows); });
          }
        }
        if (!s) {
          (void)wb.Drain();
          return s;
        }
        through = at;
      }
      // Live views hear of state and holder changes, found against the mirror.
      ChangeBatch changes;
      auto counts = ApplySnapshot(w, snap, at, through, mirror_, &changes, &wb);
      if (!counts) return Fail(counts.error());
      report.counts = *counts;
      return w.AppendChanges(changes.Finish(hub, at));
    });
    if (st) break;
    mirror_.Clear();
    if (st.error().code != ErrorCode::kAborted) break;
  }
  if (!st) return store_failed(st.error());
  mirror_.Committed(ToUnixNanos(at));
  // Nodes whose exporter failed are remembered until they answer again, so that the gaps their
  // devices show then are put down to the exporter.
  for (const NodeEntry& node : snap.nodes) {
    unreachable_nodes_.erase(snap.clusters[node.cluster].name + "/" + node.name);
  }
  for (const UnreachableNode& n : snap.unreachable) {
    unreachable_nodes_.insert(n.cluster + "/" + n.node);
  }
  report.unreachable_nodes = snap.unreachable.size();
  // The snapshot (~100 MiB at 100,000 GPUs) is not needed until the next sync: its memory goes
  // back to the system, so between syncs the worker's resident set is what it keeps.
  snap = Snapshot{};
#ifdef __GLIBC__
  malloc_trim(0);
#endif
  report.store_seconds = SecondsSince(store_start);
  report.usage_counted = count_usage;
  report.seconds = SecondsSince(start);
  if (metrics_) {
    metrics_->duration.Observe({hub}, report.seconds);
    metrics_->last_success.Set({hub}, ToUnixSeconds(at));
  }
  return report;
}

Result<Spacing> HubSyncer::SpacingOf(Timestamp from, Timestamp to) {
  auto probed = source_->ProbeSpacing(from, to);
  if (!probed) return Fail(probed.error());
  if (*probed) {
    last_spacing_ = **probed;
    return Spacing{**probed, false};
  }
  if (options_.spacing.count() > 0) return Spacing{options_.spacing, true};
  if (last_spacing_.count() > 0) return Spacing{last_spacing_, true};
  return Spacing{options_.interval, true};
}

Status HubSyncer::RebuildHour(Timestamp hour, Timestamp to, SampleGrid grid, EnergyTracker* energy,
                              GapTracker* gaps, BackfillReport* report) {
  const Timestamp end = std::min(hour + std::chrono::hours(1), to);
  const Nanos step = grid.step;
  UsageAccumulator usage;
  if (end - hour >= step) {
    const Timestamp last = hour + ((end - hour - Nanos(1)) / step) * step;
    auto sets = source_->CollectRange(hour, last, step, grid.window);
    if (!sets) return Fail(sets.error());
    const int64_t start_ms = ToUnixMillis(hour);
    const int64_t step_ms = std::chrono::duration_cast<std::chrono::milliseconds>(step).count();
    const size_t points = static_cast<size_t>((last - hour) / step) + 1;
    // Sample indices of each set, bucketed by evaluation time.
    std::vector<std::vector<std::vector<uint32_t>>> buckets(sets->size());
    for (size_t f = 0; f < sets->size(); ++f) {
      buckets[f].resize(points);
      const auto& samples = (*sets)[f].samples();
      report->series += samples.size();
      for (uint32_t i = 0; i < samples.size(); ++i) {
        int64_t offset = samples[i].timestamp_ms - start_ms;
        if (offset < 0 || offset % step_ms != 0) continue;
        auto p = static_cast<size_t>(offset / step_ms);
        if (p < points) buckets[f][p].push_back(i);
      }
    }
    Mapper mapper(options_.hub, options_.default_cluster);
    for (size_t p = 0; p < points; ++p) {
      for (size_t f = 0; f < sets->size(); ++f) mapper.AddSamples((*sets)[f], buckets[f][p]);
      Snapshot snap = mapper.Finish();
      usage.Add(snap, hour + step * static_cast<int64_t>(p), step, energy, gaps);
    }
  }
  std::vector<model::Record> rows = usage.Records();
  report->rows += rows.size();
  const std::vector<model::Record> gap_list =
      GapRecords(options_.hub, gaps->TakeFound(), "no sample in history");
  const model::Model& m = *model::FindModel("usage");
  // Rows of earlier hours hold only the unobserved part of a gap that ended in this hour: they
  // add to those hours' rows, written before.
  const int64_t hour_ns = ToUnixNanos(hour);
  const int hour_field = m.FieldIndex("hour");
  auto earlier = std::stable_partition(rows.begin(), rows.end(), [&](const model::Record& r) {
    return std::get<int64_t>(r.values[hour_field]) == hour_ns;
  });
  std::vector<model::Record> gap_rows(std::make_move_iterator(earlier),
                                      std::make_move_iterator(rows.end()));
  rows.erase(earlier, rows.end());
  return store_.Transaction([&](store::Store::Writer& w) -> Status {
    auto gone = w.Delete(m, {Filter::Eq("hub", options_.hub), Filter::Eq("hour", hour_ns)});
    if (!gone) return Fail(gone.error());
    if (auto st = w.Upsert(m, rows); !st) return st;
    if (!gap_list.empty()) {
      if (auto st = w.Upsert(*model::FindModel("gap"), gap_list); !st) return st;
    }
    if (gap_rows.empty()) return Ok();
    return w.UpsertAdding(m, gap_rows, UsageAccumulator::SumFields());
  });
}

Result<BackfillReport> HubSyncer::Backfill(
    Timestamp from, Timestamp to, std::optional<Nanos> step,
    const std::function<void(const BackfillProgress&)>& progress) {
  if (from >= to) {
    return Fail(ErrorCode::kInvalidArgument, fmt::format("backfill: empty window {} .. {}",
                                                         FormatRfc3339(from), FormatRfc3339(to)));
  }
  if (step && (step->count() <= 0 || std::chrono::hours(1) % *step != Nanos(0) ||
               *step % std::chrono::milliseconds(1) != Nanos(0))) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("backfill: step {} must be whole milliseconds dividing an hour",
                            FormatDuration(*step)));
  }
  const auto start = std::chrono::steady_clock::now();
  BackfillReport report;
  EnergyTracker energy;
  GapTracker gaps;
  const Timestamp first = FloorToHour(from);
  const int total =
      static_cast<int>((to - first + std::chrono::hours(1) - Nanos(1)) / std::chrono::hours(1));
  for (Timestamp hour = first; hour < to; hour += std::chrono::hours(1)) {
    Spacing spacing{step.value_or(Nanos(0)), false};
    SampleGrid grid{spacing.value, spacing.value};
    if (!step) {
      auto probed = SpacingOf(hour, std::min(hour + std::chrono::hours(1), to));
      if (!probed) {
        return Fail(
            probed.error().code,
            RedactUrlsIn(fmt::format("hub {}: backfill of {}: sample spacing: {}", options_.hub,
                                     FormatRfc3339(hour), probed.error().message)));
      }
      spacing = *probed;
      grid = GridForSpacing(spacing.value);
    }
    if (report.min_spacing.count() == 0 || spacing.value < report.min_spacing) {
      report.min_spacing = spacing.value;
    }
    report.max_spacing = std::max(report.max_spacing, spacing.value);
    if (spacing.assumed) ++report.assumed_hours;
    if (auto st = RebuildHour(hour, to, grid, &energy, &gaps, &report); !st) {
      return Fail(st.error().code,
                  RedactUrlsIn(fmt::format("hub {}: backfill of {}: {}", options_.hub,
                                           FormatRfc3339(hour), st.error().message)));
    }
    ++report.hours;
    if (progress) progress({report.hours, total, SecondsSince(start), hour});
  }
  report.seconds = SecondsSince(start);
  return report;
}

}  // namespace aitelemetry::collect
