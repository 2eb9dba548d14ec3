#include "sim/series.h"

#include <charconv>

namespace aitelemetry::sim {

const std::array<FamilyInfo, kDcgmFieldCount>& DcgmFamilies() {
  static const std::array<FamilyInfo, kDcgmFieldCount> kFamilies = {{
      {"DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %)."},
      {"DCGM_FI_DEV_SM_CLOCK", "gauge", "SM clock frequency (in MHz)."},
      {"DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C)."},
      {"DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W)."},
      {"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "counter",
       "Total energy consumption since boot (in mJ)."},
      {"DCGM_FI_DEV_XID_ERRORS", "gauge", "Value of the last XID error encountered."},
      {"DCGM_FI_DEV_FB_FREE", "gauge", "Framebuffer memory free (in MiB)."},
      {"DCGM_FI_DEV_FB_USED", "gauge", "Framebuffer memory used (in MiB)."},
      {"DCGM_FI_PROF_GR_ENGINE_ACTIVE", "gauge", "Ratio of time the graphics engine is active."},
      {"DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", "gauge",
       "Ratio of cycles the tensor (HMMA) pipe is active."},
      {"DCGM_FI_PROF_DRAM_ACTIVE", "gauge",
       "Ratio of cycles the device memory interface is active sending or receiving data."},
  }};
  return kFamilies;
}

void AppendEscaped(std::string_view value, std::string* out) {
  if (value.find_first_of("\\\"\n") == std::string_view::npos) {
    out->append(value);
    return;
  }
  for (char c : value) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '"':
        out->append("\\\"");
        break;
      case '\n':
        out->append("\\n");
        break;
      default:
        out->push_back(c);
    }
  }
}

void AppendLabel(std::string_view name, std::string_view value, std::string* out, bool first) {
  if (!first) out->push_back(',');
  out->append(name);
  out->append("=\"");
  AppendEscaped(value, out);
  out->push_back('"');
}

void AppendInt(int64_t value, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out->append(buf, end);
}

void AppendDouble(double value, std::string* out) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out->append(buf, end);
}

void AppendDeviceLabels(const Fleet& fleet, int unit, std::string* out) {
  const Unit& u = fleet.units[unit];
  const Gpu& gpu = fleet.gpus[u.gpu];
  const Node& node = fleet.nodes[gpu.node];
  const Cluster& cluster = fleet.clusters[node.cluster];
  char index[8];
  auto [end, ec] = std::to_chars(index, index + sizeof(index), gpu.index);
  const std::string_view index_text(index, static_cast<size_t>(end - index));
  AppendLabel("gpu", index_text, out, /*first=*/true);
  AppendLabel("UUID", gpu.uuid, out);
  AppendLabel("pci_bus_id", gpu.pci_bus_id, out);
  out->append(",device=\"nvidia");
  out->append(index_text);
  out->push_back('"');
  AppendLabel("modelName", GpuModels()[node.model].model_name, out);
  if (u.slice >= 0) {
    const Slice& slice = fleet.slices[u.slice];
    AppendLabel("GPU_I_PROFILE", slice.profile.name, out);
    out->append(",GPU_I_ID=\"");
    AppendInt(slice.gpu_i_id, out);
    out->push_back('"');
  }
  AppendLabel(cluster.old_hostname ? "Hostname" : "hostname", node.name, out);
  AppendLabel("DCGM_FI_DRIVER_VERSION", cluster.driver_version, out);
}

void AppendWorkloadLabels(const Fleet& fleet, int cluster, const Holding& holding,
                          std::string* out) {
  const bool exported = fleet.clusters[cluster].exported_labels;
  AppendLabel(exported ? "exported_namespace" : "namespace", fleet.projects[holding.project].ns,
              out);
  out->append(exported ? ",exported_pod=\"" : ",pod=\"");
  AppendPodName(holding, out);
  out->push_back('"');
  AppendLabel(exported ? "exported_container" : "container", ContainerName(holding.kind), out);
}

void AppendDcgmValue(DcgmField field, const UnitSignals& u, const GpuSignals& g, double energy_mj,
                     std::string* out) {
  switch (field) {
    case DcgmField::kGpuUtil:
      AppendInt(static_cast<int64_t>(u.gr_engine_active * 100.0 + 0.5), out);
      break;
    case DcgmField::kSmClock:
      AppendInt(g.sm_clock_mhz, out);
      break;
    case DcgmField::kGpuTemp:
      AppendInt(g.temp_c, out);
      break;
    case DcgmField::kPowerUsage:
      AppendDouble(g.power_watts, out);
      break;
    case DcgmField::kTotalEnergy:
      AppendInt(static_cast<int64_t>(energy_mj), out);
      break;
    case DcgmField::kXidErrors:
      AppendInt(g.xid, out);
      break;
    case DcgmField::kFbFree:
      AppendInt(u.fb_total_mib - u.fb_used_mib, out);
      break;
    case DcgmField::kFbUsed:
      AppendInt(u.fb_used_mib, out);
      break;
    case DcgmField::kGrEngineActive:
      AppendDouble(u.gr_engine_active, out);
      break;
    case DcgmField::kTensorActive:
      AppendDouble(u.tensor_active, out);
      break;
    case DcgmField::kDramActive:
      AppendDouble(u.dram_active, out);
      break;
  }
}

void AppendResourceName(const Fleet& fleet, int unit, std::string* out) {
  const Unit& u = fleet.units[unit];
  if (u.slice < 0) {
    out->append("nvidia_com_gpu");
    return;
  }
  out->append("nvidia_com_mig_");
  for (char c : fleet.slices[u.slice].profile.name) out->push_back(c == '.' ? '_' : c);
}

}  // namespace aitelemetry::sim
