#include "auth/oidc_client.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <nlohmann/json.hpp>

#include "auth/base64url.h"

namespace aitelemetry::auth {
namespace {

using Json = nlohmann::json;

std::string Sha256(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

std::string StringMember(const Json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool IsHttpUrl(const std::string& url) {
  return url.starts_with("https://") || url.starts_with("http://");
}

// Appends `name=value` to a URL that may already have a query.
void AddParam(std::string& url, std::string_view name, std::string_view value) {
  url += url.find('?') == std::string::npos ? '?' : '&';
  url += name;
  url += '=';
  url += http::UrlEncode(value);
}

}  // namespace

std::string RandomToken(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    // The CSPRNG never fails on a seeded Linux system; refusing to continue is the only safe
    // answer if it ever does.
    std::abort();
  }
  return Base64UrlEncode(raw);
}

std::string PkceChallengeS256(std::string_view verifier) {
  return Base64UrlEncode(Sha256(verifier));
}

std::string Sha256Hex(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : Sha256(text)) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<ProviderMetadata> ParseDiscovery(std::string_view json, std::string_view issuer) {
  Json doc = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "oidc: discovery document is not a JSON object");
  }
  ProviderMetadata m;
  m.issuer = StringMember(doc, "issuer");
  if (m.issuer != issuer) {
    return Fail(ErrorCode::kInvalidArgument, "oidc: discovery document names another issuer");
  }
  m.authorization_endpoint = StringMember(doc, "authorization_endpoint");
  m.token_endpoint = StringMember(doc, "token_endpoint");
  m.end_session_endpoint = StringMember(doc, "end_session_endpoint");
  if (!IsHttpUrl(m.authorization_endpoint) || !IsHttpUrl(m.token_endpoint)) {
    return Fail(ErrorCode::kInvalidArgument,
                "oidc: discovery lacks an http(s) authorization_endpoint or token_endpoint");
  }
  if (!m.end_session_endpoint.empty() && !IsHttpUrl(m.end_session_endpoint)) {
    m.end_session_endpoint.clear();
  }
  return m;
}

Result<std::unique_ptr<OidcClient>> OidcClient::Create(OidcClientOptions options,
                                                       std::vector<std::string> algorithms,
                                                       http::HttpClient* client, KeyCache* keys) {
  if (options.issuer.empty() || options.client_id.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "oidc: issuer and client_id are required");
  }
  JwtOptions id;
  id.kind = TokenKind::kId;
  id.issuer = options.issuer;
  id.audience = options.client_id;
  id.algorithms = std::move(algorithms);
  auto validator = JwtValidator::Create(std::move(id));
  if (!validator) return Fail(validator.error());
  return std::unique_ptr<OidcClient>(
      new OidcClient(std::move(options), std::move(*validator), client, keys));
}

OidcClient::OidcClient(OidcClientOptions options, JwtValidator id_validator,
                       http::HttpClient* client, KeyCache* keys)
    : options_(std::move(options)),
      id_validator_(std::move(id_validator)),
      keys_(keys),
      client_(client) {}

Result<ProviderMetadata> OidcClient::Metadata() {
  std::lock_guard lock(mu_);
  if (metadata_) return *metadata_;
  std::string issuer = options_.issuer;
  while (!issuer.empty() && issuer.back() == '/') issuer.pop_back();
  http::ClientRequest request;
  request.url = issuer + "/.well-known/openid-configuration";
  request.headers = {{"Accept", "application/json"}};
  request.timeout = options_.timeout;
  request.max_response_bytes = 1u << 20;
  auto response = client_->Send(request);
  if (!response) return Fail(response.error());
  if (response->status != 200) {
    return Fail(ErrorCode::kUnavailable,
                "oidc: discovery answered HTTP " + std::to_string(response->status));
  }
  auto parsed = ParseDiscovery(response->body, options_.issuer);
  if (!parsed) return Fail(parsed.error());
  metadata_ = *parsed;
  return *parsed;
}

Result<LoginRequest> OidcClient::BeginLogin(std::string_view redirect_uri) {
  auto metadata = Metadata();
  if (!metadata) return Fail(metadata.error());
  LoginRequest login;
  login.state = RandomToken();
  login.nonce = RandomToken();
  login.code_verifier = RandomToken();  // 43 characters, RFC 7636's minimum length
  std::string& url = login.authorization_url;
  url = metadata->authorization_endpoint;
  AddParam(url, "response_type", "code");
  AddParam(url, "client_id", options_.client_id);
  AddParam(url, "redirect_uri", redirect_uri);
  AddParam(url, "scope", options_.scope);
  AddParam(url, "state", login.state);
  AddParam(url, "nonce", login.nonce);
  AddParam(url, "code_challenge", PkceChallengeS256(login.code_verifier));
  AddParam(url, "code_challenge_method", "S256");
  return login;
}

Result<nlohmann::json> OidcClient::PostToken(std::string form, std::string_view what) {
  auto metadata = Metadata();
  if (!metadata) return Fail(metadata.error());
  http::ClientRequest request;
  request.method = "POST";
  request.url = metadata->token_endpoint;
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"}};
  request.body = std::move(form);
  if (options_.client_secret.empty()) {
    // A public client: PKCE (or the refresh token's binding) alone.
    request.body += "&client_id=" + http::UrlEncode(options_.client_id);
  } else {
    // RFC 6749 section 2.3.1: client_secret_basic, both parts form-encoded first.
    std::string basic =
        http::UrlEncode(options_.client_id) + ":" + http::UrlEncode(options_.client_secret);
    std::string b64(4 * ((basic.size() + 2) / 3) + 1, '\0');  // EVP_EncodeBlock adds a NUL
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                            reinterpret_cast<const unsigned char*>(basic.data()),
                            static_cast<int>(basic.size()));
    b64.resize(static_cast<size_t>(n));
    request.headers.emplace_back("Authorization", "Basic " + b64);
  }
  request.timeout = options_.timeout;
  request.max_response_bytes = 1u << 20;
  Result<http::ClientResponse> response;
  {
    std::lock_guard lock(mu_);
    response = client_->Send(request);
  }
  if (!response) return Fail(response.error());
  Json body = Json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  if (response->status >= 400 && response->status < 500) {
    std::string error = body.is_object() ? StringMember(body, "error") : std::string();
    return Fail(ErrorCode::kUnauthenticated,
                "oidc: the token endpoint refused the " + std::string(what) + " (" +
                    (error.empty() ? std::to_string(response->status) : error) + ")");
  }
  if (response->status != 200 || !body.is_object()) {
    return Fail(ErrorCode::kUnavailable,
                "oidc: token endpoint answered HTTP " + std::to_string(response->status));
  }
  return body;
}

Result<TokenSet> OidcClient::ExchangeCode(std::string_view code, std::string_view code_verifier,
                                          std::string_view redirect_uri,
                                          std::string_view expected_nonce, Timestamp now) {
  auto body = PostToken("grant_type=authorization_code&code=" + http::UrlEncode(code) +
                            "&redirect_uri=" + http::UrlEncode(redirect_uri) +
                            "&code_verifier=" + http::UrlEncode(code_verifier),
                        "code");
  if (!body) return Fail(body.error());
  TokenSet tokens;
  tokens.access_token = StringMember(*body, "access_token");
  tokens.id_token = StringMember(*body, "id_token");
  tokens.refresh_token = StringMember(*body, "refresh_token");
  if (tokens.access_token.empty() || tokens.id_token.empty()) {
    return Fail(ErrorCode::kUnauthenticated, "oidc: the token response lacks a token");
  }
  auto claims = ValidateBearer(id_validator_, *keys_, tokens.id_token, now);
  if (!claims) {
    if (claims.error().code == ErrorCode::kUnauthenticated) {
      return Fail(ErrorCode::kUnauthenticated, "oidc: ID token " + claims.error().message);
    }
    return Fail(claims.error());
  }
  if (claims->nonce.empty() || !ConstantTimeEquals(claims->nonce, expected_nonce)) {
    return Fail(ErrorCode::kUnauthenticated, "oidc: ID token nonce does not match the login");
  }
  tokens.id_claims = std::move(*claims);
  return tokens;
}

Result<TokenSet> OidcClient::Refresh(std::string_view refresh_token) {
  if (refresh_token.empty()) {
    return Fail(ErrorCode::kUnauthenticated, "oidc: the session has no refresh token");
  }
  auto body = PostToken("grant_type=refresh_token&refresh_token=" + http::UrlEncode(refresh_token),
                        "refresh token");
  if (!body) return Fail(body.error());
  TokenSet tokens;
  tokens.access_token = StringMember(*body, "access_token");
  tokens.id_token = StringMember(*body, "id_token");
  tokens.refresh_token = StringMember(*body, "refresh_token");
  if (tokens.access_token.empty()) {
    return Fail(ErrorCode::kUnauthenticated, "oidc: the refresh response lacks an access token");
  }
  if (tokens.refresh_token.empty()) tokens.refresh_token = std::string(refresh_token);
  return tokens;
}

std::optional<std::string> OidcClient::LogoutUrl(std::string_view id_token_hint,
                                                 std::string_view post_logout_redirect_uri) {
  auto metadata = Metadata();
  if (!metadata || metadata->end_session_endpoint.empty()) return std::nullopt;
  std::string url = metadata->end_session_endpoint;
  if (!id_token_hint.empty()) AddParam(url, "id_token_hint", id_token_hint);
  AddParam(url, "client_id", options_.client_id);
  AddParam(url, "post_logout_redirect_uri", post_logout_redirect_uri);
  return url;
}

}  // namespace aitelemetry::auth
