#include "auth/uma.h"

#include <gtest/gtest.h>

namespace aitelemetry::auth {
namespace {

TEST(ParseUmaPermissions, ReadsGetAndPatchScopes) {
  auto g = ParseUmaPermissions(R"([
    {"rsid":"1","rsname":"HUB-moc-CLUSTER-c1-PROJECT-proj-a","scopes":["GET"]},
    {"rsid":"2","rsname":"HUB-moc-CLUSTER-c2","scopes":["GET","PATCH"]},
    {"rsid":"3","rsname":"HUB-moc-CLUSTER-c3","scopes":["DELETE"]},
    {"rsid":"4","rsname":"HUB-moc-CLUSTER-c4"},
    {"rsid":"5","rsname":"Default Resource","scopes":["GET"]}
  ])");
  ASSERT_TRUE(g.has_value()) << g.error().ToString();
  EXPECT_EQ(g->resources,
            (std::set<std::string>{"HUB-moc-CLUSTER-c1-PROJECT-proj-a", "HUB-moc-CLUSTER-c2"}));
  EXPECT_EQ(g->patch_resources, std::set<std::string>{"HUB-moc-CLUSTER-c2"});
  EXPECT_FALSE(g->admin);
  EXPECT_TRUE(ParseUmaPermissions("[]").value().resources.empty());
}

TEST(ParseUmaPermissions, FailsClosedOnJunk) {
  const char* bad[] = {
      "",
      "{",
      R"({"result":true})",  // a response_mode=decision answer is not a permission list
      R"({"error":"access_denied"})",
      R"(["HUB-moc"])",
      R"([{"rsid":"1","scopes":["GET"]}])",
      R"([{"rsname":"HUB-moc","scopes":"GET"}])",
      R"([{"rsname":"HUB-moc","scopes":[1]}])",
  };
  for (const char* body : bad) {
    auto g = ParseUmaPermissions(body);
    ASSERT_FALSE(g.has_value()) << body;
    EXPECT_EQ(g.error().code, ErrorCode::kUnavailable) << body;
  }
}

TEST(UmaClient, CreateValidatesOptions) {
  http::HttpClient client;
  Clock clock = [] { return Timestamp{}; };
  EXPECT_FALSE(UmaClient::Create({.issuer = "", .client_id = "c"}, &client, clock).has_value());
  EXPECT_FALSE(UmaClient::Create({.issuer = "http://x", .client_id = ""}, &client, clock));
  UmaOptions long_ttl{.issuer = "http://x", .client_id = "c"};
  long_ttl.cache_ttl = std::chrono::seconds(31);
  EXPECT_FALSE(UmaClient::Create(long_ttl, &client, clock).has_value());
  EXPECT_TRUE(UmaClient::Create({.issuer = "http://x", .client_id = "c"}, &client, clock));
}

}  // namespace
}  // namespace aitelemetry::auth
