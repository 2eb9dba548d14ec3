#include "collect/usage.h"

#include <algorithm>
#include <cmath>

namespace aitelemetry::collect {
namespace {

void AddKnown(double& sum, double v) {
  if (std::isnan(v)) return;
  sum = std::isnan(sum) ? v : sum + v;
}

model::Value Real(double v) { return std::isnan(v) ? model::Value{} : model::Value{v}; }

}  // namespace

double EnergyTracker::Take(const std::string& uuid, Timestamp t, Nanos step, double counter_joules,
                           double power_watts) {
  auto it = last_.find(uuid);
  const bool fresh = it == last_.end();
  if (fresh) {
    it = last_.try_emplace(uuids_.Keep(uuid)).first;
  }
  Reading& r = it->second;
  if (!fresh && r.t != t) {  // a new sample: the stored one becomes the one before
    r.before_t = r.t;
    r.before_counter = r.counter;
  } else if (fresh) {
    r.before_t = Timestamp{};
    r.before_counter = kUnknown;
  }
  r.t = t;
  r.counter = counter_joules;
  if (!std::isnan(counter_joules) && r.before_t == t - step && !std::isnan(r.before_counter)) {
    const double before = r.before_counter;
    return counter_joules >= before ? counter_joules - before : counter_joules;
  }
  if (!std::isnan(power_watts)) return power_watts * std::chrono::duration<double>(step).count();
  return kUnknown;
}

std::string UsageAccumulator::RowKey(std::string_view device_key, std::string_view ns,
                                     Timestamp hour) {
  return RowKey(device_key, ns, FormatRfc3339(hour));
}

std::string UsageAccumulator::RowKey(std::string_view device_key, std::string_view ns,
                                     std::string_view hour_text) {
  std::string key;
  key.reserve(device_key.size() + ns.size() + hour_text.size() + 2);
  key.append(device_key);
  key.push_back('|');
  key.append(ns);
  key.push_back('|');
  key.append(hour_text);
  return key;
}

void UsageSums::Add(const UsageSums& o) {
  allocated += o.allocated;
  gpu_equivalent += o.gpu_equivalent;
  AddKnown(active, o.active);
  idle += o.idle;
  AddKnown(memory, o.memory);
  AddKnown(energy, o.energy);
  samples += o.samples;
  observed += o.observed;
  unobserved += o.unobserved;
}

namespace {

// The "usage" fields a row is made of, by index.
struct UsageFields {
  const model::Model& m = *model::FindModel("usage");
  int key = m.FieldIndex("key"), hour = m.FieldIndex("hour"), hub = m.FieldIndex("hub"),
      cluster = m.FieldIndex("cluster"), project = m.FieldIndex("project"),
      node = m.FieldIndex("node"), device_key = m.FieldIndex("device_key"),
      model_name = m.FieldIndex("model_name");
  std::span<const int> sums = UsageAccumulator::SumFields();
  static const UsageFields& Get() {
    static const UsageFields f;
    return f;
  }
};

// Sets the sums of a "usage" record (in SumFields order).
void SetSums(const UsageFields& f, const UsageSums& u, model::Record& r) {
  r.values[f.sums[0]] = u.allocated;
  r.values[f.sums[1]] = u.gpu_equivalent;
  r.values[f.sums[2]] = Real(u.active);
  r.values[f.sums[3]] = u.idle;
  r.values[f.sums[4]] = Real(u.memory);
  r.values[f.sums[5]] = Real(u.energy);
  r.values[f.sums[6]] = u.samples;
  r.values[f.sums[7]] = u.observed;
  r.values[f.sums[8]] = u.unobserved;
}

// What one sample of one unit (a whole GPU, or a MIG slice with its compute `share`) adds:
// calls add(namespace, sums) once per distinct project among its holders (their shares summed),
// or add(nullptr, sums) for a unit nobody holds. `unobserved` seconds of a gap in the same hour
// go to the holders when `to_holders`, else to the unallocated row (add(nullptr, ...) even for a
// held unit).
template <typename AddFn>
void UnitSample(const DeviceReadings& readings, double share, const std::vector<Holder>& holders,
                double energy_joules, double step_seconds, double unobserved, bool to_holders,
                AddFn add) {
  const double activity = Activity(readings);
  const double memory = readings.Get(Signal::kFbUsed);
  const size_t k = holders.empty() ? 1 : holders.size();
  const double part = step_seconds / static_cast<double>(k);
  const double energy = energy_joules * (std::isnan(share) ? kUnknown : share);
  if (holders.empty()) {
    UsageSums u;
    u.samples = 1;
    u.observed = part;
    u.unobserved = unobserved;
    if (!std::isnan(activity)) u.active = part * share * activity;
    if (!std::isnan(memory)) u.memory = memory * part;
    u.energy = energy;
    add(static_cast<const std::string*>(nullptr), u);
    return;
  }
  // Holders are few (time-slicing shares a GPU among a handful): a linear merge by namespace.
  std::vector<std::pair<const std::string*, UsageSums>> per_project;
  per_project.reserve(holders.size());
  for (const Holder& h : holders) {
    UsageSums u;
    u.samples = 1;
    u.allocated = part;
    u.observed = part;
    if (to_holders) u.unobserved = unobserved / static_cast<double>(k);
    if (!std::isnan(share)) u.gpu_equivalent = part * share;
    if (!std::isnan(activity) && !std::isnan(share)) {
      u.active = part * share * activity;
      if (activity == 0) u.idle = part * share;
    }
    if (!std::isnan(memory)) u.memory = memory * part;
    u.energy = energy / static_cast<double>(k);
    auto it = std::find_if(per_project.begin(), per_project.end(),
                           [&](const auto& p) { return *p.first == h.ns; });
    if (it == per_project.end()) {
      per_project.emplace_back(&h.ns, u);
    } else {
      it->second.Add(u);
    }
  }
  for (const auto& [ns, u] : per_project) add(ns, u);
  if (!to_holders && unobserved > 0) {
    UsageSums u;
    u.allocated = 0;
    u.unobserved = unobserved;
    add(static_cast<const std::string*>(nullptr), u);
  }
}

// Calls row(gpu, device_key, ns, hour, sums) for what the sample `snap` at `t` adds to each
// usage row (ns null: the unit's unallocated row), unit after unit, until it returns false. With
// `gaps`, a unit's unobserved time before t adds rows to the hours before hour(t) it falls in
// (unobserved seconds alone), and to hour(t)'s rows with the sample.
template <typename RowFn>
void ForEachSampleRow(const Snapshot& snap, Timestamp t, Nanos step, EnergyTracker* energy,
                      GapTracker* gaps, RowFn row) {
  const double step_seconds = std::chrono::duration<double>(step).count();
  const Timestamp hour = FloorToHour(t);
  bool more = true;
  auto unit = [&](const GpuEntry& gpu, const std::string& device_key,
                  const DeviceReadings& readings, double share, const std::vector<Holder>& holders,
                  double joules) {
    double unobserved_now = 0;
    bool to_holders = false;
    if (gaps) {
      auto gap = gaps->Seen(device_key, GapTracker::HoldersHash(holders), t, step);
      if (gap) {
        to_holders = gap->same_holders && !holders.empty();
        const NodeEntry& node = snap.nodes[gpu.node];
        gaps->AddFound({device_key, snap.clusters[node.cluster].name, node.name,
                        to_holders ? holders.front().ns : std::string(), gap->from, gap->to});
        // The parts of the gap in earlier hours, each its own row (unobserved seconds alone).
        for (Timestamp h = FloorToHour(gap->from); h < hour && more; h += std::chrono::hours(1)) {
          const Timestamp a = std::max(h, gap->from);
          const Timestamp b = std::min(h + std::chrono::hours(1), gap->to);
          if (b <= a) continue;
          const double seconds = std::chrono::duration<double>(b - a).count();
          UsageSums u;
          if (!to_holders) {
            u.unobserved = seconds;
            more = row(gpu, device_key, static_cast<const std::string*>(nullptr), h, u);
            continue;
          }
          u.unobserved = seconds / static_cast<double>(holders.size());
          std::vector<const std::string*> done;
          for (const Holder& holder : holders) {
            if (std::find_if(done.begin(), done.end(),
                             [&](const std::string* d) { return *d == holder.ns; }) != done.end()) {
              continue;
            }
            done.push_back(&holder.ns);
            UsageSums mine = u;
            mine.unobserved *= static_cast<double>(
                std::count_if(holders.begin(), holders.end(),
                              [&](const Holder& o) { return o.ns == holder.ns; }));
            if (more) more = row(gpu, device_key, &holder.ns, h, mine);
          }
        }
        if (gap->to > hour) {
          unobserved_now =
              std::chrono::duration<double>(gap->to - std::max(hour, gap->from)).count();
        }
      }
    }
    if (!more) return false;
    UnitSample(readings, share, holders, joules, step_seconds, unobserved_now, to_holders,
               [&](const std::string* ns, const UsageSums& u) {
                 if (more) more = row(gpu, device_key, ns, hour, u);
               });
    return more;
  };
  std::string device_key;
  for (uint32_t g = 0; g < snap.gpus.size(); ++g) {
    const GpuEntry& gpu = snap.gpus[g];
    const double counter = gpu.readings.Get(Signal::kEnergy);
    const double power = gpu.readings.Get(Signal::kPower);
    double joules = energy ? energy->Take(gpu.uuid, t, step, counter, power)
                           : (std::isnan(power) ? kUnknown : power * step_seconds);
    const std::string gpu_key = GpuKeyOf(snap, g);
    if (!gpu.mig()) {
      if (!unit(gpu, gpu_key, gpu.readings, 1.0, gpu.holders, joules)) return;
      continue;
    }
    for (uint32_t si : gpu.slices) {
      const SliceEntry& slice = snap.slices[si];
      device_key = model::SliceKey(gpu_key, slice.gpu_i_id);
      if (!unit(gpu, device_key, slice.readings, slice.compute_share, slice.holders, joules)) {
        return;
      }
    }
  }
}

}  // namespace

std::vector<model::Record> GapRecords(const std::string& hub,
                                      const std::vector<GapTracker::Found>& found,
                                      std::string_view cause) {
  const model::Model& m = *model::FindModel("gap");
  std::vector<model::Record> out;
  out.reserve(found.size());
  for (const GapTracker::Found& f : found) {
    model::Record r(m);
    r.Set("key", f.device_key + "|" + FormatRfc3339(f.from));
    r.Set("hub", hub);
    r.Set("cluster", f.cluster);
    if (!f.project.empty()) r.Set("project", f.project);
    r.Set("node", f.node);
    r.Set("device_key", f.device_key);
    r.Set("started_at", ToUnixNanos(f.from));
    r.Set("ended_at", ToUnixNanos(f.to));
    r.Set("seconds", std::chrono::duration<double>(f.to - f.from).count());
    r.Set("cause", std::string(cause));
    out.push_back(std::move(r));
  }
  return out;
}

uint64_t GapTracker::HoldersHash(const std::vector<Holder>& holders) {
  uint64_t h = 0;
  for (const Holder& holder : holders) {
    h = h * 1'000'003 + std::hash<std::string>{}(holder.ns) + 1;
  }
  return h;
}

std::optional<GapTracker::Gap> GapTracker::Seen(std::string_view device_key, uint64_t holders,
                                                Timestamp t, Nanos step) {
  const int64_t t_ns = ToUnixNanos(t);
  auto [it, fresh] = last_.try_emplace(std::hash<std::string_view>{}(device_key));
  Coverage& c = it->second;
  if (!fresh && c.t != t_ns) {  // a new sample: the stored one becomes the one before
    c.before_end = c.end;
    c.before_holders = c.holders;
    c.has_before = true;
  } else if (fresh) {
    c.has_before = false;
  }
  c.t = t_ns;
  c.end = t_ns + step.count();
  c.holders = holders;
  if (!c.has_before || c.before_end >= t_ns) return std::nullopt;
  return Gap{Timestamp(Nanos(c.before_end)), t, c.before_holders == holders};
}

void UsageAccumulator::Add(const Snapshot& snap, Timestamp t, Nanos step, EnergyTracker* energy,
                           GapTracker* gaps) {
  const Timestamp sample_hour = FloorToHour(t);
  const std::string sample_hour_text = FormatRfc3339(sample_hour);
  ForEachSampleRow(snap, t, step, energy, gaps,
                   [&](const GpuEntry& gpu, const std::string& device_key, const std::string* ns,
                       Timestamp hour, const UsageSums& u) {
                     auto [it, inserted] = rows_.try_emplace(
                         RowKey(device_key, ns ? std::string_view(*ns) : "",
                                hour == sample_hour ? sample_hour_text : FormatRfc3339(hour)));
                     Row& row = it->second;
                     if (inserted) {
                       const NodeEntry& node = snap.nodes[gpu.node];
                       row.hub = snap.hub;
                       row.cluster = snap.clusters[node.cluster].name;
                       row.node = node.name;
                       row.device_key = device_key;
                       row.model_name = gpu.model_name;
                       row.hour_ns = ToUnixNanos(hour);
                       row.has_project = ns != nullptr;
                       if (ns) row.project = *ns;
                     }
                     row.sums.Add(u);
                     return true;
                   });
}

Status ForEachUsageRow(const Snapshot& snap, Timestamp t, Nanos step, EnergyTracker* energy,
                       GapTracker* gaps, const std::function<Status(model::Record&&)>& emit) {
  const UsageFields& f = UsageFields::Get();
  const Timestamp sample_hour = FloorToHour(t);
  const std::string sample_hour_text = FormatRfc3339(sample_hour);
  Status st = Ok();
  ForEachSampleRow(snap, t, step, energy, gaps,
                   [&](const GpuEntry& gpu, const std::string& device_key, const std::string* ns,
                       Timestamp hour, const UsageSums& u) {
                     const NodeEntry& node = snap.nodes[gpu.node];
                     model::Record r(f.m);
                     r.values[f.key] = UsageAccumulator::RowKey(
                         device_key, ns ? std::string_view(*ns) : "",
                         hour == sample_hour ? sample_hour_text : FormatRfc3339(hour));
                     r.values[f.hour] = ToUnixNanos(hour);
                     r.values[f.hub] = snap.hub;
                     r.values[f.cluster] = snap.clusters[node.cluster].name;
                     if (ns) r.values[f.project] = *ns;
                     r.values[f.node] = node.name;
                     r.values[f.device_key] = device_key;
                     if (!gpu.model_name.empty()) r.values[f.model_name] = gpu.model_name;
                     SetSums(f, u, r);
                     st = emit(std::move(r));
                     return static_cast<bool>(st);
                   });
  return st;
}

std::vector<model::Record> UsageAccumulator::Records() const {
  const UsageFields& f = UsageFields::Get();
  std::vector<model::Record> out;
  out.reserve(rows_.size());
  for (const auto& [key, row] : rows_) {
    model::Record r(f.m);
    r.values[f.key] = key;
    r.values[f.hour] = row.hour_ns;
    r.values[f.hub] = row.hub;
    r.values[f.cluster] = row.cluster;
    if (row.has_project) r.values[f.project] = row.project;
    r.values[f.node] = row.node;
    r.values[f.device_key] = row.device_key;
    if (!row.model_name.empty()) r.values[f.model_name] = row.model_name;
    SetSums(f, row.sums, r);
    out.push_back(std::move(r));
  }
  return out;
}

std::span<const int> UsageAccumulator::SumFields() {
  static const std::vector<int> fields = [] {
    const model::Model& m = *model::FindModel("usage");
    std::vector<int> out;
    for (const char* f : {"allocated_seconds", "gpu_equivalent_seconds", "active_seconds",
                          "idle_seconds", "memory_byte_seconds", "energy_joules", "samples",
                          "observed_seconds", "unobserved_seconds"}) {
      out.push_back(m.FieldIndex(f));
    }
    return out;
  }();
  return fields;
}

}  // namespace aitelemetry::collect
