// The OpenAPI 3.1 description of the whole HTTP API, generated from the model registry: no field
// list is written here, every schema and parameter enum is derived from model::Models().
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "model/registry.h"

namespace aitelemetry::api {

struct OpenApiOptions {
  std::string version = "0.0.0";  // info.version: the binary's version
  // The OIDC issuer; when set, an openIdConnect scheme points at
  // {issuer}/.well-known/openid-configuration. Empty: only the HTTP bearer (JWT) scheme.
  std::string issuer;
};

// Returns the OpenAPI 3.1 document: /api/{model} search and /api/{model}/{key} get (and PATCH
// with the editable fields) for every non-internal model, /api/usage, /api/events, /api/alerts,
// the NGSI-LD paths, /healthz, /readyz, /metrics and the document itself. Deterministic: the
// same registry and options give the same bytes.
nlohmann::ordered_json BuildOpenApi(const OpenApiOptions& options);

// Schema pieces, exposed for tests and for BuildOpenApi.
// The JSON Schema of one field: type (nullable unless required), format, description with the
// unit, and x-unit / x-unit-code extensions.
nlohmann::ordered_json FieldSchema(const model::Field& field);
// Adds every schema of `m` to `schemas`: {Type}, {Type}Patch (when it has editable fields),
// {Type}SearchResponse and Ngsi{Type}.
void AddModelSchemas(const model::Model& m, nlohmann::ordered_json& schemas);
// Adds the shared schemas (Problem, NgsiError, NgsiProperty, NgsiRelationship, UsageRow, ...).
void AddCommonSchemas(nlohmann::ordered_json& schemas);
// Returns the operationId-friendly name of a model, e.g. "GpuSlice".
std::string OperationName(const model::Model& m);

// Renders a JSON document as YAML (block style; strings quoted where YAML would misread them).
std::string ToYaml(const nlohmann::ordered_json& document);

}  // namespace aitelemetry::api
