#include "collect/exposition.h"

#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "collect/test_util.h"

namespace aitelemetry::collect {
namespace {

using testing::ReadFixture;

TEST(ParseExposition, DcgmExporterFixture) {
  std::string text = ReadFixture("dcgm_exporter.txt");
  ASSERT_FALSE(text.empty());
  SampleSet set;
  ExpositionOptions opts;
  opts.default_timestamp_ms = 1700000999000;
  opts.extra_labels = {{"cluster", "nerc-ocp-prod"}};
  ASSERT_TRUE(ParseExposition(text, opts, &set))
      << ParseExposition(text, opts, &set).error().message;
  ASSERT_EQ(set.size(), 13u);
  const auto& s = set.samples();

  EXPECT_EQ(set.Metric(s[0]), "DCGM_FI_DEV_GPU_UTIL");
  EXPECT_EQ(s[0].value, 87);
  EXPECT_EQ(s[0].timestamp_ms, 1700000999000);
  EXPECT_EQ(set.Label(s[0], "UUID"), "GPU-5fd4b6a2-1c3e-4e0b-9a0e-2f1d3c4b5a60");
  EXPECT_EQ(set.Label(s[0], "Hostname"), "wrk-10");
  EXPECT_EQ(set.Label(s[0], "namespace"), "rhods-notebooks");
  EXPECT_EQ(set.Label(s[0], "cluster"), "nerc-ocp-prod");
  // The non-MIG GPU's series of different metrics share one label set.
  EXPECT_EQ(s[0].labels, s[2].labels);
  EXPECT_EQ(s[0].labels, s[6].labels);

  // MIG instance: new hostname spelling, exported_ workload labels, trailing comma.
  EXPECT_NEAR(s[4].value, 0.45, 1e-12);
  EXPECT_EQ(set.Label(s[4], "hostname"), "wrk-11");
  EXPECT_EQ(set.Label(s[4], "Hostname"), "");
  EXPECT_EQ(set.Label(s[4], "GPU_I_PROFILE"), "3g.40gb");
  EXPECT_EQ(set.Label(s[4], "exported_namespace"), "ai-lab");
  EXPECT_EQ(set.Label(s[5], "GPU_I_ID"), "9");
  EXPECT_EQ(set.Label(s[5], "pod"), "");

  EXPECT_EQ(s[7].timestamp_ms, 1700000000123);
  EXPECT_DOUBLE_EQ(s[7].value, 1.2345678901e+12);
  EXPECT_EQ(set.Label(s[8], "err_msg"),
            "GPU has fallen off the bus: \"NVRM\" said\nsee dmesg \\ logs");
  // Empty-valued labels are dropped.
  EXPECT_TRUE(std::isnan(s[9].value));
  EXPECT_EQ(set.Labels(s[9]).size(), set.Labels(s[0]).size() - 3);
  EXPECT_TRUE(std::isinf(s[10].value) && s[10].value > 0);
  EXPECT_TRUE(std::isinf(s[11].value) && s[11].value < 0);
  EXPECT_EQ(set.Label(s[12], "resource"), "nvidia_com_mig_3g_40gb");

  std::optional<StringId> util = set.FindString("DCGM_FI_DEV_GPU_UTIL");
  ASSERT_TRUE(util);
  EXPECT_EQ(set.Type(*util), MetricType::kGauge);
  EXPECT_EQ(set.Type(*set.FindString("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION")),
            MetricType::kCounter);
}

TEST(ParseExposition, ExistingClusterLabelWins) {
  SampleSet set;
  ExpositionOptions opts;
  opts.extra_labels = {{"cluster", "configured"}};
  ASSERT_TRUE(ParseExposition("up{cluster=\"own\"} 1\nup 1\n", opts, &set));
  EXPECT_EQ(set.Label(set.samples()[0], "cluster"), "own");
  EXPECT_EQ(set.Label(set.samples()[1], "cluster"), "configured");
}

TEST(ParseExposition, AcceptedForms) {
  struct Case {
    std::string text;
    size_t samples;
  };
  const Case cases[] = {
      {"", 0},
      {"\n\n  \n", 0},
      {"# just a comment\nup 1\n", 1},
      {"up 1", 1},                    // no final newline
      {"up{} 1\r\n", 1},              // CRLF, empty label set
      {"up{ a = \"b\" , } 1 \n", 1},  // spaces and a trailing comma
      {"a:b_c 1 -5\n", 1},            // colon in name, negative timestamp
      {"up 1\n# EOF\n\n", 1},
      {"# UNIT foo_seconds seconds\nfoo_seconds 1\n", 1},
      {"# TYPE x untyped\nx 1\n", 1},
  };
  for (const Case& c : cases) {
    SampleSet set;
    Status st = ParseExposition(c.text, {}, &set);
    ASSERT_TRUE(st) << c.text << ": " << st.error().message;
    EXPECT_EQ(set.size(), c.samples) << c.text;
  }
}

TEST(ParseExposition, OpenMetricsTimestampsAreSeconds) {
  SampleSet set;
  ExpositionOptions opts;
  opts.openmetrics = true;
  ASSERT_TRUE(ParseExposition("up 1 1700000000.25\n# EOF\n", opts, &set));
  EXPECT_EQ(set.samples()[0].timestamp_ms, 1700000000250);
}

TEST(ParseExposition, RejectsMalformedLinesNamingTheLine) {
  struct Case {
    std::string text;
    ErrorCode code;
    std::string want;  // substring of the message
  };
  const Case cases[] = {
      {"up 1\nup{a=\"\\x\"} 1\n", ErrorCode::kInvalidArgument, "line 2: invalid escape"},
      {"up{a=\"b} 1\n", ErrorCode::kInvalidArgument, "line 1: unterminated"},
      {"up{a=\"b\\", ErrorCode::kInvalidArgument, "unterminated"},
      {"up\n", ErrorCode::kInvalidArgument, "missing value"},
      {"up{a=\"b\"}\n", ErrorCode::kInvalidArgument, "missing value"},
      {"up{a=\"b\"} \n", ErrorCode::kInvalidArgument, "missing value"},
      {"up one\n", ErrorCode::kInvalidArgument, "invalid value"},
      {"1up 1\n", ErrorCode::kInvalidArgument, "invalid metric name"},
      {"up-x 1\n", ErrorCode::kInvalidArgument, "after series"},
      {"up{1a=\"b\"} 1\n", ErrorCode::kInvalidArgument, "invalid label name"},
      {"up{a:b=\"b\"} 1\n", ErrorCode::kInvalidArgument, "expected '='"},
      {"up{a=b} 1\n", ErrorCode::kInvalidArgument, "expected '\"'"},
      {"up{a=\"1\",a=\"2\"} 1\n", ErrorCode::kInvalidArgument, "label a repeated"},
      {"up{a=\"1\",a=\"\"} 1\n", ErrorCode::kInvalidArgument, "label a repeated"},
      {"up{a=\"1\" b=\"2\"} 1\n", ErrorCode::kInvalidArgument, "expected ','"},
      {"up{a=\"1\"", ErrorCode::kInvalidArgument, "line 1: expected ',' or"},
      {"up{a=\"1\",", ErrorCode::kInvalidArgument, "unterminated label set"},
      {"up 1 2 3\n", ErrorCode::kInvalidArgument, "after the value"},
      {"up 1 1.5\n", ErrorCode::kInvalidArgument, "invalid timestamp"},
      {"up 1 99999999999999999999\n", ErrorCode::kInvalidArgument, "invalid timestamp"},
      {"up 1\n# EOF\nup 2\n", ErrorCode::kInvalidArgument, "line 3: content after # EOF"},
      {"# TYPE up nonsense\n", ErrorCode::kInvalidArgument, "unknown type"},
      {"# TYPE 9up gauge\n", ErrorCode::kInvalidArgument, "invalid metric name"},
      {"up{__name__=\"x\"} 1\n", ErrorCode::kInvalidArgument, "__name__"},
  };
  for (const Case& c : cases) {
    SampleSet set;
    Status st = ParseExposition(c.text, {}, &set);
    ASSERT_FALSE(st) << c.text;
    EXPECT_EQ(st.error().code, c.code) << c.text << ": " << st.error().message;
    EXPECT_NE(st.error().message.find(c.want), std::string::npos)
        << c.text << ": " << st.error().message;
  }
}

TEST(ParseExposition, EnforcesLimits) {
  ExpositionOptions opts;
  opts.limits.max_labels_per_series = 4;
  opts.limits.max_label_value_bytes = 8;
  opts.limits.max_line_bytes = 100;
  struct Case {
    std::string text;
    std::string want;
  };
  const Case cases[] = {
      {"up{a=\"1\",b=\"1\",c=\"1\",d=\"1\",e=\"1\"} 1\n", "more than 4 labels"},
      {"up{a=\"123456789\"} 1\n", "longer than 8 bytes"},
      {"up 1\nup{a=\"" + std::string(200, 'x') + "\"} 1\n", "line 2: longer than 100 bytes"},
  };
  for (const Case& c : cases) {
    SampleSet set;
    Status st = ParseExposition(c.text, opts, &set);
    ASSERT_FALSE(st) << c.text;
    EXPECT_EQ(st.error().code, ErrorCode::kPayloadTooLarge) << st.error().message;
    EXPECT_NE(st.error().message.find(c.want), std::string::npos) << st.error().message;
  }
}

TEST(ParseExposition, RandomMutationsNeverCrash) {
  std::string base = ReadFixture("dcgm_exporter.txt");
  ASSERT_FALSE(base.empty());
  uint64_t seed = 0x1234567;
  auto next = [&seed] {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
  };
  for (int i = 0; i < 3000; ++i) {
    std::string text = base;
    if (i % 3 == 0) text.resize(next() % text.size());
    for (int flips = 1 + static_cast<int>(next() % 4); flips > 0; --flips) {
      text[next() % text.size()] = static_cast<char>(next() & 0xff);
    }
    SampleSet set;
    Status st = ParseExposition(text, {}, &set);
    if (!st) {
      EXPECT_FALSE(st.error().message.empty());
    }
  }
}

}  // namespace
}  // namespace aitelemetry::collect
