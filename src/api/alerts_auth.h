// Who may deliver alerts to POST /api/alerts: the Alertmanager a site configured, and nobody
// else. Up to three checks, from config `alerts`:
//   - client_ca_file: the TLS client certificate must chain to that CA (and, with
//     client_subjects, name one of them);
//   - bearer_token_file and jwt_roles: the Authorization header must carry that static token, or
//     an access token of auth.issuer (validated as API tokens are) with one of the roles in its
//     realm roles or its client roles of auth.client_id (Alertmanager's oauth2 client credentials).
// A request must pass the certificate check when it is configured and the Authorization check
// when either of its two modes is; the refusals are 401 (no or bad credentials) and 403 (valid,
// but not allowed), which Alertmanager does not retry.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jwks.h"
#include "auth/jwt.h"
#include "config/config.h"
#include "core/result.h"
#include "http/client.h"
#include "http/message.h"

namespace aitelemetry::api {

// Validates an access token and returns its claims (auth::ValidateBearer, in production).
// Errors: kUnauthenticated for a refused token; kUnavailable when the issuer's keys cannot be had.
using TokenValidator = std::function<Result<auth::Claims>(std::string_view token)>;

struct AlertsAuthOptions {
  std::string bearer_token;            // empty: no static token
  std::vector<std::string> jwt_roles;  // empty: no access tokens
  std::string client_id;               // whose client roles count (auth.client_id)
  bool require_client_certificate = false;
  std::vector<std::string> client_subjects;  // empty: any certificate the CA issued
};

// True when the token's realm roles, or its client roles of `client_id`, include one of `roles`.
bool HasAnyRole(const auth::Claims& claims, const std::vector<std::string>& roles,
                const std::string& client_id);

// Returns "" when `certificate` verified and (with `subjects`) names one of them as its common
// name, one of its subjectAltNames or its whole RFC 2253 subject; else why not.
std::string CertificateRefusal(const http::ClientCertificate* certificate,
                               const std::vector<std::string>& subjects);

// Thread-safe (immutable after construction).
class AlertsAuthenticator {
 public:
  // `validate` is required when options.jwt_roles is not empty.
  AlertsAuthenticator(AlertsAuthOptions options, TokenValidator validate);

  // Returns nothing when `request` may deliver alerts, else the answer to send: 401 with
  // WWW-Authenticate: Bearer for missing or wrong credentials, 403 for a client certificate that is
  // missing or not allowed and for a valid access token without one of the roles, 503 when the
  // issuer's keys cannot be had. The reason is logged, never a token.
  std::optional<http::Response> Check(const http::Request& request) const;

 private:
  const AlertsAuthOptions options_;
  const TokenValidator validate_;
};

// An AlertsAuthenticator built from configuration, with what it owns for access tokens.
struct AlertsAuthStack {
  http::HttpClient keys_http;
  std::unique_ptr<auth::KeyCache> keys;
  std::unique_ptr<auth::JwtValidator> validator;
  std::unique_ptr<AlertsAuthenticator> authenticator;
};

// Builds the webhook's authenticator from `config` (alerts, auth and tls). Reads the static
// token; builds the issuer's key cache and a validator with the options API tokens get when
// alerts.jwt_roles is set. Errors: kInvalidArgument for a token file that cannot be read or holds
// no token, jwt_roles without auth.issuer, or a validator the auth options do not allow.
[[nodiscard]] Result<std::unique_ptr<AlertsAuthStack>> BuildAlertsAuth(
    const config::Config& config);

// For a role that runs the webhook (worker, all): returns "" when `config` may start, `loopback`
// telling whether its listen address is loopback only; else the one line to print before exiting
// with 2: the webhook is on (alerts.enabled), no authentication mode is configured and the
// address is reachable from elsewhere.
std::string AlertsRefusal(const config::Config& config, bool loopback);

}  // namespace aitelemetry::api
