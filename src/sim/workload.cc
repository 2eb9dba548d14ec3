#include "sim/workload.h"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "sim/prng.h"

namespace aitelemetry::sim {
namespace {

constexpr uint64_t kTagUnit = 0x756e6974ULL;   // "unit"
constexpr uint64_t kTagGang = 0x67616e67ULL;   // "gang"
constexpr uint64_t kTagNoise = 0x6e6f6973ULL;  // "nois"
constexpr uint64_t kTagBoot = 0x626f6f74ULL;   // "boot"
constexpr uint64_t kTagXid = 0x786964ULL;      // "xid"

constexpr double kOccupancy = 0.65;      // share of (unit, epoch) pairs with a holder
constexpr double kGangShare = 0.12;      // share of non-MIG node epochs taken by one pod
constexpr double kHeldPowerShare = 0.1;  // power share of a held unit at zero activity
constexpr Nanos kNoiseBucket = std::chrono::seconds(15);
constexpr Nanos kBurstBucket = std::chrono::seconds(60);
constexpr Nanos kBootPeriod = std::chrono::hours(24 * 7);

// Notebooks: in each minute, a burst with probability kBurstChance at 0.2..0.7, else 0..0.02.
constexpr double kBurstChance = 0.25;
constexpr double kNotebookMean = kBurstChance * 0.45 + (1 - kBurstChance) * 0.01;

constexpr std::array<int, 11> kXids = {13, 31, 43, 45, 48, 63, 64, 74, 79, 94, 95};

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

uint64_t Bucket(Timestamp t, Nanos width) {
  return static_cast<uint64_t>(FloorDiv(t.time_since_epoch().count(), width.count()));
}

double Quantize(double v) { return std::round(v * 10000.0) / 10000.0; }

// The epoch of `node` containing `slot`, and its first slot.
int64_t EpochOf(const Node& node, int64_t slot) {
  return FloorDiv(slot + node.epoch_phase, node.epoch_slots);
}
int64_t EpochStart(const Node& node, int64_t epoch) {
  return epoch * node.epoch_slots - node.epoch_phase;
}

// Places a run of at least two slots inside an epoch of `length` slots, from hash bits.
void PlaceRun(uint64_t h, int64_t epoch_start, int length, Holding* holding) {
  const int lead = static_cast<int>(Below(h, static_cast<uint64_t>(length / 3 + 1)));
  const int held = 2 + static_cast<int>(Below(h >> 16, static_cast<uint64_t>(length - lead - 1)));
  holding->start_slot = epoch_start + lead;
  holding->end_slot = holding->start_slot + held;
}

int PickProject(const Cluster& cluster, uint64_t h) {
  // The smaller of two draws: low-numbered projects hold more GPUs, as in real fleets.
  const uint64_t n = cluster.projects.size();
  return cluster.projects[std::min(Below(h, n), Below(h >> 20, n))];
}

// With details false, fills only the run, kind, gang and level (what energy needs): the render
// of a large fleet spends most of its time here.
std::optional<Holding> HoldingInEpoch(const Fleet& fleet, int unit, int64_t epoch,
                                      bool details = true) {
  const uint64_t seed = fleet.options.seed;
  const Unit& u = fleet.units[unit];
  const Gpu& gpu = fleet.gpus[u.gpu];
  const Node& node = fleet.nodes[gpu.node];
  const Cluster& cluster = fleet.clusters[node.cluster];
  const int64_t start = EpochStart(node, epoch);
  Holding holding;
  if (!node.any_mig) {
    const uint64_t g =
        Hash(seed, kTagGang, static_cast<uint64_t>(gpu.node), static_cast<uint64_t>(epoch));
    if (UnitInterval(g) < kGangShare) {
      const uint64_t r = SplitMix64(g);
      PlaceRun(r, start, node.epoch_slots, &holding);
      holding.kind = WorkloadKind::kTraining;
      holding.gang = true;
      holding.level = Quantize(0.82 + 0.12 * UnitInterval(Hash(r, 2)));
      if (!details) return holding;
      holding.project = PickProject(cluster, r >> 32);
      holding.pod_id = SplitMix64(r);
      holding.gang_size = static_cast<int>(node.gpus.size());
      holding.memory_fraction = 0.75 + 0.2 * UnitInterval(Hash(r, 1));
      return holding;
    }
  }
  const uint64_t r =
      Hash(seed, kTagUnit, static_cast<uint64_t>(unit), static_cast<uint64_t>(epoch));
  if (UnitInterval(r) >= kOccupancy) return std::nullopt;
  const uint64_t p = SplitMix64(r);
  PlaceRun(p, start, node.epoch_slots, &holding);
  const uint64_t kind_draw = Below(p >> 32, 100);
  holding.kind = kind_draw < 30   ? WorkloadKind::kNotebook
                 : kind_draw < 55 ? WorkloadKind::kTraining
                 : kind_draw < 78 ? WorkloadKind::kInference
                                  : WorkloadKind::kIdleHolder;
  const double a =
      holding.kind == WorkloadKind::kTraining || holding.kind == WorkloadKind::kInference
          ? UnitInterval(Hash(p, 6))
          : 0.0;
  const double m = details ? UnitInterval(Hash(p, 5)) : 0.0;
  if (details) {
    holding.project = PickProject(cluster, Hash(p, 3));
    holding.pod_id = Hash(p, 4);
  }
  switch (holding.kind) {
    case WorkloadKind::kNotebook:
      holding.memory_fraction = 0.1 + 0.4 * m;
      holding.level = kNotebookMean;
      break;
    case WorkloadKind::kTraining:
      holding.memory_fraction = 0.7 + 0.25 * m;
      holding.level = Quantize(0.80 + 0.15 * a);
      break;
    case WorkloadKind::kInference:
      holding.memory_fraction = 0.4 + 0.4 * m;
      holding.level = Quantize(0.25 + 0.3 * a);
      break;
    case WorkloadKind::kIdleHolder:
      holding.memory_fraction = 0.3 + 0.6 * m;
      holding.level = 0;
      break;
  }
  return holding;
}

// Power share (of max - idle, per GPU-equivalent) of a unit with this holding, averaged over time.
double MeanPowerShare(const Holding& h) {
  return kHeldPowerShare + (1 - kHeldPowerShare) * h.level;
}

}  // namespace

std::string_view WorkloadKindName(WorkloadKind kind) {
  switch (kind) {
    case WorkloadKind::kNotebook:
      return "notebook";
    case WorkloadKind::kTraining:
      return "training";
    case WorkloadKind::kInference:
      return "inference";
    case WorkloadKind::kIdleHolder:
      return "idle";
  }
  return "unknown";
}

int64_t SlotIndex(const Fleet& fleet, Timestamp t) {
  return FloorDiv(t.time_since_epoch().count(), fleet.options.slot.count());
}

Timestamp SlotStart(const Fleet& fleet, int64_t slot) {
  return Timestamp(Nanos(slot * fleet.options.slot.count()));
}

std::optional<Holding> HoldingAt(const Fleet& fleet, int unit, int64_t slot) {
  const Node& node = fleet.nodes[fleet.gpus[fleet.units[unit].gpu].node];
  auto holding = HoldingInEpoch(fleet, unit, EpochOf(node, slot));
  if (holding && slot >= holding->start_slot && slot < holding->end_slot) return holding;
  return std::nullopt;
}

std::vector<Holding> HoldingsBetween(const Fleet& fleet, int unit, int64_t from_slot,
                                     int64_t to_slot) {
  std::vector<Holding> out;
  if (from_slot >= to_slot) return out;
  const Node& node = fleet.nodes[fleet.gpus[fleet.units[unit].gpu].node];
  const int64_t last = EpochOf(node, to_slot - 1);
  for (int64_t e = EpochOf(node, from_slot); e <= last; ++e) {
    auto holding = HoldingInEpoch(fleet, unit, e);
    if (holding && holding->end_slot > from_slot && holding->start_slot < to_slot) {
      out.push_back(*holding);
    }
  }
  return out;
}

void AppendPodName(const Holding& holding, std::string* out) {
  const uint64_t id = holding.pod_id;
  switch (holding.kind) {
    case WorkloadKind::kNotebook:
    case WorkloadKind::kIdleHolder:
      fmt::format_to(std::back_inserter(*out), "jupyter-nb-u{:010x}-0", id & 0xffffffffffULL);
      break;
    case WorkloadKind::kTraining:
      fmt::format_to(std::back_inserter(*out), "train-{:010x}-worker-0", id & 0xffffffffffULL);
      break;
    case WorkloadKind::kInference:
      fmt::format_to(std::back_inserter(*out), "vllm-predictor-{:05x}-{:05x}", id & 0xfffff,
                     (id >> 20) & 0xfffff);
      break;
  }
}

std::string_view ContainerName(WorkloadKind kind) {
  switch (kind) {
    case WorkloadKind::kNotebook:
    case WorkloadKind::kIdleHolder:
      return "jupyter";
    case WorkloadKind::kTraining:
      return "pytorch";
    case WorkloadKind::kInference:
      return "kserve-container";
  }
  return "main";
}

UnitSignals UnitSignalsAt(const Fleet& fleet, int unit, const std::optional<Holding>& holding,
                          Timestamp t) {
  const Unit& u = fleet.units[unit];
  UnitSignals s;
  s.fb_total_mib = u.slice >= 0 ? fleet.slices[u.slice].profile.memory_mib
                                : GpuModels()[fleet.nodes[fleet.gpus[u.gpu].node].model].memory_mib;
  if (!holding) return s;
  s.fb_used_mib = std::max<int64_t>(
      1, static_cast<int64_t>(holding->memory_fraction * static_cast<double>(s.fb_total_mib)));
  const uint64_t seed = fleet.options.seed;
  const uint64_t n = Hash(seed, kTagNoise, static_cast<uint64_t>(unit), Bucket(t, kNoiseBucket));
  const double noise = 2 * UnitInterval(n) - 1;  // uniform in [-1, 1): zero mean
  double act = 0;
  double tensor_share = 0;
  switch (holding->kind) {
    case WorkloadKind::kIdleHolder:
      return s;
    case WorkloadKind::kTraining:
      act = holding->level + 0.03 * noise;
      tensor_share = 0.65;
      break;
    case WorkloadKind::kInference:
      act = holding->level + 0.15 * noise;
      tensor_share = 0.35;
      break;
    case WorkloadKind::kNotebook: {
      const uint64_t b =
          Hash(seed, kTagNoise + 1, static_cast<uint64_t>(unit), Bucket(t, kBurstBucket));
      act = UnitInterval(b) < kBurstChance ? 0.2 + 0.5 * UnitInterval(Hash(b, 1))
                                           : 0.02 * UnitInterval(Hash(b, 2));
      tensor_share = 0.2;
      break;
    }
  }
  s.gr_engine_active = Quantize(std::clamp(act, 0.0, 1.0));
  s.tensor_active = Quantize(s.gr_engine_active * tensor_share);
  s.dram_active = Quantize(s.gr_engine_active * 0.45);
  return s;
}

GpuSignals GpuSignalsAt(const Fleet& fleet, int gpu_index, const UnitSignals* units, Timestamp t) {
  const uint64_t seed = fleet.options.seed;
  const Gpu& gpu = fleet.gpus[gpu_index];
  const GpuModel& model = GpuModels()[fleet.nodes[gpu.node].model];
  const double range = model.max_power_watts - model.idle_power_watts;
  GpuSignals s;

  double share = 0;  // of range, now
  for (size_t i = 0; i < gpu.units.size(); ++i) {
    if (units[i].fb_used_mib == 0) continue;
    const double weight = fleet.units[gpu.units[i]].compute_sevenths / 7.0;
    share += weight * (kHeldPowerShare + (1 - kHeldPowerShare) * units[i].gr_engine_active);
  }
  s.power_watts = std::round((model.idle_power_watts + range * share) * 1000.0) / 1000.0;

  const uint64_t n =
      Hash(seed, kTagNoise + 2, static_cast<uint64_t>(gpu_index), Bucket(t, kNoiseBucket));
  const double load = range > 0 ? (s.power_watts - model.idle_power_watts) / range : 0;
  const int ambient = 27 + static_cast<int>(Below(Hash(seed, kTagNoise + 3, gpu_index), 8));
  s.temp_c = ambient + static_cast<int>(std::lround(48 * load)) + static_cast<int>(Below(n, 3)) - 1;
  s.sm_clock_mhz = load < 0.08 ? model.idle_sm_clock_mhz
                               : model.max_sm_clock_mhz - 15 * static_cast<int>(Below(n >> 8, 4));
  const uint64_t x = Hash(seed, kTagXid, static_cast<uint64_t>(gpu_index),
                          static_cast<uint64_t>(SlotIndex(fleet, t)));
  if (UnitInterval(x) < 0.003) s.xid = kXids[Below(x >> 8, kXids.size())];
  return s;
}

double EnergyMillijoulesAt(const Fleet& fleet, int gpu_index, Timestamp t) {
  const uint64_t seed = fleet.options.seed;
  const Gpu& gpu = fleet.gpus[gpu_index];
  const GpuModel& model = GpuModels()[fleet.nodes[gpu.node].model];
  const double range = model.max_power_watts - model.idle_power_watts;
  // Idle power throughout plus each holding's mean power.
  const int64_t now_ns = t.time_since_epoch().count();
  const int64_t period = kBootPeriod.count();
  const int64_t phase =
      static_cast<int64_t>(Below(Hash(seed, kTagBoot, static_cast<uint64_t>(gpu_index)),
                                 static_cast<uint64_t>(period / fleet.options.slot.count())) *
                           static_cast<uint64_t>(fleet.options.slot.count()));
  const int64_t boot_ns = FloorDiv(now_ns - phase, period) * period + phase;
  double joules = model.idle_power_watts * static_cast<double>(now_ns - boot_ns) * 1e-9;
  const int64_t boot_slot = FloorDiv(boot_ns, fleet.options.slot.count());
  const int64_t end_slot = SlotIndex(fleet, t) + 1;
  for (size_t i = 0; i < gpu.units.size(); ++i) {
    const int unit = gpu.units[i];
    const double weight = fleet.units[unit].compute_sevenths / 7.0;
    const Node& node = fleet.nodes[gpu.node];
    const int64_t last = EpochOf(node, end_slot - 1);
    for (int64_t e = EpochOf(node, boot_slot); e <= last; ++e) {
      const auto h = HoldingInEpoch(fleet, unit, e, /*details=*/false);
      if (!h) continue;
      const int64_t a =
          std::max(boot_ns, SlotStart(fleet, h->start_slot).time_since_epoch().count());
      const int64_t b = std::min(now_ns, SlotStart(fleet, h->end_slot).time_since_epoch().count());
      if (b > a) joules += range * weight * MeanPowerShare(*h) * static_cast<double>(b - a) * 1e-9;
    }
  }
  return std::floor(joules * 1000.0);
}

}  // namespace aitelemetry::sim
