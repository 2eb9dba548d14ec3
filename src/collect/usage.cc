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
  double used = kUnknown;
  auto it = last_.find(uuid);
  if (!std::isnan(counter_joules) && it != last_.end() && it->second.first == t - step &&
      !std::isnan(it->second.second)) {
    double before = it->second.second;
    used = counter_joules >= before ? counter_joules - before : counter_joules;
  } else if (!std::isnan(power_watts)) {
    used = power_watts * std::chrono::duration<double>(step).count();
  }
  if (it == last_.end()) {
    last_.emplace(uuid, std::make_pair(t, counter_joules));
  } else {
    it->second = {t, counter_joules};
  }
  return used;
}

std::string UsageAccumulator::RowKey(std::string_view device_key, std::string_view ns,
                                     Timestamp hour) {
  std::string key(device_key);
  key.push_back('|');
  key.append(ns);
  key.push_back('|');
  key.append(FormatRfc3339(hour));
  return key;
}

void UsageAccumulator::AddUnit(const Snapshot& snap, const GpuEntry& gpu,
                               const std::string& device_key, const DeviceReadings& readings,
                               double share, const std::vector<Holder>& holders,
                               double energy_joules, Timestamp hour, double step_seconds) {
  const NodeEntry& node = snap.nodes[gpu.node];
  const double activity = Activity(readings);
  const double memory = readings.Get(Signal::kFbUsed);
  const size_t k = holders.empty() ? 1 : holders.size();
  const double part = step_seconds / static_cast<double>(k);
  auto touch = [&](const Holder* h) -> Row& {
    std::string key = RowKey(device_key, h ? std::string_view(h->ns) : std::string_view(), hour);
    auto [it, inserted] = rows_.try_emplace(std::move(key));
    Row& row = it->second;
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
  const double step_seconds = std::chrono::duration<double>(step).count();
  for (uint32_t g = 0; g < snap.gpus.size(); ++g) {
    const GpuEntry& gpu = snap.gpus[g];
    const double counter = gpu.readings.Get(Signal::kEnergy);
    const double power = gpu.readings.Get(Signal::kPower);
    double joules = energy ? energy->Take(gpu.uuid, t, step, counter, power)
                           : (std::isnan(power) ? kUnknown : power * step_seconds);
    const std::string gpu_key = GpuKeyOf(snap, g);
    if (!gpu.mig()) {
      AddUnit(snap, gpu, gpu_key, gpu.readings, 1.0, gpu.holders, joules, hour, step_seconds);
      continue;
    }
    for (uint32_t si : gpu.slices) {
      const SliceEntry& slice = snap.slices[si];
      AddUnit(snap, gpu, model::SliceKey(gpu_key, slice.gpu_i_id), slice.readings,
              slice.compute_share, slice.holders, joules, hour, step_seconds);
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
    rows_[r.Key()] = std::move(row);
  }
}

std::vector<model::Record> UsageAccumulator::Records() const {
  const model::Model& m = *model::FindModel("usage");
  std::vector<model::Record> out;
  out.reserve(rows_.size());
  for (const auto& [key, row] : rows_) {
    model::Record r(m);
    r.Set("key", key);
    r.Set("hub", row.hub);
    r.Set("cluster", row.cluster);
    if (row.has_project) r.Set("project", row.project);
    r.Set("node", row.node);
    r.Set("device_key", row.device_key);
    if (!row.model_name.empty()) r.Set("model_name", row.model_name);
    r.Set("hour", row.hour_ns);
    r.Set("allocated_seconds", row.allocated);
    r.Set("gpu_equivalent_seconds", row.gpu_equivalent);
    r.Set("active_seconds", Real(row.active));
    r.Set("idle_seconds", row.idle);
    r.Set("memory_byte_seconds", Real(row.memory));
    r.Set("energy_joules", Real(row.energy));
    r.Set("samples", row.samples);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace aitelemetry::collect
