// Alertmanager webhook payloads (version "4"): parsing and validation of the body that Alertmanager
// POSTs to a webhook receiver, into typed values the trace worker can store and act on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"

namespace aitelemetry::trace {

// A label or annotation set. Ordered, so that iteration (and anything derived from it) is stable.
using LabelSet = std::map<std::string, std::string>;

enum class AlertStatus { kFiring, kResolved };

// Returns "firing" or "resolved".
std::string_view AlertStatusName(AlertStatus status);

// One alert of a webhook notification.
struct Alert {
  AlertStatus status = AlertStatus::kFiring;
  LabelSet labels;
  LabelSet annotations;
  Timestamp starts_at;
  // Unset while the alert fires: Alertmanager sends Go's zero time "0001-01-01T00:00:00Z" then. A
  // firing alert may also carry a future endsAt (its resolve timeout); only a resolved alert's
  // endsAt is the time it stopped.
  std::optional<Timestamp> ends_at;
  std::string generator_url;
  // Alertmanager's hash of the label set; with starts_at it identifies one occurrence of an alert.
  // Never empty after parsing.
  std::string fingerprint;
};

// The whole webhook body.
struct WebhookPayload {
  std::string version;  // always "4" after parsing
  std::string receiver;
  AlertStatus status = AlertStatus::kFiring;  // "resolved" only when every alert is resolved
  std::vector<Alert> alerts;
  LabelSet group_labels;
  LabelSet common_labels;
  LabelSet common_annotations;
  std::string external_url;
  std::string group_key;
  // How many alerts Alertmanager left out because of the receiver's max_alerts; they are not lost
  // to Alertmanager and come again in a later notification.
  int64_t truncated_alerts = 0;
};

// The most nested objects/arrays a body may have; a version-4 payload needs 3.
inline constexpr int kMaxWebhookDepth = 16;

// Parses and validates a webhook body. Fields Alertmanager always sends are required (version,
// status, alerts, and each alert's status, labels, startsAt and fingerprint); the others may be
// absent or null but must have the right type when present. Unknown keys are ignored, as
// Alertmanager may add fields.
// Errors:
//   kPayloadTooLarge when body.size() > max_body_bytes (checked before parsing);
//   kInvalidArgument for malformed JSON, a duplicated object key, nesting deeper than
//   kMaxWebhookDepth, a version other than "4", or a missing or ill-typed field; the message names
//   the field, e.g. "alerts[2].startsAt: not an RFC 3339 time: \"yesterday\"".
[[nodiscard]] Result<WebhookPayload> ParseWebhook(std::string_view body, size_t max_body_bytes);

}  // namespace aitelemetry::trace
