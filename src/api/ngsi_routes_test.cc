#include "api/ngsi_routes.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/ngsi.h"
#include "api/ngsi_test_util.h"

namespace aitelemetry::api {
namespace {

using nlohmann::json;

class NgsiRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // ctest runs each TEST in its own process, in parallel: one database per test.
    store_ = testing::SeededStore(std::filesystem::path(AITELEMETRY_BINARY_DIR) / "ngsi_routes" /
                                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(store_);
  }

  http::Response Get(const Caller& caller, const std::string& path,
                     std::vector<std::pair<std::string, std::string>> query = {},
                     std::string accept = "") {
    http::Router router;
    router.Use(testing::SetCaller(caller));
    AddNgsiRoutes(router, *store_);
    http::Request req;
    req.method = "GET";
    req.path = path;
    req.query = std::move(query);
    req.headers = {{"host", "telemetry.test:8080"}};
    if (!accept.empty()) req.headers.emplace_back("accept", accept);
    return router.Dispatch(req);
  }

  std::unique_ptr<store::Store> store_;
};

std::string ErrorType(const http::Response& r) { return json::parse(r.body).value("type", ""); }

TEST_F(NgsiRoutesTest, ListsEntitiesWithLinkHeaderAndCount) {
  auto r = Get(testing::Admin(), "/ngsi-ld/v1/entities",
               {{"type", "Gpu"}, {"q", "power>100"}, {"count", "true"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("Content-Type"), "application/json");
  EXPECT_EQ(r.Header("Link"),
            "<http://telemetry.test:8080/ngsi-ld/v1/context.jsonld>; "
            "rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"");
  EXPECT_EQ(r.Header("NGSILD-Results-Count"), "1");
  auto body = json::parse(r.body);
  ASSERT_EQ(body.size(), 1u);
  EXPECT_EQ(body[0]["id"],
            NgsiEntityId(*model::FindModel("gpu"), model::GpuKey("moc", "c1", "n1", "GPU-a")));
  EXPECT_FALSE(body[0].contains("@context"));
}

TEST_F(NgsiRoutesTest, JsonLdEmbedsTheContext) {
  auto r = Get(testing::Admin(), "/ngsi-ld/v1/entities", {{"type", "Node"}}, "application/ld+json");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("Content-Type"), "application/ld+json");
  EXPECT_EQ(r.Header("Link"), "");
  auto body = json::parse(r.body);
  ASSERT_EQ(body.size(), 1u);
  EXPECT_EQ(body[0]["@context"], "http://telemetry.test:8080/ngsi-ld/v1/context.jsonld");
}

TEST_F(NgsiRoutesTest, PagingAndLimits) {
  auto page = Get(testing::Admin(), "/ngsi-ld/v1/entities",
                  {{"type", "Gpu"}, {"limit", "1"}, {"offset", "1"}});
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(json::parse(page.body).size(), 1u);
  auto count_only = Get(testing::Admin(), "/ngsi-ld/v1/entities",
                        {{"type", "Gpu"}, {"limit", "0"}, {"count", "true"}});
  ASSERT_EQ(count_only.status, 200);
  EXPECT_EQ(json::parse(count_only.body).size(), 0u);
  EXPECT_EQ(count_only.Header("NGSILD-Results-Count"), "2");
}

TEST_F(NgsiRoutesTest, BadRequestsGetNgsiErrorTypes) {
  struct Case {
    std::vector<std::pair<std::string, std::string>> query;
    std::string accept;
    int status;
    std::string type;
  };
  for (const auto& c : std::vector<Case>{
           {{}, "", 400, "BadRequestData"},  // no type
           {{{"type", "Nope"}}, "", 400, "BadRequestData"},
           {{{"type", "AlertInboxEntry"}}, "", 400, "BadRequestData"},
           {{{"type", "Gpu,Node"}}, "", 400, "BadRequestData"},
           {{{"type", "Gpu"}, {"limit", "1001"}}, "", 400, "BadRequestData"},
           {{{"type", "Gpu"}, {"limit", "-1"}}, "", 400, "BadRequestData"},
           {{{"type", "Gpu"}, {"limit", "0"}}, "", 400, "BadRequestData"},
           {{{"type", "Gpu"}, {"offset", "x"}}, "", 400, "BadRequestData"},
           {{{"type", "Gpu"}, {"q", "power>1|power<0"}}, "", 400, "BadRequestData"},
           {{{"type", "Gpu"}, {"attrs", "nosuch"}}, "", 400, "BadRequestData"},
           {{{"type", "Gpu"}, {"georel", "near"}}, "", 400, "BadRequestData"},
           {{{"type", "Gpu"}, {"options", "sysAttrs"}}, "", 400, "BadRequestData"},
           {{{"type", "Gpu"}, {"count", "yes"}}, "", 400, "BadRequestData"},
           {{{"type", "Gpu"}}, "application/geo+json", 406, "NotAcceptable"},
       }) {
    auto r = Get(testing::Admin(), "/ngsi-ld/v1/entities", c.query, c.accept);
    EXPECT_EQ(r.status, c.status) << r.body;
    EXPECT_EQ(ErrorType(r), "https://uri.etsi.org/ngsi-ld/errors/" + c.type) << r.body;
  }
}

TEST_F(NgsiRoutesTest, RetrievesOneEntityOr404) {
  std::string id =
      NgsiEntityId(*model::FindModel("gpu"), model::GpuKey("moc", "c1", "n1", "GPU-a"));
  auto r = Get(testing::Admin(), "/ngsi-ld/v1/entities/" + id, {{"attrs", "power,isPartOf"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto e = json::parse(r.body);
  EXPECT_EQ(e["power"]["value"], 250.5);
  EXPECT_EQ(e["isPartOf"]["object"],
            NgsiEntityId(*model::FindModel("node"), model::NodeKey("moc", "c1", "n1")));
  EXPECT_FALSE(e.contains("hubName"));
  auto missing = Get(testing::Admin(), "/ngsi-ld/v1/entities/urn:ngsi-ld:Gpu:nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(ErrorType(missing), "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound");
  auto bad = Get(testing::Admin(), "/ngsi-ld/v1/entities/not-a-urn");
  EXPECT_EQ(bad.status, 400);
}

TEST_F(NgsiRoutesTest, EmptyScopeSeesNothingNotEvenCounts) {
  auto nobody = testing::Nobody();
  auto list = Get(nobody, "/ngsi-ld/v1/entities", {{"type", "Gpu"}, {"count", "true"}});
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(json::parse(list.body), json::array());
  EXPECT_EQ(list.Header("NGSILD-Results-Count"), "0");
  std::string id =
      NgsiEntityId(*model::FindModel("gpu"), model::GpuKey("moc", "c1", "n1", "GPU-a"));
  auto one = Get(nobody, "/ngsi-ld/v1/entities/" + id);
  EXPECT_EQ(one.status, 404);
  auto missing = Get(nobody, "/ngsi-ld/v1/entities/urn:ngsi-ld:Gpu:nope");
  EXPECT_EQ(one.body, missing.body);  // the same answer as for an entity that does not exist
  auto types = Get(nobody, "/ngsi-ld/v1/types");
  ASSERT_EQ(types.status, 200);
  EXPECT_EQ(json::parse(types.body)["typeList"], json::array());
  auto temporal =
      Get(nobody, "/ngsi-ld/v1/temporal/entities", {{"type", "UsageRollup"}, {"count", "true"}});
  ASSERT_EQ(temporal.status, 200);
  EXPECT_EQ(json::parse(temporal.body), json::array());
  EXPECT_EQ(temporal.Header("NGSILD-Results-Count"), "0");
  auto series = Get(nobody, "/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:UsageRollup:" +
                                model::GpuKey("moc", "c1", "n1", "GPU-a") + ":ai-lab");
  EXPECT_EQ(series.status, 404);
}

TEST_F(NgsiRoutesTest, ProjectGrantSeesOnlyItsOwn) {
  auto member = testing::ProjectMember("ai-lab");
  auto list = Get(member, "/ngsi-ld/v1/entities", {{"type", "Gpu"}, {"count", "true"}});
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.Header("NGSILD-Results-Count"), "1");
  auto temporal = Get(member, "/ngsi-ld/v1/temporal/entities", {{"type", "UsageRollup"}});
  ASSERT_EQ(temporal.status, 200);
  auto body = json::parse(temporal.body);
  ASSERT_EQ(body.size(), 1u);
  EXPECT_EQ(body[0]["projectName"]["value"], "ai-lab");
  auto types = json::parse(Get(member, "/ngsi-ld/v1/types").body)["typeList"];
  EXPECT_NE(std::find(types.begin(), types.end(), "Gpu"), types.end());
  EXPECT_EQ(std::find(types.begin(), types.end(), "Hub"), types.end());  // no hub rows seeded
}

TEST_F(NgsiRoutesTest, TemporalSeriesWithObservedAt) {
  auto r = Get(testing::Admin(), "/ngsi-ld/v1/temporal/entities",
               {{"type", "UsageRollup"},
                {"timerel", "between"},
                {"timeAt", "2026-11-01T10:00:00Z"},
                {"endTimeAt", "2026-11-01T12:00:00Z"},
                {"attrs", "activeSeconds,projectName"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = json::parse(r.body);
  ASSERT_EQ(body.size(), 2u);
  const auto& series = body[0];
  EXPECT_EQ(series["type"], "UsageRollup");
  EXPECT_EQ(series["id"],
            "urn:ngsi-ld:UsageRollup:" + model::GpuKey("moc", "c1", "n1", "GPU-a") + ":ai-lab");
  ASSERT_EQ(series["activeSeconds"].size(), 2u);
  EXPECT_EQ(series["activeSeconds"][0], json({{"type", "Property"},
                                              {"value", 1800.0},
                                              {"observedAt", "2026-11-01T10:00:00Z"},
                                              {"unitCode", "SEC"}}));
  EXPECT_EQ(series["activeSeconds"][1]["observedAt"], "2026-11-01T11:00:00Z");
  EXPECT_FALSE(series.contains("energy"));
  auto last =
      Get(testing::Admin(), "/ngsi-ld/v1/temporal/entities/" + series["id"].get<std::string>(),
          {{"lastN", "1"}});
  ASSERT_EQ(last.status, 200) << last.body;
  auto one = json::parse(last.body);
  ASSERT_EQ(one["energy"].size(), 1u);
  EXPECT_EQ(one["energy"][0]["observedAt"], "2026-11-01T11:00:00Z");
  for (auto bad : std::vector<std::vector<std::pair<std::string, std::string>>>{
           {{"type", "Gpu"}},
           {{"type", "UsageRollup"}, {"timerel", "between"}, {"timeAt", "2026-11-01T10:00:00Z"}},
           {{"type", "UsageRollup"}, {"timerel", "during"}, {"timeAt", "2026-11-01T10:00:00Z"}},
           {{"type", "UsageRollup"}, {"timerel", "before"}, {"timeAt", "yesterday"}},
           {{"type", "UsageRollup"}, {"timeAt", "2026-11-01T10:00:00Z"}},
           {{"type", "UsageRollup"},
            {"timerel", "between"},
            {"timeAt", "2026-11-01T12:00:00Z"},
            {"endTimeAt", "2026-11-01T10:00:00Z"}},
           {{"type", "UsageRollup"}, {"lastN", "0"}},
           {{"type", "UsageRollup"}, {"timeproperty", "modifiedAt"}},
       }) {
    auto e = Get(testing::Admin(), "/ngsi-ld/v1/temporal/entities", bad);
    EXPECT_EQ(e.status, 400) << e.body;
    EXPECT_EQ(ErrorType(e), "https://uri.etsi.org/ngsi-ld/errors/BadRequestData");
  }
}

TEST_F(NgsiRoutesTest, ContextIsServedAsJsonLd) {
  auto r = Get(testing::Nobody(), "/ngsi-ld/v1/context.jsonld");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Content-Type"), "application/ld+json");
  EXPECT_EQ(json::parse(r.body), NgsiContextDocument());
}

TEST_F(NgsiRoutesTest, HostileHostHeaderDoesNotReachTheLinkHeader) {
  http::Router router;
  router.Use(testing::SetCaller(testing::Admin()));
  AddNgsiRoutes(router, *store_);
  http::Request req;
  req.method = "GET";
  req.path = "/ngsi-ld/v1/types";
  req.headers = {{"host", "evil.example>; rel=x, <http://a"}};
  auto r = router.Dispatch(req);
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.Header("Link").starts_with("</ngsi-ld/v1/context.jsonld>")) << r.Header("Link");
}

}  // namespace
}  // namespace aitelemetry::api
