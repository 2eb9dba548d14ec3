#include "api/openapi.h"

#include <cmath>
#include <cstdlib>
#include <set>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "api/ngsi.h"
#include "api/ngsi_routes.h"
#include "api/openapi_prom.h"

namespace aitelemetry::api {
namespace {

using Json = nlohmann::ordered_json;
using model::Field;
using model::Model;

Json Ref(const std::string& where) { return {{"$ref", where}}; }
Json SchemaRef(const std::string& name) { return Ref("#/components/schemas/" + name); }

Json Content(const std::string& media, Json schema) { return {{media, {{"schema", schema}}}}; }

Json Reply(const std::string& description, Json content = nullptr) {
  Json r = {{"description", description}};
  if (!content.is_null()) r["content"] = std::move(content);
  return r;
}

// The problem+json answers every API operation may give.
void AddErrors(Json& responses, std::initializer_list<int> statuses) {
  for (int s : statuses)
    responses[std::to_string(s)] = Ref(fmt::format("#/components/responses/P{}", s));
}
void AddNgsiErrors(Json& responses, std::initializer_list<int> statuses) {
  for (int s : statuses)
    responses[std::to_string(s)] = Ref(fmt::format("#/components/responses/N{}", s));
}

Json Param(const std::string& name, const std::string& in, const std::string& description,
           Json schema, bool required = false) {
  Json p = {{"name", name}, {"in", in}, {"description", description}, {"schema", schema}};
  if (required || in == "path") p["required"] = true;
  return p;
}

Json StringEnum(const std::vector<std::string>& names) {
  return {{"type", "string"}, {"enum", names}};
}

Json ArrayOf(Json items) { return {{"type", "array"}, {"items", std::move(items)}}; }

std::vector<std::string> FieldNames(const Model& m, model::FieldFlag flag) {
  std::vector<std::string> out;
  for (const auto& f : m.fields) {
    if (f.Has(flag)) out.push_back(f.name);
  }
  return out;
}

std::string Joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : "|") + n;
  return out;
}

Json SearchParameters(const Model& m) {
  auto sortable = FieldNames(m, model::kSortable);
  auto facetable = FieldNames(m, model::kFacetable);
  auto stats = FieldNames(m, model::kStat);
  std::vector<std::string> filterable;
  std::vector<std::string> all;
  for (const auto& f : m.fields) {
    all.push_back(f.name);
    if (f.Has(model::kFilterable) || f.Has(model::kFacetable)) filterable.push_back(f.name);
  }
  std::string field = "(" + Joined(sortable) + ")";
  Json sort = {{"type", "string"},
               {"pattern", fmt::format("^{0}( (asc|desc))?(,{0}( (asc|desc))?)*$", field)},
               {"x-sortable-fields", sortable}};
  Json ps = Json::array();
  ps.push_back(Param("q", "query", "Full-text search over the searchable fields.",
                     {{"type", "string"}, {"maxLength", 1024}}));
  ps.push_back(Param("fq", "query",
                     "Filter `field:value` (repeatable; all must hold). Values may be a range "
                     "`[a TO b]`. Filterable fields: " +
                         fmt::format("{}.", fmt::join(filterable, ", ")),
                     ArrayOf({{"type", "string"}, {"x-filterable-fields", filterable}})));
  ps.back()["explode"] = true;
  ps.push_back(Param("sort", "query",
                     fmt::format("Comma-separated `field asc|desc`. Sortable fields: {}.",
                                 fmt::join(sortable, ", ")),
                     sort));
  ps.push_back(Param("start", "query", "Rows to skip.",
                     {{"type", "integer"}, {"minimum", 0}, {"default", 0}}));
  ps.push_back(Param("rows", "query", "Rows to return.",
                     {{"type", "integer"}, {"minimum", 0}, {"default", 100}}));
  ps.push_back(
      Param("fl", "query", "Comma-separated fields to return.",
            {{"type", "string"}, {"pattern", fmt::format("^({0})(,({0}))*$", Joined(all))}}));
  if (!facetable.empty()) {
    ps.push_back(Param("facet.field", "query", "Count rows per value of these fields.",
                       ArrayOf(StringEnum(facetable))));
    ps.back()["explode"] = true;
  }
  if (!stats.empty()) {
    ps.push_back(Param("stats.field", "query", "Summarise these numeric fields.",
                       ArrayOf(StringEnum(stats))));
    ps.back()["explode"] = true;
  }
  ps.push_back(Param("cursorMark", "query",
                     "Deep paging: `*` for the first page, then the previous nextCursorMark.",
                     {{"type", "string"}}));
  ps.push_back(
      Param("format", "query", "Response format.",
            {{"type", "string"}, {"enum", Json::array({"json", "csv"})}, {"default", "json"}}));
  return ps;
}

void AddModelPaths(const Model& m, Json& paths) {
  const std::string t = OperationName(m);
  Json list = {{"tags", {m.name}},
               {"operationId", "search" + t},
               {"summary", fmt::format("Search {} rows", m.name)},
               {"description", m.description},
               {"parameters", SearchParameters(m)},
               {"responses",
                {{"200", Reply("One page of results.",
                               {{"application/json", {{"schema", SchemaRef(t + "SearchResponse")}}},
                                {"text/csv", {{"schema", {{"type", "string"}}}}}})}}}};
  AddErrors(list["responses"], {400, 401, 403, 500, 503});
  paths["/api/" + m.name] = {{"get", list}};

  Json key = Param("key", "path", "Natural key.", {{"type", "string"}});
  Json item = {{"parameters", Json::array({key})}};
  Json get = {
      {"tags", {m.name}},
      {"operationId", "get" + t},
      {"summary", fmt::format("Get one {}", m.name)},
      {"responses", {{"200", Reply("The row.", Content("application/json", SchemaRef(t)))}}}};
  AddErrors(get["responses"], {400, 401, 403, 404, 500, 503});
  item["get"] = get;
  bool editable = false;
  for (const auto& f : m.fields) editable = editable || f.Has(model::kEditable);
  if (editable) {
    Json patch = {
        {"tags", {m.name}},
        {"operationId", "patch" + t},
        {"summary", fmt::format("Change the editable fields of a {} (admin)", m.name)},
        {"requestBody",
         {{"required", true},
          {"content",
           {{"application/json", {{"schema", SchemaRef(t + "Patch")}}},
            {"application/merge-patch+json", {{"schema", SchemaRef(t + "Patch")}}}}}}},
        {"responses",
         {{"200", Reply("The updated row.", Content("application/json", SchemaRef(t)))}}}};
    AddErrors(patch["responses"], {400, 401, 403, 404, 409, 413, 500, 503});
    item["patch"] = patch;
  }
  paths["/api/" + m.name + "/{key}"] = item;
}

void AddServicePaths(Json& paths) {
  Json usage_params = Json::array();
  usage_params.push_back(Param("groupBy", "query", "What each row sums over.",
                               StringEnum({"project", "cluster", "node", "gpu", "model", "hub"}),
                               true));
  usage_params.push_back(Param("from", "query", "Start (RFC 3339); default 30 days before `to`.",
                               {{"type", "string"}, {"format", "date-time"}}));
  usage_params.push_back(Param("to", "query",
                               "End (RFC 3339, exclusive); default the end of "
                               "the current hour.",
                               {{"type", "string"}, {"format", "date-time"}}));
  usage_params.push_back(Param("step", "query", "Bucket size; none: one row per group.",
                               StringEnum({"hour", "day", "month"})));
  for (const char* f : {"hub", "cluster", "project", "node", "model"}) {
    usage_params.push_back(Param(f, "query", fmt::format("Only this {} (repeatable).", f),
                                 ArrayOf({{"type", "string"}})));
    usage_params.back()["explode"] = true;
  }
  usage_params.push_back(Param("format", "query", "Response format.",
                               {{"type", "string"}, {"enum", Json::array({"json", "csv"})}}));
  // The report shares its path with the search of the usage model (the REST router sends a
  // request with groupBy to the report), so both are described as one operation.
  Json usage;
  if (paths.contains("/api/usage")) {
    usage = paths["/api/usage"]["get"];
    usage_params[0]["required"] = false;
    std::set<std::string> seen;
    for (const auto& p : usage["parameters"]) seen.insert(p["name"].get<std::string>());
    for (const auto& p : usage_params) {
      if (!seen.contains(p["name"].get<std::string>())) usage["parameters"].push_back(p);
    }
    usage["operationId"] = "searchUsageOrReport";
    usage["summary"] = "Search hourly usage rows, or with groupBy a usage report";
    usage["description"] =
        "Without groupBy: a search of the hourly usage rows (Solr-style parameters). With "
        "groupBy: GPU-hours, efficiency and coverage per group and time bucket (from, to, step "
        "and the hub/cluster/project/node/model filters).";
    Json& ok = usage["responses"]["200"]["content"]["application/json"]["schema"];
    ok = {{"oneOf", Json::array({ok, SchemaRef("UsageReport")})}};
  } else {
    usage = {{"tags", {"usage"}},
             {"operationId", "usageReport"},
             {"summary", "GPU-hours, efficiency and coverage per group and time bucket"},
             {"parameters", usage_params},
             {"responses",
              {{"200",
                Reply("The report.", {{"application/json", {{"schema", SchemaRef("UsageReport")}}},
                                      {"text/csv", {{"schema", {{"type", "string"}}}}}})}}}};
    AddErrors(usage["responses"], {400, 401, 403, 500, 503});
  }
  paths["/api/usage"] = {{"get", usage}};

  Json events = {{"tags", {"events"}},
                 {"operationId", "events"},
                 {"summary", "Live changes as Server-Sent Events"},
                 {"description",
                  "Each event names the model and key that changed; only rows "
                  "the caller may read are announced."},
                 {"responses",
                  {{"200", Reply("An endless event stream.",
                                 Content("text/event-stream", {{"type", "string"}}))}}}};
  AddErrors(events["responses"], {401, 403, 503});
  paths["/api/events"] = {{"get", events}};

  Json alerts = {{"tags", {"alerts"}},
                 {"operationId", "receiveAlerts"},
                 {"summary", "Alertmanager webhook receiver"},
                 {"description",
                  "Persisted before the 2xx answer; redelivery is idempotent "
                  "(fingerprint and startsAt)."},
                 {"requestBody",
                  {{"required", true},
                   {"content", Content("application/json", SchemaRef("AlertmanagerWebhook"))}}},
                 {"responses", {{"200", Reply("Stored.")}}}};
  AddErrors(alerts["responses"], {400, 401, 413, 500, 503});
  paths["/api/alerts"] = {{"post", alerts}};

  auto plain = [](const std::string& id, const std::string& summary, const std::string& media,
                  Json schema, bool with_503) {
    Json op = {{"tags", {"operations"}},
               {"operationId", id},
               {"summary", summary},
               {"security", Json::array()},
               {"responses", {{"200", Reply("OK.", Content(media, std::move(schema)))}}}};
    if (with_503) op["responses"]["503"] = Ref("#/components/responses/P503");
    return Json{{"get", op}};
  };
  Json status_schema = {{"type", "object"}, {"properties", {{"status", {{"type", "string"}}}}}};
  paths["/healthz"] = plain("healthz", "Liveness", "application/json", status_schema, false);
  paths["/readyz"] =
      plain("readyz", "Readiness: the store answers", "application/json", status_schema, true);
  paths["/metrics"] = plain("metrics", "This process's Prometheus metrics", "text/plain",
                            {{"type", "string"}}, false);
  paths["/openapi.json"] =
      plain("openapiJson", "This document", "application/json", {{"type", "object"}}, false);
  paths["/openapi.yaml"] = plain("openapiYaml", "This document as YAML", "application/yaml",
                                 {{"type", "string"}}, false);
}

void AddNgsiPaths(Json& paths) {
  std::vector<std::string> types;
  for (const auto& m : model::Models()) {
    if (!m.internal) types.push_back(m.type_name);
  }
  Json any_entity = Json::array();
  for (const auto& t : types) any_entity.push_back(SchemaRef("Ngsi" + t));
  Json entity = {{"oneOf", any_entity}};
  auto negotiated = [](Json schema) {
    return Json{{"application/json", {{"schema", schema}}},
                {"application/ld+json", {{"schema", schema}}}};
  };
  Json link = {{"Link",
                {{
                     "description",
                     "The @context, for application/json responses.",
                 },
                 {"schema", {{"type", "string"}}}}}};
  Json count_header = {
      {"NGSILD-Results-Count",
       {{"description", "Total matches, with count=true."}, {"schema", {{"type", "integer"}}}}}};
  Json list_headers = link;
  list_headers.update(count_header);
  Json accept = Param("Accept", "header",
                      "application/json (context in the Link header) or "
                      "application/ld+json (context in the body).",
                      {{"type", "string"}});
  Json common = Json::array();
  common.push_back(Param("type", "query", "Entity type.", StringEnum(types)));
  common.push_back(Param("id", "query", "Comma-separated entity ids.", {{"type", "string"}}));
  common.push_back(
      Param("attrs", "query", "Comma-separated attribute names to return.", {{"type", "string"}}));
  common.push_back(Param("q", "query",
                         "NGSI-LD query: terms `attr==v`, `!=`, `>`, `>=`, `<`, `<=`, lists "
                         "`a==x,y`, ranges `a==1..5`, joined by `;` (AND).",
                         {{"type", "string"}, {"maxLength", 4096}}));
  common.push_back(Param("limit", "query", "Entities per page.",
                         {{"type", "integer"},
                          {"minimum", 0},
                          {"maximum", kNgsiMaxLimit},
                          {"default", kNgsiDefaultLimit}}));
  common.push_back(
      Param("offset", "query", "Entities to skip.", {{"type", "integer"}, {"minimum", 0}}));
  common.push_back(Param("count", "query", "Send NGSILD-Results-Count.", {{"type", "boolean"}}));
  common.push_back(Param("options", "query", "keyValues: the simplified representation.",
                         StringEnum({"normalized", "keyValues"})));
  common.push_back(accept);

  Json list = {{"tags", {"ngsi-ld"}},
               {"operationId", "ngsiQueryEntities"},
               {"summary", "Query entities (NGSI-LD)"},
               {"parameters", common},
               {"responses",
                {{"200",
                  {{
                       "description",
                       "Matching entities.",
                   },
                   {"headers", list_headers},
                   {"content", negotiated(ArrayOf(entity))}}}}}};
  AddNgsiErrors(list["responses"], {400, 401, 403, 406, 500});
  paths["/ngsi-ld/v1/entities"] = {{"get", list}};

  Json id = Param("id", "path", "Entity id, urn:ngsi-ld:{Type}:{key}.",
                  {{"type", "string"}, {"format", "uri"}});
  Json one = {
      {"tags", {"ngsi-ld"}},
      {"operationId", "ngsiRetrieveEntity"},
      {"summary", "Retrieve one entity (NGSI-LD)"},
      {"parameters", Json::array({id, common[2], common[7], accept})},
      {"responses",
       {{"200",
         {{"description", "The entity."}, {"headers", link}, {"content", negotiated(entity)}}}}}};
  AddNgsiErrors(one["responses"], {400, 401, 403, 404, 406, 500});
  paths["/ngsi-ld/v1/entities/{id}"] = {{"get", one}};

  Json types_op = {{"tags", {"ngsi-ld"}},
                   {"operationId", "ngsiEntityTypes"},
                   {"summary", "Entity types (NGSI-LD)"},
                   {"parameters", Json::array({accept})},
                   {"responses",
                    {{"200",
                      {{"description", "The types the caller can see."},
                       {"headers", link},
                       {"content", negotiated(SchemaRef("NgsiEntityTypeList"))}}}}}};
  AddNgsiErrors(types_op["responses"], {401, 403, 406, 500});
  paths["/ngsi-ld/v1/types"] = {{"get", types_op}};

  Json temporal_params = common;
  temporal_params.push_back(
      Param("timerel", "query", "Temporal relation.", StringEnum({"before", "after", "between"})));
  temporal_params.push_back(Param("timeAt", "query", "Reference time (RFC 3339).",
                                  {{"type", "string"}, {"format", "date-time"}}));
  temporal_params.push_back(Param("endTimeAt", "query", "End time for between (exclusive).",
                                  {{"type", "string"}, {"format", "date-time"}}));
  temporal_params.push_back(Param("lastN", "query", "Only the newest N instances per attribute.",
                                  {{"type", "integer"}, {"minimum", 1}}));
  temporal_params[0] = Param("type", "query",
                             "Entity type; the usage history is kept for "
                             "UsageRollup.",
                             StringEnum({model::FindModel("usage")->type_name}));
  Json temporal = {{"tags", {"ngsi-ld"}},
                   {"operationId", "ngsiQueryTemporal"},
                   {"summary", "Usage history per device and project (NGSI-LD temporal)"},
                   {"parameters", temporal_params},
                   {"responses",
                    {{"200",
                      {{"description", "Temporal entities, one per device/project series."},
                       {"headers", list_headers},
                       {"content", negotiated(ArrayOf(SchemaRef("NgsiTemporalEntity")))}}}}}};
  AddNgsiErrors(temporal["responses"], {400, 401, 403, 406, 500});
  paths["/ngsi-ld/v1/temporal/entities"] = {{"get", temporal}};
  Json temporal_one_params = Json::array({id});
  for (size_t i = 2; i < temporal_params.size(); ++i) {
    std::string name = temporal_params[i]["name"];
    if (name != "limit" && name != "offset" && name != "count")
      temporal_one_params.push_back(temporal_params[i]);
  }
  Json temporal_one = {{"tags", {"ngsi-ld"}},
                       {"operationId", "ngsiRetrieveTemporal"},
                       {"summary", "One usage series (NGSI-LD temporal)"},
                       {"parameters", temporal_one_params},
                       {"responses",
                        {{"200",
                          {{"description", "The series."},
                           {"headers", link},
                           {"content", negotiated(SchemaRef("NgsiTemporalEntity"))}}}}}};
  AddNgsiErrors(temporal_one["responses"], {400, 401, 403, 404, 406, 500});
  paths["/ngsi-ld/v1/temporal/entities/{id}"] = {{"get", temporal_one}};

  Json context = {{"tags", {"ngsi-ld"}},
                  {"operationId", "ngsiContext"},
                  {"summary", "The JSON-LD @context of every type and attribute"},
                  {"security", Json::array()},
                  {"responses",
                   {{"200", Reply("The context document.",
                                  Content("application/ld+json", {{"type", "object"}}))}}}};
  AddNgsiErrors(context["responses"], {500});
  paths[std::string(kNgsiContextPath)] = {{"get", context}};
}

Json Responses() {
  Json r = Json::object();
  for (auto [status, what] : std::initializer_list<std::pair<int, const char*>>{
           {400, "The request is malformed (the detail names the parameter)."},
           {401, "No or invalid credentials."},
           {403, "Not allowed."},
           {404, "No such thing, or the caller may not see it."},
           {409, "Conflict with the current state."},
           {413, "The body is too large."},
           {500, "Internal error."},
           {503, "The store or a peer is unavailable; retry later."}}) {
    r["P" + std::to_string(status)] =
        Reply(what, Content("application/problem+json", SchemaRef("Problem")));
  }
  for (auto [status, what] : std::initializer_list<std::pair<int, const char*>>{
           {400, "BadRequestData or InvalidRequest."},
           {401, "No or invalid credentials."},
           {403, "NoPermission or TooManyResults."},
           {404, "ResourceNotFound (also for entities the caller may not see)."},
           {406, "NotAcceptable: the Accept header names no served media type."},
           {500, "InternalError."}}) {
    r["N" + std::to_string(status)] =
        Reply(what, Content("application/json", SchemaRef("NgsiError")));
  }
  return r;
}

}  // namespace

Json BuildOpenApi(const OpenApiOptions& options) {
  Json doc;
  doc["openapi"] = "3.1.0";
  doc["info"] = {
      {"title", "AI Telemetry API"},
      {"version", options.version},
      {"description",
       "GPU fleet telemetry: search every model with Solr-style parameters, usage reports, live "
       "events, the Alertmanager receiver and an NGSI-LD (ETSI GS CIM 009) view. Units are given "
       "in each field's description and its x-unit (x-unit-code: UN/CEFACT common code)."},
      {"license", {{"name", "Apache-2.0"}, {"identifier", "Apache-2.0"}}}};
  doc["servers"] = Json::array({{{"url", "/"}, {"description", "This server."}}});
  Json tags = Json::array();
  Json paths = Json::object();
  Json schemas = Json::object();
  AddCommonSchemas(schemas);
  for (const auto& m : model::Models()) {
    if (m.internal) continue;
    tags.push_back({{"name", m.name}, {"description", m.description}});
    AddModelSchemas(m, schemas);
    AddModelPaths(m, paths);
  }
  for (auto [name, what] : std::initializer_list<std::pair<const char*, const char*>>{
           {"events", "Live updates."},
           {"alerts", "Alertmanager webhook receiver."},
           {"ngsi-ld", "The NGSI-LD view of the same entities."},
           {"promql", "PromQL over the hub's Prometheus, restricted to the caller's grants."},
           {"operations", "Health, readiness, metrics and this document."}}) {
    tags.push_back({{"name", name}, {"description", what}});
  }
  AddServicePaths(paths);
  AddNgsiPaths(paths);
  AddPromOpenApi(paths, schemas);
  doc["tags"] = tags;
  doc["paths"] = paths;
  Json security_schemes = {
      {"bearer",
       {{"type", "http"},
        {"scheme", "bearer"},
        {"bearerFormat", "JWT"},
        {"description",
         "An access token from the OIDC issuer (client credentials for programs)."}}}};
  Json security = Json::array({{{"bearer", Json::array()}}});
  if (!options.issuer.empty()) {
    std::string issuer = options.issuer;
    while (!issuer.empty() && issuer.back() == '/') issuer.pop_back();
    security_schemes["oidc"] = {{"type", "openIdConnect"},
                                {"openIdConnectUrl", issuer + "/.well-known/openid-configuration"},
                                {"description", "Sign in with the site's OIDC provider."}};
    security.push_back({{"oidc", Json::array()}});
  }
  doc["security"] = security;
  doc["components"] = {
      {"securitySchemes", security_schemes}, {"responses", Responses()}, {"schemas", schemas}};
  return doc;
}

namespace {

// True when YAML would read `s` as something other than this plain string.
bool NeedsQuotes(const std::string& s) {
  if (s.empty()) return true;
  static const std::set<std::string> kSpecial = {
      "true",  "false", "yes", "no", "on",  "off",  "null", "y",    "n",     "~", "True",
      "False", "Yes",   "No",  "On", "Off", "Null", "NULL", "TRUE", "FALSE", "Y", "N"};
  if (kSpecial.contains(s)) return true;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  if (end != s.c_str() && *end == '\0') return true;
  return false;
}

void Emit(YAML::Emitter& out, const Json& j) {
  switch (j.type()) {
    case Json::value_t::object:
      out << YAML::BeginMap;
      for (const auto& [k, v] : j.items()) {
        out << YAML::Key;
        if (NeedsQuotes(k)) out << YAML::DoubleQuoted;
        out << k << YAML::Value;
        Emit(out, v);
      }
      out << YAML::EndMap;
      break;
    case Json::value_t::array:
      out << YAML::BeginSeq;
      for (const auto& v : j) Emit(out, v);
      out << YAML::EndSeq;
      break;
    case Json::value_t::string: {
      const auto& s = j.get_ref<const std::string&>();
      if (NeedsQuotes(s)) out << YAML::DoubleQuoted;
      out << s;
      break;
    }
    case Json::value_t::boolean:
      out << j.get<bool>();
      break;
    case Json::value_t::number_integer:
      out << j.get<int64_t>();
      break;
    case Json::value_t::number_unsigned:
      out << j.get<uint64_t>();
      break;
    case Json::value_t::number_float:
      out << j.get<double>();
      break;
    default:
      out << YAML::Null;
  }
}

}  // namespace

std::string ToYaml(const Json& document) {
  YAML::Emitter out;
  out.SetIndent(2);
  Emit(out, document);
  return std::string(out.c_str()) + "\n";
}

}  // namespace aitelemetry::api
