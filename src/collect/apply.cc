#include "collect/apply.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <tuple>
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

}  // namespace

Result<std::optional<Record>> ReadHub(store::Store::Writer& w, const std::string& hub) {
  auto rows = SelectAll(w, "hub", {Filter::Eq("key", model::HubKey(hub))}, {});
  if (!rows) return Fail(rows.error());
  if (rows->empty()) return std::optional<Record>();
  return std::optional<Record>(std::move(rows->front()));
}

Status EnsureMirror(store::Store::Writer& w, const std::string& hub, HubMirror& mirror) {
  if (mirror.loaded() && mirror.hub() == hub) {
    auto row = ReadHub(w, hub);
    if (!row) return Fail(row.error());
    int64_t stored = kNoTime;
    if (*row) {
      if (const auto* v = std::get_if<int64_t>(&(*row)->Get("last_sync_at"))) stored = *v;
    }
    if (stored == mirror.written_at()) return Ok();
  }
  return mirror.Load(w, hub);
}

namespace {

// Writes a model's rows in batches while a snapshot is walked, so memory holds a few batches of
// records per model: new or re-described rows are upserted, rows whose readings alone changed
// get them by key, unchanged rows are only counted (their last_seen_at is set in bulk later).
// Every write is a job of `wb`, run in order behind the caller.
class RowWriter {
 public:
  RowWriter(store::Store::Writer& w, WriteBehind& wb, const char* model)
      : w_(w), wb_(wb), m_(M(model)) {}

  Status Upsert(Record r) {
    upserts_.push_back(std::move(r));
    return upserts_.size() >= kBatch ? Flush() : Ok();
  }
  Status Refresh(Record r) {
    refreshes_.push_back(std::move(r));
    return refreshes_.size() >= kBatch ? Flush() : Ok();
  }
  void Unchanged() { ++unchanged_; }

  Status Flush() {
    if (upserts_.empty() && refreshes_.empty()) return Ok();
    // The refreshed rows are laid out for the statement here, so the writing thread only binds.
    const std::vector<int>& fields = WritePlan::Of(m_).refresh;
    std::vector<Value> flat;
    flat.reserve(refreshes_.size() * (fields.size() + 2));
    for (Record& r : refreshes_) {
      store::Store::Writer::AppendUpdateRow(m_, fields, std::move(r), &flat);
    }
    const size_t refreshed = refreshes_.size();
    refreshes_.clear();
    return wb_.Submit([&w = w_, &m = m_, &fields, upserts = std::move(upserts_),
                       flat = std::move(flat), refreshed]() -> Status {
      if (auto st = w.Upsert(m, upserts); !st) return st;
      if (refreshed == 0) return Ok();
      auto n = w.UpdateFieldsFlat(m, fields, flat);
      if (!n) return Fail(n.error());
      if (*n == static_cast<int64_t>(refreshed)) return Ok();
      return Fail(ErrorCode::kAborted,
                  fmt::format("{}: {} of {} rows to refresh are not in the store", m.name,
                              static_cast<int64_t>(refreshed) - *n, refreshed));
    });
  }

  // Sets last_seen_at = t on the unchanged rows: those of the hub matching `filters` whose
  // last_seen_at is older. With `check`, fails (kAborted) unless exactly the unchanged rows were.
  Status Touch(std::vector<Filter> filters, int64_t t, bool check) {
    filters.push_back(Filter::Less("last_seen_at", t));
    return wb_.Submit([&w = w_, &m = m_, filters = std::move(filters), t, check,
                       expected = unchanged_]() -> Status {
      auto n = w.Update(m, filters, {{"last_seen_at", t}});
      if (!n) return Fail(n.error());
      if (check && *n != expected) {
        return Fail(ErrorCode::kAborted,
                    fmt::format("{}: {} rows seen again, {} expected", m.name, *n, expected));
      }
      return Ok();
    });
  }

  // Sets `set` on the rows with `keys`, 500 keys a statement (every backend's parameter limit),
  // and adds the rows changed to `*changed` (read it after the jobs drained).
  Status SetByKey(std::vector<Value> keys, std::vector<std::pair<std::string, Value>> set,
                  int64_t* changed) {
    if (keys.empty()) return Ok();
    return wb_.Submit(
        [&w = w_, &m = m_, keys = std::move(keys), set = std::move(set), changed]() -> Status {
          for (size_t i = 0; i < keys.size(); i += 500) {
            Filter f;
            f.field = "key";
            f.values.assign(keys.begin() + static_cast<ptrdiff_t>(i),
                            keys.begin() + static_cast<ptrdiff_t>(std::min(keys.size(), i + 500)));
            auto n = w.Update(m, {f}, set);
            if (!n) return Fail(n.error());
            *changed += *n;
          }
          return Ok();
        });
  }

  const model::Model& model() const { return m_; }

 private:
  static constexpr size_t kBatch = 1000;
  store::Store::Writer& w_;
  WriteBehind& wb_;
  const model::Model& m_;
  std::vector<Record> upserts_, refreshes_;
  int64_t unchanged_ = 0;
};

// The keys under nodes whose exporter could not be read: the node itself and everything keyed
// below it (GPUs, slices, allocations and events, whose keys start with the node's key and then
// "-GPU-"). Node names are DNS names (lower case), so "-GPU-" cannot be part of one.
class UnreachableKeys {
 public:
  UnreachableKeys(const std::string& hub, const std::vector<UnreachableNode>& nodes) {
    for (const UnreachableNode& n : nodes) keys_.insert(model::NodeKey(hub, n.cluster, n.node));
  }
  bool empty() const { return keys_.empty(); }
  bool Covers(std::string_view key) const {
    if (keys_.empty()) return false;
    const size_t node = key.find("-NODE-");
    if (node == std::string_view::npos) return false;
    const size_t gpu = key.find("-GPU-", node);
    return keys_.contains(std::string(key.substr(0, gpu)));
  }

 private:
  std::unordered_set<std::string> keys_;
};

// The hub's last_error while some exporters fail: how many nodes, and the first reasons.
std::string UnreachableMessage(const std::vector<UnreachableNode>& nodes) {
  std::string out =
      fmt::format("{} node(s) unreachable, their devices stale and unobserved:", nodes.size());
  for (size_t i = 0; i < nodes.size() && i < 3; ++i) {
    out += fmt::format(" {}/{} ({}){}", nodes[i].cluster, nodes[i].node, nodes[i].error,
                       i + 1 < nodes.size() ? ";" : "");
  }
  if (nodes.size() > 3) out += " ...";
  return out;
}

}  // namespace

namespace {

Status Apply(store::Store::Writer& w, WriteBehind& wb, const Snapshot& snap, Timestamp at,
             std::optional<Timestamp> usage_through, HubMirror& mirror, ChangeBatch* changes,
             ApplyCounts& counts) {
  const int64_t t = ToUnixNanos(at);
  const std::string& hub = snap.hub;
  // Rows already seen at `at` or later (a repeated or out-of-order sync) keep their last_seen_at,
  // so the unchanged ones cannot be counted when touched.
  const bool advancing = mirror.written_at() == kNoTime || t > mirror.written_at();

  // The hub.
  {
    Record r(M("hub"));
    r.Set("key", model::HubKey(hub));
    r.Set("name", hub);
    r.Set("last_sync_at", t);
    r.Set("last_sync_ok_at", t);
    if (usage_through) r.Set("usage_through", ToUnixNanos(*usage_through));
    if (!std::isnan(snap.spacing_seconds)) {
      r.Set("sample_spacing_seconds", snap.spacing_seconds);
      r.Set("spacing_assumed", snap.spacing_assumed);
    }
    if (!snap.unreachable.empty()) r.Set("last_error", UnreachableMessage(snap.unreachable));
    SetSeen(r, t, "active");
    auto st = wb.Submit(
        [&w, r = std::move(r)] { return w.Upsert(M("hub"), std::span<const Record>(&r, 1)); });
    if (!st) return st;
  }

  std::array<RowWriter, kSyncedModels.size()> writers = {
      RowWriter(w, wb, kSyncedModels[0]), RowWriter(w, wb, kSyncedModels[1]),
      RowWriter(w, wb, kSyncedModels[2]), RowWriter(w, wb, kSyncedModels[3]),
      RowWriter(w, wb, kSyncedModels[4])};
  enum { kCluster, kNode, kProject, kGpu, kSlice };
  RowWriter allocation_writer(w, wb, "allocation");
  RowWriter event_writer(w, wb, "health-event");

  // Classifies an entity record against the mirror and queues its write.
  auto entity = [&](size_t mi, Record r) -> Status {
    auto& known = mirror.entities(mi);
    HubMirror::Entity next;
    mirror.Describe(r, next);
    next.seen_at = t;
    ++counts.entities;
    auto it = known.find(r.Key());
    const HubMirror::Entity* before = it == known.end() ? nullptr : &it->second;
    if (changes) {
      if (const char* op =
              ChangeOp(before ? &mirror.NameOf(before->state) : nullptr, mirror.NameOf(next.state),
                       before && before->holder != next.holder)) {
        changes->Add(store::ChangeOf(r, op, at));
      }
    }
    const bool full =
        before == nullptr || before->gone || before->indexed_digest != next.indexed_digest;
    const bool refresh = !full && before->value_digest != next.value_digest;
    if (before) {
      it->second = std::move(next);
    } else {
      known.emplace(mirror.Keep(r.Key()), std::move(next));
    }
    if (full) return writers[mi].Upsert(std::move(r));
    if (refresh) return writers[mi].Refresh(std::move(r));
    writers[mi].Unchanged();
    return Ok();
  };
  auto last_active_of = [&](size_t mi, const std::string& key, bool active) -> Value {
    if (active) return t;
    auto& known = mirror.entities(mi);
    if (auto it = known.find(key); it != known.end() && it->second.last_active_at != kNoTime) {
      return it->second.last_active_at;
    }
    return {};
  };

  for (uint32_t c = 0; c < snap.clusters.size(); ++c) {
    Record r(M("cluster"));
    r.Set("key", ClusterKeyOf(snap, c));
    r.Set("hub", hub);
    r.Set("name", snap.clusters[c].name);
    r.Set("hub_key", model::HubKey(hub));
    SetSeen(r, t, "active");
    if (auto st = entity(kCluster, std::move(r)); !st) return Fail(st.error());
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
    if (auto st = entity(kNode, std::move(r)); !st) return Fail(st.error());
  }

  std::unordered_map<std::string, double> held_by_project;  // cluster/ns -> GPU-equivalents
  const WritePlan& alloc_plan = WritePlan::Of(M("allocation"));
  auto allocate = [&](const std::string& device_key, const GpuEntry& gpu, const SliceEntry* slice,
                      const std::vector<Holder>& holders) -> Status {
    const NodeEntry& node = snap.nodes[gpu.node];
    const std::string& cluster = snap.clusters[node.cluster].name;
    const double share = slice ? slice->compute_share : 1.0;
    for (const Holder& h : holders) {
      if (!std::isnan(share)) {
        held_by_project[cluster + "/" + h.ns] += share / static_cast<double>(holders.size());
      }
      Record r(M("allocation"));
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
      const uint64_t digest =
          DigestFields(r, alloc_plan.indexed) ^ (DigestFields(r, alloc_plan.values) * 31);
      auto [it, opened] =
          mirror.allocations().try_emplace(AllocationIdent(device_key, h.pod, h.container));
      HubMirror::Open& open = it->second;
      open.seen_at = t;
      if (opened) {
        open.key = fmt::format("{}/{}/{}@{}", device_key, h.pod, h.container, FormatRfc3339(at));
        ++counts.allocations_opened;
      }
      r.Set("key", open.key);
      if (!opened && open.digest == digest) {
        allocation_writer.Unchanged();
        continue;
      }
      open.digest = digest;
      if (auto st = allocation_writer.Upsert(std::move(r)); !st) return st;
    }
    return Ok();
  };
  auto health = [&](const std::string& device_key, const GpuEntry& gpu, const char* kind,
                    double value, const std::string& message) -> Status {
    if (std::isnan(value) || value <= 0) return Ok();
    const auto code = static_cast<int64_t>(std::llround(value));
    auto [it, opened] = mirror.events().try_emplace(EventIdent(device_key, kind, code));
    it->second.seen_at = t;
    if (!opened) return Ok();
    const NodeEntry& node = snap.nodes[gpu.node];
    Record r(M("health-event"));
    it->second.key = fmt::format("{}/{}/{}@{}", device_key, kind, code, FormatRfc3339(at));
    r.Set("key", it->second.key);
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
    ++counts.events_opened;
    return event_writer.Upsert(std::move(r));
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
      if (auto st = allocate(gpu_key, gpu, nullptr, gpu.holders); !st) return Fail(st.error());
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
        std::string slice_key = model::SliceKey(gpu_key, slice.gpu_i_id);
        const bool active = s != nullptr && std::string_view(s) == "active";
        Record sr(M("gpu-slice"));
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
        sr.Set("last_active_at", last_active_of(kSlice, slice_key, active));
        SetSeen(sr, t, s);
        if (auto st = allocate(slice_key, gpu, &slice, slice.holders); !st) {
          return Fail(st.error());
        }
        sr.Set("key", std::move(slice_key));
        if (auto st = entity(kSlice, std::move(sr)); !st) return Fail(st.error());
      }
      if (all_used) r.Set("memory_used_bytes", Int(used));
      if (!std::isnan(node.gpu_memory_mib)) {
        r.Set("memory_total_bytes", Int(node.gpu_memory_mib * 1024.0 * 1024.0));
      }
    }
    const bool active = state != nullptr && std::string_view(state) == "active";
    r.Set("last_active_at", last_active_of(kGpu, gpu_key, active));
    SetSeen(r, t, state);
    if (auto st = entity(kGpu, std::move(r)); !st) return Fail(st.error());
    for (auto [kind, value, message] :
         {std::tuple{"xid", d.Get(Signal::kXid), "XID error reported by the driver"},
          std::tuple{"remapped_rows", d.Get(Signal::kRemappedRowsUncorrectable),
                     "rows remapped after uncorrectable memory errors"},
          std::tuple{"row_remap_failure", d.Get(Signal::kRowRemapFailure),
                     "row remapping failed"}}) {
      if (auto st = health(gpu_key, gpu, kind, value, message); !st) return Fail(st.error());
    }
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
    if (auto st = entity(kProject, std::move(r)); !st) return Fail(st.error());
  }

  // What is left to write, then what vanished: gone, with the time; or, under a node whose
  // exporter failed, stale since it was last seen (kept, not gone; rewritten once seen again).
  const uint32_t gone_state = mirror.Name("gone");
  const UnreachableKeys unreachable(hub, snap.unreachable);
  for (size_t mi = 0; mi < kSyncedModels.size(); ++mi) {
    RowWriter& rw = writers[mi];
    if (auto st = rw.Flush(); !st) return Fail(st.error());
    std::vector<Value> vanished;
    std::map<int64_t, std::vector<Value>> stale;  // by the time last seen
    for (auto& [key, e] : mirror.entities(mi)) {
      if (e.gone || e.seen_at == t) continue;
      if (unreachable.Covers(key)) {
        if (e.indexed_digest != 0 || e.value_digest != 0) {  // not yet marked stale
          stale[e.seen_at].emplace_back(std::in_place_type<std::string>, key);
          e.indexed_digest = e.value_digest = 0;
        }
        continue;
      }
      vanished.emplace_back(std::in_place_type<std::string>, key);
      if (changes) {
        store::Change c;
        c.model = rw.model().name;
        c.key = std::string(key);
        c.op = "gone";
        c.hub = hub;
        c.cluster = mirror.NameOf(e.cluster);
        c.project = mirror.NameOf(e.project);
        changes->Add(std::move(c));
      }
      e.gone = true;
      e.state = gone_state;
      e.indexed_digest = e.value_digest = 0;
    }
    if (auto st =
            rw.SetByKey(std::move(vanished),
                        {{"gone_at", t}, {"state", std::string("gone")}, {"stale_since", Value{}}},
                        &counts.gone);
        !st) {
      return st;
    }
    for (auto& [seen, keys] : stale) {
      const Value since = seen == kNoTime ? Value{t} : Value{seen};
      if (auto st = rw.SetByKey(std::move(keys), {{"stale_since", since}}, &counts.stale); !st) {
        return st;
      }
    }
    if (auto st = rw.Touch({Filter::Eq(rw.model().scope.hub, hub), Filter::Null("gone_at"),
                            Filter::Null("stale_since")},
                           t, advancing);
        !st) {
      return Fail(st.error());
    }
    if (changes && !mirror.entities(mi).empty()) changes->Touch(rw.model().name);
  }

  // Allocations and health events no longer seen end now.
  if (auto st = allocation_writer.Flush(); !st) return Fail(st.error());
  if (auto st = event_writer.Flush(); !st) return Fail(st.error());
  auto ended = [&](std::unordered_map<std::string, HubMirror::Open>& open) {
    std::vector<Value> keys;
    for (auto it = open.begin(); it != open.end();) {
      // An allocation or event on a node that could not be read goes on, as far as we know.
      if (it->second.seen_at == t || unreachable.Covers(it->second.key)) {
        ++it;
        continue;
      }
      keys.push_back(it->second.key);
      it = open.erase(it);
    }
    return keys;
  };
  if (auto st = allocation_writer.SetByKey(ended(mirror.allocations()),
                                           {{"ended_at", t}, {"state", std::string("closed")}},
                                           &counts.allocations_closed);
      !st) {
    return Fail(st.error());
  }
  if (unreachable.empty()) {
    if (auto st = allocation_writer.Touch(
            {Filter::Eq("hub", hub), Filter::Eq("state", std::string("open"))}, t, advancing);
        !st) {
      return Fail(st.error());
    }
  } else {
    // Open allocations on unreachable nodes keep the last time they were seen: the seen ones
    // are touched by key.
    std::vector<Value> seen;
    for (const auto& [ident, open] : mirror.allocations()) {
      if (open.seen_at == t) seen.emplace_back(std::in_place_type<std::string>, open.key);
    }
    if (auto st =
            allocation_writer.SetByKey(std::move(seen), {{"last_seen_at", t}}, &counts.touched);
        !st) {
      return Fail(st.error());
    }
  }
  return event_writer.SetByKey(ended(mirror.events()), {{"ended_at", t}}, &counts.events_closed);
}

}  // namespace

Result<ApplyCounts> ApplySnapshot(store::Store::Writer& w, const Snapshot& snap, Timestamp at,
                                  std::optional<Timestamp> usage_through, HubMirror& mirror,
                                  ChangeBatch* changes, WriteBehind* write_behind) {
  if (write_behind == nullptr) {
    if (auto st = EnsureMirror(w, snap.hub, mirror); !st) return Fail(st.error());
  }
  WriteBehind inline_writes(false);
  WriteBehind& wb = write_behind ? *write_behind : inline_writes;
  ApplyCounts counts;
  Status st = Apply(w, wb, snap, at, usage_through, mirror, changes, counts);
  // Queued jobs write into `counts`: every one has run (or was dropped) before it is read or
  // goes out of scope.
  Status drained = wb.Drain();
  if (!st) return Fail(st.error());
  if (!drained) return Fail(drained.error());
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
    for (const char* model : kSyncedModels) {
      auto m = w.Update(
          M(model), {Filter::Eq("hub", hub), Filter::Null("gone_at"), Filter::Null("stale_since")},
          {{"stale_since", last_ok}});
      if (!m) return Fail(m.error());
    }
    return Ok();
  });
}

}  // namespace aitelemetry::collect
