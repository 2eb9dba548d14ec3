// Who a bearer access token belongs to and what it may see: validation (jwt.h, with the issuer's
// cached keys) followed by grants from the token's claims or from Keycloak UMA. The one function
// the HTTP middleware, the browser login and tests all call.
#pragma once

#include <string>
#include <string_view>

#include "auth/grants.h"
#include "auth/jwks.h"
#include "auth/jwt.h"
#include "auth/uma.h"
#include "core/result.h"

namespace aitelemetry::auth {

struct Identity {
  std::string subject;  // "sub"
  std::string name;     // preferred_username, else client_id, else azp, else sub
  GrantSet grants;
  Timestamp expires_at{};  // the token's exp
};

class Authenticator {
 public:
  // Grants come from UMA when `uma` is set, else from the token's claims. With UMA, the admin
  // and manager roles in the claims are merged with UMA's resources, so an admin stays admin.
  // Requires: every pointer outlives this object; `uma` may be null.
  Authenticator(const JwtValidator* validator, KeyCache* keys, UmaClient* uma,
                GrantOptions grant_options, Clock clock);

  // Validates `access_token` and returns its identity. Errors: kUnauthenticated when the token is
  // refused (the reason in the message, never the token); kUnavailable when the issuer's keys
  // cannot be had, or when UMA fails in any way (fail closed: never "no grants" or "all"), with
  // kDeadlineExceeded mapped to kUnavailable too.
  [[nodiscard]] Result<Identity> Identify(std::string_view access_token) const;

 private:
  const JwtValidator* const validator_;
  KeyCache* const keys_;
  UmaClient* const uma_;
  const GrantOptions grant_options_;
  const Clock clock_;
};

}  // namespace aitelemetry::auth
