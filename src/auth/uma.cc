#include "auth/uma.h"

#include <nlohmann/json.hpp>

namespace aitelemetry::auth {
namespace {

// Returns the OAuth "error" member of an error answer, or "unknown".
std::string OAuthError(std::string_view body) {
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_object()) {
    auto it = doc.find("error");
    if (it != doc.end() && it->is_string()) return it->get<std::string>();
  }
  return "unknown";
}

}  // namespace

Result<GrantSet> ParseUmaPermissions(std::string_view body) {
  auto junk = [] { return Fail(ErrorCode::kUnavailable, "uma: unexpected permissions answer"); };
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_array()) return junk();
  GrantSet grants;
  for (const auto& permission : doc) {
    if (!permission.is_object()) return junk();
    auto rsname = permission.find("rsname");
    if (rsname == permission.end() || !rsname->is_string()) return junk();
    auto scopes = permission.find("scopes");
    if (scopes == permission.end()) continue;
    if (!scopes->is_array()) return junk();
    auto name = ResourceName::Parse(rsname->get_ref<const std::string&>());
    if (!name) continue;
    for (const auto& scope : *scopes) {
      if (!scope.is_string()) return junk();
      if (scope == "GET") grants.resources.insert(name->ToString());
      if (scope == "PATCH") grants.patch_resources.insert(name->ToString());
    }
  }
  return grants;
}

Result<std::unique_ptr<UmaClient>> UmaClient::Create(UmaOptions options, http::HttpClient* client,
                                                     Clock clock) {
  if (options.issuer.empty() || options.client_id.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "uma: issuer and client_id are required");
  }
  if (options.cache_ttl < std::chrono::seconds(0) || options.cache_ttl > std::chrono::seconds(30)) {
    return Fail(ErrorCode::kInvalidArgument, "uma: cache_ttl must be 0 to 30 seconds");
  }
  if (options.token_endpoint.empty()) {
    std::string issuer = options.issuer;
    while (!issuer.empty() && issuer.back() == '/') issuer.pop_back();
    options.token_endpoint = issuer + "/protocol/openid-connect/token";
  }
  return std::unique_ptr<UmaClient>(new UmaClient(std::move(options), client, std::move(clock)));
}

UmaClient::UmaClient(UmaOptions options, http::HttpClient* client, Clock clock)
    : options_(std::move(options)), clock_(std::move(clock)), client_(client) {}

Result<GrantSet> UmaClient::Grants(std::string_view subject, std::string_view access_token) {
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(subject);
    if (it != cache_.end() && clock_() - it->second.fetched_at < options_.cache_ttl) {
      return it->second.grants;
    }
  }
  auto grants = Fetch(access_token);
  if (!grants) return grants;
  std::lock_guard lock(mu_);
  Timestamp now = clock_();
  if (cache_.size() >= options_.max_cache_entries) {
    std::erase_if(cache_,
                  [&](const auto& kv) { return now - kv.second.fetched_at >= options_.cache_ttl; });
    if (cache_.size() >= options_.max_cache_entries) cache_.clear();
  }
  cache_.insert_or_assign(std::string(subject), Entry{*grants, now});
  return grants;
}

Result<GrantSet> UmaClient::Fetch(std::string_view access_token) {
  http::ClientRequest request;
  request.method = "POST";
  request.url = options_.token_endpoint;
  request.headers = {{"Authorization", "Bearer " + std::string(access_token)},
                     {"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"}};
  // response_mode=permissions, never decision: a decision says yes or no for the whole request and
  // cannot tell which resources are granted.
  request.body = "grant_type=" + http::UrlEncode("urn:ietf:params:oauth:grant-type:uma-ticket") +
                 "&audience=" + http::UrlEncode(options_.client_id) + "&response_mode=permissions";
  request.timeout = options_.timeout;
  request.max_response_bytes = 4u << 20;
  Result<http::ClientResponse> response;
  {
    std::lock_guard lock(fetch_mu_);
    response = client_->Send(request);
  }
  if (!response) return Fail(response.error());
  int status = response->status;
  if (status == 200) return ParseUmaPermissions(response->body);
  if (status == 403) {
    if (OAuthError(response->body) == "access_denied") return GrantSet{};
    return Fail(ErrorCode::kUnavailable, "uma: unexpected 403 answer");
  }
  if (status == 400 || status == 401) {
    std::string error = OAuthError(response->body);
    return Fail(ErrorCode::kPermissionDenied,
                "uma: token endpoint refused (HTTP " + std::to_string(status) + ", " + error + ")");
  }
  return Fail(ErrorCode::kUnavailable,
              "uma: token endpoint answered HTTP " + std::to_string(status));
}

}  // namespace aitelemetry::auth
