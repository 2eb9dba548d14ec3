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
//   observed_seconds       += step / k                      (the time the sample covers)
// Completeness (GapTracker): when a device's next sample comes later than its last one covered,
// the time between is unobserved: never counted as held, active or idle, but added to
// unobserved_seconds of the hours it falls in. It is charged to the project(s) holding the device
// when the same projects hold it on both sides of the gap (their holding was known to go on),
// else to the device's unallocated row.
// A unit without holders adds to the row whose project is null (unallocated time): its
// allocated, GPU-equivalent and idle seconds stay 0; activity, memory and energy still count.
// A sum no sample could contribute to stays null (unknown), never zero.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
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

// Where each device's samples left time uncovered. Memory: 32 bytes and a hash entry per device.
class GapTracker {
 public:
  struct Gap {
    Timestamp from, to;         // the uncovered time [from, to)
    bool same_holders = false;  // the projects holding the device before and after it agree
  };
  // Records that `device_key` was sampled at t, covering [t, t + step), held by projects whose
  // names hash to `holders` (HoldersHash); returns the uncovered time between the end of its
  // previous sample and t, if any. Asking again for the same t (a sync retried after its
  // transaction failed) gives the same answer.
  std::optional<Gap> Seen(std::string_view device_key, uint64_t holders, Timestamp t, Nanos step);
  // Forgets every device (after history was rebuilt around a gap, nothing is missing).
  void Clear() {
    last_.clear();
    found_.clear();
  }

  // A gap as the usage rows charged it, for a "gap" row.
  struct Found {
    std::string device_key, cluster, node;
    std::string project;  // the (first) holder charged; empty: unallocated time
    Timestamp from, to;
  };
  void AddFound(Found f) { found_.push_back(std::move(f)); }
  // Returns the gaps found since the last call (or Clear) and forgets them.
  std::vector<Found> TakeFound() { return std::exchange(found_, {}); }

  // A hash of the projects (namespaces) holding a unit, in order; 0 for none.
  static uint64_t HoldersHash(const std::vector<Holder>& holders);

 private:
  struct Coverage {
    int64_t t = 0, end = 0;  // the last sample and the end of what it covers (Unix nanos)
    uint64_t holders = 0;
    int64_t before_end = 0;  // the coverage before it (what a repeat of `t` is measured from)
    uint64_t before_holders = 0;
    bool has_before = false;
  };
  std::unordered_map<uint64_t, Coverage> last_;  // by hash of the device key
  std::vector<Found> found_;
};

// The "gap" records of `found` for hub `hub`, each with `cause`.
std::vector<model::Record> GapRecords(const std::string& hub,
                                      const std::vector<GapTracker::Found>& found,
                                      std::string_view cause);

// What samples add to one usage row. NaN: unknown (no sample could contribute).
struct UsageSums {
  double allocated = 0, gpu_equivalent = 0, active = kUnknown, idle = 0, memory = kUnknown,
         energy = kUnknown, observed = 0, unobserved = 0;
  int64_t samples = 0;
  // Adds `o` field by field; an unknown sum plus a known one is the known one.
  void Add(const UsageSums& o);
};

// Calls `emit` with one "usage" record per device (GPU or slice) and project that the sample
// `snap` taken at `t` adds to, holding as its sums what this one sample adds (with every
// descriptive field set), unit after unit, never the same key twice: what
// Writer::UpsertAdding(usage, records, UsageAccumulator::SumFields()) adds to the stored hour.
// `energy` and `gaps` as in UsageAccumulator::Add; the unobserved time of a gap adds to rows of
// the hours it falls in (earlier hours than t's among them). Stops at the first error `emit`
// returns.
Status ForEachUsageRow(const Snapshot& snap, Timestamp t, Nanos step, EnergyTracker* energy,
                       GapTracker* gaps, const std::function<Status(model::Record&&)>& emit);

class UsageAccumulator {
 public:
  // Adds the sample `snap` taken at `t` standing for [t, t + step). `energy` may be null (energy
  // then comes from power alone); `gaps` may be null (no unobserved time is found).
  void Add(const Snapshot& snap, Timestamp t, Nanos step, EnergyTracker* energy,
           GapTracker* gaps = nullptr);

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
