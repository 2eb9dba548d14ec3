#include "web/assets.h"

#include <set>
#include <string>

#include <gtest/gtest.h>

namespace aitelemetry::web {
namespace {

TEST(Assets, EmbedsOurModulesAndThePinnedUplot) {
  struct Case {
    const char* path;
    const char* content_type;
    const char* contains;
  };
  for (const Case& c : {Case{"main.js", "text/javascript; charset=utf-8", "import"},
                        Case{"app.css", "text/css; charset=utf-8", "--bg"},
                        Case{"favicon.svg", "image/svg+xml", "<svg"},
                        Case{"vendor/uPlot.esm.js", "text/javascript; charset=utf-8", "uPlot"},
                        Case{"vendor/uPlot.min.css", "text/css; charset=utf-8", ".uplot"}}) {
    const EmbeddedAsset* a = FindAsset(c.path);
    ASSERT_NE(a, nullptr) << c.path;
    EXPECT_EQ(a->content_type, c.content_type) << c.path;
    EXPECT_NE(a->body.find(c.contains), std::string_view::npos) << c.path;
  }
}

TEST(Assets, EtagsAreQuotedAndDifferPerFile) {
  std::set<std::string_view> etags;
  for (const auto& a : EmbeddedAssets()) {
    ASSERT_GE(a.etag.size(), 3u);
    EXPECT_EQ(a.etag.front(), '"');
    EXPECT_EQ(a.etag.back(), '"');
    EXPECT_TRUE(etags.insert(a.etag).second) << a.path;
    EXPECT_FALSE(a.body.empty()) << a.path;
  }
}

TEST(Assets, UnknownPathIsNull) {
  EXPECT_EQ(FindAsset("nope.js"), nullptr);
  EXPECT_EQ(FindAsset("../app.css"), nullptr);
  EXPECT_EQ(FindAsset(""), nullptr);
}

}  // namespace
}  // namespace aitelemetry::web
