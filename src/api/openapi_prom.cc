#include "api/openapi_prom.h"

#include <string>
#include <utility>

namespace aitelemetry::api {
namespace {

using Json = nlohmann::ordered_json;

Json Param(const char* name, const char* in, bool required, const char* description,
           Json schema = {{"type", "string"}}) {
  return {{"name", name},
          {"in", in},
          {"required", required},
          {"description", description},
          {"schema", std::move(schema)}};
}

Json Answer() {
  return {{"content",
           {{"application/json", {{"schema", {{"$ref", "#/components/schemas/PromAnswer"}}}}}}}};
}

Json Operation(const std::string& id, const char* summary, Json params, bool post) {
  Json responses = Json::object();
  responses["200"] = Answer();
  responses["200"]["description"] = "Prometheus' own answer.";
  for (auto [status, what] : std::initializer_list<std::pair<const char*, const char*>>{
           {"400", "bad_data: a malformed, repeated or unknown parameter, or a limit passed."},
           {"401", "No or invalid credentials."},
           {"403", "The query cannot be restricted exactly to grants in several clusters."},
           {"404", "No such hub, or no grant in it."},
           {"429", "Too many queries of this caller in flight."},
           {"503", "The hub's Prometheus cannot be reached."},
           {"504", "The query timed out."}}) {
    responses[status] = Answer();
    responses[status]["description"] = what;
  }
  Json op = {{"tags", {"promql"}},
             {"operationId", id + (post ? "Post" : "")},
             {"summary", summary},
             {"description",
              "Every selector is restricted to the caller's (cluster, namespace) grants in the "
              "hub; see docs/promql.md. Parameters come from the URL or, for POST, from an "
              "application/x-www-form-urlencoded body, never both; none may repeat except "
              "match[]."},
             {"responses", responses}};
  if (!post) {
    op["parameters"] = std::move(params);
  } else {
    Json props = Json::object();
    for (const auto& p : params) {
      if (p["in"] == "query") props[p["name"].get<std::string>()] = p["schema"];
    }
    op["requestBody"] = {{"required", true},
                         {"content",
                          {{"application/x-www-form-urlencoded",
                            {{"schema", {{"type", "object"}, {"properties", props}}}}}}}};
    Json path_params = Json::array();
    for (const auto& p : params) {
      if (p["in"] == "path") path_params.push_back(p);
    }
    op["parameters"] = path_params;
  }
  return op;
}

}  // namespace

void AddPromOpenApi(Json& paths, Json& schemas) {
  Json hub = Param("hub", "path", true, "The hub's name.");
  Json time = Param("time", "query", false, "Unix seconds or RFC 3339.");
  Json timeout = Param("timeout", "query", false, "At most prom.query_timeout.");
  Json start = Param("start", "query", false, "Unix seconds or RFC 3339.");
  Json end = Param("end", "query", false, "Unix seconds or RFC 3339.");
  Json match = Param("match[]", "query", false,
                     "Series selectors; default: every series the caller may read.",
                     {{"type", "array"}, {"items", {{"type", "string"}}}});
  Json limit = Param("limit", "query", false, "Most items to return.",
                     {{"type", "integer"}, {"minimum", 0}});
  Json query = Param("query", "query", true, "PromQL (Prometheus 2.x grammar).");
  struct Path {
    std::string path;
    std::string id;
    const char* summary;
    Json params;
  };
  Json range_start = start, range_end = end;
  range_start["required"] = true;
  range_end["required"] = true;
  Json step = Param("step", "query", true, "Seconds or a duration such as 1m.");
  std::vector<Path> list = {
      {"/prom/{hub}/api/v1/query", "promQuery", "Instant query", {hub, query, time, timeout}},
      {"/prom/{hub}/api/v1/query_range",
       "promQueryRange",
       "Range query",
       {hub, query, range_start, range_end, step, timeout}},
      {"/prom/{hub}/api/v1/series", "promSeries", "Series", {hub, match, start, end, limit}},
      {"/prom/{hub}/api/v1/labels", "promLabels", "Label names", {hub, match, start, end, limit}},
      {"/prom/{hub}/api/v1/label/{name}/values",
       "promLabelValues",
       "Label values",
       {hub, Param("name", "path", true, "The label name."), match, start, end, limit}},
  };
  for (const auto& p : list) {
    Json item = {{"get", Operation(p.id, p.summary, p.params, false)}};
    // Prometheus takes label values by GET only.
    if (p.id != "promLabelValues") item["post"] = Operation(p.id, p.summary, p.params, true);
    paths[p.path] = item;
  }
  schemas["PromAnswer"] = {
      {"type", "object"},
      {"description", "Prometheus' HTTP API answer, passed on as the hub's Prometheus wrote it."},
      {"required", {"status"}},
      {"properties",
       {{"status", {{"type", "string"}, {"enum", {"success", "error"}}}},
        {"data", Json::object()},
        {"errorType", {{"type", "string"}}},
        {"error", {{"type", "string"}}},
        {"warnings", {{"type", "array"}, {"items", {{"type", "string"}}}}}}}};
}

}  // namespace aitelemetry::api
