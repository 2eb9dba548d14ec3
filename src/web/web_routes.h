// The dashboard routes: page shells and /static/ assets. The pages read only the public JSON API.
#pragma once

#include "http/router.h"
#include "web/shell.h"

namespace aitelemetry::web {

// Adds to `router`:
//   GET /                      fleet overview
//   GET /clusters/{key}        cluster heat map        GET /nodes/{key}     node heat map
//   GET /gpus/{key}            one GPU                 GET /projects/{key}  one project
//   GET /sessions              GPU sessions and traces
//   GET /search, /search/{model}  search with facets (404 for an unknown or internal model,
//                                 and for usage, which /api/usage reports)
//   GET /static/{path...}      embedded assets with ETag, If-None-Match (304) and Cache-Control
// Pages answer text/html with a Content-Security-Policy that allows only this origin.
void AddWebRoutes(http::Router& router, const ShellOptions& options);

}  // namespace aitelemetry::web
