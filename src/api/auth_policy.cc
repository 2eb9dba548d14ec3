#include "api/auth_policy.h"

#include <algorithm>
#include <utility>

#include "model/registry.h"

namespace aitelemetry::api {
namespace {

// True when `path` is `prefix` or lies below it ("/api" matches "/api" and "/api/x", not "/apix").
bool Under(std::string_view path, std::string_view prefix) {
  return path == prefix ||
         (path.starts_with(prefix) && path.size() > prefix.size() && path[prefix.size()] == '/');
}

bool IsOpenApiDocument(std::string_view path) {
  for (std::string_view p : {"/openapi.json", "/openapi.yaml", "/api/openapi.json",
                             "/api/openapi.yaml", "/api/openapi"}) {
    if (path == p) return true;
  }
  return Under(path, "/openapi") || Under(path, "/docs");
}

}  // namespace

PathKind ClassifyPath(std::string_view method, std::string_view path, bool public_openapi) {
  if (method == "POST" && path == "/api/alerts") return PathKind::kOwnAuth;
  for (std::string_view p : {"/healthz", "/readyz", "/metrics", "/login", "/callback", "/logout",
                             "/favicon.ico", "/favicon.svg", "/robots.txt"}) {
    if (path == p) return PathKind::kPublic;
  }
  if (Under(path, "/static")) return PathKind::kPublic;
  if (Under(path, "/assets")) return PathKind::kPublic;  // the /docs page's embedded assets
  if (public_openapi && IsOpenApiDocument(path)) return PathKind::kPublic;
  if (Under(path, "/api") || Under(path, "/ngsi-ld") || Under(path, "/prom") ||
      IsOpenApiDocument(path)) {
    return PathKind::kApi;
  }
  return PathKind::kPage;
}

Caller CallerFromGrants(std::string subject, std::string name, const auth::GrantSet& grants) {
  Caller c;
  c.authenticated = true;
  c.subject = std::move(subject);
  c.name = std::move(name);
  c.admin = grants.admin;
  c.manager = grants.manager;
  if (grants.admin) {
    c.scope = store::Scope::All();
  } else {
    for (const auto& resource : grants.resources) {
      auto r = auth::ResourceName::Parse(resource);
      if (!r) continue;
      c.scope.grants.push_back({r->hub, r->cluster.value_or(""), r->project.value_or("")});
    }
  }
  c.patch_resources = grants.patch_resources;
  return c;
}

Caller OpenModeCaller() {
  Caller c;
  c.authenticated = true;
  c.open_mode = true;
  c.admin = true;
  c.name = "local";
  c.subject = "local";
  c.scope = store::Scope::All();
  return c;
}

std::vector<std::string> GrantNames(const Caller& caller) {
  std::vector<std::string> names;
  for (const auto& g : caller.scope.grants) {
    if (g.cluster.empty()) {
      names.push_back(model::HubKey(g.hub));
    } else if (g.project.empty()) {
      names.push_back(model::ClusterKey(g.hub, g.cluster));
    } else {
      names.push_back(model::ProjectKey(g.hub, g.cluster, g.project));
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::string SafeReturnPath(std::string_view candidate) {
  if (candidate.empty() || candidate.front() != '/' || candidate.starts_with("//")) return "/";
  for (char ch : candidate) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f || c == '\\') return "/";
  }
  return std::string(candidate);
}

}  // namespace aitelemetry::api
