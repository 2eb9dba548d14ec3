#include "collect/sync_changes.h"

#include <algorithm>

namespace aitelemetry::collect {

const char* ChangeOp(const std::string* before_state, std::string_view after_state,
                     bool holder_changed) {
  if (before_state == nullptr) return "insert";
  if (after_state == "gone" && *before_state != "gone") return "gone";
  if (after_state != *before_state || holder_changed) return "update";
  return nullptr;
}

void ChangeBatch::Add(store::Change c) {
  PerModel& m = models_[c.model];
  if (m.overflow) return;
  if (m.changes.size() >= max_per_model_) {
    m.changes.clear();
    m.overflow = true;
    return;
  }
  m.changes.push_back(std::move(c));
}

std::vector<store::Change> ChangeBatch::Finish(const std::string& hub, Timestamp at) {
  std::vector<store::Change> out;
  for (auto& [model, m] : models_) {
    // Keys arrive in hash order; a stable order makes the feed reproducible.
    std::sort(m.changes.begin(), m.changes.end(),
              [](const store::Change& x, const store::Change& y) { return x.key < y.key; });
    for (auto& c : m.changes) {
      c.at = at;
      out.push_back(std::move(c));
    }
    store::Change summary;
    summary.model = model;
    summary.op = "sync";
    summary.hub = hub;
    summary.at = at;
    out.push_back(std::move(summary));
  }
  models_.clear();
  return out;
}

std::vector<store::Change> SyncChanges(const HubFacts& before, const HubFacts& after,
                                       const std::string& hub, Timestamp at, size_t max_per_model) {
  static const std::unordered_map<std::string, EntityFact> kNone;
  ChangeBatch batch(max_per_model);
  for (const auto& [model, now] : after) {
    auto b = before.find(model);
    const auto& was = b == before.end() ? kNone : b->second;
    if (now.empty()) continue;
    batch.Touch(model);
    for (const auto& [key, fact] : now) {
      auto it = was.find(key);
      const char* op = ChangeOp(it == was.end() ? nullptr : &it->second.state, fact.state,
                                it != was.end() && it->second.holder != fact.holder);
      if (op == nullptr) continue;
      store::Change c = fact.scope;
      c.op = op;
      batch.Add(std::move(c));
    }
  }
  return batch.Finish(hub, at);
}

}  // namespace aitelemetry::collect
