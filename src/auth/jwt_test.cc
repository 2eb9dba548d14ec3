#include "auth/jwt.h"

#include <gtest/gtest.h>

#include <map>

#include <nlohmann/json.hpp>

#include "auth/test_util.h"

namespace aitelemetry::auth {
namespace {

using testing::ReadTestdata;

constexpr char kIssuer[] = "http://127.0.0.1:8080/realms/nerc";

JwtValidator MakeValidator() {
  JwtOptions options;
  options.issuer = kIssuer;
  options.audience = "ai-telemetry";
  return JwtValidator::Create(options).value();
}

KeySet TestKeys() { return ParseJwks(ReadTestdata("test_jwks.json")).value(); }

// The attack matrix written by tests/oidc/mint.mjs against testdata/test_keys.json:
//   node tests/oidc/mint.mjs --keys src/auth/testdata/test_keys.json
//     --issuer http://127.0.0.1:8080/realms/nerc --now 1790000000
//     --out src/auth/testdata/attack_tokens.json
TEST(JwtValidator, AttackMatrixFromMint) {
  auto doc = nlohmann::json::parse(ReadTestdata("attack_tokens.json"));
  ASSERT_EQ(doc["issuer"], kIssuer);
  Timestamp now = FromUnixSeconds(doc["now"].get<double>());
  JwtValidator validator = MakeValidator();
  KeySet keys = TestKeys();
  int accepted = 0, rejected = 0;
  for (const auto& c : doc["cases"]) {
    std::string name = c["name"], token = c["token"], expect = c["expect"];
    auto claims = validator.Validate(token, keys, now);
    if (expect == "accept") {
      EXPECT_TRUE(claims.has_value())
          << name << ": " << (claims ? "" : claims.error().error.ToString());
      ++accepted;
    } else {
      ASSERT_FALSE(claims.has_value()) << name << " was accepted";
      EXPECT_EQ(JwtRejectionName(claims.error().rejection), expect)
          << name << ": " << claims.error().error.message;
      EXPECT_EQ(claims.error().error.code, ErrorCode::kUnauthenticated);
      if (!token.empty()) {
        EXPECT_EQ(claims.error().error.message.find(token.substr(0, 20)), std::string::npos);
      }
      ++rejected;
    }
  }
  EXPECT_GE(accepted, 6);
  EXPECT_GE(rejected, 40);
}

// A key published with "alg":"RS256" verifies RS256 only: PS256 with the same RSA key (a valid
// signature) is refused, as the key's alg binds it (RFC 8725 section 3.1).
TEST(JwtValidator, TheKeysAlgBindsIt) {
  auto doc = nlohmann::json::parse(ReadTestdata("attack_tokens.json"));
  Timestamp now = FromUnixSeconds(doc["now"].get<double>());
  std::map<std::string, std::string> tokens;
  for (const auto& c : doc["cases"]) tokens[c["name"]] = c["token"];
  auto jwks = nlohmann::json::parse(ReadTestdata("test_jwks.json"));
  for (auto& k : jwks["keys"]) {
    if (k["kid"] == "rs1") k["alg"] = "RS256";
  }
  KeySet bound = ParseJwks(jwks.dump()).value();
  JwtValidator validator = MakeValidator();
  EXPECT_TRUE(validator.Validate(tokens.at("good_rs256"), bound, now).has_value());
  EXPECT_TRUE(validator.Validate(tokens.at("good_es256"), bound, now).has_value());
  auto ps = validator.Validate(tokens.at("good_ps256"), bound, now);
  ASSERT_FALSE(ps.has_value());
  EXPECT_EQ(JwtRejectionName(ps.error().rejection), "key_mismatch");
  // Without an alg in the JWK, both RSA algorithms verify with it.
  EXPECT_TRUE(validator.Validate(tokens.at("good_ps256"), TestKeys(), now).has_value());
}

TEST(JwtValidator, ExtractsKeycloakClaims) {
  auto doc = nlohmann::json::parse(ReadTestdata("attack_tokens.json"));
  Timestamp now = FromUnixSeconds(doc["now"].get<double>());
  std::string token = doc["cases"][0]["token"];
  ASSERT_EQ(doc["cases"][0]["name"], "good_rs256");
  auto claims = MakeValidator().Validate(token, TestKeys(), now);
  ASSERT_TRUE(claims.has_value()) << claims.error().error.ToString();
  EXPECT_EQ(claims->issuer, kIssuer);
  EXPECT_EQ(claims->subject, "f1e2d3c4-user-a");
  EXPECT_EQ(claims->preferred_username, "researcher-a");
  EXPECT_EQ(claims->email, "a@example.org");
  EXPECT_EQ(claims->azp, "researcher-a");
  EXPECT_EQ(claims->scope, "openid profile email");
  EXPECT_EQ(claims->groups, std::vector<std::string>{"/HUB-moc-CLUSTER-c1-PROJECT-proj-a-GET"});
  EXPECT_EQ(claims->realm_roles, std::vector<std::string>{"offline_access"});
  EXPECT_EQ(claims->client_roles.at("ai-telemetry"), std::vector<std::string>{"viewer"});
  EXPECT_EQ(claims->expires_at, FromUnixSeconds(doc["now"].get<double>() + 300));
  EXPECT_NE(claims->raw_json.find("\"jti\""), std::string::npos);
}

TEST(JwtValidator, LeewayBoundsExpiry) {
  auto doc = nlohmann::json::parse(ReadTestdata("attack_tokens.json"));
  double now = doc["now"].get<double>();
  std::string token = doc["cases"][0]["token"];  // exp = now + 300
  JwtValidator validator = MakeValidator();
  KeySet keys = TestKeys();
  EXPECT_TRUE(validator.Validate(token, keys, FromUnixSeconds(now + 360)).has_value());
  auto late = validator.Validate(token, keys, FromUnixSeconds(now + 361));
  ASSERT_FALSE(late.has_value());
  EXPECT_EQ(late.error().rejection, JwtRejection::kExpired);
}

TEST(JwtValidator, UnknownKidIsItsOwnRejection) {
  auto doc = nlohmann::json::parse(ReadTestdata("attack_tokens.json"));
  Timestamp now = FromUnixSeconds(doc["now"].get<double>());
  std::string token = doc["cases"][0]["token"];
  auto result = MakeValidator().Validate(token, KeySet(), now);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().rejection, JwtRejection::kUnknownKid);
}

TEST(JwtValidator, AllowListIsEnforced) {
  auto doc = nlohmann::json::parse(ReadTestdata("attack_tokens.json"));
  Timestamp now = FromUnixSeconds(doc["now"].get<double>());
  JwtOptions options;
  options.issuer = kIssuer;
  options.audience = "ai-telemetry";
  options.algorithms = {"ES256"};
  JwtValidator es_only = JwtValidator::Create(options).value();
  for (const auto& c : doc["cases"]) {
    if (c["name"] == "good_rs256") {
      auto r = es_only.Validate(c["token"].get<std::string>(), TestKeys(), now);
      ASSERT_FALSE(r.has_value());
      EXPECT_EQ(r.error().rejection, JwtRejection::kAlgorithm);
    }
    if (c["name"] == "good_es256") {
      EXPECT_TRUE(es_only.Validate(c["token"].get<std::string>(), TestKeys(), now).has_value());
    }
  }
}

TEST(JwtValidator, CreateRefusesUnsafeOptions) {
  struct Case {
    const char* name;
    std::vector<std::string> algorithms;
    int leeway_s;
    std::string issuer;
  };
  const Case cases[] = {
      {"none", {"none"}, 60, kIssuer},
      {"None", {"RS256", "None"}, 60, kIssuer},
      {"hmac", {"HS256"}, 60, kIssuer},
      {"unknown", {"RS1024"}, 60, kIssuer},
      {"empty list", {}, 60, kIssuer},
      {"leeway too big", {"RS256"}, 61, kIssuer},
      {"negative leeway", {"RS256"}, -1, kIssuer},
      {"no issuer", {"RS256"}, 60, ""},
  };
  for (const auto& c : cases) {
    JwtOptions options;
    options.issuer = c.issuer;
    options.audience = "ai-telemetry";
    options.algorithms = c.algorithms;
    options.leeway = std::chrono::seconds(c.leeway_s);
    auto v = JwtValidator::Create(options);
    ASSERT_FALSE(v.has_value()) << c.name;
    EXPECT_EQ(v.error().code, ErrorCode::kInvalidArgument) << c.name;
  }
}

// The same minted tokens through an ID-token validator (the browser login's code flow): ID tokens
// are accepted with their nonce, access and refresh tokens are refused.
TEST(JwtValidator, IdTokenKind) {
  auto doc = nlohmann::json::parse(ReadTestdata("attack_tokens.json"));
  Timestamp now = FromUnixSeconds(doc["now"].get<double>());
  JwtOptions options;
  options.issuer = kIssuer;
  options.audience = "ai-telemetry";
  options.kind = TokenKind::kId;
  JwtValidator validator = JwtValidator::Create(options).value();
  KeySet keys = TestKeys();
  const std::map<std::string, std::string> expect = {
      {"id_token_keycloak", "accept"},
      {"id_token_generic", "accept"},
      {"id_token_nonce_only", "accept"},
      {"good_rs256", "token_type"},
      {"good_at_jwt_header_no_typ_claim", "token_type"},
      {"refresh_token", "token_type"},
      {"wrong_audience", "audience"},
      {"alg_none_unsigned", "algorithm"},
  };
  int seen = 0;
  for (const auto& c : doc["cases"]) {
    auto it = expect.find(c["name"]);
    if (it == expect.end()) continue;
    ++seen;
    auto claims = validator.Validate(c["token"].get<std::string>(), keys, now);
    if (it->second == "accept") {
      ASSERT_TRUE(claims.has_value()) << it->first << ": " << claims.error().error.ToString();
    } else {
      ASSERT_FALSE(claims.has_value()) << it->first << " was accepted";
      EXPECT_EQ(JwtRejectionName(claims.error().rejection), it->second) << it->first;
    }
  }
  EXPECT_EQ(seen, static_cast<int>(expect.size()));
}

}  // namespace
}  // namespace aitelemetry::auth
