#include "api/rest.h"

#include <set>

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <nlohmann/json.hpp>

#include "api/caller.h"
#include "api/csv.h"
#include "api/params.h"
#include "api/search.h"
#include "api/usage.h"

namespace aitelemetry::api {

using model::Model;

namespace {

// Returns the served model named by the route, or the 400 problem naming it.
Result<const Model*> RouteModel(const http::Request& request) {
  auto it = request.params.find("model");
  std::string name = it == request.params.end() ? "" : it->second;
  const Model* m = ServedModel(name);
  if (m == nullptr) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("unknown model \"{}\"", name.substr(0, 64)));
  }
  return m;
}

http::Response Csv(std::string body, const std::string& filename) {
  http::Response r;
  r.body = std::move(body);
  r.Set("Content-Type", "text/csv; charset=utf-8");
  r.Set("Content-Disposition", fmt::format("attachment; filename=\"{}.csv\"", filename));
  return r;
}

bool SameToken(const std::string& a, const std::string& b) {
  return !a.empty() && a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// The resource names whose patch grant covers `row`: its own key, its hub, cluster and project,
// and every entity it points at through a relation (its node, its GPU).
std::set<std::string> PatchResourcesOf(const model::Record& row) {
  const Model& m = *row.model;
  std::set<std::string> out = {row.Key()};
  std::string hub = row.GetString(m.scope.hub);
  std::string cluster = m.scope.cluster.empty() ? "" : row.GetString(m.scope.cluster);
  std::string project = m.scope.project.empty() ? "" : row.GetString(m.scope.project);
  if (!hub.empty()) out.insert(model::HubKey(hub));
  if (!hub.empty() && !cluster.empty()) out.insert(model::ClusterKey(hub, cluster));
  if (!hub.empty() && !cluster.empty() && !project.empty()) {
    out.insert(model::ProjectKey(hub, cluster, project));
  }
  for (size_t i = 0; i < m.fields.size(); ++i) {
    if (m.fields[i].relation.empty()) continue;
    if (auto* s = std::get_if<std::string>(&row.values[i]); s && !s->empty()) out.insert(*s);
  }
  return out;
}

// What a usage answer depends on beyond the request: the defaults of from/to follow the clock's
// hour.
std::string UsageHour(const RestDeps& deps) {
  return std::to_string(ToUnixNanos(FloorToHour(deps.now())));
}

// Returns the cached answer for `request` when `deps.cache` holds one for the store's current
// generation. With `may_wait` false (an I/O thread) it gives up rather than wait for the
// generation (always on PostgreSQL).
std::optional<http::Response> CachedAnswer(const RestDeps& deps, const http::Request& request,
                                           std::string_view extra, bool may_wait) {
  if (deps.cache == nullptr) return std::nullopt;
  auto generation = deps.store->Generation(may_wait);
  if (!generation) return std::nullopt;
  return deps.cache->Find(ReadCacheKey(CallerOf(request), request, extra), *generation);
}

// Runs `handler` through the cache: the generation is read first, so that the answer computed
// after it is at least as new as the label it is stored under.
http::Response ServeCached(const RestDeps& deps, const http::Request& request,
                           std::string_view extra, const std::function<http::Response()>& handler) {
  if (deps.cache == nullptr) return handler();
  auto generation = deps.store->Generation(true);
  if (!generation) return handler();  // no safe label: never cached
  std::string key = ReadCacheKey(CallerOf(request), request, extra);
  if (auto hit = deps.cache->Find(key, *generation)) return std::move(*hit);
  http::Response response = handler();
  if (response.status != 200 || response.stream) return response;
  response.shared_body = std::make_shared<const std::string>(std::move(response.body));
  response.body.clear();
  deps.cache->Insert(key, *generation, response);
  return response;
}

// The key a one-entity route names: the exact rest of the raw path after /api/{model}/, so that
// keys holding '/' (allocations, health events) are reachable with it written as %2F or as is.
std::string RouteKey(const http::Request& r) {
  if (auto tail = PathTail(r.target, 2)) return std::move(*tail);
  return r.params.at("key");
}

bool IsUsageReport(const http::Request& r) {
  auto it = r.params.find("model");
  return it != r.params.end() && it->second == "usage" && r.Query("groupBy");
}

bool IsJsonContentType(std::string_view type) {
  auto semi = type.find(';');
  std::string base(type.substr(0, semi));
  while (!base.empty() && base.back() == ' ') base.pop_back();
  for (auto& c : base) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return base == "application/json" || base == "application/merge-patch+json";
}

}  // namespace

http::Response HandleSearch(const RestDeps& deps, const http::Request& request) {
  auto m = RouteModel(request);
  if (!m) return http::ProblemFor(m.error());
  auto params = ParseSearchParams(**m, request.query, request.Header("accept"));
  if (!params) return http::ProblemFor(params.error());
  auto out = Search(*deps.store, **m, *params, CallerOf(request).scope);
  if (!out) return http::ProblemFor(out.error());
  if (params->format == Format::kCsv) {
    http::Response r = Csv(RecordsToCsv(**m, params->spec.fields, out->result.rows), (*m)->name);
    r.Set("X-Found-Num", std::to_string(out->result.found));
    if (out->next_cursor) r.Set("X-Next-Cursor-Mark", *out->next_cursor);
    return r;
  }
  return http::JsonResponse(200, SearchJson(*params, *out));
}

http::Response HandleGet(const RestDeps& deps, const http::Request& request) {
  auto m = RouteModel(request);
  if (!m) return http::ProblemFor(m.error());
  if (auto st = CheckParams(request.query, {"fl"}); !st) return http::ProblemFor(st.error());
  std::vector<std::string> fields;
  auto fl = SingleParam(request.query, "fl");
  if (!fl) return http::ProblemFor(fl.error());
  if (*fl) {
    // The same field-list rules as a search.
    auto parsed = ParseSearchParams(**m, {{"fl", **fl}}, "");
    if (!parsed) return http::ProblemFor(parsed.error());
    fields = parsed->spec.fields;
  }
  auto row = deps.store->Get(**m, RouteKey(request), CallerOf(request).scope);
  if (!row) return http::ProblemFor(row.error());
  return http::JsonResponse(
      200,
      model::ToJson(*row, fields).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

http::Response HandlePatch(const RestDeps& deps, const http::Request& request) {
  auto m = RouteModel(request);
  if (!m) return http::ProblemFor(m.error());
  const Caller& caller = CallerOf(request);
  if (!caller.authenticated) return http::Problem(401, "authentication required");
  if (caller.browser_session && !SameToken(request.Header("x-csrf-token"), caller.csrf_token)) {
    return http::Problem(403, "missing or wrong X-CSRF-Token");
  }
  if (!IsJsonContentType(request.Header("content-type"))) {
    return http::Problem(415, "send application/json or application/merge-patch+json");
  }
  auto body = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return http::Problem(400, "the body must be a JSON object");
  std::vector<std::pair<std::string, model::Value>> patch;
  for (const auto& [name, value] : body.items()) {
    const model::Field* f = (*m)->FindField(name);
    if (f == nullptr || !f->Has(model::kEditable)) {
      return http::Problem(
          400, fmt::format("field \"{}\" of {} is not editable", name.substr(0, 64), (*m)->name));
    }
    auto v = model::ValueFromJson(*f, value);
    if (!v) return http::ProblemFor(v.error());
    if (auto* s = std::get_if<std::string>(&*v); s && (!IsValidUtf8(*s) || s->size() > 65536)) {
      return http::Problem(400, fmt::format("field \"{}\": text too long", name));
    }
    patch.emplace_back(name, std::move(*v));
  }
  const std::string key = RouteKey(request);
  // Invisible rows answer 404 before any permission check, so a 403 never confirms existence.
  auto row = deps.store->Get(**m, key, caller.scope);
  if (!row) return http::ProblemFor(row.error());
  if (!caller.admin) {
    bool allowed = false;
    for (const auto& r : PatchResourcesOf(*row))
      allowed = allowed || caller.patch_resources.count(r);
    if (!allowed) return http::Problem(403, fmt::format("no permission to change {}", (*m)->name));
  }
  if (patch.empty()) {
    return http::JsonResponse(
        200, model::ToJson(*row).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  auto updated = deps.store->Patch(**m, key, patch, caller.scope);
  if (!updated) return http::ProblemFor(updated.error());
  return http::JsonResponse(
      200, model::ToJson(*updated).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

http::Response HandleUsage(const RestDeps& deps, const http::Request& request) {
  auto params = ParseUsageParams(request.query, request.Header("accept"), deps.now());
  if (!params) return http::ProblemFor(params.error());
  auto rows = UsageReport(*deps.store, *params, CallerOf(request).scope);
  if (!rows) return http::ProblemFor(rows.error());
  if (params->format == Format::kCsv) return Csv(UsageCsv(*params, *rows), "usage");
  return http::JsonResponse(200, UsageJson(*params, *rows));
}

http::Response HandleEvents(const RestDeps& deps, const http::Request& request) {
  auto params = ParseEventsParams(request.query, request.Header("last-event-id"));
  if (!params) return http::ProblemFor(params.error());
  if (deps.events == nullptr) return http::Problem(503, "live events are not served here");
  return EventStream(*deps.events, std::move(*params), CallerOf(request));
}

void AddRestRoutes(http::Router& router, RestDeps deps) {
  auto d = std::make_shared<const RestDeps>(std::move(deps));
  router.Add("GET", "/api/events", [d](const http::Request& r) { return HandleEvents(*d, r); });
  router.Add(
      "GET", "/api/{model}",
      [d](const http::Request& r) {
        if (IsUsageReport(r)) {
          return ServeCached(*d, r, UsageHour(*d), [&] { return HandleUsage(*d, r); });
        }
        return ServeCached(*d, r, {}, [&] { return HandleSearch(*d, r); });
      },
      [d](const http::Request& r) {
        return CachedAnswer(*d, r, IsUsageReport(r) ? UsageHour(*d) : std::string(), false);
      });
  router.Add(
      "GET", "/api/{model}/{key...}",
      [d](const http::Request& r) {
        return ServeCached(*d, r, {}, [&] { return HandleGet(*d, r); });
      },
      [d](const http::Request& r) { return CachedAnswer(*d, r, {}, false); });
  router.Add("PATCH", "/api/{model}/{key...}",
             [d](const http::Request& r) { return HandlePatch(*d, r); });
}

}  // namespace aitelemetry::api
