// Throughput of the simulator's hot path: rendering /metrics for a 100,000-GPU fleet.
#include <benchmark/benchmark.h>

#include "sim/exposition.h"
#include "sim/fleet.h"

namespace aitelemetry::sim {
namespace {

void BM_RenderExposition(benchmark::State& state) {
  auto fleet = BuildFleet({.seed = 1, .gpus = static_cast<int>(state.range(0))});
  if (!fleet) {
    state.SkipWithError(fleet.error().ToString().c_str());
    return;
  }
  // One hub: every GPU is served by it.
  Timestamp now = Timestamp(std::chrono::seconds(1'767'225'600));
  size_t bytes = 0;
  size_t lines = 0;
  // A server keeps its buffer between scrapes: clear() keeps the capacity, so page faults of a
  // fresh half-gigabyte string are not counted against every render.
  std::string out;
  for (auto _ : state) {
    out.clear();
    AppendExposition(*fleet, 0, now, &out);
    bytes = out.size();
    benchmark::DoNotOptimize(out.data());
    now += std::chrono::seconds(30);
    state.PauseTiming();
    lines = 0;
    for (char c : out) lines += c == '\n';
    state.ResumeTiming();
  }
  state.counters["bytes"] = static_cast<double>(bytes);
  state.counters["lines"] = static_cast<double>(lines);
  state.SetBytesProcessed(static_cast<int64_t>(bytes) * state.iterations());
}
BENCHMARK(BM_RenderExposition)->Arg(1000)->Arg(100'000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace aitelemetry::sim

BENCHMARK_MAIN();
