#include "api/docs.h"

#include <memory>

#include <fmt/format.h>

#include "api/docs_assets.h"

namespace aitelemetry::api {

std::string_view AssetContentType(std::string_view name) {
  auto ends = [&](std::string_view ext) { return name.ends_with(ext); };
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".png")) return "image/png";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".map")) return "application/json";
  if (ends(".txt")) return "text/plain; charset=utf-8";
  if (ends(".html")) return "text/html; charset=utf-8";
  return "application/octet-stream";
}

std::string DocsPageHtml() {
  return R"(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>AI Telemetry API reference</title>
<link rel="icon" type="image/png" href="/assets/docs/favicon-32x32.png">
<link rel="stylesheet" href="/assets/docs/swagger-ui.css">
</head>
<body>
<div id="reference"></div>
<noscript>The reference needs JavaScript; the document itself is at <a href="/openapi.json">/openapi.json</a>.</noscript>
<script src="/assets/docs/swagger-ui-bundle.js"></script>
<script src="/assets/docs/docs_init.js"></script>
</body>
</html>
)";
}

void AddDocRoutes(http::Router& router, const OpenApiOptions& options) {
  auto document = BuildOpenApi(options);
  auto json = std::make_shared<const std::string>(document.dump(2));
  auto yaml = std::make_shared<const std::string>(ToYaml(document));
  auto serve_json = [json](const http::Request&) {
    http::Response r = http::JsonResponse(200, *json);
    r.Set("Cache-Control", "no-cache");
    return r;
  };
  auto serve_yaml = [yaml](const http::Request&) {
    http::Response r = http::JsonResponse(200, *yaml, "application/yaml");
    r.Set("Cache-Control", "no-cache");
    return r;
  };
  router.Add("GET", "/openapi.json", serve_json);
  router.Add("GET", "/openapi.yaml", serve_yaml);
  // Where clients of other APIs look for it; registered before /api/{model} takes the name.
  router.Add("GET", "/api/openapi.json", serve_json);
  router.Add("GET", "/api/openapi.yaml", serve_yaml);
  router.Add("GET", "/docs", [](const http::Request&) {
    http::Response r = http::JsonResponse(200, DocsPageHtml(), "text/html; charset=utf-8");
    r.Set("Cache-Control", "no-cache");
    return r;
  });
  router.Add("GET", "/assets/docs/{file}", [](const http::Request& req) {
    const std::string& file = req.params.at("file");
    for (const auto& asset : DocsAssets()) {
      if (asset.name != file) continue;
      std::string etag = fmt::format("\"{}\"", asset.sha256.substr(0, 32));
      http::Response r;
      // Revalidated daily: the names carry no version, so a new build must be picked up.
      r.Set("Cache-Control", "public, max-age=86400");
      r.Set("ETag", etag);
      r.Set("X-Content-Type-Options", "nosniff");
      std::string inm = req.Header("if-none-match");
      if (!inm.empty() && (inm == etag || inm == "*" || inm.find(etag) != std::string::npos)) {
        r.status = 304;
        return r;
      }
      r.status = 200;
      r.Set("Content-Type", std::string(AssetContentType(asset.name)));
      r.body = std::string(asset.bytes);
      return r;
    }
    return http::Problem(404, "no such asset");
  });
}

}  // namespace aitelemetry::api
