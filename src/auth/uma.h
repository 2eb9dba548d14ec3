// Keycloak UMA 2.0 grants: asks the token endpoint which resources the caller's token may GET or
// PATCH (response_mode=permissions) and caches the answer briefly per subject.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "auth/grants.h"
#include "auth/jwks.h"
#include "core/result.h"
#include "http/client.h"

namespace aitelemetry::auth {

// Parses a 200 answer of response_mode=permissions: [{"rsid":..,"rsname":"HUB-..","scopes":[..]}].
// "GET" in scopes grants read, "PATCH" grants patch; other scopes, and resources whose rsname does
// not parse (ResourceName), grant nothing. A permission without "scopes" grants nothing (Keycloak
// lists the scopes it grants). Returns kUnavailable when the body is not such an array, since a
// garbled answer must not be read as "no grants" or as "all".
[[nodiscard]] Result<GrantSet> ParseUmaPermissions(std::string_view body);

struct UmaOptions {
  std::string issuer;     // e.g. "https://sso.example/realms/nerc"
  std::string client_id;  // the resource server: "ai-telemetry"
  // Token endpoint; empty means {issuer}/protocol/openid-connect/token (Keycloak's).
  std::string token_endpoint;
  std::chrono::seconds cache_ttl{30};  // at most 30
  std::chrono::milliseconds timeout{5000};
  size_t max_cache_entries = 10000;
};

// Fetches and caches a caller's UMA grants. Thread-safe.
class UmaClient {
 public:
  // Returns kInvalidArgument when issuer or client_id is empty or cache_ttl is outside 0..30 s.
  // Requires: `client` outlives the UmaClient and is used by nobody else concurrently.
  [[nodiscard]] static Result<std::unique_ptr<UmaClient>> Create(UmaOptions options,
                                                                 http::HttpClient* client,
                                                                 Clock clock);

  // Returns the GET/PATCH grants of `subject`, whose bearer token is `access_token` (already
  // validated by the caller), from the cache when an answer younger than cache_ttl is held.
  // A 403 answer (access_denied) means no grants: returns an empty GrantSet. Every other failure
  // fails closed with an Error: kPermissionDenied for a 400 answer (invalid_resource, say) or
  // 401, kUnavailable for 5xx, junk or an unreachable issuer, kDeadlineExceeded on timeout.
  // Errors are not cached.
  [[nodiscard]] Result<GrantSet> Grants(std::string_view subject, std::string_view access_token);

 private:
  UmaClient(UmaOptions options, http::HttpClient* client, Clock clock);
  Result<GrantSet> Fetch(std::string_view access_token);

  struct Entry {
    GrantSet grants;
    Timestamp fetched_at;
  };

  const UmaOptions options_;
  const Clock clock_;

  std::mutex fetch_mu_;  // guards client_
  http::HttpClient* const client_;

  std::mutex mu_;  // guards cache_; never held during network I/O
  std::map<std::string, Entry, std::less<>> cache_;
};

}  // namespace aitelemetry::auth
