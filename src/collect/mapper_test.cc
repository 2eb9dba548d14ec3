#include "collect/mapper.h"

#include <cmath>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "collect/exposition.h"
#include "collect/prom_json.h"
#include "collect/prom_stream.h"
#include "collect/test_util.h"
#include "sim/exposition.h"
#include "sim/fleet.h"

namespace aitelemetry::collect {
namespace {

using testing::RenderVectorAnswer;

bool SameNumber(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

bool SameReadings(const DeviceReadings& a, const DeviceReadings& b) {
  for (int i = 0; i < kReadingCount; ++i) {
    if (!SameNumber(a.values[i], b.values[i])) return false;
  }
  return true;
}

// Expects two snapshots to be equal in every field (NaN equal to NaN).
void ExpectSameSnapshot(const Snapshot& a, const Snapshot& b, const std::string& what) {
  EXPECT_EQ(a.hub, b.hub) << what;
  EXPECT_EQ(a.series, b.series) << what;
  EXPECT_EQ(a.unmapped_series, b.unmapped_series) << what;
  ASSERT_EQ(a.clusters.size(), b.clusters.size()) << what;
  for (size_t i = 0; i < a.clusters.size(); ++i) {
    EXPECT_EQ(a.clusters[i].name, b.clusters[i].name) << what;
  }
  ASSERT_EQ(a.nodes.size(), b.nodes.size()) << what;
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    const NodeEntry &x = a.nodes[i], &y = b.nodes[i];
    EXPECT_TRUE(x.cluster == y.cluster && x.name == y.name && x.gpu_product == y.gpu_product &&
                x.mig_strategy == y.mig_strategy && x.gpu_count == y.gpu_count &&
                SameNumber(x.gpu_memory_mib, y.gpu_memory_mib))
        << what << ": node " << x.name;
  }
  ASSERT_EQ(a.gpus.size(), b.gpus.size()) << what;
  for (size_t i = 0; i < a.gpus.size(); ++i) {
    const GpuEntry &x = a.gpus[i], &y = b.gpus[i];
    EXPECT_TRUE(x.node == y.node && x.uuid == y.uuid && x.index == y.index &&
                x.model_name == y.model_name && x.driver_version == y.driver_version &&
                x.pci_bus_id == y.pci_bus_id && SameReadings(x.readings, y.readings) &&
                x.holders == y.holders && x.slices == y.slices)
        << what << ": gpu " << x.uuid;
  }
  ASSERT_EQ(a.slices.size(), b.slices.size()) << what;
  for (size_t i = 0; i < a.slices.size(); ++i) {
    const SliceEntry &x = a.slices[i], &y = b.slices[i];
    EXPECT_TRUE(x.gpu == y.gpu && x.gpu_i_id == y.gpu_i_id && x.profile == y.profile &&
                SameNumber(x.compute_share, y.compute_share) &&
                SameReadings(x.readings, y.readings) && x.holders == y.holders)
        << what << ": slice " << x.gpu_i_id;
  }
  ASSERT_EQ(a.projects.size(), b.projects.size()) << what;
  for (size_t i = 0; i < a.projects.size(); ++i) {
    EXPECT_TRUE(a.projects[i].cluster == b.projects[i].cluster &&
                a.projects[i].ns == b.projects[i].ns)
        << what;
  }
}

// Maps `answers` through the streaming parser into Mapper::AnswerSink, in pieces of `piece`.
Snapshot MapStreamed(const std::vector<std::string>& answers, const std::string& default_cluster,
                     size_t piece) {
  Mapper m("h", default_cluster);
  PromStreamParser parser;
  for (const std::string& body : answers) {
    Mapper::AnswerSink sink(&m);
    parser.Begin(&sink);
    for (size_t at = 0; at < body.size(); at += piece) {
      Status st = parser.Feed(std::string_view(body).substr(at, piece));
      EXPECT_TRUE(st) << st.error().message;
    }
    Status st = parser.Finish();
    EXPECT_TRUE(st) << st.error().message;
  }
  return m.Finish();
}

// Maps the exposition `text` with Mapper::Add, and checks that the fused path (the same samples
// rendered as a Prometheus answer, streamed into Mapper::AnswerSink) gives the same Snapshot.
Snapshot MapText(const std::string& text, const std::string& default_cluster = "dflt") {
  SampleSet set;
  ExpositionOptions o;
  o.default_timestamp_ms = 1000;
  auto st = ParseExposition(text, o, &set);
  EXPECT_TRUE(st) << st.error().message;
  Mapper m("h", default_cluster);
  m.Add(set);
  Snapshot snap = m.Finish();
  Snapshot streamed = MapStreamed({RenderVectorAnswer(set, 0, set.size())}, default_cluster, 7);
  ExpectSameSnapshot(snap, streamed, "fused path");
  return snap;
}

constexpr char kDev[] =
    R"(gpu="0",UUID="GPU-a",device="nvidia0",modelName="NVIDIA A100-SXM4-80GB",hostname="n1",cluster="c1")";

TEST(Mapper, ScalesByExporterVersionAndName) {
  struct Case {
    std::string what, text;
    Signal signal;
    double want;  // NaN: unknown
  };
  const std::string legacy = std::string(kDev) + R"(,DCGM_FI_DRIVER_VERSION="550.1")";
  const std::string v49 = std::string(kDev) + R"(,DCGM_FI_SYSTEM_DRIVER_VERSION="580.1")";
  const Case cases[] = {
      {"legacy clock MHz", "DCGM_FI_DEV_SM_CLOCK{" + legacy + "} 1410\n", Signal::kSmClock, 1.41e9},
      {"4.9 clock Hz", "DCGM_FI_DEV_SM_CLOCK{" + v49 + "} 1410000000\n", Signal::kSmClock, 1.41e9},
      {"suffix Hz", "DCGM_FI_DEV_SM_CLOCK_HZ{" + legacy + "} 1410000000\n", Signal::kSmClock,
       1.41e9},
      {"legacy energy mJ", "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{" + legacy + "} 5000\n",
       Signal::kEnergy, 5},
      {"4.9 energy J", "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{" + v49 + "} 5\n", Signal::kEnergy, 5},
      {"legacy util %", "DCGM_FI_DEV_GPU_UTIL{" + legacy + "} 50\n", Signal::kGpuUtil, 0.5},
      {"4.9 util ratio", "DCGM_FI_DEV_GPU_UTIL{" + v49 + "} 0.5\n", Signal::kGpuUtil, 0.5},
      {"legacy FB MiB", "DCGM_FI_DEV_FB_USED{" + legacy + "} 2\n", Signal::kFbUsed, 2097152},
      {"4.9 FB bytes", "DCGM_FI_DEV_FB_USED{" + v49 + "} 2097152\n", Signal::kFbUsed, 2097152},
      {"NaN is unknown", "DCGM_FI_DEV_POWER_USAGE{" + legacy + "} NaN\n", Signal::kPower, NAN},
      {"+Inf is unknown", "DCGM_FI_DEV_POWER_USAGE{" + legacy + "} +Inf\n", Signal::kPower, NAN},
      {"absent is unknown", "DCGM_FI_DEV_GPU_TEMP{" + legacy + "} 40\n", Signal::kPower, NAN},
      {"first finite duplicate wins",
       "DCGM_FI_DEV_POWER_USAGE{" + legacy + "} NaN\nDCGM_FI_DEV_POWER_USAGE{" + legacy +
           ",instance=\"b\"} 300\nDCGM_FI_DEV_POWER_USAGE{" + legacy + ",instance=\"c\"} 310\n",
       Signal::kPower, 300},
      {"xid from err_code", "DCGM_FI_DEV_XID_ERRORS{" + legacy + ",err_code=\"79\"} 1\n",
       Signal::kXid, 79},
      {"xid from value when err_code is junk",
       "DCGM_FI_DEV_XID_ERRORS{" + legacy + ",err_code=\"x\"} 48\n", Signal::kXid, 48},
  };
  for (const Case& c : cases) {
    Snapshot s = MapText(c.text);
    ASSERT_EQ(s.gpus.size(), 1u) << c.what;
    double got = s.gpus[0].readings.Get(c.signal);
    if (std::isnan(c.want)) {
      EXPECT_TRUE(std::isnan(got)) << c.what << ": " << got;
    } else {
      EXPECT_DOUBLE_EQ(got, c.want) << c.what;
    }
  }
  Snapshot v = MapText("DCGM_FI_DEV_SM_CLOCK{" + v49 + "} 1\n");
  EXPECT_EQ(v.gpus[0].driver_version, "580.1");
}

TEST(Mapper, TimeSlicedGpuIsOneGpuWithSeveralHolders) {
  std::string text;
  for (const char* pod : {"a", "b", "a"}) {  // "a" twice: a duplicate series
    text += "DCGM_FI_PROF_GR_ENGINE_ACTIVE{" + std::string(kDev) + ",namespace=\"ns1\",pod=\"" +
            pod + "\",container=\"c\"} 0.25\n";
  }
  Snapshot s = MapText(text);
  ASSERT_EQ(s.gpus.size(), 1u);
  ASSERT_EQ(s.gpus[0].holders.size(), 2u);
  EXPECT_EQ(s.gpus[0].holders[0].pod, "a");
  EXPECT_EQ(s.gpus[0].holders[1].pod, "b");
  EXPECT_DOUBLE_EQ(Activity(s.gpus[0].readings), 0.25);
  ASSERT_EQ(s.projects.size(), 1u);
  EXPECT_EQ(s.projects[0].ns, "ns1");
  EXPECT_EQ(s.nodes.size(), 1u);
  EXPECT_EQ(s.nodes[0].gpu_count, 1);
}

TEST(Mapper, LabelSpellingsAndDefaultCluster) {
  struct Case {
    std::string labels;
    std::string cluster, host, ns, pod, container;
  };
  const Case cases[] = {
      {R"(UUID="G",Hostname="old",exported_namespace="e",exported_pod="p",exported_container="k")",
       "dflt", "old", "e", "p", "k"},
      {R"(UUID="G",hostname="new",pod_namespace="o",pod_name="p2",container_name="k2",cluster="cc")",
       "cc", "new", "o", "p2", "k2"},
      {R"(UUID="G",hostname="h",Hostname="ignored",namespace="n",pod="p",exported_namespace="x")",
       "dflt", "h", "n", "p", ""},
  };
  for (const Case& c : cases) {
    Snapshot s = MapText("DCGM_FI_DEV_FB_USED{" + c.labels + "} 1\n");
    ASSERT_EQ(s.gpus.size(), 1u) << c.labels;
    EXPECT_EQ(s.clusters[s.nodes[s.gpus[0].node].cluster].name, c.cluster) << c.labels;
    EXPECT_EQ(s.nodes[s.gpus[0].node].name, c.host) << c.labels;
    ASSERT_EQ(s.gpus[0].holders.size(), 1u) << c.labels;
    EXPECT_EQ(s.gpus[0].holders[0].ns, c.ns) << c.labels;
    EXPECT_EQ(s.gpus[0].holders[0].pod, c.pod) << c.labels;
    EXPECT_EQ(s.gpus[0].holders[0].container, c.container) << c.labels;
  }
}

TEST(Mapper, MigInstancesBecomeSlicesAndParentHasNoActivity) {
  const std::string base = R"(UUID="GPU-m",hostname="n",modelName="H100")";
  std::string text =
      "DCGM_FI_PROF_GR_ENGINE_ACTIVE{" + base +
      R"(,GPU_I_PROFILE="3g.40gb",GPU_I_ID="1",namespace="p",pod="q",container="c"} 0.5)"
      "\n" +
      "DCGM_FI_PROF_GR_ENGINE_ACTIVE{" + base +
      R"(,GPU_I_PROFILE="1g.10gb",GPU_I_ID="5"} 0)"
      "\n" +
      "DCGM_FI_DEV_POWER_USAGE{" + base +
      R"(,GPU_I_PROFILE="3g.40gb",GPU_I_ID="1"} 200)"
      "\n" +
      "DCGM_FI_DEV_FB_USED{" + base +
      R"(,GPU_I_PROFILE="3g.40gb",GPU_I_ID="1"} 10)"
      "\n";
  Snapshot s = MapText(text);
  ASSERT_EQ(s.gpus.size(), 1u);
  ASSERT_EQ(s.slices.size(), 2u);
  EXPECT_TRUE(s.gpus[0].mig());
  EXPECT_TRUE(std::isnan(Activity(s.gpus[0].readings)));
  EXPECT_DOUBLE_EQ(s.gpus[0].readings.Get(Signal::kPower), 200);  // device-wide: the parent's
  EXPECT_TRUE(std::isnan(s.slices[0].readings.Get(Signal::kPower)));
  EXPECT_DOUBLE_EQ(s.slices[0].readings.Get(Signal::kFbUsed), 10 * 1048576.0);
  EXPECT_DOUBLE_EQ(s.slices[0].compute_share, 3.0 / 7);
  EXPECT_DOUBLE_EQ(s.slices[1].compute_share, 1.0 / 7);
  EXPECT_EQ(s.slices[0].holders.size(), 1u);
  EXPECT_TRUE(s.gpus[0].holders.empty());
}

TEST(Mapper, SkipsSeriesItCannotPlace) {
  Snapshot s = MapText(
      "DCGM_FI_DEV_FB_USED{hostname=\"n\"} 1\n"                   // no UUID
      "DCGM_FI_DEV_FB_USED{UUID=\"G\"} 1\n"                       // no host
      "up{job=\"x\"} 1\n"                                         // not ours
      "kube_node_labels{label_nvidia_com_gpu_product=\"X\"} 1\n"  // no node
      "kube_pod_container_resource_requests{namespace=\"a\",resource=\"cpu\"} 1\n");
  EXPECT_TRUE(s.gpus.empty());
  EXPECT_TRUE(s.nodes.empty());
  EXPECT_TRUE(s.projects.empty());
  EXPECT_EQ(s.unmapped_series, 2u);  // `up` is not ours: ignored, not unmapped
}

TEST(Mapper, HostileLabelValuesAreKeptVerbatim) {
  Snapshot s = MapText(
      "DCGM_FI_DEV_FB_USED{UUID=\"G\\\"-\\\\x\\n\",hostname=\"n'; DROP TABLE gpu;--\","
      "namespace=\"../../etc\",pod=\"p\"} 1\n");
  ASSERT_EQ(s.gpus.size(), 1u);
  EXPECT_EQ(s.gpus[0].uuid, "G\"-\\x\n");
  EXPECT_EQ(s.nodes[0].name, "n'; DROP TABLE gpu;--");
  EXPECT_EQ(s.projects[0].ns, "../../etc");
}

// An exporter scrape (the text exposition) may carry any bytes in a label value; the snapshot
// holds valid UTF-8 only (U+FFFD for each bad byte), so no answer built from it can fail to
// serialise as JSON.
TEST(Mapper, LabelValuesThatAreNotUtf8AreRepaired) {
  SampleSet set;
  ExpositionOptions o;
  o.default_timestamp_ms = 1000;
  ASSERT_TRUE(ParseExposition(
      "DCGM_FI_DEV_FB_USED{UUID=\"GPU-\xff\",modelName=\"A100\xc3\",hostname=\"n\x80\","
      "cluster=\"c1\",namespace=\"ns-\xed\xa0\x80\",pod=\"p\xfe\",container=\"c\"} 1\n"
      "kube_node_labels{node=\"n\x80\",cluster=\"c1\",label_nvidia_com_gpu_product=\"H\xff\"} 1\n",
      o, &set));
  Mapper m("h", "dflt");
  m.Add(set);
  Snapshot s = m.Finish();
  const std::string r = "\xEF\xBF\xBD";
  ASSERT_EQ(s.gpus.size(), 1u);
  EXPECT_EQ(s.gpus[0].uuid, "GPU-" + r);
  EXPECT_EQ(s.gpus[0].model_name, "A100" + r);
  ASSERT_EQ(s.nodes.size(), 1u);
  EXPECT_EQ(s.nodes[0].name, "n" + r);
  EXPECT_EQ(s.nodes[0].gpu_product, "H" + r);  // node facts still found by the raw name
  ASSERT_EQ(s.projects.size(), 1u);
  EXPECT_EQ(s.projects[0].ns, "ns-" + r + r + r);
  ASSERT_EQ(s.gpus[0].holders.size(), 1u);
  EXPECT_EQ(s.gpus[0].holders[0].pod, "p" + r);
}

TEST(Mapper, NodeFactsAndRequestedProjects) {
  Snapshot s = MapText(
      "DCGM_FI_DEV_FB_USED{UUID=\"G\",hostname=\"n1\",cluster=\"c\"} 1\n"
      "kube_node_labels{node=\"n1\",cluster=\"c\",label_nvidia_com_gpu_product=\"NVIDIA-H100\","
      "label_nvidia_com_mig_strategy=\"mixed\",label_nvidia_com_gpu_memory=\"81559\"} 1\n"
      "kube_node_labels{node=\"cpu1\",cluster=\"c\"} 1\n"
      "kube_pod_container_resource_requests{namespace=\"req\",pod=\"p\",container=\"c\","
      "node=\"n1\",resource=\"nvidia_com_mig_3g_40gb\",unit=\"integer\",cluster=\"c\"} 1\n"
      "kube_pod_container_resource_requests{namespace=\"zero\",resource=\"nvidia_com_gpu\"} 0\n");
  ASSERT_EQ(s.nodes.size(), 1u);  // nodes come from the GPUs' series
  EXPECT_EQ(s.nodes[0].gpu_product, "NVIDIA-H100");
  EXPECT_EQ(s.nodes[0].mig_strategy, "mixed");
  EXPECT_DOUBLE_EQ(s.nodes[0].gpu_memory_mib, 81559);
  ASSERT_EQ(s.projects.size(), 1u);
  EXPECT_EQ(s.projects[0].ns, "req");
}

// The simulator's exposition maps to exactly its fleet.
TEST(Mapper, SimulatedFleetMapsToItsEntities) {
  auto fleet = sim::BuildFleet({.seed = 7, .gpus = 64, .mig_fraction = 0.4, .hubs = 1});
  ASSERT_TRUE(fleet);
  const Timestamp now = FromUnixMillis(1'790'000'000'000);
  std::string text;
  sim::AppendExposition(*fleet, 0, now, &text);
  Snapshot s = MapText(text);
  EXPECT_EQ(s.unmapped_series, 0u);
  EXPECT_EQ(s.gpus.size(), fleet->gpus.size());
  EXPECT_EQ(s.slices.size(), fleet->slices.size());
  EXPECT_EQ(s.nodes.size(), fleet->nodes.size());
  EXPECT_EQ(s.clusters.size(), fleet->hubs[0].clusters.size());
  std::set<std::string> uuids;
  for (const auto& g : s.gpus) {
    EXPECT_LT(g.node, s.nodes.size());
    uuids.insert(g.uuid);
    EXPECT_FALSE(g.model_name.empty());
    EXPECT_FALSE(g.driver_version.empty());
    EXPECT_TRUE(g.readings.Has(Signal::kPower));
    if (!g.mig()) {
      EXPECT_FALSE(std::isnan(MemoryTotalBytes(g.readings)));
      EXPECT_FALSE(std::isnan(Activity(g.readings)));
    }
  }
  EXPECT_EQ(uuids.size(), fleet->gpus.size());
  for (const auto& n : s.nodes) EXPECT_FALSE(n.gpu_product.empty()) << n.name;
}

// The fused path (streamed answers into Mapper::AnswerSink) gives the same Snapshot as parsing
// the same answers into SampleSets and Mapper::Add, on a simulated fleet split into answers.
TEST(Mapper, FusedPathGivesTheSameSnapshotOnASimulatedFleet) {
  auto fleet = sim::BuildFleet({.seed = 3, .gpus = 600, .mig_fraction = 0.3, .hubs = 1});
  ASSERT_TRUE(fleet);
  const Timestamp now = FromUnixMillis(1'790'000'000'000);
  std::string text;
  sim::AppendExposition(*fleet, 0, now, &text);
  // Series the fleet lacks: unmapped ones, a time-sliced GPU, 4.9 units, an unknown metric.
  text +=
      "DCGM_FI_DEV_GPU_TEMP{gpu=\"0\",Hostname=\"x\"} 40\n"
      "DCGM_FI_DEV_GPU_TEMP{UUID=\"GPU-nohost\"} 40\n"
      "other_metric{UUID=\"GPU-t\",hostname=\"h\"} 1\n"
      "DCGM_FI_DEV_SM_CLOCK{UUID=\"GPU-t\",hostname=\"h\",cluster=\"c9\",pod=\"p\","
      "namespace=\"ns\",DCGM_FI_SYSTEM_DRIVER_VERSION=\"580\"} NaN\n"
      "DCGM_FI_DEV_SM_CLOCK{UUID=\"GPU-t\",hostname=\"h\",cluster=\"c9\",pod=\"p2\","
      "namespace=\"ns\",DCGM_FI_SYSTEM_DRIVER_VERSION=\"580\",extra=\"caf\u00e9\"} 1e9\n";
  SampleSet set;
  ExpositionOptions o;
  o.default_timestamp_ms = ToUnixMillis(now);
  ASSERT_TRUE(ParseExposition(text, o, &set));

  // Five answers of consecutive samples, as the collector's family queries return them.
  std::vector<std::string> answers;
  const size_t n = set.size();
  for (size_t i = 0; i < 5; ++i)
    answers.push_back(RenderVectorAnswer(set, n * i / 5, n * (i + 1) / 5));

  Mapper by_sets("h", "dflt");
  for (const std::string& body : answers) {
    Result<SampleSet> parsed = ParsePrometheusResponse(body);
    ASSERT_TRUE(parsed) << parsed.error().message;
    by_sets.Add(*parsed);
  }
  Snapshot want = by_sets.Finish();
  EXPECT_EQ(want.series, n);
  EXPECT_EQ(want.unmapped_series, 2u);
  EXPECT_EQ(want.gpus.size(), fleet->gpus.size() + 1);
  EXPECT_EQ(want.slices.size(), fleet->slices.size());
  for (size_t piece : {size_t{65536}, size_t{1000}, size_t{61}}) {
    ExpectSameSnapshot(want, MapStreamed(answers, "dflt", piece),
                       "pieces of " + std::to_string(piece));
  }
}

// An answer whose transfer broke off and was delivered again maps as if delivered once.
TEST(Mapper, AnswerSinkRestartKeepsCountsExact) {
  auto fleet = sim::BuildFleet({.seed = 5, .gpus = 80, .mig_fraction = 0.5, .hubs = 1});
  ASSERT_TRUE(fleet);
  std::string text;
  sim::AppendExposition(*fleet, 0, FromUnixMillis(1'790'000'000'000), &text);
  SampleSet set;
  ASSERT_TRUE(ParseExposition(text, {}, &set));
  const std::string first = RenderVectorAnswer(set, 0, set.size() / 2);
  const std::string second = RenderVectorAnswer(set, set.size() / 2, set.size());
  Snapshot want = MapStreamed({first, second}, "dflt", 4096);

  Mapper m("h", "dflt");
  PromStreamParser parser;
  {
    Mapper::AnswerSink sink(&m);
    parser.Begin(&sink);
    ASSERT_TRUE(parser.Feed(first));
    ASSERT_TRUE(parser.Finish());
  }
  Mapper::AnswerSink sink(&m);
  parser.Begin(&sink);
  ASSERT_TRUE(parser.Feed(std::string_view(second).substr(0, second.size() * 2 / 3)));
  ASSERT_GT(parser.series(), 0u);
  sink.Restart();  // the transfer broke off: the answer comes again
  parser.Begin(&sink);
  ASSERT_TRUE(parser.Feed(std::string_view(second).substr(0, second.size() / 3)));
  sink.Restart();  // ... twice
  parser.Begin(&sink);
  ASSERT_TRUE(parser.Feed(second));
  ASSERT_TRUE(parser.Finish());
  ExpectSameSnapshot(want, m.Finish(), "restarted");
}

}  // namespace
}  // namespace aitelemetry::collect
