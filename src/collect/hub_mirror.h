// HubMirror: what the collector last wrote for one hub, kept between its syncs so that a sync
// writes only what changed. A 100,000-GPU hub has ~190,000 entity rows whose descriptive fields
// rarely change; rewriting each in full every 30 s (and every index over it) was most of a sync.
//
// Per entity it keeps two digests of the fields the collector writes: one over the fields some
// index covers (state, holder, model, ...) and one over the rest (the readings). A row whose
// indexed digest changed is upserted; one whose readings changed gets an UPDATE of the readings
// by key, which touches no index; an unchanged row only needs last_seen_at, which one statement
// per model sets for all of them. It also keeps state and holder for the change feed, the open
// allocations and health events. (The hour's usage sums it does not keep: the store adds each
// sample to them, see Writer::UpsertAdding.)
//
// The mirror must describe the store exactly. It is (re)loaded inside the sync's transaction when
// it is empty, when the hub row's last_sync_at is not the one it wrote last (another writer: a
// failed sync, a replica that held the lead), or when a write finds fewer rows than it expected;
// after a failed transaction it is cleared.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "collect/key_arena.h"
#include "core/result.h"
#include "model/record.h"
#include "store/store.h"

namespace aitelemetry::collect {

inline constexpr int64_t kNoTime = std::numeric_limits<int64_t>::min();

// The entity models a sync writes, in the order it writes them.
inline constexpr std::array<const char*, 5> kSyncedModels = {"cluster", "node", "project", "gpu",
                                                             "gpu-slice"};

// How the collector writes one model: which fields an upsert writes, which of them an index
// covers, and which a readings-only update sets.
struct WritePlan {
  const model::Model* model = nullptr;
  std::vector<int> indexed;  // written, covered by an index (the key and write-once excluded)
  std::vector<int> values;   // written, no index (last_seen_at and write-once excluded)
  std::vector<int> refresh;  // `values` plus last_seen_at: what a readings update sets
  // Fields the mirror reads (-1 when the model has none).
  int state = -1, gone_at = -1, last_active_at = -1, pod = -1, project = -1;
  int scope_cluster = -1, scope_project = -1;
  static const WritePlan& Of(const model::Model& m);
};

// A 64-bit digest of `fields` of `r` (types distinguished; null differs from every value).
uint64_t DigestFields(const model::Record& r, std::span<const int> fields);

class HubMirror {
 public:
  struct Entity {
    uint64_t indexed_digest = 0;
    uint64_t value_digest = 0;
    int64_t last_active_at = kNoTime;  // kNoTime: null
    int64_t seen_at = kNoTime;         // the sync of this process that last saw it
    uint64_t holder = 0;               // hash of "namespace/pod" of a held unit; 0 when free
    uint32_t cluster = 0;              // scope names, into Name(); 0 is ""
    uint32_t project = 0;
    uint32_t state = 0;  // into Name()
    bool gone = false;
  };
  // Entities by key; the keys' bytes live in the mirror's arena (see Keep).
  using Entities = std::unordered_map<std::string_view, Entity>;
  // An open allocation or health event, by its identity (device|pod|container, device|kind|code).
  struct Open {
    std::string key;
    uint64_t digest = 0;
    int64_t seen_at = kNoTime;
  };

  bool loaded() const { return loaded_; }
  const std::string& hub() const { return hub_; }
  // The last_sync_at this mirror's last successful write gave the hub row.
  int64_t written_at() const { return written_at_; }
  // Records that the sync at `t` committed what it wrote.
  void Committed(int64_t t) { written_at_ = t; }

  // Forgets everything: the next sync reloads.
  void Clear();

  // Reads the hub's entities, open allocations and open health events from the store.
  [[nodiscard]] Status Load(store::Store::Writer& w, const std::string& hub);

  Entities& entities(size_t model_index) { return entities_[model_index]; }
  // A copy of `key` that lives until Clear, for a key of entities().
  std::string_view Keep(std::string_view key) { return keys_.Keep(key); }
  std::unordered_map<std::string, Open>& allocations() { return allocations_; }
  std::unordered_map<std::string, Open>& events() { return events_; }

  uint32_t Name(std::string_view name);
  const std::string& NameOf(uint32_t id) const { return names_[id]; }

  // Fills `e` from a record as written (or read back) for model `m`.
  void Describe(const model::Record& r, Entity& e);

 private:
  bool loaded_ = false;
  std::string hub_;
  int64_t written_at_ = kNoTime;
  std::array<Entities, kSyncedModels.size()> entities_;
  KeyArena keys_{256 << 10};  // the entity keys: ~190,000 in a 100,000-GPU hub
  std::unordered_map<std::string, Open> allocations_;
  std::unordered_map<std::string, Open> events_;
  std::vector<std::string> names_ = {""};
  std::unordered_map<std::string, uint32_t, model::Model::NameHash, std::equal_to<>> name_ids_ = {
      {"", 0}};
};

// The identity of an open allocation and of a health event, as the mirror keys them.
std::string AllocationIdent(std::string_view device_key, std::string_view pod,
                            std::string_view container);
std::string EventIdent(std::string_view device_key, std::string_view kind, int64_t code);

}  // namespace aitelemetry::collect
