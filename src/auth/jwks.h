// JSON Web Key Sets (RFC 7517): the issuer's public signing keys, parsed into OpenSSL keys, and a
// thread-safe cache that discovers, fetches and refreshes them.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/time.h"
#include "http/client.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace aitelemetry::auth {

enum class KeyType {
  kRsa,     // "kty":"RSA"; verifies RS256/384/512 and PS256/384/512
  kEcP256,  // "kty":"EC","crv":"P-256"; verifies ES256
};

// One public key. `pkey` is immutable and shared; EVP_PKEY verification is safe from many threads.
struct PublicKey {
  std::string kid;
  KeyType type = KeyType::kRsa;
  // The JWK's "alg" when it names one: a token signed with this key must use exactly it (a key
  // published for RS256 never verifies PS256). Empty: any algorithm of the key's type.
  std::string alg;
  std::shared_ptr<EVP_PKEY> pkey;
};

// The usable signing keys of one issuer, keyed by "kid".
class KeySet {
 public:
  // Returns the key named `kid`, or nullptr when there is none. The pointer lives as long as this
  // set.
  const PublicKey* Find(std::string_view kid) const;
  size_t size() const { return keys_.size(); }

  void Add(PublicKey key);

 private:
  std::map<std::string, PublicKey, std::less<>> keys_;
};

// Parses a JWKS document ({"keys":[...]}). Keeps RSA keys (n, e; modulus at least 2048 bits) and
// EC P-256 keys (x, y of 32 bytes each, checked to lie on the curve) that have a "kid", each bound
// to its "alg" when it names one. Skips, without failing, keys of another kty or curve, keys whose
// "use" is not "sig", keys without a kid, and keys whose "alg" is not one this code verifies for
// their kty. Skips and logs (a warning naming the kid) keys it would keep but cannot use: a weak
// RSA modulus (under 2048 bits), a bad exponent, a point off the curve, members that are not
// strict base64url; the other keys of the set stay usable. A key with a duplicated kid is skipped
// too (both copies), since a lookup could not tell them apart. Returns kInvalidArgument only when
// the document is not a JSON object with a "keys" array.
[[nodiscard]] Result<KeySet> ParseJwks(std::string_view json);

// Returns the current time; injected so that tests control the refresh schedule.
using Clock = std::function<Timestamp()>;

struct KeyCacheOptions {
  std::string issuer;  // exact issuer URL, e.g. "https://sso.example/realms/nerc"
  // A held key set older than this is refetched on the next Keys() call (no background thread).
  std::chrono::seconds refresh_interval{600};
  // Fetches triggered by an unknown kid happen at most once per this interval, so a flood of
  // tokens with invented kids cannot turn into a flood of requests to the issuer.
  std::chrono::seconds min_refresh_interval{30};
  std::chrono::milliseconds timeout{5000};
  size_t max_response_bytes = 1u << 20;
};

// Holds the issuer's current key set. Discovers the jwks_uri from
// {issuer}/.well-known/openid-configuration (whose "issuer" must equal the configured one) and
// fetches it. Thread-safe.
class KeyCache {
 public:
  // Requires: `client` outlives this cache and is used by nobody else concurrently (the cache
  // serializes its own calls to it).
  KeyCache(KeyCacheOptions options, http::HttpClient* client, Clock clock);
  KeyCache(const KeyCache&) = delete;
  KeyCache& operator=(const KeyCache&) = delete;

  // Returns the current key set, fetching it first when none is held or the held one is older than
  // refresh_interval. When a scheduled refresh fails but a set is held, the held set is returned
  // (and the failure logged), so a brief issuer outage does not lock every user out. Errors, only
  // when no set is held: kUnavailable / kDeadlineExceeded when the issuer cannot be reached,
  // kUnavailable for a non-200 answer or while a failed fetch is less than min_refresh_interval
  // old, kInvalidArgument for a malformed document.
  [[nodiscard]] Result<std::shared_ptr<const KeySet>> Keys();

  // Called when a token names a kid the current set lacks (the issuer may have rotated its keys).
  // Refetches unless the last fetch attempt was less than min_refresh_interval ago, and returns the
  // set then held. Errors as Keys().
  [[nodiscard]] Result<std::shared_ptr<const KeySet>> RefreshForUnknownKid();

  // Number of fetch attempts so far (for tests and metrics).
  int fetch_count() const;

 private:
  // Fetches discovery and JWKS and installs the result. Requires: fetch_mu_ held.
  Status FetchLocked();
  Result<std::string> GetJson(const std::string& url);

  const KeyCacheOptions options_;
  const Clock clock_;

  std::mutex fetch_mu_;  // serializes fetches; guards client_
  http::HttpClient* const client_;

  mutable std::mutex mu_;  // guards the members below; never held during network I/O
  std::shared_ptr<const KeySet> keys_;
  Timestamp fetched_at_{};    // when keys_ was installed
  Timestamp last_attempt_{};  // when a fetch was last started, successful or not
  bool attempted_ = false;    // whether last_attempt_ is set
  int fetch_count_ = 0;
};

}  // namespace aitelemetry::auth
