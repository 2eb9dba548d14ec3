#include "collect/usage.h"

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
  auto [it, fresh] = last_.try_emplace(uuid);
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

void UsageAccumulator::AddUnit(const Snapshot& snap, const GpuEntry& gpu,
                               const std::string& device_key, const DeviceReadings& readings,
                               double share, const std::vector<Holder>& holders,
                               double energy_joules, Timestamp hour, std::string_view hour_text,
                               double step_seconds) {
  const NodeEntry& node = snap.nodes[gpu.node];
  const double activity = Activity(readings);
  const double memory = readings.Get(Signal::kFbUsed);
  const size_t k = holders.empty() ? 1 : holders.size();
  const double part = step_seconds / static_cast<double>(k);
  auto touch = [&](const Holder* h) -> Row& {
    std::string key =
        RowKey(device_key, h ? std::string_view(h->ns) : std::string_view(), hour_text);
    auto [it, inserted] = rows_.try_emplace(std::move(key));
    Row& row = it->second;
    row.changed = true;
    if (inserted) {
      row.hub = snap.hub;
      row.cluster = snap.clusters[node.cluster].name;
      row.node = node.name;
      row.device_key = device_key;
      row.model_name = gpu.model_name;
      row.hour_ns = ToUnixNanos(hour);
      row.has_project = h != nullptr;
      if (h) row.project = h->ns;
    }
    return row;
  };
  const double energy = energy_joules * (std::isnan(share) ? kUnknown : share);
  if (holders.empty()) {
    Row& row = touch(nullptr);
    row.samples += 1;
    if (!std::isnan(activity)) AddKnown(row.active, part * share * activity);
    if (!std::isnan(memory)) AddKnown(row.memory, memory * part);
    AddKnown(row.energy, energy);
    return;
  }
  for (const Holder& h : holders) {
    Row& row = touch(&h);
    row.samples += 1;
    row.allocated += part;
    if (!std::isnan(share)) row.gpu_equivalent += part * share;
    if (!std::isnan(activity) && !std::isnan(share)) {
      AddKnown(row.active, part * share * activity);
      if (activity == 0) row.idle += part * share;
    }
    if (!std::isnan(memory)) AddKnown(row.memory, memory * part);
    AddKnown(row.energy, energy / static_cast<double>(k));
  }
}

void UsageAccumulator::Add(const Snapshot& snap, Timestamp t, Nanos step, EnergyTracker* energy) {
  const Timestamp hour = FloorToHour(t);
  const std::string hour_text = FormatRfc3339(hour);
  const double step_seconds = std::chrono::duration<double>(step).count();
  for (uint32_t g = 0; g < snap.gpus.size(); ++g) {
    const GpuEntry& gpu = snap.gpus[g];
    const double counter = gpu.readings.Get(Signal::kEnergy);
    const double power = gpu.readings.Get(Signal::kPower);
    double joules = energy ? energy->Take(gpu.uuid, t, step, counter, power)
                           : (std::isnan(power) ? kUnknown : power * step_seconds);
    const std::string gpu_key = GpuKeyOf(snap, g);
    if (!gpu.mig()) {
      AddUnit(snap, gpu, gpu_key, gpu.readings, 1.0, gpu.holders, joules, hour, hour_text,
              step_seconds);
      continue;
    }
    for (uint32_t si : gpu.slices) {
      const SliceEntry& slice = snap.slices[si];
      AddUnit(snap, gpu, model::SliceKey(gpu_key, slice.gpu_i_id), slice.readings,
              slice.compute_share, slice.holders, joules, hour, hour_text, step_seconds);
    }
  }
}

void UsageAccumulator::Load(const std::vector<model::Record>& rows) {
  for (const model::Record& r : rows) {
    Row row;
    row.hub = r.GetString("hub");
    row.cluster = r.GetString("cluster");
    row.has_project = !model::IsNull(r.Get("project"));
    row.project = r.GetString("project");
    row.node = r.GetString("node");
    row.device_key = r.GetString("device_key");
    row.model_name = r.GetString("model_name");
    if (auto* h = std::get_if<int64_t>(&r.Get("hour"))) row.hour_ns = *h;
    auto real = [&](const char* f, double fallback) {
      double d = 0;
      return model::AsDouble(r.Get(f), &d) ? d : fallback;
    };
    row.allocated = real("allocated_seconds", 0);
    row.gpu_equivalent = real("gpu_equivalent_seconds", 0);
    row.active = real("active_seconds", kUnknown);
    row.idle = real("idle_seconds", 0);
    row.memory = real("memory_byte_seconds", kUnknown);
    row.energy = real("energy_joules", kUnknown);
    row.samples = static_cast<int64_t>(real("samples", 0));
    row.stored = true;
    rows_[r.Key()] = std::move(row);
  }
}

model::Record UsageAccumulator::ToRecord(const std::string& key, const Row& row,
                                         bool sums_only) const {
  static const model::Model& m = *model::FindModel("usage");
  model::Record r(m);
  r.Set("key", key);
  r.Set("hour", row.hour_ns);
  r.Set("allocated_seconds", row.allocated);
  r.Set("gpu_equivalent_seconds", row.gpu_equivalent);
  r.Set("active_seconds", Real(row.active));
  r.Set("idle_seconds", row.idle);
  r.Set("memory_byte_seconds", Real(row.memory));
  r.Set("energy_joules", Real(row.energy));
  r.Set("samples", row.samples);
  if (sums_only) return r;
  r.Set("hub", row.hub);
  r.Set("cluster", row.cluster);
  if (row.has_project) r.Set("project", row.project);
  r.Set("node", row.node);
  r.Set("device_key", row.device_key);
  if (!row.model_name.empty()) r.Set("model_name", row.model_name);
  return r;
}

std::vector<model::Record> UsageAccumulator::Records() const {
  std::vector<model::Record> out;
  out.reserve(rows_.size());
  for (const auto& [key, row] : rows_) out.push_back(ToRecord(key, row, false));
  return out;
}

Status UsageAccumulator::WriteChanged(
    size_t batch,
    const std::function<Status(std::vector<model::Record>&, bool stored)>& write) const {
  std::vector<model::Record> out;
  for (bool stored : {false, true}) {
    for (const auto& [key, row] : rows_) {
      if (!row.changed || row.stored != stored) continue;
      out.push_back(ToRecord(key, row, stored));
      if (out.size() < batch) continue;
      if (auto st = write(out, stored); !st) return st;
      out.clear();
    }
    if (out.empty()) continue;
    if (auto st = write(out, stored); !st) return st;
    out.clear();
  }
  return Ok();
}

std::span<const int> UsageAccumulator::SumFields() {
  static const std::vector<int> fields = [] {
    const model::Model& m = *model::FindModel("usage");
    std::vector<int> out;
    for (const char* f : {"allocated_seconds", "gpu_equivalent_seconds", "active_seconds",
                          "idle_seconds", "memory_byte_seconds", "energy_joules", "samples"}) {
      out.push_back(m.FieldIndex(f));
    }
    return out;
  }();
  return fields;
}

void UsageAccumulator::MarkWritten() {
  for (auto& [key, row] : rows_) {
    row.stored = true;
    row.changed = false;
  }
}

}  // namespace aitelemetry::collect
