// Webhook ingest throughput with durable storage: Alertmanager-shaped bodies of N alerts each go
// through trace::AlertService::Ingest (inbox, sessions, outbox, one transaction per body) into a
// fresh SQLite file. Prints alerts per second for firing bodies, then for their resolutions, and
// the process's CPU time for each (steadier than wall time on a shared machine).
//   build/bench/alerts_ingest_bench [ALERTS_TOTAL] [ALERTS_PER_BODY] [DB_PATH]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "core/time.h"
#include "store/store.h"
#include "trace/alert_service.h"

using namespace aitelemetry;

namespace {

// CPU seconds (user + system) this process has used so far.
double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::string Body(int first, int count, bool resolved) {
  std::string alerts;
  for (int i = first; i < first + count; ++i) {
    if (!alerts.empty()) alerts += ',';
    alerts += fmt::format(
        R"({{"status":"{}","labels":{{"alertname":"GpuWorkloadActive","aitelemetry":"session",)"
        R"("cluster":"c{}","namespace":"proj-{}","pod":"pod-{}","container":"main",)"
        R"("UUID":"GPU-{:08x}-0000-0000-0000-000000000000","modelName":"NVIDIA A100-SXM4-80GB"}},)"
        R"("annotations":{{}},"startsAt":"2026-11-01T00:00:00Z","endsAt":"{}",)"
        R"("generatorURL":"http://prometheus/graph","fingerprint":"{:016x}"}})",
        resolved ? "resolved" : "firing", i % 4, i % 50, i, i,
        resolved ? "2026-11-01T01:00:00Z" : "0001-01-01T00:00:00Z", 0x5eed0000ULL + i);
  }
  return fmt::format(
      R"({{"version":"4","groupKey":"{{}}:{{}}","truncatedAlerts":0,"status":"{}","receiver":"aitelemetry",)"
      R"("groupLabels":{{}},"commonLabels":{{}},"commonAnnotations":{{}},"externalURL":"http://am",)"
      R"("alerts":[{}]}})",
      resolved ? "resolved" : "firing", alerts);
}

}  // namespace

int main(int argc, char** argv) {
  int total = argc > 1 ? std::atoi(argv[1]) : 20000;
  int per_body = argc > 2 ? std::atoi(argv[2]) : 200;
  std::string path = argc > 3 ? argv[3] : "/tmp/aitelemetry-alerts-bench.db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  auto store = store::Store::Open({"sqlite:" + path, 2, true});
  if (!store) {
    fmt::print(stderr, "store: {}\n", store.error().message);
    return 1;
  }
  trace::AlertOptions options;
  options.default_hub = "bench";
  options.default_cluster = "c0";
  trace::AlertService service(**store, options);
  for (bool resolved : {false, true}) {
    auto start = std::chrono::steady_clock::now();
    const double cpu_start = CpuSeconds();
    int sessions = 0;
    for (int first = 0; first < total; first += per_body) {
      auto r = service.Ingest(Body(first, std::min(per_body, total - first), resolved), Now());
      if (!r) {
        fmt::print(stderr, "ingest: {}\n", r.error().message);
        return 1;
      }
      sessions += static_cast<int>(resolved ? r->sessions_closed : r->sessions_opened);
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double cpu = CpuSeconds() - cpu_start;
    fmt::print(
        "{:8} {} alerts in bodies of {}: {:.2f} s, {:.0f} alerts/s, cpu {:.2f} s ({:.0f} alerts "
        "per cpu-second), sessions {} {}\n",
        resolved ? "resolved" : "firing", total, per_body, s, total / s, cpu, total / cpu,
        resolved ? "closed" : "opened", sessions);
  }
  return 0;
}
