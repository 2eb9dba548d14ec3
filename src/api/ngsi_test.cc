#include "api/ngsi.h"

#include <set>

#include <gtest/gtest.h>

#include "core/time.h"

namespace aitelemetry::api {
namespace {

TEST(NgsiId, RoundTripsAndEscapes) {
  const auto& gpu = *model::FindModel("gpu");
  for (std::string key : {"HUB-moc-CLUSTER-c-NODE-n-GPU-GPU-1234", "a/b?c#d e%", "x:y:z", "ü"}) {
    std::string id = NgsiEntityId(gpu, key);
    EXPECT_TRUE(id.starts_with("urn:ngsi-ld:Gpu:")) << id;
    EXPECT_EQ(id.find_first_of("/?# "), std::string::npos) << id;
    auto parsed = ParseNgsiEntityId(id);
    ASSERT_TRUE(parsed) << id;
    EXPECT_EQ(parsed->model, &gpu);
    EXPECT_EQ(parsed->key, key);
  }
}

TEST(NgsiId, RejectsMalformedAndHostileIds) {
  struct Case {
    std::string id;
    ErrorCode code;
  };
  for (const auto& c : std::vector<Case>{
           {"", ErrorCode::kInvalidArgument},
           {"urn:ngsi-ld:", ErrorCode::kInvalidArgument},
           {"urn:ngsi-ld:Gpu", ErrorCode::kInvalidArgument},
           {"urn:ngsi-ld:Gpu:", ErrorCode::kInvalidArgument},
           {"urn:ngsi-ld::key", ErrorCode::kInvalidArgument},
           {"urn:other:Gpu:key", ErrorCode::kInvalidArgument},
           {"urn:ngsi-ld:Gpu:a%2", ErrorCode::kInvalidArgument},
           {"urn:ngsi-ld:Gpu:a%00b", ErrorCode::kInvalidArgument},
           {"urn:ngsi-ld:Gpu:a b", ErrorCode::kInvalidArgument},
           {"urn:ngsi-ld:Gpu:a\nb", ErrorCode::kInvalidArgument},
           {"urn:ngsi-ld:Nope:key", ErrorCode::kNotFound},
           {"urn:ngsi-ld:AlertInboxEntry:key", ErrorCode::kNotFound},  // internal: never served
       }) {
    auto parsed = ParseNgsiEntityId(c.id);
    ASSERT_FALSE(parsed) << c.id;
    EXPECT_EQ(parsed.error().code, c.code) << c.id;
  }
}

TEST(NgsiContext, DefinesEveryTypeAndAttributeOnce) {
  auto doc = NgsiContextDocument();
  ASSERT_TRUE(doc["@context"].is_array());
  const auto& terms = doc["@context"][0];
  EXPECT_EQ(doc["@context"][1], std::string(kNgsiCoreContextUrl));
  for (const auto& m : model::Models()) {
    if (m.internal) {
      EXPECT_FALSE(terms.contains(m.type_name)) << m.type_name;
      continue;
    }
    EXPECT_EQ(terms[m.type_name], std::string(kNgsiVocabBase) + m.type_name);
    for (const auto& f : m.fields) {
      if (!IsNgsiAttribute(m, f)) continue;
      ASSERT_TRUE(terms.contains(f.NgsiName())) << m.name << "." << f.name;
      // One name, one meaning: a name used as a relationship is one everywhere.
      bool relationship =
          terms[f.NgsiName()].is_object() && terms[f.NgsiName()].value("@type", "") == "@id";
      EXPECT_EQ(relationship, !f.relation.empty()) << m.name << "." << f.name;
    }
  }
  for (const auto& [term, _] : terms.items()) EXPECT_FALSE(IsNgsiCoreTerm(term)) << term;
}

TEST(NgsiEntity, PropertiesRelationshipsUnitsAndNulls) {
  const auto& gpu = *model::FindModel("gpu");
  model::Record r(gpu);
  r.Set("key", std::string("G1"));
  r.Set("hub", std::string("moc"));
  r.Set("node_key", std::string("N1"));
  r.Set("power_watts", 250.5);
  r.Set("last_seen_at", ToUnixNanos(*ParseRfc3339("2026-11-01T10:00:00Z")));
  auto e = ToNgsiEntity(r);
  EXPECT_EQ(e["id"], "urn:ngsi-ld:Gpu:G1");
  EXPECT_EQ(e["type"], "Gpu");
  EXPECT_FALSE(e.contains("key"));
  EXPECT_EQ(e["hubName"], nlohmann::json({{"type", "Property"}, {"value", "moc"}}));
  EXPECT_EQ(e["isPartOf"],
            nlohmann::json({{"type", "Relationship"}, {"object", "urn:ngsi-ld:Node:N1"}}));
  EXPECT_EQ(e["power"]["value"], 250.5);
  EXPECT_EQ(e["power"]["unitCode"], "WTT");
  EXPECT_EQ(e["power"]["observedAt"], "2026-11-01T10:00:00Z");
  EXPECT_FALSE(e.contains("temperature"));  // null: left out, never zero
  auto kv = ToNgsiEntity(r, {{gpu.FindField("node_key"), gpu.FindField("power_watts")}, true});
  EXPECT_EQ(kv, nlohmann::json({{"id", "urn:ngsi-ld:Gpu:G1"},
                                {"type", "Gpu"},
                                {"isPartOf", "urn:ngsi-ld:Node:N1"},
                                {"power", 250.5}}));
}

TEST(NgsiAttrs, ParsesNamesAndRejectsUnknown) {
  const auto& gpu = *model::FindModel("gpu");
  auto a = ParseNgsiAttrs(gpu, "power, isPartOf,power");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->size(), 2u);
  for (std::string bad : {"", "power,", ",power", "nosuch", "key", "id"}) {
    EXPECT_FALSE(ParseNgsiAttrs(gpu, bad)) << bad;
  }
}

TEST(NgsiNegotiate, ChoosesByQualityAndRejectsTheRest) {
  struct Case {
    std::string accept;
    std::optional<NgsiMediaType> want;
  };
  for (const auto& c : std::vector<Case>{
           {"", NgsiMediaType::kJson},
           {"application/json", NgsiMediaType::kJson},
           {"application/ld+json", NgsiMediaType::kJsonLd},
           {"Application/LD+JSON; charset=utf-8", NgsiMediaType::kJsonLd},
           {"*/*", NgsiMediaType::kJson},
           {"application/json;q=0.5, application/ld+json", NgsiMediaType::kJsonLd},
           {"application/ld+json;q=0.1, application/json;q=0.9", NgsiMediaType::kJson},
           {"text/html, application/*;q=0.2", NgsiMediaType::kJson},
           {"application/geo+json", std::nullopt},
           {"text/html", std::nullopt},
           {"application/json;q=0", std::nullopt},
           {"application/json;q=abc", std::nullopt},
           {",,,;;;", std::nullopt},
       }) {
    auto got = NegotiateNgsi(c.accept);
    if (c.want) {
      ASSERT_TRUE(got) << c.accept;
      EXPECT_EQ(*got, *c.want) << c.accept;
    } else {
      EXPECT_FALSE(got) << c.accept;
    }
  }
}

TEST(NgsiError, BodiesUseTheNgsiErrorTypes) {
  auto r = NgsiErrorFor(Error{ErrorCode::kInvalidArgument, "q: bad"});
  EXPECT_EQ(r.status, 400);
  auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["type"], "https://uri.etsi.org/ngsi-ld/errors/BadRequestData");
  EXPECT_EQ(body["detail"], "q: bad");
  auto internal = NgsiErrorFor(Error{ErrorCode::kInternal, "secret path /var/db"});
  EXPECT_EQ(internal.status, 500);
  EXPECT_EQ(internal.body.find("secret"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(NgsiErrorFor(Error{ErrorCode::kNotFound, ""}).body)["type"],
            "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound");
}

}  // namespace
}  // namespace aitelemetry::api
