// Collector sync at fleet scale: a simulated fleet (default 100,000 GPUs) rendered as the
// Prometheus JSON answers the collector's family queries get, then
//   1. a raw simdjson DOM parse of the same bytes (the floor),
//   2. parse + map (each answer fed in 64 KiB pieces, as libcurl hands them over, to the streaming
//      PromStreamParser, whose series go straight into the Mapper: no SampleSet), and
//   3. a full HubSyncer::SyncOnce into SQLite (parse + map + one store transaction),
// with wall times and peak RSS. Usage: collect_sync_bench [GPUS] [DB_PATH]. Prints figures; never
// fails on timing. See bench/RESULTS.md.
#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>

#include "collect/exposition.h"
#include "collect/hub_syncer.h"
#include "collect/metric_catalog.h"
#include "collect/prom_stream.h"
#include "collect/test_util.h"
#include "sim/exposition.h"
#include "sim/fleet.h"

namespace aitelemetry::collect {
namespace {

double PeakRssMiB() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

// The kernel's resident high-water mark (VmHWM), which clear_refs "5" restarts.
double HighWaterMiB() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
  }
  return 0;
}

double CurrentRssMiB() {
  std::ifstream in("/proc/self/statm");
  long pages = 0, resident = 0;
  in >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1048576.0;
}

// The answer of each family query, as Prometheus would write it.
std::vector<std::string> RenderAnswers(const SampleSet& set, double ts) {
  int count = 0;
  const FamilyQuery* families = FamilyQueries(&count);
  std::vector<std::string> out(static_cast<size_t>(count));
  for (auto& body : out) body = R"({"status":"success","data":{"resultType":"vector","result":[)";
  std::vector<bool> first(out.size(), true);
  std::string ts_text = fmt::format("{:.3f}", ts);
  for (const Sample& s : set.samples()) {
    Signal sig = ClassifyMetric(set.Metric(s)).signal;
    int f = -1;
    for (int i = 0; i < count && f < 0; ++i) {
      Signal want = ClassifyMetric(families[i].stem).signal;
      if (want == sig) f = i;
      if (std::string_view(families[i].stem) == "DCGM_FI_DEV_REMAPPED_ROWS" &&
          (sig == Signal::kRemappedRowsCorrectable || sig == Signal::kRemappedRowsUncorrectable ||
           sig == Signal::kRowRemapFailure)) {
        f = i;
      }
    }
    if (f < 0) continue;
    std::string& b = out[static_cast<size_t>(f)];
    if (!first[static_cast<size_t>(f)]) b.push_back(',');
    first[static_cast<size_t>(f)] = false;
    testing::AppendVectorSeries(set, s, &b, ts_text);
  }
  for (auto& body : out) body += "]}}";
  return out;
}

// Serves the prepared answers as PrometheusSnapshotSource receives them: each body in 64 KiB
// pieces (as libcurl hands them over) to the streaming parser, whose series go to the Mapper.
class PreparedSource : public SnapshotSource {
 public:
  explicit PreparedSource(const std::vector<std::string>* answers) : answers_(answers) {}
  Status Collect(Timestamp, Mapper* mapper) override {
    constexpr size_t kPiece = 64 * 1024;
    for (const std::string& a : *answers_) {
      Mapper::AnswerSink sink(mapper);
      parser_.Begin(&sink);
      const std::string_view body(a);
      for (size_t at = 0; at < body.size(); at += kPiece) {
        if (Status st = parser_.Feed(body.substr(at, kPiece)); !st) return st;
      }
      if (Status st = parser_.Finish(); !st) return st;
    }
    return Ok();
  }
  Result<std::vector<SampleSet>> CollectRange(Timestamp, Timestamp, Nanos, Nanos) override {
    return Fail(ErrorCode::kFailedPrecondition, "none");
  }
  bool has_history() const override { return false; }
  std::string Describe() const override { return "prepared"; }

 private:
  const std::vector<std::string>* answers_;
  PromStreamParser parser_;
};

double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// CPU seconds of the whole process so far (all threads): on a shared machine a steadier figure
// than wall time, which counts the time other processes held the cores.
double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int Main(int argc, char** argv) {
  const int gpus = argc > 1 ? std::atoi(argv[1]) : 100000;
  const std::string db = argc > 2 ? argv[2] : "/tmp/collect_sync_bench.db";
  auto fleet = sim::BuildFleet({.seed = 1, .gpus = gpus, .mig_fraction = 0.2, .hubs = 1});
  if (!fleet) return 1;
  const Timestamp now = FromUnixMillis(1'790'006'400'000);
  // The fleet's answers at `now` and 30 s later: a sync of the later ones sees the readings,
  // states and holders of a live fleet move on, as the worker's every sync does.
  std::vector<std::string> answers, later;
  size_t bytes = 0;
  for (int k = 0; k < 2; ++k) {
    const Timestamp t = now + std::chrono::seconds(30 * k);
    std::string text;
    sim::AppendExposition(*fleet, 0, t, &text);
    SampleSet set;
    ExpositionOptions o;
    o.default_timestamp_ms = ToUnixMillis(t);
    if (auto st = ParseExposition(text, o, &set); !st) {
      fmt::print(stderr, "{}\n", st.error().message);
      return 1;
    }
    (k == 0 ? answers : later) = RenderAnswers(set, ToUnixSeconds(t));
    if (k > 0) continue;
    for (const auto& a : answers) bytes += a.size();
    fmt::print("fleet: {} GPUs, {} MIG slices, {} series in {} answers, {:.0f} MB of JSON\n",
               fleet->gpus.size(), fleet->slices.size(), set.size(), answers.size(), bytes / 1e6);
  }

  const double rss_base = CurrentRssMiB();

  // 1. Raw simdjson parse of the same bytes.
  {
    simdjson::dom::parser parser;
    auto t = std::chrono::steady_clock::now();
    const double cpu = CpuSeconds();
    size_t results = 0;
    for (const std::string& a : answers) {
      simdjson::padded_string p(a);
      simdjson::dom::element doc;
      if (parser.parse(p).get(doc)) return 1;
      simdjson::dom::array r;
      if (doc["data"]["result"].get_array().get(r)) return 1;
      results += r.size();
    }
    fmt::print("raw simdjson parse (incl. padding copy): {:.3f} s, cpu {:.3f} s ({} series)\n",
               Since(t), CpuSeconds() - cpu, results);
  }
  // 2. Parse + map.
  {
    // Heap bytes in use, which (unlike RSS) do not hide what reuses memory freed by step 1.
    auto heap_in_use = [] {
      struct mallinfo2 m = mallinfo2();
      return static_cast<double>(m.uordblks + m.hblkhd) / 1048576.0;
    };
    PreparedSource source(&answers);
    Mapper mapper(fleet->hubs[0].name, fleet->hubs[0].name);
    const double before = CurrentRssMiB();
    const double heap_before = heap_in_use();
    auto t = std::chrono::steady_clock::now();
    const double cpu = CpuSeconds();
    if (auto st = source.Collect(now, &mapper); !st) {
      fmt::print(stderr, "{}\n", st.error().message);
      return 1;
    }
    Snapshot snap = mapper.Finish();
    const double secs = Since(t);
    const double after = CurrentRssMiB();
    const double heap_after = heap_in_use();
    fmt::print(
        "parse + map: {:.3f} s, cpu {:.3f} s -> {} series, {} GPUs, {} slices, {} nodes, {} "
        "projects\n",
        secs, CpuSeconds() - cpu, snap.series, snap.gpus.size(), snap.slices.size(),
        snap.nodes.size(), snap.projects.size());
    fmt::print("snapshot resident growth: {:.1f} MiB = {:.0f} bytes per GPU\n", after - before,
               (after - before) * 1048576.0 / static_cast<double>(snap.gpus.size()));
    fmt::print(
        "heap in use after parse + map (snapshot, mapper, parser): +{:.1f} MiB = {:.0f} "
        "bytes per GPU\n",
        heap_after - heap_before,
        (heap_after - heap_before) * 1048576.0 / static_cast<double>(snap.gpus.size()));
  }
  // 3. Full sync into SQLite, twice (first inserts, second updates).
  std::filesystem::remove(db);
  std::filesystem::remove(db + "-wal");
  std::filesystem::remove(db + "-shm");
  auto store = store::Store::Open({"sqlite:" + db, 2, true});
  if (!store) {
    fmt::print(stderr, "{}\n", store.error().message);
    return 1;
  }
  HubSyncOptions ho;
  ho.hub = fleet->hubs[0].name;
  ho.interval = std::chrono::seconds(30);
  // The syncs' own peak: the raw simdjson step above (a ceiling, not part of a sync) set one of
  // its own. Freed memory goes back to the system and the kernel's high-water mark restarts.
  malloc_trim(0);
  std::ofstream("/proc/self/clear_refs") << "5";
  const double sync_base = CurrentRssMiB();
  {
    struct mallinfo2 mi = mallinfo2();
    fmt::print("  heap in use before syncs: {:.0f} MiB\n",
               static_cast<double>(mi.uordblks + mi.hblkhd) / 1048576.0);
  }
  // Sync #1 inserts the fleet; #2 and #3 update it with the answers of 30 s later and back
  // again, so every sync sees readings, states and holders that changed since the one before.
  HubSyncer syncer(ho, **store, std::make_unique<PreparedSource>(&answers));
  double sync_peak = 0;
  for (int i = 0; i < 3; ++i) {
    if (i > 0) {
      answers.swap(later);
      // The worker syncs every 30 s; the store's checkpointer copies the last sync's pages back
      // into the file in between. A short pause lets it finish, as the interval would.
      std::this_thread::sleep_for(std::chrono::seconds(3));
    }
    // This sync's own high-water mark, above what was resident before it.
    const double hwm_before = HighWaterMiB();
    std::ofstream("/proc/self/clear_refs") << "5";
    const double rss_before = CurrentRssMiB();
    auto t = std::chrono::steady_clock::now();
    const double cpu = CpuSeconds();
    auto r = syncer.SyncOnce(now + std::chrono::seconds(30 * i));
    const double this_peak = HighWaterMiB();
    sync_peak = std::max({sync_peak, hwm_before, this_peak});
    if (!r) {
      fmt::print(stderr, "{}\n", r.error().message);
      return 1;
    }
    fmt::print(
        "full sync #{} (parse + map + store): {:.3f} s, cpu {:.3f} s (collect {:.3f} s, store "
        "{:.3f} s), {} entities, {} allocations opened, {} closed, {} gone\n",
        i + 1, Since(t), CpuSeconds() - cpu, r->collect_seconds, r->store_seconds,
        r->counts.entities, r->counts.allocations_opened, r->counts.allocations_closed,
        r->counts.gone);
    struct mallinfo2 mi = mallinfo2();
    fmt::print(
        "  heap in use after sync: {:.0f} MiB, RSS {:.0f} MiB (peak during it {:.0f} MiB: {:.0f} "
        "MiB above the sync before it, {:.0f} MiB above the start of the syncs)\n",
        static_cast<double>(mi.uordblks + mi.hblkhd) / 1048576.0, CurrentRssMiB(), this_peak,
        this_peak - rss_before, this_peak - sync_base);
  }
  sync_peak = std::max(sync_peak, HighWaterMiB());
  // A restarted worker: a new syncer loads its mirror of the hub from the store first.
  {
    answers.swap(later);
    HubSyncer restarted(ho, **store, std::make_unique<PreparedSource>(&answers));
    auto t = std::chrono::steady_clock::now();
    auto r = restarted.SyncOnce(now + std::chrono::seconds(90));
    if (!r) {
      fmt::print(stderr, "{}\n", r.error().message);
      return 1;
    }
    fmt::print(
        "sync after a restart (mirror loaded from the store): {:.3f} s (store {:.3f} s), "
        "{} entities, {} gone\n",
        Since(t), r->store_seconds, r->counts.entities, r->counts.gone);
  }
  fmt::print(
      "RSS: baseline with answers held {:.0f} MiB, peak {:.0f} MiB; peak above baseline "
      "{:.0f} MiB = {:.0f} bytes per GPU\n",
      rss_base, PeakRssMiB(), PeakRssMiB() - rss_base,
      (PeakRssMiB() - rss_base) * 1048576.0 / static_cast<double>(fleet->gpus.size()));
  fmt::print(
      "RSS of the syncs: before {:.0f} MiB (answers held, store open), peak {:.0f} MiB; "
      "{:.0f} MiB = {:.0f} bytes per GPU, with the store's SQLite page caches\n",
      sync_base, sync_peak, sync_peak - sync_base,
      (sync_peak - sync_base) * 1048576.0 / static_cast<double>(fleet->gpus.size()));
  return 0;
}

}  // namespace
}  // namespace aitelemetry::collect

int main(int argc, char** argv) { return aitelemetry::collect::Main(argc, argv); }
