#include "api/alerts_auth.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "auth/oidc_client.h"

namespace aitelemetry::api {
namespace {

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

http::Response Unauthenticated(std::string_view detail, std::string_view error) {
  http::Response r = http::Problem(401, detail);
  r.Set("WWW-Authenticate",
        error.empty() ? std::string("Bearer") : fmt::format("Bearer error=\"{}\"", error));
  return r;
}

}  // namespace

bool HasAnyRole(const auth::Claims& claims, const std::vector<std::string>& roles,
                const std::string& client_id) {
  for (const auto& role : roles) {
    if (Contains(claims.realm_roles, role)) return true;
    if (auto it = claims.client_roles.find(client_id);
        it != claims.client_roles.end() && Contains(it->second, role)) {
      return true;
    }
  }
  return false;
}

std::string CertificateRefusal(const http::ClientCertificate* certificate,
                               const std::vector<std::string>& subjects) {
  if (certificate == nullptr) return "no client certificate was presented";
  if (!certificate->verified) {
    return fmt::format(
        "the client certificate \"{}\" is not issued by alerts.client_ca_file "
        "(or is expired)",
        certificate->subject);
  }
  if (subjects.empty()) return "";
  if (Contains(subjects, certificate->subject)) return "";
  if (!certificate->common_name.empty() && Contains(subjects, certificate->common_name)) return "";
  for (const auto& name : certificate->alt_names) {
    if (Contains(subjects, name)) return "";
  }
  return fmt::format("the client certificate \"{}\" is not one of alerts.client_subjects",
                     certificate->subject);
}

AlertsAuthenticator::AlertsAuthenticator(AlertsAuthOptions options, TokenValidator validate)
    : options_(std::move(options)), validate_(std::move(validate)) {}

std::optional<http::Response> AlertsAuthenticator::Check(const http::Request& request) const {
  if (options_.require_client_certificate) {
    std::string why =
        CertificateRefusal(request.client_certificate.get(), options_.client_subjects);
    if (!why.empty()) {
      spdlog::info("alerts: refused from {}: {}", request.remote_address, why);
      return http::Problem(403, "a client certificate issued for alert delivery is required");
    }
  }
  const bool static_token = !options_.bearer_token.empty();
  const bool access_tokens = !options_.jwt_roles.empty();
  if (!static_token && !access_tokens) return std::nullopt;
  const std::string authorization = request.Header("authorization");
  if (authorization.empty()) {
    spdlog::info("alerts: refused from {}: no Authorization header", request.remote_address);
    return Unauthenticated("a bearer token is required", "");
  }
  // The scheme name is case-insensitive (RFC 9110 section 11.1).
  if (!StartsWithNoCase(authorization, "bearer ")) {
    spdlog::info("alerts: refused from {}: not a bearer token", request.remote_address);
    return Unauthenticated("only bearer tokens are accepted", "invalid_request");
  }
  std::string_view token = std::string_view(authorization).substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  if (static_token && auth::ConstantTimeEquals(token, options_.bearer_token)) return std::nullopt;
  if (!access_tokens) {
    spdlog::info("alerts: refused from {}: wrong bearer token", request.remote_address);
    return Unauthenticated("a valid bearer token is required", "invalid_token");
  }
  auto claims = validate_(token);
  if (!claims) {
    if (claims.error().code == ErrorCode::kUnauthenticated) {
      spdlog::info("alerts: refused from {}: {}", request.remote_address, claims.error().message);
      return Unauthenticated("a valid bearer token is required", "invalid_token");
    }
    spdlog::warn("alerts: cannot check an access token: {}", claims.error().message);
    http::Response r = http::Problem(503, "token validation is unavailable; try again shortly");
    r.Set("Retry-After", "5");
    return r;
  }
  if (!HasAnyRole(*claims, options_.jwt_roles, options_.client_id)) {
    std::string who = claims->client_id.empty() ? claims->azp : claims->client_id;
    spdlog::info("alerts: refused from {}: the token of {} ({}) has none of alerts.jwt_roles",
                 request.remote_address, who.empty() ? "?" : who, claims->subject);
    http::Response r =
        http::Problem(403, "this token's client may not deliver alerts (missing role)");
    r.Set("WWW-Authenticate", "Bearer error=\"insufficient_scope\"");
    return r;
  }
  return std::nullopt;
}

Result<std::unique_ptr<AlertsAuthStack>> BuildAlertsAuth(const config::Config& config) {
  const config::AlertsConfig& a = config.alerts;
  auto stack = std::make_unique<AlertsAuthStack>();
  AlertsAuthOptions options;
  options.jwt_roles = a.jwt_roles;
  options.client_id = config.auth.client_id;
  options.require_client_certificate = !a.client_ca_file.empty();
  options.client_subjects = a.client_subjects;
  if (!a.bearer_token_file.empty()) {
    std::ifstream in(a.bearer_token_file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    std::string token = text.str();
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) {
      token.pop_back();
    }
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.front()))) {
      token.erase(token.begin());
    }
    if (!in && !in.eof()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "alerts.bearer_token_file: cannot read " + a.bearer_token_file);
    }
    if (token.empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "alerts.bearer_token_file: " + a.bearer_token_file + " holds no token");
    }
    options.bearer_token = std::move(token);
  }
  TokenValidator validate;
  if (!a.jwt_roles.empty()) {
    if (config.auth.issuer.empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "alerts.jwt_roles: needs auth.issuer, the issuer of Alertmanager's tokens");
    }
    auth::KeyCacheOptions keys;
    keys.issuer = config.auth.issuer;
    stack->keys = std::make_unique<auth::KeyCache>(keys, &stack->keys_http,
                                                   auth::Clock([] { return Now(); }));
    auth::JwtOptions jwt;
    jwt.issuer = config.auth.issuer;
    jwt.audience = config.auth.audience;
    jwt.algorithms = config.auth.algorithms;
    auto validator = auth::JwtValidator::Create(jwt);
    if (!validator) return Fail(validator.error());
    stack->validator = std::make_unique<auth::JwtValidator>(std::move(*validator));
    validate = [validator = stack->validator.get(),
                keys = stack->keys.get()](std::string_view token) {
      return auth::ValidateBearer(*validator, *keys, token, Now());
    };
  }
  stack->authenticator = std::make_unique<AlertsAuthenticator>(options, std::move(validate));
  return stack;
}

std::string AlertsRefusal(const config::Config& config, bool loopback) {
  if (!config.alerts.enabled || config.alerts.Authenticated() || loopback) return "";
  return fmt::format(
      "aitelemetry: refusing to accept alerts without authentication on {}: set "
      "alerts.bearer_token_file, alerts.jwt_roles or alerts.client_ca_file, or alerts.enabled: "
      "false",
      config.listen);
}

}  // namespace aitelemetry::api
