// The relying-party side of the OpenID Connect authorization code flow with PKCE (RFC 7636, S256),
// state and nonce, as the browser login uses it: discovery, the authorization URL, the code
// exchange at the token endpoint with the client's secret, ID-token checks, and the
// RP-initiated-logout URL. No HTTP server here: api/auth_routes.cc adapts it to /login, /callback.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "auth/jwks.h"
#include "auth/jwt.h"
#include "core/result.h"
#include "http/client.h"

namespace aitelemetry::auth {

// Returns `bytes` random bytes from OpenSSL's CSPRNG as unpadded base64url (32 bytes: 43 chars).
std::string RandomToken(size_t bytes = 32);

// Returns the PKCE S256 code challenge of `verifier`: base64url(SHA-256(verifier)).
std::string PkceChallengeS256(std::string_view verifier);

// Returns the SHA-256 of `text` as 64 lower-case hex digits.
std::string Sha256Hex(std::string_view text);

// Compares two secrets in time independent of where they differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// The parts of the issuer's discovery document the login uses.
struct ProviderMetadata {
  std::string issuer;
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string end_session_endpoint;  // empty when the provider has no RP-initiated logout
};

// Parses {issuer}/.well-known/openid-configuration. Returns kInvalidArgument when it is not a JSON
// object, its "issuer" differs from `issuer` byte for byte, or the authorization or token endpoint
// is missing.
[[nodiscard]] Result<ProviderMetadata> ParseDiscovery(std::string_view json,
                                                      std::string_view issuer);

struct OidcClientOptions {
  std::string issuer;
  std::string client_id;
  std::string client_secret;  // HTTP Basic to the token endpoint; empty: a public client
  std::string scope = "openid profile email";
  std::chrono::milliseconds timeout{5000};
};

// What /login remembers until /callback: all three are secrets of this one login.
struct LoginRequest {
  std::string authorization_url;  // where to send the browser
  std::string state;
  std::string nonce;
  std::string code_verifier;
};

// The outcome of a successful code exchange.
struct TokenSet {
  std::string access_token;  // validated by the caller as any bearer token (Authenticator)
  std::string id_token;
  std::string refresh_token;  // empty when the provider issued none
  Claims id_claims;           // the validated ID token's claims (code exchange only)
};

// Thread-safe.
class OidcClient {
 public:
  // Requires: `client` and `keys` (the issuer's key cache) outlive this object; `client` is used
  // by nobody else. Returns kInvalidArgument when issuer or client_id is empty or the ID-token
  // validator cannot be built from `algorithms`.
  [[nodiscard]] static Result<std::unique_ptr<OidcClient>> Create(
      OidcClientOptions options, std::vector<std::string> algorithms, http::HttpClient* client,
      KeyCache* keys);

  // Returns the provider's metadata, fetched once and kept after the first success. Errors:
  // kUnavailable / kDeadlineExceeded when the issuer cannot be reached or answers non-200,
  // kInvalidArgument for a bad document.
  [[nodiscard]] Result<ProviderMetadata> Metadata();

  // Starts a login that returns to `redirect_uri`: fresh state, nonce and verifier, and the
  // authorization URL (response_type=code, code_challenge_method=S256). Errors as Metadata().
  [[nodiscard]] Result<LoginRequest> BeginLogin(std::string_view redirect_uri);

  // Exchanges `code` at the token endpoint (grant_type=authorization_code, the same redirect_uri,
  // the verifier) and validates the ID token: signature with the issuer's keys, iss, aud =
  // client_id, exp, and nonce == `expected_nonce`. Errors: kUnauthenticated when the provider
  // refuses the code (4xx) or the ID token is invalid or its nonce differs (the reason in the
  // message, never a token); kUnavailable / kDeadlineExceeded when the provider cannot be reached
  // or answers 5xx or junk.
  [[nodiscard]] Result<TokenSet> ExchangeCode(std::string_view code, std::string_view code_verifier,
                                              std::string_view redirect_uri,
                                              std::string_view expected_nonce, Timestamp now);

  // Asks the token endpoint for fresh tokens (grant_type=refresh_token), as a browser session does
  // every few minutes to recompute its grants. The returned set's refresh_token is the new one,
  // or `refresh_token` again when the provider rotates none; id_claims is left empty (the access
  // token is what the caller validates). Errors: kUnauthenticated when `refresh_token` is empty or
  // the provider refuses it (4xx: the user was disabled, signed out or the session revoked);
  // kUnavailable / kDeadlineExceeded when the provider cannot be reached or answers 5xx or junk.
  [[nodiscard]] Result<TokenSet> Refresh(std::string_view refresh_token);

  // Returns the provider's logout URL with id_token_hint, client_id and
  // post_logout_redirect_uri, or nothing when discovery has no end_session_endpoint (or cannot be
  // fetched).
  std::optional<std::string> LogoutUrl(std::string_view id_token_hint,
                                       std::string_view post_logout_redirect_uri);

 private:
  OidcClient(OidcClientOptions options, JwtValidator id_validator, http::HttpClient* client,
             KeyCache* keys);

  // POSTs `form` (without client authentication, which this adds) to the token endpoint and
  // returns the JSON object answered. `what` names the grant in errors. Errors as Refresh.
  Result<nlohmann::json> PostToken(std::string form, std::string_view what);

  const OidcClientOptions options_;
  const JwtValidator id_validator_;
  KeyCache* const keys_;

  std::mutex mu_;  // guards client_ and metadata_
  http::HttpClient* const client_;
  std::optional<ProviderMetadata> metadata_;
};

}  // namespace aitelemetry::auth
