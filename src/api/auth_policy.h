// The access rules of the site, as plain functions: which paths need credentials and what a
// verified identity becomes as an api::Caller (the store scope every handler passes on).
#pragma once

#include <string>
#include <string_view>

#include "api/caller.h"
#include "auth/grants.h"

namespace aitelemetry::api {

enum class PathKind {
  kPublic,   // health, metrics, static assets, the login routes; the OpenAPI document and /docs
             // when public_openapi. A caller is attached when valid credentials come along.
  kOwnAuth,  // POST /api/alerts: checks Alertmanager's own bearer token; left alone
  kApi,      // /api, /ngsi-ld, /prom, /openapi: no credentials -> 401 with WWW-Authenticate: Bearer
  kPage,     // everything else (dashboard pages): no credentials -> /login for a browser
};

// Classifies a request path (percent-decoded, without the query).
PathKind ClassifyPath(std::string_view method, std::string_view path, bool public_openapi);

// Returns the caller for a verified identity: admin -> Scope::All(); every GET resource name
// (HUB-h, HUB-h-CLUSTER-c, HUB-h-CLUSTER-c-PROJECT-p) -> one store::Grant; PATCH names ->
// patch_resources. Names that do not parse grant nothing.
Caller CallerFromGrants(std::string subject, std::string name, const auth::GrantSet& grants);

// The caller of open local mode (no issuer configured): authenticated admin that sees everything.
Caller OpenModeCaller();

// Returns the resource names a caller's scope grants (sorted), for /api/me.
std::vector<std::string> GrantNames(const Caller& caller);

// Returns `candidate` when it is a safe place to send the browser back to after login (a local
// path: starts with one '/', no backslash, no control characters), else "/".
std::string SafeReturnPath(std::string_view candidate);

}  // namespace aitelemetry::api
