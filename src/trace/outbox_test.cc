// OutboxDrainer against the real OTLP test receiver (tests/otlp_receiver/server.mjs) on SQLite and
// PostgreSQL: outages, dead letters, and the resend after a crash keeping the ids.
#include "trace/outbox.h"

#include <chrono>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/registry.h"
#include "trace/alert_service.h"
#include "trace/session_identity.h"
#include "trace/test_support.h"

namespace aitelemetry::trace {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;
using model::FindModel;
using model::Record;

Timestamp T(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

// A resolved GpuWorkloadActive delivery for pod `pod` (one session, one span).
std::string ResolvedSession(const std::string& pod, const std::string& fingerprint,
                            const char* starts_at) {
  Json alert = {{"status", "resolved"},
                {"labels",
                 {{"alertname", "GpuWorkloadActive"},
                  {"cluster", "nerc-ocp-prod"},
                  {"namespace", "ai-lab"},
                  {"pod", pod},
                  {"UUID", "GPU-5f1c2a3b-0000-4000-8000-000000000001"}}},
                {"annotations", Json::object()},
                {"startsAt", starts_at},
                {"endsAt", "2026-11-01T12:00:00Z"},
                {"fingerprint", fingerprint}};
  return Json{{"version", "4"}, {"status", "resolved"}, {"alerts", {alert}}}.dump();
}

class OutboxTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!test_support::ReceiverInstalled()) {
      GTEST_FAIL() << "node_modules missing: run `npm ci` (scripts/setup does)";
    }
    std::string url = test_support::FreshDatabase(GetParam());
    ASSERT_FALSE(url.empty()) << "no database for " << GetParam()
                              << " (PostgreSQL is started by the ctest fixture tests/pg.sh)";
    auto s = store::Store::Open({url, 2, true});
    ASSERT_TRUE(s) << s.error().ToString();
    store_ = std::move(*s);
    std::string problem = receiver_.Start();
    ASSERT_TRUE(problem.empty()) << problem;
    exporter_ = std::make_unique<OtlpExporter>(OtlpOptions{receiver_.url(), {}, {}, 5000ms});
    AlertOptions options;
    options.default_hub = "moc";
    options.resource = {"0.1.0", {}};
    AlertService service(*store_, options);
    // Two finished sessions, enqueued at 12:00:05, the first one older.
    for (auto [pod, fp, start] : {std::tuple{"nb-0", "1111111111111111", "2026-11-01T10:00:00Z"},
                                  std::tuple{"nb-1", "2222222222222222", "2026-11-01T11:00:00Z"}}) {
      auto r = service.Ingest(ResolvedSession(pod, fp, start), T("2026-11-01T12:00:05Z"));
      ASSERT_TRUE(r) << r.error().ToString();
      ASSERT_EQ(r->spans_enqueued, 1);
      span_ids_.insert(ToHex(SpanIdFor({fp, T(start)})));
    }
  }

  std::vector<Record> Outbox() {
    store::QuerySpec spec;
    spec.sort = {{"created_at", false}};  // then the key: the order the drainer takes them in
    auto r = store_->Query(*FindModel(kSpanOutboxModel), spec, store::Scope::All());
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? r->rows : std::vector<Record>{};
  }

  Record Row(const std::string& span_id) {
    auto r = store_->Get(*FindModel(kSpanOutboxModel), span_id + ":end", store::Scope::All());
    EXPECT_TRUE(r) << span_id;
    return r ? *r : Record();
  }

  DrainStats Drain(Timestamp now, OutboxOptions options = {}) {
    OutboxDrainer drainer(*store_, *exporter_, options);
    auto r = drainer.DrainOnce(now);
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? *r : DrainStats{};
  }

  std::unique_ptr<store::Store> store_;
  test_support::Receiver receiver_;
  std::unique_ptr<OtlpExporter> exporter_;
  std::set<std::string> span_ids_;
};

TEST_P(OutboxTest, OutageKeepsRowsPendingThenSendsEachExactlyOnce) {
  const Timestamp now = T("2026-11-01T12:01:00Z");
  receiver_.Call("POST", "/control", R"({"fail":503})");
  DrainStats down = Drain(now);
  EXPECT_EQ(down.retried, 1);
  EXPECT_EQ(down.deferred, 1);  // the pass stops at the first retryable failure
  EXPECT_EQ(down.sent + down.dead, 0);
  auto rows = Outbox();
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& row : rows) EXPECT_EQ(row.GetString("state"), kOutboxPending);
  // The tried row: one attempt, the 503 and its error kept, due again after its backoff.
  const Record* tried = nullptr;
  const Record* untried = nullptr;
  for (const auto& row : rows) {
    (std::get<int64_t>(row.Get("attempts")) == 1 ? tried : untried) = &row;
  }
  ASSERT_NE(tried, nullptr);
  ASSERT_NE(untried, nullptr);
  EXPECT_EQ(std::get<int64_t>(tried->Get("http_status")), 503);
  EXPECT_FALSE(tried->GetString("last_error").empty());
  EXPECT_GT(std::get<int64_t>(tried->Get("next_attempt_at")), ToUnixNanos(now));
  EXPECT_LE(std::get<int64_t>(tried->Get("next_attempt_at")), ToUnixNanos(now + 2s));
  EXPECT_EQ(std::get<int64_t>(untried->Get("attempts")), 0);
  EXPECT_EQ(std::get<int64_t>(untried->Get("next_attempt_at")), ToUnixNanos(now));
  EXPECT_TRUE(receiver_.Call("GET", "/spans").empty());
  auto metrics = ReadTraceMetrics(*store_, now);
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->spans_pending, 2);
  EXPECT_DOUBLE_EQ(metrics->oldest_pending_age_seconds, 55);

  receiver_.Call("POST", "/control", R"({"fail":0})");
  DrainStats up = Drain(now + 10s);
  EXPECT_EQ(up.sent, 2);
  EXPECT_EQ(Drain(now + 1h).sent, 0);  // nothing left to send
  Json spans = receiver_.Call("GET", "/spans");
  ASSERT_EQ(spans.size(), 2u) << spans.dump();
  std::set<std::string> got;
  for (const auto& s : spans) got.insert(s["spanId"].get<std::string>());
  EXPECT_EQ(got, span_ids_);
  for (const auto& row : Outbox()) {
    EXPECT_EQ(row.GetString("state"), kOutboxSent);
    EXPECT_EQ(std::get<int64_t>(row.Get("sent_at")), ToUnixNanos(now + 10s));
    EXPECT_EQ(std::get<int64_t>(row.Get("http_status")), 200);
  }
  metrics = ReadTraceMetrics(*store_, now + 1h);
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->spans_exported, 2);
  EXPECT_EQ(metrics->spans_pending, 0);
  EXPECT_EQ(metrics->spans_failed, 0);
  EXPECT_EQ(metrics->oldest_pending_age_seconds, 0);
  EXPECT_EQ(metrics->alerts_received, 2);
}

TEST_P(OutboxTest, RefusedBodyIsDeadLetteredWithTheError) {
  receiver_.Call("POST", "/control", R"({"fail":400})");
  DrainStats stats = Drain(T("2026-11-01T12:01:00Z"));
  EXPECT_EQ(stats.dead, 2);  // a permanent failure does not stop the pass
  for (const auto& row : Outbox()) {
    EXPECT_EQ(row.GetString("state"), kOutboxDead);
    EXPECT_EQ(std::get<int64_t>(row.Get("http_status")), 400);
    EXPECT_NE(row.GetString("last_error").find("HTTP 400"), std::string::npos)
        << row.GetString("last_error");
    EXPECT_NE(row.GetString("last_error").find("forced failure"), std::string::npos);
  }
  receiver_.Call("POST", "/control", R"({"fail":0})");
  EXPECT_EQ(Drain(T("2026-11-01T13:00:00Z")).sent, 0);  // dead rows are never retried
  auto metrics = ReadTraceMetrics(*store_, T("2026-11-01T13:00:00Z"));
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->spans_failed, 2);
  EXPECT_EQ(metrics->spans_pending, 0);
}

TEST_P(OutboxTest, RetryableFailuresDeadLetterAfterMaxAttempts) {
  receiver_.Call("POST", "/control", R"({"fail":503})");
  OutboxOptions options;
  options.batch = 1;
  options.max_attempts = 2;
  Timestamp now = T("2026-11-01T12:01:00Z");
  EXPECT_EQ(Drain(now, options).retried, 1);
  EXPECT_EQ(Drain(now + 1h, options).dead, 1);  // the oldest row again: second attempt
  auto rows = Outbox();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].GetString("state"), kOutboxDead);
  EXPECT_NE(rows[0].GetString("last_error").find("gave up after 2 attempts"), std::string::npos);
  EXPECT_EQ(rows[1].GetString("state"), kOutboxPending);
}

TEST_P(OutboxTest, CrashBetweenExportAndMarkResendsTheSameIds) {
  // A drainer exported the oldest row and died before marking it: do its export by hand.
  auto rows = Outbox();
  ASSERT_EQ(rows.size(), 2u);
  ExportOutcome first = exporter_->Export(rows[0].GetString("body"));
  ASSERT_EQ(first.disposition, ExportDisposition::kOk) << first.message;
  // A fresh drainer (the restarted process) sends every pending row, that one included.
  EXPECT_EQ(Drain(T("2026-11-01T12:05:00Z")).sent, 2);
  Json spans = receiver_.Call("GET", "/spans");
  ASSERT_EQ(spans.size(), 3u) << spans.dump();
  EXPECT_EQ(spans[0], spans[1]);  // the resend is identical: ids, times, attributes
  EXPECT_EQ(spans[0]["spanId"], rows[0].GetString("span_id"));
  EXPECT_EQ(spans[0]["traceId"], rows[0].GetString("trace_id"));
  EXPECT_EQ(spans[2]["spanId"], rows[1].GetString("span_id"));
}

TEST_P(OutboxTest, ClaimedRowsAreSkippedUntilTheLeasePasses) {
  // A drainer that crashed mid-pass left its claim: the rows wait for the lease, then go out.
  const Timestamp now = T("2026-11-01T12:01:00Z");
  auto st = store_->Update(*FindModel(kSpanOutboxModel), {},
                           {{"next_attempt_at", ToUnixNanos(now + 30min)}});
  ASSERT_TRUE(st) << st.error().ToString();
  EXPECT_EQ(Drain(now).sent, 0);
  EXPECT_EQ(Drain(now + 31min).sent, 2);
}

TEST(OutboxOptions, AreValidated) {
  OutboxOptions o;
  EXPECT_TRUE(ValidateOutboxOptions(o));
  o.batch = 0;
  auto st = ValidateOutboxOptions(o);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("outbox.batch"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, OutboxTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace aitelemetry::trace
