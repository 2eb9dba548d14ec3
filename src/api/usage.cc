#include "api/usage.h"

#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "api/csv.h"

namespace aitelemetry::api {

using model::Value;
using store::Filter;

namespace {

constexpr int64_t kHourNanos = 3600LL * 1000 * 1000 * 1000;
constexpr int64_t kDayNanos = 24 * kHourNanos;

struct GroupInfo {
  const char* name;
  UsageGroup group;
  std::vector<std::string> fields;
};

const std::vector<GroupInfo>& Groups() {
  static const std::vector<GroupInfo> groups = {
      {"hub", UsageGroup::kHub, {"hub"}},
      {"cluster", UsageGroup::kCluster, {"hub", "cluster"}},
      {"project", UsageGroup::kProject, {"hub", "cluster", "project"}},
      {"node", UsageGroup::kNode, {"hub", "cluster", "node"}},
      {"gpu", UsageGroup::kGpu, {"device_key"}},
      {"model", UsageGroup::kModel, {"model_name"}},
  };
  return groups;
}

const GroupInfo& InfoOf(UsageGroup g) {
  for (const auto& i : Groups()) {
    if (i.group == g) return i;
  }
  return Groups()[0];
}

const char* StepName(UsageStep s) {
  switch (s) {
    case UsageStep::kHour:
      return "hour";
    case UsageStep::kDay:
      return "day";
    case UsageStep::kMonth:
      return "month";
    case UsageStep::kNone:
      break;
  }
  return nullptr;
}

std::string Text(const Value& v) {
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  return {};
}

std::optional<std::string> KeyOf(UsageGroup g, const std::vector<Value>& group) {
  for (const auto& v : group) {
    if (model::IsNull(v)) return std::nullopt;
  }
  switch (g) {
    case UsageGroup::kHub:
      return model::HubKey(Text(group[0]));
    case UsageGroup::kCluster:
      return model::ClusterKey(Text(group[0]), Text(group[1]));
    case UsageGroup::kProject:
      return model::ProjectKey(Text(group[0]), Text(group[1]), Text(group[2]));
    case UsageGroup::kNode:
      return model::NodeKey(Text(group[0]), Text(group[1]), Text(group[2]));
    case UsageGroup::kGpu:
    case UsageGroup::kModel:
      return Text(group[0]);
  }
  return std::nullopt;
}

// The first instant of the UTC month containing `nanos`.
int64_t MonthStart(int64_t nanos) {
  using namespace std::chrono;
  sys_days day = floor<days>(sys_time<nanoseconds>(nanoseconds(nanos)));
  year_month_day ymd(day);
  sys_days first = ymd.year() / ymd.month() / 1;
  return duration_cast<nanoseconds>(first.time_since_epoch()).count();
}

int64_t StepNanosFor(UsageStep s) {
  switch (s) {
    case UsageStep::kHour:
      return kHourNanos;
    case UsageStep::kDay:
      return kDayNanos;
    case UsageStep::kMonth:
      return 28 * kDayNanos;  // the shortest month: an upper bound on the bucket count
    case UsageStep::kNone:
      break;
  }
  return 0;
}

// Sum columns, in order: held (allocated, GPU-equivalent, active, idle), energy, all allocated,
// observed and unobserved device-seconds of every row of the group.
enum Sum { kHeld, kHeldEq, kActive, kIdle, kEnergy, kAllAllocated, kObserved, kUnobserved, kSums };

std::optional<double> Ratio(double num, double den) {
  if (den <= 0) return std::nullopt;
  return num / den;
}

}  // namespace

Result<UsageParams> ParseUsageParams(const QueryPairs& query, std::string_view accept,
                                     Timestamp now) {
  static const std::vector<std::string_view> kAllowed = {"groupBy", "from",    "to",      "step",
                                                         "hub",     "cluster", "project", "node",
                                                         "model",   "format",  "wt"};
  if (auto st = CheckParams(query, kAllowed); !st) return Fail(st.error());
  UsageParams p;
  auto group = SingleParam(query, "groupBy");
  if (!group) return Fail(group.error());
  if (!*group) return Fail(ErrorCode::kInvalidArgument, "groupBy: required");
  bool found = false;
  for (const auto& g : Groups()) {
    if (**group == g.name) {
      p.group = g.group;
      found = true;
    }
  }
  if (!found) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("groupBy: \"{}\" is not project, cluster, node, gpu, model or hub",
                            (*group)->substr(0, 64)));
  }
  auto step = SingleParam(query, "step");
  if (!step) return Fail(step.error());
  if (*step) {
    if (**step == "hour") {
      p.step = UsageStep::kHour;
    } else if (**step == "day") {
      p.step = UsageStep::kDay;
    } else if (**step == "month") {
      p.step = UsageStep::kMonth;
    } else {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("step: \"{}\" is not hour, day or month", (*step)->substr(0, 64)));
    }
  }
  auto time_param = [&](const char* name, Timestamp fallback) -> Result<Timestamp> {
    auto v = SingleParam(query, name);
    if (!v) return Fail(v.error());
    if (!*v) return fallback;
    auto t = ParseRfc3339(**v);
    if (!t) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("{}: \"{}\" is not an RFC 3339 time", name, (*v)->substr(0, 64)));
    }
    return *t;
  };
  auto to = time_param("to", FloorToHour(now) + std::chrono::hours(1));
  if (!to) return Fail(to.error());
  auto from = time_param("from", *to - std::chrono::hours(24 * 30));
  if (!from) return Fail(from.error());
  p.from = *from;
  p.to = *to;
  if (p.from >= p.to) return Fail(ErrorCode::kInvalidArgument, "from: must be before to");
  if (p.step != UsageStep::kNone) {
    int64_t span = ToUnixNanos(p.to) - ToUnixNanos(p.from);
    if (span / StepNanosFor(p.step) > kMaxUsageRows) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("from, to: more than {} {} buckets; narrow the range or use a "
                              "longer step",
                              kMaxUsageRows, StepName(p.step)));
    }
  }
  const model::Model& usage = *model::FindModel("usage");
  for (auto [param, field] :
       {std::pair{"hub", "hub"}, std::pair{"cluster", "cluster"}, std::pair{"project", "project"},
        std::pair{"node", "node"}, std::pair{"model", "model_name"}}) {
    Filter f;
    f.field = field;
    for (const auto& [k, v] : query) {
      if (k != param) continue;
      auto value = model::ValueFromText(*usage.FindField(field), v);
      if (!value) return Fail(value.error());
      f.values.push_back(std::move(*value));
    }
    if (f.values.size() > kMaxTerms) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("{}: at most {} values", param, kMaxTerms));
    }
    if (!f.values.empty()) p.filters.push_back(std::move(f));
  }
  Filter range;
  range.field = "hour";
  range.kind = Filter::Kind::kRange;
  range.lower = ToUnixNanos(p.from);
  range.upper = ToUnixNanos(p.to);
  range.upper_inclusive = false;
  p.filters.push_back(std::move(range));
  auto format = ParseFormat(query, accept);
  if (!format) return Fail(format.error());
  p.format = *format;
  return p;
}

Result<std::vector<UsageRow>> UsageReport(store::Store& store, const UsageParams& params,
                                          const store::Scope& scope) {
  const model::Model& usage = *model::FindModel("usage");
  store::AggregateSpec spec;
  spec.filters = params.filters;
  spec.group_by = InfoOf(params.group).fields;
  if (params.step != UsageStep::kNone) {
    spec.bucket_field = "hour";
    // Months have no fixed width: sum per UTC day in SQL, then fold days into months below.
    spec.bucket_width = params.step == UsageStep::kHour ? kHourNanos : kDayNanos;
  }
  spec.sums = {{"allocated_seconds", "project"},
               {"gpu_equivalent_seconds", "project"},
               {"active_seconds", "project"},
               {"idle_seconds", "project"},
               {"energy_joules", ""},
               {"allocated_seconds", ""},
               {"observed_seconds", ""},
               {"unobserved_seconds", ""}};
  // Months: at most 31 day rows per output row.
  spec.max_groups = params.step == UsageStep::kMonth ? kMaxUsageRows * 31 : kMaxUsageRows;
  auto rows = store.Aggregate(usage, spec, scope);
  if (!rows) return Fail(rows.error());
  struct Acc {
    std::vector<Value> group;
    std::optional<int64_t> bucket;
    double sums[kSums] = {};
  };
  std::vector<Acc> acc;
  for (auto& r : *rows) {
    std::optional<int64_t> bucket = r.bucket;
    if (bucket && params.step == UsageStep::kMonth) bucket = MonthStart(*bucket);
    if (acc.empty() || acc.back().group != r.group || acc.back().bucket != bucket) {
      acc.push_back({std::move(r.group), bucket, {}});
    }
    for (int i = 0; i < kSums; ++i) acc.back().sums[i] += r.sums[i].value_or(0);
  }
  if (static_cast<int64_t>(acc.size()) > kMaxUsageRows) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("more than {} rows; narrow the filters or the range", kMaxUsageRows));
  }
  std::vector<UsageRow> out;
  out.reserve(acc.size());
  for (const auto& a : acc) {
    UsageRow row;
    row.key = KeyOf(params.group, a.group);
    if (a.bucket) row.time = Timestamp{Nanos{*a.bucket}};
    row.allocated_gpu_hours = a.sums[kHeld] / 3600;
    row.gpu_equivalent_hours = a.sums[kHeldEq] / 3600;
    row.active_gpu_hours = a.sums[kActive] / 3600;
    row.idle_gpu_hours = a.sums[kIdle] / 3600;
    row.energy_joules = a.sums[kEnergy];
    row.efficiency = Ratio(a.sums[kActive], a.sums[kHeldEq]);
    row.coverage = Ratio(a.sums[kHeld], a.sums[kAllAllocated]);
    row.observed_fraction = Ratio(a.sums[kObserved], a.sums[kObserved] + a.sums[kUnobserved]);
    out.push_back(std::move(row));
  }
  return out;
}

std::string UsageJson(const UsageParams& params, const std::vector<UsageRow>& rows) {
  using Json = nlohmann::ordered_json;
  Json body;
  body["groupBy"] = InfoOf(params.group).name;
  body["from"] = FormatRfc3339(params.from);
  body["to"] = FormatRfc3339(params.to);
  const char* step = StepName(params.step);
  body["step"] = step ? Json(step) : Json(nullptr);
  Json list = Json::array();
  auto opt = [](const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); };
  for (const auto& r : rows) {
    Json j;
    j["key"] = r.key ? Json(*r.key) : Json(nullptr);
    if (params.step != UsageStep::kNone) {
      j["time"] = r.time ? Json(FormatRfc3339(*r.time)) : Json(nullptr);
    }
    j["allocated_gpu_hours"] = r.allocated_gpu_hours;
    j["gpu_equivalent_hours"] = r.gpu_equivalent_hours;
    j["active_gpu_hours"] = r.active_gpu_hours;
    j["idle_gpu_hours"] = r.idle_gpu_hours;
    j["energy_joules"] = r.energy_joules;
    j["efficiency"] = opt(r.efficiency);
    j["coverage"] = opt(r.coverage);
    j["observed_fraction"] = opt(r.observed_fraction);
    list.push_back(std::move(j));
  }
  body["rows"] = std::move(list);
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string UsageCsv(const UsageParams& params, const std::vector<UsageRow>& rows) {
  std::string out;
  std::vector<std::string> cells = {"key"};
  bool step = params.step != UsageStep::kNone;
  if (step) cells.push_back("time");
  for (const char* h :
       {"allocated_gpu_hours", "gpu_equivalent_hours", "active_gpu_hours", "idle_gpu_hours",
        "energy_joules", "efficiency", "coverage", "observed_fraction"}) {
    cells.push_back(h);
  }
  AppendCsvLine(cells, out);
  auto num = [](double v) { return fmt::format("{}", v); };
  for (const auto& r : rows) {
    cells.clear();
    cells.push_back(CsvCell(r.key.value_or(""), true));
    if (step) cells.push_back(r.time ? FormatRfc3339(*r.time) : "");
    cells.push_back(num(r.allocated_gpu_hours));
    cells.push_back(num(r.gpu_equivalent_hours));
    cells.push_back(num(r.active_gpu_hours));
    cells.push_back(num(r.idle_gpu_hours));
    cells.push_back(num(r.energy_joules));
    cells.push_back(r.efficiency ? num(*r.efficiency) : "");
    cells.push_back(r.coverage ? num(*r.coverage) : "");
    cells.push_back(r.observed_fraction ? num(*r.observed_fraction) : "");
    AppendCsvLine(cells, out);
  }
  return out;
}

}  // namespace aitelemetry::api
