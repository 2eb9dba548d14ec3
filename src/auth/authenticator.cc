#include "auth/authenticator.h"

#include <utility>

namespace aitelemetry::auth {

Authenticator::Authenticator(const JwtValidator* validator, KeyCache* keys, UmaClient* uma,
                             GrantOptions grant_options, Clock clock)
    : validator_(validator),
      keys_(keys),
      uma_(uma),
      grant_options_(std::move(grant_options)),
      clock_(std::move(clock)) {}

Result<Identity> Authenticator::Identify(std::string_view access_token) const {
  auto claims = ValidateBearer(*validator_, *keys_, access_token, clock_());
  if (!claims) {
    if (claims.error().code == ErrorCode::kUnauthenticated) return Fail(claims.error());
    return Fail(ErrorCode::kUnavailable, "issuer keys unavailable: " + claims.error().message);
  }
  Identity id;
  id.subject = claims->subject;
  for (const std::string* n :
       {&claims->preferred_username, &claims->client_id, &claims->azp, &claims->subject}) {
    if (!n->empty()) {
      id.name = *n;
      break;
    }
  }
  id.expires_at = claims->expires_at;
  GrantSet from_claims = GrantsFromClaims(*claims, grant_options_);
  if (uma_ == nullptr) {
    id.grants = std::move(from_claims);
    return id;
  }
  auto uma = uma_->Grants(claims->subject, access_token);
  if (!uma) {
    return Fail(ErrorCode::kUnavailable, "grants unavailable (UMA): " + uma.error().message);
  }
  id.grants = std::move(*uma);
  id.grants.admin = id.grants.admin || from_claims.admin;
  id.grants.manager = id.grants.manager || from_claims.manager;
  return id;
}

}  // namespace aitelemetry::auth
