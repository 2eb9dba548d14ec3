#include "sim/history.h"

#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "sim/text_format_checker.h"
#include "sim/truth.h"

namespace aitelemetry::sim {
namespace {

using std::chrono::hours;
using std::chrono::seconds;
using testing_support::Sample;

const Timestamp kT0 = Timestamp(seconds(1'767'225'600));  // 2026-01-01T00:00:00Z

Fleet MakeFleet(FleetOptions options) {
  auto fleet = BuildFleet(options);
  EXPECT_TRUE(fleet.has_value());
  return *fleet;
}

std::string History(const Fleet& fleet, Timestamp from, Timestamp to, Nanos step) {
  std::ostringstream out;
  EXPECT_TRUE(WriteHistory(fleet, from, to, step, out).has_value());
  return out.str();
}

// Checks OpenMetrics structure: typed contiguous families, contiguous series with increasing
// timestamps, "# EOF" last. Returns the samples.
std::vector<Sample> CheckOpenMetrics(std::string_view text) {
  EXPECT_TRUE(text.ends_with("\n# EOF\n"));
  std::vector<Sample> samples;
  std::set<std::string> families;
  std::set<std::string> finished_series;
  std::string family;
  std::string current_series;
  double last_ts = -1;
  bool eof = false;
  for (std::string_view line : testing_support::Lines(text)) {
    EXPECT_FALSE(eof) << "text after # EOF";
    if (line == "# EOF") {
      eof = true;
      continue;
    }
    if (line.starts_with("# HELP ")) continue;
    if (line.starts_with("# TYPE ")) {
      const std::string_view rest = line.substr(7);
      family = std::string(rest.substr(0, rest.find(' ')));
      EXPECT_EQ(rest.substr(rest.find(' ') + 1), "gauge") << line;
      EXPECT_TRUE(families.insert(family).second) << family;
      continue;
    }
    Sample s;
    EXPECT_TRUE(testing_support::ParseSampleLine(line, &s)) << line;
    EXPECT_EQ(s.name, family);
    EXPECT_TRUE(s.has_timestamp) << line;
    const std::string series(line.substr(0, line.find('}') + 1));
    if (series != current_series) {
      if (!current_series.empty()) finished_series.insert(current_series);
      EXPECT_FALSE(finished_series.count(series)) << "series not contiguous: " << series;
      current_series = series;
      last_ts = -1;
    }
    EXPECT_GT(s.timestamp, last_ts) << line;
    last_ts = s.timestamp;
    samples.push_back(std::move(s));
  }
  EXPECT_TRUE(eof);
  return samples;
}

TEST(History, RejectsBadWindows) {
  const Fleet fleet = MakeFleet({.seed = 1, .gpus = 8});
  std::ostringstream out;
  EXPECT_EQ(WriteHistory(fleet, kT0, kT0 + hours(1), Nanos::zero(), out).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(WriteHistory(fleet, kT0, kT0, seconds(60), out).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(WriteHistory(fleet, kT0, kT0 + hours(24 * 365), seconds(1), out).error().code,
            ErrorCode::kInvalidArgument);
}

TEST(History, StructureAndExactAllocatedSeconds) {
  const Fleet fleet = MakeFleet({.seed = 7, .gpus = 16, .mig_fraction = 0.5});
  const Timestamp from = kT0 + seconds(90);
  const Timestamp to = kT0 + hours(3);
  const std::string text = History(fleet, from, to, seconds(30));
  EXPECT_EQ(text, History(fleet, from, to, seconds(30)));
  std::map<std::string, double> by_namespace_cluster;
  std::set<std::string> families;
  for (const Sample& s : CheckOpenMetrics(text)) {
    families.insert(s.name);
    EXPECT_TRUE(s.HasLabel("cluster"));
    if (s.name != "kube_pod_container_resource_requests") continue;
    const std::string resource = s.Label("resource");
    const double share = resource == "nvidia_com_gpu" ? 1.0 : (resource[15] - '0') / 7.0;
    by_namespace_cluster[s.Label("cluster") + "/" + s.Label("namespace")] += share * s.value * 30;
  }
  EXPECT_EQ(families.size(), 14u);
  const auto truth = GpuSecondsByProject(fleet, from, to);
  for (size_t p = 0; p < truth.size(); ++p) {
    const Project& project = fleet.projects[p];
    const std::string key = fleet.clusters[project.cluster].name + "/" + project.ns;
    EXPECT_NEAR(by_namespace_cluster[key], truth[p], 1e-6) << key;
  }
}

}  // namespace
}  // namespace aitelemetry::sim
