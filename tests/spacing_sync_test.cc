// Usage history is right whatever the hub's sample spacing: simulated histories sampled every
// 15 s, 60 s and 300 s, loaded into Debian's Prometheus through promtool blocks, then rebuilt by
// a backfill with the default settings and by live syncs at pinned evaluation times, at intervals
// shorter and longer than the spacing. Labelled "integration".
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "collect/hub_syncer.h"
#include "collect/snapshot_source.h"
#include "core/time.h"
#include "model/registry.h"
#include "sim/fleet.h"
#include "sim/history.h"
#include "sim/truth.h"
#include "store/store.h"
#include "testing/process.h"

namespace aitelemetry {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::seconds;
using test_support::FreePort;
using test_support::Process;
using test_support::Shell;
using test_support::Slurp;

// The window every history covers: three hours ending at a whole slot.
const Timestamp kTo = *ParseRfc3339("2026-03-02T06:00:00Z");
const Timestamp kFrom = kTo - hours(3);

bool WaitFor(const std::string& command, int limit_seconds) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(limit_seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (Shell(command + " > /dev/null 2>&1") == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return false;
}

class SpacingSync : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access("/usr/bin/prometheus", X_OK) != 0 ||
        Shell("command -v promtool >/dev/null") != 0) {
      GTEST_FAIL() << "prometheus/promtool not installed (scripts/setup installs them)";
    }
    dir_ = fs::path(::testing::TempDir()) /
           ("aitel-spacing-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto fleet = sim::BuildFleet({.seed = 11, .gpus = 16, .mig_fraction = 0.5});
    ASSERT_TRUE(fleet);
    fleet_ = std::move(*fleet);
  }
  void TearDown() override {
    prom_.reset();
    std::error_code ec;
    if (!HasFailure()) fs::remove_all(dir_, ec);
  }

  // Writes the fleet's history of [kFrom, kTo) sampled every `spacing`, loads it into a fresh
  // Prometheus through promtool, and returns its URL.
  std::string LoadHistory(Nanos spacing) {
    prom_.reset();
    const std::string name = std::to_string(spacing.count() / 1'000'000'000) + "s";
    const fs::path om = dir_ / ("history-" + name + ".om");
    const fs::path data = dir_ / ("data-" + name);
    {
      std::ofstream out(om);
      auto st = sim::WriteHistory(fleet_, kFrom, kTo, spacing, out);
      EXPECT_TRUE(st) << st.error().message;
    }
    EXPECT_EQ(Shell("promtool tsdb create-blocks-from openmetrics '" + om.string() + "' '" +
                    data.string() + "' > '" + (dir_ / "promtool.log").string() + "' 2>&1"),
              0)
        << Slurp(dir_ / "promtool.log");
    fs::remove(om);
    const int port = FreePort();
    const std::string url = "http://127.0.0.1:" + std::to_string(port);
    std::ofstream(dir_ / "prometheus.yml") << "global: {scrape_interval: 1m}\n";
    prom_ = std::make_unique<Process>(
        "/usr/bin/prometheus --config.file='" + (dir_ / "prometheus.yml").string() +
            "' --storage.tsdb.path='" + data.string() +
            "' --storage.tsdb.retention.time=3650d --web.listen-address=127.0.0.1:" +
            std::to_string(port) + " --log.level=warn",
        dir_ / ("prometheus-" + name + ".log"));
    EXPECT_TRUE(WaitFor("curl -fsS " + url + "/-/ready", 60))
        << Slurp(dir_ / ("prometheus-" + name + ".log"));
    return url;
  }

  std::unique_ptr<store::Store> OpenDb(const std::string& name) {
    auto s = store::Store::Open({"sqlite:" + (dir_ / name).string(), 1, true});
    EXPECT_TRUE(s) << s.error().message;
    return s ? std::move(*s) : nullptr;
  }
  static std::vector<model::Record> Rows(store::Store& s, const char* model) {
    store::QuerySpec spec;
    spec.rows = 10'000'000;
    auto r = s.Query(*model::FindModel(model), spec, store::Scope::All());
    EXPECT_TRUE(r) << r.error().message;
    return r ? r->rows : std::vector<model::Record>{};
  }
  std::unique_ptr<collect::HubSyncer> Syncer(store::Store& db, const std::string& url,
                                             Nanos interval) {
    collect::PrometheusSourceOptions po;
    po.url = url;
    collect::HubSyncOptions o;
    o.hub = fleet_.hubs[0].name;
    o.interval = interval;
    return std::make_unique<collect::HubSyncer>(
        o, db, std::make_unique<collect::PrometheusSnapshotSource>(po));
  }

  // Expects every project's allocated GPU-equivalent seconds in `db` within 0.1 % of the truth
  // over [kFrom, kTo), and the total too; prints the figures.
  void ExpectTruth(store::Store& db, const std::string& what) {
    std::map<std::string, double> got;
    for (const auto& r : Rows(db, "usage")) {
      if (model::IsNull(r.Get("project"))) continue;
      got[model::ProjectKey(r.GetString("hub"), r.GetString("cluster"), r.GetString("project"))] +=
          std::get<double>(r.Get("gpu_equivalent_seconds"));
    }
    const std::vector<double> truth = sim::GpuSecondsByProject(fleet_, kFrom, kTo);
    double want_total = 0, got_total = 0;
    for (size_t p = 0; p < truth.size(); ++p) {
      const std::string key = sim::ProjectKey(fleet_, static_cast<int>(p));
      want_total += truth[p];
      got_total += got[key];
      EXPECT_NEAR(got[key], truth[p], std::max(1.0, truth[p] * 0.001)) << what << ": " << key;
    }
    EXPECT_EQ(got.size(), truth.size()) << what;  // no project the truth lacks
    EXPECT_GT(want_total, 0) << what;
    EXPECT_NEAR(got_total, want_total, want_total * 0.001) << what;
    std::printf("%s: %.3f GPU-hours, truth %.3f (%+.4f %%)\n", what.c_str(), got_total / 3600,
                want_total / 3600, 100 * (got_total - want_total) / want_total);
  }

  fs::path dir_;
  sim::Fleet fleet_;
  std::unique_ptr<Process> prom_;
};

// Backfilled with the default settings (the 30 s interval, no step): each hour is read at the
// spacing worked out from the samples' own timestamps.
TEST_F(SpacingSync, BackfillWithDefaultSettingsMatchesTruthAtAnySpacing) {
  for (const Nanos spacing : {Nanos(seconds(15)), Nanos(seconds(60)), Nanos(seconds(300))}) {
    const std::string url = LoadHistory(spacing);
    const std::string what =
        "backfill of a " + FormatDuration(spacing) + " history with default settings";
    auto db = OpenDb("backfill-" + std::to_string(spacing.count()) + ".db");
    ASSERT_TRUE(db);
    auto syncer = Syncer(*db, url, seconds(30));
    auto report = syncer->Backfill(kFrom, kTo);
    ASSERT_TRUE(report) << what << ": " << report.error().message;
    EXPECT_EQ(report->hours, 3) << what;
    EXPECT_EQ(report->min_spacing, spacing) << what;
    EXPECT_EQ(report->max_spacing, spacing) << what;
    EXPECT_EQ(report->assumed_hours, 0) << what;
    ExpectTruth(*db, what);
    // Nothing was missing from the history: every device-second observed.
    for (const auto& r : Rows(*db, "usage")) {
      EXPECT_EQ(std::get<double>(r.Get("unobserved_seconds")), 0.0) << r.Key();
    }
  }
}

// Live syncs at intervals shorter and longer than the hub's spacing. The history has no staleness
// markers, so an ended series stays visible to instant queries for the 5-minute lookback: counted
// past its spacing, a holder would be charged twice.
TEST_F(SpacingSync, LiveSyncsShorterAndLongerThanTheSpacingMatchTruth) {
  struct Case {
    Nanos spacing;
    std::vector<int> intervals_s;
  };
  for (const Case& c : {Case{seconds(60), {30, 120}}, Case{seconds(300), {60, 600}}}) {
    const std::string url = LoadHistory(c.spacing);
    for (int interval_s : c.intervals_s) {
      const std::string what = "live syncs every " + std::to_string(interval_s) + "s on a " +
                               FormatDuration(c.spacing) + " history";
      auto db = OpenDb("live-" + std::to_string(c.spacing.count()) + "-" +
                       std::to_string(interval_s) + ".db");
      ASSERT_TRUE(db);
      auto syncer = Syncer(*db, url, seconds(interval_s));
      for (Timestamp at = kFrom; at < kTo; at += seconds(interval_s)) {
        auto r = syncer->SyncOnce(at);
        ASSERT_TRUE(r) << what << " at " << FormatRfc3339(at) << ": " << r.error().message;
        ASSERT_TRUE(r->usage_counted) << what;
        ASSERT_EQ(r->caught_up_hours, 0) << what;
      }
      ExpectTruth(*db, what);
      auto hubs = Rows(*db, "hub");
      ASSERT_EQ(hubs.size(), 1u);
      EXPECT_EQ(hubs[0].Get("sample_spacing_seconds"),
                model::Value(std::chrono::duration<double>(c.spacing).count()))
          << what;
      EXPECT_EQ(hubs[0].Get("spacing_assumed"), model::Value(false)) << what;
    }
  }
}

}  // namespace
}  // namespace aitelemetry
