// What a sync tells live views: the entities of a hub whose state or holder changed between the
// facts read before and after ApplySnapshot (inside the same transaction), plus one summary per
// model. Refreshed readings alone never make a change, so a steady fleet writes a few rows a sync.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "store/change_feed.h"
#include "store/store.h"

namespace aitelemetry::collect {

// What a watcher of one entity cares about.
struct EntityFact {
  std::string state;    // "active", "idle", "gone", ... ; empty when unknown
  std::string holder;   // "namespace/pod" holding a GPU or slice; empty when free or not a unit
  store::Change scope;  // model, key, hub, cluster, project of the entity (op and at unset)
};

// model name -> entity key -> fact, for the entity models (cluster .. gpu-slice) of one hub.
using HubFacts = std::map<std::string, std::unordered_map<std::string, EntityFact>>;

// Reads the facts of every entity of `hub` (gone ones included) inside `w`'s transaction.
[[nodiscard]] Result<HubFacts> ReadHubFacts(store::Store::Writer& w, const std::string& hub);

// Returns the changes from `before` to `after` at `at`: "insert" for a new key, "gone" for an
// entity that became gone, "update" when state or holder differ otherwise; then one "sync"
// summary (empty key, the hub's scope) per model that has entities. A model with more than
// `max_per_model` entity changes (a first sync of a large hub) gets its summary only: a watcher
// re-reads on a summary, and the feed never takes one row per GPU.
std::vector<store::Change> SyncChanges(const HubFacts& before, const HubFacts& after,
                                       const std::string& hub, Timestamp at,
                                       size_t max_per_model = 1000);

}  // namespace aitelemetry::collect
