#include "api/ngsi_query.h"

#include <string>

#include <gtest/gtest.h>

#include "core/time.h"

namespace aitelemetry::api {
namespace {

using store::Filter;

const model::Model& Gpu() { return *model::FindModel("gpu"); }

TEST(NgsiQuery, TranslatesSupportedTerms) {
  struct Case {
    std::string q;
    std::string field;
    Filter::Kind kind;
    bool negate;
    size_t values;
  };
  for (const auto& c : std::vector<Case>{
           {"power>100", "power_watts", Filter::Kind::kRange, false, 0},
           {"power>=100.5", "power_watts", Filter::Kind::kRange, false, 0},
           {"power<1e3", "power_watts", Filter::Kind::kRange, false, 0},
           {"modelName==\"NVIDIA A100\"", "model_name", Filter::Kind::kAnyOf, false, 1},
           {"modelName!=\"A;B|C\"", "model_name", Filter::Kind::kAnyOf, true, 1},
           {"modelName==\"a\",\"b\",c", "model_name", Filter::Kind::kAnyOf, false, 3},
           {"gpuIndex==1..3", "gpu_index", Filter::Kind::kRange, false, 0},
           {"migEnabled==true", "mig_enabled", Filter::Kind::kAnyOf, false, 1},
           {"last_seen_at>2026-01-01T00:00:00Z", "last_seen_at", Filter::Kind::kRange, false, 0},
           {"isPartOf==urn:ngsi-ld:Node:HUB-moc-CLUSTER-c-NODE-n", "node_key", Filter::Kind::kAnyOf,
            false, 1},
           {"https://aitelemetry.example/ns#power<=5", "power_watts", Filter::Kind::kRange, false,
            0},
           {"projectName", "project", Filter::Kind::kNotNull, false, 0},
       }) {
    auto f = ParseNgsiQuery(Gpu(), c.q);
    ASSERT_TRUE(f) << c.q << ": " << f.error().ToString();
    ASSERT_EQ(f->size(), 1u) << c.q;
    EXPECT_EQ((*f)[0].field, c.field) << c.q;
    EXPECT_EQ((*f)[0].kind, c.kind) << c.q;
    EXPECT_EQ((*f)[0].negate, c.negate) << c.q;
    EXPECT_EQ((*f)[0].values.size(), c.values) << c.q;
  }
}

TEST(NgsiQuery, BoundsAndValuesAreTyped) {
  auto f = ParseNgsiQuery(Gpu(), "power>100;power<=200;modelName==\"x\\\"y\"");
  ASSERT_TRUE(f) << f.error().ToString();
  ASSERT_EQ(f->size(), 3u);
  EXPECT_EQ(std::get<double>((*f)[0].lower), 100.0);
  EXPECT_FALSE((*f)[0].lower_inclusive);
  EXPECT_TRUE(model::IsNull((*f)[0].upper));
  EXPECT_EQ(std::get<double>((*f)[1].upper), 200.0);
  EXPECT_TRUE((*f)[1].upper_inclusive);
  EXPECT_EQ(std::get<std::string>((*f)[2].values[0]), "x\"y");
  auto rel = ParseNgsiQuery(Gpu(), "isPartOf==urn:ngsi-ld:Node:N%2F1");
  ASSERT_TRUE(rel);
  EXPECT_EQ(std::get<std::string>((*rel)[0].values[0]), "N/1");
}

TEST(NgsiQuery, RejectsMalformedHostileAndUnsupported) {
  for (const std::string& q : std::vector<std::string>{
           "",                                        // empty term
           ";",                                       // empty terms
           "power>",                                  // no value
           "==1",                                     // no attribute
           "power>abc",                               // not a number
           "power>\"100\"",                           // a string for a number
           "nosuch==1",                               // unknown attribute
           "key==x",                                  // the key is the id, not an attribute
           "id==x",                                   // core term
           "display_name==x",                         // gpu has no such field
           "modelName==\"open",                       // unterminated quote
           "modelName==\"a\"b\"",                     // stray quote
           "modelName==\"bad\\escape\"",              // unknown escape
           "power>1|power<0",                         // OR
           "(power>1)",                               // parentheses
           "modelName~=A.*",                          // pattern
           "modelName!~=A.*",                         // pattern
           "power.value>1",                           // compound path
           "a[b]==1",                                 // compound path
           "power=1",                                 // unknown operator
           "power===1",                               // stray '='
           "migEnabled==1",                           // booleans are true/false
           "gpuIndex==1..2..3",                       // a range has two ends
           "isPartOf==urn:ngsi-ld:Gpu:X",             // wrong target type
           "isPartOf==urn:ngsi-ld:Node:%zz",          // bad escape in the URN
           "last_seen_at>yesterday",                  // not a time
           "mod elName==x",                           // space in the name
           "modelName==\"\x01\"; power>nan",          // NaN
           std::string(kMaxNgsiQueryBytes + 1, 'a'),  // too long
       }) {
    auto f = ParseNgsiQuery(Gpu(), q);
    EXPECT_FALSE(f) << "accepted: " << q.substr(0, 80);
    if (!f) {
      EXPECT_EQ(f.error().code, ErrorCode::kInvalidArgument) << q.substr(0, 80);
    }
  }
}

TEST(NgsiQuery, NonFilterableAttributeIsRefused) {
  // hub.last_sync_at is sortable only.
  auto f = ParseNgsiQuery(*model::FindModel("hub"), "last_sync_at>2026-01-01T00:00:00Z");
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message.find("cannot be queried"), std::string::npos);
}

}  // namespace
}  // namespace aitelemetry::api
