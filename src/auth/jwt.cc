#include "auth/jwt.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include "auth/base64url.h"

namespace aitelemetry::auth {
namespace {

using Json = nlohmann::json;

enum class Family { kRsaPkcs1, kRsaPss, kEcdsaP256 };

struct Algorithm {
  std::string_view name;
  Family family;
  const EVP_MD* (*md)();
};

constexpr Algorithm kAlgorithms[] = {
    {"RS256", Family::kRsaPkcs1, EVP_sha256},  {"RS384", Family::kRsaPkcs1, EVP_sha384},
    {"RS512", Family::kRsaPkcs1, EVP_sha512},  {"PS256", Family::kRsaPss, EVP_sha256},
    {"PS384", Family::kRsaPss, EVP_sha384},    {"PS512", Family::kRsaPss, EVP_sha512},
    {"ES256", Family::kEcdsaP256, EVP_sha256},
};

const Algorithm* FindAlgorithm(std::string_view name) {
  for (const auto& a : kAlgorithms) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

tl::unexpected<JwtError> Reject(JwtRejection rejection, std::string reason) {
  return tl::unexpected<JwtError>(JwtError{
      rejection, Error{ErrorCode::kUnauthenticated, "invalid token: " + std::move(reason)}});
}

// Parses `text` as one JSON object, refusing duplicate member names at any depth (nlohmann would
// silently keep the last, and another parser may keep the first: RFC 8725 section 2.7 asks for
// one reading only). Returns a discarded value on any failure.
Json ParseStrictObject(std::string_view text) {
  std::vector<std::set<std::string>> open_objects;
  bool duplicate = false;
  Json::parser_callback_t callback = [&](int /*depth*/, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
        open_objects.emplace_back();
        break;
      case Json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case Json::parse_event_t::key:
        if (open_objects.empty() || !open_objects.back().insert(parsed.get<std::string>()).second) {
          duplicate = true;
        }
        break;
      default:
        break;
    }
    return true;
  };
  Json doc = Json::parse(text, callback, /*allow_exceptions=*/false);
  if (duplicate || !doc.is_object()) return Json(Json::value_t::discarded);
  return doc;
}

// Converts a JOSE ECDSA signature (r || s, 32 bytes each) to the DER form OpenSSL verifies.
std::string EcdsaRawToDer(std::string_view raw) {
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  std::string der;
  if (sig != nullptr && r != nullptr && s != nullptr && ECDSA_SIG_set0(sig, r, s) == 1) {
    r = s = nullptr;  // owned by sig now
    int len = i2d_ECDSA_SIG(sig, nullptr);
    if (len > 0) {
      der.resize(static_cast<size_t>(len));
      auto* p = reinterpret_cast<unsigned char*>(der.data());
      if (i2d_ECDSA_SIG(sig, &p) != len) der.clear();
    }
  }
  BN_free(r);
  BN_free(s);
  ECDSA_SIG_free(sig);
  return der;
}

bool VerifySignature(const Algorithm& alg, EVP_PKEY* pkey, std::string_view signing_input,
                     std::string_view signature) {
  std::string der;
  if (alg.family == Family::kEcdsaP256) {
    if (signature.size() != 64) return false;
    der = EcdsaRawToDer(signature);
    if (der.empty()) return false;
    signature = der;
  } else if (static_cast<int>(signature.size()) != EVP_PKEY_get_size(pkey)) {
    return false;
  }
  EVP_MD_CTX* mctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  bool ok = mctx != nullptr && EVP_DigestVerifyInit(mctx, &pctx, alg.md(), nullptr, pkey) == 1;
  if (ok && alg.family == Family::kRsaPss) {
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, alg.md()) == 1;
  } else if (ok && alg.family == Family::kRsaPkcs1) {
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
  }
  ok = ok && EVP_DigestVerify(mctx, reinterpret_cast<const unsigned char*>(signature.data()),
                              signature.size(),
                              reinterpret_cast<const unsigned char*>(signing_input.data()),
                              signing_input.size()) == 1;
  EVP_MD_CTX_free(mctx);
  return ok;
}

// Reads an optional string claim; false when present with another type.
bool OptionalString(const Json& doc, const char* name, std::string* out) {
  auto it = doc.find(name);
  if (it == doc.end() || it->is_null()) return true;
  if (!it->is_string()) return false;
  *out = it->get<std::string>();
  return true;
}

// Reads an optional array of strings; false when present with another shape.
bool OptionalStrings(const Json& doc, const char* name, std::vector<std::string>* out) {
  auto it = doc.find(name);
  if (it == doc.end() || it->is_null()) return true;
  if (!it->is_array()) return false;
  for (const Json& v : *it) {
    if (!v.is_string()) return false;
    out->push_back(v.get<std::string>());
  }
  return true;
}

// Reads an optional NumericDate in seconds; false when present but not a finite number.
bool OptionalDate(const Json& doc, const char* name, std::optional<double>* out) {
  auto it = doc.find(name);
  if (it == doc.end()) return true;
  if (!it->is_number()) return false;
  double v = it->get<double>();
  if (!std::isfinite(v)) return false;
  *out = v;
  return true;
}

}  // namespace

std::string_view JwtRejectionName(JwtRejection rejection) {
  switch (rejection) {
    case JwtRejection::kMalformed:
      return "malformed";
    case JwtRejection::kTooLarge:
      return "too_large";
    case JwtRejection::kEncrypted:
      return "encrypted";
    case JwtRejection::kAlgorithm:
      return "algorithm";
    case JwtRejection::kTokenType:
      return "token_type";
    case JwtRejection::kUnknownKid:
      return "unknown_kid";
    case JwtRejection::kKeyMismatch:
      return "key_mismatch";
    case JwtRejection::kSignature:
      return "signature";
    case JwtRejection::kIssuer:
      return "issuer";
    case JwtRejection::kAudience:
      return "audience";
    case JwtRejection::kExpired:
      return "expired";
    case JwtRejection::kNotYetValid:
      return "not_yet_valid";
  }
  return "unknown";
}

Result<JwtValidator> JwtValidator::Create(JwtOptions options) {
  if (options.issuer.empty()) return Fail(ErrorCode::kInvalidArgument, "jwt: issuer is empty");
  if (options.audience.empty()) return Fail(ErrorCode::kInvalidArgument, "jwt: audience is empty");
  if (options.algorithms.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "jwt: no algorithms allowed");
  }
  for (const auto& alg : options.algorithms) {
    if (FindAlgorithm(alg) == nullptr) {
      return Fail(ErrorCode::kInvalidArgument,
                  "jwt: algorithm " + alg + " is not allowed (only RS*, PS*, ES256)");
    }
  }
  if (options.leeway < std::chrono::seconds(0) || options.leeway > std::chrono::seconds(60)) {
    return Fail(ErrorCode::kInvalidArgument, "jwt: leeway must be 0 to 60 seconds");
  }
  if (options.max_token_bytes == 0) {
    return Fail(ErrorCode::kInvalidArgument, "jwt: max_token_bytes is 0");
  }
  return JwtValidator(std::move(options));
}

tl::expected<Claims, JwtError> JwtValidator::Validate(std::string_view token, const KeySet& keys,
                                                      Timestamp now) const {
  using R = JwtRejection;
  if (token.size() > options_.max_token_bytes) return Reject(R::kTooLarge, "token too large");
  size_t dots = std::count(token.begin(), token.end(), '.');
  if (dots == 4) return Reject(R::kEncrypted, "encrypted tokens (JWE) are not accepted");
  if (dots != 2) return Reject(R::kMalformed, "not a compact JWS");
  size_t d1 = token.find('.');
  size_t d2 = token.find('.', d1 + 1);
  std::string_view header_b64 = token.substr(0, d1);
  std::string_view payload_b64 = token.substr(d1 + 1, d2 - d1 - 1);
  std::string_view signature_b64 = token.substr(d2 + 1);
  if (header_b64.empty() || payload_b64.empty()) return Reject(R::kMalformed, "empty part");
  if (signature_b64.empty()) return Reject(R::kAlgorithm, "unsigned token");

  auto header_text = Base64UrlDecode(header_b64);
  if (!header_text) return Reject(R::kMalformed, "header is not base64url");
  Json header = ParseStrictObject(*header_text);
  if (header.is_discarded()) {
    return Reject(R::kMalformed, "header is not a JSON object with unique keys");
  }

  auto alg_it = header.find("alg");
  if (alg_it == header.end() || !alg_it->is_string()) return Reject(R::kAlgorithm, "no alg");
  const std::string& alg_name = alg_it->get_ref<const std::string&>();
  std::string alg_lower = Lower(alg_name);
  if (alg_lower == "none") return Reject(R::kAlgorithm, "alg none");
  if (alg_lower.starts_with("hs")) return Reject(R::kAlgorithm, "HMAC algorithms are refused");
  const Algorithm* alg = FindAlgorithm(alg_name);
  if (alg == nullptr || std::find(options_.algorithms.begin(), options_.algorithms.end(),
                                  alg_name) == options_.algorithms.end()) {
    return Reject(R::kAlgorithm, "alg not allowed");
  }
  if (header.contains("crit")) return Reject(R::kAlgorithm, "crit extensions are not supported");
  if (header.contains("cty")) return Reject(R::kTokenType, "nested tokens are not accepted");
  bool header_says_access = false;
  if (auto typ = header.find("typ"); typ != header.end()) {
    if (!typ->is_string()) return Reject(R::kMalformed, "typ is not a string");
    std::string t = Lower(typ->get_ref<const std::string&>());
    if (t.starts_with("application/")) t = t.substr(12);
    if (t == "at+jwt") {
      header_says_access = true;
    } else if (t != "jwt") {
      return Reject(R::kTokenType, "header typ is not JWT or at+jwt");
    }
  }
  auto kid_it = header.find("kid");
  if (kid_it == header.end() || !kid_it->is_string()) return Reject(R::kMalformed, "no kid");
  const PublicKey* key = keys.Find(kid_it->get_ref<const std::string&>());
  if (key == nullptr) return Reject(R::kUnknownKid, "unknown kid");
  bool key_fits = alg->family == Family::kEcdsaP256 ? key->type == KeyType::kEcP256
                                                    : key->type == KeyType::kRsa;
  if (!key_fits) return Reject(R::kKeyMismatch, "key type does not fit alg");
  if (!key->alg.empty() && key->alg != alg_name) {
    return Reject(R::kKeyMismatch, "alg is not the one the key is published for");
  }

  auto payload_text = Base64UrlDecode(payload_b64);
  if (!payload_text) return Reject(R::kMalformed, "payload is not base64url");
  auto signature = Base64UrlDecode(signature_b64);
  if (!signature) return Reject(R::kMalformed, "signature is not base64url");
  if (!VerifySignature(*alg, key->pkey.get(), token.substr(0, d2), *signature)) {
    return Reject(R::kSignature, "bad signature");
  }

  // Signed by our issuer from here on; still check everything it says.
  Json payload = ParseStrictObject(*payload_text);
  if (payload.is_discarded()) {
    return Reject(R::kMalformed, "payload is not a JSON object with unique keys");
  }

  Claims claims;
  if (!OptionalString(payload, "iss", &claims.issuer) || claims.issuer != options_.issuer) {
    return Reject(R::kIssuer, "wrong issuer");
  }
  if (auto aud = payload.find("aud"); aud != payload.end() && aud->is_string()) {
    claims.audience.push_back(aud->get<std::string>());
  } else if (!OptionalStrings(payload, "aud", &claims.audience)) {
    return Reject(R::kAudience, "aud is neither a string nor an array of strings");
  }
  if (std::find(claims.audience.begin(), claims.audience.end(), options_.audience) ==
      claims.audience.end()) {
    return Reject(R::kAudience, "wrong audience");
  }

  std::optional<double> exp, nbf, iat;
  if (!OptionalDate(payload, "exp", &exp) || !OptionalDate(payload, "nbf", &nbf) ||
      !OptionalDate(payload, "iat", &iat)) {
    return Reject(R::kMalformed, "exp, nbf or iat is not a number");
  }
  double now_s = ToUnixSeconds(now);
  double leeway_s = static_cast<double>(options_.leeway.count());
  if (!exp) return Reject(R::kExpired, "no exp");
  if (now_s > *exp + leeway_s) return Reject(R::kExpired, "expired");
  if (nbf && now_s + leeway_s < *nbf) return Reject(R::kNotYetValid, "not yet valid");
  if (iat && now_s + leeway_s < *iat) return Reject(R::kNotYetValid, "issued in the future");
  claims.expires_at = FromUnixSeconds(std::min(*exp, 1e10));

  // Access token or not: see the rule in jwt.h.
  std::string typ_claim;
  if (!OptionalString(payload, "typ", &typ_claim)) return Reject(R::kMalformed, "typ claim");
  bool claim_says_access = Lower(typ_claim) == "bearer";
  if (options_.kind == TokenKind::kId) {
    if (header_says_access || (!typ_claim.empty() && Lower(typ_claim) != "id")) {
      return Reject(R::kTokenType, "not an ID token");
    }
  } else if (!typ_claim.empty() && !claim_says_access) {
    return Reject(R::kTokenType, "not an access token (typ claim)");
  }
  if (options_.kind == TokenKind::kAccess) {
    for (const char* id_only : {"at_hash", "c_hash", "s_hash"}) {
      if (payload.contains(id_only)) return Reject(R::kTokenType, "ID token used as access token");
    }
    bool marked = claim_says_access || header_says_access;
    if (payload.contains("nonce") && !marked) {
      return Reject(R::kTokenType, "ID token used as access token (nonce)");
    }
    if (options_.require_access_token_type && !marked) {
      return Reject(R::kTokenType, "token is not marked as an access token");
    }
  }

  bool shapes_ok = OptionalString(payload, "sub", &claims.subject) &&
                   OptionalString(payload, "preferred_username", &claims.preferred_username) &&
                   OptionalString(payload, "email", &claims.email) &&
                   OptionalString(payload, "azp", &claims.azp) &&
                   OptionalString(payload, "client_id", &claims.client_id) &&
                   OptionalString(payload, "scope", &claims.scope) &&
                   OptionalString(payload, "nonce", &claims.nonce) &&
                   OptionalStrings(payload, "groups", &claims.groups);
  if (!shapes_ok) return Reject(R::kMalformed, "a claim has the wrong type");
  // OpenID Connect Core 3.1.3.7: with several audiences, azp must name the client.
  if (options_.kind == TokenKind::kId && claims.audience.size() > 1 &&
      claims.azp != options_.audience) {
    return Reject(R::kAudience, "azp is not the client");
  }
  if (claims.subject.empty()) return Reject(R::kMalformed, "no sub");
  if (auto realm = payload.find("realm_access"); realm != payload.end()) {
    if (!realm->is_object() || !OptionalStrings(*realm, "roles", &claims.realm_roles)) {
      return Reject(R::kMalformed, "realm_access has the wrong shape");
    }
  }
  if (auto resources = payload.find("resource_access"); resources != payload.end()) {
    if (!resources->is_object()) return Reject(R::kMalformed, "resource_access is not an object");
    for (const auto& [client, access] : resources->items()) {
      std::vector<std::string> roles;
      if (!access.is_object() || !OptionalStrings(access, "roles", &roles)) {
        return Reject(R::kMalformed, "resource_access has the wrong shape");
      }
      claims.client_roles[client] = std::move(roles);
    }
  }
  claims.raw_json = std::move(*payload_text);
  return claims;
}

Result<Claims> ValidateBearer(const JwtValidator& validator, KeyCache& cache,
                              std::string_view token, Timestamp now) {
  auto keys = cache.Keys();
  if (!keys) return Fail(keys.error());
  auto claims = validator.Validate(token, **keys, now);
  if (!claims && claims.error().rejection == JwtRejection::kUnknownKid) {
    auto refreshed = cache.RefreshForUnknownKid();
    if (refreshed && *refreshed != *keys) claims = validator.Validate(token, **refreshed, now);
  }
  if (!claims) return Fail(std::move(claims.error().error));
  return std::move(*claims);
}

}  // namespace aitelemetry::auth
