#include "trace/session_span.h"

#include <algorithm>

namespace aitelemetry::trace {
namespace {

std::string LabelOr(const LabelSet& labels, const char* name) {
  auto it = labels.find(name);
  return it == labels.end() ? std::string() : it->second;
}

}  // namespace

bool IsSessionAlert(const Alert& alert, std::span<const std::string> session_alerts) {
  auto it = alert.labels.find("alertname");
  if (it == alert.labels.end()) return false;
  return std::find(session_alerts.begin(), session_alerts.end(), it->second) !=
         session_alerts.end();
}

SessionDetails DetailsFromLabels(const LabelSet& labels) {
  SessionDetails details;
  details.gpu_model = LabelOr(labels, "modelName");
  details.mig_profile = LabelOr(labels, "GPU_I_PROFILE");
  return details;
}

SpanRecord MakeSessionSpan(const SessionKey& key, const AlertIdentity& identity, Timestamp end,
                           const SessionDetails& details) {
  SpanRecord span;
  span.trace_id = TraceIdFor(identity);
  span.span_id = SpanIdFor(identity);
  span.name = kSessionSpanName;
  span.kind = SpanKind::kInternal;
  span.start = identity.starts_at;
  span.end = end;
  auto& a = span.attributes;
  a.push_back({kAttrClusterName, key.cluster});
  a.push_back({kAttrNamespaceName, key.namespace_});
  a.push_back({kAttrPodName, key.pod});
  if (!key.container.empty()) a.push_back({kAttrContainerName, key.container});
  a.push_back({kAttrGpuUuid, key.gpu_uuid});
  if (!key.gpu_i_id.empty()) a.push_back({kAttrGpuMigInstanceId, key.gpu_i_id});
  if (!details.gpu_model.empty()) a.push_back({kAttrGpuModel, details.gpu_model});
  if (!details.mig_profile.empty()) a.push_back({kAttrGpuMigProfile, details.mig_profile});
  if (details.active_seconds) a.push_back({kAttrGpuActiveSeconds, *details.active_seconds});
  if (details.energy_joules) a.push_back({kAttrGpuEnergyJoules, *details.energy_joules});
  if (details.memory_peak_bytes) {
    a.push_back({kAttrGpuMemoryPeakBytes, *details.memory_peak_bytes});
  }
  return span;
}

}  // namespace aitelemetry::trace
