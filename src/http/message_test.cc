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

TEST(Request, ReadsCookiesAndHeaders) {
  Request r;
  r.headers = {{"cookie", "a=1; session=abc; b=2"}, {"x-y", "z"}};
  EXPECT_EQ(r.Cookie("session"), "abc");
  EXPECT_EQ(r.Cookie("nope"), "");
  EXPECT_EQ(r.Header("x-y"), "z");
}

}  // namespace
}  // namespace aitelemetry::http
