// The NGSI-LD HTTP binding: /ngsi-ld/v1/entities, /entities/{id}, /types, /temporal/entities and
// the served @context. Every read passes the caller's grant scope to the store.
#pragma once

#include <string>

#include "http/router.h"
#include "store/store.h"

namespace aitelemetry::api {

// Largest `limit` accepted (more: BadRequestData); the default is 20, as in the spec.
inline constexpr int kNgsiMaxLimit = 1000;
inline constexpr int kNgsiDefaultLimit = 20;
// Most hourly rows one temporal query may gather before it is refused (TooManyResults).
inline constexpr int kNgsiMaxTemporalRows = 100000;

struct NgsiOptions {
  // Absolute URL of this server as clients reach it ("https://telemetry.example.org"), used in
  // the Link header and @context. Empty: derived from the request's Host header.
  std::string public_base_url;
};

// Registers the NGSI-LD routes on `router`. `store` must outlive the router. Entities are read
// with CallerOf(request).scope: what the caller may not see is absent (404, empty lists, and
// neither counts nor types reveal it).
void AddNgsiRoutes(http::Router& router, store::Store& store, NgsiOptions options = {});

}  // namespace aitelemetry::api
