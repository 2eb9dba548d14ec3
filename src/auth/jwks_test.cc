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
  const std::pair<const char*, std::string> cases[] = {
      {"not json", "{"},
      {"array", "[]"},
      {"no keys", "{}"},
      {"keys not array", R"({"keys":{}})"},
      {"off curve", Json({{"keys", Json::array({off_curve})}}).dump()},
      {"short rsa", Json({{"keys", Json::array({short_rsa})}}).dump()},
      {"padded base64", Json({{"keys", Json::array({padded})}}).dump()},
      {"missing n", Json({{"keys", Json::array({missing_n})}}).dump()},
      {"even exponent", Json({{"keys", Json::array({even_e})}}).dump()},
      {"short x", Json({{"keys", Json::array({short_x})}}).dump()},
  };
  for (const auto& [name, text] : cases) {
    auto set = ParseJwks(text);
    ASSERT_FALSE(set.has_value()) << name;
    EXPECT_EQ(set.error().code, ErrorCode::kInvalidArgument) << name;
  }
}

}  // namespace
}  // namespace aitelemetry::auth
