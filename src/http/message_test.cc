#include "http/message.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/router.h"

namespace aitelemetry::http {
namespace {

TEST(Query, DecodesRepeatsAndRejectsMalformedEscapes) {
  auto q = ParseQuery("a=1&b=x%20y+z&a=2&&c&fq=model%3A%22A100%22");
  ASSERT_TRUE(q);
  ASSERT_EQ(q->size(), 5u);
  EXPECT_EQ((*q)[1].second, "x y z");
  EXPECT_EQ((*q)[3].first, "c");
  EXPECT_EQ((*q)[4].second, "model:\"A100\"");
  for (const char* bad : {"a=%", "a=%4", "a=%zz", "a=%00", "%G1=x"}) {
    EXPECT_FALSE(ParseQuery(bad)) << bad;
  }
}

TEST(Problem, IsRfc9457AndHidesInternalDetails) {
  auto r = ProblemFor(Error{ErrorCode::kInvalidArgument, "rows: at most 1000"});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Header("content-type"), "application/problem+json");
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["status"], 400);
  EXPECT_EQ(j["title"], "Bad Request");
  EXPECT_EQ(j["detail"], "rows: at most 1000");
  auto internal = ProblemFor(Error{ErrorCode::kInternal, "sqlite: secret path /x"});
  EXPECT_EQ(internal.status, 500);
  EXPECT_EQ(internal.body.find("secret"), std::string::npos);
}

TEST(Router, MatchesParamsMethodsAndWildcards) {
  Router router;
  router.Add("GET", "/api/{model}",
             [](const Request& r) { return JsonResponse(200, "list " + r.params.at("model")); });
  router.Add("GET", "/api/{model}/{key}", [](const Request& r) {
    return JsonResponse(200, r.params.at("model") + "/" + r.params.at("key"));
  });
  router.Add("PATCH", "/api/{model}/{key}",
             [](const Request&) { return JsonResponse(200, "patched"); });
  router.Add("GET", "/static/{path...}",
             [](const Request& r) { return JsonResponse(200, r.params.at("path")); });
  router.Add("GET", "/boom", [](const Request&) -> Response { throw std::runtime_error("x"); });
  struct Case {
    const char* method;
    const char* path;
    int status;
    const char* body;
  } cases[] = {
      {"GET", "/api/gpu", 200, "list gpu"},     {"GET", "/api/gpu/", 200, "list gpu"},
      {"GET", "/api/gpu/K1", 200, "gpu/K1"},    {"PATCH", "/api/gpu/K1", 200, "patched"},
      {"DELETE", "/api/gpu/K1", 405, nullptr},  {"GET", "/api/gpu/K1/extra", 404, nullptr},
      {"GET", "/static/a/b.js", 200, "a/b.js"}, {"GET", "/boom", 500, nullptr},
      {"HEAD", "/api/gpu", 200, "list gpu"},
  };
  for (const auto& c : cases) {
    Request req;
    req.method = c.method;
    req.path = c.path;
    auto res = router.Dispatch(req);
    EXPECT_EQ(res.status, c.status) << c.method << " " << c.path;
    if (c.body) {
      EXPECT_EQ(res.body, c.body);
    }
    if (c.status == 405) {
      EXPECT_EQ(res.Header("allow"), "GET, PATCH");
    }
  }
}

// The fast path runs the same middlewares (with request.fast set) around a route's fast handler,
// and declines whenever a middleware or the fast handler does, or the route has none.
TEST(Router, FastPathRunsMiddlewaresAndDeclinesWhenAskedTo) {
  Router router;
  std::vector<std::string> seen;  // what the middleware saw: "fast" or "slow", per call
  router.Use([&](Request& r, const std::function<Response(Request&)>& next) {
    seen.push_back(r.fast ? "fast" : "slow");
    if (r.Header("x-defer") == "1" && r.fast) return Deferred();
    if (r.Header("x-deny") == "1") return Problem(401, "no");
    r.principal = std::string("caller");
    return next(r);
  });
  router.Add(
      "GET", "/cached/{id}",
      [](const Request& r) { return JsonResponse(200, "slow " + r.params.at("id")); },
      [](const Request& r) -> std::optional<Response> {
        if (r.params.at("id") == "miss") return std::nullopt;
        EXPECT_TRUE(r.fast);
        EXPECT_EQ(std::any_cast<std::string>(r.principal), "caller");
        Response out = JsonResponse(200, "");
        out.shared_body = std::make_shared<const std::string>("fast " + r.params.at("id"));
        return out;
      });
  router.Add("GET", "/plain", [](const Request&) { return JsonResponse(200, "plain"); });

  auto request = [](std::string path, std::vector<std::pair<std::string, std::string>> h = {}) {
    Request r;
    r.method = "GET";
    r.path = std::move(path);
    r.headers = std::move(h);
    return r;
  };
  Request hit = request("/cached/1");
  auto fast = router.TryFast(hit);
  ASSERT_TRUE(fast);
  EXPECT_EQ(fast->Body(), "fast 1");
  EXPECT_FALSE(hit.fast) << "reset after the attempt";

  Request miss = request("/cached/miss");
  EXPECT_FALSE(router.TryFast(miss));
  EXPECT_EQ(router.Dispatch(miss).body, "slow miss");

  Request deferred = request("/cached/2", {{"x-defer", "1"}});
  EXPECT_FALSE(router.TryFast(deferred));
  EXPECT_EQ(router.Dispatch(deferred).body, "slow 2");

  Request denied = request("/cached/3", {{"x-deny", "1"}});
  auto refusal = router.TryFast(denied);
  ASSERT_TRUE(refusal) << "a middleware's own answer on the fast path is final";
  EXPECT_EQ(refusal->status, 401);

  Request plain = request("/plain");
  seen.clear();
  EXPECT_FALSE(router.TryFast(plain)) << "no fast handler";
  EXPECT_TRUE(seen.empty()) << "middlewares do not run for a route without a fast path";
  Request none = request("/nothing");
  EXPECT_FALSE(router.TryFast(none));
  Request post = request("/cached/1");
  post.method = "POST";
  EXPECT_FALSE(router.TryFast(post)) << "only the route Dispatch would run";
}

TEST(Request, ReadsCookiesAndHeaders) {
  Request r;
  r.headers = {{"cookie", "a=1; session=abc; b=2"}, {"x-y", "z"}};
  EXPECT_EQ(r.Cookie("session"), "abc");
  EXPECT_EQ(r.Cookie("nope"), "");
  EXPECT_EQ(r.Header("x-y"), "z");
}

}  // namespace
}  // namespace aitelemetry::http
