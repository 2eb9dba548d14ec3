#include "collect/metric_catalog.h"

#include <cmath>

#include <gtest/gtest.h>

namespace aitelemetry::collect {
namespace {

TEST(MetricCatalog, ClassifiesNamesAndUnits) {
  struct Case {
    const char* name;
    Signal signal;
    double legacy, v49;
  };
  const Case cases[] = {
      {"DCGM_FI_DEV_SM_CLOCK", Signal::kSmClock, 1e6, 1},
      {"DCGM_FI_DEV_SM_CLOCK_HZ", Signal::kSmClock, 1, 1},
      {"DCGM_FI_DEV_SM_CLOCK_hertz", Signal::kSmClock, 1, 1},
      {"DCGM_FI_DEV_SM_CLOCK_MHZ", Signal::kSmClock, 1e6, 1e6},
      {"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", Signal::kEnergy, 0.001, 1},
      {"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION_joules_total", Signal::kEnergy, 1, 1},
      {"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION_MJ", Signal::kEnergy, 0.001, 0.001},
      {"DCGM_FI_DEV_GPU_UTIL", Signal::kGpuUtil, 0.01, 1},
      {"DCGM_FI_DEV_GPU_UTIL_ratio", Signal::kGpuUtil, 1, 1},
      {"DCGM_FI_DEV_FB_USED", Signal::kFbUsed, 1048576, 1},
      {"DCGM_FI_DEV_FB_USED_bytes", Signal::kFbUsed, 1, 1},
      {"DCGM_FI_DEV_FB_FREE_MiB", Signal::kFbFree, 1048576, 1048576},
      {"DCGM_FI_PROF_GR_ENGINE_ACTIVE", Signal::kGrEngineActive, 1, 1},
      {"DCGM_FI_DEV_XID_ERRORS", Signal::kXid, 1, 1},
      {"kube_node_labels", Signal::kKubeNodeLabels, 1, 1},
      {"kube_pod_container_resource_requests", Signal::kKubeResourceRequests, 1, 1},
      // Unknown: other series, a stem with an unreadable suffix, a stem prefix without '_'.
      {"up", Signal::kUnknown, 1, 1},
      {"DCGM_FI_DEV_SM_CLOCK_furlongs", Signal::kUnknown, 1, 1},
      {"DCGM_FI_DEV_SM_CLOCKX", Signal::kUnknown, 1, 1},
      {"DCGM_FI_DEV_GPU_UTIL_HZ", Signal::kUnknown, 1, 1},
      {"", Signal::kUnknown, 1, 1},
  };
  for (const Case& c : cases) {
    MetricInfo info = ClassifyMetric(c.name);
    EXPECT_EQ(info.signal, c.signal) << c.name;
    if (c.signal == Signal::kUnknown) continue;
    EXPECT_DOUBLE_EQ(info.legacy_scale, c.legacy) << c.name;
    EXPECT_DOUBLE_EQ(info.v49_scale, c.v49) << c.name;
  }
}

TEST(MetricCatalog, ComputeShareFromProfile) {
  EXPECT_DOUBLE_EQ(ComputeShareOfProfile("3g.40gb"), 3.0 / 7);
  EXPECT_DOUBLE_EQ(ComputeShareOfProfile("1g.5gb"), 1.0 / 7);
  EXPECT_DOUBLE_EQ(ComputeShareOfProfile("7g.80gb"), 1.0);
  EXPECT_DOUBLE_EQ(ComputeShareOfProfile("1g.10gb+me"), 1.0 / 7);
  for (const char* bad : {"", "g.5gb", "8g.80gb", "0g.1gb", "3c.40gb", "3", "xg", "123g"}) {
    EXPECT_TRUE(std::isnan(ComputeShareOfProfile(bad))) << bad;
  }
}

}  // namespace
}  // namespace aitelemetry::collect
