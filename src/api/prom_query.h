// The /prom/{hub}/api/v1/... requests as plain functions: which endpoint a path names, the
// parameters a request may carry, and the upstream call that answers it with the query restricted
// to the caller's grants (promql/restrict.h). No I/O here; prom_routes.cc sends the call.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/caller.h"
#include "core/result.h"
#include "core/time.h"
#include "http/message.h"
#include "promql/restrict.h"

namespace aitelemetry::api {

enum class PromEndpoint { kQuery, kQueryRange, kSeries, kLabels, kLabelValues };

struct PromLimits {
  std::chrono::seconds query_timeout{30};
  std::chrono::hours max_range{24 * 32};
  int max_points = 11000;
};

// What to send upstream: the path below the hub's API root ("/api/v1/query") and the form body
// (sent as the URL's query for GET: Prometheus takes label values by GET only).
struct PromCall {
  std::string method = "POST";
  std::string path;
  std::string form;
  std::chrono::milliseconds timeout{0};
};

// Returns the endpoint named by the part of the path after /api/v1/ ("query", "label/job/values");
// nothing for any other path. `label` receives the label name of label/{name}/values.
std::optional<PromEndpoint> PromEndpointFor(std::string_view tail, std::string* label);

// Returns what `caller` may read in `hub`, in the terms of promql::HubGrants: admins and hub
// grants read the whole hub.
promql::HubGrants HubGrantsOf(const Caller& caller, std::string_view hub);

// Returns the upstream call for a request's parameters (decoded, in order, from one place).
// Errors: kInvalidArgument for an unknown or repeated parameter (match[] may repeat), a malformed
// time, duration or query, a range past max_range or a range query past max_points;
// kPermissionDenied when the query cannot be restricted exactly; kInternal when the restricted
// text does not read back restricted (never expected). `now` fills a metadata request's missing
// start (now - max_range) and end.
[[nodiscard]] Result<PromCall> PlanPromCall(
    PromEndpoint endpoint, std::string_view label,
    const std::vector<std::pair<std::string, std::string>>& params,
    const promql::Restriction& restriction, const PromLimits& limits, Timestamp now);

// Returns `error` as Prometheus answers errors: {"status":"error","errorType":...,"error":...}
// with kInvalidArgument 400 bad_data, kPermissionDenied 403, kNotFound 404 not_found,
// kResourceExhausted 429, kDeadlineExceeded 504 timeout, kUnavailable 503 unavailable, else 500.
http::Response PromError(const Error& error);

}  // namespace aitelemetry::api
