// AlertService on SQLite and PostgreSQL: idempotent ingest, session open/close with exact times,
// one outbox row per finished session, health events, and all-or-nothing failures.
#include "trace/alert_service.h"

#include <atomic>
#include <chrono>
#include <iterator>
#include <map>
#include <optional>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/registry.h"
#include "trace/outbox.h"
#include "trace/session_identity.h"
#include "trace/test_support.h"

namespace aitelemetry::trace {
namespace {

using Json = nlohmann::json;
using model::FindModel;
using model::Record;

constexpr char kUuid[] = "GPU-5f1c2a3b-0000-4000-8000-000000000001";
constexpr char kFingerprint[] = "a1b2c3d4e5f60718";

Timestamp T(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

Json SessionLabels() {
  return {{"alertname", "GpuWorkloadActive"},
          {"aitelemetry", "session"},
          {"cluster", "nerc-ocp-prod"},
          {"namespace", "ai-lab"},
          {"pod", "notebook-0"},
          {"container", "jupyter"},
          {"UUID", kUuid},
          {"modelName", "NVIDIA A100-SXM4-40GB"}};
}

Json MakeAlert(const char* status, Json labels, const char* starts_at,
               const char* ends_at = "0001-01-01T00:00:00Z",
               const char* fingerprint = kFingerprint) {
  return {{"status", status},
          {"labels", std::move(labels)},
          {"annotations", {{"summary", "something happened"}}},
          {"startsAt", starts_at},
          {"endsAt", ends_at},
          {"generatorURL", "http://prometheus/graph"},
          {"fingerprint", fingerprint}};
}

std::string Body(std::vector<Json> alerts) {
  bool all_resolved = true;
  for (const auto& a : alerts) all_resolved = all_resolved && a["status"] == "resolved";
  Json body = {{"version", "4"},
               {"groupKey", "{}:{}"},
               {"truncatedAlerts", 0},
               {"status", all_resolved ? "resolved" : "firing"},
               {"receiver", "aitelemetry"},
               {"groupLabels", Json::object()},
               {"commonLabels", Json::object()},
               {"commonAnnotations", Json::object()},
               {"externalURL", "http://alertmanager"},
               {"alerts", std::move(alerts)}};
  return body.dump();
}

class AlertServiceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string url = test_support::FreshDatabase(GetParam());
    ASSERT_FALSE(url.empty()) << "no database for " << GetParam()
                              << " (PostgreSQL is started by the ctest fixture tests/pg.sh)";
    auto s = store::Store::Open({url, 2, true});
    ASSERT_TRUE(s) << s.error().ToString();
    store_ = std::move(*s);
    AlertOptions options;
    options.default_hub = "moc";
    options.resource = {"0.1.0", {}};
    ASSERT_TRUE(ValidateAlertOptions(options));
    service_ = std::make_unique<AlertService>(*store_, options);
  }

  IngestResult Ingest(const std::string& body, Timestamp at = T("2026-11-01T12:00:05Z")) {
    auto r = service_->Ingest(body, at);
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? *r : IngestResult{};
  }

  std::vector<Record> Rows(const char* model) {
    store::QuerySpec spec;
    spec.rows = 1000;
    auto r = store_->Query(*FindModel(model), spec, store::Scope::All());
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? r->rows : std::vector<Record>{};
  }

  int64_t TotalRows() {
    int64_t n = 0;
    for (const auto& m : model::Models()) {
      auto r = store_->Query(m, {}, store::Scope::All());
      EXPECT_TRUE(r) << m.name;
      if (r) n += r->found;
    }
    return n;
  }

  std::unique_ptr<store::Store> store_;
  std::unique_ptr<AlertService> service_;
};

TEST_P(AlertServiceTest, InternalModelsHaveTables) {
  for (const char* name : {kAlertInboxModel, kSpanOutboxModel}) {
    const model::Model* m = FindModel(name);
    ASSERT_NE(m, nullptr) << name;
    EXPECT_TRUE(m->internal);
    EXPECT_FALSE(m->entity);
    EXPECT_TRUE(store_->Query(*m, {}, store::Scope::All())) << name;
  }
  EXPECT_EQ(TotalRows(), 0);
}

TEST_P(AlertServiceTest, ReplayedWebhookStoresOneSessionAndOneOutboxRow) {
  std::string body = Body(
      {MakeAlert("resolved", SessionLabels(), "2026-11-01T10:15:30Z", "2026-11-01T12:00:00Z")});
  IngestResult first = Ingest(body);
  EXPECT_EQ(first.new_alerts, 1);
  EXPECT_EQ(first.sessions_closed, 1);
  EXPECT_EQ(first.spans_enqueued, 1);
  IngestResult again = Ingest(body, T("2026-11-01T12:05:00Z"));
  EXPECT_EQ(again.unchanged, 1);
  EXPECT_EQ(again.spans_enqueued, 0);
  EXPECT_EQ(again.sessions_closed, 0);
  EXPECT_EQ(Rows("session").size(), 1u);
  EXPECT_EQ(Rows(kSpanOutboxModel).size(), 1u);
  EXPECT_EQ(Rows(kAlertInboxModel).size(), 1u);
  EXPECT_EQ(TotalRows(), 3);
}

TEST_P(AlertServiceTest, FiringThenResolvedClosesWithExactTimesAndQueuesTheSpan) {
  const char* start = "2026-11-01T10:15:30.123456789Z";
  const char* end = "2026-11-01T12:00:00.000000001Z";
  IngestResult opened =
      Ingest(Body({MakeAlert("firing", SessionLabels(), start)}), T("2026-11-01T10:16:00Z"));
  EXPECT_EQ(opened.sessions_opened, 1);
  auto sessions = Rows("session");
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0].GetString("status"), kSessionOpen);
  EXPECT_TRUE(model::IsNull(sessions[0].Get("ended_at")));
  EXPECT_TRUE(Rows(kSpanOutboxModel).empty());
  EXPECT_EQ(ReadTraceMetrics(*store_, T("2026-11-01T10:17:00Z"))->sessions_open, 1);

  IngestResult closed = Ingest(Body({MakeAlert("resolved", SessionLabels(), start, end)}));
  EXPECT_EQ(closed.resolutions, 1);
  EXPECT_EQ(closed.sessions_closed, 1);
  EXPECT_EQ(closed.spans_enqueued, 1);

  AlertIdentity identity{kFingerprint, T(start)};
  sessions = Rows("session");
  ASSERT_EQ(sessions.size(), 1u);
  const Record& s = sessions[0];
  EXPECT_EQ(s.Key(), identity.Key());
  EXPECT_EQ(s.GetString("status"), kSessionClosed);
  EXPECT_EQ(std::get<int64_t>(s.Get("started_at")), 1793528130123456789);
  EXPECT_EQ(std::get<int64_t>(s.Get("ended_at")), 1793534400000000001);
  EXPECT_EQ(s.GetString("hub"), "moc");
  EXPECT_EQ(s.GetString("cluster"), "nerc-ocp-prod");
  EXPECT_EQ(s.GetString("project"), "ai-lab");
  EXPECT_EQ(s.GetString("pod"), "notebook-0");
  EXPECT_EQ(s.GetString("container"), "jupyter");
  EXPECT_EQ(s.GetString("trace_id"), ToHex(TraceIdFor(identity)));
  EXPECT_EQ(s.GetString("span_id"), ToHex(SpanIdFor(identity)));
  // Nothing was collected for the window: unknown, not zero.
  EXPECT_TRUE(model::IsNull(s.Get("active_gpu_seconds")));
  EXPECT_TRUE(model::IsNull(s.Get("energy_joules")));
  EXPECT_TRUE(model::IsNull(s.Get("xid_count")));

  auto outbox = Rows(kSpanOutboxModel);
  ASSERT_EQ(outbox.size(), 1u);
  EXPECT_EQ(outbox[0].Key(), ToHex(SpanIdFor(identity)) + ":end");
  EXPECT_EQ(outbox[0].GetString("state"), kOutboxPending);
  EXPECT_EQ(outbox[0].GetString("session_key"), identity.Key());
  EXPECT_EQ(std::get<int64_t>(outbox[0].Get("attempts")), 0);
  Json request = Json::parse(outbox[0].GetString("body"));
  const Json& span = request["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
  EXPECT_EQ(span["traceId"], ToHex(TraceIdFor(identity)));
  EXPECT_EQ(span["spanId"], ToHex(SpanIdFor(identity)));
  EXPECT_EQ(span["name"], "gpu.session");
  EXPECT_EQ(span["startTimeUnixNano"], "1793528130123456789");
  EXPECT_EQ(span["endTimeUnixNano"], "1793534400000000001");
  EXPECT_EQ(span["attributes"][2]["key"], "k8s.pod.name");
  EXPECT_EQ(span["attributes"][2]["value"]["stringValue"], "notebook-0");
  EXPECT_EQ(ReadTraceMetrics(*store_, T("2026-11-01T12:00:05Z"))->sessions_open, 0);
}

TEST_P(AlertServiceTest, ResolvedBeforeFiringCreatesAClosedSessionThatStaysClosed) {
  const char* start = "2026-11-01T10:00:00Z";
  Ingest(Body({MakeAlert("resolved", SessionLabels(), start, "2026-11-01T11:00:00Z")}));
  IngestResult late = Ingest(Body({MakeAlert("firing", SessionLabels(), start)}));
  EXPECT_EQ(late.unchanged, 1);
  EXPECT_EQ(late.sessions_opened, 0);
  auto sessions = Rows("session");
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0].GetString("status"), kSessionClosed);
  EXPECT_EQ(std::get<int64_t>(sessions[0].Get("started_at")), ToUnixNanos(T(start)));
  EXPECT_EQ(std::get<int64_t>(sessions[0].Get("ended_at")), ToUnixNanos(T("2026-11-01T11:00:00Z")));
  EXPECT_EQ(Rows(kSpanOutboxModel).size(), 1u);
}

TEST_P(AlertServiceTest, RepeatFiringChangesNothing) {
  std::string body = Body({MakeAlert("firing", SessionLabels(), "2026-11-01T10:00:00Z")});
  Ingest(body, T("2026-11-01T10:01:00Z"));
  auto before_inbox = Rows(kAlertInboxModel);
  auto before_session = Rows("session");
  IngestResult repeat = Ingest(body, T("2026-11-01T14:01:00Z"));  // repeat_interval later
  EXPECT_EQ(repeat.unchanged, 1);
  EXPECT_EQ(repeat.new_alerts + repeat.sessions_opened + repeat.resolutions, 0);
  auto after_inbox = Rows(kAlertInboxModel);
  auto after_session = Rows("session");
  ASSERT_EQ(after_inbox.size(), 1u);
  ASSERT_EQ(after_session.size(), 1u);
  EXPECT_EQ(after_inbox[0].values, before_inbox[0].values);
  EXPECT_EQ(after_session[0].values, before_session[0].values);
  EXPECT_EQ(std::get<int64_t>(after_inbox[0].Get("received_at")),
            ToUnixNanos(T("2026-11-01T10:01:00Z")));
  EXPECT_EQ(TotalRows(), 2);
}

TEST_P(AlertServiceTest, NonSessionAlertBecomesAHealthEvent) {
  Json labels = {{"alertname", "GpuXidError"}, {"aitelemetry", "health"},
                 {"cluster", "nerc-ocp-prod"}, {"UUID", kUuid},
                 {"Hostname", "gpu-node-1"},   {"err_code", "79"}};
  const char* start = "2026-11-01T10:00:00Z";
  IngestResult r = Ingest(
      Body({MakeAlert("firing", labels, start, "0001-01-01T00:00:00Z", "00ff00ff00ff00ff")}));
  EXPECT_EQ(r.health_events, 1);
  EXPECT_TRUE(Rows("session").empty());
  auto events = Rows("health-event");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].GetString("kind"), "alert");
  EXPECT_EQ(std::get<int64_t>(events[0].Get("code")), 79);
  EXPECT_EQ(events[0].GetString("node"), "gpu-node-1");
  EXPECT_EQ(events[0].GetString("device_key"),
            model::GpuKey("moc", "nerc-ocp-prod", "gpu-node-1", kUuid));
  EXPECT_EQ(events[0].GetString("message"), "GpuXidError: something happened");
  EXPECT_EQ(std::get<int64_t>(events[0].Get("observed_at")), ToUnixNanos(T(start)));
  EXPECT_TRUE(model::IsNull(events[0].Get("ended_at")));

  Ingest(Body({MakeAlert("resolved", labels, start, "2026-11-01T10:30:00Z", "00ff00ff00ff00ff")}));
  events = Rows("health-event");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(events[0].Get("ended_at")), ToUnixNanos(T("2026-11-01T10:30:00Z")));
  EXPECT_TRUE(Rows(kSpanOutboxModel).empty());
}

TEST_P(AlertServiceTest, MalformedBodiesStoreNothing) {
  std::string good = Body(
      {MakeAlert("resolved", SessionLabels(), "2026-11-01T10:00:00Z", "2026-11-01T11:00:00Z")});
  Json bad_time = Json::parse(good);
  bad_time["alerts"][0]["startsAt"] = "yesterday";
  Json second_bad = Json::parse(good);
  second_bad["alerts"].push_back(MakeAlert("resolved", SessionLabels(), "2026-11-01T10:00:00Z"));
  second_bad["alerts"][1].erase("fingerprint");
  Json v3 = Json::parse(good);
  v3["version"] = "3";
  struct Case {
    std::string body;
    ErrorCode code;
  } cases[] = {
      {"{not json", ErrorCode::kInvalidArgument},
      {"", ErrorCode::kInvalidArgument},
      {bad_time.dump(), ErrorCode::kInvalidArgument},
      {second_bad.dump(), ErrorCode::kInvalidArgument},  // the good first alert is not stored
      {v3.dump(), ErrorCode::kInvalidArgument},
      {std::string(5 << 20, ' '), ErrorCode::kPayloadTooLarge},
  };
  for (const auto& c : cases) {
    auto r = service_->Ingest(c.body, T("2026-11-01T12:00:00Z"));
    ASSERT_FALSE(r) << c.body.substr(0, 80);
    EXPECT_EQ(r.error().code, c.code) << r.error().ToString();
  }
  EXPECT_EQ(TotalRows(), 0);
}

TEST_P(AlertServiceTest, SessionAlertWithoutAPodIsKeptButNotApplied) {
  Json labels = SessionLabels();
  labels.erase("pod");
  IngestResult r = Ingest(Body({MakeAlert("firing", labels, "2026-11-01T10:00:00Z")}));
  EXPECT_EQ(r.not_applied, 1);
  EXPECT_TRUE(Rows("session").empty());
  auto inbox = Rows(kAlertInboxModel);
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(std::get<bool>(inbox[0].Get("processed")), false);
  EXPECT_NE(inbox[0].GetString("error").find("pod"), std::string::npos);
  Json stored = Json::parse(inbox[0].GetString("alert_json"));
  EXPECT_EQ(stored["fingerprint"], kFingerprint);
  EXPECT_EQ(stored["startsAt"], "2026-11-01T10:00:00Z");
}

TEST_P(AlertServiceTest, ClosingTotalsUsageFromRollupsInTheWindow) {
  // The GPU as the collector stored it: the session alert has no node label, so the device key
  // comes from here.
  Record gpu(*FindModel("gpu"));
  const std::string gpu_key = model::GpuKey("moc", "nerc-ocp-prod", "gpu-node-1", kUuid);
  gpu.Set("key", gpu_key);
  gpu.Set("hub", std::string("moc"));
  gpu.Set("cluster", std::string("nerc-ocp-prod"));
  gpu.Set("node", std::string("gpu-node-1"));
  gpu.Set("uuid", std::string(kUuid));
  ASSERT_TRUE(store_->Upsert(*FindModel("gpu"), std::span<const Record>(&gpu, 1)));
  std::vector<Record> usage;
  for (auto [hour, project, active, energy] :
       std::vector<std::tuple<const char*, const char*, double, double>>{
           {"2026-11-01T09:00:00Z", "ai-lab", 3600, 1000},    // before the session
           {"2026-11-01T10:00:00Z", "ai-lab", 1800, 400},     // half inside
           {"2026-11-01T11:00:00Z", "ai-lab", 3600, 800},     // inside
           {"2026-11-01T11:00:00Z", "other", 3600, 900},      // another project
           {"2026-11-01T12:00:00Z", "ai-lab", 3600, 800}}) {  // after
    Record u(*FindModel("usage"));
    u.Set("key", fmt::format("{}-{}-{}", gpu_key, project, hour));
    u.Set("hub", std::string("moc"));
    u.Set("cluster", std::string("nerc-ocp-prod"));
    u.Set("project", std::string(project));
    u.Set("device_key", gpu_key);
    u.Set("hour", ToUnixNanos(T(hour)));
    u.Set("active_seconds", active);
    u.Set("energy_joules", energy);
    usage.push_back(u);
  }
  ASSERT_TRUE(store_->Upsert(*FindModel("usage"), usage));
  std::vector<Record> xids;
  for (const char* at : {"2026-11-01T10:45:00Z", "2026-11-01T13:00:00Z"}) {
    Record x(*FindModel("health-event"));
    x.Set("key", fmt::format("xid-{}", at));
    x.Set("hub", std::string("moc"));
    x.Set("cluster", std::string("nerc-ocp-prod"));
    x.Set("gpu_uuid", std::string(kUuid));
    x.Set("kind", std::string("xid"));
    x.Set("observed_at", ToUnixNanos(T(at)));
    xids.push_back(x);
  }
  ASSERT_TRUE(store_->Upsert(*FindModel("health-event"), xids));

  Ingest(Body(
      {MakeAlert("resolved", SessionLabels(), "2026-11-01T10:30:00Z", "2026-11-01T12:00:00Z")}));
  auto sessions = Rows("session");
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0].GetString("device_key"), gpu_key);
  EXPECT_DOUBLE_EQ(std::get<double>(sessions[0].Get("active_gpu_seconds")), 900 + 3600);
  EXPECT_DOUBLE_EQ(std::get<double>(sessions[0].Get("energy_joules")), 200 + 800);
  EXPECT_EQ(std::get<int64_t>(sessions[0].Get("xid_count")), 1);
  EXPECT_TRUE(model::IsNull(sessions[0].Get("peak_memory_bytes")));
  Json request = Json::parse(Rows(kSpanOutboxModel).at(0).GetString("body"));
  bool found = false;
  for (const auto& a : request["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"]) {
    if (a["key"] == "gpu.active_seconds") {
      found = true;
      EXPECT_DOUBLE_EQ(a["value"]["doubleValue"].get<double>(), 4500);
    }
  }
  EXPECT_TRUE(found);
}

TEST_P(AlertServiceTest, ConcurrentDeliveriesOfOneAlertEnqueueOnce) {
  // An Alertmanager HA pair sends the same notification from both instances at once.
  std::string body = Body(
      {MakeAlert("resolved", SessionLabels(), "2026-11-01T10:00:00Z", "2026-11-01T11:00:00Z")});
  std::atomic<int64_t> new_alerts{0}, enqueued{0}, failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto r = service_->Ingest(body, T("2026-11-01T11:00:01Z"));
      if (!r) {
        ++failures;
        return;
      }
      new_alerts += r->new_alerts;
      enqueued += r->spans_enqueued;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(new_alerts, 1);
  EXPECT_EQ(enqueued, 1);
  EXPECT_EQ(Rows(kSpanOutboxModel).size(), 1u);
  EXPECT_EQ(Rows("session").size(), 1u);
}

// A small fleet for the batch tests: two GPUs as the collector stored them (found by UUID when an
// alert has no node label), hourly usage of several devices and projects with fractional values
// (sums that depend on their order), and XID events on two GPUs.
Status SeedFleet(store::Store& store) {
  std::vector<Record> gpus;
  for (int g : {1, 2}) {
    Record gpu(*FindModel("gpu"));
    const std::string uuid = fmt::format("GPU-0000000{}-0000-4000-8000-000000000000", g);
    gpu.Set("key", model::GpuKey("moc", "nerc-ocp-prod", fmt::format("gpu-node-{}", g), uuid));
    gpu.Set("hub", std::string("moc"));
    gpu.Set("cluster", std::string("nerc-ocp-prod"));
    gpu.Set("node", fmt::format("gpu-node-{}", g));
    gpu.Set("uuid", uuid);
    gpus.push_back(gpu);
  }
  if (auto st = store.Upsert(*FindModel("gpu"), gpus); !st) return st;
  std::vector<Record> usage;
  std::vector<Record> xids;
  for (int g = 1; g <= 4; ++g) {
    const std::string uuid = fmt::format("GPU-0000000{}-0000-4000-8000-000000000000", g);
    const std::string gpu_key =
        model::GpuKey("moc", "nerc-ocp-prod", fmt::format("gpu-node-{}", g), uuid);
    for (const std::string& device : {gpu_key, model::SliceKey(gpu_key, "3")}) {
      for (const char* project : {"ai-lab", "other"}) {
        for (int hour = 8; hour <= 14; ++hour) {
          Record u(*FindModel("usage"));
          const std::string at = fmt::format("2026-11-01T{:02}:00:00Z", hour);
          u.Set("key", fmt::format("{}-{}-{}", device, project, at));
          u.Set("hub", std::string("moc"));
          u.Set("cluster", std::string("nerc-ocp-prod"));
          u.Set("project", std::string(project));
          u.Set("device_key", device);
          u.Set("hour", ToUnixNanos(T(at.c_str())));
          u.Set("active_seconds", 0.1 * hour + 0.01 * g + 3000.3);
          u.Set("energy_joules", 0.7 * hour + 0.03 * g + 900.9);
          usage.push_back(u);
        }
      }
    }
    for (const char* at :
         {"2026-11-01T09:30:00Z", "2026-11-01T10:45:00Z", "2026-11-01T13:10:00Z"}) {
      if (g > 2) break;
      Record x(*FindModel("health-event"));
      x.Set("key", fmt::format("xid-{}-{}", g, at));
      x.Set("hub", std::string("moc"));
      x.Set("cluster", std::string("nerc-ocp-prod"));
      x.Set("gpu_uuid", uuid);
      x.Set("kind", std::string("xid"));
      x.Set("observed_at", ToUnixNanos(T(at)));
      xids.push_back(x);
    }
  }
  if (auto st = store.Upsert(*FindModel("usage"), usage); !st) return st;
  return store.Upsert(*FindModel("health-event"), xids);
}

// Session labels of GPU `g` (1-4; 1 and 2 are stored GPUs), pod `pod`, with or without a node
// label, as a whole GPU or as MIG slice 3.
Json FleetLabels(int g, const std::string& pod, bool node_label, bool slice,
                 const char* project = "ai-lab") {
  Json labels = SessionLabels();
  labels["UUID"] = fmt::format("GPU-0000000{}-0000-4000-8000-000000000000", g);
  labels["pod"] = pod;
  labels["namespace"] = project;
  if (node_label) labels["Hostname"] = fmt::format("gpu-node-{}", g);
  if (slice) {
    labels["alertname"] = "GpuSliceWorkloadActive";
    labels["GPU_I_ID"] = "3";
    labels["GPU_I_PROFILE"] = "3g.40gb";
  }
  return labels;
}

// The deliveries of a busy hour, in order: sessions firing, then resolving (some twice, one
// resolved without ever firing, one firing again after its resolution), health alerts, and an
// alert that cannot be applied.
std::vector<Json> BusyHour() {
  struct S {
    int gpu;
    const char* pod;
    bool node;
    bool slice;
    const char* project;
    const char* start;
    const char* end;
    const char* fingerprint;
  } s[] = {
      {1, "train-0", false, false, "ai-lab", "2026-11-01T09:10:00Z", "2026-11-01T12:20:00Z",
       "0000000000000001"},
      {2, "train-1", false, false, "other", "2026-11-01T10:00:00Z", "2026-11-01T10:30:00Z",
       "0000000000000002"},
      {3, "infer-0", true, false, "ai-lab", "2026-11-01T08:30:00.5Z", "2026-11-01T13:59:59Z",
       "0000000000000003"},
      {4, "infer-1", true, true, "other", "2026-11-01T11:15:00Z", "2026-11-01T11:15:00Z",
       "0000000000000004"},
      {1, "train-2", true, true, "ai-lab", "2026-11-01T09:00:00Z", "2026-11-01T14:00:00Z",
       "0000000000000005"},
      {2, "unknown-gpu", false, false, "ai-lab", "2026-11-01T12:00:00Z", "2026-11-01T12:40:00Z",
       "0000000000000006"},
  };
  Json health = {{"alertname", "GpuXidError"},
                 {"cluster", "nerc-ocp-prod"},
                 {"UUID", kUuid},
                 {"Hostname", "gpu-node-1"},
                 {"err_code", "79"}};
  Json no_pod = SessionLabels();
  no_pod.erase("pod");
  std::vector<Json> alerts;
  for (const auto& x : s) {
    if (std::string(x.pod) == "unknown-gpu") continue;  // resolved without firing, below
    alerts.push_back(MakeAlert("firing", FleetLabels(x.gpu, x.pod, x.node, x.slice, x.project),
                               x.start, "0001-01-01T00:00:00Z", x.fingerprint));
  }
  alerts.push_back(MakeAlert("firing", health, "2026-11-01T10:00:00Z", "0001-01-01T00:00:00Z",
                             "00000000000000aa"));
  alerts.push_back(MakeAlert("firing", no_pod, "2026-11-01T10:00:00Z", "0001-01-01T00:00:00Z",
                             "00000000000000bb"));
  for (const auto& x : s) {
    Json labels = FleetLabels(x.gpu, x.pod, x.node, x.slice, x.project);
    if (std::string(x.pod) == "unknown-gpu") labels["UUID"] = "GPU-ffffffff-0000-4000-8000-0";
    alerts.push_back(MakeAlert("resolved", labels, x.start, x.end, x.fingerprint));
  }
  alerts.push_back(alerts[alerts.size() - 3]);  // a repeated resolution
  alerts.push_back(MakeAlert("firing", FleetLabels(1, "train-0", false, false),
                             "2026-11-01T09:10:00Z", "0001-01-01T00:00:00Z", "0000000000000001"));
  alerts.push_back(MakeAlert("resolved", health, "2026-11-01T10:00:00Z", "2026-11-01T10:05:00Z",
                             "00000000000000aa"));
  return alerts;
}

IngestResult& operator+=(IngestResult& a, const IngestResult& b) {
  a.alerts += b.alerts;
  a.new_alerts += b.new_alerts;
  a.resolutions += b.resolutions;
  a.unchanged += b.unchanged;
  a.sessions_opened += b.sessions_opened;
  a.sessions_closed += b.sessions_closed;
  a.spans_enqueued += b.spans_enqueued;
  a.health_events += b.health_events;
  a.not_applied += b.not_applied;
  return a;
}

std::vector<int64_t> Counts(const IngestResult& r) {
  return {r.alerts,          r.new_alerts,     r.resolutions,   r.unchanged,  r.sessions_opened,
          r.sessions_closed, r.spans_enqueued, r.health_events, r.not_applied};
}

// Every row the service writes, per model, in key order.
std::map<std::string, std::vector<std::vector<model::Value>>> Written(store::Store& store) {
  std::map<std::string, std::vector<std::vector<model::Value>>> out;
  for (const char* name : {"session", "health-event", kSpanOutboxModel, kAlertInboxModel}) {
    store::QuerySpec spec;
    spec.rows = 1000;
    auto r = store.Query(*FindModel(name), spec, store::Scope::All());
    EXPECT_TRUE(r) << r.error().ToString();
    if (!r) continue;
    for (const auto& row : r->rows) out[name].push_back(row.values);
  }
  return out;
}

// One body of many alerts (sessions closing by the dozen) must write exactly what the same alerts
// write one body at a time: the same sessions with the same usage totals, the same outbox rows
// byte for byte, the same inbox; and a replay of the body writes nothing.
TEST_P(AlertServiceTest, ABodyOfManyAlertsWritesWhatTheyWriteOneAtATime) {
  const Timestamp at = T("2026-11-01T14:00:05Z");
  const std::vector<Json> alerts = BusyHour();
  std::vector<std::vector<std::vector<Json>>> groupings(3);
  for (const auto& a : alerts) groupings[0].push_back({a});  // one alert per body
  groupings[1].resize(2);                                    // firing, then the rest
  for (size_t i = 0; i < alerts.size(); ++i) groupings[1][i < 7 ? 0 : 1].push_back(alerts[i]);
  groupings[2] = {alerts};  // everything in one body
  ASSERT_EQ(alerts[6]["fingerprint"], "00000000000000bb");

  std::vector<std::map<std::string, std::vector<std::vector<model::Value>>>> written;
  std::vector<std::vector<int64_t>> counts;
  for (const auto& bodies : groupings) {
    auto s = store::Store::Open({test_support::FreshDatabase(GetParam()), 2, true});
    ASSERT_TRUE(s) << s.error().ToString();
    ASSERT_TRUE(SeedFleet(**s));
    AlertOptions options;
    options.default_hub = "moc";
    options.resource = {"0.1.0", {}};
    AlertService service(**s, options);
    IngestResult total;
    for (const auto& body : bodies) {
      auto r = service.Ingest(Body(body), at);
      ASSERT_TRUE(r) << r.error().ToString();
      total += *r;
    }
    written.push_back(Written(**s));
    counts.push_back(Counts(total));
    // A replay changes nothing and writes nothing.
    for (const auto& body : bodies) {
      auto r = service.Ingest(Body(body), at + std::chrono::minutes(5));
      ASSERT_TRUE(r) << r.error().ToString();
      EXPECT_EQ(r->unchanged, r->alerts);
      EXPECT_EQ(r->new_alerts + r->resolutions + r->sessions_opened + r->sessions_closed +
                    r->spans_enqueued + r->health_events,
                0);
    }
    EXPECT_EQ(Written(**s), written.back());
  }
  EXPECT_EQ(written[0]["session"].size(), 6u);
  EXPECT_EQ(written[0][kSpanOutboxModel].size(), 6u);
  EXPECT_EQ(counts[0], (std::vector<int64_t>{16, 8, 6, 2, 5, 6, 6, 2, 1}));
  for (size_t g = 1; g < groupings.size(); ++g) {
    EXPECT_EQ(counts[g], counts[0]) << "grouping " << g;
    EXPECT_EQ(written[g], written[0]) << "grouping " << g;
  }
  // The totals, to the last bit, as the per-session usage queries computed them before ingest
  // was batched (rows summed in key order; a session of zero length or unknown device has none).
  struct Totals {
    const char* key;
    std::optional<double> active_gpu_seconds, energy_joules;
    std::optional<int64_t> xid_count;
  };
  const Totals want[] = {
      {"0000000000000001@1793524200000000000", 9504.2316666666684, 2875.6950000000002, 2},
      {"0000000000000002@1793527200000000000", 1500.6600000000001, 453.97999999999996, 0},
      {"0000000000000003@1793521800500000000", 16506.464390277779, 4996.3662819444444, 0},
      {"0000000000000004@1793531700000000000", {}, {}, {}},
      {"0000000000000005@1793523600000000000", 15007.050000000001, 4543.1499999999996, 3},
      {"0000000000000006@1793534400000000000", {}, {}, {}},
  };
  ASSERT_EQ(written[0]["session"].size(), std::size(want));
  for (size_t i = 0; i < std::size(want); ++i) {
    Record s(*FindModel("session"));
    s.values = written[0]["session"][i];
    EXPECT_EQ(s.Key(), want[i].key);
    auto real = [&](const char* field) -> std::optional<double> {
      if (model::IsNull(s.Get(field))) return std::nullopt;
      return std::get<double>(s.Get(field));
    };
    EXPECT_EQ(real("active_gpu_seconds"), want[i].active_gpu_seconds) << s.Key();
    EXPECT_EQ(real("energy_joules"), want[i].energy_joules) << s.Key();
    std::optional<int64_t> xids;
    if (!model::IsNull(s.Get("xid_count"))) xids = std::get<int64_t>(s.Get("xid_count"));
    EXPECT_EQ(xids, want[i].xid_count) << s.Key();
  }
}

// Bodies larger than one batched query (256 keys, 256 usage windows): 600 sessions spread over
// three days and eight devices, with usage rows and XID events, give the same rows whether they
// come in one body or in bodies of 7.
TEST_P(AlertServiceTest, BodiesLargerThanOneQueryChunkWriteTheSameRows) {
  const Timestamp day = T("2026-11-01T00:00:00Z");
  const auto hour = std::chrono::hours(1);
  std::vector<Json> firing, resolved;
  for (int i = 0; i < 600; ++i) {
    const int gpu = i % 8;
    const Timestamp start = day + std::chrono::minutes((i * 37) % (3 * 24 * 60));
    const Timestamp end = start + std::chrono::minutes(5 + (i * 53) % 400);
    Json labels = SessionLabels();
    labels["UUID"] = fmt::format("GPU-0000000{}-0000-4000-8000-000000000000", gpu);
    labels["Hostname"] = fmt::format("gpu-node-{}", gpu);
    labels["pod"] = fmt::format("pod-{}", i);
    labels["namespace"] = i % 3 ? "ai-lab" : "other";
    const std::string fingerprint = fmt::format("{:016x}", 0xabc000 + i);
    const std::string from = FormatRfc3339(start), to = FormatRfc3339(end);
    firing.push_back(
        MakeAlert("firing", labels, from.c_str(), "0001-01-01T00:00:00Z", fingerprint.c_str()));
    resolved.push_back(
        MakeAlert("resolved", labels, from.c_str(), to.c_str(), fingerprint.c_str()));
  }
  auto seed = [&](store::Store& store) -> Status {
    std::vector<Record> usage, xids;
    for (int gpu = 0; gpu < 8; ++gpu) {
      const std::string uuid = fmt::format("GPU-0000000{}-0000-4000-8000-000000000000", gpu);
      const std::string device =
          model::GpuKey("moc", "nerc-ocp-prod", fmt::format("gpu-node-{}", gpu), uuid);
      for (int h = 0; h < 80; ++h) {
        for (const char* project : {"ai-lab", "other"}) {
          if ((h + gpu) % 5 == 0) continue;  // hours nothing was collected
          Record u(*FindModel("usage"));
          u.Set("key", fmt::format("{}-{}-{}", device, project, h));
          u.Set("hub", std::string("moc"));
          u.Set("cluster", std::string("nerc-ocp-prod"));
          u.Set("project", std::string(project));
          u.Set("device_key", device);
          u.Set("hour", ToUnixNanos(day + h * hour));
          u.Set("active_seconds", 1000.1 + 0.37 * h + gpu);
          u.Set("energy_joules", 300.3 + 0.11 * h * gpu);
          usage.push_back(u);
        }
        Record x(*FindModel("health-event"));
        x.Set("key", fmt::format("xid-{}-{}", gpu, h));
        x.Set("hub", std::string("moc"));
        x.Set("cluster", std::string("nerc-ocp-prod"));
        x.Set("gpu_uuid", uuid);
        x.Set("kind", std::string("xid"));
        x.Set("observed_at", ToUnixNanos(day + h * hour + std::chrono::minutes(7 * gpu)));
        if (h % 3 == gpu % 3) xids.push_back(x);
      }
    }
    if (auto st = store.Upsert(*FindModel("usage"), usage); !st) return st;
    return store.Upsert(*FindModel("health-event"), xids);
  };
  std::vector<std::map<std::string, std::vector<std::vector<model::Value>>>> written;
  for (size_t per_body : {size_t{600}, size_t{7}}) {
    auto s = store::Store::Open({test_support::FreshDatabase(GetParam()), 2, true});
    ASSERT_TRUE(s) << s.error().ToString();
    ASSERT_TRUE(seed(**s));
    AlertOptions options;
    options.default_hub = "moc";
    AlertService service(**s, options);
    for (const auto* alerts : {&firing, &resolved}) {
      for (size_t i = 0; i < alerts->size(); i += per_body) {
        std::vector<Json> body(alerts->begin() + i,
                               alerts->begin() + std::min(alerts->size(), i + per_body));
        auto r = service.Ingest(Body(body), T("2026-11-04T12:00:00Z"));
        ASSERT_TRUE(r) << r.error().ToString();
        EXPECT_EQ(r->new_alerts + r->resolutions, static_cast<int64_t>(body.size()));
      }
    }
    store::QuerySpec spec;
    spec.rows = 2000;
    std::map<std::string, std::vector<std::vector<model::Value>>> rows;
    for (const char* name : {"session", kSpanOutboxModel, kAlertInboxModel}) {
      auto r = (*s)->Query(*FindModel(name), spec, store::Scope::All());
      ASSERT_TRUE(r) << r.error().ToString();
      ASSERT_EQ(r->rows.size(), 600u) << name;
      for (const auto& row : r->rows) rows[name].push_back(row.values);
    }
    written.push_back(std::move(rows));
  }
  EXPECT_EQ(written[0], written[1]);
  int with_usage = 0, with_xids = 0;
  for (const auto& values : written[0]["session"]) {
    Record s(*FindModel("session"));
    s.values = values;
    if (!model::IsNull(s.Get("energy_joules"))) ++with_usage;
    if (!model::IsNull(s.Get("xid_count")) && std::get<int64_t>(s.Get("xid_count")) > 0) {
      ++with_xids;
    }
  }
  EXPECT_GT(with_usage, 500);
  EXPECT_GT(with_xids, 100);
}

TEST(AlertOptions, DefaultHubIsRequired) {
  auto st = ValidateAlertOptions({});
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("alerts.default_hub"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, AlertServiceTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace aitelemetry::trace
