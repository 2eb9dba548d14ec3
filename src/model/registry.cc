#include "model/registry.h"

#include <cmath>
#include <set>
#include <utility>

#include <fmt/format.h>

namespace aitelemetry::model {
namespace {

constexpr uint32_t kText = kSearchable | kSortable;
constexpr uint32_t kFacet = kFacetable | kFilterable | kSortable;
constexpr uint32_t kNum = kStat | kSortable | kFilterable;

Field F(std::string name, FieldType type, uint32_t flags, std::string description,
        std::string unit = "", std::string unit_code = "", std::string ngsi = "",
        std::string relation = "") {
  Field f;
  f.name = std::move(name);
  f.type = type;
  f.flags = flags;
  f.description = std::move(description);
  f.unit = std::move(unit);
  f.unit_code = std::move(unit_code);
  f.ngsi_name = std::move(ngsi);
  f.relation = std::move(relation);
  return f;
}

Field Key(std::string description) {
  return F("key", FieldType::kString, kRequired | kSearchable | kSortable | kFilterable,
           std::move(description));
}

Field HubRef() {
  return F("hub", FieldType::kString, kRequired | kFacet | kSearchable, "Name of the hub.", "", "",
           "hubName");
}
Field ClusterRef() {
  return F("cluster", FieldType::kString, kRequired | kFacet | kSearchable,
           "Name of the cluster within its hub.", "", "", "clusterName");
}
Field ProjectRef(const char* what) {
  return F("project", FieldType::kString, kFacet | kSearchable, what, "", "", "projectName");
}

// The lifecycle every observed entity shares: seen, gone, stale.
void AddLifecycle(std::vector<Field>& fields, const char* states) {
  fields.push_back(
      F("state", FieldType::kString, kFacet, fmt::format("Current state: {}.", states)));
  fields.push_back(F("first_seen_at", FieldType::kTime, kSortable | kFilterable | kWriteOnce,
                     "When the collector first saw it."));
  fields.push_back(F("last_seen_at", FieldType::kTime, kSortable | kFilterable,
                     "When the collector last saw it in a snapshot."));
  fields.push_back(F("gone_at", FieldType::kTime, kSortable | kFilterable,
                     "When it vanished from the snapshots; null while present."));
  fields.push_back(
      F("stale_since", FieldType::kTime, kSortable | kFilterable,
        "Set while it cannot be observed (its hub's last sync failed, or its node's exporter "
        "could not be scraped): when it was last seen."));
}

// Current device readings shared by GPUs and MIG slices. Unknown readings are null, never zero.
void AddReadings(std::vector<Field>& fields, bool whole_gpu) {
  fields.push_back(F("memory_total_bytes", FieldType::kInt, kNum, "Frame-buffer memory size.",
                     "bytes", "AD", "memoryTotal"));
  fields.push_back(F("memory_used_bytes", FieldType::kInt, kNum, "Frame-buffer memory in use.",
                     "bytes", "AD", "memoryUsed"));
  fields.push_back(F("activity_ratio", FieldType::kReal, kNum,
                     "Graphics engine activity (DCGM_FI_PROF_GR_ENGINE_ACTIVE), 0 to 1.", "ratio",
                     "C62", "activity"));
  if (whole_gpu) {
    fields.push_back(F("utilization_ratio", FieldType::kReal, kNum,
                       "Device utilisation (DCGM_FI_DEV_GPU_UTIL) as a ratio, 0 to 1.", "ratio",
                       "C62", "utilization"));
    fields.push_back(F("tensor_active_ratio", FieldType::kReal, kNum,
                       "Tensor pipe activity, 0 to 1.", "ratio", "C62", "tensorActive"));
    fields.push_back(F("dram_active_ratio", FieldType::kReal, kNum,
                       "Memory interface activity, 0 to 1.", "ratio", "C62", "dramActive"));
    fields.push_back(F("power_watts", FieldType::kReal, kNum, "Power draw.", "W", "WTT", "power"));
    fields.push_back(F("temperature_celsius", FieldType::kReal, kNum, "GPU temperature.", "°C",
                       "CEL", "temperature"));
    fields.push_back(F("sm_clock_hz", FieldType::kReal, kNum, "Streaming multiprocessor clock.",
                       "Hz", "HTZ", "smClock"));
    fields.push_back(F("energy_joules", FieldType::kReal, kNum,
                       "Energy counter since the device booted.", "J", "JOU", "energy"));
  }
  fields.push_back(ProjectRef("Namespace of the project holding it now; null when free."));
  fields.push_back(F("pod", FieldType::kString, kSearchable | kSortable | kFilterable,
                     "Pod holding it now; null when free."));
  fields.push_back(
      F("container", FieldType::kString, kFilterable, "Container holding it now; null when free."));
  fields.push_back(F("last_active_at", FieldType::kTime, kSortable | kFilterable,
                     "Last time its activity was above zero."));
}

std::vector<Model> BuildRegistry() {
  std::vector<Model> models;

  {
    Model m{"hub", "Hub", "hub",
            "A source of metrics: one ACM/Observatorium hub and its clusters."};
    m.fields = {
        Key("Natural key, HUB-{hub}."),
        F("name", FieldType::kString, kRequired | kText | kFilterable, "Hub name.", "", "",
          "hubName"),
        F("display_name", FieldType::kString, kText | kEditable, "Name shown to people."),
        F("description", FieldType::kString, kSearchable | kEditable, "Free text."),
        F("last_sync_at", FieldType::kTime, kSortable, "Start of the last sync attempt."),
        F("last_sync_ok_at", FieldType::kTime, kSortable | kFilterable,
          "Evaluation time of the last successful sync."),
        F("last_error", FieldType::kString, kNone, "Error of the last failed sync."),
        F("usage_through", FieldType::kTime, kSortable,
          "Evaluation time of the last sample counted into usage history."),
        F("sample_spacing_seconds", FieldType::kReal, kNum,
          "How far apart the hub's samples are, worked out from their timestamps over the "
          "hour before the last sync; each sample counts for this long. Null until known.",
          "s", "SEC", "sampleSpacing"),
        F("spacing_assumed", FieldType::kBool, kFilterable,
          "True when too few samples were there to work the spacing out, and the "
          "configured hubs[].spacing, the last known value or the sync interval was used.")};
    AddLifecycle(m.fields, "active, stale or gone");
    m.scope = {"name", "", "", "", "", true};
    models.push_back(std::move(m));
  }
  {
    Model m{"cluster", "Cluster", "cluster", "An OpenShift/Kubernetes cluster of a hub."};
    m.fields = {Key("Natural key, HUB-{hub}-CLUSTER-{cluster}."),
                HubRef(),
                F("name", FieldType::kString, kRequired | kText | kFilterable, "Cluster name.", "",
                  "", "clusterName"),
                F("display_name", FieldType::kString, kText | kEditable, "Name shown to people."),
                F("description", FieldType::kString, kSearchable | kEditable, "Free text."),
                F("hub_key", FieldType::kString, kFilterable, "The hub it belongs to.", "", "",
                  "isPartOf", "hub")};
    AddLifecycle(m.fields, "active, stale or gone");
    m.scope = {"hub", "name", "", "", "", true};
    models.push_back(std::move(m));
  }
  {
    Model m{"node", "Node", "node", "A machine with GPUs."};
    m.fields = {
        Key("Natural key, HUB-{hub}-CLUSTER-{cluster}-NODE-{node}."),
        HubRef(),
        ClusterRef(),
        F("name", FieldType::kString, kRequired | kText | kFilterable, "Host name.", "", "",
          "hostName"),
        F("cluster_key", FieldType::kString, kFilterable, "The cluster it belongs to.", "", "",
          "isPartOf", "cluster"),
        F("gpu_product", FieldType::kString, kFacet | kSearchable,
          "GPU product from GPU feature discovery (nvidia.com/gpu.product).", "", "", "gpuProduct"),
        F("mig_strategy", FieldType::kString, kFacet, "MIG strategy: none, single, mixed."),
        F("gpu_count", FieldType::kInt, kNum, "Number of GPUs seen on it.", "", "C62", "gpuCount")};
    AddLifecycle(m.fields, "active, stale or gone");
    m.scope = {"hub", "cluster", "", "gpu", "node_key", false};
    models.push_back(std::move(m));
  }
  {
    Model m{"project", "Project", "project", "A research project: one namespace of a cluster."};
    m.fields = {Key("Natural key, HUB-{hub}-CLUSTER-{cluster}-PROJECT-{namespace}."),
                HubRef(),
                ClusterRef(),
                F("namespace", FieldType::kString, kRequired | kText | kFacetable | kFilterable,
                  "Kubernetes namespace.", "", "", "namespaceName"),
                F("cluster_key", FieldType::kString, kFilterable, "The cluster it runs on.", "", "",
                  "isPartOf", "cluster"),
                F("display_name", FieldType::kString, kText | kEditable, "Name shown to people."),
                F("description", FieldType::kString, kSearchable | kEditable, "Free text."),
                F("owner", FieldType::kString, kText | kFacet | kEditable,
                  "Principal investigator or owner."),
                F("gpus_allocated", FieldType::kReal, kNum,
                  "GPU-equivalents the project holds now (a 3g slice counts 3/7).", "GPU", "C62",
                  "gpusAllocated")};
    AddLifecycle(m.fields, "active, idle or gone");
    m.scope = {"hub", "cluster", "namespace", "", "", false};
    models.push_back(std::move(m));
  }
  {
    Model m{"gpu", "Gpu", "gpu", "A physical GPU."};
    m.fields = {Key("Natural key, HUB-{hub}-CLUSTER-{cluster}-NODE-{node}-GPU-{uuid}."),
                HubRef(),
                ClusterRef(),
                F("node", FieldType::kString, kFacet | kSearchable, "Host name of its node.", "",
                  "", "nodeName"),
                F("node_key", FieldType::kString, kFilterable, "The node it sits in.", "", "",
                  "isPartOf", "node"),
                F("uuid", FieldType::kString, kRequired | kText | kFilterable, "NVIDIA GPU UUID."),
                F("gpu_index", FieldType::kInt, kSortable | kFilterable, "Index on its node.", "",
                  "", "gpuIndex"),
                F("model_name", FieldType::kString, kFacet | kSearchable, "GPU model name.", "", "",
                  "modelName"),
                F("driver_version", FieldType::kString, kFacet, "NVIDIA driver version.", "", "",
                  "driverVersion"),
                F("mig_enabled", FieldType::kBool, kFacet, "Whether MIG instances are configured.",
                  "", "", "migEnabled")};
    AddReadings(m.fields, true);
    AddLifecycle(m.fields, "idle, allocated-idle, active or gone");
    m.scope = {"hub", "cluster", "project", "", "", false};
    m.time_field = "last_seen_at";
    models.push_back(std::move(m));
  }
  {
    Model m{"gpu-slice", "GpuSlice", "gpu_slice", "A MIG GPU instance of a GPU."};
    m.fields = {
        Key("Natural key, the GPU's key then -SLICE-{GPU_I_ID}."),
        HubRef(),
        ClusterRef(),
        F("node", FieldType::kString, kFacet | kSearchable, "Host name of its node.", "", "",
          "nodeName"),
        F("gpu_key", FieldType::kString, kFilterable, "The GPU it is part of.", "", "", "isPartOf",
          "gpu"),
        F("gpu_uuid", FieldType::kString, kText | kFilterable, "UUID of the parent GPU."),
        F("gpu_i_id", FieldType::kString, kFilterable | kSortable,
          "MIG GPU instance id (GPU_I_ID)."),
        F("profile", FieldType::kString, kFacet | kSearchable,
          "MIG profile (GPU_I_PROFILE), e.g. 3g.40gb.", "", "", "migProfile"),
        F("compute_share", FieldType::kReal, kNum,
          "Share of the parent's compute, in GPU-equivalents (3g of 7 = 0.4286).", "GPU", "C62",
          "computeShare"),
        F("model_name", FieldType::kString, kFacet, "Parent GPU model name.", "", "", "modelName")};
    AddReadings(m.fields, false);
    AddLifecycle(m.fields, "idle, allocated-idle, active or gone");
    m.scope = {"hub", "cluster", "project", "", "", false};
    models.push_back(std::move(m));
  }
  {
    Model m{"allocation", "Allocation", "allocation",
            "A pod/container of a project holding a GPU or slice, from when to when."};
    m.entity = false;
    m.fields = {
        Key("Device key, pod, container and start time."),
        HubRef(),
        ClusterRef(),
        ProjectRef("Namespace of the holder."),
        F("project_key", FieldType::kString, kFilterable, "The project holding it.", "", "",
          "belongsTo", "project"),
        F("pod", FieldType::kString, kText | kFilterable, "Pod name."),
        F("container", FieldType::kString, kText | kFilterable, "Container name."),
        F("node", FieldType::kString, kFacet, "Host name.", "", "", "nodeName"),
        F("device_key", FieldType::kString, kRequired | kFilterable,
          "Key of the GPU or slice held.", "", "", "holds"),
        F("gpu_uuid", FieldType::kString, kSearchable | kFilterable, "UUID of the GPU."),
        F("gpu_i_id", FieldType::kString, kFilterable, "MIG instance id; null for a whole GPU."),
        F("profile", FieldType::kString, kFacet, "MIG profile; null for a whole GPU."),
        F("model_name", FieldType::kString, kFacet, "GPU model name.", "", "", "modelName"),
        F("gpu_equivalents", FieldType::kReal, kNum, "GPU-equivalents held.", "GPU", "C62"),
        F("started_at", FieldType::kTime, kRequired | kSortable | kFilterable | kWriteOnce,
          "When the holding was first seen."),
        F("ended_at", FieldType::kTime, kSortable | kFilterable, "When it ended; null while open."),
        F("last_seen_at", FieldType::kTime, kSortable | kFilterable,
          "When a snapshot last showed it."),
        F("state", FieldType::kString, kFacet, "open or closed.")};
    m.scope = {"hub", "cluster", "project", "", "", false};
    m.time_field = "started_at";
    models.push_back(std::move(m));
  }
  {
    Model m{"usage", "UsageRollup", "usage_rollup",
            "Usage of one GPU or slice by one project (or by nobody) in one UTC hour."};
    m.entity = false;
    m.fields = {
        Key("Device key, project and hour."),
        HubRef(),
        ClusterRef(),
        ProjectRef("Namespace of the holder; null for unallocated time."),
        F("node", FieldType::kString, kFacet, "Host name.", "", "", "nodeName"),
        F("device_key", FieldType::kString, kRequired | kFilterable, "Key of the GPU or slice."),
        F("model_name", FieldType::kString, kFacet, "GPU model name.", "", "", "modelName"),
        F("hour", FieldType::kTime, kRequired | kSortable | kFilterable, "Start of the UTC hour.",
          "", "", "observedAt"),
        F("allocated_seconds", FieldType::kReal, kNum, "Seconds the device was held.", "s", "SEC",
          "allocatedSeconds"),
        F("gpu_equivalent_seconds", FieldType::kReal, kNum,
          "Allocated seconds times the device's compute share.", "s", "SEC",
          "gpuEquivalentSeconds"),
        F("active_seconds", FieldType::kReal, kNum,
          "Allocated seconds weighted by activity (GPU-equivalents).", "s", "SEC", "activeSeconds"),
        F("idle_seconds", FieldType::kReal, kNum,
          "Allocated seconds with zero activity (GPU-equivalents).", "s", "SEC", "idleSeconds"),
        F("memory_byte_seconds", FieldType::kReal, kNum, "Memory held integrated over time.",
          "byte.s", "", "memoryByteSeconds"),
        F("energy_joules", FieldType::kReal, kNum, "Energy used.", "J", "JOU", "energy"),
        F("samples", FieldType::kInt, kNum, "Samples that made this row."),
        F("observed_seconds", FieldType::kReal, kNum,
          "Device-seconds its samples cover (each sample counts for the hub's sample spacing; a "
          "time-shared device's seconds are split among its holders).",
          "s", "SEC", "observedSeconds"),
        F("unobserved_seconds", FieldType::kReal, kNum,
          "Device-seconds no sample covers between two samples of the device (an outage, a dead "
          "exporter): counted neither as held nor as idle. Charged to the project holding the "
          "device on both sides of the gap, else to the unallocated row.",
          "s", "SEC", "unobservedSeconds")};
    m.scope = {"hub", "cluster", "project", "", "", false};
    m.time_field = "hour";
    m.partition_field = "hour";
    models.push_back(std::move(m));
  }
  {
    Model m{
        "gap", "ObservationGap", "observation_gap",
        "A stretch of time in which a GPU or slice had no sample: unobserved, in no GPU-hours."};
    m.entity = false;
    m.fields = {
        Key("Device key and start, {device_key}|{started_at RFC 3339}."),
        HubRef(),
        ClusterRef(),
        ProjectRef("Namespace of the project the gap is charged to (it held the device on both "
                   "sides of the gap); null when charged to unallocated time."),
        F("node", FieldType::kString, kFacet, "Host name.", "", "", "nodeName"),
        F("device_key", FieldType::kString, kRequired | kFilterable, "Key of the GPU or slice."),
        F("started_at", FieldType::kTime, kRequired | kSortable | kFilterable,
          "End of the time the device's last sample before the gap covered.", "", "", "observedAt"),
        F("ended_at", FieldType::kTime, kRequired | kSortable | kFilterable,
          "Time of the device's first sample after the gap."),
        F("seconds", FieldType::kReal, kNum, "Length of the gap.", "s", "SEC", "duration"),
        F("cause", FieldType::kString, kFacet,
          "Why no sample covers it: sync failed (the hub could not be collected and keeps no "
          "history), device missing (the hub answered without the device), exporter unreachable "
          "(the device's node exporter could not be scraped), or no sample in history (a "
          "backfill found none).")};
    m.scope = {"hub", "cluster", "project", "", "", false};
    m.time_field = "started_at";
    m.partition_field = "started_at";
    models.push_back(std::move(m));
  }
  {
    Model m{"session", "GpuSession", "gpu_session",
            "A period a workload used a GPU or slice, from Alertmanager, with its trace."};
    m.entity = false;
    m.fields = {
        Key("Alert fingerprint and start."),
        HubRef(),
        ClusterRef(),
        ProjectRef("Namespace of the workload."),
        F("pod", FieldType::kString, kText | kFilterable, "Pod name."),
        F("container", FieldType::kString, kFilterable, "Container name."),
        F("device_key", FieldType::kString, kFilterable, "Key of the GPU or slice, when known."),
        F("gpu_uuid", FieldType::kString, kSearchable | kFilterable, "UUID of the GPU."),
        F("gpu_i_id", FieldType::kString, kFilterable, "MIG instance id, for a slice."),
        F("alert_name", FieldType::kString, kFacet, "Name of the alert that opened it."),
        F("fingerprint", FieldType::kString, kFilterable, "Alertmanager fingerprint."),
        F("started_at", FieldType::kTime, kRequired | kSortable | kFilterable,
          "The alert's startsAt."),
        F("ended_at", FieldType::kTime, kSortable | kFilterable,
          "The alert's endsAt once resolved."),
        F("status", FieldType::kString, kFacet, "open or closed."),
        F("trace_id", FieldType::kString, kFilterable, "OpenTelemetry trace id (hex)."),
        F("span_id", FieldType::kString, kFilterable, "OpenTelemetry span id (hex)."),
        F("active_gpu_seconds", FieldType::kReal, kNum, "Activity-weighted GPU-seconds in it.", "s",
          "SEC"),
        F("energy_joules", FieldType::kReal, kNum, "Energy used in it.", "J", "JOU"),
        F("peak_memory_bytes", FieldType::kInt, kNum, "Highest memory use seen.", "bytes", "AD"),
        F("xid_count", FieldType::kInt, kNum, "XID errors seen during it.")};
    m.scope = {"hub", "cluster", "project", "", "", false};
    m.time_field = "started_at";
    models.push_back(std::move(m));
  }
  {
    Model m{"health-event", "HealthEvent", "health_event",
            "A health signal of a GPU: XID error, remapped rows, throttling, or a health alert."};
    m.entity = false;
    m.fields = {
        Key("Device, kind, code and time."),
        HubRef(),
        ClusterRef(),
        F("node", FieldType::kString, kFacet, "Host name.", "", "", "nodeName"),
        F("device_key", FieldType::kString, kFilterable, "Key of the GPU or slice."),
        F("gpu_uuid", FieldType::kString, kSearchable | kFilterable, "UUID of the GPU."),
        ProjectRef("Namespace holding the device when it happened, if any."),
        F("kind", FieldType::kString, kFacet, "xid, remapped_rows, thermal or alert."),
        F("code", FieldType::kInt, kFacet | kStat, "XID code or alert-specific code."),
        F("message", FieldType::kString, kSearchable, "What happened."),
        F("observed_at", FieldType::kTime, kRequired | kSortable | kFilterable,
          "When it was observed.", "", "", "observedAt"),
        F("ended_at", FieldType::kTime, kSortable | kFilterable, "When it ended, for alerts.")};
    m.scope = {"hub", "cluster", "project", "", "", false};
    m.time_field = "observed_at";
    models.push_back(std::move(m));
  }
  {
    Model m{"alert-inbox", "AlertInboxEntry", "alert_inbox",
            "Every alert occurrence the Alertmanager webhook delivered, for idempotent ingest."};
    m.entity = false;
    m.internal = true;
    m.fields = {
        Key("Alert fingerprint and startsAt in nanoseconds, {fingerprint}@{ns}."),
        HubRef(),
        F("cluster", FieldType::kString, kFacet, "Cluster of the alert, when known."),
        ProjectRef("Namespace of the alert, when it has one."),
        F("fingerprint", FieldType::kString, kRequired | kFilterable, "Alertmanager fingerprint."),
        F("alert_name", FieldType::kString, kFacet, "The alertname label."),
        F("starts_at", FieldType::kTime, kRequired | kSortable | kFilterable,
          "The alert's startsAt."),
        F("ends_at", FieldType::kTime, kSortable | kFilterable,
          "The alert's endsAt once resolved."),
        F("status", FieldType::kString, kFacet, "firing or resolved (the latest received)."),
        F("received_at", FieldType::kTime, kSortable | kFilterable | kWriteOnce,
          "When the webhook first delivered it."),
        F("updated_at", FieldType::kTime, kSortable | kFilterable,
          "When a delivery last changed it (resolution)."),
        F("alert_json", FieldType::kString, kNone, "The alert object as last received."),
        F("processed", FieldType::kBool, kFacet,
          "Whether its session or health event was written; false with an error otherwise."),
        F("error", FieldType::kString, kNone,
          "Why it could not be applied, when processed is false.")};
    m.scope = {"hub", "cluster", "project", "", "", false};
    m.time_field = "received_at";
    models.push_back(std::move(m));
  }
  {
    Model m{"span-outbox", "SpanOutboxEntry", "span_outbox",
            "Spans waiting to be exported to the OTLP collector, with their delivery state."};
    m.entity = false;
    m.internal = true;
    m.fields = {
        Key("Span id (hex) and what the row sends, {span_id}:{kind}."),
        HubRef(),
        ClusterRef(),
        ProjectRef("Namespace of the session."),
        F("session_key", FieldType::kString, kFilterable, "The session the span describes.", "", "",
          "", "session"),
        F("kind", FieldType::kString, kFacet, "What the row exports: end (the finished session)."),
        F("trace_id", FieldType::kString, kFilterable, "OpenTelemetry trace id (hex)."),
        F("span_id", FieldType::kString, kFilterable, "OpenTelemetry span id (hex)."),
        F("body", FieldType::kString, kRequired, "The OTLP/HTTP JSON ExportTraceServiceRequest."),
        F("created_at", FieldType::kTime, kRequired | kSortable | kFilterable | kWriteOnce,
          "When it was enqueued."),
        F("attempts", FieldType::kInt, kNum, "Export attempts made so far."),
        F("next_attempt_at", FieldType::kTime, kSortable | kFilterable,
          "Earliest time of the next attempt while pending."),
        F("state", FieldType::kString, kFacet, "pending, sent or dead."),
        F("last_error", FieldType::kString, kNone, "What the last failed attempt said."),
        F("http_status", FieldType::kInt, kFilterable,
          "HTTP status of the last attempt; null when no response came."),
        F("sent_at", FieldType::kTime, kSortable | kFilterable, "When the collector accepted it.")};
    m.scope = {"hub", "cluster", "project", "", "", false};
    m.time_field = "created_at";
    models.push_back(std::move(m));
  }
  {
    // Browser sign-in state (api/auth_*): signed-in sessions behind the aitelemetry_session cookie
    // and logins waiting for their /callback. The key is the SHA-256 of the secret the browser
    // holds (session id or OAuth state), so a copy of the table does not yield a usable cookie.
    // Sessions belong to no hub: the key stands in for the hub column, which no grant can match
    // (a hub name is never a 64-digit hex digest), and the store reads them with Scope::All().
    Model m{"web-session", "WebSession", "web_session",
            "Browser sign-in sessions and pending logins."};
    m.entity = false;
    m.internal = true;
    m.fields = {
        Key("SHA-256 (hex) of the session id or of the login's state."),
        F("kind", FieldType::kString, kRequired | kFilterable, "session or login."),
        F("subject", FieldType::kString, kFilterable, "The user's sub; empty for a login."),
        F("name", FieldType::kString, kNone, "preferred_username, for display."),
        F("access_token", FieldType::kString, kNone,
          "The access token from the code flow (UMA asks with it)."),
        F("id_token", FieldType::kString, kNone, "The ID token, the hint for RP-initiated logout."),
        F("grants_json", FieldType::kString, kNone,
          "The grants last computed from the issuer: {admin, manager, get[], patch[]}."),
        F("refresh_token", FieldType::kString, kNone,
          "The refresh token from the code flow; the grants are recomputed with it."),
        F("grants_at", FieldType::kTime, kNone, "When grants_json was last computed."),
        F("csrf_token", FieldType::kString, kNone, "What cookie-authenticated writes must echo."),
        F("nonce", FieldType::kString, kNone, "A login's OpenID Connect nonce."),
        F("code_verifier", FieldType::kString, kNone, "A login's PKCE code verifier."),
        F("return_to", FieldType::kString, kNone, "A login's page to go back to (a local path)."),
        F("created_at", FieldType::kTime, kRequired | kSortable | kFilterable | kWriteOnce,
          "When it was created."),
        F("expires_at", FieldType::kTime, kRequired | kSortable | kFilterable,
          "When it stops being accepted.")};
    m.scope = {"key", "", "", "", "", false};
    m.time_field = "created_at";
    models.push_back(std::move(m));
  }
  std::string error;
  models = ValidateModels(std::move(models), &error);
  return models;
}

}  // namespace

bool AsDouble(const Value& v, double* out) {
  if (auto* i = std::get_if<int64_t>(&v)) {
    *out = static_cast<double>(*i);
  } else if (auto* d = std::get_if<double>(&v)) {
    *out = *d;
  } else if (auto* b = std::get_if<bool>(&v)) {
    *out = *b ? 1 : 0;
  } else {
    return false;
  }
  return true;
}

const char* FieldTypeName(FieldType type) {
  switch (type) {
    case FieldType::kString:
      return "string";
    case FieldType::kInt:
      return "integer";
    case FieldType::kReal:
      return "number";
    case FieldType::kBool:
      return "boolean";
    case FieldType::kTime:
      return "date-time";
  }
  return "string";
}

int Model::FieldIndex(std::string_view n) const {
  if (auto it = field_ids.find(n); it != field_ids.end()) {
    const auto i = static_cast<size_t>(it->second);
    if (i < fields.size() && fields[i].name == n) return it->second;
  }
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == n) return static_cast<int>(i);
  }
  return -1;
}

const Field* Model::FindField(std::string_view n) const {
  int i = FieldIndex(n);
  return i < 0 ? nullptr : &fields[i];
}

std::vector<Model> ValidateModels(std::vector<Model> models, std::string* error) {
  for (auto& m : models) {
    std::set<std::string> seen;
    if (m.fields.empty() || m.fields[0].name != "key") {
      *error = fmt::format("model {}: first field must be \"key\"", m.name);
      return {};
    }
    for (const auto& f : m.fields) {
      if (!seen.insert(f.name).second) {
        *error = fmt::format("model {}: field {} listed twice", m.name, f.name);
        return {};
      }
    }
    if (m.FieldIndex(m.scope.hub) < 0) {
      *error = fmt::format("model {}: scope hub column {} is not a field", m.name, m.scope.hub);
      return {};
    }
    m.field_ids.clear();
    for (size_t i = 0; i < m.fields.size(); ++i) {
      m.field_ids.emplace(m.fields[i].name, static_cast<int>(i));
    }
  }
  return models;
}

const std::vector<Model>& Models() {
  static const std::vector<Model> registry = BuildRegistry();
  return registry;
}

const Model* FindModel(std::string_view name) {
  for (const auto& m : Models()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

const Model* FindModelByType(std::string_view type_name) {
  for (const auto& m : Models()) {
    if (m.type_name == type_name) return &m;
  }
  return nullptr;
}

std::string HubKey(std::string_view hub) { return fmt::format("HUB-{}", hub); }
std::string ClusterKey(std::string_view hub, std::string_view cluster) {
  return fmt::format("HUB-{}-CLUSTER-{}", hub, cluster);
}
std::string ProjectKey(std::string_view hub, std::string_view cluster, std::string_view ns) {
  return fmt::format("HUB-{}-CLUSTER-{}-PROJECT-{}", hub, cluster, ns);
}
std::string NodeKey(std::string_view hub, std::string_view cluster, std::string_view node) {
  return fmt::format("HUB-{}-CLUSTER-{}-NODE-{}", hub, cluster, node);
}
std::string GpuKey(std::string_view hub, std::string_view cluster, std::string_view node,
                   std::string_view uuid) {
  return fmt::format("HUB-{}-CLUSTER-{}-NODE-{}-GPU-{}", hub, cluster, node, uuid);
}
std::string SliceKey(std::string_view gpu_key, std::string_view gpu_i_id) {
  return fmt::format("{}-SLICE-{}", gpu_key, gpu_i_id);
}

}  // namespace aitelemetry::model
