#include "trace/session_span.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace aitelemetry::trace {
namespace {

std::vector<std::string> Keys(const SpanRecord& span) {
  std::vector<std::string> keys;
  for (const auto& a : span.attributes) keys.push_back(a.key);
  return keys;
}

TEST(IsSessionAlert, MatchesAlertnameExactly) {
  std::vector<std::string> names(kDefaultSessionAlerts.begin(), kDefaultSessionAlerts.end());
  struct Case {
    LabelSet labels;
    bool want;
  };
  const Case cases[] = {
      {{{"alertname", "GpuWorkloadActive"}}, true},
      {{{"alertname", "GpuSliceWorkloadActive"}}, true},
      {{{"alertname", "GpuXidError"}}, false},
      {{{"alertname", "gpuworkloadactive"}}, false},
      {{}, false},
  };
  for (const auto& c : cases) {
    Alert alert;
    alert.labels = c.labels;
    EXPECT_EQ(IsSessionAlert(alert, names), c.want);
  }
}

TEST(MakeSessionSpan, CarriesIdentityTimesAndAttributes) {
  AlertIdentity identity{"a1b2c3d4e5f60718", *ParseRfc3339("2026-11-01T10:15:30.123456789Z")};
  Timestamp end = *ParseRfc3339("2026-11-01T12:00:00.000000001Z");
  SessionKey whole{"c1", "ns", "p", "", "GPU-1", ""};
  SpanRecord span = MakeSessionSpan(whole, identity, end, {});
  EXPECT_EQ(span.trace_id, TraceIdFor(identity));
  EXPECT_EQ(span.span_id, SpanIdFor(identity));
  EXPECT_EQ(span.name, "gpu.session");
  EXPECT_EQ(span.start, identity.starts_at);
  EXPECT_EQ(span.end, end);
  EXPECT_EQ(Keys(span), (std::vector<std::string>{"k8s.cluster.name", "k8s.namespace.name",
                                                  "k8s.pod.name", "gpu.uuid"}));
  EXPECT_EQ(std::get<std::string>(span.attributes[0].value), "c1");

  SessionKey slice{"c1", "ns", "p", "k", "GPU-1", "3"};
  SessionDetails details =
      DetailsFromLabels({{"modelName", "NVIDIA H100 80GB HBM3"}, {"GPU_I_PROFILE", "3g.40gb"}});
  details.active_seconds = 12.5;
  details.energy_joules = 1000.0;
  details.memory_peak_bytes = int64_t{1} << 34;
  SpanRecord full = MakeSessionSpan(slice, identity, end, details);
  EXPECT_EQ(Keys(full),
            (std::vector<std::string>{"k8s.cluster.name", "k8s.namespace.name", "k8s.pod.name",
                                      "k8s.container.name", "gpu.uuid", "gpu.mig.instance_id",
                                      "gpu.model", "gpu.mig.profile", "gpu.active_seconds",
                                      "gpu.energy_joules", "gpu.memory.peak_bytes"}));
  EXPECT_EQ(std::get<std::string>(full.attributes[7].value), "3g.40gb");
  EXPECT_EQ(std::get<int64_t>(full.attributes[10].value), int64_t{1} << 34);
}

}  // namespace
}  // namespace aitelemetry::trace
