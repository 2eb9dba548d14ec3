#include "api/ngsi_temporal.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "core/time.h"

namespace aitelemetry::api {
namespace {

Result<int64_t> ParseTime(std::string_view name, const std::optional<std::string>& text) {
  if (!text || text->empty()) {
    return Fail(ErrorCode::kInvalidArgument, fmt::format("{} is required", name));
  }
  auto t = ParseRfc3339(*text);
  if (!t) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{}: \"{}\" is not an RFC 3339 date-time", name, text->substr(0, 64)));
  }
  return ToUnixNanos(*t);
}

}  // namespace

Result<std::optional<store::Filter>> ParseTimeRel(std::string_view time_field,
                                                  const std::optional<std::string>& timerel,
                                                  const std::optional<std::string>& time_at,
                                                  const std::optional<std::string>& end_time_at) {
  if (!timerel) {
    if (time_at || end_time_at) {
      return Fail(ErrorCode::kInvalidArgument, "timeAt and endTimeAt need timerel");
    }
    return std::optional<store::Filter>();
  }
  auto at = ParseTime("timeAt", time_at);
  if (!at) return Fail(at.error());
  store::Filter f;
  f.field = std::string(time_field);
  f.kind = store::Filter::Kind::kRange;
  if (*timerel == "before") {
    f.upper = *at;
    f.upper_inclusive = false;
  } else if (*timerel == "after") {
    f.lower = *at;
    f.lower_inclusive = false;
  } else if (*timerel == "between") {
    auto end = ParseTime("endTimeAt", end_time_at);
    if (!end) return Fail(end.error());
    if (*end <= *at) return Fail(ErrorCode::kInvalidArgument, "endTimeAt must be after timeAt");
    f.lower = *at;
    f.upper = *end;
    f.upper_inclusive = false;
  } else {
    return Fail(ErrorCode::kInvalidArgument, "timerel must be before, after or between");
  }
  if (*timerel != "between" && end_time_at) {
    return Fail(ErrorCode::kInvalidArgument, "endTimeAt is only used with timerel=between");
  }
  return std::optional<store::Filter>(std::move(f));
}

std::string UsageSeriesKey(const model::Record& row) {
  std::string key = row.GetString("device_key");
  std::string project = row.GetString("project");
  if (!project.empty()) key += ":" + project;
  return key;
}

UsageSeries SplitUsageSeriesKey(std::string_view key) {
  size_t colon = key.find(':');
  if (colon == std::string_view::npos) return {std::string(key), ""};
  return {std::string(key.substr(0, colon)), std::string(key.substr(colon + 1))};
}

std::vector<nlohmann::json> BuildTemporalSeries(const std::vector<model::Record>& rows,
                                                const std::vector<const model::Field*>& attrs,
                                                int last_n) {
  std::map<std::string, std::vector<const model::Record*>> series;
  for (const auto& row : rows) series[UsageSeriesKey(row)].push_back(&row);
  std::vector<nlohmann::json> out;
  for (auto& [key, members] : series) {
    const model::Model& m = *members.front()->model;
    const model::Field* observed = NgsiObservedAtField(m);
    std::stable_sort(members.begin(), members.end(), [&](const auto* a, const auto* b) {
      return std::get_if<int64_t>(&a->Get(observed->name)) &&
                     std::get_if<int64_t>(&b->Get(observed->name))
                 ? std::get<int64_t>(a->Get(observed->name)) <
                       std::get<int64_t>(b->Get(observed->name))
                 : false;
    });
    nlohmann::json e = {{"id", NgsiEntityId(m, key)}, {"type", m.type_name}};
    std::vector<nlohmann::json> plain;
    plain.reserve(members.size());
    for (const auto* r : members) plain.push_back(model::ToJson(*r));
    for (const auto& f : m.fields) {
      if (!IsNgsiAttribute(m, f)) continue;
      if (!attrs.empty() && std::find(attrs.begin(), attrs.end(), &f) == attrs.end()) continue;
      if (!f.Has(model::kStat)) {
        // Constant along a series (the series key fixes device and project): the newest value.
        const nlohmann::json& v = plain.back()[f.name];
        if (!v.is_null()) e[f.NgsiName()] = {{"type", "Property"}, {"value", v}};
        continue;
      }
      nlohmann::json instances = nlohmann::json::array();
      for (const auto& p : plain) {
        const nlohmann::json& v = p[f.name];
        const nlohmann::json& at = p[observed->name];
        if (v.is_null() || at.is_null()) continue;
        nlohmann::json instance = {{"type", "Property"}, {"value", v}, {"observedAt", at}};
        if (!f.unit_code.empty()) instance["unitCode"] = f.unit_code;
        instances.push_back(std::move(instance));
      }
      if (last_n > 0 && instances.size() > static_cast<size_t>(last_n)) {
        instances.erase(instances.begin(), instances.end() - last_n);
      }
      if (!instances.empty()) e[f.NgsiName()] = std::move(instances);
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace aitelemetry::api
