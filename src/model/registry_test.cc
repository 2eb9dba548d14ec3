#include "model/registry.h"

#include <gtest/gtest.h>

#include "model/record.h"

namespace aitelemetry::model {
namespace {

TEST(Registry, HasEveryModelTheApiServes) {
  for (const char* name : {"hub", "cluster", "node", "gpu", "gpu-slice", "project", "allocation",
                           "usage", "session", "health-event"}) {
    EXPECT_NE(FindModel(name), nullptr) << name;
  }
  EXPECT_EQ(FindModel("nope"), nullptr);
  EXPECT_EQ(FindModelByType("GpuSlice"), FindModel("gpu-slice"));
}

TEST(Registry, FlagsAreConsistentWithTypes) {
  for (const auto& m : Models()) {
    EXPECT_EQ(m.fields[0].name, "key") << m.name;
    EXPECT_GE(m.FieldIndex(m.scope.hub), 0) << m.name;
    if (!m.scope.cluster.empty()) {
      EXPECT_GE(m.FieldIndex(m.scope.cluster), 0) << m.name;
    }
    if (!m.scope.project.empty()) {
      EXPECT_GE(m.FieldIndex(m.scope.project), 0) << m.name;
    }
    if (!m.scope.via_model.empty()) {
      const Model* via = FindModel(m.scope.via_model);
      ASSERT_NE(via, nullptr) << m.name;
      EXPECT_GE(via->FieldIndex(m.scope.via_field), 0) << m.name;
      EXPECT_FALSE(via->scope.project.empty()) << m.name;
    }
    for (const auto& f : m.fields) {
      if (f.Has(kStat)) {
        EXPECT_TRUE(f.type == FieldType::kInt || f.type == FieldType::kReal)
            << m.name << "." << f.name;
      }
      if (f.Has(kFacetable)) {
        EXPECT_NE(f.type, FieldType::kReal) << m.name << "." << f.name;
      }
      if (!f.relation.empty()) {
        EXPECT_NE(FindModel(f.relation), nullptr) << f.relation;
      }
      EXPECT_FALSE(f.description.empty()) << m.name << "." << f.name;
      for (char c : f.name) {
        EXPECT_TRUE((c >= 'a' && c <= 'z') || c == '_' || (c >= '0' && c <= '9')) << f.name;
      }
    }
  }
}

TEST(Registry, KeysFollowNercResourceNames) {
  EXPECT_EQ(HubKey("moc"), "HUB-moc");
  EXPECT_EQ(ClusterKey("moc", "c1"), "HUB-moc-CLUSTER-c1");
  EXPECT_EQ(ProjectKey("moc", "c1", "ns"), "HUB-moc-CLUSTER-c1-PROJECT-ns");
  EXPECT_EQ(NodeKey("moc", "c1", "n1"), "HUB-moc-CLUSTER-c1-NODE-n1");
  EXPECT_EQ(GpuKey("moc", "c1", "n1", "GPU-1"), "HUB-moc-CLUSTER-c1-NODE-n1-GPU-GPU-1");
  EXPECT_EQ(SliceKey("K", "3"), "K-SLICE-3");
}

TEST(Registry, RejectsMalformedModels) {
  std::string error;
  Model m{"x", "X", "x", "d"};
  m.fields = {Field{"id"}};
  EXPECT_TRUE(ValidateModels({m}, &error).empty());
  EXPECT_NE(error.find("first field"), std::string::npos);
}

TEST(Record, JsonRoundTripKeepsTypesAndNulls) {
  const Model& gpu = *FindModel("gpu");
  Record r(gpu);
  r.Set("key", std::string("K"));
  r.Set("gpu_index", int64_t{3});
  r.Set("power_watts", 250.5);
  r.Set("temperature_celsius", std::nan(""));  // unknown stays null, never 0
  r.Set("mig_enabled", true);
  r.Set("last_seen_at", int64_t{1'700'000'000'000'000'000});
  auto j = ToJson(r);
  EXPECT_EQ(j["key"], "K");
  EXPECT_EQ(j["gpu_index"], 3);
  EXPECT_EQ(j["power_watts"], 250.5);
  EXPECT_TRUE(j["temperature_celsius"].is_null());
  EXPECT_TRUE(j["utilization_ratio"].is_null());
  EXPECT_EQ(j["mig_enabled"], true);
  EXPECT_EQ(j["last_seen_at"], "2023-11-14T22:13:20Z");
  auto v = ValueFromJson(*gpu.FindField("last_seen_at"), j["last_seen_at"]);
  ASSERT_TRUE(v);
  EXPECT_EQ(std::get<int64_t>(*v), int64_t{1'700'000'000'000'000'000});
  EXPECT_EQ(ToJson(r, {"key", "gpu_index"}).size(), 2u);
}

TEST(Record, ValueParsingRejectsMismatches) {
  const Model& gpu = *FindModel("gpu");
  struct Case {
    const char* field;
    const char* text;
    bool ok;
  } cases[] = {
      {"gpu_index", "3", true},
      {"gpu_index", "3.5", false},
      {"gpu_index", "", false},
      {"gpu_index", "99999999999999999999", false},
      {"power_watts", "1e3", true},
      {"power_watts", "nan", false},
      {"power_watts", "inf", false},
      {"mig_enabled", "true", true},
      {"mig_enabled", "yes", false},
      {"last_seen_at", "2026-01-01T00:00:00Z", true},
      {"last_seen_at", "yesterday", false},
      {"uuid", "'; DROP TABLE", true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ValueFromText(*gpu.FindField(c.field), c.text).has_value(), c.ok)
        << c.field << "=" << c.text;
  }
  EXPECT_FALSE(ValueFromJson(*gpu.FindField("gpu_index"), nlohmann::json("3")));
  EXPECT_FALSE(ValueFromJson(*gpu.FindField("gpu_index"), nlohmann::json(3.5)));
  EXPECT_FALSE(ValueFromJson(*gpu.FindField("uuid"), nlohmann::json::array()));
}

}  // namespace
}  // namespace aitelemetry::model
