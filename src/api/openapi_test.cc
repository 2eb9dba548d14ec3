#include "api/openapi.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "api/docs.h"
#include "api/docs_assets.h"
#include "api/rest.h"

namespace aitelemetry::api {
namespace {

using Json = nlohmann::ordered_json;

TEST(OpenApi, EveryServedModelHasItsPathsAndSchemas) {
  auto doc = BuildOpenApi({"1.2.3", ""});
  EXPECT_EQ(doc["openapi"], "3.1.0");
  EXPECT_EQ(doc["info"]["version"], "1.2.3");
  for (const auto& m : model::Models()) {
    bool served = !m.internal;
    EXPECT_EQ(doc["paths"].contains("/api/" + m.name), served) << m.name;
    EXPECT_EQ(doc["paths"].contains("/api/" + m.name + "/{key}"), served) << m.name;
    EXPECT_EQ(doc["components"]["schemas"].contains(m.type_name), served) << m.name;
    if (!served) continue;
    const auto& props = doc["components"]["schemas"][m.type_name]["properties"];
    for (const auto& f : m.fields) {
      ASSERT_TRUE(props.contains(f.name)) << m.name << "." << f.name;
      EXPECT_FALSE(props[f.name]["description"].get<std::string>().empty());
      if (!f.unit.empty()) {
        EXPECT_EQ(props[f.name]["x-unit"], f.unit);
        EXPECT_NE(props[f.name]["description"].get<std::string>().find(f.unit), std::string::npos);
      }
    }
    // PATCH exists exactly when there are editable fields, and its schema has only those.
    bool editable = false;
    for (const auto& f : m.fields) editable = editable || f.Has(model::kEditable);
    EXPECT_EQ(doc["paths"]["/api/" + m.name + "/{key}"].contains("patch"), editable) << m.name;
    if (editable) {
      for (const auto& [name, _] :
           doc["components"]["schemas"][m.type_name + "Patch"]["properties"].items()) {
        EXPECT_TRUE(m.FindField(name)->Has(model::kEditable)) << m.name << "." << name;
      }
    }
  }
}

TEST(OpenApi, SearchParametersCarryTheFieldEnums) {
  auto doc = BuildOpenApi({});
  const auto& params = doc["paths"]["/api/gpu"]["get"]["parameters"];
  const auto& gpu = *model::FindModel("gpu");
  for (const auto& p : params) {
    if (p["name"] == "facet.field") {
      for (const auto& name : p["schema"]["items"]["enum"]) {
        EXPECT_TRUE(gpu.FindField(name.get<std::string>())->Has(model::kFacetable));
      }
    }
    if (p["name"] == "sort") {
      for (const auto& name : p["schema"]["x-sortable-fields"]) {
        EXPECT_TRUE(gpu.FindField(name.get<std::string>())->Has(model::kSortable));
      }
    }
  }
  const auto& search = doc["components"]["schemas"]["GpuSearchResponse"]["properties"];
  for (const char* key :
       {"startNum", "foundNum", "returnedNum", "list", "facet_counts", "stats", "nextCursorMark"}) {
    EXPECT_TRUE(search.contains(key)) << key;
  }
  const auto& row = doc["components"]["schemas"]["UsageRow"]["properties"];
  for (const char* key :
       {"key", "time", "allocated_gpu_hours", "gpu_equivalent_hours", "active_gpu_hours",
        "idle_gpu_hours", "energy_joules", "efficiency", "coverage", "observed_fraction"}) {
    EXPECT_TRUE(row.contains(key)) << key;
  }
  EXPECT_TRUE(doc["paths"]["/api/events"]["get"]["responses"]["200"]["content"].contains(
      "text/event-stream"));
  EXPECT_TRUE(doc["paths"]["/api/alerts"].contains("post"));
  for (const char* p : {"/ngsi-ld/v1/entities", "/ngsi-ld/v1/entities/{id}", "/ngsi-ld/v1/types",
                        "/ngsi-ld/v1/temporal/entities", "/ngsi-ld/v1/context.jsonld", "/healthz",
                        "/readyz", "/metrics"}) {
    EXPECT_TRUE(doc["paths"].contains(p)) << p;
  }
}

TEST(OpenApi, SecuritySchemesFollowTheIssuer) {
  auto open = BuildOpenApi({});
  EXPECT_TRUE(open["components"]["securitySchemes"].contains("bearer"));
  EXPECT_FALSE(open["components"]["securitySchemes"].contains("oidc"));
  auto oidc = BuildOpenApi({"1", "https://sso.example.org/realms/nerc/"});
  EXPECT_EQ(oidc["components"]["securitySchemes"]["oidc"]["openIdConnectUrl"],
            "https://sso.example.org/realms/nerc/.well-known/openid-configuration");
  // Every 4xx/5xx answer of the REST API is problem+json.
  for (const auto& [status, response] : oidc["components"]["responses"].items()) {
    if (status[0] == 'P') {
      EXPECT_TRUE(response["content"].contains("application/problem+json")) << status;
    }
  }
}

// Converts yaml-cpp nodes back to JSON (scalars by their text, as YAML typed them).
Json FromYaml(const YAML::Node& n) {
  if (n.IsMap()) {
    Json j = Json::object();
    for (const auto& kv : n) j[kv.first.as<std::string>()] = FromYaml(kv.second);
    return j;
  }
  if (n.IsSequence()) {
    Json j = Json::array();
    for (const auto& v : n) j.push_back(FromYaml(v));
    return j;
  }
  if (n.IsNull()) return nullptr;
  // Plain scalars that YAML reads as numbers or booleans come back as such.
  if (n.Tag() == "?") {
    bool b;
    if (YAML::convert<bool>::decode(n, b)) return b;
    int64_t i;
    if (YAML::convert<int64_t>::decode(n, i)) return i;
    double d;
    if (YAML::convert<double>::decode(n, d)) return d;
  }
  return n.as<std::string>();
}

TEST(OpenApi, YamlReadsBackAsTheSameDocument) {
  Json tricky = {{"a", "true"}, {"b", "1.5"},    {"c", "null"},        {"d", ""},
                 {"e", "x: y"}, {"f", "- item"}, {"g", "#hash"},       {"h", 3},
                 {"i", 2.5},    {"j", false},    {"k", Json::array()}, {"l", "line\nbreak"},
                 {"m", "yes"},  {"n", "0x1F"},   {"o", "@context"},    {"p", nullptr}};
  EXPECT_EQ(FromYaml(YAML::Load(ToYaml(tricky))), tricky) << ToYaml(tricky);
  auto doc = BuildOpenApi({"0.1.0", "https://sso.example.org"});
  EXPECT_EQ(FromYaml(YAML::Load(ToYaml(doc))), doc);
}

// /api/openapi.json is where many clients look first: it is the document, never a search of a
// model named "openapi.json" (a 400), with the routes in the order cli/app.cc adds them.
TEST(Docs, ServesTheDocumentUnderApiBeforeTheModelRoutes) {
  http::Router router;
  AddDocRoutes(router, {"0.1.0", ""});
  AddRestRoutes(router, RestDeps{});
  for (const char* path : {"/api/openapi.json", "/api/openapi.yaml"}) {
    http::Request req;
    req.method = "GET";
    req.path = path;
    req.target = path;
    auto r = router.Dispatch(req);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body.substr(0, 200);
  }
  http::Request req;
  req.method = "GET";
  req.path = req.target = "/api/openapi.json";
  EXPECT_EQ(Json::parse(router.Dispatch(req).body), BuildOpenApi({"0.1.0", ""}));
}

TEST(Docs, ServesDocumentPageAndEmbeddedAssets) {
  http::Router router;
  AddDocRoutes(router, {"0.1.0", ""});
  auto get = [&](const std::string& path, std::string inm = "") {
    http::Request req;
    req.method = "GET";
    req.path = path;
    if (!inm.empty()) req.headers.emplace_back("if-none-match", inm);
    return router.Dispatch(req);
  };
  auto json = get("/openapi.json");
  ASSERT_EQ(json.status, 200);
  EXPECT_EQ(Json::parse(json.body), BuildOpenApi({"0.1.0", ""}));
  EXPECT_EQ(get("/openapi.yaml").Header("Content-Type"), "application/yaml");
  auto page = get("/docs");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.Header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(page.body.find("https://"), std::string::npos);  // no CDN, nothing off-site
  // Every asset the page names is embedded and served with its type and caching headers.
  for (const char* name :
       {"swagger-ui-bundle.js", "swagger-ui.css", "docs_init.js", "favicon-32x32.png"}) {
    EXPECT_NE(page.body.find(std::string("/assets/docs/") + name), std::string::npos) << name;
    auto r = get(std::string("/assets/docs/") + name);
    ASSERT_EQ(r.status, 200) << name;
    EXPECT_EQ(r.Header("Content-Type"), AssetContentType(name));
    EXPECT_EQ(r.Header("Cache-Control"), "public, max-age=86400");
    EXPECT_GT(r.body.size(), 100u);
    auto again = get(std::string("/assets/docs/") + name, r.Header("ETag"));
    EXPECT_EQ(again.status, 304) << name;
    EXPECT_TRUE(again.body.empty());
  }
  EXPECT_NE(get("/assets/docs/swagger-ui-bundle.js").body.find("SwaggerUIBundle"),
            std::string::npos);
  for (const char* bad :
       {"/assets/docs/nope.js", "/assets/docs/..%2Fopenapi.json", "/assets/docs/"}) {
    EXPECT_EQ(get(bad).status, 404) << bad;
  }
  EXPECT_EQ(AssetContentType("x.css"), "text/css; charset=utf-8");
  EXPECT_EQ(AssetContentType("x.bin"), "application/octet-stream");
}

}  // namespace
}  // namespace aitelemetry::api
