#include "cli/sync.h"

#include <cstdio>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "collect/hub_config.h"
#include "core/time.h"
#include "store/store.h"

namespace aitelemetry::cli {
namespace {

struct Window {
  Timestamp from, to;
};

Result<Window> ParseWindow(const std::string& text) {
  auto dots = text.find("..");
  if (dots == std::string::npos) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("--backfill: want FROM..TO (RFC 3339), got \"{}\"", text));
  }
  auto from = ParseRfc3339(text.substr(0, dots));
  if (!from) return Fail(ErrorCode::kInvalidArgument, "--backfill: " + from.error().message);
  auto to = ParseRfc3339(text.substr(dots + 2));
  if (!to) return Fail(ErrorCode::kInvalidArgument, "--backfill: " + to.error().message);
  if (*from >= *to) {
    return Fail(ErrorCode::kInvalidArgument, "--backfill: FROM must be before TO");
  }
  return Window{*from, *to};
}

}  // namespace

int RunSync(const config::Config& c, const SyncCommand& command) {
  if (c.hubs.empty()) {
    fmt::print(stderr, "sync: no hubs configured\n");
    return 2;
  }
  std::optional<Window> window;
  if (!command.backfill.empty()) {
    auto w = ParseWindow(command.backfill);
    if (!w) {
      fmt::print(stderr, "sync: {}\n", w.error().message);
      return 2;
    }
    window = *w;
  }
  // Without --step each hour is read at the hub's own sample spacing (HubSyncer::Backfill).
  std::optional<Nanos> step;
  if (!command.step.empty()) {
    auto s = ParseDuration(command.step);
    if (!s || s->count() <= 0) {
      fmt::print(stderr, "sync: --step: {}\n", s ? "must be positive" : s.error().message);
      return 2;
    }
    step = *s;
  }
  auto store = store::Store::Open({c.db, 2, true});
  if (!store) {
    fmt::print(stderr, "sync: store: {}\n", store.error().message);
    return 1;
  }
  int rc = 0;
  const Timestamp now = Now();
  for (const auto& hub : c.hubs) {
    auto syncer = collect::MakeHubSyncer(hub, c.interval, **store, nullptr);
    if (!syncer) {
      fmt::print(stderr, "sync: {}\n", syncer.error().message);
      rc = std::max(rc, 2);
      continue;
    }
    if (window) {
      int last_reported = -1;
      auto progress = [&](const collect::BackfillProgress& p) {
        const int tenth = p.hours_done * 10 / std::max(1, p.hours_total);
        if (p.hours_done % 24 != 0 && tenth == last_reported && p.hours_done != p.hours_total) {
          return;
        }
        last_reported = tenth;
        fmt::print("sync: hub {}: backfill {}/{} hours ({:.0f}%), through {}, {:.1f} hours/s\n",
                   hub.name, p.hours_done, p.hours_total, 100.0 * p.hours_done / p.hours_total,
                   FormatRfc3339(p.hour + std::chrono::hours(1)),
                   p.hours_done / std::max(1e-9, p.elapsed_seconds));
        std::fflush(stdout);
      };
      auto r = (*syncer)->Backfill(window->from, window->to, step, progress);
      if (!r) {
        fmt::print(stderr, "sync: hub {} failed: {}\n", hub.name, r.error().message);
        rc = std::max(rc, r.error().code == ErrorCode::kInvalidArgument ? 2 : 1);
        continue;
      }
      fmt::print("sync: hub {}: backfilled {} hours ({} rows, {} samples) in {:.2f} s\n", hub.name,
                 r->hours, r->rows, r->series, r->seconds);
      fmt::print("sync: hub {}: sample spacing {}{}{}\n", hub.name, FormatDuration(r->min_spacing),
                 r->max_spacing != r->min_spacing ? " to " + FormatDuration(r->max_spacing) : "",
                 r->assumed_hours > 0
                     ? fmt::format(" (assumed in {} hours with too few samples)", r->assumed_hours)
                     : std::string(step ? " (--step)" : ""));
      continue;
    }
    auto r = (*syncer)->SyncOnce(collect::HubSyncer::GridTime(now, c.interval));
    if (!r) {
      fmt::print(stderr, "sync: hub {} failed: {}\n", hub.name, r.error().message);
      rc = std::max(rc, 1);
      continue;
    }
    fmt::print(
        "sync: hub {} at {}: {} series, {} GPUs, {} slices, {} gone, {} allocations opened, {} "
        "closed, {:.2f} s\n",
        hub.name, FormatRfc3339(r->at), r->series, r->gpus, r->slices, r->counts.gone,
        r->counts.allocations_opened, r->counts.allocations_closed, r->seconds);
  }
  return rc;
}

}  // namespace aitelemetry::cli
