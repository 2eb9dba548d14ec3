#include "trace/session_identity.h"

#include <set>
#include <string>

#include <gtest/gtest.h>

namespace aitelemetry::trace {
namespace {

TEST(SessionKeyFromLabels, UsesPlainThenExportedLabels) {
  struct Case {
    std::string name;
    LabelSet labels;
    std::string default_cluster;
    SessionKey want;
  };
  const Case cases[] = {
      {"plain labels",
       {{"cluster", "c1"},
        {"namespace", "ns"},
        {"pod", "p"},
        {"container", "k"},
        {"UUID", "GPU-1"}},
       "hub-default",
       {"c1", "ns", "p", "k", "GPU-1", ""}},
      {"exported labels and default cluster",
       {{"exported_namespace", "ns"},
        {"exported_pod", "p"},
        {"exported_container", "k"},
        {"UUID", "GPU-1"},
        {"GPU_I_ID", "3"}},
       "hub-default",
       {"hub-default", "ns", "p", "k", "GPU-1", "3"}},
      {"plain wins over exported",
       {{"namespace", "a"},
        {"exported_namespace", "b"},
        {"pod", "p"},
        {"exported_pod", "q"},
        {"UUID", "GPU-1"},
        {"gpu_uuid", "GPU-2"}},
       "d",
       {"d", "a", "p", "", "GPU-1", ""}},
      {"empty plain label falls back",
       {{"cluster", ""},
        {"namespace", ""},
        {"exported_namespace", "b"},
        {"pod", "p"},
        {"gpu_uuid", "GPU-2"}},
       "d",
       {"d", "b", "p", "", "GPU-2", ""}},
  };
  for (const auto& c : cases) {
    auto key = SessionKeyFromLabels(c.labels, c.default_cluster);
    ASSERT_TRUE(key.has_value()) << c.name << ": " << key.error().ToString();
    EXPECT_EQ(*key, c.want) << c.name << ": got " << key->StableKey();
  }
}

TEST(SessionKeyFromLabels, NamesTheMissingLabel) {
  struct Case {
    LabelSet labels;
    std::string default_cluster;
    std::string want;
  };
  const Case cases[] = {
      {{{"namespace", "n"}, {"pod", "p"}, {"UUID", "u"}}, "", "labels: no cluster"},
      {{{"pod", "p"}, {"UUID", "u"}}, "d", "labels: no namespace or exported_namespace"},
      {{{"namespace", "n"}, {"UUID", "u"}}, "d", "labels: no pod or exported_pod"},
      {{{"namespace", "n"}, {"pod", "p"}}, "d", "labels: no UUID or gpu_uuid"},
  };
  for (const auto& c : cases) {
    auto key = SessionKeyFromLabels(c.labels, c.default_cluster);
    ASSERT_FALSE(key.has_value()) << c.want;
    EXPECT_EQ(key.error().code, ErrorCode::kInvalidArgument);
    EXPECT_TRUE(key.error().message.starts_with(c.want)) << key.error().message;
  }
}

TEST(SessionKey, StableKeyIsUnambiguous) {
  SessionKey a{"c", "ns", "p", "", "GPU-1", ""};
  EXPECT_EQ(a.StableKey(), "c/ns/p//GPU-1/");
  SessionKey slashy{"c", "n/s", "p", "", "GPU-1", ""};
  SessionKey split{"c", "n", "s/p", "", "GPU-1", ""};
  EXPECT_EQ(slashy.StableKey(), "c/n%2Fs/p//GPU-1/");
  EXPECT_NE(slashy.StableKey(), split.StableKey());
  SessionKey percent{"c", "n%2Fs", "p", "", "GPU-1", ""};
  EXPECT_NE(percent.StableKey(), slashy.StableKey());
  SessionKey slice{"c", "ns", "p", "", "GPU-1", "0"};
  EXPECT_NE(slice.StableKey(), a.StableKey());
}

TEST(AlertIdentity, KeyAndIdsAreDeterministic) {
  Timestamp t = *ParseRfc3339("2026-11-01T10:15:30.123456789Z");
  AlertIdentity id{"a1b2c3d4e5f60718", t};
  EXPECT_EQ(id.Key(), "a1b2c3d4e5f60718@1793528130123456789");
  // A resend of the same occurrence yields the same ids.
  EXPECT_EQ(TraceIdFor(id), TraceIdFor(AlertIdentity{"a1b2c3d4e5f60718", t}));
  EXPECT_EQ(SpanIdFor(id), SpanIdFor(AlertIdentity{"a1b2c3d4e5f60718", t}));
  // Pinned values: changing the derivation would change ids of spans already exported.
  // (SHA-256 of "aitelemetry.trace_id.v1\0<fingerprint>\0<ns>", likewise span_id, cut to size.)
  EXPECT_EQ(ToHex(TraceIdFor(id)), "142c2536c9d25be51a2731f90f903d5f");
  EXPECT_EQ(ToHex(SpanIdFor(id)), "bf6d1b285793580a");
}

TEST(AlertIdentity, IdsDifferAcrossOccurrences) {
  Timestamp t = *ParseRfc3339("2026-11-01T10:15:30Z");
  std::set<std::string> trace_ids;
  std::set<std::string> span_ids;
  for (int i = 0; i < 1000; ++i) {
    AlertIdentity id{"fp" + std::to_string(i % 10), t + Nanos(i / 10)};
    trace_ids.insert(ToHex(TraceIdFor(id)));
    span_ids.insert(ToHex(SpanIdFor(id)));
  }
  EXPECT_EQ(trace_ids.size(), 1000u);
  EXPECT_EQ(span_ids.size(), 1000u);
  EXPECT_EQ(trace_ids.count(std::string(32, '0')), 0u);
  EXPECT_EQ(span_ids.count(std::string(16, '0')), 0u);
}

TEST(AlertIdentity, IdentityOfAlert) {
  Alert alert;
  alert.fingerprint = "f";
  alert.starts_at = *ParseRfc3339("2026-11-01T00:00:00Z");
  EXPECT_EQ(IdentityOf(alert), (AlertIdentity{"f", alert.starts_at}));
}

TEST(Hex, RoundTripsAndRejectsJunk) {
  TraceId t{};
  for (size_t i = 0; i < t.size(); ++i) t[i] = static_cast<uint8_t>(i * 17);
  std::string hex = ToHex(t);
  EXPECT_EQ(hex, "00112233445566778899aabbccddeeff");
  auto parsed = ParseTraceIdHex("00112233445566778899AABBCCDDEEFF");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, t);
  auto span = ParseSpanIdHex("0102030405060708");
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(ToHex(*span), "0102030405060708");
  for (const char* bad :
       {"", "0011", "00112233445566778899aabbccddeefg", "00112233445566778899aabbccddeeff00",
        "00000000000000000000000000000000"}) {
    EXPECT_FALSE(ParseTraceIdHex(bad).has_value()) << bad;
  }
  for (const char* bad :
       {"010203040506070", "0102030405060708a", "010203040506070z", "0000000000000000"}) {
    EXPECT_FALSE(ParseSpanIdHex(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace aitelemetry::trace
