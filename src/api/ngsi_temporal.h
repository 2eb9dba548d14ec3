// The NGSI-LD temporal representation of the usage history: each device/project series of hourly
// usage rows becomes one temporal entity whose measurements are lists of instances with
// observedAt. Plain functions over already-fetched rows.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/ngsi.h"
#include "core/result.h"
#include "model/record.h"
#include "store/query.h"

namespace aitelemetry::api {

// Translates timerel/timeAt/endTimeAt into a filter on `time_field`: before (< timeAt), after
// (> timeAt), between (timeAt <= t < endTimeAt). All absent: no filter (nullopt). Errors:
// kInvalidArgument for an unknown timerel, a missing or malformed time, endTimeAt not after
// timeAt, or a time given without timerel.
[[nodiscard]] Result<std::optional<store::Filter>> ParseTimeRel(
    std::string_view time_field, const std::optional<std::string>& timerel,
    const std::optional<std::string>& time_at, const std::optional<std::string>& end_time_at);

// The series a usage row belongs to: its device key, then ":" and the project when it has one.
std::string UsageSeriesKey(const model::Record& row);

// Splits a series key back into device key and project ("" for unallocated time).
struct UsageSeries {
  std::string device_key;
  std::string project;
};
UsageSeries SplitUsageSeriesKey(std::string_view key);

// Groups usage `rows` into temporal entities, ordered by id. Static attributes (hub, cluster,
// project, node, model name) appear once; each measurement is a list of Property instances with
// value, unitCode and observedAt (the row's hour), oldest first, at most `last_n` newest ones
// when last_n > 0. `attrs` (non-empty) keeps only those attributes. Requires: rows of one model
// that has an observedAt field.
std::vector<nlohmann::json> BuildTemporalSeries(const std::vector<model::Record>& rows,
                                                const std::vector<const model::Field*>& attrs,
                                                int last_n);

}  // namespace aitelemetry::api
