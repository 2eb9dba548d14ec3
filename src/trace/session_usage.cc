#include "trace/session_usage.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <numeric>
#include <set>
#include <unordered_map>
#include <utility>

#include "model/registry.h"

namespace aitelemetry::trace {
namespace {

using model::Record;
using model::Value;
using store::Filter;

// Rows of one session that count: a year of hours, far more than one session spans.
constexpr size_t kMaxRows = 24 * 366;

Filter Between(std::string field, Timestamp lower, Timestamp upper, bool upper_inclusive) {
  Filter f;
  f.field = std::move(field);
  f.kind = Filter::Kind::kRange;
  f.lower = ToUnixNanos(lower);
  f.upper = ToUnixNanos(upper);
  f.upper_inclusive = upper_inclusive;
  return f;
}

int64_t IntOf(const Record& row, const char* field) { return std::get<int64_t>(row.Get(field)); }

// Returns the distinct values of `field` over `windows`.
std::vector<Value> Distinct(std::span<const SessionWindow* const> windows,
                            std::string SessionWindow::*field) {
  std::set<std::string> seen;
  for (const SessionWindow* w : windows) seen.insert(w->*field);
  return {seen.begin(), seen.end()};
}

// Usage totals of the windows in `group` (those with a device and a positive length), written to
// `out[i]` for the window at `group[i]`; `observed[i]` says whether any row overlapped it.
Status AddUsage(store::Store::Writer& writer, std::span<const SessionWindow* const> group,
                std::span<SessionUsage> out, std::vector<bool>& observed) {
  std::vector<const SessionWindow*> wanted;
  for (const SessionWindow* w : group) {
    if (!w->device_key.empty() && w->end > w->start) wanted.push_back(w);
  }
  if (wanted.empty()) return Ok();
  Timestamp lower = FloorToHour(wanted.front()->start);
  Timestamp upper = wanted.front()->end;
  for (const SessionWindow* w : wanted) {
    lower = std::min(lower, FloorToHour(w->start));
    upper = std::max(upper, w->end);
  }
  // Rows of the devices' other holders come too (a device has few per hour); the project is
  // matched below, which keeps the statement text independent of how many projects there are.
  std::vector<Value> devices = Distinct(wanted, &SessionWindow::device_key);
  store::QuerySpec spec;
  spec.rows = std::numeric_limits<int64_t>::max();
  spec.filters = {Between("hour", lower, upper, false)};
  auto rows = writer.SelectAnyOf(*model::FindModel("usage"), spec, "device_key", devices);
  if (!rows) return Fail(rows.error());
  // Each (device, project) series in key order: the order the per-session query read it in.
  std::sort(rows->begin(), rows->end(),
            [](const Record& a, const Record& b) { return a.Key() < b.Key(); });
  std::unordered_map<std::string, std::vector<const Record*>> series;
  for (const Record& row : *rows) {
    if (model::IsNull(row.Get("project"))) continue;  // unallocated time: nobody's session
    series[row.GetString("device_key") + '\n' + row.GetString("project")].push_back(&row);
  }
  const Nanos hour = std::chrono::hours(1);
  for (size_t i = 0; i < group.size(); ++i) {
    const SessionWindow& window = *group[i];
    if (window.device_key.empty() || window.end <= window.start) continue;
    auto it = series.find(window.device_key + '\n' + window.project);
    if (it == series.end()) continue;
    const int64_t from = ToUnixNanos(FloorToHour(window.start));
    const int64_t to = ToUnixNanos(window.end);
    SessionUsage& usage = out[i];
    size_t taken = 0;
    for (const Record* row : it->second) {
      const int64_t begin_ns = IntOf(*row, "hour");
      if (begin_ns < from || begin_ns >= to) continue;
      if (++taken > kMaxRows) break;
      Timestamp begin{Nanos(begin_ns)};
      Timestamp overlap_begin = std::max(begin, window.start);
      Timestamp overlap_end = std::min(begin + hour, window.end);
      if (overlap_end <= overlap_begin) continue;
      double share = static_cast<double>((overlap_end - overlap_begin).count()) /
                     static_cast<double>(hour.count());
      observed[i] = true;
      double v;
      if (model::AsDouble(row->Get("active_seconds"), &v)) {
        usage.active_gpu_seconds = usage.active_gpu_seconds.value_or(0) + v * share;
      }
      if (model::AsDouble(row->Get("energy_joules"), &v)) {
        usage.energy_joules = usage.energy_joules.value_or(0) + v * share;
      }
    }
  }
  return Ok();
}

// XID counts of the windows in `group` (those with a GPU UUID).
Status AddXids(store::Store::Writer& writer, std::span<const SessionWindow* const> group,
               std::span<SessionUsage> out, const std::vector<bool>& observed) {
  std::vector<const SessionWindow*> wanted;
  for (const SessionWindow* w : group) {
    if (!w->gpu_uuid.empty()) wanted.push_back(w);
  }
  if (wanted.empty()) return Ok();
  Timestamp lower = wanted.front()->start;
  Timestamp upper = wanted.front()->end;
  for (const SessionWindow* w : wanted) {
    lower = std::min(lower, w->start);
    upper = std::max(upper, w->end);
  }
  std::vector<Value> uuids = Distinct(wanted, &SessionWindow::gpu_uuid);
  store::QuerySpec spec;
  spec.rows = std::numeric_limits<int64_t>::max();
  spec.filters = {Filter::Eq("kind", std::string("xid")),
                  Between("observed_at", lower, upper, true)};
  auto rows = writer.SelectAnyOf(*model::FindModel("health-event"), spec, "gpu_uuid", uuids);
  if (!rows) return Fail(rows.error());
  std::unordered_map<std::string, std::vector<int64_t>> times;
  for (const Record& row : *rows)
    times[row.GetString("gpu_uuid")].push_back(IntOf(row, "observed_at"));
  for (size_t i = 0; i < group.size(); ++i) {
    const SessionWindow& window = *group[i];
    if (window.gpu_uuid.empty()) continue;
    int64_t count = 0;
    if (auto it = times.find(window.gpu_uuid); it != times.end()) {
      const int64_t from = ToUnixNanos(window.start);
      const int64_t to = ToUnixNanos(window.end);
      count = std::count_if(it->second.begin(), it->second.end(),
                            [&](int64_t t) { return t >= from && t <= to; });
      count = std::min<int64_t>(count, kMaxRows);
    }
    if (observed[i] || count > 0) out[i].xid_count = count;
  }
  return Ok();
}

}  // namespace

Result<SessionUsage> ComputeSessionUsage(store::Store::Writer& writer,
                                         const SessionWindow& window) {
  auto usages = ComputeSessionUsages(writer, std::span<const SessionWindow>(&window, 1));
  if (!usages) return Fail(usages.error());
  return usages->front();
}

Result<std::vector<SessionUsage>> ComputeSessionUsages(store::Store::Writer& writer,
                                                       std::span<const SessionWindow> windows) {
  std::vector<size_t> order(windows.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return windows[a].start < windows[b].start; });
  std::vector<SessionUsage> usages(windows.size());
  for (size_t begin = 0; begin < order.size(); begin += store::kMaxAnyOfValues) {
    const size_t end = std::min(order.size(), begin + store::kMaxAnyOfValues);
    std::vector<const SessionWindow*> group;
    for (size_t i = begin; i < end; ++i) group.push_back(&windows[order[i]]);
    std::vector<SessionUsage> out(group.size());
    std::vector<bool> observed(group.size(), false);
    if (auto st = AddUsage(writer, group, out, observed); !st) return Fail(st.error());
    if (auto st = AddXids(writer, group, out, observed); !st) return Fail(st.error());
    for (size_t i = begin; i < end; ++i) usages[order[i]] = std::move(out[i - begin]);
  }
  return usages;
}

}  // namespace aitelemetry::trace
