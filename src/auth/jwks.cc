#include "auth/jwks.h"

#include <algorithm>
#include <iterator>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "auth/base64url.h"

namespace aitelemetry::auth {
namespace {

using Json = nlohmann::json;

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};

// Builds an EVP_PKEY of `type` ("RSA" or "EC") from `params`; checks the public key when asked.
Result<std::shared_ptr<EVP_PKEY>> FromData(const char* type, OSSL_PARAM_BLD* bld, bool check) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  if (params == nullptr) return Fail(ErrorCode::kInternal, "jwks: cannot build key parameters");
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* pkey = nullptr;
  bool ok = ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1 &&
            EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  if (!ok) return Fail(ErrorCode::kInvalidArgument, "jwks: key rejected by OpenSSL");
  std::shared_ptr<EVP_PKEY> owned(pkey, PkeyDeleter());
  if (check) {
    EVP_PKEY_CTX* cctx = EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr);
    bool valid = cctx != nullptr && EVP_PKEY_public_check(cctx) == 1;
    EVP_PKEY_CTX_free(cctx);
    if (!valid) return Fail(ErrorCode::kInvalidArgument, "jwks: public key fails its check");
  }
  return owned;
}

Result<std::string> Member(const Json& key, const char* name) {
  auto it = key.find(name);
  if (it == key.end() || !it->is_string()) {
    return Fail(ErrorCode::kInvalidArgument, std::string("jwks: key lacks string member ") + name);
  }
  auto bytes = Base64UrlDecode(it->get_ref<const std::string&>());
  if (!bytes)
    return Fail(ErrorCode::kInvalidArgument, std::string("jwks: bad base64url in ") + name);
  return *bytes;
}

Result<std::shared_ptr<EVP_PKEY>> RsaKey(const Json& key) {
  auto n = Member(key, "n");
  if (!n) return Fail(n.error());
  auto e = Member(key, "e");
  if (!e) return Fail(e.error());
  BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
                           static_cast<int>(n->size()), nullptr);
  BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                           static_cast<int>(e->size()), nullptr);
  Result<std::shared_ptr<EVP_PKEY>> out = Fail(ErrorCode::kInternal, "jwks: out of memory");
  if (bn_n != nullptr && bn_e != nullptr) {
    if (BN_num_bits(bn_n) < 2048) {
      out = Fail(ErrorCode::kInvalidArgument, "jwks: RSA modulus shorter than 2048 bits");
    } else if (BN_is_odd(bn_e) == 0 || BN_is_one(bn_e) == 1) {
      out = Fail(ErrorCode::kInvalidArgument, "jwks: bad RSA exponent");
    } else {
      OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
      if (bld != nullptr && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
          OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1) {
        out = FromData("RSA", bld, /*check=*/false);
      }
      OSSL_PARAM_BLD_free(bld);
    }
  }
  BN_free(bn_n);
  BN_free(bn_e);
  return out;
}

Result<std::shared_ptr<EVP_PKEY>> EcP256Key(const Json& key) {
  auto x = Member(key, "x");
  if (!x) return Fail(x.error());
  auto y = Member(key, "y");
  if (!y) return Fail(y.error());
  if (x->size() != 32 || y->size() != 32) {
    return Fail(ErrorCode::kInvalidArgument, "jwks: P-256 coordinates must be 32 bytes");
  }
  std::string point = "\x04" + *x + *y;  // uncompressed SEC1 point
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  Result<std::shared_ptr<EVP_PKEY>> out = Fail(ErrorCode::kInternal, "jwks: out of memory");
  if (bld != nullptr &&
      OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
      OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) ==
          1) {
    out = FromData("EC", bld, /*check=*/true);
  }
  OSSL_PARAM_BLD_free(bld);
  return out;
}

bool IsString(const Json& key, const char* name, std::string_view value) {
  auto it = key.find(name);
  return it != key.end() && it->is_string() && it->get_ref<const std::string&>() == value;
}

}  // namespace

const PublicKey* KeySet::Find(std::string_view kid) const {
  auto it = keys_.find(kid);
  return it == keys_.end() ? nullptr : &it->second;
}

void KeySet::Add(PublicKey key) {
  std::string kid = key.kid;
  keys_.insert_or_assign(std::move(kid), std::move(key));
}

Result<KeySet> ParseJwks(std::string_view json) {
  Json doc = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "jwks: not a JSON object");
  }
  auto keys = doc.find("keys");
  if (keys == doc.end() || !keys->is_array()) {
    return Fail(ErrorCode::kInvalidArgument, "jwks: no \"keys\" array");
  }
  std::map<std::string, int> kid_count;
  for (const Json& key : *keys) {
    if (key.is_object() && key.contains("kid") && key["kid"].is_string()) {
      ++kid_count[key["kid"].get<std::string>()];
    }
  }
  KeySet set;
  for (const Json& key : *keys) {
    if (!key.is_object()) continue;
    auto kid = key.find("kid");
    if (kid == key.end() || !kid->is_string() || kid->get_ref<const std::string&>().empty()) {
      continue;
    }
    const std::string& kid_text = kid->get_ref<const std::string&>();
    if (kid_count[kid_text] > 1) {
      spdlog::warn("jwks: kid {} appears more than once; ignoring it", kid_text);
      continue;
    }
    if (key.contains("use") && !IsString(key, "use", "sig")) continue;
    PublicKey out;
    out.kid = kid_text;
    if (key.contains("alg")) {
      if (!key["alg"].is_string()) continue;
      out.alg = key["alg"].get<std::string>();
    }
    Result<std::shared_ptr<EVP_PKEY>> pkey = nullptr;
    if (IsString(key, "kty", "RSA")) {
      if (!out.alg.empty()) {
        static constexpr std::string_view kRsaAlgs[] = {"RS256", "RS384", "RS512",
                                                        "PS256", "PS384", "PS512"};
        if (std::find(std::begin(kRsaAlgs), std::end(kRsaAlgs), out.alg) == std::end(kRsaAlgs)) {
          continue;
        }
      }
      out.type = KeyType::kRsa;
      pkey = RsaKey(key);
    } else if (IsString(key, "kty", "EC") && IsString(key, "crv", "P-256")) {
      if (!out.alg.empty() && out.alg != "ES256") continue;
      out.type = KeyType::kEcP256;
      pkey = EcP256Key(key);
    } else {
      continue;
    }
    if (!pkey) {
      // One unusable key (a 1024-bit modulus, say) must not take the issuer's other keys with it.
      spdlog::warn("jwks: skipping key {}: {}", kid_text, pkey.error().message);
      continue;
    }
    out.pkey = std::move(*pkey);
    set.Add(std::move(out));
  }
  return set;
}

KeyCache::KeyCache(KeyCacheOptions options, http::HttpClient* client, Clock clock)
    : options_(std::move(options)), clock_(std::move(clock)), client_(client) {}

int KeyCache::fetch_count() const {
  std::lock_guard lock(mu_);
  return fetch_count_;
}

Result<std::string> KeyCache::GetJson(const std::string& url) {
  http::ClientRequest request;
  request.url = url;
  request.headers = {{"Accept", "application/json"}};
  request.timeout = options_.timeout;
  request.max_response_bytes = options_.max_response_bytes;
  auto response = client_->Send(request);
  if (!response) return Fail(response.error());
  if (response->status != 200) {
    return Fail(ErrorCode::kUnavailable,
                "jwks: " + url + " answered HTTP " + std::to_string(response->status));
  }
  return std::move(response->body);
}

Status KeyCache::FetchLocked() {
  {
    std::lock_guard lock(mu_);
    last_attempt_ = clock_();
    attempted_ = true;
    ++fetch_count_;
  }
  std::string issuer = options_.issuer;
  while (!issuer.empty() && issuer.back() == '/') issuer.pop_back();
  auto discovery_text = GetJson(issuer + "/.well-known/openid-configuration");
  if (!discovery_text) return Fail(discovery_text.error());
  Json discovery = Json::parse(*discovery_text, nullptr, /*allow_exceptions=*/false);
  if (discovery.is_discarded() || !discovery.is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "jwks: discovery document is not a JSON object");
  }
  // OpenID Connect Discovery 1.0 section 4.3: the issuer in the document must be the one asked for.
  if (!IsString(discovery, "issuer", options_.issuer)) {
    return Fail(ErrorCode::kInvalidArgument, "jwks: discovery document names another issuer");
  }
  auto uri = discovery.find("jwks_uri");
  if (uri == discovery.end() || !uri->is_string()) {
    return Fail(ErrorCode::kInvalidArgument, "jwks: discovery document has no jwks_uri");
  }
  const std::string& jwks_uri = uri->get_ref<const std::string&>();
  if (!jwks_uri.starts_with("https://") && !jwks_uri.starts_with("http://")) {
    return Fail(ErrorCode::kInvalidArgument, "jwks: jwks_uri is not an http(s) URL");
  }
  auto jwks_text = GetJson(jwks_uri);
  if (!jwks_text) return Fail(jwks_text.error());
  auto set = ParseJwks(*jwks_text);
  if (!set) return Fail(set.error());
  if (set->size() == 0) {
    return Fail(ErrorCode::kInvalidArgument, "jwks: the issuer's key set has no usable key");
  }
  std::lock_guard lock(mu_);
  keys_ = std::make_shared<const KeySet>(std::move(*set));
  fetched_at_ = clock_();
  return Ok();
}

Result<std::shared_ptr<const KeySet>> KeyCache::Keys() {
  {
    std::lock_guard lock(mu_);
    if (keys_ != nullptr && clock_() - fetched_at_ < options_.refresh_interval) return keys_;
  }
  std::lock_guard fetch_lock(fetch_mu_);
  {
    // Another thread may have refreshed while this one waited.
    std::lock_guard lock(mu_);
    if (keys_ != nullptr && clock_() - fetched_at_ < options_.refresh_interval) return keys_;
    // While the issuer is down, retry at most once per min_refresh_interval and serve what is held.
    if (attempted_ && clock_() - last_attempt_ < options_.min_refresh_interval) {
      if (keys_ != nullptr) return keys_;
      return Fail(ErrorCode::kUnavailable, "jwks: no keys held and refresh is rate-limited");
    }
  }
  Status fetched = FetchLocked();
  std::lock_guard lock(mu_);
  if (!fetched) {
    if (keys_ != nullptr) {
      spdlog::warn("jwks refresh failed, keeping the held keys: {}", fetched.error().ToString());
      return keys_;
    }
    return Fail(fetched.error());
  }
  return keys_;
}

Result<std::shared_ptr<const KeySet>> KeyCache::RefreshForUnknownKid() {
  std::lock_guard fetch_lock(fetch_mu_);
  {
    std::lock_guard lock(mu_);
    if (attempted_ && clock_() - last_attempt_ < options_.min_refresh_interval) {
      if (keys_ != nullptr) return keys_;
      return Fail(ErrorCode::kUnavailable, "jwks: no keys held and refresh is rate-limited");
    }
  }
  Status fetched = FetchLocked();
  std::lock_guard lock(mu_);
  if (!fetched) {
    if (keys_ != nullptr) {
      spdlog::warn("jwks refresh failed, keeping the held keys: {}", fetched.error().ToString());
      return keys_;
    }
    return Fail(fetched.error());
  }
  return keys_;
}

}  // namespace aitelemetry::auth
