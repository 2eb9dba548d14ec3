// Usage history: per UTC hour and per GPU or MIG slice and project, how long it was held, how
// busy, how much memory and energy, built from snapshots taken every `step`.
//
// Sampling convention (the simulator's ground truth uses the same): a snapshot taken at t stands
// for [t, t + step). Allocated seconds of a sample are `step`; with time-slicing (k holders of one
// unit) each holder gets step / k. A sample counts into the hour containing t, so with t on a grid
// of `step` dividing an hour, every hour is made of whole samples and GPU-seconds are exact.
//
// Per sample and holder (share = 1 for a whole GPU, N/7 for an Ng MIG profile):
//   allocated_seconds      += step / k
//   gpu_equivalent_seconds += step * share / k
//   active_seconds         += step * share * activity / k   (activity known)
//   idle_seconds           += step * share / k              (activity known and zero)
//   memory_byte_seconds    += memory_used_bytes * step / k  (memory known)
//   energy_joules          += energy * share / k            (see EnergyTracker)
// A unit without holders adds to the row whose project is null (unallocated time): its
// allocated, GPU-equivalent and idle seconds stay 0; activity, memory and energy still count.
// A sum no sample could contribute to stays null (unknown), never zero.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "collect/key_arena.h"
#include "collect/snapshot.h"
#include "core/result.h"
#include "core/time.h"
#include "model/record.h"

namespace aitelemetry::collect {

// Energy per GPU per sample: the increase of the energy counter over (t - step, t] when the
// previous sample's counter is known (a counter lower than before was reset: the increase is the
// new value, counted from zero), else power * step, else unknown (NaN).
class EnergyTracker {
 public:
  // Returns the joules GPU `uuid` used over (t - step, t] and remembers `counter_joules` (NaN
  // when absent) for the next call. Asking again for the same `t` (a sync retried after its
  // transaction failed) gives the same answer.
  double Take(const std::string& uuid, Timestamp t, Nanos step, double counter_joules,
              double power_watts);

 private:
  struct Reading {
    Timestamp t{};
    double counter = 0;
    Timestamp before_t{};  // the reading before it (what a repeat of `t` is measured from)
    double before_counter = 0;
  };
  // By UUID, whose bytes live in uuids_ (one reading per GPU of the fleet: no std::string each).
  std::unordered_map<std::string_view, Reading> last_;
  KeyArena uuids_;
};

// What samples add to one usage row. NaN: unknown (no sample could contribute).
struct UsageSums {
  double allocated = 0, gpu_equivalent = 0, active = kUnknown, idle = 0, memory = kUnknown,
         energy = kUnknown;
  int64_t samples = 0;
  // Adds `o` field by field; an unknown sum plus a known one is the known one.
  void Add(const UsageSums& o);
};

// Calls `emit` with one "usage" record per device (GPU or slice) and project that the sample
// `snap` taken at `t` adds to, holding as its sums what this one sample adds (with every
// descriptive field set), unit after unit, never the same key twice: what
// Writer::UpsertAdding(usage, records, UsageAccumulator::SumFields()) adds to the stored hour.
// `energy` as in UsageAccumulator::Add. Stops at the first error `emit` returns.
Status ForEachUsageRow(const Snapshot& snap, Timestamp t, Nanos step, EnergyTracker* energy,
                       const std::function<Status(model::Record&&)>& emit);

class UsageAccumulator {
 public:
  // Adds the sample `snap` taken at `t` standing for [t, t + step). `energy` may be null (energy
  // then comes from power alone).
  void Add(const Snapshot& snap, Timestamp t, Nanos step, EnergyTracker* energy);

  // Returns one "usage" record per (device, project, hour) touched, in no particular order.
  std::vector<model::Record> Records() const;

  // The fields of "usage" a sample adds to (what UpsertAdding adds).
  static std::span<const int> SumFields();

  // The natural key of a usage row: "{device_key}|{namespace}|{hour RFC 3339}" (namespace empty
  // for unallocated time).
  static std::string RowKey(std::string_view device_key, std::string_view ns, Timestamp hour);
  static std::string RowKey(std::string_view device_key, std::string_view ns,
                            std::string_view hour_text);

 private:
  struct Row {
    std::string hub, cluster, project, node, device_key, model_name;
    bool has_project = false;
    int64_t hour_ns = 0;
    UsageSums sums;
  };

  std::unordered_map<std::string, Row> rows_;
};

}  // namespace aitelemetry::collect
