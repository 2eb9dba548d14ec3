// Fault injection (label "fault") for webhook ingest: SQLite's disk fills up while a body of
// many alerts is stored. The ingest fails (so the webhook answers an error and Alertmanager sends
// the body again), nothing of it is half stored, what was acknowledged before is intact, and the
// resent body, once there is room, leaves the store exactly as a clean ingest does.
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/registry.h"
#include "store/sql.h"
#include "store/store.h"
#include "testing/database.h"
#include "testing/file_size_limit.h"
#include "trace/alert_service.h"

namespace aitelemetry::trace {
namespace {

using Json = nlohmann::json;

Timestamp T(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

// A version-4 body of `count` firing session alerts, numbered from `first`, each its own pod.
std::string Body(int first, int count) {
  Json alerts = Json::array();
  for (int i = first; i < first + count; ++i) {
    alerts.push_back({{"status", "firing"},
                      {"labels",
                       {{"alertname", "GpuWorkloadActive"},
                        {"aitelemetry", "session"},
                        {"cluster", "nerc-ocp-prod"},
                        {"namespace", "ai-lab"},
                        {"pod", fmt::format("notebook-{}", i)},
                        {"container", "jupyter"},
                        {"UUID", fmt::format("GPU-5f1c2a3b-0000-4000-8000-{:012d}", i)}}},
                      {"annotations", {{"summary", "a GPU workload runs"}}},
                      {"startsAt", "2026-11-01T12:00:00Z"},
                      {"endsAt", "0001-01-01T00:00:00Z"},
                      {"generatorURL", "http://prometheus/graph"},
                      {"fingerprint", fmt::format("{:016x}", 0xa1b2c3d400000000ULL + i)}});
  }
  Json body = {{"version", "4"},
               {"groupKey", "{}:{}"},
               {"truncatedAlerts", 0},
               {"status", "firing"},
               {"receiver", "aitelemetry"},
               {"groupLabels", Json::object()},
               {"commonLabels", Json::object()},
               {"commonAnnotations", Json::object()},
               {"externalURL", "http://alertmanager"},
               {"alerts", alerts}};
  return body.dump();
}

// Every row of every model and the change feed, as text.
std::map<std::string, std::string> Dump(store::Store& store) {
  std::map<std::string, std::string> out;
  for (const model::Model& m : model::Models()) {
    store::QuerySpec spec;
    spec.rows = 1'000'000;
    auto rows = store.Query(m, spec, store::Scope::All());
    EXPECT_TRUE(rows) << m.name << ": " << rows.error().message;
    if (!rows) continue;
    for (const auto& r : rows->rows) {
      std::string text;
      for (size_t i = 0; i < m.fields.size(); ++i) {
        text += m.fields[i].name + "=" + model::ValueToText(m.fields[i], r.values[i]) + " ";
      }
      out[m.name + " " + r.Key()] = text;
    }
  }
  auto feed = store.ChangesSince(0, {}, store::Scope::All(), 1'000'000);
  EXPECT_TRUE(feed);
  if (!feed) return out;
  int i = 0;
  for (const auto& c : *feed) {
    out["change " + std::to_string(i++)] =
        c.model + " " + c.key + " " + c.op + " " + FormatRfc3339(c.at);
  }
  return out;
}

struct Stored {
  std::string url;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<AlertService> service;
};

Stored Open() {
  Stored s;
  s.url = aitelemetry::test_support::FreshDatabase("sqlite", "fault");
  auto opened = store::Store::Open({s.url, 2, true});
  EXPECT_TRUE(opened) << opened.error().message;
  if (!opened) return s;
  s.store = std::move(*opened);
  AlertOptions options;
  options.default_hub = "moc";
  options.resource = {"0.1.0", {}};
  s.service = std::make_unique<AlertService>(*s.store, options);
  return s;
}

TEST(AlertIngestFault, DiskFullRefusesTheBodyAndTheResentBodyIsStoredOnce) {
  const std::string acknowledged = Body(0, 5), big = Body(100, 300);
  const Timestamp first_at = T("2026-11-01T12:00:05Z"), resent_at = T("2026-11-01T12:00:35Z");

  // The clean run: both bodies stored, the second at the time the resend arrives.
  Stored clean = Open();
  ASSERT_TRUE(clean.service);
  ASSERT_TRUE(clean.service->Ingest(acknowledged, first_at));
  auto clean_big = clean.service->Ingest(big, resent_at);
  ASSERT_TRUE(clean_big) << clean_big.error().message;
  EXPECT_EQ(clean_big->new_alerts, 300);

  Stored s = Open();
  ASSERT_TRUE(s.service);
  ASSERT_TRUE(s.service->Ingest(acknowledged, first_at));
  const auto before = Dump(*s.store);
  {
    aitelemetry::test_support::FileSizeLimit disk_full(32 * 1024);
    auto refused = s.service->Ingest(big, T("2026-11-01T12:00:06Z"));
    ASSERT_FALSE(refused) << "the ingest wrote past the file size limit";
  }
  // Nothing of the refused body, everything acknowledged before, and a sound file.
  EXPECT_EQ(Dump(*s.store), before);
  auto c = store::Connect(s.url);
  ASSERT_TRUE(c) << c.error().message;
  std::string check;
  const model::FieldType types[] = {model::FieldType::kString};
  ASSERT_TRUE((*c)->Query("PRAGMA integrity_check", {}, types, [&](std::vector<model::Value>& row) {
    check += std::get<std::string>(row[0]);
  }));
  EXPECT_EQ(check, "ok");

  // Alertmanager sends the body again: stored once, as in the clean run; again: nothing new.
  auto resent = s.service->Ingest(big, resent_at);
  ASSERT_TRUE(resent) << resent.error().message;
  EXPECT_EQ(resent->new_alerts, 300);
  EXPECT_EQ(Dump(*s.store), Dump(*clean.store));
  auto again = s.service->Ingest(big, T("2026-11-01T12:01:05Z"));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->new_alerts, 0);
}

}  // namespace
}  // namespace aitelemetry::trace
