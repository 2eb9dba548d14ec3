// Fuzz target: the Solr-style search parameters of every REST list (q, fq, sort, fl, start, rows,
// facet.field, stats.field, cursorMark, format) as a caller sends them, then the SQL the store
// builds from an accepted search. Input: the model name on the first line, then one decoded
// `name=value` pair per line. Properties: no crash or sanitizer report; a refusal is
// kInvalidArgument; an accepted search is within the limits, passes the store's ValidateQuery, and
// its WHERE clause carries every value as a bound parameter (one `?` per parameter).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "api/params.h"
#include "api/search_cursor.h"
#include "model/registry.h"
#include "store/query.h"
#include "store/sql_builder.h"
#include "testing/fuzz_check.h"

namespace aitelemetry::api {
namespace {

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    out.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

void Run(std::string_view input) {
  auto lines = Lines(input);
  if (lines.empty()) return;
  const auto& models = model::Models();
  const model::Model* m = model::FindModel(lines[0]);
  if (m == nullptr) m = &models[std::hash<std::string_view>()(lines[0]) % models.size()];
  QueryPairs query;
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t eq = lines[i].find('=');
    if (eq == std::string_view::npos) {
      query.emplace_back(std::string(lines[i]), "");
    } else {
      query.emplace_back(std::string(lines[i].substr(0, eq)), std::string(lines[i].substr(eq + 1)));
    }
  }
  // Each value on its own, too, so one bad value does not hide the parsers behind it.
  for (const auto& [name, value] : query) {
    if (name == "fq") {
      auto f = ParseFilterQuery(*m, value);
      if (!f) fuzz::CheckCode(f.error(), {ErrorCode::kInvalidArgument});
    } else if (name == "sort") {
      std::vector<store::SortKey> sort;
      auto st = ParseSort(*m, value, sort);
      if (!st) fuzz::CheckCode(st.error(), {ErrorCode::kInvalidArgument});
      fuzz::Check(sort.size() <= kMaxSortKeys, "more sort keys than the limit");
    } else if (name == "cursorMark") {
      auto after = DecodeCursor(*m, {}, value);
      if (!after) fuzz::CheckCode(after.error(), {ErrorCode::kInvalidArgument});
    }
  }
  auto params = ParseSearchParams(*m, query, "application/json");
  if (!params) {
    fuzz::CheckCode(params.error(), {ErrorCode::kInvalidArgument});
    return;
  }
  const store::QuerySpec& spec = params->spec;
  fuzz::Check(spec.rows >= 0 && spec.rows <= kMaxRows && spec.start >= 0, "rows or start");
  fuzz::Check(spec.filters.size() <= kMaxFilters, "more filters than the limit");
  fuzz::Check(spec.sort.size() <= kMaxSortKeys, "more sort keys than the limit");
  auto valid = store::ValidateQuery(*m, spec);
  fuzz::Check(valid.has_value(), "the store refuses a search the parameters accepted");
  store::SqlText sql;
  store::AppendWhere(*m, spec.filters, spec.text, store::Scope::All(), sql);
  (void)store::OrderBy(*m, spec);
  store::AppendKeyset(*m, spec, sql);
  fuzz::Check(
      static_cast<size_t>(std::count(sql.sql.begin(), sql.sql.end(), '?')) == sql.params.size(),
      "a value in the SQL text instead of a bound parameter");
}

}  // namespace
}  // namespace aitelemetry::api

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  aitelemetry::api::Run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
