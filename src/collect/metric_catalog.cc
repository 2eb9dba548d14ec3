#include "collect/metric_catalog.h"

#include <array>
#include <cctype>
#include <cmath>
#include <limits>

namespace aitelemetry::collect {
namespace {

struct Stem {
  std::string_view name;
  Signal signal;
  double legacy_scale;
  double v49_scale;
};

constexpr double kMiB = 1024.0 * 1024.0;

constexpr std::array<Stem, 15> kStems = {{
    {"DCGM_FI_DEV_GPU_UTIL", Signal::kGpuUtil, 0.01, 1},
    {"DCGM_FI_PROF_GR_ENGINE_ACTIVE", Signal::kGrEngineActive, 1, 1},
    {"DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", Signal::kTensorActive, 1, 1},
    {"DCGM_FI_PROF_DRAM_ACTIVE", Signal::kDramActive, 1, 1},
    {"DCGM_FI_DEV_FB_USED", Signal::kFbUsed, kMiB, 1},
    {"DCGM_FI_DEV_FB_FREE", Signal::kFbFree, kMiB, 1},
    {"DCGM_FI_DEV_FB_RESERVED", Signal::kFbReserved, kMiB, 1},
    {"DCGM_FI_DEV_POWER_USAGE", Signal::kPower, 1, 1},
    {"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", Signal::kEnergy, 0.001, 1},
    {"DCGM_FI_DEV_GPU_TEMP", Signal::kTemperature, 1, 1},
    {"DCGM_FI_DEV_SM_CLOCK", Signal::kSmClock, 1e6, 1},
    {"DCGM_FI_DEV_XID_ERRORS", Signal::kXid, 1, 1},
    {"DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", Signal::kRemappedRowsUncorrectable, 1, 1},
    {"DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", Signal::kRemappedRowsCorrectable, 1, 1},
    {"DCGM_FI_DEV_ROW_REMAP_FAILURE", Signal::kRowRemapFailure, 1, 1},
}};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) !=
        std::toupper(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// Returns the scale an explicit unit suffix sets for `signal`, or NaN when `suffix` is not a
// unit this signal can be written in.
double SuffixScale(Signal signal, std::string_view suffix) {
  auto is = [&](std::string_view s) { return EqualsIgnoreCase(suffix, s); };
  switch (signal) {
    case Signal::kSmClock:
      if (is("HZ") || is("HERTZ")) return 1;
      if (is("MHZ") || is("MEGAHERTZ")) return 1e6;
      break;
    case Signal::kEnergy:
      if (is("J") || is("JOULES") || is("JOULES_TOTAL") || is("TOTAL")) return 1;
      if (is("MJ") || is("MILLIJOULES") || is("MILLIJOULES_TOTAL")) return 0.001;
      break;
    case Signal::kGpuUtil:
    case Signal::kGrEngineActive:
    case Signal::kTensorActive:
    case Signal::kDramActive:
      if (is("RATIO")) return 1;
      if (is("PERCENT") || is("PCT")) return 0.01;
      break;
    case Signal::kFbUsed:
    case Signal::kFbFree:
    case Signal::kFbReserved:
      if (is("BYTES")) return 1;
      if (is("MIB") || is("MIBIBYTES")) return kMiB;
      break;
    case Signal::kPower:
      if (is("W") || is("WATTS")) return 1;
      break;
    case Signal::kTemperature:
      if (is("C") || is("CELSIUS")) return 1;
      break;
    default:
      if (is("TOTAL")) return 1;
      break;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

constexpr FamilyQuery kFamilies[] = {
    {"DCGM_FI_PROF_GR_ENGINE_ACTIVE", R"q({__name__=~"DCGM_FI_PROF_GR_ENGINE_ACTIVE(_.+)?"})q"},
    {"DCGM_FI_DEV_GPU_UTIL", R"q({__name__=~"DCGM_FI_DEV_GPU_UTIL(_.+)?"})q"},
    {"DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", R"q({__name__=~"DCGM_FI_PROF_PIPE_TENSOR_ACTIVE(_.+)?"})q"},
    {"DCGM_FI_PROF_DRAM_ACTIVE", R"q({__name__=~"DCGM_FI_PROF_DRAM_ACTIVE(_.+)?"})q"},
    {"DCGM_FI_DEV_FB_USED", R"q({__name__=~"DCGM_FI_DEV_FB_USED(_.+)?"})q"},
    {"DCGM_FI_DEV_FB_FREE", R"q({__name__=~"DCGM_FI_DEV_FB_FREE(_.+)?"})q"},
    {"DCGM_FI_DEV_FB_RESERVED", R"q({__name__=~"DCGM_FI_DEV_FB_RESERVED(_.+)?"})q"},
    {"DCGM_FI_DEV_POWER_USAGE", R"q({__name__=~"DCGM_FI_DEV_POWER_USAGE(_.+)?"})q"},
    {"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
     R"q({__name__=~"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION(_.+)?"})q"},
    {"DCGM_FI_DEV_GPU_TEMP", R"q({__name__=~"DCGM_FI_DEV_GPU_TEMP(_.+)?"})q"},
    {"DCGM_FI_DEV_SM_CLOCK", R"q({__name__=~"DCGM_FI_DEV_SM_CLOCK(_.+)?"})q"},
    {"DCGM_FI_DEV_XID_ERRORS", R"q({__name__=~"DCGM_FI_DEV_XID_ERRORS(_.+)?"})q"},
    {"DCGM_FI_DEV_REMAPPED_ROWS",
     R"q({__name__=~"DCGM_FI_DEV_(UNCORRECTABLE_REMAPPED_ROWS|CORRECTABLE_REMAPPED_ROWS|ROW_REMAP_FAILURE)(_.+)?"})q"},
    {"kube_node_labels", "kube_node_labels"},
    {"kube_pod_container_resource_requests",
     R"q(kube_pod_container_resource_requests{resource=~"nvidia_com_(gpu|mig_.+)"})q"},
};

}  // namespace

bool IsDeviceWide(Signal s) {
  switch (s) {
    case Signal::kPower:
    case Signal::kEnergy:
    case Signal::kTemperature:
    case Signal::kSmClock:
    case Signal::kXid:
    case Signal::kRemappedRowsUncorrectable:
    case Signal::kRemappedRowsCorrectable:
    case Signal::kRowRemapFailure:
      return true;
    default:
      return false;
  }
}

MetricInfo ClassifyMetric(std::string_view name) {
  if (name == "kube_node_labels") return {Signal::kKubeNodeLabels, 1, 1};
  if (name == "kube_pod_container_resource_requests") {
    return {Signal::kKubeResourceRequests, 1, 1};
  }
  for (const Stem& stem : kStems) {
    if (name.size() < stem.name.size() ||
        !EqualsIgnoreCase(name.substr(0, stem.name.size()), stem.name)) {
      continue;
    }
    if (name.size() == stem.name.size()) return {stem.signal, stem.legacy_scale, stem.v49_scale};
    if (name[stem.name.size()] != '_') continue;
    double scale = SuffixScale(stem.signal, name.substr(stem.name.size() + 1));
    if (std::isnan(scale)) return {};  // a suffix we cannot read: unknown rather than wrong
    return {stem.signal, scale, scale};
  }
  return {};
}

const FamilyQuery* FamilyQueries(int* count) {
  *count = static_cast<int>(std::size(kFamilies));
  return kFamilies;
}

double ComputeShareOfProfile(std::string_view profile) {
  size_t i = 0;
  int n = 0;
  while (i < profile.size() && i < 2 && std::isdigit(static_cast<unsigned char>(profile[i]))) {
    n = n * 10 + (profile[i] - '0');
    ++i;
  }
  if (i == 0 || i >= profile.size() || profile[i] != 'g' || n <= 0 || n > 7) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  return n / 7.0;
}

}  // namespace aitelemetry::collect
