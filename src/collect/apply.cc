#include "collect/apply.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace aitelemetry::collect {
namespace {

using model::Record;
using model::Value;
using store::Filter;
using store::QuerySpec;

const model::Model& M(const char* name) { return *model::FindModel(name); }

constexpr const char* kEntityModels[] = {"cluster", "node", "project", "gpu", "gpu-slice"};

Value Real(double v) { return std::isnan(v) ? Value{} : Value{v}; }
Value Int(double v) {
  return std::isnan(v) ? Value{} : Value{static_cast<int64_t>(std::llround(v))};
}

void SetSeen(Record& r, int64_t at_ns, const char* state) {
  if (state != nullptr) r.Set("state", std::string(state));
  r.Set("first_seen_at", at_ns);
  r.Set("last_seen_at", at_ns);
}

// State of one unit from its activity and whether it is held.
const char* UnitState(double activity, bool held) {
  if (!std::isnan(activity) && activity > 0) return "active";
  if (held) return std::isnan(activity) ? nullptr : "allocated-idle";
  return "idle";
}

int StateRank(const char* s) {
  if (s == nullptr) return 1;
  std::string_view v(s);
  if (v == "active") return 3;
  if (v == "allocated-idle") return 2;
  return 0;
}

void SetHolder(Record& r, const std::vector<Holder>& holders) {
  if (holders.empty()) return;
  r.Set("project", holders.front().ns);
  r.Set("pod", holders.front().pod);
  if (!holders.front().container.empty()) r.Set("container", holders.front().container);
}

void SetUnitReadings(Record& r, const DeviceReadings& d) {
  r.Set("memory_total_bytes", Int(MemoryTotalBytes(d)));
  r.Set("memory_used_bytes", Int(d.Get(Signal::kFbUsed)));
  r.Set("activity_ratio", Real(d.Get(Signal::kGrEngineActive)));
}

Result<std::vector<Record>> SelectAll(store::Store::Writer& w, const char* model,
                                      std::vector<Filter> filters,
                                      std::vector<std::string> fields) {
  QuerySpec spec;
  spec.filters = std::move(filters);
  spec.fields = std::move(fields);
  spec.rows = std::numeric_limits<int32_t>::max();
  spec.count = false;
  return w.Select(M(model), spec);
}

struct OpenRow {
  std::string key;
  bool seen = false;
};

}  // namespace

Result<std::optional<Record>> ReadHub(store::Store::Writer& w, const std::string& hub) {
  auto rows = SelectAll(w, "hub", {Filter::Eq("key", model::HubKey(hub))}, {});
  if (!rows) return Fail(rows.error());
  if (rows->empty()) return std::optional<Record>();
  return std::optional<Record>(std::move(rows->front()));
}

Result<ApplyCounts> ApplySnapshot(store::Store::Writer& w, const Snapshot& snap, Timestamp at,
                                  std::optional<Timestamp> usage_through) {
  ApplyCounts counts;
  const int64_t t = ToUnixNanos(at);
  const std::string& hub = snap.hub;
  const Filter by_hub = Filter::Eq("hub", hub);

  // Stored facts this sync continues from.
  std::unordered_map<std::string, int64_t> last_active;
  for (const char* m : {"gpu", "gpu-slice"}) {
    Filter active_before;
    active_before.field = "last_active_at";
    active_before.kind = Filter::Kind::kNotNull;
    auto rows = SelectAll(w, m, {by_hub, active_before}, {"key", "last_active_at"});
    if (!rows) return Fail(rows.error());
    for (const Record& r : *rows) {
      if (auto* v = std::get_if<int64_t>(&r.Get("last_active_at"))) last_active[r.Key()] = *v;
    }
  }
  std::unordered_map<std::string, OpenRow> open_allocations;  // device|pod|container -> key
  {
    auto rows = SelectAll(w, "allocation", {by_hub, Filter::Eq("state", std::string("open"))},
                          {"key", "device_key", "pod", "container"});
    if (!rows) return Fail(rows.error());
    for (const Record& r : *rows) {
      open_allocations[r.GetString("device_key") + "|" + r.GetString("pod") + "|" +
                       r.GetString("container")] = OpenRow{r.Key()};
    }
  }
  std::unordered_map<std::string, OpenRow> open_events;  // device|kind|code -> key
  {
    auto rows = SelectAll(w, "health-event", {by_hub, Filter::Null("ended_at")},
                          {"key", "device_key", "kind", "code"});
    if (!rows) return Fail(rows.error());
    for (const Record& r : *rows) {
      std::string kind = r.GetString("kind");
      if (kind != "xid" && kind != "remapped_rows" && kind != "row_remap_failure") continue;
      const auto* code = std::get_if<int64_t>(&r.Get("code"));
      open_events[fmt::format("{}|{}|{}", r.GetString("device_key"), kind, code ? *code : 0)] =
          OpenRow{r.Key()};
    }
  }

  // The hub.
  {
    Record r(M("hub"));
    r.Set("key", model::HubKey(hub));
    r.Set("name", hub);
    r.Set("last_sync_at", t);
    r.Set("last_sync_ok_at", t);
    if (usage_through) r.Set("usage_through", ToUnixNanos(*usage_through));
    SetSeen(r, t, "active");
    if (auto st = w.Upsert(M("hub"), std::span<const Record>(&r, 1)); !st) return Fail(st.error());
  }

  std::vector<Record> clusters, nodes, projects, gpus, slices, allocations, events;
  for (uint32_t c = 0; c < snap.clusters.size(); ++c) {
    Record r(M("cluster"));
    r.Set("key", ClusterKeyOf(snap, c));
    r.Set("hub", hub);
    r.Set("name", snap.clusters[c].name);
    r.Set("hub_key", model::HubKey(hub));
    SetSeen(r, t, "active");
    clusters.push_back(std::move(r));
  }
  for (uint32_t n = 0; n < snap.nodes.size(); ++n) {
    const NodeEntry& node = snap.nodes[n];
    Record r(M("node"));
    r.Set("key", NodeKeyOf(snap, n));
    r.Set("hub", hub);
    r.Set("cluster", snap.clusters[node.cluster].name);
    r.Set("name", node.name);
    r.Set("cluster_key", ClusterKeyOf(snap, node.cluster));
    if (!node.gpu_product.empty()) r.Set("gpu_product", node.gpu_product);
    if (!node.mig_strategy.empty()) r.Set("mig_strategy", node.mig_strategy);
    r.Set("gpu_count", int64_t{node.gpu_count});
    SetSeen(r, t, "active");
    nodes.push_back(std::move(r));
  }

  std::unordered_map<std::string, double> held_by_project;  // cluster/ns -> GPU-equivalents
  auto allocate = [&](const std::string& device_key, const GpuEntry& gpu, const SliceEntry* slice,
                      const std::vector<Holder>& holders) {
    const NodeEntry& node = snap.nodes[gpu.node];
    const std::string& cluster = snap.clusters[node.cluster].name;
    const double share = slice ? slice->compute_share : 1.0;
    for (const Holder& h : holders) {
      if (!std::isnan(share)) {
        held_by_project[cluster + "/" + h.ns] += share / static_cast<double>(holders.size());
      }
      std::string ident = device_key + "|" + h.pod + "|" + h.container;
      Record r(M("allocation"));
      if (auto it = open_allocations.find(ident); it != open_allocations.end()) {
        it->second.seen = true;
        r.Set("key", it->second.key);
      } else {
        r.Set("key", fmt::format("{}/{}/{}@{}", device_key, h.pod, h.container, FormatRfc3339(at)));
        ++counts.allocations_opened;
      }
      r.Set("hub", hub);
      r.Set("cluster", cluster);
      r.Set("project", h.ns);
      r.Set("project_key", model::ProjectKey(hub, cluster, h.ns));
      r.Set("pod", h.pod);
      if (!h.container.empty()) r.Set("container", h.container);
      r.Set("node", node.name);
      r.Set("device_key", device_key);
      r.Set("gpu_uuid", gpu.uuid);
      if (slice) {
        r.Set("gpu_i_id", slice->gpu_i_id);
        if (!slice->profile.empty()) r.Set("profile", slice->profile);
      }
      if (!gpu.model_name.empty()) r.Set("model_name", gpu.model_name);
      r.Set("gpu_equivalents", Real(share / static_cast<double>(holders.size())));
      r.Set("started_at", t);  // write-once: an open allocation keeps its start
      r.Set("last_seen_at", t);
      r.Set("state", std::string("open"));
      allocations.push_back(std::move(r));
    }
  };
  auto health = [&](const std::string& device_key, const GpuEntry& gpu, const char* kind,
                    double value, const std::string& message) {
    if (std::isnan(value) || value <= 0) return;
    const auto code = static_cast<int64_t>(std::llround(value));
    std::string ident = fmt::format("{}|{}|{}", device_key, kind, code);
    if (auto it = open_events.find(ident); it != open_events.end()) {
      it->second.seen = true;
      return;
    }
    const NodeEntry& node = snap.nodes[gpu.node];
    Record r(M("health-event"));
    r.Set("key", fmt::format("{}/{}/{}@{}", device_key, kind, code, FormatRfc3339(at)));
    r.Set("hub", hub);
    r.Set("cluster", snap.clusters[node.cluster].name);
    r.Set("node", node.name);
    r.Set("device_key", device_key);
    r.Set("gpu_uuid", gpu.uuid);
    if (!gpu.holders.empty()) r.Set("project", gpu.holders.front().ns);
    r.Set("kind", std::string(kind));
    r.Set("code", code);
    r.Set("message", message);
    r.Set("observed_at", t);
    events.push_back(std::move(r));
    ++counts.events_opened;
  };
  auto last_active_of = [&](const std::string& key, bool active) -> Value {
    if (active) return t;
    if (auto it = last_active.find(key); it != last_active.end()) return it->second;
    return {};
  };

  for (uint32_t g = 0; g < snap.gpus.size(); ++g) {
    const GpuEntry& gpu = snap.gpus[g];
    const NodeEntry& node = snap.nodes[gpu.node];
    const std::string gpu_key = GpuKeyOf(snap, g);
    Record r(M("gpu"));
    r.Set("key", gpu_key);
    r.Set("hub", hub);
    r.Set("cluster", snap.clusters[node.cluster].name);
    r.Set("node", node.name);
    r.Set("node_key", NodeKeyOf(snap, gpu.node));
    r.Set("uuid", gpu.uuid);
    int64_t index = 0;
    if (!gpu.index.empty() &&
        std::from_chars(gpu.index.data(), gpu.index.data() + gpu.index.size(), index).ec ==
            std::errc()) {
      r.Set("gpu_index", index);
    }
    if (!gpu.model_name.empty()) r.Set("model_name", gpu.model_name);
    if (!gpu.driver_version.empty()) r.Set("driver_version", gpu.driver_version);
    r.Set("mig_enabled", gpu.mig());
    const DeviceReadings& d = gpu.readings;
    r.Set("power_watts", Real(d.Get(Signal::kPower)));
    r.Set("temperature_celsius", Real(d.Get(Signal::kTemperature)));
    r.Set("sm_clock_hz", Real(d.Get(Signal::kSmClock)));
    r.Set("energy_joules", Real(d.Get(Signal::kEnergy)));
    const char* state = nullptr;
    if (!gpu.mig()) {
      SetUnitReadings(r, d);
      r.Set("utilization_ratio", Real(d.Get(Signal::kGpuUtil)));
      r.Set("tensor_active_ratio", Real(d.Get(Signal::kTensorActive)));
      r.Set("dram_active_ratio", Real(d.Get(Signal::kDramActive)));
      SetHolder(r, gpu.holders);
      state = UnitState(Activity(d), !gpu.holders.empty());
      allocate(gpu_key, gpu, nullptr, gpu.holders);
    } else {
      // A MIG parent has no activity series: its readings are the device-wide ones, its memory
      // the sum over its instances when all report, its total from GPU feature discovery.
      double used = 0;
      bool all_used = true;
      int rank = -1;
      for (uint32_t si : gpu.slices) {
        const SliceEntry& slice = snap.slices[si];
        if (slice.readings.Has(Signal::kFbUsed)) {
          used += slice.readings.Get(Signal::kFbUsed);
        } else {
          all_used = false;
        }
        const char* s = UnitState(Activity(slice.readings), !slice.holders.empty());
        if (StateRank(s) > rank) {
          rank = StateRank(s);
          state = s;
        }
        const std::string slice_key = model::SliceKey(gpu_key, slice.gpu_i_id);
        const bool active = s != nullptr && std::string_view(s) == "active";
        Record sr(M("gpu-slice"));
        sr.Set("key", slice_key);
        sr.Set("hub", hub);
        sr.Set("cluster", snap.clusters[node.cluster].name);
        sr.Set("node", node.name);
        sr.Set("gpu_key", gpu_key);
        sr.Set("gpu_uuid", gpu.uuid);
        sr.Set("gpu_i_id", slice.gpu_i_id);
        if (!slice.profile.empty()) sr.Set("profile", slice.profile);
        sr.Set("compute_share", Real(slice.compute_share));
        if (!gpu.model_name.empty()) sr.Set("model_name", gpu.model_name);
        SetUnitReadings(sr, slice.readings);
        SetHolder(sr, slice.holders);
        sr.Set("last_active_at", last_active_of(slice_key, active));
        SetSeen(sr, t, s);
        slices.push_back(std::move(sr));
        allocate(slice_key, gpu, &slice, slice.holders);
      }
      if (all_used) r.Set("memory_used_bytes", Int(used));
      if (!std::isnan(node.gpu_memory_mib)) {
        r.Set("memory_total_bytes", Int(node.gpu_memory_mib * 1024.0 * 1024.0));
      }
    }
    const bool active = state != nullptr && std::string_view(state) == "active";
    r.Set("last_active_at", last_active_of(gpu_key, active));
    SetSeen(r, t, state);
    gpus.push_back(std::move(r));
    health(gpu_key, gpu, "xid", d.Get(Signal::kXid), "XID error reported by the driver");
    health(gpu_key, gpu, "remapped_rows", d.Get(Signal::kRemappedRowsUncorrectable),
           "rows remapped after uncorrectable memory errors");
    health(gpu_key, gpu, "row_remap_failure", d.Get(Signal::kRowRemapFailure),
           "row remapping failed");
  }
  for (const ProjectEntry& p : snap.projects) {
    const std::string& cluster = snap.clusters[p.cluster].name;
    Record r(M("project"));
    r.Set("key", model::ProjectKey(hub, cluster, p.ns));
    r.Set("hub", hub);
    r.Set("cluster", cluster);
    r.Set("namespace", p.ns);
    r.Set("cluster_key", ClusterKeyOf(snap, p.cluster));
    auto it = held_by_project.find(cluster + "/" + p.ns);
    double held = it == held_by_project.end() ? 0.0 : it->second;
    r.Set("gpus_allocated", held);
    SetSeen(r, t, held > 0 ? "active" : "idle");
    projects.push_back(std::move(r));
  }

  for (auto [model, rows] :
       {std::pair{"cluster", &clusters}, std::pair{"node", &nodes}, std::pair{"project", &projects},
        std::pair{"gpu", &gpus}, std::pair{"gpu-slice", &slices}}) {
    if (auto st = w.Upsert(M(model), *rows); !st) return Fail(st.error());
    counts.entities += static_cast<int64_t>(rows->size());
  }
  for (const char* model : kEntityModels) {
    auto n = w.Update(M(model), {by_hub, Filter::Less("last_seen_at", t), Filter::Null("gone_at")},
                      {{"gone_at", t}, {"state", std::string("gone")}, {"stale_since", Value{}}});
    if (!n) return Fail(n.error());
    counts.gone += *n;
  }
  if (auto st = w.Upsert(M("allocation"), allocations); !st) return Fail(st.error());
  if (auto st = w.Upsert(M("health-event"), events); !st) return Fail(st.error());

  std::vector<Value> ended_allocations, ended_events;
  for (auto& [ident, row] : open_allocations) {
    if (!row.seen) ended_allocations.push_back(row.key);
  }
  for (auto& [ident, row] : open_events) {
    if (!row.seen) ended_events.push_back(row.key);
  }
  // Close in batches: one statement per 500 keys keeps every backend's parameter limit.
  auto close = [&](const char* model, std::vector<Value>& keys,
                   std::vector<std::pair<std::string, Value>> set) -> Result<int64_t> {
    int64_t changed = 0;
    for (size_t i = 0; i < keys.size(); i += 500) {
      Filter f;
      f.field = "key";
      f.values.assign(keys.begin() + static_cast<ptrdiff_t>(i),
                      keys.begin() + static_cast<ptrdiff_t>(std::min(keys.size(), i + 500)));
      auto n = w.Update(M(model), {f}, set);
      if (!n) return Fail(n.error());
      changed += *n;
    }
    return changed;
  };
  auto closed =
      close("allocation", ended_allocations, {{"ended_at", t}, {"state", std::string("closed")}});
  if (!closed) return Fail(closed.error());
  counts.allocations_closed = *closed;
  auto ended = close("health-event", ended_events, {{"ended_at", t}});
  if (!ended) return Fail(ended.error());
  counts.events_closed = *ended;
  return counts;
}

Status RecordSyncFailure(store::Store& store, const std::string& hub, Timestamp at,
                         const std::string& error) {
  const int64_t t = ToUnixNanos(at);
  return store.Transaction([&](store::Store::Writer& w) -> Status {
    auto row = ReadHub(w, hub);
    if (!row) return Fail(row.error());
    Value last_ok;
    if (!*row) {
      Record r(M("hub"));
      r.Set("key", model::HubKey(hub));
      r.Set("name", hub);
      r.Set("last_sync_at", t);
      r.Set("last_error", error);
      r.Set("state", std::string("stale"));
      if (auto st = w.Upsert(M("hub"), std::span<const Record>(&r, 1)); !st) return st;
      return Ok();
    }
    last_ok = (*row)->Get("last_sync_ok_at");
    auto n = w.Update(M("hub"), {Filter::Eq("key", model::HubKey(hub))},
                      {{"last_sync_at", t},
                       {"last_error", error},
                       {"state", std::string("stale")},
                       {"stale_since", last_ok}});
    if (!n) return Fail(n.error());
    if (model::IsNull(last_ok)) return Ok();
    for (const char* model : kEntityModels) {
      auto m = w.Update(
          M(model), {Filter::Eq("hub", hub), Filter::Null("gone_at"), Filter::Null("stale_since")},
          {{"stale_since", last_ok}});
      if (!m) return Fail(m.error());
    }
    return Ok();
  });
}

}  // namespace aitelemetry::collect
