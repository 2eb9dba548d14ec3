#include "api/response_cache.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace aitelemetry::api {
namespace {

// Bookkeeping per entry beyond its strings: list and map nodes, the shared body's control block.
constexpr size_t kEntryOverheadBytes = 160;

size_t ChargeOf(const std::string& key, const http::Response& r) {
  size_t n = kEntryOverheadBytes + 2 * key.size() + r.Body().size();
  for (const auto& [k, v] : r.headers) n += k.size() + v.size() + 64;
  return n;
}

// Appends `s` with its length first, so that no two different lists of pieces run together
// into the same key.
void Piece(std::string& out, std::string_view s) {
  out += std::to_string(s.size());
  out += ':';
  out += s;
}

}  // namespace

ResponseCache::ResponseCache(size_t capacity_bytes) : capacity_(capacity_bytes) {}

void ResponseCache::EvictLocked(List::iterator it) {
  stats_.bytes -= it->charge;
  --stats_.entries;
  ++stats_.evictions;
  index_.erase(std::string_view(it->key));
  lru_.erase(it);
}

void ResponseCache::ResetTo(const std::string& generation) {
  stats_.evictions += lru_.size();
  index_.clear();
  lru_.clear();
  stats_.bytes = 0;
  stats_.entries = 0;
  generation_ = generation;
}

std::optional<http::Response> ResponseCache::Find(const std::string& key,
                                                  const std::string& generation) {
  std::lock_guard lock(mu_);
  if (generation != generation_) ResetTo(generation);
  auto it = index_.find(std::string_view(key));
  if (it == index_.end()) {
    ++stats_.misses;
    return std::nullopt;
  }
  ++stats_.hits;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->response;  // copies the headers; the body is shared
}

void ResponseCache::Insert(const std::string& key, const std::string& generation,
                           const http::Response& response) {
  if (!response.shared_body || response.stream) return;
  size_t charge = ChargeOf(key, response);
  if (charge > capacity_ / 4) return;
  std::lock_guard lock(mu_);
  // Another request read a different generation since this answer's: a write may have
  // committed in between, so this answer may be stale (or the cache already moved on).
  if (generation != generation_) return;
  if (auto it = index_.find(std::string_view(key)); it != index_.end()) EvictLocked(it->second);
  while (!lru_.empty() && stats_.bytes + charge > capacity_) EvictLocked(std::prev(lru_.end()));
  lru_.push_front(Entry{key, response, charge});
  index_.emplace(std::string_view(lru_.front().key), lru_.begin());
  stats_.bytes += charge;
  ++stats_.entries;
  ++stats_.inserts;
}

ResponseCache::Stats ResponseCache::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::string ReadCacheKey(const Caller& caller, const http::Request& request,
                         std::string_view extra) {
  std::string key;
  key.reserve(256);
  if (caller.scope.all) {
    key += "all;";
  } else {
    std::vector<std::string> grants;
    grants.reserve(caller.scope.grants.size());
    for (const auto& g : caller.scope.grants) {
      std::string one;
      Piece(one, g.hub);
      Piece(one, g.cluster);
      Piece(one, g.project);
      grants.push_back(std::move(one));
    }
    std::sort(grants.begin(), grants.end());
    grants.erase(std::unique(grants.begin(), grants.end()), grants.end());
    key += "grants" + std::to_string(grants.size()) + ";";
    for (const auto& g : grants) key += g;
  }
  key += caller.admin ? 'A' : 'a';
  key += caller.manager ? 'M' : 'm';
  key += caller.authenticated ? 'U' : 'u';
  Piece(key, request.path);
  Piece(key, request.Header("accept"));
  Piece(key, extra);
  std::vector<const std::pair<std::string, std::string>*> query;
  query.reserve(request.query.size());
  for (const auto& kv : request.query) query.push_back(&kv);
  std::stable_sort(query.begin(), query.end(),
                   [](const auto* a, const auto* b) { return a->first < b->first; });
  for (const auto* kv : query) {
    Piece(key, kv->first);
    Piece(key, kv->second);
  }
  return key;
}

}  // namespace aitelemetry::api
