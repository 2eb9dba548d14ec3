// GPU usage reports (/api/usage?groupBy=...): GPU-hours, efficiency and coverage summed from the
// hourly `usage` rollups under the caller's scope, grouped by project, cluster, node, GPU, GPU
// model or hub, optionally per hour, UTC day or UTC month.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/params.h"
#include "core/result.h"
#include "core/time.h"
#include "store/store.h"

namespace aitelemetry::api {

enum class UsageGroup { kHub, kCluster, kProject, kNode, kGpu, kModel };
enum class UsageStep { kNone, kHour, kDay, kMonth };

// The most rows one report may return (groups times buckets).
inline constexpr int64_t kMaxUsageRows = 100000;

struct UsageParams {
  UsageGroup group = UsageGroup::kProject;
  UsageStep step = UsageStep::kNone;
  Timestamp from{};                    // rollup hours starting at or after this
  Timestamp to{};                      // ... and before this
  std::vector<store::Filter> filters;  // hub, cluster, project, node, model (= model_name)
  Format format = Format::kJson;
};

// Parses groupBy (required: project|cluster|node|gpu|model|hub), from/to (RFC 3339; default: the
// 30 days up to the end of the current hour), step (hour|day|month; default none), the
// repeatable filters hub, cluster, project, node, model, and format/wt/Accept. Returns
// kInvalidArgument naming the parameter for unknown or repeated single-valued parameters, bad
// values, from >= to, or a range that would need more than kMaxUsageRows buckets.
[[nodiscard]] Result<UsageParams> ParseUsageParams(const QueryPairs& query, std::string_view accept,
                                                   Timestamp now);

struct UsageRow {
  std::optional<std::string> key;  // natural key of the group (model: the model name); null for
                                   // time no project held (groupBy=project) or an unknown model
  std::optional<Timestamp> time;   // bucket start, when a step was asked
  // The GPU-hours below count only time some project held the device.
  double allocated_gpu_hours = 0;    // device-hours held
  double gpu_equivalent_hours = 0;   // held hours times compute share (a 3g slice is 3/7)
  double active_gpu_hours = 0;       // held GPU-equivalent hours weighted by activity
  double idle_gpu_hours = 0;         // held GPU-equivalent hours with zero activity
  double energy_joules = 0;          // all energy of the devices, held or not
  std::optional<double> efficiency;  // active / GPU-equivalent held; null when nothing was held
  // Attributed share: held device-seconds / all device-seconds seen; null: none seen.
  std::optional<double> coverage;
  // Completeness: observed / (observed + unobserved) device-seconds of the group's rows (for a
  // project, of the time its holdings were known to go on); null when neither is known (rows
  // written before completeness was measured).
  std::optional<double> observed_fraction;
};

// Computes the report: one grouped-sum query in the store (scope applied in SQL; month buckets
// folded here from UTC days). Errors: kInvalidArgument when the answer is over kMaxUsageRows,
// kUnavailable when the store cannot be reached.
[[nodiscard]] Result<std::vector<UsageRow>> UsageReport(store::Store& store,
                                                        const UsageParams& params,
                                                        const store::Scope& scope);

// The JSON body {"groupBy","from","to","step","rows":[...]} and the CSV body (a header line,
// then one line per row) of a report.
std::string UsageJson(const UsageParams& params, const std::vector<UsageRow>& rows);
std::string UsageCsv(const UsageParams& params, const std::vector<UsageRow>& rows);

}  // namespace aitelemetry::api
