// Fuzz target: the NGSI-LD `q` of /ngsi-ld/v1/entities. Input: the entity type's model name on
// the first line, the query after it. Properties: no crash or sanitizer report; a refusal is
// kInvalidArgument; accepted filters pass the store's ValidateQuery and reach the SQL only as
// bound parameters.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/ngsi_query.h"
#include "model/registry.h"
#include "store/query.h"
#include "store/sql_builder.h"
#include "testing/fuzz_check.h"

namespace aitelemetry::api {
namespace {

void Run(std::string_view input) {
  size_t nl = input.find('\n');
  std::string_view name = input.substr(0, nl);
  std::string_view q = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
  const auto& models = model::Models();
  const model::Model* m = model::FindModel(name);
  if (m == nullptr) m = &models[std::hash<std::string_view>()(name) % models.size()];
  auto filters = ParseNgsiQuery(*m, q);
  if (!filters) {
    fuzz::CheckCode(filters.error(), {ErrorCode::kInvalidArgument});
    return;
  }
  store::QuerySpec spec;
  spec.filters = *filters;
  fuzz::Check(store::ValidateQuery(*m, spec).has_value(),
              "the store refuses filters the NGSI-LD query accepted");
  store::SqlText sql;
  store::AppendWhere(*m, spec.filters, "", store::Scope::All(), sql);
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
