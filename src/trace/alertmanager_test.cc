#include "trace/alertmanager.h"

#include <fstream>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace aitelemetry::trace {
namespace {

constexpr size_t kLimit = 8u << 20;

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(AITELEMETRY_SOURCE_DIR) + "/src/trace/testdata/" + name);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

Timestamp At(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

// A minimal valid body with `alert` as its only alert (an alert object's JSON text).
std::string WithAlert(const std::string& alert) {
  return R"({"version":"4","receiver":"r","status":"firing","alerts":[)" + alert + "]}";
}

const char kGoodAlert[] = R"({"status":"firing","labels":{"alertname":"A"},"annotations":{},)"
                          R"("startsAt":"2026-11-01T00:00:00Z","endsAt":"0001-01-01T00:00:00Z",)"
                          R"("generatorURL":"","fingerprint":"f1"})";

TEST(ParseWebhook, ReadsFiringFixture) {
  auto payload = ParseWebhook(ReadFixture("webhook_firing.json"), kLimit);
  ASSERT_TRUE(payload.has_value()) << payload.error().ToString();
  EXPECT_EQ(payload->version, "4");
  EXPECT_EQ(payload->receiver, "aitelemetry");
  EXPECT_EQ(payload->status, AlertStatus::kFiring);
  EXPECT_EQ(payload->external_url, "http://alertmanager:9093");
  EXPECT_EQ(payload->truncated_alerts, 0);
  EXPECT_EQ(payload->common_labels.at("modelName"), "NVIDIA A100-SXM4-40GB");
  EXPECT_EQ(payload->group_labels.at("GPU_I_ID"), "");
  EXPECT_NE(payload->group_key.find("GpuWorkloadActive"), std::string::npos);
  ASSERT_EQ(payload->alerts.size(), 1u);
  const Alert& a = payload->alerts[0];
  EXPECT_EQ(a.status, AlertStatus::kFiring);
  EXPECT_EQ(a.labels.at("pod"), "notebook-0");
  EXPECT_EQ(a.annotations.size(), 1u);
  EXPECT_EQ(ToUnixNanos(a.starts_at), 1793528130123456789);
  EXPECT_FALSE(a.ends_at.has_value());  // Go's zero time
  EXPECT_EQ(a.fingerprint, "a1b2c3d4e5f60718");
  EXPECT_NE(a.generator_url.find("prometheus:9090"), std::string::npos);
}

TEST(ParseWebhook, ReadsResolvedFixture) {
  auto payload = ParseWebhook(ReadFixture("webhook_resolved.json"), kLimit);
  ASSERT_TRUE(payload.has_value()) << payload.error().ToString();
  EXPECT_EQ(payload->status, AlertStatus::kResolved);
  EXPECT_EQ(payload->truncated_alerts, 2);
  ASSERT_EQ(payload->alerts.size(), 1u);
  const Alert& a = payload->alerts[0];
  EXPECT_EQ(a.status, AlertStatus::kResolved);
  EXPECT_EQ(a.starts_at, At("2026-11-01T09:00:00Z"));
  ASSERT_TRUE(a.ends_at.has_value());
  EXPECT_EQ(*a.ends_at, At("2026-11-01T10:30:00.5Z"));
}

TEST(ParseWebhook, OptionalFieldsMayBeAbsentOrNull) {
  auto payload = ParseWebhook(
      R"({"version":"4","status":"firing","groupLabels":null,"alerts":[)"
      R"({"status":"firing","labels":{},"startsAt":"2026-11-01T00:00:00Z","fingerprint":"x",)"
      R"("endsAt":null,"annotations":null,"generatorURL":null,"extra":[1,{"a":2}]}]})",
      kLimit);
  ASSERT_TRUE(payload.has_value()) << payload.error().ToString();
  EXPECT_TRUE(payload->receiver.empty());
  EXPECT_TRUE(payload->group_labels.empty());
  EXPECT_FALSE(payload->alerts[0].ends_at.has_value());
}

TEST(ParseWebhook, RejectsBadInputNamingTheField) {
  struct Case {
    std::string name;
    std::string body;
    std::string want_message_prefix;
  };
  std::string ok = kGoodAlert;
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = ok;
    size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  const Case cases[] = {
      {"empty", "", "body: not valid JSON"},
      {"truncated", WithAlert(ok).substr(0, 60), "body: not valid JSON"},
      {"trailing junk", WithAlert(ok) + "x", "body: not valid JSON"},
      {"non-object", "[1,2,3]", "body: expected an object, got array"},
      {"string body", "\"4\"", "body: expected an object, got string"},
      {"missing version", R"({"status":"firing","alerts":[]})", "version: required"},
      {"version 3", R"({"version":"3","status":"firing","alerts":[]})", "version: unsupported"},
      {"version number", R"({"version":4,"status":"firing","alerts":[]})",
       "version: expected a string, got number"},
      {"bad status", R"({"version":"4","status":"pending","alerts":[]})", "status: expected"},
      {"alerts missing", R"({"version":"4","status":"firing"})", "alerts: required"},
      {"alerts object", R"({"version":"4","status":"firing","alerts":{}})",
       "alerts: expected an array, got object"},
      {"alert not object", WithAlert("7"), "alerts[0]: expected an object, got number"},
      {"labels wrong type", WithAlert(replace(R"("labels":{"alertname":"A"})", R"("labels":[])")),
       "alerts[0].labels: expected an object, got array"},
      {"label value number", WithAlert(replace(R"("alertname":"A")", R"("alertname":5)")),
       "alerts[0].labels.alertname: expected a string, got number"},
      {"label value nested",
       WithAlert(replace(R"("alertname":"A")", R"("alertname":{"x":{"y":[1]}})")),
       "alerts[0].labels.alertname: expected a string, got object"},
      {"missing fingerprint", WithAlert(replace(R"(,"fingerprint":"f1")", "")),
       "alerts[0].fingerprint: required"},
      {"empty fingerprint", WithAlert(replace(R"("fingerprint":"f1")", R"("fingerprint":"")")),
       "alerts[0].fingerprint: empty"},
      {"bad startsAt", WithAlert(replace("2026-11-01T00:00:00Z", "yesterday")),
       "alerts[0].startsAt: not an RFC 3339 time"},
      {"zero startsAt", WithAlert(replace("2026-11-01T00:00:00Z", "0001-01-01T00:00:00Z")),
       "alerts[0].startsAt: required"},
      {"startsAt number", WithAlert(replace(R"("2026-11-01T00:00:00Z")", "1793491200")),
       "alerts[0].startsAt: expected a string"},
      {"bad endsAt", WithAlert(replace("0001-01-01T00:00:00Z", "0001-01-01T00:00:01Z")),
       "alerts[0].endsAt: not an RFC 3339 time"},
      {"endsAt before startsAt", WithAlert(replace("0001-01-01T00:00:00Z", "2026-10-31T00:00:00Z")),
       "alerts[0].endsAt: before startsAt"},
      {"resolved without endsAt",
       WithAlert(replace(R"("status":"firing")", R"("status":"resolved")")),
       "alerts[0].endsAt: required when status is \"resolved\""},
      {"duplicate top-level key", R"({"version":"4","version":"4","status":"firing","alerts":[]})",
       "body: duplicate key \"version\""},
      {"duplicate label",
       WithAlert(replace(R"("alertname":"A")", R"("alertname":"A","alertname":"B")")),
       "body: duplicate key \"alertname\""},
      {"deep nesting",
       WithAlert(replace(R"("labels")", R"("junk":)" + std::string(200, '[') +
                                            std::string(200, ']') + R"(,"labels")")),
       "body: nested deeper than"},
      {"truncatedAlerts negative",
       R"({"version":"4","status":"firing","alerts":[],"truncatedAlerts":-1})",
       "truncatedAlerts: expected a non-negative integer"},
      {"truncatedAlerts string",
       R"({"version":"4","status":"firing","alerts":[],"truncatedAlerts":"2"})",
       "truncatedAlerts: expected a non-negative integer"},
      {"commonLabels string", R"({"version":"4","status":"firing","alerts":[],"commonLabels":"x"})",
       "commonLabels: expected an object, got string"},
      {"externalURL number", R"({"version":"4","status":"firing","alerts":[],"externalURL":1})",
       "externalURL: expected a string, got number"},
  };
  for (const auto& c : cases) {
    auto payload = ParseWebhook(c.body, kLimit);
    ASSERT_FALSE(payload.has_value()) << c.name;
    EXPECT_EQ(payload.error().code, ErrorCode::kInvalidArgument) << c.name;
    EXPECT_TRUE(payload.error().message.starts_with(c.want_message_prefix))
        << c.name << ": " << payload.error().message;
  }
}

TEST(ParseWebhook, NamesTheIndexOfTheBadAlert) {
  std::string alerts;
  for (int i = 0; i < 3; ++i) {
    std::string a = kGoodAlert;
    if (i == 2) a.replace(a.find("2026-11-01T00:00:00Z"), 20, "2026-11-01 junk");
    alerts += (i ? "," : "") + a;
  }
  auto payload = ParseWebhook(WithAlert(alerts), kLimit);
  ASSERT_FALSE(payload.has_value());
  EXPECT_TRUE(payload.error().message.starts_with("alerts[2].startsAt: not an RFC 3339 time"))
      << payload.error().message;
}

TEST(ParseWebhook, BodyOverLimitIsPayloadTooLarge) {
  std::string body = WithAlert(kGoodAlert);
  auto payload = ParseWebhook(body, body.size() - 1);
  ASSERT_FALSE(payload.has_value());
  EXPECT_EQ(payload.error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_TRUE(ParseWebhook(body, body.size()).has_value());
  // Garbage over the limit is refused before it is parsed.
  auto junk = ParseWebhook(std::string(100, '{'), 10);
  ASSERT_FALSE(junk.has_value());
  EXPECT_EQ(junk.error().code, ErrorCode::kPayloadTooLarge);
}

TEST(ParseWebhook, HugeLabelValueWithinTheLimitParses) {
  std::string big(1u << 20, 'x');
  std::string alert = kGoodAlert;
  alert.replace(alert.find(R"("alertname":"A")"), 15, R"("alertname":"A","big":")" + big + "\"");
  auto payload = ParseWebhook(WithAlert(alert), kLimit);
  ASSERT_TRUE(payload.has_value()) << payload.error().ToString();
  EXPECT_EQ(payload->alerts[0].labels.at("big").size(), big.size());
  auto limited = ParseWebhook(WithAlert(alert), 64u << 10);
  ASSERT_FALSE(limited.has_value());
  EXPECT_EQ(limited.error().code, ErrorCode::kPayloadTooLarge);
}

TEST(ParseWebhook, TenThousandAlerts) {
  std::string alerts;
  for (int i = 0; i < 10000; ++i) {
    std::string a = kGoodAlert;
    a.replace(a.find(R"("fingerprint":"f1")"), 18, fmt::format(R"("fingerprint":"f{}")", i));
    if (i) alerts += ',';
    alerts += a;
  }
  auto payload = ParseWebhook(WithAlert(alerts), kLimit);
  ASSERT_TRUE(payload.has_value()) << payload.error().ToString();
  ASSERT_EQ(payload->alerts.size(), 10000u);
  EXPECT_EQ(payload->alerts[9999].fingerprint, "f9999");
}

TEST(ParseWebhook, InvalidUtf8IsRejected) {
  std::string alert = kGoodAlert;
  alert.replace(alert.find("\"A\""), 3, "\"\xff\xfe\"");
  auto payload = ParseWebhook(WithAlert(alert), kLimit);
  ASSERT_FALSE(payload.has_value());
  EXPECT_EQ(payload.error().code, ErrorCode::kInvalidArgument);
}

TEST(AlertStatusName, Names) {
  EXPECT_EQ(AlertStatusName(AlertStatus::kFiring), "firing");
  EXPECT_EQ(AlertStatusName(AlertStatus::kResolved), "resolved");
}

}  // namespace
}  // namespace aitelemetry::trace
