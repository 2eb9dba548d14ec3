#include "web/web_routes.h"

#include <string>

#include "model/registry.h"
#include "web/assets.h"

namespace aitelemetry::web {
namespace {

// Pages load only from this origin: no CDN, no inline script.
constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

// Assets are revalidated with their ETag after five minutes: module imports carry no version in
// their URL, so a long max-age would keep a stale module after an upgrade.
constexpr const char* kAssetCacheControl = "public, max-age=300";

http::Response PageResponse(const PageSpec& page, const ShellOptions& options) {
  http::Response r;
  r.body = RenderShell(page, options);
  r.Set("Content-Type", "text/html; charset=utf-8");
  r.Set("Cache-Control", "no-cache");
  r.Set("Content-Security-Policy", kContentSecurityPolicy);
  r.Set("X-Content-Type-Options", "nosniff");
  r.Set("Referrer-Policy", "same-origin");
  return r;
}

std::string Param(const http::Request& request, const char* name) {
  auto it = request.params.find(name);
  return it == request.params.end() ? std::string() : it->second;
}

// True when one entry of an If-None-Match list equals `etag` (or the list is "*").
bool EtagMatches(std::string_view header, std::string_view etag) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t comma = header.find(',', pos);
    if (comma == std::string_view::npos) comma = header.size();
    std::string_view item = header.substr(pos, comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == etag || item == "*") return true;
    pos = comma + 1;
  }
  return false;
}

http::Response AssetResponse(const http::Request& request) {
  const EmbeddedAsset* asset = FindAsset(Param(request, "path"));
  if (asset == nullptr) return http::Problem(404, "no such asset");
  http::Response r;
  r.Set("ETag", std::string(asset->etag));
  r.Set("Cache-Control", kAssetCacheControl);
  r.Set("X-Content-Type-Options", "nosniff");
  if (EtagMatches(request.Header("if-none-match"), asset->etag)) {
    r.status = 304;
    return r;
  }
  r.Set("Content-Type", std::string(asset->content_type));
  r.body = std::string(asset->body);
  return r;
}

}  // namespace

void AddWebRoutes(http::Router& router, const ShellOptions& options) {
  router.Add("GET", "/static/{path...}", AssetResponse);
  router.Add("GET", "/", [options](const http::Request&) {
    return PageResponse({"fleet", "Fleet overview", "", ""}, options);
  });
  struct EntityPage {
    const char* prefix;
    const char* page;
    const char* title;
  };
  for (const EntityPage& p :
       {EntityPage{"/clusters/", "cluster", "Cluster"}, EntityPage{"/nodes/", "node", "Node"},
        EntityPage{"/gpus/", "gpu", "GPU"}, EntityPage{"/projects/", "project", "Project"}}) {
    PageSpec spec{p.page, p.title, "", ""};
    router.Add("GET", std::string(p.prefix) + "{key}", [options, spec](const http::Request& req) {
      PageSpec page = spec;
      page.key = Param(req, "key");
      page.title = spec.title + " " + page.key;
      return PageResponse(page, options);
    });
  }
  router.Add("GET", "/sessions", [options](const http::Request&) {
    return PageResponse({"sessions", "GPU sessions", "", "session"}, options);
  });
  router.Add("GET", "/search", [](const http::Request&) {
    http::Response r;
    r.status = 302;
    r.Set("Location", "/search/gpu");
    return r;
  });
  router.Add("GET", "/search/{model}", [options](const http::Request& req) {
    std::string name = Param(req, "model");
    const model::Model* m = model::FindModel(name);
    // Usage rollups are read through the /api/usage report (grouped, stepped), not searched.
    if (m == nullptr || m->internal || m->name == "usage") {
      return http::Problem(404, "no search page for: " + name);
    }
    return PageResponse({"search", "Search " + m->type_name, "", name}, options);
  });
}

}  // namespace aitelemetry::web
