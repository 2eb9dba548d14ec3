// Who a GPU session belongs to (from an alert's labels) and which occurrence of an alert it is
// (fingerprint + startsAt), with the trace and span ids derived deterministically from the latter
// so that a resent notification exports the very same span.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/time.h"
#include "trace/alertmanager.h"

namespace aitelemetry::trace {

// The workload and device a session is about. namespace_, pod and gpu_uuid are never empty in a key
// returned by SessionKeyFromLabels; container and gpu_i_id may be ("" = whole pod / whole GPU).
struct SessionKey {
  std::string cluster;
  std::string namespace_;
  std::string pod;
  std::string container;
  std::string gpu_uuid;
  std::string gpu_i_id;  // the MIG GPU instance id; "" for a whole GPU

  // Returns a stable, unambiguous text key: the six fields in the order above, joined by '/', with
  // '%' and '/' in a field percent-encoded ("%25", "%2F"). Equal keys give equal strings and
  // different keys different strings.
  std::string StableKey() const;

  friend bool operator==(const SessionKey&, const SessionKey&) = default;
};

// Builds the key from an alert's labels. Each field takes the first non-empty label of:
//   cluster:   cluster, else `default_cluster` (the hub's default)
//   namespace: namespace, exported_namespace
//   pod:       pod, exported_pod
//   container: container, exported_container (optional)
//   gpu_uuid:  UUID, gpu_uuid
//   gpu_i_id:  GPU_I_ID (optional)
// Errors: kInvalidArgument naming the missing label when the cluster (with no default), namespace,
// pod or GPU UUID is absent, e.g. "labels: no namespace or exported_namespace".
[[nodiscard]] Result<SessionKey> SessionKeyFromLabels(const LabelSet& labels,
                                                      std::string_view default_cluster);

// One occurrence of an alert: Alertmanager keeps the fingerprint for the label set and the startsAt
// for as long as the alert keeps firing, so the pair names one session across resends.
struct AlertIdentity {
  std::string fingerprint;
  Timestamp starts_at;

  // Returns "{fingerprint}@{starts_at as nanoseconds since the epoch}", for idempotency keys.
  std::string Key() const;

  friend bool operator==(const AlertIdentity&, const AlertIdentity&) = default;
};

// Returns the identity of `alert`.
AlertIdentity IdentityOf(const Alert& alert);

using TraceId = std::array<uint8_t, 16>;
using SpanId = std::array<uint8_t, 8>;

// Derive W3C/OTLP ids from SHA-256 over a domain tag and the identity, so the same identity always
// gives the same ids and trace and span ids are independent. Never all-zero (an invalid id in W3C
// Trace Context and OTLP): the last byte is forced to 1 in that (2^-64-unlikely) case.
TraceId TraceIdFor(const AlertIdentity& identity);
SpanId SpanIdFor(const AlertIdentity& identity);

// Returns lower-case hex of `bytes` (2 characters per byte).
std::string ToHex(std::span<const uint8_t> bytes);

// Parse exactly 32 / 16 hex digits (either case). Errors: kInvalidArgument for a wrong length, a
// non-hex character, or an all-zero id.
[[nodiscard]] Result<TraceId> ParseTraceIdHex(std::string_view hex);
[[nodiscard]] Result<SpanId> ParseSpanIdHex(std::string_view hex);

}  // namespace aitelemetry::trace
