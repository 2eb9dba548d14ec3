#include "web/web_routes.h"

#include <gtest/gtest.h>

#include "web/assets.h"

namespace aitelemetry::web {
namespace {

http::Response Get(const http::Router& router, std::string path,
                   std::vector<std::pair<std::string, std::string>> headers = {}) {
  http::Request req;
  req.method = "GET";
  req.path = path;
  req.target = path;
  req.headers = std::move(headers);
  return router.Dispatch(req);
}

class WebRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override { AddWebRoutes(router_, options_); }
  ShellOptions options_{"https://tempo.example/trace/{trace_id}", std::chrono::seconds(30), "1"};
  http::Router router_;
};

TEST_F(WebRoutesTest, PagesAnswerHtmlWithAStrictPolicy) {
  struct Case {
    const char* path;
    const char* page;
  };
  for (const Case& c : {Case{"/", "fleet"}, Case{"/clusters/HUB-h-CLUSTER-c", "cluster"},
                        Case{"/nodes/HUB-h-CLUSTER-c-NODE-n", "node"},
                        Case{"/gpus/HUB-h-CLUSTER-c-NODE-n-GPU-u", "gpu"},
                        Case{"/projects/HUB-h-CLUSTER-c-PROJECT-p", "project"},
                        Case{"/sessions", "sessions"}, Case{"/search/gpu-slice", "search"}}) {
    http::Response r = Get(router_, c.path);
    ASSERT_EQ(r.status, 200) << c.path;
    EXPECT_EQ(r.Header("Content-Type"), "text/html; charset=utf-8");
    EXPECT_NE(r.Header("Content-Security-Policy").find("default-src 'self'"), std::string::npos);
    EXPECT_NE(r.body.find(std::string("data-page=\"") + c.page + "\""), std::string::npos)
        << c.path;
    EXPECT_NE(r.body.find("data-tracing-ui-url=\"https://tempo.example/trace/{trace_id}\""),
              std::string::npos);
  }
}

TEST_F(WebRoutesTest, EntityPagesCarryTheirKey) {
  http::Response r = Get(router_, "/gpus/HUB-h-CLUSTER-c-NODE-n-GPU-u");
  EXPECT_NE(r.body.find("data-key=\"HUB-h-CLUSTER-c-NODE-n-GPU-u\""), std::string::npos);
}

TEST_F(WebRoutesTest, SearchRefusesUnknownAndInternalModels) {
  EXPECT_EQ(Get(router_, "/search/nope").status, 404);
  EXPECT_EQ(Get(router_, "/search/span-outbox").status, 404);
  EXPECT_EQ(Get(router_, "/search/alert-inbox").status, 404);
  EXPECT_EQ(Get(router_, "/search/usage").status, 404);
  http::Response r = Get(router_, "/search");
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(r.Header("Location"), "/search/gpu");
}

TEST_F(WebRoutesTest, AssetsCarryEtagAndRevalidate) {
  http::Response r = Get(router_, "/static/vendor/uPlot.esm.js");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(r.Header("Cache-Control"), "public, max-age=300");
  std::string etag = r.Header("ETag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(r.body, FindAsset("vendor/uPlot.esm.js")->body);

  http::Response again = Get(router_, "/static/vendor/uPlot.esm.js", {{"if-none-match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(again.Header("ETag"), etag);

  http::Response listed =
      Get(router_, "/static/vendor/uPlot.esm.js", {{"if-none-match", "\"x\", W/" + etag}});
  EXPECT_EQ(listed.status, 304);
  http::Response other = Get(router_, "/static/vendor/uPlot.esm.js", {{"if-none-match", "\"x\""}});
  EXPECT_EQ(other.status, 200);
}

TEST_F(WebRoutesTest, UnknownAssetIsNotFound) {
  EXPECT_EQ(Get(router_, "/static/nope.js").status, 404);
  EXPECT_EQ(Get(router_, "/static/../CMakeLists.txt").status, 404);
}

}  // namespace
}  // namespace aitelemetry::web
