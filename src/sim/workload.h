// Who holds which GPU or MIG slice when, and what the GPU reports while they do: pure functions
// of (fleet seed, unit, time), so any process can recompute any instant without state.
//
// Time is cut into slots: slot k is [k * slot, (k + 1) * slot) since the Unix epoch (slot from
// FleetOptions). Allocations change only at slot boundaries. A sample taken at t with step s
// stands for [t, t + s); when s divides the slot and t is a multiple of s, summing samples times s
// gives exactly the allocated seconds (the ground truth counts them that way).
//
// Each node's timeline is cut into epochs of Node::epoch_slots slots (shifted by epoch_phase).
// In every epoch each unit is either free throughout or held by one pod for a run of at least two
// slots inside the epoch, so holders start, keep the unit a while, and release it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.h"
#include "sim/fleet.h"

namespace aitelemetry::sim {

enum class WorkloadKind {
  kNotebook,    // low, bursty activity
  kTraining,    // high activity and power
  kInference,   // medium activity
  kIdleHolder,  // allocated with memory held, activity exactly 0
};

// Returns "notebook", "training", "inference" or "idle".
std::string_view WorkloadKindName(WorkloadKind kind);

// One pod holding one unit (or, for a gang, every GPU of a node) for [start_slot, end_slot).
struct Holding {
  int project = 0;  // index into Fleet::projects (a project of the unit's cluster)
  WorkloadKind kind = WorkloadKind::kNotebook;
  int64_t start_slot = 0;      // first slot held
  int64_t end_slot = 0;        // first slot no longer held; end_slot > start_slot
  uint64_t pod_id = 0;         // names the pod; the same for every unit a gang pod holds
  bool gang = false;           // one training pod holds all GPUs of the node
  int gang_size = 1;           // GPUs the pod requests (its kube request value)
  double memory_fraction = 0;  // share of the unit's memory in use, in (0, 1)
  double level = 0;            // mean GR_ENGINE_ACTIVE over the holding, in [0, 1]
};

// The slot containing t: floor(t / slot).
int64_t SlotIndex(const Fleet& fleet, Timestamp t);
// The instant slot `slot` begins.
Timestamp SlotStart(const Fleet& fleet, int64_t slot);

// Returns the holding of `unit` (index into Fleet::units) in slot `slot`, or nullopt if free.
std::optional<Holding> HoldingAt(const Fleet& fleet, int unit, int64_t slot);

// Returns the holdings of `unit` that overlap slots [from_slot, to_slot), in time order.
std::vector<Holding> HoldingsBetween(const Fleet& fleet, int unit, int64_t from_slot,
                                     int64_t to_slot);

// Appends the pod name, e.g. "jupyter-nb-u3fa2c1d9e0-0" or "train-9c1e2a0b7f-worker-0", to `out`.
void AppendPodName(const Holding& holding, std::string* out);
// The container name for a kind, e.g. "pytorch".
std::string_view ContainerName(WorkloadKind kind);

// What one unit reports at an instant. Free units: all zero.
struct UnitSignals {
  double gr_engine_active = 0;  // DCGM_FI_PROF_GR_ENGINE_ACTIVE, 0..1
  double tensor_active = 0;     // DCGM_FI_PROF_PIPE_TENSOR_ACTIVE, 0..1
  double dram_active = 0;       // DCGM_FI_PROF_DRAM_ACTIVE, 0..1
  int64_t fb_used_mib = 0;      // DCGM_FI_DEV_FB_USED
  int64_t fb_total_mib = 0;     // FB_USED + FB_FREE
};

// Signals of `unit` at t, given its holding at t (from HoldingAt for SlotIndex(t)).
UnitSignals UnitSignalsAt(const Fleet& fleet, int unit, const std::optional<Holding>& holding,
                          Timestamp t);

// What a physical GPU reports at an instant (MIG slices repeat their parent's values).
struct GpuSignals {
  double power_watts = 0;  // DCGM_FI_DEV_POWER_USAGE
  int temp_c = 0;          // DCGM_FI_DEV_GPU_TEMP
  int sm_clock_mhz = 0;    // DCGM_FI_DEV_SM_CLOCK
  int xid = 0;             // DCGM_FI_DEV_XID_ERRORS: the last XID, mostly 0
};

// Signals of `gpu` at t. `units` holds the UnitSignals of the GPU's units (Gpu::units order) at t.
GpuSignals GpuSignalsAt(const Fleet& fleet, int gpu, const UnitSignals* units, Timestamp t);

// DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION of `gpu` at t, in whole millijoules since the GPU's last
// reboot (weekly, at a per-GPU phase). It integrates idle power plus each holding's mean power, so
// it never decreases between reboots and its rate equals the expected power over each holding.
// Costs one hash per node epoch since the reboot (about 70 with the default slot).
double EnergyMillijoulesAt(const Fleet& fleet, int gpu, Timestamp t);

}  // namespace aitelemetry::sim
