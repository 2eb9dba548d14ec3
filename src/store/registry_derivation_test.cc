// Adding a field to a model is one edit in the registry: the SQL schema (both dialects), the
// migration that adds the column to an existing table, JSON, query-string parsing and the query
// validation all follow from the field's description, with no other list to update.
#include <gtest/gtest.h>

#include "model/record.h"
#include "model/registry.h"
#include "store/query.h"
#include "store/sql_builder.h"

namespace aitelemetry::store {
namespace {

TEST(RegistryDerivation, ANewFieldNeedsOneEditOnly) {
  model::Model gpu = *model::FindModel("gpu");
  model::Field extra;
  extra.name = "nvlink_bandwidth_bytes";
  extra.type = model::FieldType::kInt;
  extra.flags = model::kStat | model::kSortable | model::kFilterable;
  extra.unit = "bytes";
  extra.description = "NVLink bandwidth in the last interval.";
  gpu.fields.push_back(extra);  // the one edit

  for (Dialect d : {Dialect::kSqlite, Dialect::kPostgres}) {
    std::string ddl = CreateTableSql(gpu, d)[0];
    EXPECT_NE(ddl.find("nvlink_bandwidth_bytes"), std::string::npos) << ddl;
    EXPECT_EQ(AddColumnSql(gpu, extra, d).find("ALTER TABLE gpu ADD COLUMN nvlink_bandwidth_bytes"),
              0u);
  }

  model::Record r(gpu);
  r.Set("key", std::string("K"));
  r.Set("nvlink_bandwidth_bytes", int64_t{42});
  auto j = model::ToJson(r);
  EXPECT_EQ(j["nvlink_bandwidth_bytes"], 42);
  EXPECT_TRUE(model::ValueFromText(extra, "7").has_value());
  EXPECT_FALSE(model::ValueFromText(extra, "seven").has_value());

  QuerySpec spec;
  spec.sort = {{"nvlink_bandwidth_bytes", true}};
  spec.stats = {"nvlink_bandwidth_bytes"};
  spec.filters.push_back(Filter::Eq("nvlink_bandwidth_bytes", int64_t{1}));
  EXPECT_TRUE(ValidateQuery(gpu, spec));
  spec.facets = {"nvlink_bandwidth_bytes"};  // not flagged facetable: refused
  EXPECT_FALSE(ValidateQuery(gpu, spec));
  EXPECT_FALSE(
      ValidateQuery(*model::FindModel("gpu"), QuerySpec{.sort = {{"nvlink_bandwidth_bytes"}}}));
}

}  // namespace
}  // namespace aitelemetry::store
