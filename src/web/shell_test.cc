#include "web/shell.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace aitelemetry::web {
namespace {

TEST(Shell, EscapesEveryInterpolatedValue) {
  ShellOptions options;
  options.tracing_ui_url = "https://tempo/t/{trace_id}?a=1&b=\"2\"";
  PageSpec page{"gpu", "GPU <script>", "HUB-a-CLUSTER-b-NODE-<n>", ""};
  std::string html = RenderShell(page, options);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("GPU &lt;script&gt;"), std::string::npos);
  EXPECT_NE(html.find("data-key=\"HUB-a-CLUSTER-b-NODE-&lt;n&gt;\""), std::string::npos);
  EXPECT_NE(html.find("data-tracing-ui-url=\"https://tempo/t/{trace_id}?a=1&amp;b=&quot;2&quot;\""),
            std::string::npos);
}

TEST(Shell, CarriesPageSettingsForTheModules) {
  ShellOptions options;
  options.interval = std::chrono::seconds(15);
  std::string html = RenderShell({"fleet", "Fleet overview", "", ""}, options);
  EXPECT_NE(html.find("data-page=\"fleet\""), std::string::npos);
  EXPECT_NE(html.find("data-interval-seconds=\"15\""), std::string::npos);
  EXPECT_NE(html.find("data-tracing-ui-url=\"\""), std::string::npos);
  EXPECT_NE(html.find("<script type=\"module\" src=\"/static/main.js\">"), std::string::npos);
  // Everything is served by this binary: no other origin appears.
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
}

TEST(Shell, ModelsJsonDescribesServedModelsFromTheRegistry) {
  auto models = nlohmann::json::parse(ModelsJson());
  ASSERT_TRUE(models.is_array());
  bool saw_gpu = false;
  for (const auto& m : models) {
    EXPECT_NE(m["name"], "alert-inbox");  // internal models are never served
    EXPECT_NE(m["name"], "span-outbox");
    if (m["name"] != "gpu") continue;
    saw_gpu = true;
    bool saw_power = false;
    for (const auto& f : m["fields"]) {
      if (f["name"] == "power_watts") {
        saw_power = true;
        EXPECT_EQ(f["unit"], "W");
        EXPECT_EQ(f["stat"], true);
      }
      if (f["name"] == "model_name") {
        EXPECT_EQ(f["facet"], true);
      }
    }
    EXPECT_TRUE(saw_power);
  }
  EXPECT_TRUE(saw_gpu);
}

TEST(Shell, ModelsJsonCannotCloseItsScriptElement) {
  EXPECT_EQ(ModelsJson().find("</"), std::string::npos);
}

}  // namespace
}  // namespace aitelemetry::web
