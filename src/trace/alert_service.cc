#include "trace/alert_service.h"

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <optional>
#include <span>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "model/record.h"
#include "model/registry.h"
#include "trace/alertmanager.h"
#include "trace/session_identity.h"
#include "trace/session_span.h"
#include "trace/session_usage.h"

namespace aitelemetry::trace {
namespace {

using model::Record;
using model::Value;

// PostgreSQL advisory lock id that serialises ingests ("aitlalrt").
constexpr int64_t kIngestLockId = 0x6169746c616c7274;

const model::Model& ModelNamed(const char* name) { return *model::FindModel(name); }

// Returns the first non-empty label of `names`, or "".
std::string FirstLabel(const LabelSet& labels, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    auto it = labels.find(name);
    if (it != labels.end() && !it->second.empty()) return it->second;
  }
  return "";
}

Value TextOrNull(const std::string& s) { return s.empty() ? Value{} : Value{s}; }

// The alert as Alertmanager sent it (the typed form re-encoded), for the inbox.
std::string AlertJson(const Alert& alert) {
  nlohmann::json j;
  j["status"] = std::string(AlertStatusName(alert.status));
  j["labels"] = alert.labels;
  j["annotations"] = alert.annotations;
  j["startsAt"] = FormatRfc3339(alert.starts_at);
  j["endsAt"] = alert.ends_at ? FormatRfc3339(*alert.ends_at) : "0001-01-01T00:00:00Z";
  j["generatorURL"] = alert.generator_url;
  j["fingerprint"] = alert.fingerprint;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string OutboxKey(const SpanId& span_id, const char* kind) {
  return fmt::format("{}:{}", ToHex(span_id), kind);
}

// Applies the alerts of one delivery inside one transaction.
class Applier {
 public:
  Applier(store::Store::Writer& writer, const AlertOptions& options, Timestamp received_at,
          IngestResult& result)
      : w_(writer), options_(options), received_at_(received_at), result_(result) {}

  Status Apply(const Alert& alert) {
    const AlertIdentity identity = IdentityOf(alert);
    const bool resolved = alert.status == AlertStatus::kResolved;
    auto existing = Find(ModelNamed(kAlertInboxModel), identity.Key());
    if (!existing) return Fail(existing.error());
    if (*existing) {
      // Resolution is final and a repeat of "firing" adds nothing: only firing -> resolved writes.
      if ((*existing)->GetString("status") == AlertStatusName(AlertStatus::kResolved) ||
          !resolved) {
        ++result_.unchanged;
        return Ok();
      }
      ++result_.resolutions;
    } else {
      ++result_.new_alerts;
    }
    const std::string hub = Hub(alert.labels);
    const std::string cluster = Cluster(alert.labels);
    Result<std::string> problem = IsSessionAlert(alert, SessionAlerts())
                                      ? ApplySession(alert, identity, hub)
                                      : ApplyHealthEvent(alert, identity, hub, cluster);
    if (!problem) return Fail(problem.error());
    if (!problem->empty()) ++result_.not_applied;

    Record inbox(ModelNamed(kAlertInboxModel));
    inbox.Set("key", identity.Key());
    inbox.Set("hub", hub);
    inbox.Set("cluster", TextOrNull(cluster));
    inbox.Set("project", TextOrNull(FirstLabel(alert.labels, {"namespace", "exported_namespace"})));
    inbox.Set("fingerprint", alert.fingerprint);
    inbox.Set("alert_name", TextOrNull(FirstLabel(alert.labels, {"alertname"})));
    inbox.Set("starts_at", ToUnixNanos(alert.starts_at));
    if (resolved && alert.ends_at) inbox.Set("ends_at", ToUnixNanos(*alert.ends_at));
    inbox.Set("status", std::string(AlertStatusName(alert.status)));
    inbox.Set("received_at", ToUnixNanos(received_at_));
    inbox.Set("updated_at", ToUnixNanos(received_at_));
    inbox.Set("alert_json", AlertJson(alert));
    inbox.Set("processed", problem->empty());
    inbox.Set("error", TextOrNull(*problem));
    return Store(inbox);
  }

 private:
  std::span<const std::string> SessionAlerts() const {
    if (!options_.session_alerts.empty()) return options_.session_alerts;
    static const std::vector<std::string> defaults(kDefaultSessionAlerts.begin(),
                                                   kDefaultSessionAlerts.end());
    return defaults;
  }

  std::string Hub(const LabelSet& labels) const {
    std::string hub = FirstLabel(labels, {"hub"});
    return hub.empty() ? options_.default_hub : hub;
  }

  std::string Cluster(const LabelSet& labels) const {
    std::string cluster = FirstLabel(labels, {"cluster"});
    return cluster.empty() ? options_.default_cluster : cluster;
  }

  // Returns the row of `m` with `key`, or nullopt.
  Result<std::optional<Record>> Find(const model::Model& m, const std::string& key) {
    store::QuerySpec spec;
    spec.rows = 1;
    spec.filters = {store::Filter::Eq("key", key)};
    auto rows = w_.Select(m, spec);
    if (!rows) return Fail(rows.error());
    if (rows->empty()) return std::optional<Record>();
    return std::optional<Record>(std::move(rows->front()));
  }

  // The key of the GPU (or slice) with `uuid`: from the node label when the alert has one, else
  // from the GPU the collector stored. "" when neither knows it.
  Result<std::string> DeviceKey(const std::string& hub, const std::string& cluster,
                                const std::string& node, const std::string& uuid,
                                const std::string& gpu_i_id) {
    if (uuid.empty()) return std::string();
    std::string gpu_key;
    if (!node.empty()) {
      gpu_key = model::GpuKey(hub, cluster, node, uuid);
    } else {
      store::QuerySpec spec;
      spec.rows = 1;
      spec.filters = {store::Filter::Eq("uuid", uuid), store::Filter::Eq("hub", hub),
                      store::Filter::Eq("cluster", cluster)};
      auto rows = w_.Select(ModelNamed("gpu"), spec);
      if (!rows) return Fail(rows.error());
      if (rows->empty()) return std::string();
      gpu_key = rows->front().Key();
    }
    return gpu_i_id.empty() ? gpu_key : model::SliceKey(gpu_key, gpu_i_id);
  }

  // Opens or closes the session of `alert`. Returns "" when applied, or why it could not be.
  Result<std::string> ApplySession(const Alert& alert, const AlertIdentity& identity,
                                   const std::string& hub) {
    auto key = SessionKeyFromLabels(alert.labels, options_.default_cluster);
    if (!key) return key.error().message;
    const model::Model& sessions = ModelNamed("session");
    auto existing = Find(sessions, identity.Key());
    if (!existing) return Fail(existing.error());
    const bool resolved = alert.status == AlertStatus::kResolved;
    if (*existing && (!resolved || (*existing)->GetString("status") == kSessionClosed)) {
      return std::string();  // already in the state this delivery asks for
    }
    Record session = *existing ? std::move(**existing) : Record(sessions);
    if (!*existing) {
      auto device_key =
          DeviceKey(hub, key->cluster, FirstLabel(alert.labels, {"Hostname", "hostname", "node"}),
                    key->gpu_uuid, key->gpu_i_id);
      if (!device_key) return Fail(device_key.error());
      session.Set("key", identity.Key());
      session.Set("hub", hub);
      session.Set("cluster", key->cluster);
      session.Set("project", key->namespace_);
      session.Set("pod", key->pod);
      session.Set("container", TextOrNull(key->container));
      session.Set("device_key", TextOrNull(*device_key));
      session.Set("gpu_uuid", key->gpu_uuid);
      session.Set("gpu_i_id", TextOrNull(key->gpu_i_id));
      session.Set("alert_name", TextOrNull(FirstLabel(alert.labels, {"alertname"})));
      session.Set("fingerprint", alert.fingerprint);
      session.Set("started_at", ToUnixNanos(identity.starts_at));
      session.Set("trace_id", ToHex(TraceIdFor(identity)));
      session.Set("span_id", ToHex(SpanIdFor(identity)));
    }
    if (!resolved) {
      session.Set("status", std::string(kSessionOpen));
      ++result_.sessions_opened;
      if (auto st = Store(session); !st) return Fail(st.error());
      return std::string();
    }
    // A resolved alert carries its endsAt; a body without one ends the session on receipt.
    const Timestamp end = std::max(alert.ends_at.value_or(received_at_), identity.starts_at);
    auto usage = ComputeSessionUsage(w_, {session.GetString("device_key"), key->namespace_,
                                          key->gpu_uuid, identity.starts_at, end});
    if (!usage) return Fail(usage.error());
    session.Set("ended_at", ToUnixNanos(end));
    session.Set("status", std::string(kSessionClosed));
    session.Set("active_gpu_seconds",
                usage->active_gpu_seconds ? Value{*usage->active_gpu_seconds} : Value{});
    session.Set("energy_joules", usage->energy_joules ? Value{*usage->energy_joules} : Value{});
    session.Set("peak_memory_bytes",
                usage->peak_memory_bytes ? Value{*usage->peak_memory_bytes} : Value{});
    session.Set("xid_count", usage->xid_count ? Value{*usage->xid_count} : Value{});
    ++result_.sessions_closed;
    if (auto st = Store(session); !st) return Fail(st.error());

    SessionDetails details = DetailsFromLabels(alert.labels);
    details.active_seconds = usage->active_gpu_seconds;
    details.energy_joules = usage->energy_joules;
    details.memory_peak_bytes = usage->peak_memory_bytes;
    SpanRecord span = MakeSessionSpan(*key, identity, end, details);
    if (auto st = Enqueue(span, session); !st) return Fail(st.error());
    return std::string();
  }

  // Queues the span's export once: the key derives from the span id, so a second close of the same
  // session (which the inbox already prevents) finds the row and adds nothing.
  Status Enqueue(const SpanRecord& span, const Record& session) {
    const model::Model& outbox = ModelNamed(kSpanOutboxModel);
    const std::string key = OutboxKey(span.span_id, kOutboxKindEnd);
    auto existing = Find(outbox, key);
    if (!existing) return Fail(existing.error());
    if (*existing) return Ok();
    Record row(outbox);
    row.Set("key", key);
    row.Set("hub", session.Get("hub"));
    row.Set("cluster", session.Get("cluster"));
    row.Set("project", session.Get("project"));
    row.Set("session_key", session.Key());
    row.Set("kind", std::string(kOutboxKindEnd));
    row.Set("trace_id", ToHex(span.trace_id));
    row.Set("span_id", ToHex(span.span_id));
    row.Set("body", EncodeExportTraceRequest({span}, options_.resource));
    row.Set("created_at", ToUnixNanos(received_at_));
    row.Set("attempts", int64_t{0});
    row.Set("next_attempt_at", ToUnixNanos(received_at_));
    row.Set("state", std::string(kOutboxPending));
    ++result_.spans_enqueued;
    return w_.Upsert(outbox, std::span<const Record>(&row, 1));
  }

  Status Store(const Record& record) {
    return w_.Upsert(*record.model, std::span<const Record>(&record, 1));
  }

  // Writes (or ends) the health event of a non-session alert. Returns "" when applied, or why not.
  Result<std::string> ApplyHealthEvent(const Alert& alert, const AlertIdentity& identity,
                                       const std::string& hub, const std::string& cluster) {
    if (cluster.empty()) return std::string("labels: no cluster and no default cluster");
    const std::string node = FirstLabel(alert.labels, {"Hostname", "hostname", "node"});
    const std::string uuid = FirstLabel(alert.labels, {"UUID", "gpu_uuid"});
    auto device_key = DeviceKey(hub, cluster, node, uuid, FirstLabel(alert.labels, {"GPU_I_ID"}));
    if (!device_key) return Fail(device_key.error());
    Record event(ModelNamed("health-event"));
    event.Set("key", fmt::format("HUB-{}-CLUSTER-{}-ALERT-{}", hub, cluster, identity.Key()));
    event.Set("hub", hub);
    event.Set("cluster", cluster);
    event.Set("node", TextOrNull(node));
    event.Set("device_key", TextOrNull(*device_key));
    event.Set("gpu_uuid", TextOrNull(uuid));
    event.Set("project", TextOrNull(FirstLabel(alert.labels, {"namespace", "exported_namespace"})));
    event.Set("kind", std::string("alert"));
    const std::string code = FirstLabel(alert.labels, {"err_code", "code"});
    int64_t code_value = 0;
    auto [end, ec] = std::from_chars(code.data(), code.data() + code.size(), code_value);
    if (!code.empty() && ec == std::errc() && end == code.data() + code.size()) {
      event.Set("code", code_value);
    }
    std::string message = FirstLabel(alert.labels, {"alertname"});
    std::string summary = FirstLabel(alert.annotations, {"summary", "description", "message"});
    if (!summary.empty()) message += (message.empty() ? "" : ": ") + summary;
    event.Set("message", TextOrNull(message));
    event.Set("observed_at", ToUnixNanos(identity.starts_at));
    if (alert.status == AlertStatus::kResolved) {
      event.Set("ended_at", ToUnixNanos(alert.ends_at.value_or(received_at_)));
    }
    ++result_.health_events;
    if (auto st = Store(event); !st) return Fail(st.error());
    return std::string();
  }

  store::Store::Writer& w_;
  const AlertOptions& options_;
  const Timestamp received_at_;
  IngestResult& result_;
};

}  // namespace

Status ValidateAlertOptions(const AlertOptions& options) {
  if (options.default_hub.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "alerts.default_hub: must be set");
  }
  if (options.max_body_bytes == 0) {
    return Fail(ErrorCode::kInvalidArgument, "alerts.max_body_bytes: must be positive");
  }
  return Ok();
}

AlertService::AlertService(store::Store& store, AlertOptions options)
    : store_(store), options_(std::move(options)) {}

Result<IngestResult> AlertService::Ingest(std::string_view body, Timestamp received_at) {
  auto payload = ParseWebhook(body, options_.max_body_bytes);
  if (!payload) return Fail(payload.error());
  IngestResult result;
  auto st = store_.Transaction([&](store::Store::Writer& w) -> Status {
    result = IngestResult{};  // a retried transaction starts over
    result.alerts = static_cast<int64_t>(payload->alerts.size());
    result.truncated_alerts = payload->truncated_alerts;
    if (w.connection().dialect() == store::Dialect::kPostgres) {
      Value lock[] = {kIngestLockId};
      auto locked = w.connection().Exec("SELECT pg_advisory_xact_lock(?)", lock);
      if (!locked) return Fail(locked.error());
    }
    Applier applier(w, options_, received_at, result);
    for (const Alert& alert : payload->alerts) {
      if (auto applied = applier.Apply(alert); !applied) return applied;
    }
    return Ok();
  });
  if (!st) return Fail(st.error());
  return result;
}

}  // namespace aitelemetry::trace
