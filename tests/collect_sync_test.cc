// End-to-end collector tests against real peers on loopback: the simulator (as a subprocess),
// Debian's Prometheus (scraping it live, or loaded with a week of history through promtool) and
// the `aitelemetry sync` command. Labelled "integration".
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/registry.h"
#include "sim/fleet.h"
#include "store/store.h"
#include "testing/process.h"
#include "testing/sim_time.h"

namespace aitelemetry {
namespace {

namespace fs = std::filesystem;
using test_support::FreePort;
using test_support::Process;
using test_support::Shell;
using test_support::Slurp;
const std::string kBinary = std::string(AITELEMETRY_BINARY_DIR) + "/aitelemetry";

// The test's simulated instant (testing/sim_time.h) aligned down to `slot`.
Timestamp SimAtAligned(Nanos slot) {
  return Timestamp{test_support::TestSimAt().time_since_epoch() / slot * slot};
}

// Waits until `command` exits 0, up to `seconds`.
bool WaitFor(const std::string& command, int seconds) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (Shell(command + " > /dev/null 2>&1") == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return false;
}

class CollectSync : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access("/usr/bin/prometheus", X_OK) != 0 ||
        Shell("command -v promtool >/dev/null") != 0) {
      GTEST_FAIL() << "prometheus/promtool not installed (scripts/setup installs them)";
    }
    dir_ = fs::path(::testing::TempDir()) /
           ("aitel-collect-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    if (!HasFailure()) fs::remove_all(dir_, ec);
  }

  std::unique_ptr<store::Store> OpenDb(const std::string& name) {
    auto s = store::Store::Open({"sqlite:" + (dir_ / name).string(), 1, false});
    EXPECT_TRUE(s) << s.error().message;
    return s ? std::move(*s) : nullptr;
  }
  static std::vector<model::Record> Rows(store::Store& s, const char* model,
                                         std::vector<store::Filter> filters = {}) {
    store::QuerySpec spec;
    spec.rows = 10'000'000;
    spec.filters = std::move(filters);
    auto r = s.Query(*model::FindModel(model), spec, store::Scope::All());
    EXPECT_TRUE(r) << r.error().message;
    return r ? r->rows : std::vector<model::Record>{};
  }
  std::unique_ptr<Process> StartPrometheus(const std::string& config_yaml, const fs::path& data,
                                           std::string* url) {
    int port = FreePort();
    *url = "http://127.0.0.1:" + std::to_string(port);
    std::ofstream(dir_ / "prometheus.yml") << config_yaml;
    auto p = std::make_unique<Process>(
        "/usr/bin/prometheus --config.file='" + (dir_ / "prometheus.yml").string() +
            "' --storage.tsdb.path='" + data.string() +
            "' --storage.tsdb.retention.time=30d --web.listen-address=127.0.0.1:" +
            std::to_string(port) + " --log.level=warn",
        dir_ / "prometheus.log");
    EXPECT_TRUE(WaitFor("curl -fsS " + *url + "/-/ready", 60)) << Slurp(dir_ / "prometheus.log");
    return p;
  }

  fs::path dir_;
};

// A week of 16 simulated GPUs (half with MIG; 64 GPUs at 5 m make a 690 MB file that promtool
// needs minutes for), backfilled into Prometheus with promtool, rebuilt by
// `sync --backfill`: per-project GPU-hours agree with the simulator's truth to 0.1 %.
TEST_F(CollectSync, BackfillOfAWeekMatchesGroundTruth) {
  const fs::path om = dir_ / "history.om", truth_file = dir_ / "truth.json";
  const std::string end = FormatRfc3339(SimAtAligned(std::chrono::minutes(10)));
  ASSERT_EQ(Shell(kBinary + " simulate --history 7d --end " + end + " --out '" + om.string() +
                  "' --truth '" + truth_file.string() +
                  "' --gpus 16 --step 10m --mig-fraction 0.5 --seed 5 > '" +
                  (dir_ / "sim.log").string() + "' 2>&1"),
            0)
      << Slurp(dir_ / "sim.log");
  ASSERT_EQ(Shell("promtool tsdb create-blocks-from openmetrics '" + om.string() + "' '" +
                  (dir_ / "data").string() + "' > '" + (dir_ / "promtool.log").string() + "' 2>&1"),
            0)
      << Slurp(dir_ / "promtool.log");
  fs::remove(om);
  const auto truth = nlohmann::json::parse(Slurp(truth_file));
  std::string url;
  auto prom = StartPrometheus("global: {scrape_interval: 1m}\n", dir_ / "data", &url);

  std::ofstream(dir_ / "cfg.yaml")
      << "db: sqlite:" << (dir_ / "a.db").string()
      << "\ninterval: 10m\nhubs:\n  - name: " << truth["hubs"][0].get<std::string>()
      << "\n    prometheus: {url: \"" << url << "\"}\n";
  const std::string window =
      truth["from"].get<std::string>() + ".." + truth["to"].get<std::string>();
  const std::string sync = kBinary + " sync --config '" + (dir_ / "cfg.yaml").string() +
                           "' --backfill " + window + " --step 10m";
  ASSERT_EQ(Shell(sync + " > '" + (dir_ / "backfill.log").string() + "' 2>&1"), 0)
      << Slurp(dir_ / "backfill.log");
  const std::string log = Slurp(dir_ / "backfill.log");
  // Progress: a line per day or per 10 %, the last at 100 %.
  EXPECT_NE(log.find("hours (100%)"), std::string::npos) << log;
  EXPECT_GE(std::count(log.begin(), log.end(), '\n'), 8) << log;

  auto totals = [&] {
    auto db = OpenDb("a.db");
    std::map<std::string, double> got;
    for (const auto& r : Rows(*db, "usage")) {
      if (model::IsNull(r.Get("project"))) continue;
      got[model::ProjectKey(r.GetString("hub"), r.GetString("cluster"), r.GetString("project"))] +=
          std::get<double>(r.Get("gpu_equivalent_seconds"));
    }
    return got;
  };
  auto first = totals();
  double want_total = 0, got_total = 0;
  for (const auto& [project, seconds] : truth["gpu_seconds_by_project"].items()) {
    const double want = seconds.get<double>();
    want_total += want;
    got_total += first[project];
    EXPECT_NEAR(first[project], want, std::max(1.0, want * 0.001)) << project;
  }
  for (const auto& [project, seconds] : first) {
    EXPECT_TRUE(truth["gpu_seconds_by_project"].contains(project)) << project;
  }
  EXPECT_GT(want_total, 0);
  EXPECT_NEAR(got_total, want_total, want_total * 0.001);
  // Rebuilding the same window again gives the same rows.
  ASSERT_EQ(Shell(sync + " > /dev/null 2>&1"), 0);
  EXPECT_EQ(totals(), first);
}

// Live: Prometheus scrapes the simulator every second; `sync --once` sees every entity exactly
// once, the direct-exporter path sees the same ones, and a dead hub fails alone, by name.
TEST_F(CollectSync, LiveSyncThroughPrometheusAndExporterAgree) {
  // The simulated clock starts 30 s into the first slot from the test's instant that holds an
  // allocation, so the whole test runs inside that slot (workloads change only at its ends) and
  // both paths see the same holdings.
  sim::FleetOptions fleet_options;
  fleet_options.seed = 9;
  fleet_options.gpus = 48;
  fleet_options.mig_fraction = 0.5;
  auto fleet = sim::BuildFleet(fleet_options);
  ASSERT_TRUE(fleet) << fleet.error().message;
  const Timestamp slot_start = test_support::FirstHeldSlot(*fleet, test_support::TestSimAt(), 1);
  ASSERT_NE(slot_start, Timestamp::max());
  const auto sim_started = std::chrono::steady_clock::now();
  const int sim_port = FreePort();
  const std::string sim_url = "http://127.0.0.1:" + std::to_string(sim_port);
  Process sim(kBinary + " simulate --gpus 48 --seed 9 --mig-fraction 0.5 --at " +
                  FormatRfc3339(slot_start + std::chrono::seconds(30)) +
                  " --listen 127.0.0.1:" + std::to_string(sim_port),
              dir_ / "sim.log");
  ASSERT_TRUE(WaitFor("curl -fsS " + sim_url + "/healthz", 30)) << Slurp(dir_ / "sim.log");
  std::string prom_url;
  auto prom = StartPrometheus(
      "global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: dcgm\n    honor_labels: "
      "true\n    static_configs: [{targets: ['127.0.0.1:" +
          std::to_string(sim_port) + "']}]\n",
      dir_ / "data", &prom_url);
  ASSERT_TRUE(WaitFor("curl -fsS '" + prom_url +
                          "/api/v1/query?query=count(kube_node_labels)' | grep -q '\"value\"'",
                      60));
  // Let the sync's evaluation time (rounded down to the 2 s interval) fall after the first scrape.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  ASSERT_EQ(Shell("curl -fsS " + sim_url + "/truth > '" + (dir_ / "truth.json").string() + "'"), 0);
  const auto truth = nlohmann::json::parse(Slurp(dir_ / "truth.json"));
  const std::string hub = truth["hubs"][0];
  std::ofstream(dir_ / "prom.yaml")
      << "db: sqlite:" << (dir_ / "prom.db").string() << "\ninterval: 2s\nhubs:\n  - name: " << hub
      << "\n    prometheus: {url: \"" << prom_url
      << "\", timeout: 5s, retries: 0}\n  - name: broken\n"
      << "    prometheus: {url: \"http://127.0.0.1:" << FreePort()
      << "\", timeout: 2s, retries: 0}\n";
  std::ofstream(dir_ / "exp.yaml")
      << "db: sqlite:" << (dir_ / "exp.db").string() << "\ninterval: 10s\nhubs:\n  - name: " << hub
      << "\n    exporters: [{url: \"" << sim_url << "/metrics\"}]\n";
  const int rc =
      Shell(kBinary + " sync --once --config '" + (dir_ / "prom.yaml").string() + "' > '" +
            (dir_ / "prom.out").string() + "' 2> '" + (dir_ / "prom.err").string() + "'");
  EXPECT_EQ(rc, 1);
  const std::string err = Slurp(dir_ / "prom.err");
  EXPECT_NE(err.find("hub broken failed"), std::string::npos) << err;
  EXPECT_EQ(err.find("hub " + hub + " failed"), std::string::npos) << err;
  ASSERT_EQ(Shell(kBinary + " sync --once --config '" + (dir_ / "exp.yaml").string() + "' > '" +
                  (dir_ / "exp.out").string() + "' 2>&1"),
            0)
      << Slurp(dir_ / "exp.out");

  // Both syncs ran inside the simulated slot (it has 9.5 minutes left when the simulator starts).
  ASSERT_LT(std::chrono::steady_clock::now() - sim_started, std::chrono::seconds(570))
      << "the test outran its simulated slot; its comparison would be meaningless";

  auto prom_db = OpenDb("prom.db");
  auto exp_db = OpenDb("exp.db");
  auto keys = [&](store::Store& s, const char* model) {
    std::multiset<std::string> out;
    for (const auto& r : Rows(s, model, {store::Filter::Eq("hub", hub)})) {
      out.insert(model == std::string("allocation")
                     ? r.GetString("device_key") + "|" + r.GetString("pod")
                     : r.Key());
    }
    return out;
  };
  // Every GPU, slice, node and cluster of the truth exactly once.
  std::multiset<std::string> want_gpus, want_slices, want_nodes, want_clusters;
  std::map<std::string, std::string> gpu_key_by_uuid;
  for (const auto& g : truth["gpus"]) {
    std::string key = model::GpuKey(g["hub"].get<std::string>(), g["cluster"].get<std::string>(),
                                    g["node"].get<std::string>(), g["uuid"].get<std::string>());
    gpu_key_by_uuid[g["uuid"]] = key;
    want_gpus.insert(key);
  }
  for (const auto& s : truth["slices"]) {
    want_slices.insert(
        model::SliceKey(gpu_key_by_uuid[s["gpu_uuid"]], std::to_string(s["gpu_i_id"].get<int>())));
  }
  for (const auto& n : truth["nodes"]) {
    want_nodes.insert(model::NodeKey(n["hub"].get<std::string>(), n["cluster"].get<std::string>(),
                                     n["name"].get<std::string>()));
  }
  for (const auto& c : truth["clusters"]) {
    want_clusters.insert(
        model::ClusterKey(c["hub"].get<std::string>(), c["name"].get<std::string>()));
  }
  EXPECT_EQ(keys(*prom_db, "gpu"), want_gpus);
  EXPECT_EQ(keys(*prom_db, "gpu-slice"), want_slices);
  EXPECT_EQ(keys(*prom_db, "node"), want_nodes);
  EXPECT_EQ(keys(*prom_db, "cluster"), want_clusters);
  std::set<std::string> truth_projects;
  for (const auto& p : truth["projects"]) {
    truth_projects.insert(model::ProjectKey(p["hub"].get<std::string>(),
                                            p["cluster"].get<std::string>(),
                                            p["namespace"].get<std::string>()));
  }
  for (const auto& k : keys(*prom_db, "project")) EXPECT_TRUE(truth_projects.contains(k)) << k;
  EXPECT_FALSE(keys(*prom_db, "allocation").empty());
  // The exporter path: the same entities and holdings.
  for (const char* m : {"gpu", "gpu-slice", "node", "cluster", "project", "allocation"}) {
    EXPECT_EQ(keys(*prom_db, m), keys(*exp_db, m)) << m;
  }
  auto broken = Rows(*prom_db, "hub", {store::Filter::Eq("name", std::string("broken"))});
  ASSERT_EQ(broken.size(), 1u);
  EXPECT_FALSE(broken[0].GetString("last_error").empty());
}

// The worker's /metrics, after a sync, passes `promtool check metrics`.
TEST_F(CollectSync, WorkerMetricsPassPromtool) {
  const int sim_port = FreePort(), app_port = FreePort();
  Process sim(kBinary + " simulate --gpus 16 --seed 4 --at " +
                  FormatRfc3339(test_support::TestSimAt()) +
                  " --listen 127.0.0.1:" + std::to_string(sim_port),
              dir_ / "sim.log");
  ASSERT_TRUE(WaitFor("curl -fsS http://127.0.0.1:" + std::to_string(sim_port) + "/healthz", 30));
  std::ofstream(dir_ / "w.yaml") << "db: sqlite:" << (dir_ / "w.db").string()
                                 << "\ninterval: 60s\nhubs:\n  - name: sim\n    exporters: [{url: "
                                    "\"http://127.0.0.1:"
                                 << sim_port << "/metrics\"}]\n  - name: down\n    exporters: "
                                 << "[{url: \"http://127.0.0.1:" << FreePort() << "/metrics\"}]\n";
  Process worker(kBinary + " worker --config '" + (dir_ / "w.yaml").string() +
                     "' --listen 127.0.0.1:" + std::to_string(app_port),
                 dir_ / "worker.log");
  const std::string metrics = "http://127.0.0.1:" + std::to_string(app_port) + "/metrics";
  ASSERT_TRUE(
      WaitFor("curl -fsS " + metrics +
                  " | grep -q 'aitelemetry_last_successful_sync_timestamp_seconds{hub=\"sim\"}'",
              60))
      << Slurp(dir_ / "worker.log");
  ASSERT_TRUE(WaitFor(
      "curl -fsS " + metrics + " | grep -q 'aitelemetry_sync_errors_total{hub=\"down\"}'", 30));
  ASSERT_EQ(Shell("curl -fsS " + metrics + " > '" + (dir_ / "metrics.txt").string() + "'"), 0);
  const std::string text = Slurp(dir_ / "metrics.txt");
  for (const char* name :
       {"aitelemetry_sync_duration_seconds_bucket", "aitelemetry_series_parsed_total",
        "aitelemetry_entities{model=\"gpu\"", "aitelemetry_sync_errors_total"}) {
    EXPECT_NE(text.find(name), std::string::npos) << name << "\n" << text;
  }
  EXPECT_EQ(Shell("promtool check metrics < '" + (dir_ / "metrics.txt").string() + "' > '" +
                  (dir_ / "promtool.out").string() + "' 2>&1"),
            0)
      << Slurp(dir_ / "promtool.out");
}

}  // namespace
}  // namespace aitelemetry
