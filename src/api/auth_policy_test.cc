#include "api/auth_policy.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "api/auth_web.h"

namespace aitelemetry::api {
namespace {

TEST(ClassifyPath, Table) {
  struct Case {
    const char* method;
    const char* path;
    bool public_openapi;
    PathKind expect;
  };
  const Case cases[] = {
      {"GET", "/healthz", true, PathKind::kPublic},
      {"GET", "/prom/moc/api/v1/query", true, PathKind::kApi},
      {"POST", "/prom/moc/api/v1/query_range", false, PathKind::kApi},
      {"GET", "/prom/moc/federate", false, PathKind::kApi},
      {"GET", "/prom", false, PathKind::kApi},
      {"GET", "/promx", false, PathKind::kPage},
      {"GET", "/readyz", false, PathKind::kPublic},
      {"GET", "/metrics", false, PathKind::kPublic},
      {"GET", "/login", false, PathKind::kPublic},
      {"GET", "/callback", false, PathKind::kPublic},
      {"POST", "/logout", false, PathKind::kPublic},
      {"GET", "/static/app.css", false, PathKind::kPublic},
      {"GET", "/staticx", false, PathKind::kPage},
      {"GET", "/assets/docs/swagger-ui.css", false, PathKind::kPublic},
      {"GET", "/openapi.json", true, PathKind::kPublic},
      {"GET", "/openapi.json", false, PathKind::kApi},
      {"GET", "/api/openapi.json", true, PathKind::kPublic},
      {"GET", "/docs", true, PathKind::kPublic},
      {"GET", "/docs", false, PathKind::kApi},
      {"POST", "/api/alerts", false, PathKind::kOwnAuth},
      {"GET", "/api/alerts", false, PathKind::kApi},
      {"GET", "/api/gpu", true, PathKind::kApi},
      {"GET", "/api", true, PathKind::kApi},
      {"PATCH", "/api/project/HUB-moc", true, PathKind::kApi},
      {"GET", "/ngsi-ld/v1/entities", true, PathKind::kApi},
      {"GET", "/apix", true, PathKind::kPage},
      {"GET", "/", true, PathKind::kPage},
      {"GET", "/gpus", true, PathKind::kPage},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ClassifyPath(c.method, c.path, c.public_openapi), c.expect)
        << c.method << " " << c.path << " public_openapi=" << c.public_openapi;
  }
}

TEST(CallerFromGrants, MapsResourceNamesToStoreGrants) {
  auth::GrantSet g;
  g.resources = {"HUB-moc", "HUB-moc-CLUSTER-c1", "HUB-moc-CLUSTER-c1-PROJECT-proj-a",
                 "HUB-moc-CLUSTER-c1-NODE-n1", "junk"};
  g.patch_resources = {"HUB-moc-CLUSTER-c1-PROJECT-proj-a"};
  g.manager = true;
  Caller c = CallerFromGrants("sub", "name", g);
  EXPECT_TRUE(c.authenticated);
  EXPECT_FALSE(c.admin);
  EXPECT_TRUE(c.manager);
  EXPECT_FALSE(c.scope.all);
  ASSERT_EQ(c.scope.grants.size(), 3u);
  EXPECT_EQ(GrantNames(c), (std::vector<std::string>{"HUB-moc", "HUB-moc-CLUSTER-c1",
                                                     "HUB-moc-CLUSTER-c1-PROJECT-proj-a"}));
  EXPECT_EQ(c.patch_resources, g.patch_resources);

  auth::GrantSet admin;
  admin.admin = true;
  Caller a = CallerFromGrants("sub", "root", admin);
  EXPECT_TRUE(a.scope.all);
  EXPECT_TRUE(a.admin);

  Caller none = CallerFromGrants("sub", "x", auth::GrantSet{});
  EXPECT_TRUE(none.authenticated);
  EXPECT_FALSE(none.scope.all);
  EXPECT_TRUE(none.scope.grants.empty());
}

TEST(SafeReturnPath, OnlyLocalPaths) {
  EXPECT_EQ(SafeReturnPath("/gpus?q=a"), "/gpus?q=a");
  for (const char* bad : {"", "gpus", "//evil.example/", "/\\evil.example", "https://evil.example",
                          "/a\r\nSet-Cookie: x=y"}) {
    EXPECT_EQ(SafeReturnPath(bad), "/") << bad;
  }
}

http::Request MakeRequest(std::string method, std::string path,
                          std::vector<std::pair<std::string, std::string>> headers = {}) {
  http::Request r;
  r.method = std::move(method);
  r.path = path;
  r.target = path;
  r.headers = std::move(headers);
  return r;
}

TEST(WebAuth, OpenModeMakesEveryCallerAdmin) {
  WebAuth web{WebAuthOptions{}};
  http::Router router;
  web.Install(router);
  router.Add("GET", "/api/probe", [](const http::Request& r) {
    const Caller& c = CallerOf(r);
    return http::JsonResponse(200, c.open_mode && c.admin && c.scope.all ? "open" : "closed");
  });
  auto req = MakeRequest("GET", "/api/probe", {{"host", "127.0.0.1:8080"}});
  EXPECT_EQ(router.Dispatch(req).body, "open");
  auto me = MakeRequest("GET", "/api/me", {{"host", "localhost:8080"}});
  auto r = router.Dispatch(me);
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"open_mode\":true"), std::string::npos);
}

// Open local mode makes every caller admin, so it answers only requests addressed to this
// machine: a DNS-rebinding page (Host: its own name) or a cross-site form (Origin: another site)
// is refused before any handler runs.
TEST(WebAuth, OpenModeAnswersOnlyLoopbackHostsAndOrigins) {
  WebAuthOptions options;
  options.allowed_hosts = {"gpu-box.lab", "[fd00::5]"};
  WebAuth web{options};
  http::Router router;
  web.Install(router);
  int handled = 0;
  router.Add("PATCH", "/api/probe", [&handled](const http::Request&) {
    ++handled;
    return http::JsonResponse(200, "{}");
  });
  struct Case {
    const char* host;
    const char* origin;  // "" when none is sent
    int status;
  };
  const Case cases[] = {
      {"127.0.0.1:8080", "", 200},
      {"localhost:8080", "http://localhost:8080", 200},
      {"LOCALHOST", "", 200},
      {"127.1.2.3:80", "", 200},
      {"[::1]:8080", "http://[::1]:8080", 200},
      {"gpu-box.lab:8080", "https://gpu-box.lab", 200},  // allowed by configuration
      {"[fd00::5]:8080", "", 200},
      {"attacker.example:8080", "", 403},  // rebinding: the name resolves to 127.0.0.1
      {"attacker.example:8080", "http://attacker.example:8080", 403},
      {"127.0.0.1.attacker.example", "", 403},
      {"localhost.attacker.example", "", 403},
      {"127.0.0.1:8080", "http://attacker.example", 403},  // cross-site request
      {"127.0.0.1:8080", "null", 403},
      {"127.0.0.1:8080", "http://127.0.0.1:8080/path", 403},
      {"", "", 403},
  };
  for (const Case& c : cases) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (*c.host) headers.emplace_back("host", c.host);
    if (*c.origin) headers.emplace_back("origin", c.origin);
    auto req = MakeRequest("PATCH", "/api/probe", headers);
    EXPECT_EQ(router.Dispatch(req).status, c.status) << c.host << " " << c.origin;
  }
  EXPECT_EQ(handled, 7);
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_FALSE(IsLoopbackHost("127.0.0.256"));
  EXPECT_FALSE(IsLoopbackHost("128.0.0.1"));
}

// /metrics: with a configured token only its bearer gets in (from anywhere); without one, only a
// caller on this machine.
TEST(RefuseMetricsCaller, TokenOrLoopback) {
  struct Case {
    const char* token;
    const char* remote;
    const char* authorization;
    int status;  // 0: answered
  };
  const Case cases[] = {
      {"", "127.0.0.1", "", 0},
      {"", "::1", "", 0},
      {"", "::ffff:127.0.0.1", "", 0},
      {"", "10.1.2.3", "", 403},
      {"", "::ffff:10.1.2.3", "", 403},
      {"", "10.1.2.3", "Bearer anything", 403},
      {"s3cret", "10.1.2.3", "Bearer s3cret", 0},
      {"s3cret", "10.1.2.3", "bearer s3cret", 0},
      {"s3cret", "10.1.2.3", "Bearer wrong!", 401},
      {"s3cret", "10.1.2.3", "", 401},
      {"s3cret", "127.0.0.1", "", 401},  // a token, once configured, is needed from loopback too
      {"s3cret", "10.1.2.3", "Basic czNjcmV0", 401},
  };
  for (const Case& c : cases) {
    http::Request req = MakeRequest("GET", "/metrics");
    req.remote_address = c.remote;
    if (*c.authorization) req.headers.emplace_back("authorization", c.authorization);
    auto refusal = RefuseMetricsCaller(req, c.token);
    EXPECT_EQ(refusal ? refusal->status : 0, c.status)
        << c.token << " " << c.remote << " " << c.authorization;
    if (refusal && refusal->status == 401) {
      EXPECT_FALSE(refusal->Header("WWW-Authenticate").empty());
    }
  }
}

// A test stack in authenticated mode whose issuer cannot be reached: sessions are made directly
// in the store, and grants are refreshed through `refresh` (counted in *refreshes).
struct SessionStack {
  std::filesystem::path dir;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<AuthStack> auth;
  http::Router router;
  std::atomic<int64_t> now_s{1790000000};
  int refreshes = 0;

  explicit SessionStack(const char* name, std::string redirect_url = "https://t.example/callback",
                        SessionRefresher refresh = nullptr) {
    dir = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    store = store::Store::Open({"sqlite:" + (dir / "s.db").string(), 2, true}).value();
    config::AuthConfig config;
    config.issuer = "http://127.0.0.1:1/realms/nerc";
    config.redirect_url = std::move(redirect_url);
    config.session_refresh = std::chrono::seconds(300);
    AuthSeams seams;
    seams.clock = [this] { return FromUnixSeconds(static_cast<double>(now_s.load())); };
    if (refresh) {
      seams.session_refresh = [this, refresh](const auth::WebSession& s) {
        ++refreshes;
        return refresh(s);
      };
    }
    auth = BuildAuth(config, store.get(), seams).value();
    auth->web->Install(router);
    router.Add("GET", "/api/probe", [](const http::Request& r) {
      const Caller& c = CallerOf(r);
      return http::JsonResponse(200, c.admin ? "admin" : std::to_string(c.scope.grants.size()));
    });
  }
  ~SessionStack() {
    auth.reset();
    store.reset();
    std::filesystem::remove_all(dir);
  }
  // Signs in `name` with `grants` (admin when set) and returns the session cookie header.
  std::pair<std::string, std::string> SignIn(auth::GrantSet grants, std::string* csrf = nullptr) {
    auth::WebSession s;
    s.subject = "sub-1";
    s.name = "ana";
    s.refresh_token = "refresh-1";
    s.id_token = "id-1";
    s.grants = std::move(grants);
    s.expires_at = FromUnixSeconds(static_cast<double>(now_s.load() + 8 * 3600));
    s.grants_at = FromUnixSeconds(static_cast<double>(now_s.load()));
    auto id = auth->sessions->Create(s).value();
    if (csrf) *csrf = auth->sessions->Find(id).value().csrf_token;
    return {"cookie", std::string(kSessionCookie) + "=" + id};
  }
  http::Response Get(const std::string& path, std::pair<std::string, std::string> cookie) {
    auto req = MakeRequest("GET", path, {cookie});
    return router.Dispatch(req);
  }
};

// A browser session's grants are computed again from the issuer once they are session_refresh
// old: a user removed from a group loses its rows within minutes, and when the issuer cannot
// answer the grants are reduced to none, never kept; a refused refresh ends the session.
TEST(WebAuth, SessionGrantsAreRefreshedAndNeverKeptOnFailure) {
  Result<auth::WebSession> next = Fail(ErrorCode::kInternal, "unset");
  SessionStack s("aitel-webauth-refresh", "https://t.example/callback",
                 [&next](const auth::WebSession&) { return next; });
  auth::GrantSet admin;
  admin.admin = true;
  auto cookie = s.SignIn(admin);
  EXPECT_EQ(s.Get("/api/probe", cookie).body, "admin");
  s.now_s += 299;
  EXPECT_EQ(s.Get("/api/probe", cookie).body, "admin");
  EXPECT_EQ(s.refreshes, 0);

  // Due: the issuer now says one project only; that is what the session sees, and keeps.
  s.now_s += 1;
  auth::WebSession reduced;
  reduced.subject = "sub-1";
  reduced.grants.resources = {"HUB-moc-CLUSTER-c1-PROJECT-proj-a"};
  next = reduced;
  EXPECT_EQ(s.Get("/api/probe", cookie).body, "1");
  EXPECT_EQ(s.refreshes, 1);
  EXPECT_EQ(s.Get("/api/probe", cookie).body, "1");
  EXPECT_EQ(s.refreshes, 1);  // fresh again for session_refresh

  // The issuer cannot be reached: nothing, not the old grants; back once it answers.
  s.now_s += 300;
  next = Fail(ErrorCode::kUnavailable, "issuer down");
  EXPECT_EQ(s.Get("/api/probe", cookie).body, "0");
  EXPECT_EQ(s.Get("/api/probe", cookie).body, "0");
  next = reduced;
  EXPECT_EQ(s.Get("/api/probe", cookie).body, "1");

  // The issuer refuses the refresh (user disabled, session revoked): signed out.
  s.now_s += 300;
  next = Fail(ErrorCode::kUnauthenticated, "invalid_grant");
  EXPECT_EQ(s.Get("/api/probe", cookie).status, 401);
  next = reduced;
  EXPECT_EQ(s.Get("/api/probe", cookie).status, 401);  // the session is gone
}

// A browser session's caller expires (ending its event streams) when its grants are due for a
// refresh, not only when the session ends: a stream never outlives the grants it was opened with.
TEST(WebAuth, SessionCallersExpireWhenTheirGrantsAreDue) {
  auth::GrantSet admin;
  admin.admin = true;
  SessionStack s("aitel-webauth-expiry", "https://t.example/callback",
                 [&admin](const auth::WebSession& session) {
                   auth::WebSession next = session;
                   next.grants = admin;
                   return Result<auth::WebSession>(next);
                 });
  s.router.Add("GET", "/api/expiry", [](const http::Request& r) {
    return http::JsonResponse(200,
                              std::to_string(ToUnixNanos(CallerOf(r).expires_at) / 1000000000));
  });
  auto cookie = s.SignIn(admin);
  const int64_t signed_in = s.now_s.load();
  EXPECT_EQ(s.Get("/api/expiry", cookie).body, std::to_string(signed_in + 300));
  s.now_s += 301;  // refreshed now: due again in session_refresh
  EXPECT_EQ(s.Get("/api/expiry", cookie).body, std::to_string(signed_in + 301 + 300));
}

// Without a test seam the refresh goes to the issuer (unreachable here): grants reduced to none.
TEST(WebAuth, AnUnreachableIssuerReducesSessionGrants) {
  SessionStack s("aitel-webauth-refresh-real");
  auth::GrantSet admin;
  admin.admin = true;
  auto cookie = s.SignIn(admin);
  EXPECT_EQ(s.Get("/api/probe", cookie).body, "admin");
  s.now_s += 301;
  auto r = s.Get("/api/probe", cookie);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "0");
}

// Logout changes state, so it is a POST with the session's CSRF token (header or form field); a
// GET, as a cross-site link or image makes, only answers the page whose form does that.
TEST(WebAuth, LogoutIsGuardedAgainstCrossSiteRequests) {
  SessionStack s("aitel-webauth-logout");
  std::string csrf;
  auto cookie = s.SignIn(auth::GrantSet{}, &csrf);
  auto page = s.Get("/logout", cookie);
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("method=\"post\""), std::string::npos);
  EXPECT_NE(page.body.find(csrf), std::string::npos);
  EXPECT_EQ(page.Header("Cache-Control"), "no-store");
  EXPECT_EQ(s.Get("/api/probe", cookie).status, 200) << "a GET signed the session out";

  auto post = [&](std::vector<std::pair<std::string, std::string>> headers, std::string body) {
    headers.push_back(cookie);
    auto req = MakeRequest("POST", "/logout", headers);
    req.body = std::move(body);
    return s.router.Dispatch(req);
  };
  EXPECT_EQ(post({}, "").status, 403);
  EXPECT_EQ(post({{"x-csrf-token", std::string(csrf.size(), 'A')}}, "").status, 403);
  EXPECT_EQ(post({}, "csrf_token=wrong").status, 403);
  EXPECT_EQ(s.Get("/api/probe", cookie).status, 200) << "a refused logout signed out";
  auto out = post({{"content-type", "application/x-www-form-urlencoded"}}, "csrf_token=" + csrf);
  EXPECT_EQ(out.status, 302);
  EXPECT_NE(out.Header("Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(s.Get("/api/probe", cookie).status, 401);

  std::string csrf2;
  auto cookie2 = s.SignIn(auth::GrantSet{}, &csrf2);
  // The dashboards' script posts the header and asks for JSON: where to go next.
  auto req = MakeRequest("POST", "/logout",
                         {cookie2, {"x-csrf-token", csrf2}, {"accept", "application/json"}});
  auto json = s.router.Dispatch(req);
  EXPECT_EQ(json.status, 200);
  EXPECT_NE(json.body.find("\"location\""), std::string::npos);
  EXPECT_NE(json.Header("Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(s.Get("/api/probe", cookie2).status, 401);
}

// Where the browser is sent and whether cookies are Secure come from auth.redirect_url alone:
// never from the request's Host or scheme (a proxy or client chooses those).
TEST(WebAuth, CookieFlagsComeFromTheConfiguredRedirectOnly) {
  for (const auto& [redirect, secure] : std::vector<std::pair<std::string, bool>>{
           {"https://t.example/callback", true}, {"http://127.0.0.1:8080/callback", false}}) {
    SessionStack s("aitel-webauth-cookie", redirect);
    std::string csrf;
    auto cookie = s.SignIn(auth::GrantSet{}, &csrf);
    for (bool tls : {false, true}) {
      auto req = MakeRequest("POST", "/logout",
                             {cookie, {"x-csrf-token", csrf}, {"host", "attacker.example"}});
      req.tls = tls;
      auto out = s.router.Dispatch(req);
      EXPECT_EQ(out.Header("Set-Cookie").find("Secure") != std::string::npos, secure)
          << redirect << " tls=" << tls;
      EXPECT_EQ(out.Header("Location").find("attacker"), std::string::npos);
      cookie = s.SignIn(auth::GrantSet{}, &csrf);
    }
  }
  // An issuer without a redirect URL is a configuration error, not a guess from the request.
  config::AuthConfig config;
  config.issuer = "http://127.0.0.1:1/realms/nerc";
  auto built = BuildAuth(config, nullptr);
  ASSERT_FALSE(built.has_value());
  EXPECT_NE(built.error().message.find("auth.redirect_url"), std::string::npos);
}

// Answers on API paths are per caller: "Cache-Control: no-store" unless the route set its own;
// pages and public paths are left alone.
TEST(WebAuth, ApiAnswersAreNotStored) {
  SessionStack s("aitel-webauth-cache");
  s.router.Add("GET", "/api/own", [](const http::Request&) {
    http::Response r = http::JsonResponse(200, "{}");
    r.Set("Cache-Control", "no-cache");
    return r;
  });
  s.router.Add("GET", "/healthz", [](const http::Request&) { return http::JsonResponse(200, ""); });
  auto cookie = s.SignIn(auth::GrantSet{});
  EXPECT_EQ(s.Get("/api/probe", cookie).Header("Cache-Control"), "no-store");
  EXPECT_EQ(s.Get("/api/me", cookie).Header("Cache-Control"), "no-store");
  EXPECT_EQ(s.Get("/api/own", cookie).Header("Cache-Control"), "no-cache");
  auto refused = MakeRequest("GET", "/api/probe");
  EXPECT_EQ(s.router.Dispatch(refused).Header("Cache-Control"), "no-store");  // the 401 too
  EXPECT_EQ(s.Get("/healthz", cookie).Header("Cache-Control"), "");
}

// Authenticated mode against an issuer that cannot be reached: no credentials are refused by
// kind of path, and a bearer token fails closed (503), never open.
TEST(WebAuth, RefusesWithoutCredentialsAndFailsClosed) {
  config::AuthConfig config;
  config.issuer = "http://127.0.0.1:1/realms/nerc";
  config.redirect_url = "https://t.example/callback";
  auto dir = std::filesystem::temp_directory_path() / "aitel-webauth-unit";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto store = store::Store::Open({"sqlite:" + (dir / "s.db").string(), 2, true}).value();
  auto stack = BuildAuth(config, store.get()).value();
  http::Router router;
  stack->web->Install(router);
  int handled = 0;
  for (const char* p : {"/api/gpu", "/gpus", "/healthz"}) {
    router.Add("GET", p, [&handled](const http::Request&) {
      ++handled;
      return http::JsonResponse(200, "{}");
    });
  }
  router.Add("POST", "/api/alerts", [&handled](const http::Request& r) {
    ++handled;
    return http::JsonResponse(CallerOf(r).authenticated ? 500 : 200, "{}");
  });

  auto api = MakeRequest("GET", "/api/gpu");
  auto r = router.Dispatch(api);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Header("WWW-Authenticate"), "Bearer");

  auto page = MakeRequest("GET", "/gpus", {{"accept", "text/html,application/xhtml+xml"}});
  r = router.Dispatch(page);
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(r.Header("Location"), "/login?next=%2Fgpus");

  auto page_json = MakeRequest("GET", "/gpus", {{"accept", "application/json"}});
  EXPECT_EQ(router.Dispatch(page_json).status, 401);

  auto health = MakeRequest("GET", "/healthz");
  EXPECT_EQ(router.Dispatch(health).status, 200);

  auto alerts = MakeRequest("POST", "/api/alerts");
  EXPECT_EQ(router.Dispatch(alerts).status, 200);

  auto basic = MakeRequest("GET", "/api/gpu", {{"authorization", "Basic dTpw"}});
  r = router.Dispatch(basic);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Header("WWW-Authenticate"), "Bearer error=\"invalid_request\"");

  auto bearer = MakeRequest("GET", "/api/gpu", {{"authorization", "Bearer a.b.c"}});
  EXPECT_EQ(router.Dispatch(bearer).status, 503);

  auto stale_cookie = MakeRequest("GET", "/api/gpu", {{"cookie", "aitelemetry_session=nope"}});
  EXPECT_EQ(router.Dispatch(stale_cookie).status, 401);

  EXPECT_EQ(handled, 2);  // /healthz and POST /api/alerts only
  stack.reset();
  store.reset();
  std::filesystem::remove_all(dir);
}

TEST(BuildAuth, RefusesBadConfig) {
  config::AuthConfig config;
  config.issuer = "http://127.0.0.1:1/realms/nerc";
  config.redirect_url = "https://t.example/callback";
  config.grants_source = "ldap";
  EXPECT_FALSE(BuildAuth(config, nullptr).has_value());
  config.grants_source = "claims";
  config.client_secret_file = "/nonexistent/secret";
  EXPECT_FALSE(BuildAuth(config, nullptr).has_value());
  config.client_secret_file.clear();
  config.algorithms = {"HS256"};
  EXPECT_FALSE(BuildAuth(config, nullptr).has_value());
}

}  // namespace
}  // namespace aitelemetry::api
