// Validation of bearer access tokens (signed JWTs) against the issuer's cached keys, following
// RFC 7515/7519, RFC 8725 (JWT best current practice) and RFC 9068 (JWT access tokens).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "auth/jwks.h"
#include "core/result.h"
#include "core/time.h"

namespace aitelemetry::auth {

// The claims of an accepted access token that the rest of the program uses.
struct Claims {
  std::string issuer;
  std::string subject;             // "sub"
  std::string preferred_username;  // Keycloak; empty when absent
  std::string email;
  std::string azp;        // authorized party: the client the token was issued to
  std::string client_id;  // RFC 9068 "client_id"; empty when absent
  std::string scope;      // space-separated scopes, as sent
  std::string nonce;      // ID tokens: the nonce of the authentication request; else empty
  std::vector<std::string> audience;
  std::vector<std::string> groups;       // "groups", as sent (Keycloak prefixes a '/')
  std::vector<std::string> realm_roles;  // "realm_access.roles"
  // "resource_access.{client}.roles", per client.
  std::map<std::string, std::vector<std::string>> client_roles;
  Timestamp expires_at{};
  std::string raw_json;  // the decoded payload, for claims not listed here
};

// Which kind of token a validator accepts.
enum class TokenKind {
  kAccess,  // a bearer access token (RFC 9068 / Keycloak): the ID-token rule below applies
  kId,      // an OpenID Connect ID token from the code flow; audience is the client id, and a
            // token marked as an access token (header typ at+jwt, typ claim other than "ID") is
            // refused. The caller compares `nonce` with the one it sent.
};

struct JwtOptions {
  TokenKind kind = TokenKind::kAccess;
  std::string issuer;    // compared byte for byte with "iss"
  std::string audience;  // must be "aud" or one of its elements, e.g. "ai-telemetry"
  // Accepted "alg" values, compared exactly. Only RS256/384/512, PS256/384/512 and ES256 may be
  // listed; "none" and HMAC algorithms are refused by JwtValidator::Create.
  std::vector<std::string> algorithms = {"RS256", "PS256", "ES256"};
  // Allowed clock skew for exp, nbf and iat; 0 to 60 seconds.
  std::chrono::seconds leeway{60};
  // When true (the default), a token must say it is an access token: header "typ" "at+jwt"
  // (RFC 9068) or claim "typ" "Bearer" (Keycloak). Turn off only for a provider that marks neither.
  bool require_access_token_type = true;
  size_t max_token_bytes = 16 * 1024;
};

// Why a token was refused. The Error beside it carries a human-readable reason for logs; neither
// ever contains the token.
enum class JwtRejection {
  kMalformed,    // not a compact JWS, bad base64url, bad JSON, duplicate keys, wrong claim types
  kTooLarge,     // over max_token_bytes
  kEncrypted,    // a JWE (five parts)
  kAlgorithm,    // "none", HMAC, or not allow-listed; unknown "crit"
  kTokenType,    // header "typ" not JWT/at+jwt, or an ID/refresh token used as an access token
  kUnknownKid,   // no cached key with that kid: refresh the key set (rate-limited) and retry
  kKeyMismatch,  // the key's type does not fit the algorithm
  kSignature,    // the signature does not verify
  kIssuer,       // "iss" is not the configured issuer
  kAudience,     // "aud" lacks the configured audience
  kExpired,      // "exp" absent or past
  kNotYetValid,  // "nbf" or "iat" in the future
};

// Returns a stable lower-case name for `rejection`, e.g. "unknown_kid".
std::string_view JwtRejectionName(JwtRejection rejection);

struct JwtError {
  JwtRejection rejection = JwtRejection::kMalformed;
  Error error;  // always kUnauthenticated
};

// Validates access tokens for one issuer and audience. Immutable after Create; thread-safe.
class JwtValidator {
 public:
  // Returns kInvalidArgument when the issuer or audience is empty, the algorithm list is empty or
  // names "none", an HMAC or an unsupported algorithm, or the leeway is outside 0..60 s.
  [[nodiscard]] static Result<JwtValidator> Create(JwtOptions options);

  // Checks `token` (the text after "Bearer ") against `keys` at time `now` and returns its claims.
  // The header must hold alg and kid (a lookup into `keys`, never anything else); typ is
  // optional; crit and cty are refused; jku, x5u, jwk, x5c and other members are ignored, never
  // fetched or trusted. Duplicate JSON member names anywhere in header or payload are refused.
  //
  // ID-token rule: a token is refused as not an access token when its "typ" claim is present and
  // is not "Bearer" (Keycloak ID tokens say "ID", refresh tokens "Refresh"), when it carries an
  // ID-token-only claim ("at_hash", "c_hash", "s_hash"), when it carries "nonce" without being
  // marked as an access token (typ claim "Bearer" or header typ "at+jwt"; older Keycloak puts the
  // nonce into access tokens too, marked Bearer), and, with require_access_token_type, when it is
  // marked neither way.
  tl::expected<Claims, JwtError> Validate(std::string_view token, const KeySet& keys,
                                          Timestamp now) const;

  const JwtOptions& options() const { return options_; }

 private:
  explicit JwtValidator(JwtOptions options) : options_(std::move(options)) {}

  JwtOptions options_;
};

// Validates `token` with keys from `cache`; on an unknown kid asks the cache for a rate-limited
// refresh and tries once more. Returns the claims, or kUnauthenticated with the reason (never the
// token), or the cache's error (kUnavailable...) when no keys can be had at all.
[[nodiscard]] Result<Claims> ValidateBearer(const JwtValidator& validator, KeyCache& cache,
                                            std::string_view token, Timestamp now);

}  // namespace aitelemetry::auth
