#include "api/search.h"

#include <nlohmann/json.hpp>

#include "api/search_cursor.h"

namespace aitelemetry::api {

const model::Model* ServedModel(std::string_view name) {
  const model::Model* m = model::FindModel(name);
  if (m == nullptr || m->internal) return nullptr;
  return m;
}

Result<SearchOutput> Search(store::Store& store, const model::Model& m, const SearchParams& params,
                            const store::Scope& scope) {
  SearchOutput out;
  auto r = store.Query(m, params.spec, scope);
  if (!r) return Fail(r.error());
  out.result = std::move(*r);
  if (!params.cursor_mark.empty()) {
    if (out.result.rows.empty()) {
      out.next_cursor = params.cursor_mark;
    } else {
      out.next_cursor = EncodeCursor(m, params.spec.sort, out.result.rows.back());
    }
  }
  return out;
}

std::string SearchJson(const SearchParams& params, const SearchOutput& out) {
  using Json = nlohmann::ordered_json;
  const auto& r = out.result;
  Json body;
  body["startNum"] = params.cursor_mark.empty() ? params.spec.start : 0;
  body["foundNum"] = r.found;
  body["returnedNum"] = r.rows.size();
  Json list = Json::array();
  for (const auto& row : r.rows) list.push_back(Json(model::ToJson(row, params.spec.fields)));
  body["list"] = std::move(list);
  Json facets = Json::object();
  for (const auto& name : params.spec.facets) {
    Json counts = Json::object();
    auto it = r.facets.find(name);
    if (it != r.facets.end()) {
      for (const auto& fc : it->second) counts[fc.value] = fc.count;
    }
    facets[name] = std::move(counts);
  }
  body["facet_counts"] = Json{{"facet_fields", std::move(facets)}};
  Json stats = Json::object();
  for (const auto& name : params.spec.stats) {
    Json s = Json::object();
    auto it = r.stats.find(name);
    auto put = [&](const char* k, const std::optional<double>& v) {
      s[k] = v ? Json(*v) : Json(nullptr);
    };
    if (it != r.stats.end()) {
      put("min", it->second.min);
      put("max", it->second.max);
      put("sum", it->second.sum);
      put("mean", it->second.mean);
      s["count"] = it->second.count;
    }
    stats[name] = std::move(s);
  }
  body["stats"] = Json{{"stats_fields", std::move(stats)}};
  if (out.next_cursor) body["nextCursorMark"] = *out.next_cursor;
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace aitelemetry::api
