#include "api/auth_web.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <utility>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "api/auth_policy.h"

namespace aitelemetry::api {
namespace {

using Json = nlohmann::json;

bool IsSafeMethod(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS";
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

http::Response Redirect(std::string location) {
  http::Response r;
  r.status = 302;
  r.Set("Location", std::move(location));
  r.Set("Cache-Control", "no-store");
  return r;
}

// 401 for a request without credentials (RFC 6750 section 3: no error code).
http::Response NeedCredentials() {
  http::Response r = http::Problem(401, "authentication is required: send a bearer token");
  r.Set("WWW-Authenticate", "Bearer");
  return r;
}

http::Response InvalidToken() {
  http::Response r = http::Problem(401, "the bearer token is invalid or expired");
  r.Set("WWW-Authenticate", "Bearer error=\"invalid_token\"");
  return r;
}

http::Response NoBrowserLogin() {
  return http::Problem(404, "browser sign-in is not configured (auth.redirect_url)");
}

// The page GET /logout answers for a signed-in browser: one button that posts the CSRF token.
http::Response LogoutPage(std::string_view csrf_token) {
  http::Response r;
  r.Set("Content-Type", "text/html; charset=utf-8");
  r.Set("Cache-Control", "no-store");
  // No form-action limit: the post is answered with a redirect to the issuer's logout.
  r.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  r.body =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>Sign out</title></head><body>\n"
      "<form method=\"post\" action=\"/logout\">"
      "<input type=\"hidden\" name=\"csrf_token\" value=\"" +
      std::string(csrf_token) +  // base64url: nothing to escape
      "\"><button type=\"submit\">Sign out of AI Telemetry</button></form>\n</body></html>\n";
  return r;
}

http::Response AuthUnavailable() {
  http::Response r = http::Problem(503, "authentication is unavailable; try again shortly");
  r.Set("Retry-After", "5");
  return r;
}

// The origin ("https://host:port") of an absolute URL, or "" when it has none.
std::string OriginOf(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  auto path = url.find('/', scheme + 3);
  return std::string(url.substr(0, path));
}

std::string ReadSecret(const std::string& path, bool* ok) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  *ok = in.good() || in.eof();
  *ok = *ok && !s.empty();
  return s;
}

// The host part of a Host header or URL authority: "[::1]:8080" -> "::1", "a.b:80" -> "a.b".
std::string_view HostPart(std::string_view authority) {
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    return close == std::string_view::npos ? std::string_view() : authority.substr(1, close - 1);
  }
  return authority.substr(0, authority.find(':'));
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// Whether `address` (no port, no brackets) is a loopback IP address literal.
bool IsLoopbackAddress(std::string_view address) {
  if (address == "::1" || address == "0:0:0:0:0:0:0:1") return true;
  if (EqualsNoCase(address.substr(0, 7), "::ffff:")) address.remove_prefix(7);
  // 127.a.b.c: four decimal parts, the first 127.
  if (!address.starts_with("127.")) return false;
  int parts = 0;
  for (size_t i = 0; i <= address.size();) {
    size_t dot = std::min(address.find('.', i), address.size());
    std::string_view part = address.substr(i, dot - i);
    if (part.empty() || part.size() > 3) return false;
    int v = 0;
    for (char c : part) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    if (v > 255) return false;
    ++parts;
    i = dot + 1;
  }
  return parts == 4;
}

bool HostAllowed(std::string_view host, const std::vector<std::string>& allowed_hosts) {
  if (IsLoopbackHost(host)) return true;
  std::string_view name = HostPart(host);
  if (name.empty()) return false;
  for (const auto& a : allowed_hosts) {
    if (EqualsNoCase(name, HostPart(a))) return true;
  }
  return false;
}

}  // namespace

bool IsLoopbackHost(std::string_view host) {
  std::string_view name = HostPart(host);
  if (name.ends_with('.')) name.remove_suffix(1);  // "localhost." is localhost too
  return EqualsNoCase(name, "localhost") || IsLoopbackAddress(name);
}

std::optional<http::Response> RefuseForeignHost(const http::Request& request,
                                                const std::vector<std::string>& allowed_hosts) {
  if (!HostAllowed(request.Header("host"), allowed_hosts)) {
    return http::Problem(403,
                         "open local mode answers only loopback host names; add this one to "
                         "auth.allowed_hosts to serve it");
  }
  std::string origin = request.Header("origin");
  if (!origin.empty()) {
    std::string_view o(origin);
    bool web = o.starts_with("http://") || o.starts_with("https://");
    std::string_view authority = web ? o.substr(o.find("://") + 3) : std::string_view();
    if (!web || authority.find('/') != std::string_view::npos ||
        !HostAllowed(authority, allowed_hosts)) {
      return http::Problem(403, "open local mode refuses requests from another origin");
    }
  }
  return std::nullopt;
}

std::optional<http::Response> RefuseMetricsCaller(const http::Request& request,
                                                  std::string_view bearer_token) {
  if (!bearer_token.empty()) {
    std::string authorization = request.Header("authorization");
    bool bearer = StartsWithNoCase(authorization, "bearer ");
    if (bearer &&
        auth::ConstantTimeEquals(std::string_view(authorization).substr(7), bearer_token)) {
      return std::nullopt;
    }
    http::Response r = http::Problem(401, "metrics need the configured bearer token");
    r.Set("WWW-Authenticate", bearer ? "Bearer error=\"invalid_token\"" : "Bearer");
    return r;
  }
  if (IsLoopbackAddress(request.remote_address)) return std::nullopt;
  return http::Problem(403,
                       "metrics are served to loopback callers only; set "
                       "metrics.bearer_token_file to let a scraper in");
}

WebAuth::WebAuth(WebAuthOptions options)
    : options_(std::move(options)), open_mode_(true), clock_([] { return Now(); }) {}

WebAuth::WebAuth(WebAuthOptions options, auth::Authenticator* authenticator, auth::OidcClient* oidc,
                 auth::SessionStore* sessions, auth::Clock clock, SessionRefresher refresh)
    : options_(std::move(options)),
      open_mode_(false),
      authenticator_(authenticator),
      oidc_(oidc),
      sessions_(sessions),
      clock_(std::move(clock)),
      refresh_(std::move(refresh)) {}

void WebAuth::Install(http::Router& router) {
  router.Use([this](http::Request& r, const std::function<http::Response(http::Request&)>& next) {
    return Handle(r, next);
  });
  router.Add("GET", "/login", [this](const http::Request& r) { return Login(r); });
  router.Add("GET", "/callback", [this](const http::Request& r) { return Callback(r); });
  router.Add("GET", "/logout", [this](const http::Request& r) { return Logout(r); });
  router.Add("POST", "/logout", [this](const http::Request& r) { return Logout(r); });
  router.Add("GET", "/api/me", [this](const http::Request& r) { return Me(r); });
}

http::Response WebAuth::Handle(http::Request& request,
                               const std::function<http::Response(http::Request&)>& next) {
  PathKind kind = ClassifyPath(request.method, request.path, options_.public_openapi);
  http::Response response = Decide(kind, request, next);
  // Answers for one caller: no shared or browser cache may keep them.
  if (kind == PathKind::kApi && response.status != http::kDeferredStatus &&
      response.Header("cache-control").empty()) {
    response.Set("Cache-Control", "no-store");
  }
  return response;
}

http::Response WebAuth::Decide(PathKind kind, http::Request& request,
                               const std::function<http::Response(http::Request&)>& next) {
  if (kind == PathKind::kOwnAuth) {
    request.principal = Caller{};
    return next(request);
  }
  if (open_mode_) {
    // Everyone on this machine is admin: a page elsewhere must not reach in through a name that
    // resolves here (DNS rebinding) or post across origins.
    if (auto refusal = RefuseForeignHost(request, options_.allowed_hosts)) {
      spdlog::info("auth: {} {} refused in open local mode: Host \"{}\", Origin \"{}\"",
                   request.method, request.path, request.Header("host").substr(0, 100),
                   request.Header("origin").substr(0, 100));
      return std::move(*refusal);
    }
    request.principal = OpenModeCaller();
    return next(request);
  }
  // Tokens (keys, UMA) and sessions may need the network or the store: not on an I/O thread.
  if (request.fast) return http::Deferred();
  Outcome outcome = Identify(request);
  if (kind == PathKind::kPublic) {
    // Public either way; a caller is attached when the credentials were good.
    request.principal = outcome.caller.value_or(Caller{});
    return next(request);
  }
  if (outcome.refusal) return std::move(*outcome.refusal);
  if (!outcome.caller) {
    if (kind == PathKind::kPage &&
        request.Header("accept").find("text/html") != std::string::npos) {
      return Redirect("/login?next=" + http::UrlEncode(SafeReturnPath(request.target)));
    }
    return NeedCredentials();
  }
  if (outcome.caller->browser_session && !IsSafeMethod(request.method) &&
      !auth::ConstantTimeEquals(request.Header("x-csrf-token"), outcome.caller->csrf_token)) {
    spdlog::info("auth: {} {} refused: cookie-authenticated write without the CSRF token",
                 request.method, request.path);
    return http::Problem(403, "this write needs the session's X-CSRF-Token header");
  }
  request.principal = std::move(*outcome.caller);
  return next(request);
}

WebAuth::Outcome WebAuth::Identify(const http::Request& request) {
  Outcome out;
  std::string authorization = request.Header("authorization");
  if (!authorization.empty()) {
    if (!StartsWithNoCase(authorization, "bearer ")) {
      http::Response r = http::Problem(401, "only bearer tokens are accepted");
      r.Set("WWW-Authenticate", "Bearer error=\"invalid_request\"");
      out.refusal = std::move(r);
      return out;
    }
    std::string_view token = std::string_view(authorization).substr(7);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    auto identity = authenticator_->Identify(token);
    if (!identity) {
      if (identity.error().code == ErrorCode::kUnauthenticated) {
        spdlog::info("auth: bearer token refused from {}: {}", request.remote_address,
                     identity.error().message);
        out.refusal = InvalidToken();
      } else {
        spdlog::warn("auth: {}", identity.error().message);
        out.refusal = AuthUnavailable();
      }
      return out;
    }
    out.caller = CallerFromGrants(identity->subject, identity->name, identity->grants);
    out.caller->expires_at = identity->expires_at;
    return out;
  }
  std::string session_id = request.Cookie(kSessionCookie);
  if (!session_id.empty()) {
    auto session = sessions_->Find(session_id);
    if (session && clock_() - session->grants_at >= options_.session_refresh) {
      // Grants age: ask the issuer again, so that a user removed from a group loses its rows
      // within session_refresh, not at the end of the session.
      auto refreshed = refresh_ ? refresh_(*session)
                                : Result<auth::WebSession>(
                                      Fail(ErrorCode::kUnavailable, "no way to refresh sessions"));
      if (refreshed) {
        auth::WebSession next = std::move(*refreshed);
        next.grants_at = clock_();
        if (auto st = sessions_->UpdateGrants(session_id, next); !st) {
          spdlog::warn("auth: refreshed grants of {} cannot be saved: {}", session->name,
                       st.error().message);
        }
        session->grants = std::move(next.grants);
        session->grants_at = next.grants_at;
      } else if (refreshed.error().code == ErrorCode::kUnauthenticated) {
        spdlog::info("auth: session of {} ended: {}", session->name, refreshed.error().message);
        if (auto st = sessions_->Delete(session_id); !st) {
          spdlog::warn("auth: session cannot be deleted: {}", st.error().message);
        }
        return out;  // no caller: signed out
      } else {
        // Never the old grants: nothing until the issuer answers again.
        spdlog::warn("auth: grants of {} cannot be refreshed, reduced to none: {}", session->name,
                     refreshed.error().message);
        session->grants = auth::GrantSet{};
      }
    }
    if (session) {
      Caller c = CallerFromGrants(session->subject, session->name, session->grants);
      // A long-lived answer (an event stream) ends when the grants are due for a refresh, so
      // that the client's reconnect computes them again instead of keeping them.
      c.expires_at = std::min(session->expires_at, session->grants_at + options_.session_refresh);
      c.browser_session = true;
      c.csrf_token = session->csrf_token;
      out.caller = std::move(c);
    } else if (session.error().code != ErrorCode::kNotFound) {
      spdlog::warn("auth: session lookup failed: {}", session.error().message);
      out.refusal = AuthUnavailable();
    }
  }
  return out;
}

// Only the configured redirect URL decides: a request's Host or scheme (which a proxy or a client
// chooses) never does.
std::string WebAuth::CookieAttributes() const {
  std::string a = "; Path=/; HttpOnly; SameSite=Lax";
  if (options_.redirect_url.starts_with("https://")) a += "; Secure";
  return a;
}

http::Response WebAuth::Login(const http::Request& request) {
  std::string return_to = SafeReturnPath(request.Query("next").value_or("/"));
  if (open_mode_) return Redirect(return_to);
  if (options_.redirect_url.empty()) return NoBrowserLogin();
  auto login = oidc_->BeginLogin(options_.redirect_url);
  if (!login) {
    spdlog::warn("auth: login cannot start: {}", login.error().message);
    return AuthUnavailable();
  }
  auth::PendingLogin pending{login->nonce, login->code_verifier, return_to,
                             clock_() + options_.login_ttl};
  if (auto st = sessions_->SaveLogin(login->state, pending); !st) {
    spdlog::warn("auth: login cannot be saved: {}", st.error().message);
    return AuthUnavailable();
  }
  http::Response r = Redirect(login->authorization_url);
  // Binds the login to this browser: /callback must come with the same state in this cookie.
  r.Set("Set-Cookie", std::string(kLoginCookie) + "=" + login->state + CookieAttributes() +
                          "; Max-Age=" + std::to_string(options_.login_ttl.count()));
  return r;
}

http::Response WebAuth::Callback(const http::Request& request) {
  if (open_mode_) return Redirect("/");
  if (options_.redirect_url.empty()) return NoBrowserLogin();
  if (auto error = request.Query("error")) {
    spdlog::info("auth: the provider ended a login with error {}", *error);
    return http::Problem(401, "sign-in was cancelled or refused; start again at /login");
  }
  std::string code = request.Query("code").value_or("");
  std::string state = request.Query("state").value_or("");
  if (code.empty() || state.empty() ||
      !auth::ConstantTimeEquals(state, request.Cookie(kLoginCookie))) {
    return http::Problem(400, "this sign-in was not started by this browser; start at /login");
  }
  auto pending = sessions_->TakeLogin(state);
  if (!pending) {
    if (pending.error().code == ErrorCode::kNotFound) {
      return http::Problem(400, "this sign-in has expired or was used; start again at /login");
    }
    spdlog::warn("auth: {}", pending.error().message);
    return AuthUnavailable();
  }
  auto tokens = oidc_->ExchangeCode(code, pending->code_verifier, options_.redirect_url,
                                    pending->nonce, clock_());
  if (!tokens) {
    if (tokens.error().code == ErrorCode::kUnauthenticated) {
      spdlog::info("auth: login refused: {}", tokens.error().message);
      return http::Problem(401, "sign-in failed; start again at /login");
    }
    spdlog::warn("auth: {}", tokens.error().message);
    return AuthUnavailable();
  }
  auto identity = authenticator_->Identify(tokens->access_token);
  if (!identity) {
    if (identity.error().code == ErrorCode::kUnauthenticated) {
      spdlog::info("auth: login's access token refused: {}", identity.error().message);
      return http::Problem(401, "sign-in failed; start again at /login");
    }
    spdlog::warn("auth: {}", identity.error().message);
    return AuthUnavailable();
  }
  if (identity->subject != tokens->id_claims.subject) {
    spdlog::warn("auth: login's ID and access tokens name different subjects");
    return http::Problem(401, "sign-in failed; start again at /login");
  }
  auth::WebSession session;
  session.subject = identity->subject;
  session.name = identity->name;
  session.access_token = tokens->access_token;
  session.id_token = tokens->id_token;
  session.refresh_token = tokens->refresh_token;
  session.grants = identity->grants;
  session.grants_at = clock_();
  session.expires_at = clock_() + options_.session_ttl;
  auto session_id = sessions_->Create(std::move(session));
  if (!session_id) {
    spdlog::warn("auth: session cannot be saved: {}", session_id.error().message);
    return AuthUnavailable();
  }
  spdlog::info("auth: {} signed in", identity->name);
  http::Response r = Redirect(pending->return_to);
  r.Set("Set-Cookie", std::string(kSessionCookie) + "=" + *session_id + CookieAttributes() +
                          "; Max-Age=" + std::to_string(options_.session_ttl.count()));
  r.Set("Set-Cookie", std::string(kLoginCookie) + "=" + CookieAttributes() + "; Max-Age=0");
  return r;
}

http::Response WebAuth::Logout(const http::Request& request) {
  if (open_mode_) return Redirect("/");
  std::string session_id = request.Cookie(kSessionCookie);
  std::optional<auth::WebSession> session;
  if (!session_id.empty()) {
    auto found = sessions_->Find(session_id);
    if (found) {
      session = std::move(*found);
    } else if (found.error().code != ErrorCode::kNotFound) {
      spdlog::warn("auth: logout could not read the session: {}", found.error().message);
      return AuthUnavailable();
    }
  }
  if (session && request.method != "POST") {
    // A link or an image from another site must not sign anyone out: the page's form posts the
    // session's CSRF token.
    return LogoutPage(session->csrf_token);
  }
  if (session) {
    std::string sent = request.Header("x-csrf-token");
    if (sent.empty()) {
      if (auto form = http::ParseQuery(request.body)) {
        for (const auto& [k, v] : *form) {
          if (k == "csrf_token") sent = v;
        }
      }
    }
    if (!auth::ConstantTimeEquals(sent, session->csrf_token)) {
      spdlog::info("auth: logout refused: no CSRF token of the session");
      return http::Problem(403, "logout needs the session's CSRF token");
    }
    if (auto st = sessions_->Delete(session_id); !st) {
      spdlog::warn("auth: logout could not delete the session: {}", st.error().message);
      return AuthUnavailable();
    }
  }
  std::string location = "/";
  if (session && !options_.redirect_url.empty()) {
    if (auto url = oidc_->LogoutUrl(session->id_token, OriginOf(options_.redirect_url) + "/")) {
      location = *url;
    }
  }
  // A script's POST (the dashboards' Sign out) gets the next place as JSON and goes there itself;
  // a form gets the redirect.
  http::Response r = request.Header("accept").find("application/json") != std::string::npos
                         ? http::JsonResponse(200, Json({{"location", location}}).dump())
                         : Redirect(location);
  r.Set("Cache-Control", "no-store");
  r.Set("Set-Cookie", std::string(kSessionCookie) + "=" + CookieAttributes() + "; Max-Age=0");
  return r;
}

http::Response WebAuth::Me(const http::Request& request) const {
  const Caller& c = CallerOf(request);
  Json j = {{"subject", c.subject},      {"name", c.name},           {"admin", c.admin},
            {"manager", c.manager},      {"open_mode", c.open_mode}, {"grants", GrantNames(c)},
            {"patch", c.patch_resources}};
  if (c.browser_session) j["csrf_token"] = c.csrf_token;
  http::Response r = http::JsonResponse(200, j.dump());
  r.Set("Cache-Control", "no-store");
  return r;
}

Result<std::unique_ptr<AuthStack>> BuildAuth(const config::AuthConfig& config, store::Store* store,
                                             AuthSeams seams) {
  auto stack = std::make_unique<AuthStack>();
  WebAuthOptions web;
  web.public_openapi = config.public_openapi;
  web.redirect_url = config.redirect_url;
  web.allowed_hosts = config.allowed_hosts;
  web.session_ttl = config.session_ttl;
  web.session_refresh = config.session_refresh;
  if (config.issuer.empty()) {
    stack->web = std::make_unique<WebAuth>(web);
    return stack;
  }
  if (config.redirect_url.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "auth.redirect_url is required with auth.issuer (the browser login's callback, "
                "e.g. https://telemetry.example/callback)");
  }
  auth::Clock clock = seams.clock ? seams.clock : auth::Clock([] { return Now(); });

  auth::KeyCacheOptions key_options;
  key_options.issuer = config.issuer;
  key_options.min_refresh_interval = seams.min_jwks_refresh;
  stack->keys = std::make_unique<auth::KeyCache>(key_options, &stack->keys_http, clock);

  auth::JwtOptions jwt;
  jwt.issuer = config.issuer;
  jwt.audience = config.audience;
  jwt.algorithms = config.algorithms;
  auto validator = auth::JwtValidator::Create(jwt);
  if (!validator) return Fail(validator.error());
  stack->validator = std::make_unique<auth::JwtValidator>(std::move(*validator));

  if (config.grants_source == "uma") {
    auth::UmaOptions uma;
    uma.issuer = config.issuer;
    uma.client_id = config.client_id;
    uma.token_endpoint = seams.uma_token_endpoint;
    auto client = auth::UmaClient::Create(uma, &stack->uma_http, clock);
    if (!client) return Fail(client.error());
    stack->uma = std::move(*client);
  } else if (config.grants_source != "claims") {
    return Fail(ErrorCode::kInvalidArgument,
                "auth.grants_source must be claims or uma, not " + config.grants_source);
  }
  auth::GrantOptions grants;
  grants.client_id = config.client_id;
  grants.admin_roles = config.admin_roles;
  grants.manager_roles = config.manager_roles;
  stack->authenticator = std::make_unique<auth::Authenticator>(
      stack->validator.get(), stack->keys.get(), stack->uma.get(), grants, clock);

  auth::OidcClientOptions oidc;
  oidc.issuer = config.issuer;
  oidc.client_id = config.client_id;
  if (!config.client_secret_file.empty()) {
    bool ok = false;
    oidc.client_secret = ReadSecret(config.client_secret_file, &ok);
    if (!ok) {
      return Fail(
          ErrorCode::kInvalidArgument,
          "auth.client_secret_file: cannot read a secret from " + config.client_secret_file);
    }
  }
  auto oidc_client =
      auth::OidcClient::Create(oidc, config.algorithms, &stack->oidc_http, stack->keys.get());
  if (!oidc_client) return Fail(oidc_client.error());
  stack->oidc = std::move(*oidc_client);
  stack->sessions = std::make_unique<auth::SessionStore>(store, clock);
  SessionRefresher refresh = seams.session_refresh;
  if (!refresh) {
    refresh = [oidc = stack->oidc.get(), authenticator = stack->authenticator.get()](
                  const auth::WebSession& session) -> Result<auth::WebSession> {
      auto tokens = oidc->Refresh(session.refresh_token);
      if (!tokens) return Fail(tokens.error());
      auto identity = authenticator->Identify(tokens->access_token);
      if (!identity) return Fail(identity.error());
      if (identity->subject != session.subject) {
        return Fail(ErrorCode::kUnauthenticated, "the refreshed token names another subject");
      }
      auth::WebSession next = session;
      next.access_token = tokens->access_token;
      next.refresh_token = tokens->refresh_token;
      if (!tokens->id_token.empty()) next.id_token = tokens->id_token;
      next.grants = identity->grants;
      return next;
    };
  }
  stack->web = std::make_unique<WebAuth>(web, stack->authenticator.get(), stack->oidc.get(),
                                         stack->sessions.get(), clock, std::move(refresh));
  return stack;
}

}  // namespace aitelemetry::api
