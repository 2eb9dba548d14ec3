#include "trace/alert_service.h"

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <limits>
#include <map>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

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

// Rows of one model written by one delivery, in the order first staged; staging a key again
// replaces its row, as a second upsert of it would.
class Staged {
 public:
  Record* Find(const std::string& key) {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &rows_[it->second];
  }
  void Put(Record row) {
    auto [it, added] = index_.try_emplace(row.Key(), rows_.size());
    if (added) {
      rows_.push_back(std::move(row));
    } else {
      rows_[it->second] = std::move(row);
    }
  }
  std::span<const Record> rows() const { return rows_; }
  // Moves the rows out, leaving none staged.
  std::vector<Record> Take() {
    index_.clear();
    return std::move(rows_);
  }

 private:
  std::vector<Record> rows_;
  std::unordered_map<std::string, size_t> index_;  // key -> position in rows_
};

// A session the delivery closes, waiting for its usage totals and span.
struct Closure {
  std::string session_key;
  SessionKey key;
  AlertIdentity identity;
  Timestamp end;
  SessionDetails details;
};

// Applies the alerts of one delivery inside one transaction, in three steps that together write
// what applying the alerts one by one would:
//  - Prefetch reads, with a few IN queries, every inbox row and session the body names and the
//    stored GPUs of alerts without a node label;
//  - Apply decides each alert in body order against those rows and the rows staged before it (so
//    a body naming one identity twice behaves as two deliveries would), staging its writes;
//  - Finish computes the usage totals of every session the body closes in one pass, queues one
//    span for each, and writes each model's staged rows with one multi-row upsert.
class Applier {
 public:
  Applier(store::Store::Writer& writer, const AlertOptions& options, Timestamp received_at,
          IngestResult& result)
      : w_(writer), options_(options), received_at_(received_at), result_(result) {}

  Status Prefetch(std::span<const Alert> alerts) {
    std::vector<Value> keys;
    std::vector<Value> uuids;
    for (const Alert& alert : alerts) {
      keys.emplace_back(IdentityOf(alert).Key());
      if (FirstLabel(alert.labels, {"Hostname", "hostname", "node"}).empty()) {
        std::string uuid = FirstLabel(alert.labels, {"UUID", "gpu_uuid"});
        if (!uuid.empty()) uuids.emplace_back(std::move(uuid));
      }
    }
    if (auto st = Load(ModelNamed(kAlertInboxModel), keys, known_inbox_); !st) return st;
    if (auto st = Load(ModelNamed("session"), keys, known_sessions_); !st) return st;
    store::QuerySpec spec;
    spec.rows = std::numeric_limits<int64_t>::max();
    auto gpus = w_.SelectAnyOf(ModelNamed("gpu"), spec, "uuid", Unique(std::move(uuids)));
    if (!gpus) return Fail(gpus.error());
    for (const Record& gpu : *gpus) {
      // The first by key of the GPUs with this UUID in the hub and cluster, as a query would give.
      auto [it, added] = gpu_keys_.try_emplace(
          GpuLookup(gpu.GetString("hub"), gpu.GetString("cluster"), gpu.GetString("uuid")),
          gpu.Key());
      if (!added && gpu.Key() < it->second) it->second = gpu.Key();
    }
    return Ok();
  }

  void Apply(const Alert& alert) {
    const AlertIdentity identity = IdentityOf(alert);
    const bool resolved = alert.status == AlertStatus::kResolved;
    if (const Record* existing = Current(identity.Key(), inbox_, known_inbox_)) {
      // Resolution is final and a repeat of "firing" adds nothing: only firing -> resolved writes.
      if (existing->GetString("status") == AlertStatusName(AlertStatus::kResolved) || !resolved) {
        ++result_.unchanged;
        return;
      }
      ++result_.resolutions;
    } else {
      ++result_.new_alerts;
    }
    const std::string hub = Hub(alert.labels);
    const std::string cluster = Cluster(alert.labels);
    const std::string problem = IsSessionAlert(alert, SessionAlerts())
                                    ? ApplySession(alert, identity, hub)
                                    : ApplyHealthEvent(alert, identity, hub, cluster);
    if (!problem.empty()) ++result_.not_applied;

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
    inbox.Set("processed", problem.empty());
    inbox.Set("error", TextOrNull(problem));
    inbox_.Put(std::move(inbox));
  }

  Status Finish() {
    if (auto st = CloseSessions(); !st) return st;
    if (auto st = Write(sessions_, known_sessions_); !st) return st;
    if (auto st = w_.Upsert(ModelNamed("health-event"), health_events_.rows()); !st) return st;
    if (auto st = w_.Upsert(ModelNamed(kSpanOutboxModel), outbox_.rows()); !st) return st;
    return Write(inbox_, known_inbox_);
  }

 private:
  // Reads the rows of `m` with any of `keys` into `out`.
  Status Load(const model::Model& m, std::vector<Value> keys,
              std::unordered_map<std::string, Record>& out) {
    store::QuerySpec spec;
    spec.rows = std::numeric_limits<int64_t>::max();
    auto rows = w_.SelectAnyOf(m, spec, "key", Unique(std::move(keys)));
    if (!rows) return Fail(rows.error());
    for (Record& row : *rows) out.emplace(row.Key(), std::move(row));
    return Ok();
  }

  // Upserts the staged rows; a row that was stored before gets only the fields that differ from
  // it written (rows grouped by those fields, one statement per group), which leaves the index
  // entries of the other fields alone; a write-once field already set is left out too, as the
  // upsert would keep it. The result is what upserting every field would store.
  Status Write(Staged& staged, const std::unordered_map<std::string, Record>& known) {
    std::vector<Record> rows = staged.Take();
    if (rows.empty()) return Ok();
    const model::Model& m = *rows.front().model;
    std::vector<Record> fresh;
    std::map<std::vector<std::string>, std::vector<Record>> by_changed;
    for (Record& row : rows) {
      auto it = known.find(row.Key());
      if (it == known.end()) {
        fresh.push_back(std::move(row));
        continue;
      }
      std::vector<std::string> changed;
      for (size_t i = 1; i < m.fields.size(); ++i) {
        const model::Field& f = m.fields[i];
        const Value& stored = it->second.values[i];
        if (f.Has(model::kEditable) || row.values[i] == stored) continue;
        if (f.Has(model::kWriteOnce) && !model::IsNull(stored)) continue;  // kept anyway
        changed.push_back(f.name);
      }
      if (!changed.empty()) by_changed[std::move(changed)].push_back(std::move(row));
    }
    if (auto st = w_.Upsert(m, fresh); !st) return st;
    for (const auto& [fields, group] : by_changed) {
      if (auto st = w_.UpsertSetting(m, group, fields); !st) return st;
    }
    return Ok();
  }

  static std::vector<Value> Unique(std::vector<Value> values) {
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    return values;
  }

  static std::string GpuLookup(const std::string& hub, const std::string& cluster,
                               const std::string& uuid) {
    return hub + '\n' + cluster + '\n' + uuid;
  }

  // The row with `key` as this delivery left it so far, or as stored; nullptr when neither has it.
  static const Record* Current(const std::string& key, Staged& staged,
                               const std::unordered_map<std::string, Record>& known) {
    if (const Record* row = staged.Find(key)) return row;
    auto it = known.find(key);
    return it == known.end() ? nullptr : &it->second;
  }

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

  // The key of the GPU (or slice) with `uuid`: from the node label when the alert has one, else
  // from the GPU the collector stored (prefetched). "" when neither knows it.
  std::string DeviceKey(const std::string& hub, const std::string& cluster, const std::string& node,
                        const std::string& uuid, const std::string& gpu_i_id) const {
    if (uuid.empty()) return std::string();
    std::string gpu_key;
    if (!node.empty()) {
      gpu_key = model::GpuKey(hub, cluster, node, uuid);
    } else {
      auto it = gpu_keys_.find(GpuLookup(hub, cluster, uuid));
      if (it == gpu_keys_.end()) return std::string();
      gpu_key = it->second;
    }
    return gpu_i_id.empty() ? gpu_key : model::SliceKey(gpu_key, gpu_i_id);
  }

  // Opens or closes the session of `alert` (a closing one waits in closures_ for Finish). Returns
  // "" when applied, or why it could not be.
  std::string ApplySession(const Alert& alert, const AlertIdentity& identity,
                           const std::string& hub) {
    auto key = SessionKeyFromLabels(alert.labels, options_.default_cluster);
    if (!key) return key.error().message;
    const Record* existing = Current(identity.Key(), sessions_, known_sessions_);
    const bool resolved = alert.status == AlertStatus::kResolved;
    if (existing && (!resolved || existing->GetString("status") == kSessionClosed)) {
      return std::string();  // already in the state this delivery asks for
    }
    Record session = existing ? *existing : Record(ModelNamed("session"));
    if (!existing) {
      session.Set("key", identity.Key());
      session.Set("hub", hub);
      session.Set("cluster", key->cluster);
      session.Set("project", key->namespace_);
      session.Set("pod", key->pod);
      session.Set("container", TextOrNull(key->container));
      session.Set("device_key",
                  TextOrNull(DeviceKey(hub, key->cluster,
                                       FirstLabel(alert.labels, {"Hostname", "hostname", "node"}),
                                       key->gpu_uuid, key->gpu_i_id)));
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
      sessions_.Put(std::move(session));
      return std::string();
    }
    // A resolved alert carries its endsAt; a body without one ends the session on receipt.
    const Timestamp end = std::max(alert.ends_at.value_or(received_at_), identity.starts_at);
    session.Set("ended_at", ToUnixNanos(end));
    session.Set("status", std::string(kSessionClosed));
    ++result_.sessions_closed;
    closures_.push_back(
        {identity.Key(), std::move(*key), identity, end, DetailsFromLabels(alert.labels)});
    sessions_.Put(std::move(session));
    return std::string();
  }

  // Fills the usage totals of the sessions the delivery closes and queues the span of each once:
  // an outbox key derives from the span id, so a session closed again (which the inbox already
  // prevents) finds its row and adds nothing.
  Status CloseSessions() {
    if (closures_.empty()) return Ok();
    std::vector<SessionWindow> windows;
    std::vector<Value> outbox_keys;
    for (const Closure& c : closures_) {
      windows.push_back({sessions_.Find(c.session_key)->GetString("device_key"), c.key.namespace_,
                         c.key.gpu_uuid, c.identity.starts_at, c.end});
      outbox_keys.emplace_back(OutboxKey(SpanIdFor(c.identity), kOutboxKindEnd));
    }
    auto usages = ComputeSessionUsages(w_, windows);
    if (!usages) return Fail(usages.error());
    std::unordered_map<std::string, Record> queued;
    if (auto st = Load(ModelNamed(kSpanOutboxModel), outbox_keys, queued); !st) return st;
    for (size_t i = 0; i < closures_.size(); ++i) {
      Closure& c = closures_[i];
      const SessionUsage& usage = (*usages)[i];
      Record& session = *sessions_.Find(c.session_key);
      session.Set("active_gpu_seconds",
                  usage.active_gpu_seconds ? Value{*usage.active_gpu_seconds} : Value{});
      session.Set("energy_joules", usage.energy_joules ? Value{*usage.energy_joules} : Value{});
      session.Set("peak_memory_bytes",
                  usage.peak_memory_bytes ? Value{*usage.peak_memory_bytes} : Value{});
      session.Set("xid_count", usage.xid_count ? Value{*usage.xid_count} : Value{});
      const std::string& key = std::get<std::string>(outbox_keys[i]);
      if (queued.contains(key) || outbox_.Find(key) != nullptr) continue;
      c.details.active_seconds = usage.active_gpu_seconds;
      c.details.energy_joules = usage.energy_joules;
      c.details.memory_peak_bytes = usage.peak_memory_bytes;
      SpanRecord span = MakeSessionSpan(c.key, c.identity, c.end, c.details);
      Record row(ModelNamed(kSpanOutboxModel));
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
      outbox_.Put(std::move(row));
    }
    return Ok();
  }

  // Writes (or ends) the health event of a non-session alert. Returns "" when applied, or why not.
  std::string ApplyHealthEvent(const Alert& alert, const AlertIdentity& identity,
                               const std::string& hub, const std::string& cluster) {
    if (cluster.empty()) return std::string("labels: no cluster and no default cluster");
    const std::string node = FirstLabel(alert.labels, {"Hostname", "hostname", "node"});
    const std::string uuid = FirstLabel(alert.labels, {"UUID", "gpu_uuid"});
    const std::string device_key =
        DeviceKey(hub, cluster, node, uuid, FirstLabel(alert.labels, {"GPU_I_ID"}));
    Record event(ModelNamed("health-event"));
    event.Set("key", fmt::format("HUB-{}-CLUSTER-{}-ALERT-{}", hub, cluster, identity.Key()));
    event.Set("hub", hub);
    event.Set("cluster", cluster);
    event.Set("node", TextOrNull(node));
    event.Set("device_key", TextOrNull(device_key));
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
    health_events_.Put(std::move(event));
    return std::string();
  }

  store::Store::Writer& w_;
  const AlertOptions& options_;
  const Timestamp received_at_;
  IngestResult& result_;
  // Rows as stored before this delivery, by key (Prefetch).
  std::unordered_map<std::string, Record> known_inbox_;
  std::unordered_map<std::string, Record> known_sessions_;
  // GpuLookup(hub, cluster, uuid) -> the first key of the stored GPUs that match (Prefetch).
  std::unordered_map<std::string, std::string> gpu_keys_;
  // What this delivery writes (Finish).
  Staged inbox_;
  Staged sessions_;
  Staged health_events_;
  Staged outbox_;
  std::vector<Closure> closures_;
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
    if (auto st = applier.Prefetch(payload->alerts); !st) return st;
    for (const Alert& alert : payload->alerts) applier.Apply(alert);
    return applier.Finish();
  });
  if (!st) return Fail(st.error());
  return result;
}

}  // namespace aitelemetry::trace
