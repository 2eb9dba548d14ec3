// The series the simulator emits, shared by the live exposition and the OpenMetrics history:
// family names and types, label sets written in the exporters' order, and value formatting.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sim/fleet.h"
#include "sim/workload.h"

namespace aitelemetry::sim {

// dcgm-exporter's default fields, in the order the simulator writes their families.
enum class DcgmField {
  kGpuUtil,         // %, whole GPUs only (absent on MIG instances)
  kSmClock,         // MHz
  kGpuTemp,         // degrees C
  kPowerUsage,      // W
  kTotalEnergy,     // mJ since boot (counter)
  kXidErrors,       // last XID code
  kFbFree,          // MiB
  kFbUsed,          // MiB
  kGrEngineActive,  // ratio
  kTensorActive,    // ratio
  kDramActive,      // ratio
};
inline constexpr int kDcgmFieldCount = 11;

struct FamilyInfo {
  std::string_view name;
  std::string_view type;  // "gauge" or "counter" (text format 0.0.4)
  std::string_view help;
};

// Family facts for each DcgmField, indexed by its value.
const std::array<FamilyInfo, kDcgmFieldCount>& DcgmFamilies();

// Whether the exporter writes `field` for `unit`: GPU utilisation is absent on MIG instances.
inline bool FieldApplies(DcgmField field, const Unit& unit) {
  return field != DcgmField::kGpuUtil || unit.slice < 0;
}

// Appends `value` escaped for a label value in the text format (backslash, quote, newline).
void AppendEscaped(std::string_view value, std::string* out);
// Appends `name="value"` (escaped), preceded by a comma unless `first`.
void AppendLabel(std::string_view name, std::string_view value, std::string* out,
                 bool first = false);

// Appends the exporter's device labels of `unit` without braces: gpu, UUID, pci_bus_id, device,
// modelName, GPU_I_PROFILE and GPU_I_ID on MIG instances, Hostname or hostname (by cluster),
// DCGM_FI_DRIVER_VERSION.
void AppendDeviceLabels(const Fleet& fleet, int unit, std::string* out);

// Appends ",namespace=..,pod=..,container=.." (or the exported_ spellings on clusters scraped
// with honor_labels=false) for a holding of a unit in `cluster`.
void AppendWorkloadLabels(const Fleet& fleet, int cluster, const Holding& holding,
                          std::string* out);

// Appends an integer / a double in the shortest text that reads back the same value.
void AppendInt(int64_t value, std::string* out);
void AppendDouble(double value, std::string* out);

// Appends the value of `field` for a unit with signals `u` on a GPU with signals `g` (and energy
// `energy_mj`, used only for kTotalEnergy).
void AppendDcgmValue(DcgmField field, const UnitSignals& u, const GpuSignals& g, double energy_mj,
                     std::string* out);

// The kube-state-metrics resource name a holding of `unit` requests: "nvidia_com_gpu" or, for a
// MIG slice (mixed strategy), e.g. "nvidia_com_mig_3g_40gb".
void AppendResourceName(const Fleet& fleet, int unit, std::string* out);

}  // namespace aitelemetry::sim
