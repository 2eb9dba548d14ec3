// The OpenAPI description of /prom/{hub}/api/v1/... (prom_routes.h), added to the document that
// openapi.cc builds.
#pragma once

#include <nlohmann/json.hpp>

namespace aitelemetry::api {

// Adds the five PromQL paths to `paths` and their answer schema to `schemas`.
void AddPromOpenApi(nlohmann::ordered_json& paths, nlohmann::ordered_json& schemas);

}  // namespace aitelemetry::api
