#include "api/prom_query.h"

#include <string>

#include <gtest/gtest.h>

#include "http/message.h"

namespace aitelemetry::api {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

promql::Restriction Alpha() {
  promql::HubGrants g;
  g.projects["c1"] = {"alpha"};
  return promql::RestrictionFor(g, {"local", "namespace"});
}

const Timestamp kNow = FromUnixSeconds(1700000000);

// The decoded form fields of a planned call, or the error's code name.
std::string Plan(PromEndpoint e, const Params& p, std::string_view label = "") {
  auto call = PlanPromCall(e, label, p, Alpha(), PromLimits{}, kNow);
  if (!call) return std::string(ErrorCodeName(call.error().code));
  auto fields = http::ParseQuery(call->form);
  std::string out = call->path;
  for (const auto& [k, v] : *fields) out += " " + k + "=" + v;
  return out;
}

TEST(PromQuery, EndpointsAreTheFiveOnly) {
  std::string label;
  EXPECT_EQ(PromEndpointFor("query", &label), PromEndpoint::kQuery);
  EXPECT_EQ(PromEndpointFor("query_range", &label), PromEndpoint::kQueryRange);
  EXPECT_EQ(PromEndpointFor("series", &label), PromEndpoint::kSeries);
  EXPECT_EQ(PromEndpointFor("labels", &label), PromEndpoint::kLabels);
  EXPECT_EQ(PromEndpointFor("label/namespace/values", &label), PromEndpoint::kLabelValues);
  EXPECT_EQ(label, "namespace");
  for (const char* bad : {"", "query/", "query_exemplars", "read", "admin/tsdb/delete_series",
                          "status/config", "label//values", "label/a/b/values", "label/../values",
                          "metadata", "targets", "../query", "label/1a/values"}) {
    EXPECT_FALSE(PromEndpointFor(bad, &label)) << bad;
  }
}

TEST(PromQuery, QueryIsRestrictedAndTimeoutCapped) {
  EXPECT_EQ(Plan(PromEndpoint::kQuery, {{"query", "up"}, {"time", "1700000000"}}),
            "/api/v1/query query=up{cluster=\"c1\", namespace=\"alpha\"} time=1700000000.000 "
            "timeout=30.000");
  EXPECT_EQ(Plan(PromEndpoint::kQuery, {{"query", "up"}, {"timeout", "5s"}}),
            "/api/v1/query query=up{cluster=\"c1\", namespace=\"alpha\"} timeout=5.000");
  EXPECT_EQ(Plan(PromEndpoint::kQuery, {{"query", "up"}, {"timeout", "1h"}}),
            "/api/v1/query query=up{cluster=\"c1\", namespace=\"alpha\"} timeout=30.000");
}

TEST(PromQuery, RepeatedAndUnknownParametersAreRefused) {
  // The Keycloak proxy checked the first query and ran the last: here a repeat is refused.
  EXPECT_EQ(Plan(PromEndpoint::kQuery, {{"query", "up"}, {"query", "{__name__=~\".+\"}"}}),
            "invalid_argument");
  EXPECT_EQ(Plan(PromEndpoint::kQuery, {{"query", "up"}, {"lookback_delta", "1h"}}),
            "invalid_argument");
  EXPECT_EQ(Plan(PromEndpoint::kLabels, {{"match[]", "up"}, {"match[]", "down"}}),
            "/api/v1/labels match[]=up{cluster=\"c1\", namespace=\"alpha\"} "
            "match[]=down{cluster=\"c1\", namespace=\"alpha\"} start=1697235200.000 "
            "end=1700000000.000");
  EXPECT_EQ(Plan(PromEndpoint::kQuery, {}), "invalid_argument");
  EXPECT_EQ(Plan(PromEndpoint::kQuery, {{"query", "sum("}}), "invalid_argument");
}

TEST(PromQuery, RangeLimits) {
  EXPECT_EQ(Plan(PromEndpoint::kQueryRange,
                 {{"query", "up"}, {"start", "0"}, {"end", "3600"}, {"step", "60"}}),
            "/api/v1/query_range query=up{cluster=\"c1\", namespace=\"alpha\"} start=0.000 "
            "end=3600.000 step=60.000 timeout=30.000");
  EXPECT_EQ(Plan(PromEndpoint::kQueryRange,
                 {{"query", "up"}, {"start", "0"}, {"end", "86400"}, {"step", "1"}}),
            "invalid_argument");  // 86,401 points
  EXPECT_EQ(Plan(PromEndpoint::kQueryRange,
                 {{"query", "up"}, {"start", "0"}, {"end", "1e9"}, {"step", "1d"}}),
            "invalid_argument");  // past max_range
  EXPECT_EQ(Plan(PromEndpoint::kQueryRange,
                 {{"query", "up"}, {"start", "10"}, {"end", "0"}, {"step", "1"}}),
            "invalid_argument");
  EXPECT_EQ(Plan(PromEndpoint::kQuery, {{"query", "rate(up[1y])"}}), "invalid_argument");
  EXPECT_EQ(Plan(PromEndpoint::kQuery, {{"query", "up"}, {"time", "yesterday"}}),
            "invalid_argument");
  EXPECT_EQ(Plan(PromEndpoint::kQuery, {{"query", "up"}, {"time", "2023-11-14T22:13:20Z"}}),
            "/api/v1/query query=up{cluster=\"c1\", namespace=\"alpha\"} time=1700000000.000 "
            "timeout=30.000");
}

TEST(PromQuery, MetadataWithoutMatchGetsTheGrants) {
  EXPECT_EQ(Plan(PromEndpoint::kLabelValues, {{"start", "1699990000"}}, "namespace"),
            "/api/v1/label/namespace/values match[]={__name__=~\".+\", cluster=\"c1\", "
            "namespace=\"alpha\"} start=1699990000.000 end=1700000000.000");
  EXPECT_EQ(Plan(PromEndpoint::kSeries, {{"match[]", "up offset 5m"}}), "invalid_argument");
  EXPECT_EQ(Plan(PromEndpoint::kSeries, {{"query", "up"}}), "invalid_argument");
}

TEST(PromQuery, NoGrantInTheHubIsNotFound) {
  auto call =
      PlanPromCall(PromEndpoint::kLabels, "", {}, promql::Restriction{}, PromLimits{}, kNow);
  ASSERT_FALSE(call);
  EXPECT_EQ(call.error().code, ErrorCode::kNotFound);
}

TEST(PromQuery, GrantsOfTheHubOnly) {
  Caller c;
  c.scope.grants = {{"h", "c1", "alpha"}, {"h", "c2", ""}, {"other", "", ""}};
  auto g = HubGrantsOf(c, "h");
  EXPECT_FALSE(g.whole_hub);
  EXPECT_EQ(g.clusters, std::set<std::string>{"c2"});
  EXPECT_EQ(g.projects.at("c1"), std::set<std::string>{"alpha"});
  EXPECT_TRUE(HubGrantsOf(c, "other").whole_hub);
  c.admin = true;
  EXPECT_TRUE(HubGrantsOf(c, "h").whole_hub);
}

TEST(PromQuery, ErrorsInPrometheusFormat) {
  http::Response r = PromError(Error{ErrorCode::kInvalidArgument, "bad \"q\""});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"error":"bad \"q\"","errorType":"bad_data","status":"error"})");
  EXPECT_EQ(PromError(Error{ErrorCode::kResourceExhausted, ""}).status, 429);
  EXPECT_EQ(PromError(Error{ErrorCode::kNotFound, ""}).status, 404);
}

}  // namespace
}  // namespace aitelemetry::api
