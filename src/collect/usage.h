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
  void Clear() { last_.clear(); }

 private:
  struct Reading {
    Timestamp t{};
    double counter = 0;
    Timestamp before_t{};  // the reading before it (what a repeat of `t` is measured from)
    double before_counter = 0;
  };
  std::unordered_map<std::string, Reading> last_;
};

class UsageAccumulator {
 public:
  // Adds the sample `snap` taken at `t` standing for [t, t + step). `energy` may be null (energy
  // then comes from power alone).
  void Add(const Snapshot& snap, Timestamp t, Nanos step, EnergyTracker* energy);

  // Adds rows read back from the store (model "usage"), so a live hour continues where it was.
  void Load(const std::vector<model::Record>& rows);

  // Returns one "usage" record per (device, project, hour) touched, in no particular order.
  std::vector<model::Record> Records() const;

  // Calls `write` with the records of the rows added to since the last MarkWritten, at most
  // `batch` at a time: with stored = false those never stored (Load marks rows stored), then
  // with stored = true the others, as records with only the key, hour and sums set (`write` may
  // move them away). Stops at the first error.
  Status WriteChanged(
      size_t batch,
      const std::function<Status(std::vector<model::Record>&, bool stored)>& write) const;
  // The fields of "usage" a sample adds to (what an update of a stored row sets).
  static std::span<const int> SumFields();
  // Marks every row stored and unchanged (after ChangedRecords' rows were committed).
  void MarkWritten();
  size_t size() const { return rows_.size(); }
  void Clear() { rows_.clear(); }

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
    double allocated = 0, gpu_equivalent = 0, active = kUnknown, idle = 0, memory = kUnknown,
           energy = kUnknown;
    int64_t samples = 0;
    bool stored = false;   // a row with this key is in the store
    bool changed = false;  // added to since the last MarkWritten
  };
  // The row as a "usage" record; with `sums_only` only the key, hour and sums (what an update of
  // a stored row sets).
  model::Record ToRecord(const std::string& key, const Row& row, bool sums_only) const;
  void AddUnit(const Snapshot& snap, const GpuEntry& gpu, const std::string& device_key,
               const DeviceReadings& readings, double share, const std::vector<Holder>& holders,
               double energy_joules, Timestamp hour, std::string_view hour_text,
               double step_seconds);

  std::unordered_map<std::string, Row> rows_;
};

}  // namespace aitelemetry::collect
