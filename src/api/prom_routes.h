// GET|POST /prom/{hub}/api/v1/{query,query_range,series,labels,label/{name}/values}: PromQL for
// researchers, restricted to their grants (prom_query.h) and answered by the hub's Prometheus with
// the worker's credentials, in Prometheus' own JSON. Every other path below /prom is a 404.
#pragma once

#include <vector>

#include "api/prom_query.h"
#include "config/config.h"
#include "http/router.h"

namespace aitelemetry::api {

struct PromRouteOptions {
  std::vector<config::HubConfig> hubs;  // those with prometheus.url are served
  PromLimits limits;
  int max_concurrent_per_caller = 4;
};

// Adds the routes. The authentication middleware (auth_policy.h: /prom is an API path) sets the
// caller first; a caller without a grant in a hub gets the same 404 as for an unknown hub.
void AddPromRoutes(http::Router& router, PromRouteOptions options);

}  // namespace aitelemetry::api
