// A bounded cache of finished read answers (status, headers, body) for the REST API. An entry is
// keyed by who may read it (the caller's scope and role) and the normalised request, and labelled
// with the store generation it was read at; it is served only to a request that read the same
// generation, so no answer outlives a committed write. Least recently used entries go first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "api/caller.h"
#include "http/message.h"

namespace aitelemetry::api {

class ResponseCache {
 public:
  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t inserts = 0;
    uint64_t evictions = 0;  // entries dropped for room or because a write made them stale
    size_t bytes = 0;        // charged bytes held now (keys, headers, bodies, bookkeeping)
    size_t entries = 0;
  };

  // Holds at most `capacity_bytes`. An answer charged more than a quarter of it is not kept, so
  // one large export cannot flush the rest. Requires: capacity_bytes > 0 (0 means no cache:
  // callers do not create one).
  explicit ResponseCache(size_t capacity_bytes);

  // Returns the answer stored under `key` for `generation`, sharing its body, or nothing. A
  // generation other than the newest one seen drops every entry first (they are all stale).
  // Thread-safe.
  std::optional<http::Response> Find(const std::string& key, const std::string& generation);

  // Stores `response` under `key` for `generation` unless a request has already seen a
  // different generation since (the answer may be stale then) or it is too large. Requires:
  // response.shared_body is set (the cache shares it, never copies it) and response.stream is
  // empty. Thread-safe.
  void Insert(const std::string& key, const std::string& generation,
              const http::Response& response);

  Stats stats() const;
  size_t capacity_bytes() const { return capacity_; }

 private:
  struct Entry {
    std::string key;
    http::Response response;
    size_t charge = 0;
  };
  using List = std::list<Entry>;

  // Drops every entry and remembers `generation` as the newest. Requires: mu_ held.
  void ResetTo(const std::string& generation);
  void EvictLocked(List::iterator it);

  const size_t capacity_;
  mutable std::mutex mu_;
  std::string generation_;                                      // guarded by mu_: newest seen
  List lru_;                                                    // guarded by mu_: front = newest
  std::unordered_map<std::string_view, List::iterator> index_;  // guarded by mu_: views of keys
  Stats stats_;                                                 // guarded by mu_
};

// The cache key of a read: the caller's scope (grants sorted) and role flags, the route's path,
// the Accept header, `extra` (what else the answer depends on, e.g. the current hour) and the
// query parameters sorted by name (repeats keep their order, which can matter). Two requests
// with equal keys get equal answers from the same data.
std::string ReadCacheKey(const Caller& caller, const http::Request& request,
                         std::string_view extra = {});

}  // namespace aitelemetry::api
