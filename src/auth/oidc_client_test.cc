#include "auth/oidc_client.h"

#include <gtest/gtest.h>

#include <set>

namespace aitelemetry::auth {
namespace {

TEST(Pkce, S256MatchesRfc7636AppendixB) {
  EXPECT_EQ(PkceChallengeS256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(RandomToken, IsUrlSafeLongAndFresh) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string t = RandomToken();
    EXPECT_EQ(t.size(), 43u);
    EXPECT_EQ(
        t.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos);
    seen.insert(t);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(Sha256Hex, KnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ConstantTimeEquals, ComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST(ParseDiscovery, Cases) {
  const std::string issuer = "https://sso.example/realms/nerc";
  const std::string good =
      R"({"issuer":"https://sso.example/realms/nerc",
          "authorization_endpoint":"https://sso.example/realms/nerc/protocol/openid-connect/auth",
          "token_endpoint":"https://sso.example/realms/nerc/protocol/openid-connect/token",
          "end_session_endpoint":"https://sso.example/realms/nerc/protocol/openid-connect/logout"})";
  auto m = ParseDiscovery(good, issuer);
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  EXPECT_EQ(m->token_endpoint, "https://sso.example/realms/nerc/protocol/openid-connect/token");
  EXPECT_EQ(m->end_session_endpoint,
            "https://sso.example/realms/nerc/protocol/openid-connect/logout");

  struct Case {
    const char* name;
    std::string json;
  };
  const Case bad[] = {
      {"not json", "{"},
      {"array", "[]"},
      {"other issuer", R"({"issuer":"https://evil.example/realms/nerc",
        "authorization_endpoint":"https://a/auth","token_endpoint":"https://a/token"})"},
      {"issuer with slash", R"({"issuer":"https://sso.example/realms/nerc/",
        "authorization_endpoint":"https://a/auth","token_endpoint":"https://a/token"})"},
      {"no token endpoint", R"({"issuer":"https://sso.example/realms/nerc",
        "authorization_endpoint":"https://a/auth"})"},
      {"javascript endpoint", R"j({"issuer":"https://sso.example/realms/nerc",
        "authorization_endpoint":"javascript:alert(1)","token_endpoint":"https://a/token"})j"},
  };
  for (const auto& c : bad) {
    auto r = ParseDiscovery(c.json, issuer);
    ASSERT_FALSE(r.has_value()) << c.name;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << c.name;
  }
  // No end_session_endpoint: logout stays local.
  auto local = ParseDiscovery(R"({"issuer":"https://sso.example/realms/nerc",
      "authorization_endpoint":"https://a/auth","token_endpoint":"https://a/token"})",
                              issuer);
  ASSERT_TRUE(local.has_value());
  EXPECT_TRUE(local->end_session_endpoint.empty());
}

}  // namespace
}  // namespace aitelemetry::auth
