#include "auth/jwks.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "auth/test_util.h"

namespace aitelemetry::auth {
namespace {

using Json = nlohmann::json;
using testing::ReadTestdata;

// Returns `key` with `name` set to `value`.
Json With(Json key, const char* name, const char* value) {
  key[name] = value;
  return key;
}

Json TestKey(const char* kid) {
  Json doc = Json::parse(ReadTestdata("test_jwks.json"));
  for (const Json& k : doc["keys"]) {
    if (k["kid"] == kid) return k;
  }
  return Json::object();
}

TEST(ParseJwks, ReadsRsaAndEcKeys) {
  auto set = ParseJwks(ReadTestdata("test_jwks.json"));
  ASSERT_TRUE(set.has_value()) << set.error().ToString();
  EXPECT_EQ(set->size(), 2u);
  ASSERT_NE(set->Find("rs1"), nullptr);
  EXPECT_EQ(set->Find("rs1")->type, KeyType::kRsa);
  ASSERT_NE(set->Find("ec1"), nullptr);
  EXPECT_EQ(set->Find("ec1")->type, KeyType::kEcP256);
  EXPECT_EQ(set->Find("nope"), nullptr);
}

TEST(ParseJwks, SkipsKeysItCannotUse) {
  struct Case {
    const char* name;
    Json key;
  };
  Json rsa = TestKey("rs1");
  Json ec = TestKey("ec1");
  const Case cases[] = {
      {"use enc", With(rsa, "use", "enc")},
      {"symmetric", {{"kty", "oct"}, {"kid", "k"}, {"k", "c2VjcmV0"}}},
      {"no kid",
       [&] {
         Json k = rsa;
         k.erase("kid");
         return k;
       }()},
      {"P-384", With(ec, "crv", "P-384")},
      {"alg HS256", With(rsa, "alg", "HS256")},
      {"EC alg ES384", With(ec, "alg", "ES384")},
      {"OKP", {{"kty", "OKP"}, {"kid", "o"}, {"crv", "Ed25519"}, {"x", "AAAA"}}},
  };
  for (const auto& c : cases) {
    Json doc = {{"keys", Json::array({c.key})}};
    auto set = ParseJwks(doc.dump());
    ASSERT_TRUE(set.has_value()) << c.name << ": " << set.error().ToString();
    EXPECT_EQ(set->size(), 0u) << c.name;
  }
}

TEST(ParseJwks, DropsBothCopiesOfADuplicatedKid) {
  Json rsa = TestKey("rs1");
  Json ec = TestKey("ec1");
  ec["kid"] = "rs1";
  auto set = ParseJwks(Json({{"keys", Json::array({rsa, ec})}}).dump());
  ASSERT_TRUE(set.has_value());
  EXPECT_EQ(set->Find("rs1"), nullptr);
}

TEST(ParseJwks, RejectsBrokenDocumentsAndKeys) {
  Json rsa = TestKey("rs1");
  Json ec = TestKey("ec1");
  Json off_curve = ec;
  off_curve["y"] = off_curve["x"];
  Json short_rsa = rsa;
  short_rsa["n"] = short_rsa["n"].get<std::string>().substr(0, 171);  // 1024 bits
  Json padded = rsa;
  padded["e"] = "AQAB==";
  Json missing_n = rsa;
  missing_n.erase("n");
  Json even_e = rsa;
  even_e["e"] = "AQAA";
  Json short_x = ec;
  short_x["x"] = "AAAA";
  // A broken document is refused whole.
  for (const char* text : {"{", "[]", "{}", R"({"keys":{}})"}) {
    auto set = ParseJwks(text);
    ASSERT_FALSE(set.has_value()) << text;
    EXPECT_EQ(set.error().code, ErrorCode::kInvalidArgument) << text;
  }
  // A broken or weak key is skipped (and logged); the set's other keys stay usable, so one
  // 1024-bit key published beside them does not lock every user out at a cold start.
  const std::pair<const char*, Json> keys[] = {
      {"off curve", off_curve}, {"short rsa", short_rsa},  {"padded base64", padded},
      {"missing n", missing_n}, {"even exponent", even_e}, {"short x", short_x},
  };
  for (const auto& [name, bad] : keys) {
    Json weak = bad;
    weak["kid"] = "weak";
    Json good = bad.value("kty", "") == "EC" ? rsa : ec;
    auto set = ParseJwks(Json({{"keys", Json::array({weak, good})}}).dump());
    ASSERT_TRUE(set.has_value()) << name << ": " << set.error().ToString();
    EXPECT_EQ(set->size(), 1u) << name;
    EXPECT_EQ(set->Find("weak"), nullptr) << name;
    EXPECT_NE(set->Find(good["kid"].get<std::string>()), nullptr) << name;
  }
}

TEST(ParseJwks, BindsEachKeyToItsAlg) {
  Json rsa = With(TestKey("rs1"), "alg", "RS256");
  auto set = ParseJwks(Json({{"keys", Json::array({rsa, TestKey("ec1")})}}).dump());
  ASSERT_TRUE(set.has_value());
  EXPECT_EQ(set->Find("rs1")->alg, "RS256");
  EXPECT_EQ(set->Find("ec1")->alg, "ES256");
  auto unbound = ParseJwks(Json({{"keys", Json::array({TestKey("rs1")})}}).dump());
  ASSERT_TRUE(unbound.has_value());
  EXPECT_EQ(unbound->Find("rs1")->alg, "");
  // kty and alg must agree: an RSA key published for ES256, or an alg that is not a string, is no
  // key at all.
  for (const Json& bad : {With(TestKey("rs1"), "alg", "ES256"), [] {
                            Json k = TestKey("rs1");
                            k["alg"] = 256;
                            return k;
                          }()}) {
    auto s = ParseJwks(Json({{"keys", Json::array({bad})}}).dump());
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->size(), 0u) << bad.dump().substr(0, 80);
  }
}

}  // namespace
}  // namespace aitelemetry::auth
