#include "trace/session_usage.h"

#include <algorithm>
#include <chrono>

#include "model/registry.h"

namespace aitelemetry::trace {
namespace {

using model::Value;
using store::Filter;

// Rows one query may return: a year of hours, far more than one session spans.
constexpr int64_t kMaxRows = 24 * 366;

Filter Between(std::string field, Timestamp lower, Timestamp upper, bool upper_inclusive) {
  Filter f;
  f.field = std::move(field);
  f.kind = Filter::Kind::kRange;
  f.lower = ToUnixNanos(lower);
  f.upper = ToUnixNanos(upper);
  f.upper_inclusive = upper_inclusive;
  return f;
}

}  // namespace

Result<SessionUsage> ComputeSessionUsage(store::Store::Writer& writer,
                                         const SessionWindow& window) {
  SessionUsage usage;
  bool observed = false;
  if (!window.device_key.empty() && window.end > window.start) {
    store::QuerySpec spec;
    spec.rows = kMaxRows;
    spec.filters = {Filter::Eq("device_key", window.device_key),
                    Filter::Eq("project", window.project),
                    Between("hour", FloorToHour(window.start), window.end, false)};
    auto rows = writer.Select(*model::FindModel("usage"), spec);
    if (!rows) return Fail(rows.error());
    const Nanos hour = std::chrono::hours(1);
    for (const auto& row : *rows) {
      Timestamp begin{Nanos(std::get<int64_t>(row.Get("hour")))};
      Timestamp overlap_begin = std::max(begin, window.start);
      Timestamp overlap_end = std::min(begin + hour, window.end);
      if (overlap_end <= overlap_begin) continue;
      double share = static_cast<double>((overlap_end - overlap_begin).count()) /
                     static_cast<double>(hour.count());
      observed = true;
      double v;
      if (model::AsDouble(row.Get("active_seconds"), &v)) {
        usage.active_gpu_seconds = usage.active_gpu_seconds.value_or(0) + v * share;
      }
      if (model::AsDouble(row.Get("energy_joules"), &v)) {
        usage.energy_joules = usage.energy_joules.value_or(0) + v * share;
      }
    }
  }
  if (!window.gpu_uuid.empty()) {
    store::QuerySpec spec;
    spec.rows = kMaxRows;
    spec.fields = {"key"};
    spec.filters = {Filter::Eq("gpu_uuid", window.gpu_uuid), Filter::Eq("kind", std::string("xid")),
                    Between("observed_at", window.start, window.end, true)};
    auto rows = writer.Select(*model::FindModel("health-event"), spec);
    if (!rows) return Fail(rows.error());
    if (observed || !rows->empty()) usage.xid_count = static_cast<int64_t>(rows->size());
  }
  return usage;
}

}  // namespace aitelemetry::trace
