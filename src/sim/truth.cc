#include "sim/truth.h"

#include <algorithm>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "sim/workload.h"

namespace aitelemetry::sim {
namespace {

// Nanoseconds times sevenths of a GPU overflow int64 after ~15 GPU-days; a 128-bit sum does not.
__extension__ using Int128 = __int128;

}  // namespace

std::vector<double> GpuSecondsByProject(const Fleet& fleet, Timestamp from, Timestamp to) {
  std::vector<Int128> sums(fleet.projects.size(), 0);
  if (from < to) {
    const int64_t from_ns = from.time_since_epoch().count();
    const int64_t to_ns = to.time_since_epoch().count();
    const int64_t first_slot = SlotIndex(fleet, from);
    const int64_t end_slot = SlotIndex(fleet, to) + 1;
    for (int u = 0; u < static_cast<int>(fleet.units.size()); ++u) {
      const int sevenths = fleet.units[u].compute_sevenths;
      for (const Holding& h : HoldingsBetween(fleet, u, first_slot, end_slot)) {
        const int64_t a =
            std::max(from_ns, SlotStart(fleet, h.start_slot).time_since_epoch().count());
        const int64_t b = std::min(to_ns, SlotStart(fleet, h.end_slot).time_since_epoch().count());
        if (b > a) sums[h.project] += static_cast<Int128>(b - a) * sevenths;
      }
    }
  }
  std::vector<double> seconds(sums.size());
  for (size_t p = 0; p < sums.size(); ++p) {
    // Whole seconds exactly, then the remainder; avoids losing precision on large sums.
    const Int128 whole = sums[p] / 7'000'000'000;
    const Int128 rest = sums[p] % 7'000'000'000;
    seconds[p] = static_cast<double>(whole) + static_cast<double>(rest) / 7e9;
  }
  return seconds;
}

std::string RenderTruthJson(const Fleet& fleet, Timestamp from, Timestamp to, bool history_mode) {
  using nlohmann::ordered_json;
  ordered_json doc;
  doc["seed"] = fleet.options.seed;
  doc["slot_seconds"] =
      std::chrono::duration_cast<std::chrono::seconds>(fleet.options.slot).count();
  if (history_mode) {
    doc["from"] = FormatRfc3339(from);
    doc["to"] = FormatRfc3339(to);
  }
  ordered_json hubs = ordered_json::array();
  for (const Hub& hub : fleet.hubs) hubs.push_back(hub.name);
  doc["hubs"] = std::move(hubs);

  ordered_json clusters = ordered_json::array();
  for (const Cluster& c : fleet.clusters) {
    clusters.push_back({{"hub", fleet.hubs[c.hub].name}, {"name", c.name}});
  }
  doc["clusters"] = std::move(clusters);

  ordered_json nodes = ordered_json::array();
  ordered_json gpus = ordered_json::array();
  ordered_json slices = ordered_json::array();
  for (const Cluster& c : fleet.clusters) {
    const std::string& hub = fleet.hubs[c.hub].name;
    for (int n : c.nodes) {
      const Node& node = fleet.nodes[n];
      const GpuModel& model = GpuModels()[node.model];
      nodes.push_back(
          {{"hub", hub}, {"cluster", c.name}, {"name", node.name}, {"model", model.model_name}});
      for (int g : node.gpus) {
        const Gpu& gpu = fleet.gpus[g];
        gpus.push_back({{"hub", hub},
                        {"cluster", c.name},
                        {"node", node.name},
                        {"uuid", gpu.uuid},
                        {"model", model.model_name},
                        {"mig", gpu.mig}});
        for (int s : gpu.slices) {
          const Slice& slice = fleet.slices[s];
          slices.push_back({{"gpu_uuid", gpu.uuid},
                            {"gpu_i_id", slice.gpu_i_id},
                            {"profile", slice.profile.name}});
        }
      }
    }
  }
  doc["nodes"] = std::move(nodes);
  doc["gpus"] = std::move(gpus);
  doc["slices"] = std::move(slices);

  ordered_json projects = ordered_json::array();
  for (const Project& p : fleet.projects) {
    const Cluster& c = fleet.clusters[p.cluster];
    projects.push_back({{"hub", fleet.hubs[c.hub].name}, {"cluster", c.name}, {"namespace", p.ns}});
  }
  doc["projects"] = std::move(projects);

  ordered_json by_project = ordered_json::object();
  const std::vector<double> seconds = GpuSecondsByProject(fleet, from, to);
  for (size_t p = 0; p < seconds.size(); ++p) {
    by_project[ProjectKey(fleet, static_cast<int>(p))] = seconds[p];
  }
  doc["gpu_seconds_by_project"] = std::move(by_project);
  return doc.dump(2) + "\n";
}

}  // namespace aitelemetry::sim
