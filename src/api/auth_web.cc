#include "api/auth_web.h"

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

}  // namespace

WebAuth::WebAuth(WebAuthOptions options)
    : options_(std::move(options)), open_mode_(true), clock_([] { return Now(); }) {}

WebAuth::WebAuth(WebAuthOptions options, auth::Authenticator* authenticator, auth::OidcClient* oidc,
                 auth::SessionStore* sessions, auth::Clock clock)
    : options_(std::move(options)),
      open_mode_(false),
      authenticator_(authenticator),
      oidc_(oidc),
      sessions_(sessions),
      clock_(std::move(clock)) {}

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
  if (kind == PathKind::kOwnAuth) {
    request.principal = Caller{};
    return next(request);
  }
  if (open_mode_) {
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
    if (session) {
      Caller c = CallerFromGrants(session->subject, session->name, session->grants);
      c.expires_at = session->expires_at;
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

std::string WebAuth::RedirectUri(const http::Request& request) const {
  if (!options_.redirect_url.empty()) return options_.redirect_url;
  return std::string(request.tls ? "https" : "http") + "://" + request.Header("host") + "/callback";
}

std::string WebAuth::CookieAttributes(const http::Request& request) const {
  std::string a = "; Path=/; HttpOnly; SameSite=Lax";
  if (request.tls || options_.redirect_url.starts_with("https://")) a += "; Secure";
  return a;
}

http::Response WebAuth::Login(const http::Request& request) {
  std::string return_to = SafeReturnPath(request.Query("next").value_or("/"));
  if (open_mode_) return Redirect(return_to);
  auto login = oidc_->BeginLogin(RedirectUri(request));
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
  r.Set("Set-Cookie", std::string(kLoginCookie) + "=" + login->state + CookieAttributes(request) +
                          "; Max-Age=" + std::to_string(options_.login_ttl.count()));
  return r;
}

http::Response WebAuth::Callback(const http::Request& request) {
  if (open_mode_) return Redirect("/");
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
  auto tokens = oidc_->ExchangeCode(code, pending->code_verifier, RedirectUri(request),
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
  session.grants = identity->grants;
  session.expires_at = clock_() + options_.session_ttl;
  auto session_id = sessions_->Create(std::move(session));
  if (!session_id) {
    spdlog::warn("auth: session cannot be saved: {}", session_id.error().message);
    return AuthUnavailable();
  }
  spdlog::info("auth: {} signed in", identity->name);
  http::Response r = Redirect(pending->return_to);
  r.Set("Set-Cookie", std::string(kSessionCookie) + "=" + *session_id + CookieAttributes(request) +
                          "; Max-Age=" + std::to_string(options_.session_ttl.count()));
  r.Set("Set-Cookie", std::string(kLoginCookie) + "=" + CookieAttributes(request) + "; Max-Age=0");
  return r;
}

http::Response WebAuth::Logout(const http::Request& request) {
  if (open_mode_) return Redirect("/");
  std::string id_token;
  std::string session_id = request.Cookie(kSessionCookie);
  if (!session_id.empty()) {
    if (auto session = sessions_->Find(session_id)) id_token = session->id_token;
    if (auto st = sessions_->Delete(session_id); !st) {
      spdlog::warn("auth: logout could not delete the session: {}", st.error().message);
      return AuthUnavailable();
    }
  }
  std::string origin = OriginOf(RedirectUri(request));
  std::string location = "/";
  if (auto url = oidc_->LogoutUrl(id_token, origin + "/")) location = *url;
  http::Response r = Redirect(location);
  r.Set("Set-Cookie",
        std::string(kSessionCookie) + "=" + CookieAttributes(request) + "; Max-Age=0");
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
  web.session_ttl = config.session_ttl;
  if (config.issuer.empty()) {
    stack->web = std::make_unique<WebAuth>(web);
    return stack;
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
  stack->web = std::make_unique<WebAuth>(web, stack->authenticator.get(), stack->oidc.get(),
                                         stack->sessions.get(), clock);
  return stack;
}

}  // namespace aitelemetry::api
