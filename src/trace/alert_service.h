// The durable half of the Alertmanager webhook: one delivery becomes inbox rows, GPU sessions
// opened or closed, health events, and one span per finished session queued in the outbox, all in
// one store transaction, so that answering 200 means every effect is stored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "store/store.h"
#include "trace/otlp_json.h"

namespace aitelemetry::trace {

// Registry names of the internal models this file writes (never served by the API).
inline constexpr char kAlertInboxModel[] = "alert-inbox";
inline constexpr char kSpanOutboxModel[] = "span-outbox";

// The `kind` of the outbox row that exports a finished session's span.
inline constexpr char kOutboxKindEnd[] = "end";

// Outbox row states.
inline constexpr char kOutboxPending[] = "pending";
inline constexpr char kOutboxSent[] = "sent";
inline constexpr char kOutboxDead[] = "dead";

// Session row states.
inline constexpr char kSessionOpen[] = "open";
inline constexpr char kSessionClosed[] = "closed";

struct AlertOptions {
  // alertname values that are GPU sessions (alerts.session_alerts); the others are health events.
  // Empty: kDefaultSessionAlerts.
  std::vector<std::string> session_alerts;
  // Hub and cluster of alerts whose labels do not name them (labels `hub` and `cluster` win).
  std::string default_hub;
  std::string default_cluster;
  size_t max_body_bytes = 4 << 20;
  // Resource of the exported spans (service.version and extras).
  ResourceInfo resource;
};

// Checks the options: default_hub must be set and max_body_bytes positive. Errors:
// kInvalidArgument naming the option ("alerts.default_hub").
[[nodiscard]] Status ValidateAlertOptions(const AlertOptions& options);

// What one delivery changed. Counts are of alerts in the body unless said otherwise.
struct IngestResult {
  int64_t alerts = 0;            // alerts in the body
  int64_t new_alerts = 0;        // identities not seen before (new inbox rows)
  int64_t resolutions = 0;       // known firing identities now resolved
  int64_t unchanged = 0;         // replays and repeat notifications: nothing written
  int64_t sessions_opened = 0;   // session rows created open
  int64_t sessions_closed = 0;   // session rows closed (including created already closed)
  int64_t spans_enqueued = 0;    // outbox rows added
  int64_t health_events = 0;     // health-event rows written or ended
  int64_t not_applied = 0;       // stored in the inbox with processed=false (missing labels)
  int64_t truncated_alerts = 0;  // the body's truncatedAlerts (Alertmanager resends them)
};

// Applies Alertmanager webhook deliveries to the store. Thread-safe as far as the store is: calls
// may run concurrently (SQLite serialises write transactions; on PostgreSQL each ingest takes a
// transaction-scoped advisory lock, so two deliveries of the same alert from an Alertmanager HA
// pair cannot both see it as new).
class AlertService {
 public:
  // Requires: ValidateAlertOptions(options) succeeded; `store` outlives the service.
  AlertService(store::Store& store, AlertOptions options);

  // Parses `body` (ParseWebhook with max_body_bytes) and applies every alert in one transaction:
  //  - the inbox row keyed by fingerprint@startsAt is created on first sight; a resolved delivery
  //    of a firing identity updates it; any other delivery of a known identity (a replay, a repeat
  //    notification, a firing after its resolution) writes nothing;
  //  - a session alert opens a `session` row when firing, or closes it when resolved (a resolved
  //    alert never seen firing creates a closed session starting at its startsAt); closing fills
  //    the usage totals (SessionUsage) and enqueues exactly one outbox row, keyed by the span id,
  //    holding the encoded OTLP request;
  //  - any other alert becomes a `health-event` row of kind "alert" (ended when resolved);
  //  - an alert whose labels cannot name its session or cluster is kept in the inbox with
  //    processed=false and the reason, and counted in not_applied; it does not fail the delivery.
  // The body's reads and writes are batched (a few queries, one upsert per model) with the effect
  // of applying its alerts one by one in body order. `received_at` is stored as the inbox row's
  // received time.
  // Errors: ParseWebhook's (kPayloadTooLarge, kInvalidArgument) with nothing stored; the store's
  // (kUnavailable, kInternal, ...) with the transaction rolled back, so nothing is stored either
  // and Alertmanager's retry applies the delivery whole.
  [[nodiscard]] Result<IngestResult> Ingest(std::string_view body, Timestamp received_at);

 private:
  store::Store& store_;
  AlertOptions options_;
};

}  // namespace aitelemetry::trace
