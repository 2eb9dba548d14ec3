#include "collect/sync_changes.h"

#include <algorithm>
#include <limits>

namespace aitelemetry::collect {

namespace {
constexpr const char* kEntityModels[] = {"cluster", "node", "project", "gpu", "gpu-slice"};
}  // namespace

Result<HubFacts> ReadHubFacts(store::Store::Writer& w, const std::string& hub) {
  HubFacts facts;
  for (const char* name : kEntityModels) {
    const model::Model& m = *model::FindModel(name);
    store::QuerySpec spec;
    spec.filters = {store::Filter::Eq(m.scope.hub, hub)};
    spec.fields = {"key", "state", m.scope.hub};
    for (const std::string& f : {m.scope.cluster, m.scope.project}) {
      if (!f.empty()) spec.fields.push_back(f);
    }
    const bool unit = m.FindField("pod") != nullptr && m.FindField("project") != nullptr;
    if (unit) {
      spec.fields.push_back("project");
      spec.fields.push_back("pod");
    }
    spec.rows = std::numeric_limits<int32_t>::max();
    spec.count = false;
    auto rows = w.Select(m, spec);
    if (!rows) return Fail(rows.error());
    auto& out = facts[name];
    out.reserve(rows->size());
    for (const model::Record& r : *rows) {
      EntityFact f;
      f.state = r.GetString("state");
      if (unit && !r.GetString("pod").empty()) {
        f.holder = r.GetString("project") + "/" + r.GetString("pod");
      }
      f.scope = store::ChangeOf(r, "", Timestamp{});
      out.emplace(f.scope.key, std::move(f));
    }
  }
  return facts;
}

std::vector<store::Change> SyncChanges(const HubFacts& before, const HubFacts& after,
                                       const std::string& hub, Timestamp at, size_t max_per_model) {
  static const std::unordered_map<std::string, EntityFact> kNone;
  std::vector<store::Change> out;
  for (const auto& [model, now] : after) {
    auto b = before.find(model);
    const auto& was = b == before.end() ? kNone : b->second;
    std::vector<store::Change> changes;
    for (const auto& [key, fact] : now) {
      const char* op = nullptr;
      auto it = was.find(key);
      if (it == was.end()) {
        op = "insert";
      } else if (fact.state == "gone" && it->second.state != "gone") {
        op = "gone";
      } else if (fact.state != it->second.state || fact.holder != it->second.holder) {
        op = "update";
      }
      if (op == nullptr) continue;
      if (changes.size() >= max_per_model) {
        changes.clear();
        break;
      }
      store::Change c = fact.scope;
      c.op = op;
      c.at = at;
      changes.push_back(std::move(c));
    }
    // Keys stored order-independently above; a stable order makes the feed reproducible.
    std::sort(changes.begin(), changes.end(),
              [](const store::Change& x, const store::Change& y) { return x.key < y.key; });
    for (auto& c : changes) out.push_back(std::move(c));
    if (now.empty()) continue;
    store::Change summary;
    summary.model = model;
    summary.op = "sync";
    summary.hub = hub;
    summary.at = at;
    out.push_back(std::move(summary));
  }
  return out;
}

}  // namespace aitelemetry::collect
