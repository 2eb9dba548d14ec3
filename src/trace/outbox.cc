#include "trace/outbox.h"

#include <algorithm>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "model/record.h"
#include "model/registry.h"
#include "trace/alert_service.h"

namespace aitelemetry::trace {
namespace {

using model::Record;
using model::Value;
using store::Filter;

const model::Model& Outbox() { return *model::FindModel(kSpanOutboxModel); }

Filter AtOrBefore(std::string field, Timestamp t) {
  Filter f;
  f.field = std::move(field);
  f.kind = Filter::Kind::kRange;
  f.upper = ToUnixNanos(t);
  return f;
}

// FNV-1a: a jitter seed that is the same for a row in every process and build.
uint64_t Seed(const std::string& key) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

int64_t IntOr(const Value& v, int64_t fallback) {
  auto* i = std::get_if<int64_t>(&v);
  return i ? *i : fallback;
}

// An assignment list for Store::Update. Nulls are added with SetNull: building a null Value in
// a conditional expression trips GCC 12's maybe-uninitialized warning.
class Assignments {
 public:
  void Set(const char* field, Value v) { list_.emplace_back(field, std::move(v)); }
  void SetNull(const char* field) { list_.emplace_back(field, std::monostate{}); }
  const std::vector<std::pair<std::string, Value>>& list() const { return list_; }

 private:
  std::vector<std::pair<std::string, Value>> list_;
};

}  // namespace

Status ValidateOutboxOptions(const OutboxOptions& options) {
  if (options.batch < 1) return Fail(ErrorCode::kInvalidArgument, "outbox.batch: must be >= 1");
  if (options.max_attempts < 0) {
    return Fail(ErrorCode::kInvalidArgument, "outbox.max_attempts: must be >= 0");
  }
  if (options.claim_lease <= Nanos::zero()) {
    return Fail(ErrorCode::kInvalidArgument, "outbox.claim_lease: must be positive");
  }
  return Ok();
}

OutboxDrainer::OutboxDrainer(store::Store& store, OtlpExporter& exporter, OutboxOptions options)
    : store_(store), exporter_(exporter), options_(std::move(options)) {}

Result<DrainStats> OutboxDrainer::DrainOnce(Timestamp now) {
  const model::Model& outbox = Outbox();
  // Claim: a row is ours when our conditional update moved its next_attempt_at. A concurrent
  // drainer's update of the same row re-checks the condition and changes nothing.
  std::vector<Record> claimed;
  auto st = store_.Transaction([&](store::Store::Writer& w) -> aitelemetry::Status {
    claimed.clear();
    store::QuerySpec spec;
    spec.rows = options_.batch;
    spec.sort = {{"created_at", false}};
    spec.filters = {Filter::Eq("state", std::string(kOutboxPending)),
                    AtOrBefore("next_attempt_at", now)};
    auto due = w.Select(outbox, spec);
    if (!due) return Fail(due.error());
    for (Record& row : *due) {
      auto n =
          w.Update(outbox,
                   {Filter::Eq("key", row.Key()), Filter::Eq("state", std::string(kOutboxPending)),
                    AtOrBefore("next_attempt_at", now)},
                   {{"next_attempt_at", ToUnixNanos(now + options_.claim_lease)}});
      if (!n) return Fail(n.error());
      if (*n == 1) claimed.push_back(std::move(row));
    }
    return Ok();
  });
  if (!st) return Fail(st.error());

  DrainStats stats;
  for (size_t i = 0; i < claimed.size(); ++i) {
    const Record& row = claimed[i];
    const int64_t attempts_before = IntOr(row.Get("attempts"), 0);
    ExportOutcome outcome = exporter_.Export(row.GetString("body"));
    Assignments set;
    set.Set("attempts", attempts_before + 1);
    if (outcome.http_status) {
      set.Set("http_status", int64_t{outcome.http_status});
    } else {
      set.SetNull("http_status");
    }
    bool stop = false;
    switch (outcome.disposition) {
      case ExportDisposition::kOk:
        set.Set("state", std::string(kOutboxSent));
        set.Set("sent_at", ToUnixNanos(now));
        set.SetNull("next_attempt_at");
        if (outcome.rejected_spans > 0) {
          set.Set("last_error", fmt::format("collector rejected {} span(s): {}",
                                            outcome.rejected_spans, outcome.message));
        } else {
          set.SetNull("last_error");
        }
        ++stats.sent;
        break;
      case ExportDisposition::kRetryable:
        stop = true;
        if (options_.max_attempts > 0 && attempts_before + 1 >= options_.max_attempts) {
          set.Set("state", std::string(kOutboxDead));
          set.SetNull("next_attempt_at");
          set.Set("last_error", fmt::format("gave up after {} attempts: {}", attempts_before + 1,
                                            outcome.message));
          ++stats.dead;
        } else {
          Nanos delay = Backoff(static_cast<int>(std::min<int64_t>(attempts_before, 1 << 20)),
                                Seed(row.Key()));
          if (outcome.retry_after) delay = std::max(delay, *outcome.retry_after);
          set.Set("next_attempt_at", ToUnixNanos(now + delay));
          set.Set("last_error", outcome.message);
          ++stats.retried;
        }
        break;
      case ExportDisposition::kPermanent:
        set.Set("state", std::string(kOutboxDead));
        set.SetNull("next_attempt_at");
        set.Set("last_error", outcome.http_status
                                  ? fmt::format("HTTP {}: {}", outcome.http_status, outcome.message)
                                  : outcome.message);
        ++stats.dead;
        break;
    }
    auto marked = store_.Update(outbox, {Filter::Eq("key", row.Key())}, set.list());
    if (!marked) return Fail(marked.error());
    if (!stop) continue;
    for (size_t j = i + 1; j < claimed.size(); ++j) {
      auto released = store_.Update(outbox, {Filter::Eq("key", claimed[j].Key())},
                                    {{"next_attempt_at", ToUnixNanos(now)}});
      if (!released) return Fail(released.error());
      ++stats.deferred;
    }
    break;
  }
  return stats;
}

Result<TraceMetrics> ReadTraceMetrics(store::Store& store, Timestamp now) {
  TraceMetrics metrics;
  store::QuerySpec by_state;
  by_state.rows = 0;
  by_state.facets = {"state"};
  auto outbox = store.Query(Outbox(), by_state, store::Scope::All());
  if (!outbox) return Fail(outbox.error());
  for (const auto& c : outbox->facets["state"]) {
    if (c.value == kOutboxSent) metrics.spans_exported = c.count;
    if (c.value == kOutboxDead) metrics.spans_failed = c.count;
    if (c.value == kOutboxPending) metrics.spans_pending = c.count;
  }
  store::QuerySpec oldest;
  oldest.rows = 1;
  oldest.count = false;
  oldest.sort = {{"created_at", false}};
  oldest.filters = {Filter::Eq("state", std::string(kOutboxPending))};
  auto first = store.Query(Outbox(), oldest, store::Scope::All());
  if (!first) return Fail(first.error());
  if (!first->rows.empty()) {
    Timestamp created{Nanos(IntOr(first->rows[0].Get("created_at"), ToUnixNanos(now)))};
    metrics.oldest_pending_age_seconds =
        std::max(0.0, std::chrono::duration<double>(now - created).count());
  }
  store::QuerySpec count;
  count.rows = 0;
  auto inbox = store.Query(*model::FindModel(kAlertInboxModel), count, store::Scope::All());
  if (!inbox) return Fail(inbox.error());
  metrics.alerts_received = inbox->found;
  store::QuerySpec open = count;
  open.filters = {Filter::Eq("status", std::string(kSessionOpen))};
  auto sessions = store.Query(*model::FindModel("session"), open, store::Scope::All());
  if (!sessions) return Fail(sessions.error());
  metrics.sessions_open = sessions->found;
  return metrics;
}

}  // namespace aitelemetry::trace
