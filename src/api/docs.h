// The OpenAPI document (/openapi.json, /openapi.yaml) and the browsable reference page (/docs)
// with its embedded assets under /assets/docs/.
#pragma once

#include <string>
#include <string_view>

#include "api/openapi.h"
#include "http/router.h"

namespace aitelemetry::api {

// Returns the Content-Type served for an asset file name, by extension (js, css, png, map, txt,
// svg, html); application/octet-stream for anything else.
std::string_view AssetContentType(std::string_view name);

// Returns the HTML of the /docs page: it loads only same-origin assets and points the renderer
// at /openapi.json.
std::string DocsPageHtml();

// Registers /openapi.json, /openapi.yaml (also under /api/), /docs and GET /assets/docs/{file}.
// The document is built once here, from the registry and `options`. Assets answer with their
// content type, an ETag (304 on If-None-Match) and Cache-Control; unknown files 404.
// Requires: called before AddRestRoutes, whose /api/{model} would otherwise take
// /api/openapi.json (the router matches in registration order).
void AddDocRoutes(http::Router& router, const OpenApiOptions& options);

}  // namespace aitelemetry::api
