// Drains the span outbox into the OTLP collector: pending rows are exported oldest first, then
// marked sent, rescheduled with backoff, or dead-lettered, every outcome persisted.
//
// Delivery is at-least-once with deterministic ids. A row is marked only after the collector
// answered, so a crash (or a lost connection to the store) between a successful export and the
// mark leaves the row pending, and the next pass sends the very same body again: same trace id,
// same span id, same times. Nothing here can prevent that duplicate; a backend that keys spans by
// (trace id, span id) stores it once, and one that does not (the OpenTelemetry Collector itself
// passes duplicates on) shows it twice with identical ids, which a query can collapse.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "core/result.h"
#include "core/time.h"
#include "store/store.h"
#include "trace/otlp_exporter.h"

namespace aitelemetry::trace {

struct OutboxOptions {
  int batch = 100;  // rows claimed per pass, oldest created first
  // Attempts after which a row that keeps failing retryably is dead-lettered; 0 retries forever
  // (backoff is capped at kBackoffCap, so a long collector outage costs one request per row every
  // few minutes and loses nothing).
  int max_attempts = 0;
  // How long a pass owns the rows it claimed: a second drainer (another worker replica) skips
  // them, and after a crash they become due again once it has passed. Must exceed the exporter's
  // timeout times `batch`.
  Nanos claim_lease = std::chrono::minutes(30);
};

// Checks batch >= 1, max_attempts >= 0, claim_lease > 0. Errors: kInvalidArgument naming the
// option ("outbox.batch").
[[nodiscard]] Status ValidateOutboxOptions(const OutboxOptions& options);

// What one pass did.
struct DrainStats {
  int64_t sent = 0;      // accepted by the collector (partial rejections included)
  int64_t retried = 0;   // retryable failures, rescheduled
  int64_t dead = 0;      // permanent failures or attempts exhausted
  int64_t deferred = 0;  // claimed but not tried: the pass stopped at a retryable failure
};

class OutboxDrainer {
 public:
  // Requires: ValidateOutboxOptions(options) succeeded; `store` and `exporter` outlive the drainer.
  OutboxDrainer(store::Store& store, OtlpExporter& exporter, OutboxOptions options);

  // One pass: claims up to `batch` pending rows with next_attempt_at <= now (oldest created
  // first) by moving their next_attempt_at to now + claim_lease, then exports each body in its
  // own request (so a body the collector refuses dead-letters only itself) and records the
  // outcome:
  //   kOk        -> state sent, sent_at = now, attempts + 1 (a partial rejection's message is kept
  //                 in last_error; the OTLP specification says not to retry those spans);
  //   kRetryable -> attempts + 1, next_attempt_at = now + max(Retry-After, Backoff(attempts before,
  //                 seed from the row key)), last_error; or dead when max_attempts is reached.
  //                 The pass then stops, as the collector is unavailable: the rows it claimed but
  //                 did not try are released (next_attempt_at back to now) without an attempt;
  //   kPermanent -> state dead with the HTTP status and error.
  // Export runs outside any store transaction. Errors: the store's; rows claimed and not yet
  // marked then become due again when the lease passes.
  [[nodiscard]] Result<DrainStats> DrainOnce(Timestamp now);

 private:
  store::Store& store_;
  OtlpExporter& exporter_;
  OutboxOptions options_;
};

// The numbers the trace worker exposes as metrics, read from the store.
struct TraceMetrics {
  int64_t spans_exported = 0;             // aitelemetry_spans_exported_total: outbox rows sent
  int64_t spans_failed = 0;               // aitelemetry_spans_failed_total: outbox rows dead
  int64_t spans_pending = 0;              // aitelemetry_spans_pending
  double oldest_pending_age_seconds = 0;  // aitelemetry_outbox_oldest_age_seconds; 0 when none
  int64_t alerts_received = 0;  // aitelemetry_alerts_received_total: distinct alert occurrences
  int64_t sessions_open = 0;    // aitelemetry_sessions_open
};

// Counts the outbox, inbox and open sessions at `now`. The "_total" numbers are counts of stored
// rows, so they only grow as long as rows are kept. Errors: the store's.
[[nodiscard]] Result<TraceMetrics> ReadTraceMetrics(store::Store& store, Timestamp now);

}  // namespace aitelemetry::trace
