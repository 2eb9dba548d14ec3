#include "sim/truth.h"

#include <map>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sim/exposition.h"
#include "sim/text_format_checker.h"

namespace aitelemetry::sim {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using testing_support::Sample;

const Timestamp kT0 = Timestamp(seconds(1'767'225'600));  // 2026-01-01T00:00:00Z

// Sums what a scraper would see: every 30 s, each kube request counts its GPU-equivalents for
// [t, t + 30 s), keyed like the truth. Independent of the truth code: it reads only exposition.
std::map<std::string, double> BruteForce(const Fleet& fleet, Timestamp from, Timestamp to) {
  std::map<std::string, double> sums;
  std::map<std::string, std::string> hub_of_cluster;
  for (const Cluster& c : fleet.clusters) hub_of_cluster[c.name] = fleet.hubs[c.hub].name;
  for (Timestamp t = from; t < to; t += seconds(30)) {
    for (const Hub& hub : fleet.hubs) {
      const std::string text = RenderExposition(fleet, hub.name, t);
      for (std::string_view line : testing_support::Lines(text)) {
        if (!line.starts_with("kube_pod_container_resource_requests{")) continue;
        Sample s;
        EXPECT_TRUE(testing_support::ParseSampleLine(line, &s));
        const std::string resource = s.Label("resource");
        const double share = resource == "nvidia_com_gpu" ? 1.0 : (resource[15] - '0') / 7.0;
        const std::string key = "HUB-" + hub_of_cluster[s.Label("cluster")] + "-CLUSTER-" +
                                s.Label("cluster") + "-PROJECT-" + s.Label("namespace");
        sums[key] += share * s.value * 30.0;
      }
    }
  }
  return sums;
}

TEST(Truth, IntegralEqualsBruteForceSumOfSamples) {
  struct Case {
    FleetOptions options;
    Timestamp from;
    Timestamp to;
  };
  const Case cases[] = {
      {{.seed = 1, .gpus = 16, .mig_fraction = 0.5}, kT0, kT0 + hours(4)},
      // Window edges inside slots (multiples of the 30 s step).
      {{.seed = 2, .gpus = 24, .mig_fraction = 0.3, .hubs = 2},
       kT0 + minutes(7) + seconds(30),
       kT0 + hours(3) + minutes(2) + seconds(30)},
  };
  for (const Case& c : cases) {
    auto fleet = BuildFleet(c.options);
    ASSERT_TRUE(fleet.has_value());
    const auto brute = BruteForce(*fleet, c.from, c.to);
    const std::vector<double> truth = GpuSecondsByProject(*fleet, c.from, c.to);
    double total = 0;
    for (size_t p = 0; p < truth.size(); ++p) {
      const std::string key = ProjectKey(*fleet, static_cast<int>(p));
      const auto it = brute.find(key);
      const double seen = it == brute.end() ? 0.0 : it->second;
      EXPECT_NEAR(truth[p], seen, 1e-6) << key;
      total += truth[p];
    }
    EXPECT_GT(total, 0);
    for (const auto& [key, value] : brute) {
      bool known = false;
      for (size_t p = 0; p < truth.size(); ++p)
        known |= ProjectKey(*fleet, static_cast<int>(p)) == key;
      EXPECT_TRUE(known) << key;
    }
  }
}

TEST(Truth, IntegralIsAdditive) {
  auto fleet = BuildFleet({.seed = 3, .gpus = 40, .mig_fraction = 0.4});
  ASSERT_TRUE(fleet.has_value());
  const Timestamp a = kT0 + seconds(1234);
  const Timestamp b = a + hours(5) + Nanos(123'456'789);
  const Timestamp c = b + hours(20);
  const auto ab = GpuSecondsByProject(*fleet, a, b);
  const auto bc = GpuSecondsByProject(*fleet, b, c);
  const auto ac = GpuSecondsByProject(*fleet, a, c);
  for (size_t p = 0; p < ac.size(); ++p) EXPECT_NEAR(ab[p] + bc[p], ac[p], 1e-6);
  for (double v : GpuSecondsByProject(*fleet, c, a)) EXPECT_EQ(v, 0.0);
}

TEST(Truth, JsonListsEntitiesAndWindow) {
  auto fleet = BuildFleet({.seed = 4, .gpus = 48, .mig_fraction = 0.5, .hubs = 2});
  ASSERT_TRUE(fleet.has_value());
  const Timestamp from = kT0;
  const Timestamp to = kT0 + hours(2);
  for (bool history : {false, true}) {
    const auto doc = nlohmann::json::parse(RenderTruthJson(*fleet, from, to, history));
    EXPECT_EQ(doc["hubs"].size(), fleet->hubs.size());
    EXPECT_EQ(doc["clusters"].size(), fleet->clusters.size());
    EXPECT_EQ(doc["nodes"].size(), fleet->nodes.size());
    EXPECT_EQ(doc["gpus"].size(), fleet->gpus.size());
    EXPECT_EQ(doc["slices"].size(), fleet->slices.size());
    EXPECT_EQ(doc["projects"].size(), fleet->projects.size());
    EXPECT_EQ(doc["gpu_seconds_by_project"].size(), fleet->projects.size());
    EXPECT_EQ(doc.contains("from"), history);
    EXPECT_EQ(doc.contains("to"), history);
    if (history) {
      EXPECT_EQ(doc["from"], "2026-01-01T00:00:00Z");
      EXPECT_EQ(doc["to"], "2026-01-01T02:00:00Z");
    }
    for (const auto& gpu : doc["gpus"]) {
      for (const char* key : {"hub", "cluster", "node", "uuid", "model", "mig"}) {
        EXPECT_TRUE(gpu.contains(key)) << key;
      }
    }
    for (const auto& slice : doc["slices"]) {
      for (const char* key : {"gpu_uuid", "gpu_i_id", "profile"}) EXPECT_TRUE(slice.contains(key));
    }
    const auto seconds = GpuSecondsByProject(*fleet, from, to);
    for (size_t p = 0; p < seconds.size(); ++p) {
      EXPECT_EQ(
          doc["gpu_seconds_by_project"][ProjectKey(*fleet, static_cast<int>(p))].get<double>(),
          seconds[p]);
    }
  }
  EXPECT_EQ(RenderTruthJson(*fleet, from, to, true), RenderTruthJson(*fleet, from, to, true));
}

}  // namespace
}  // namespace aitelemetry::sim
