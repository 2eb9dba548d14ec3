// Fuzz target: the JWKS document (fetched from the issuer's jwks_uri). Properties: no crash or
// sanitizer report; a refusal is kInvalidArgument; every key kept can be found by its kid.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "auth/jwks.h"
#include "testing/fuzz_check.h"

namespace aitelemetry::auth {
namespace {

void Run(std::string_view json) {
  auto keys = ParseJwks(json);
  if (!keys) {
    fuzz::CheckCode(keys.error(), {ErrorCode::kInvalidArgument});
    return;
  }
  // Every kid the document names is either kept (and found, with a key) or skipped.
  auto doc = nlohmann::json::parse(json, nullptr, false);
  fuzz::Check(!doc.is_discarded() && doc.is_object(), "accepted a document that is not JSON");
  size_t found = 0;
  for (const auto& k : doc.value("keys", nlohmann::json::array())) {
    if (!k.is_object() || !k.contains("kid") || !k["kid"].is_string()) continue;
    const PublicKey* key = keys->Find(k["kid"].get<std::string>());
    if (key == nullptr) continue;
    fuzz::Check(key->pkey != nullptr && key->kid == k["kid"].get<std::string>(),
                "a kept key without its OpenSSL key or under another kid");
    ++found;
  }
  fuzz::Check(found >= keys->size(), "a kept key whose kid the document does not name");
}

}  // namespace
}  // namespace aitelemetry::auth

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  aitelemetry::auth::Run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
