// Which alerts are GPU sessions, and the one span a finished session becomes.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/time.h"
#include "trace/alertmanager.h"
#include "trace/otlp_json.h"
#include "trace/session_identity.h"

namespace aitelemetry::trace {

// The session rules shipped in deploy/prometheus/gpu-rules.yaml: the default of
// alerts.session_alerts.
inline constexpr std::array<std::string_view, 2> kDefaultSessionAlerts = {"GpuWorkloadActive",
                                                                          "GpuSliceWorkloadActive"};

// Returns true when the alert's `alertname` label is one of `session_alerts` (exact match); other
// alerts are health events.
bool IsSessionAlert(const Alert& alert, std::span<const std::string> session_alerts);

// What is known about a session beyond its key. Unset / empty fields are left out of the span.
struct SessionDetails {
  std::string gpu_model;    // the alert's modelName label
  std::string mig_profile;  // the alert's GPU_I_PROFILE label, e.g. "3g.40gb"
  std::optional<double> active_seconds;
  std::optional<double> energy_joules;
  std::optional<int64_t> memory_peak_bytes;
};

// Returns the details the alert's labels carry (model and MIG profile); usage totals stay unset.
SessionDetails DetailsFromLabels(const LabelSet& labels);

// Name of every session span.
inline constexpr char kSessionSpanName[] = "gpu.session";

// Builds the span of a session: ids from `identity` (TraceIdFor/SpanIdFor), start = starts_at,
// end = `end` (the resolved alert's endsAt), kind INTERNAL, status unset, and attributes
// k8s.cluster.name, k8s.namespace.name, k8s.pod.name, [k8s.container.name], gpu.uuid,
// [gpu.mig.instance_id], [gpu.model], [gpu.mig.profile], [gpu.active_seconds],
// [gpu.energy_joules], [gpu.memory.peak_bytes] in that order ([] = only when set).
// Requires: end >= identity.starts_at.
SpanRecord MakeSessionSpan(const SessionKey& key, const AlertIdentity& identity, Timestamp end,
                           const SessionDetails& details);

}  // namespace aitelemetry::trace
