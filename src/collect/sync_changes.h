// What a sync tells live views: the entities of a hub whose state or holder changed, plus one
// summary per model. Refreshed readings alone never make a change, so a steady fleet writes a few
// rows a sync.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
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

// The op of an entity's change: "insert" when it did not exist (`before_state` null), "gone" when
// it became gone, "update" when its state or holder changed; null when nothing a watcher needs.
const char* ChangeOp(const std::string* before_state, std::string_view after_state,
                     bool holder_changed);

// Collects a sync's changes: at most `max_per_model` entity changes per model (a model with more,
// such as the first sync of a large hub, gets only its summary: a watcher re-reads on a summary,
// and the feed never takes one row per GPU), then one "sync" summary (empty key, the hub's scope)
// per model that has entities.
class ChangeBatch {
 public:
  explicit ChangeBatch(size_t max_per_model = 1000) : max_per_model_(max_per_model) {}
  // Notes that `model` has entities in this hub (it gets a summary).
  void Touch(const std::string& model) { models_[model]; }
  // Adds the change `c` (model, key, op and scope set) of an entity.
  void Add(store::Change c);
  // The changes at `at`: per model (in name order) its entity changes by key, then its summary.
  std::vector<store::Change> Finish(const std::string& hub, Timestamp at);

 private:
  struct PerModel {
    std::vector<store::Change> changes;
    bool overflow = false;
  };
  size_t max_per_model_;
  std::map<std::string, PerModel> models_;
};

// Returns the changes from `before` to `after` at `at` (see ChangeOp and ChangeBatch).
std::vector<store::Change> SyncChanges(const HubFacts& before, const HubFacts& after,
                                       const std::string& hub, Timestamp at,
                                       size_t max_per_model = 1000);

}  // namespace aitelemetry::collect
