// Times ParsePrometheusResponse on a synthetic 100,000-GPU answer (12 DCGM series per GPU, about
// 1.2 M series) against a bare simdjson DOM parse-and-walk of the same bytes, and reports the
// SampleSet's heap bytes per GPU; then the streaming parser (PromStreamParser, fed 64 KiB pieces)
// alone and fused with the Mapper, as the live collection path runs it.
#include <cstdint>
#include <string>

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <simdjson.h>

#include "collect/mapper.h"
#include "collect/prom_json.h"
#include "collect/prom_stream.h"

namespace aitelemetry::collect {
namespace {

constexpr int kGpus = 100000;
constexpr int kGpusPerNode = 8;
const char* const kMetrics[] = {"DCGM_FI_DEV_GPU_UTIL",
                                "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
                                "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE",
                                "DCGM_FI_PROF_DRAM_ACTIVE",
                                "DCGM_FI_DEV_FB_USED",
                                "DCGM_FI_DEV_FB_FREE",
                                "DCGM_FI_DEV_POWER_USAGE",
                                "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
                                "DCGM_FI_DEV_GPU_TEMP",
                                "DCGM_FI_DEV_SM_CLOCK",
                                "DCGM_FI_DEV_XID_ERRORS",
                                "DCGM_FI_DEV_MEM_CLOCK"};

// Builds the answer Prometheus gives to {__name__=~"DCGM_.*"}: grouped by metric, labels sorted.
const std::string& Answer() {
  static const std::string* answer = [] {
    auto* s = new std::string;
    s->reserve(size_t{330} << 20);
    *s += R"({"status":"success","data":{"resultType":"vector","result":[)";
    bool first = true;
    for (const char* metric : kMetrics) {
      for (int g = 0; g < kGpus; ++g) {
        int node = g / kGpusPerNode;
        int index = g % kGpusPerNode;
        bool held = g % 3 != 0;
        if (!first) *s += ',';
        first = false;
        *s += fmt::format(
            R"({{"metric":{{"__name__":"{}","DCGM_FI_DRIVER_VERSION":"535.104.12","Hostname":"wrk-{}","UUID":"GPU-{:08x}-1c3e-4e0b-9a0e-{:012x}","cluster":"nerc-ocp-{}","container":"kube-rbac-proxy","device":"nvidia{}",)",
            metric, node, g * 2654435761u, g, node % 40, index);
        if (held) {
          *s += fmt::format(
              R"("exported_container":"trainer","exported_namespace":"project-{}","exported_pod":"train-{}-{:x}-0",)",
              g % 500, g / 2, g * 40503u);
        }
        *s += fmt::format(
            R"("gpu":"{}","instance":"10.128.{}.{}:9400","job":"nvidia-dcgm-exporter","modelName":"NVIDIA A100-SXM4-40GB","namespace":"nvidia-gpu-operator","pci_bus_id":"00000000:{:02X}:00.0","pod":"nvidia-dcgm-exporter-{:05x}"}},"value":[1700000000.123,"{}"]}})",
            index, node / 256, node % 256, 7 + index * 8, node, (g * 37) % 101);
      }
    }
    *s += "]}}";
    return s;
  }();
  return *answer;
}

void BM_RawSimdjsonWalk(benchmark::State& state) {
  std::string body = Answer();
  body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  simdjson::dom::parser parser;
  for (auto _ : state) {
    simdjson::dom::element doc;
    if (parser.parse(body.data(), body.size(), false).get(doc)) {
      state.SkipWithError("parse failed");
      return;
    }
    // Touch what any consumer must: every label name and value, each timestamp and value.
    size_t bytes = 0;
    double sum = 0;
    for (simdjson::dom::element series : doc["data"]["result"].get_array()) {
      for (auto field : series["metric"].get_object()) {
        bytes += field.key.size() + std::string_view(field.value.get_string()).size();
      }
      simdjson::dom::array pair = series["value"].get_array();
      sum += double(pair.at(0));
      bytes += std::string_view(pair.at(1).get_string()).size();
    }
    benchmark::DoNotOptimize(bytes);
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_RawSimdjsonWalk)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_ParsePrometheusResponse(benchmark::State& state) {
  std::string body = Answer();
  size_t memory = 0, samples = 0, sets = 0, strings = 0;
  PromJsonParser parser;
  for (auto _ : state) {
    Result<SampleSet> set = parser.ParseInPlace(&body);
    if (!set) {
      state.SkipWithError(set.error().message.c_str());
      return;
    }
    memory = set->MemoryUsage();
    samples = set->size();
    sets = set->label_set_count();
    strings = set->string_count();
    benchmark::DoNotOptimize(set->samples().data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
  state.counters["body_MB"] = static_cast<double>(body.size()) / 1e6;
  state.counters["series"] = static_cast<double>(samples);
  state.counters["label_sets"] = static_cast<double>(sets);
  state.counters["strings"] = static_cast<double>(strings);
  state.counters["bytes_per_gpu"] = static_cast<double>(memory) / kGpus;
}
BENCHMARK(BM_ParsePrometheusResponse)->Unit(benchmark::kMillisecond)->Iterations(3);

// Feeds `body` to `parser` in 64 KiB pieces, as libcurl hands them over.
Status FeedPieces(PromStreamParser& parser, std::string_view body) {
  constexpr size_t kPiece = 64 * 1024;
  for (size_t at = 0; at < body.size(); at += kPiece) {
    if (Status st = parser.Feed(body.substr(at, kPiece)); !st) return st;
  }
  return parser.Finish();
}

// Touches what any consumer must, as BM_RawSimdjsonWalk does.
class TouchSink final : public SeriesSink {
 public:
  Status OnSeries(const SeriesView& s) override {
    for (const SeriesLabel& l : s.labels) bytes += l.name.size() + l.value.size();
    for (const SeriesPoint& p : s.points) sum += p.value + static_cast<double>(p.timestamp_ms);
    return Ok();
  }
  void Restart() override {}
  size_t bytes = 0;
  double sum = 0;
};

void BM_StreamParse(benchmark::State& state) {
  const std::string& body = Answer();
  PromStreamParser parser;
  for (auto _ : state) {
    TouchSink sink;
    parser.Begin(&sink);
    if (Status st = FeedPieces(parser, body); !st) {
      state.SkipWithError(st.error().message.c_str());
      return;
    }
    benchmark::DoNotOptimize(sink.bytes);
    benchmark::DoNotOptimize(sink.sum);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
  state.counters["carry_bytes"] = static_cast<double>(parser.carry_capacity());
}
BENCHMARK(BM_StreamParse)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_StreamParseAndMap(benchmark::State& state) {
  const std::string& body = Answer();
  PromStreamParser parser;
  size_t gpus = 0;
  for (auto _ : state) {
    Mapper mapper("hub", "cluster");
    Mapper::AnswerSink sink(&mapper);
    parser.Begin(&sink);
    if (Status st = FeedPieces(parser, body); !st) {
      state.SkipWithError(st.error().message.c_str());
      return;
    }
    Snapshot snap = mapper.Finish();
    gpus = snap.gpus.size();
    benchmark::DoNotOptimize(snap.gpus.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
  state.counters["gpus"] = static_cast<double>(gpus);
}
BENCHMARK(BM_StreamParseAndMap)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace aitelemetry::collect

BENCHMARK_MAIN();
