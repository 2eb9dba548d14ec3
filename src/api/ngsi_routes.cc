#include "api/ngsi_routes.h"

#include <charconv>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "api/caller.h"
#include "api/ngsi.h"
#include "api/ngsi_query.h"
#include "api/ngsi_temporal.h"
#include "api/params.h"

namespace aitelemetry::api {
namespace {

using http::Request;
using http::Response;

// Reads an integer parameter within [min, max]; `fallback` when absent.
Result<int64_t> IntParam(const Request& req, std::string_view name, int64_t fallback, int64_t min,
                         int64_t max) {
  auto text = req.Query(name);
  if (!text) return fallback;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || p != text->data() + text->size() || v < min || v > max) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{} must be an integer from {} to {}", name, min, max));
  }
  return v;
}

// The entity id a route names: the exact rest of the raw path after its first `segments`
// segments, so that ids whose keys hold '/' (allocations, health events) are reachable with it
// written as %2F or as is.
std::string RouteId(const Request& req, size_t segments) {
  if (auto tail = PathTail(req.target, segments)) return std::move(*tail);
  return req.params.at("id");
}

// Parameters of the spec this server does not implement: refused rather than ignored, because
// ignoring a filter would return more than was asked for.
Status RejectUnsupported(const Request& req) {
  for (std::string_view name : {"georel", "geometry", "coordinates", "geoproperty", "csf", "scopeQ",
                                "pick", "omit", "lang", "datasetId", "local", "via"}) {
    if (req.Query(name)) {
      return Fail(ErrorCode::kInvalidArgument, fmt::format("{} is not supported", name));
    }
  }
  return Ok();
}

struct Common {
  const model::Model* model = nullptr;
  std::vector<const model::Field*> attrs;
  std::vector<store::Filter> filters;
  int64_t limit = kNgsiDefaultLimit;
  int64_t offset = 0;
  bool count = false;
  bool key_values = false;
  std::vector<std::string> ids;  // keys from the id parameter
};

// `path_id`, when set, is the {id} of the path and stands for the id parameter.
Result<Common> ParseCommon(const Request& req, bool require_type,
                           const std::optional<std::string>& path_id = std::nullopt) {
  if (auto st = RejectUnsupported(req); !st) return Fail(st.error());
  Common c;
  auto type = req.Query("type");
  if (!type || type->empty()) {
    if (require_type) return Fail(ErrorCode::kInvalidArgument, "type is required");
  } else {
    if (type->find_first_of(",|;()") != std::string::npos) {
      return Fail(ErrorCode::kInvalidArgument, "one entity type per query is supported");
    }
    c.model = FindNgsiType(*type);
    if (!c.model) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("unknown entity type \"{}\"", type->substr(0, 64)));
    }
  }
  if (auto ids = path_id ? path_id : req.Query("id"); ids && !ids->empty()) {
    size_t begin = 0;
    while (begin <= ids->size()) {
      size_t comma = ids->find(',', begin);
      if (comma == std::string::npos) comma = ids->size();
      auto id = ParseNgsiEntityId(std::string_view(*ids).substr(begin, comma - begin));
      if (!id) return Fail(ErrorCode::kInvalidArgument, "id: " + id.error().message);
      if (c.model && id->model != c.model) {
        return Fail(ErrorCode::kInvalidArgument, "id: not of the requested type");
      }
      c.model = id->model;
      c.ids.push_back(id->key);
      begin = comma + 1;
    }
  }
  if (!c.model) return Fail(ErrorCode::kInvalidArgument, "type or id is required");
  if (auto a = req.Query("attrs"); a && !a->empty()) {
    auto attrs = ParseNgsiAttrs(*c.model, *a);
    if (!attrs) return Fail(attrs.error());
    c.attrs = std::move(*attrs);
  }
  if (auto q = req.Query("q"); q && !q->empty()) {
    auto filters = ParseNgsiQuery(*c.model, *q);
    if (!filters) return Fail(filters.error());
    c.filters = std::move(*filters);
  }
  auto limit = IntParam(req, "limit", kNgsiDefaultLimit, 0, kNgsiMaxLimit);
  if (!limit) return Fail(limit.error());
  c.limit = *limit;
  auto offset = IntParam(req, "offset", 0, 0, int64_t{1} << 40);
  if (!offset) return Fail(offset.error());
  c.offset = *offset;
  if (auto count = req.Query("count")) {
    if (*count != "true" && *count != "false") {
      return Fail(ErrorCode::kInvalidArgument, "count must be true or false");
    }
    c.count = *count == "true";
  }
  if (c.limit == 0 && !c.count) {
    return Fail(ErrorCode::kInvalidArgument, "limit=0 is only allowed with count=true");
  }
  for (const auto& option : req.QueryAll("options")) {
    for (std::string_view o : {std::string_view(option)}) {
      if (o == "keyValues" || o == "simplified") {
        c.key_values = true;
      } else if (o != "normalized" && !o.empty()) {
        return Fail(ErrorCode::kInvalidArgument, fmt::format("options={} is not supported", o));
      }
    }
  }
  if (auto format = req.Query("format")) {
    if (*format == "simplified" || *format == "keyValues") {
      c.key_values = true;
    } else if (*format != "normalized") {
      return Fail(ErrorCode::kInvalidArgument, "format must be normalized or simplified");
    }
  }
  return c;
}

// Only letters, digits and the characters of host:port; anything else falls back to a path-only
// reference, so a hostile Host header cannot inject into the Link header.
std::string ContextUrl(const Request& req, const NgsiOptions& options) {
  if (!options.public_base_url.empty()) {
    return options.public_base_url + std::string(kNgsiContextPath);
  }
  std::string host = req.Header("host");
  bool ok = !host.empty() && host.size() < 256;
  for (char c : host) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != ':' &&
        c != '[' && c != ']') {
      ok = false;
    }
  }
  if (!ok) return std::string(kNgsiContextPath);
  return fmt::format("{}://{}{}", req.tls ? "https" : "http", host, kNgsiContextPath);
}

// Serialises `body` (an entity or a list of them) in the negotiated representation.
Response Respond(const Request& req, const NgsiOptions& options, nlohmann::json body) {
  auto media = NegotiateNgsi(req.Header("accept"));
  if (!media) return NgsiError(406, "NotAcceptable", media.error().message);
  std::string context = ContextUrl(req, options);
  if (*media == NgsiMediaType::kJsonLd) {
    if (body.is_array()) {
      for (auto& e : body) e["@context"] = context;
    } else {
      body["@context"] = context;
    }
  }
  Response r = http::JsonResponse(
      200, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
      *media == NgsiMediaType::kJsonLd ? "application/ld+json" : "application/json");
  if (*media == NgsiMediaType::kJson) {
    r.Set("Link", fmt::format("<{}>; rel=\"http://www.w3.org/ns/json-ld#context\"; "
                              "type=\"application/ld+json\"",
                              context));
  }
  r.Set("Vary", "Accept");
  return r;
}

Response ListEntities(store::Store& store, const NgsiOptions& options, const Request& req) {
  auto c = ParseCommon(req, false);
  if (!c) return NgsiErrorFor(c.error());
  store::QuerySpec spec;
  spec.filters = c->filters;
  if (!c->ids.empty()) {
    store::Filter ids;
    ids.field = "key";
    for (const auto& k : c->ids) ids.values.emplace_back(k);
    spec.filters.push_back(std::move(ids));
  }
  for (const auto* f : c->attrs) {
    // NGSI-LD: with attrs, only entities that have at least one of them match. One attribute
    // maps to a not-null filter; several would need OR, so they only narrow the output.
    if (c->attrs.size() == 1) {
      store::Filter has;
      has.field = f->name;
      has.kind = store::Filter::Kind::kNotNull;
      if (f->Has(model::kFilterable) || f->Has(model::kFacetable)) spec.filters.push_back(has);
    }
  }
  spec.sort = {{"key", false}};
  spec.start = c->offset;
  spec.rows = c->limit;
  spec.count = c->count;
  auto result = store.Query(*c->model, spec, CallerOf(req).scope);
  if (!result) return NgsiErrorFor(result.error());
  nlohmann::json list = nlohmann::json::array();
  NgsiEntityOptions eo{c->attrs, c->key_values};
  for (const auto& row : result->rows) list.push_back(ToNgsiEntity(row, eo));
  Response r = Respond(req, options, std::move(list));
  if (c->count && r.status == 200) r.Set("NGSILD-Results-Count", std::to_string(result->found));
  return r;
}

Response GetEntity(store::Store& store, const NgsiOptions& options, const Request& req) {
  if (auto st = RejectUnsupported(req); !st) return NgsiErrorFor(st.error());
  auto id = ParseNgsiEntityId(RouteId(req, 3));
  if (!id) {
    if (id.error().code == ErrorCode::kNotFound) return NgsiError(404, "ResourceNotFound", "");
    return NgsiError(400, "BadRequestData", id.error().message);
  }
  NgsiEntityOptions eo;
  if (auto a = req.Query("attrs"); a && !a->empty()) {
    auto attrs = ParseNgsiAttrs(*id->model, *a);
    if (!attrs) return NgsiErrorFor(attrs.error());
    eo.attrs = std::move(*attrs);
  }
  for (const auto& option : req.QueryAll("options")) {
    if (option == "keyValues" || option == "simplified") eo.key_values = true;
  }
  auto record = store.Get(*id->model, id->key, CallerOf(req).scope);
  if (!record) {
    // The same answer for absent and invisible: a caller must not learn what exists.
    if (record.error().code == ErrorCode::kNotFound) {
      return NgsiError(404, "ResourceNotFound", "no entity with this id");
    }
    return NgsiErrorFor(record.error());
  }
  return Respond(req, options, ToNgsiEntity(*record, eo));
}

Response ListTypes(store::Store& store, const NgsiOptions& options, const Request& req) {
  nlohmann::json types = nlohmann::json::array();
  for (const auto& m : model::Models()) {
    if (m.internal) continue;
    // A type is listed only when the caller sees at least one of its entities.
    store::QuerySpec spec;
    spec.rows = 1;
    spec.count = false;
    spec.fields = {"key"};
    auto result = store.Query(m, spec, CallerOf(req).scope);
    if (!result) return NgsiErrorFor(result.error());
    if (!result->rows.empty()) types.push_back(m.type_name);
  }
  nlohmann::json body = {{"id", "urn:ngsi-ld:EntityTypeList:aitelemetry"},
                         {"type", "EntityTypeList"},
                         {"typeList", types}};
  return Respond(req, options, std::move(body));
}

Response TemporalEntities(store::Store& store, const NgsiOptions& options, const Request& req,
                          std::optional<std::string> path_id) {
  if (path_id) {
    auto id = ParseNgsiEntityId(*path_id);
    if (!id) {
      if (id.error().code == ErrorCode::kNotFound) return NgsiError(404, "ResourceNotFound", "");
      return NgsiError(400, "BadRequestData", id.error().message);
    }
  }
  auto c = ParseCommon(req, false, path_id);
  if (!c) return NgsiErrorFor(c.error());
  const model::Model& m = *c->model;
  const model::Field* observed = NgsiObservedAtField(m);
  if (m.name != "usage" || !observed) {
    return NgsiError(
        400, "BadRequestData",
        fmt::format("temporal history is kept for {}", model::FindModel("usage")->type_name));
  }
  if (req.Query("timeproperty") && *req.Query("timeproperty") != "observedAt") {
    return NgsiError(400, "BadRequestData", "timeproperty: only observedAt is supported");
  }
  auto range = ParseTimeRel(observed->name, req.Query("timerel"), req.Query("timeAt"),
                            req.Query("endTimeAt"));
  if (!range) return NgsiErrorFor(range.error());
  auto last_n = IntParam(req, "lastN", 0, 1, kNgsiMaxTemporalRows);
  if (!last_n) return NgsiErrorFor(last_n.error());
  store::QuerySpec spec;
  spec.filters = c->filters;
  if (*range) spec.filters.push_back(**range);
  std::set<std::string> wanted;
  if (!c->ids.empty()) {
    store::Filter devices;
    devices.field = "device_key";
    for (const auto& k : c->ids) {
      wanted.insert(k);
      devices.values.emplace_back(SplitUsageSeriesKey(k).device_key);
    }
    spec.filters.push_back(std::move(devices));
  }
  spec.sort = {{observed->name, false}};
  spec.rows = kNgsiMaxTemporalRows + 1;
  spec.count = false;
  auto result = store.Query(m, spec, CallerOf(req).scope);
  if (!result) return NgsiErrorFor(result.error());
  if (result->rows.size() > static_cast<size_t>(kNgsiMaxTemporalRows)) {
    return NgsiError(403, "TooManyResults",
                     fmt::format("more than {} hourly rows match; narrow timeAt/endTimeAt, q or id",
                                 kNgsiMaxTemporalRows));
  }
  if (!wanted.empty()) {
    std::erase_if(result->rows,
                  [&](const model::Record& r) { return !wanted.contains(UsageSeriesKey(r)); });
  }
  auto series = BuildTemporalSeries(result->rows, c->attrs, static_cast<int>(*last_n));
  if (path_id) {
    if (series.empty()) return NgsiError(404, "ResourceNotFound", "no entity with this id");
    return Respond(req, options, std::move(series.front()));
  }
  nlohmann::json list = nlohmann::json::array();
  for (size_t i = c->offset; i < series.size() && list.size() < static_cast<size_t>(c->limit);
       ++i) {
    list.push_back(std::move(series[i]));
  }
  Response r = Respond(req, options, std::move(list));
  if (c->count && r.status == 200) r.Set("NGSILD-Results-Count", std::to_string(series.size()));
  return r;
}

}  // namespace

void AddNgsiRoutes(http::Router& router, store::Store& store, NgsiOptions options) {
  router.Add("GET", std::string(kNgsiContextPath), [](const Request&) {
    Response r = http::JsonResponse(200, NgsiContextDocument().dump(2), "application/ld+json");
    r.Set("Cache-Control", "public, max-age=3600");
    r.Set("Access-Control-Allow-Origin", "*");
    return r;
  });
  router.Add("GET", "/ngsi-ld/v1/types",
             [&store, options](const Request& req) { return ListTypes(store, options, req); });
  router.Add("GET", "/ngsi-ld/v1/entities",
             [&store, options](const Request& req) { return ListEntities(store, options, req); });
  router.Add("GET", "/ngsi-ld/v1/entities/{id...}",
             [&store, options](const Request& req) { return GetEntity(store, options, req); });
  router.Add("GET", "/ngsi-ld/v1/temporal/entities", [&store, options](const Request& req) {
    return TemporalEntities(store, options, req, std::nullopt);
  });
  router.Add("GET", "/ngsi-ld/v1/temporal/entities/{id...}", [&store, options](const Request& req) {
    return TemporalEntities(store, options, req, RouteId(req, 4));
  });
}

}  // namespace aitelemetry::api
