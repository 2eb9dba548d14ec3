// Fuzz target: bearer token validation (the Authorization header of any request) against the test
// issuer's keys, at the instant the test tokens were minted. The corpus holds the attack matrix of
// testdata/attack_tokens.json. Properties: no crash or sanitizer report; a refusal is always
// kUnauthenticated; the only tokens accepted are the matrix's good tokens byte for byte (a
// mutated token that still verifies would be a forgery or a non-canonical encoding let through).
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "auth/jwks.h"
#include "auth/jwt.h"
#include "testing/fuzz_check.h"

namespace aitelemetry::auth {
namespace {

std::string ReadTestdata(const std::string& name) {
  std::ifstream in(std::string(AITELEMETRY_SOURCE_DIR) + "/src/auth/testdata/" + name);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct Fixture {
  Fixture() {
    auto doc = nlohmann::json::parse(ReadTestdata("attack_tokens.json"));
    now = FromUnixSeconds(doc["now"].get<double>());
    for (const auto& c : doc["cases"]) {
      if (c["expect"] == "accept") good.insert(c["token"].get<std::string>());
    }
    auto parsed = ParseJwks(ReadTestdata("test_jwks.json"));
    fuzz::Check(parsed.has_value() && parsed->size() > 0, "cannot load testdata/test_jwks.json");
    keys = std::move(*parsed);
    JwtOptions options;
    options.issuer = doc["issuer"].get<std::string>();
    options.audience = "ai-telemetry";
    auto v = JwtValidator::Create(options);
    fuzz::Check(v.has_value(), "cannot create the validator");
    validator.emplace(std::move(*v));
  }
  Timestamp now;
  std::set<std::string, std::less<>> good;
  KeySet keys;
  std::optional<JwtValidator> validator;
};

void Run(std::string_view token) {
  static const Fixture* fixture = new Fixture();
  auto claims = fixture->validator->Validate(token, fixture->keys, fixture->now);
  if (claims) {
    fuzz::Check(fixture->good.contains(token), "accepted a token that is not one of the minted");
  } else {
    fuzz::Check(claims.error().error.code == ErrorCode::kUnauthenticated,
                "a refusal other than kUnauthenticated");
  }
}

}  // namespace
}  // namespace aitelemetry::auth

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  aitelemetry::auth::Run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
