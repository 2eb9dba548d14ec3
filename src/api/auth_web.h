// Authentication at the HTTP edge, in one place: the middleware that attaches an api::Caller to
// every routed request (bearer JWTs, browser sessions, open local mode), CSRF checks on
// cookie-authenticated writes, and the browser login routes (/login, /callback, /logout) and
// /api/me. The decisions themselves live in auth/ (tokens, grants, sessions) and auth_policy.h.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/auth_policy.h"
#include "api/caller.h"
#include "auth/authenticator.h"
#include "auth/jwks.h"
#include "auth/oidc_client.h"
#include "auth/session_store.h"
#include "auth/uma.h"
#include "config/config.h"
#include "http/client.h"
#include "http/router.h"
#include "store/store.h"

namespace aitelemetry::api {

inline constexpr char kSessionCookie[] = "aitelemetry_session";
inline constexpr char kLoginCookie[] = "aitelemetry_login";

struct WebAuthOptions {
  bool public_openapi = true;
  // The browser login's redirect URI (auth.redirect_url): also the origin logout returns to, and
  // its scheme alone decides the cookies' Secure flag. Nothing of either comes from the request.
  // Empty: browser sign-in is off (/login answers 404).
  std::string redirect_url;
  // Open local mode: Host names answered besides loopback ones (localhost, 127.0.0.0/8, [::1]).
  std::vector<std::string> allowed_hosts;
  std::chrono::seconds session_ttl{8 * 3600};
  // A browser session's grants older than this are computed again from the issuer before use.
  std::chrono::seconds session_refresh{300};
  std::chrono::seconds login_ttl{600};  // how long a /login may wait for its /callback
};

// Computes a browser session's grants again from the issuer: returns the session with fresh
// tokens and grants (grants_at is set by the caller). Errors: kUnauthenticated when the issuer
// refuses (the session must end); any other code when it cannot be asked (the grants are then
// reduced to none until it can).
using SessionRefresher = std::function<Result<auth::WebSession>(const auth::WebSession&)>;

// Returns whether `host` (a Host header or an Origin's authority: name or address, optional
// port) names this machine's loopback: localhost, an address in 127.0.0.0/8, or [::1].
bool IsLoopbackHost(std::string_view host);

// The Host/Origin rule of open local mode against DNS rebinding: a request is answered only when
// its Host is a loopback name or one of `allowed_hosts` (any port), and its Origin, when sent,
// is an http(s) origin whose host passes the same test. Returns the refusal (403), or nothing.
std::optional<http::Response> RefuseForeignHost(const http::Request& request,
                                                const std::vector<std::string>& allowed_hosts);

// The access rule of GET /metrics: with a non-empty `bearer_token`, only requests that send it
// (Authorization: Bearer, compared in constant time) are answered, from anywhere; without one,
// only callers on a loopback address (127.0.0.0/8, ::1, ::ffff:127.x). Returns the refusal
// (401 with WWW-Authenticate, or 403), or nothing.
std::optional<http::Response> RefuseMetricsCaller(const http::Request& request,
                                                  std::string_view bearer_token);

// Thread-safe once installed.
class WebAuth {
 public:
  // Open local mode: every routed request gets OpenModeCaller(); /api/me answers for it; /login
  // and /logout send the browser home.
  explicit WebAuth(WebAuthOptions options);
  // Authenticated mode. `refresh` recomputes a session's grants (see SessionRefresher).
  // Requires: the pointers outlive this object.
  WebAuth(WebAuthOptions options, auth::Authenticator* authenticator, auth::OidcClient* oidc,
          auth::SessionStore* sessions, auth::Clock clock, SessionRefresher refresh);

  // Adds the middleware to `router` and the routes GET /login, GET /callback, GET+POST /logout
  // and GET /api/me. Logout ends a session only on a POST that carries the session's CSRF token
  // (X-CSRF-Token, or csrf_token in a form body); GET /logout answers a page whose form does that,
  // so a cross-site link or image cannot sign anyone out. Answers on /api, /ngsi-ld and /openapi
  // paths that carry no Cache-Control get "Cache-Control: no-store" (they are per caller).
  // Requires: `this` outlives the router; called before routes whose patterns would also match
  // /api/me (such as /api/{model}), since the router matches in order.
  void Install(http::Router& router);

  // The middleware (exposed for tests): see the class comment and auth_policy.h for the rules.
  // On a fast path (request.fast, an I/O thread) it decides only in open local mode and for
  // routes with their own authentication; otherwise it returns http::Deferred().
  http::Response Handle(http::Request& request,
                        const std::function<http::Response(http::Request&)>& next);

 private:
  // Identifies the request's credentials. Returns the caller, or nothing when no credentials came
  // (or a session cookie names no live session), or a ready error response (401, 503).
  struct Outcome {
    std::optional<Caller> caller;
    std::optional<http::Response> refusal;
  };
  Outcome Identify(const http::Request& request);
  // Handle's decision for a request of `kind`, before the Cache-Control rule.
  http::Response Decide(PathKind kind, http::Request& request,
                        const std::function<http::Response(http::Request&)>& next);

  http::Response Login(const http::Request& request);
  http::Response Callback(const http::Request& request);
  http::Response Logout(const http::Request& request);
  http::Response Me(const http::Request& request) const;

  std::string CookieAttributes() const;

  const WebAuthOptions options_;
  const bool open_mode_;
  auth::Authenticator* const authenticator_ = nullptr;
  auth::OidcClient* const oidc_ = nullptr;
  auth::SessionStore* const sessions_ = nullptr;
  const auth::Clock clock_;
  const SessionRefresher refresh_;
};

// Test seams for BuildAuth; production uses the defaults.
struct AuthSeams {
  auth::Clock clock;                          // empty: the system clock
  std::chrono::seconds min_jwks_refresh{30};  // KeyCacheOptions::min_refresh_interval
  std::string uma_token_endpoint;             // empty: Keycloak's path under the issuer
  SessionRefresher session_refresh;           // empty: the refresh token at the issuer
};

// Everything authentication needs, built from config and owned together.
struct AuthStack {
  http::HttpClient keys_http, uma_http, oidc_http;
  std::unique_ptr<auth::KeyCache> keys;
  std::unique_ptr<auth::JwtValidator> validator;
  std::unique_ptr<auth::UmaClient> uma;
  std::unique_ptr<auth::Authenticator> authenticator;
  std::unique_ptr<auth::OidcClient> oidc;
  std::unique_ptr<auth::SessionStore> sessions;
  std::unique_ptr<WebAuth> web;
};

// Builds the stack for `config` (open local mode when config.issuer is empty). Errors:
// kInvalidArgument for a bad algorithm list or grants_source, an unreadable client_secret_file,
// or an issuer without redirect_url (browser sign-in needs its callback configured).
// Requires: `store` outlives the stack.
[[nodiscard]] Result<std::unique_ptr<AuthStack>> BuildAuth(const config::AuthConfig& config,
                                                           store::Store* store,
                                                           AuthSeams seams = {});

}  // namespace aitelemetry::api
