// Schemas of the OpenAPI document: one set per registry model, and the shared ones.
#include <fmt/format.h>

#include "api/ngsi.h"
#include "api/openapi.h"

namespace aitelemetry::api {
namespace {

using Json = nlohmann::ordered_json;
using model::Field;
using model::FieldType;
using model::Model;

Json Ref(const std::string& schema) { return {{"$ref", "#/components/schemas/" + schema}}; }

std::string WithUnit(const Field& f) {
  if (f.unit.empty()) return f.description;
  return fmt::format("{} Unit: {}.", f.description, f.unit);
}

}  // namespace

std::string OperationName(const Model& m) { return m.type_name; }

Json FieldSchema(const Field& f) {
  Json s = Json::object();
  std::string type;
  switch (f.type) {
    case FieldType::kString:
      type = "string";
      break;
    case FieldType::kInt:
      type = "integer";
      s["format"] = "int64";
      break;
    case FieldType::kReal:
      type = "number";
      s["format"] = "double";
      break;
    case FieldType::kBool:
      type = "boolean";
      break;
    case FieldType::kTime:
      type = "string";
      s["format"] = "date-time";
      break;
  }
  // Unknown is null, never zero: only required fields are never null.
  Json typed = {{"type", f.Has(model::kRequired) ? Json(type) : Json::array({type, "null"})}};
  typed.update(s);
  s = std::move(typed);
  s["description"] = WithUnit(f);
  if (!f.unit.empty()) s["x-unit"] = f.unit;
  if (!f.unit_code.empty()) s["x-unit-code"] = f.unit_code;
  if (!f.relation.empty()) {
    if (const Model* target = model::FindModel(f.relation)) s["x-relation"] = target->type_name;
  }
  if (f.Has(model::kEditable)) s["x-editable"] = true;
  return s;
}

void AddModelSchemas(const Model& m, Json& schemas) {
  const std::string t = m.type_name;
  Json props = Json::object();
  Json required = Json::array();
  Json patch_props = Json::object();
  Json ngsi_props = Json::object();
  Json facet_props = Json::object();
  Json stat_props = Json::object();
  for (const auto& f : m.fields) {
    props[f.name] = FieldSchema(f);
    if (f.Has(model::kRequired)) required.push_back(f.name);
    if (f.Has(model::kEditable)) {
      Json p = FieldSchema(f);
      p.erase("x-editable");
      patch_props[f.name] = std::move(p);
    }
    if (f.Has(model::kFacetable)) {
      facet_props[f.name] = {
          {"type", "object"},
          {"description", fmt::format("Rows per value of {}, most frequent first.", f.name)},
          {"additionalProperties", {{"type", "integer"}, {"minimum", 0}}}};
    }
    if (f.Has(model::kStat)) stat_props[f.name] = Ref("FieldStats");
    if (IsNgsiAttribute(m, f)) {
      bool relationship = !f.relation.empty() && model::FindModel(f.relation);
      Json a = Ref(relationship ? "NgsiRelationship" : "NgsiProperty");
      a["description"] = relationship ? fmt::format("{} Relationship to a {}.", f.description,
                                                    model::FindModel(f.relation)->type_name)
                                      : WithUnit(f);
      if (!f.unit_code.empty()) a["x-unit-code"] = f.unit_code;
      if (!f.unit.empty()) a["x-unit"] = f.unit;
      ngsi_props[f.NgsiName()] = std::move(a);
    }
  }
  schemas[t] = {{"type", "object"},
                {"description", m.description},
                {"properties", props},
                {"required", required}};
  if (!patch_props.empty()) {
    schemas[t + "Patch"] = {
        {"type", "object"},
        {"description", fmt::format("The fields of a {} an admin may change.", t)},
        {"properties", patch_props},
        {"additionalProperties", false},
        {"minProperties", 1}};
  }
  schemas[t + "SearchResponse"] = {
      {"type", "object"},
      {"description", fmt::format("One page of {} search results.", t)},
      {"required", Json::array({"startNum", "foundNum", "returnedNum", "list"})},
      {"properties",
       {{"startNum", {{"type", "integer"}, {"description", "Offset of the first row returned."}}},
        {"foundNum", {{"type", "integer"}, {"description", "Rows matching the query."}}},
        {"returnedNum", {{"type", "integer"}, {"description", "Rows in this page."}}},
        {"list", {{"type", "array"}, {"items", Ref(t)}}},
        {"facet_counts",
         {{"type", "object"},
          {"description", "Counts per value of each facet.field asked for."},
          {"properties",
           {{"facet_fields",
             {{"type", "object"},
              {"properties", facet_props},
              {"additionalProperties", false}}}}}}},
        {"stats",
         {{"type", "object"},
          {"description", "Summaries of each stats.field asked for."},
          {"properties",
           {{"stats_fields",
             {{"type", "object"}, {"properties", stat_props}, {"additionalProperties", false}}}}}}},
        {"nextCursorMark",
         {{"type", "string"},
          {"description", "Pass as cursorMark to get the next page; absent on the last page."}}}}}};
  Json ngsi = {{"type", "object"},
               {"description", fmt::format("NGSI-LD entity of type {}: {}", t, m.description)},
               {"required", Json::array({"id", "type"})},
               {"properties",
                {{"id",
                  {{"type", "string"},
                   {"format", "uri"},
                   {"description", fmt::format("urn:ngsi-ld:{}:{{key}}", t)}}},
                 {"type", {{"type", "string"}, {"const", t}}},
                 {"@context", Ref("NgsiContextReference")}}}};
  ngsi["properties"].update(ngsi_props);
  schemas["Ngsi" + t] = std::move(ngsi);
}

void AddCommonSchemas(Json& schemas) {
  schemas["Problem"] = {
      {"type", "object"},
      {"description", "An RFC 9457 problem details object."},
      {"required", Json::array({"type", "title", "status"})},
      {"properties",
       {{"type", {{"type", "string"}, {"description", "A URI reference naming the problem type."}}},
        {"title", {{"type", "string"}, {"description", "Short summary of the problem type."}}},
        {"status", {{"type", "integer"}, {"description", "The HTTP status code."}}},
        {"detail", {{"type", "string"}, {"description", "What went wrong with this request."}}},
        {"instance", {{"type", "string"}, {"description", "URI of this occurrence."}}}}}};
  schemas["FieldStats"] = {
      {"type", "object"},
      {"description", "Summary of a numeric field over the matching rows, in the field's unit."},
      {"properties",
       {{"min", {{"type", Json::array({"number", "null"})}, {"description", "Smallest value."}}},
        {"max", {{"type", Json::array({"number", "null"})}, {"description", "Largest value."}}},
        {"sum", {{"type", Json::array({"number", "null"})}, {"description", "Sum of the values."}}},
        {"mean",
         {{"type", Json::array({"number", "null"})}, {"description", "Mean of the values."}}},
        {"count", {{"type", "integer"}, {"description", "Rows with a non-null value."}}}}}};
  auto hours = [](const char* what) {
    return Json{{"type", "number"},
                {"description", fmt::format("{} Unit: GPU-hours.", what)},
                {"x-unit", "h"},
                {"x-unit-code", "HUR"}};
  };
  schemas["UsageRow"] = {
      {"type", "object"},
      {"description", "GPU usage of one group in one time bucket."},
      {"required",
       {"key", "time", "allocated_gpu_hours", "gpu_equivalent_hours", "active_gpu_hours",
        "idle_gpu_hours", "energy_joules", "efficiency", "coverage", "observed_fraction"}},
      {"properties",
       {{"key",
         {{"type", Json::array({"string", "null"})},
          {"description",
           "Natural key of the group (the model name for groupBy=model); null for time no "
           "project held."}}},
        {"time",
         {{"type", Json::array({"string", "null"})},
          {"format", "date-time"},
          {"description", "Start of the bucket when a step was asked; else null."}}},
        {"allocated_gpu_hours", hours("Device-hours some project held.")},
        {"gpu_equivalent_hours", hours("Held hours times the compute share (a 3g slice: 3/7).")},
        {"active_gpu_hours", hours("Held GPU-equivalent hours weighted by activity.")},
        {"idle_gpu_hours", hours("Held GPU-equivalent hours with zero activity.")},
        {"energy_joules",
         {{"type", "number"},
          {"description", "Energy of the devices, held or not. Unit: J."},
          {"x-unit", "J"},
          {"x-unit-code", "JOU"}}},
        {"efficiency",
         {{"type", Json::array({"number", "null"})},
          {"description",
           "Active over GPU-equivalent held hours; null when nothing was held. "
           "Unit: ratio."},
          {"x-unit", "ratio"},
          {"x-unit-code", "C62"}}},
        {"coverage",
         {{"type", Json::array({"number", "null"})},
          {"description",
           "Attributed share: device-seconds some project held over all device-seconds seen "
           "(held or not). It says nothing about completeness: see observed_fraction. Unit: "
           "ratio."},
          {"x-unit", "ratio"},
          {"x-unit-code", "C62"}}},
        {"observed_fraction",
         {{"type", Json::array({"number", "null"})},
          {"description",
           "Completeness: observed over observed plus unobserved device-seconds of the row. A "
           "sample covers the hub's sample spacing; time between two samples of a device that no "
           "sample covers (an outage, a dead exporter) is unobserved and is in none of the "
           "GPU-hours. For a project, of the time its holdings were known to go on (a gap is "
           "charged to the project holding the device on both sides of it, else to unallocated "
           "time). Null when nothing was measured. Unit: ratio."},
          {"x-unit", "ratio"},
          {"x-unit-code", "C62"}}}}}};
  schemas["UsageReport"] = {
      {"type", "object"},
      {"description", "A usage report."},
      {"required", Json::array({"groupBy", "from", "to", "rows"})},
      {"properties",
       {{"groupBy", {{"type", "string"}, {"description", "The grouping asked for."}}},
        {"from", {{"type", "string"}, {"format", "date-time"}, {"description", "Range start."}}},
        {"to", {{"type", "string"}, {"format", "date-time"}, {"description", "Range end."}}},
        {"step",
         {{"type", Json::array({"string", "null"})}, {"description", "Bucket size, if any."}}},
        {"rows", {{"type", "array"}, {"items", Ref("UsageRow")}}}}}};
  schemas["NgsiError"] = {
      {"type", "object"},
      {"description", "An NGSI-LD ProblemDetails body (ETSI GS CIM 009, 5.5.2)."},
      {"required", Json::array({"type", "title"})},
      {"properties",
       {{"type",
         {{"type", "string"},
          {"format", "uri"},
          {"description",
           "https://uri.etsi.org/ngsi-ld/errors/{BadRequestData, "
           "ResourceNotFound, InvalidRequest, NotAcceptable, ...}"}}},
        {"title", {{"type", "string"}, {"description", "Short summary."}}},
        {"status", {{"type", "integer"}, {"description", "The HTTP status code."}}},
        {"detail", {{"type", "string"}, {"description", "What went wrong."}}}}}};
  schemas["NgsiContextReference"] = {
      {"description", "The @context (only with Accept: application/ld+json)."},
      {"oneOf",
       {{{"type", "string"}, {"format", "uri"}},
        {{"type", "array"}, {"items", {{"type", "string"}}}}}}};
  schemas["NgsiProperty"] = {
      {"type", "object"},
      {"description", "An NGSI-LD Property."},
      {"required", Json::array({"type", "value"})},
      {"properties",
       {{"type", {{"type", "string"}, {"const", "Property"}}},
        {"value", {{"description", "The value, in the attribute's unit."}}},
        {"unitCode", {{"type", "string"}, {"description", "UN/CEFACT common code of the unit."}}},
        {"observedAt",
         {{"type", "string"},
          {"format", "date-time"},
          {"description", "When it was observed."}}}}}};
  schemas["NgsiRelationship"] = {
      {"type", "object"},
      {"description", "An NGSI-LD Relationship."},
      {"required", Json::array({"type", "object"})},
      {"properties",
       {{"type", {{"type", "string"}, {"const", "Relationship"}}},
        {"object",
         {{"type", "string"},
          {"format", "uri"},
          {"description", "Id of the target entity, urn:ngsi-ld:{Type}:{key}."}}}}}};
  schemas["NgsiTemporalEntity"] = {
      {"type", "object"},
      {"description",
       "A device/project usage series: static attributes as Properties, each measurement as a "
       "list of Property instances with observedAt (the hour) and unitCode."},
      {"required", Json::array({"id", "type"})},
      {"properties",
       {{"id", {{"type", "string"}, {"format", "uri"}}},
        {"type", {{"type", "string"}}},
        {"@context", Ref("NgsiContextReference")}}},
      {"additionalProperties",
       {{"oneOf", {Ref("NgsiProperty"), {{"type", "array"}, {"items", Ref("NgsiProperty")}}}}}}};
  schemas["NgsiEntityTypeList"] = {
      {"type", "object"},
      {"description", "The entity types the caller can see at least one entity of."},
      {"required", Json::array({"id", "type", "typeList"})},
      {"properties",
       {{"id", {{"type", "string"}, {"format", "uri"}}},
        {"type", {{"type", "string"}, {"const", "EntityTypeList"}}},
        {"typeList", {{"type", "array"}, {"items", {{"type", "string"}}}}},
        {"@context", Ref("NgsiContextReference")}}}};
  schemas["AlertmanagerWebhook"] = {
      {"type", "object"},
      {"description", "Alertmanager's webhook payload, version 4."},
      {"required", Json::array({"version", "status", "alerts"})},
      {"properties",
       {{"version", {{"type", "string"}, {"const", "4"}}},
        {"groupKey", {{"type", "string"}}},
        {"truncatedAlerts", {{"type", "integer"}}},
        {"status", {{"type", "string"}, {"enum", Json::array({"firing", "resolved"})}}},
        {"receiver", {{"type", "string"}}},
        {"groupLabels", {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}}},
        {"commonLabels", {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}}},
        {"commonAnnotations", {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}}},
        {"externalURL", {{"type", "string"}}},
        {"alerts",
         {{"type", "array"},
          {"items",
           {{"type", "object"},
            {"required", Json::array({"status", "labels", "startsAt", "fingerprint"})},
            {"properties",
             {{"status", {{"type", "string"}, {"enum", Json::array({"firing", "resolved"})}}},
              {"labels", {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}}},
              {"annotations", {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}}},
              {"startsAt", {{"type", "string"}, {"format", "date-time"}}},
              {"endsAt", {{"type", "string"}, {"format", "date-time"}}},
              {"generatorURL", {{"type", "string"}}},
              {"fingerprint", {{"type", "string"}}}}}}}}}}}};
}

}  // namespace aitelemetry::api
