// HubSyncer against an embedded SQLite store, fed by the simulator's exposition in-process, and
// by a local HTTP responder that misbehaves.
#include "collect/hub_syncer.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "collect/exposition.h"
#include "collect/fake_http_server.h"
#include "sim/exposition.h"
#include "sim/fleet.h"
#include "sim/truth.h"
#include "sim/workload.h"
#include "testing/database.h"

namespace aitelemetry::collect {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using store::Filter;

// Serves exposition text chosen per evaluation time; an empty optional fails the collection.
class TextSource : public SnapshotSource {
 public:
  using Fn = std::function<Result<std::string>(Timestamp)>;
  explicit TextSource(Fn fn) : fn_(std::move(fn)) {}
  Status Collect(Timestamp at, Mapper* mapper) override {
    auto text = fn_(at);
    if (!text) return Fail(text.error());
    SampleSet set;
    ExpositionOptions o;
    o.default_timestamp_ms = ToUnixMillis(at);
    if (auto st = ParseExposition(*text, o, &set); !st) return st;
    mapper->Add(set);
    return Ok();
  }
  Result<std::vector<SampleSet>> CollectRange(Timestamp, Timestamp, Nanos, Nanos) override {
    return Fail(ErrorCode::kFailedPrecondition, "no history");
  }
  bool has_history() const override { return false; }
  std::string Describe() const override { return "text"; }

 private:
  Fn fn_;
};

const Timestamp kT0 = FromUnixMillis(1'790'006'400'000);  // a whole hour

// Every test runs on SQLite and on the PostgreSQL the ctest fixture starts.
class HubSyncerTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    url_ = test_support::FreshDatabase(GetParam(), "syncer");
    ASSERT_FALSE(url_.empty()) << "no database for " << GetParam()
                               << " (PostgreSQL is started by the ctest fixture tests/pg.sh)";
    auto s = store::Store::Open({url_, 2, true});
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
    auto f = sim::BuildFleet({.seed = 11, .gpus = 32, .mig_fraction = 0.5, .hubs = 1});
    ASSERT_TRUE(f);
    fleet_ = std::move(*f);
  }

  std::unique_ptr<HubSyncer> Syncer(TextSource::Fn fn, Nanos interval = minutes(10)) {
    HubSyncOptions o;
    o.hub = fleet_.hubs[0].name;
    o.interval = interval;
    return std::make_unique<HubSyncer>(o, *store_, std::make_unique<TextSource>(std::move(fn)),
                                       &metrics_);
  }
  TextSource::Fn Sim() {
    return [this](Timestamp at) -> Result<std::string> {
      std::string out;
      sim::AppendExposition(fleet_, 0, at, &out);
      return out;
    };
  }
  std::vector<model::Record> Rows(const char* model, std::vector<Filter> filters = {}) {
    store::QuerySpec spec;
    spec.filters = std::move(filters);
    spec.rows = 1'000'000;
    auto r = store_->Query(*model::FindModel(model), spec, store::Scope::All());
    EXPECT_TRUE(r) << r.error().message;
    return r ? r->rows : std::vector<model::Record>{};
  }
  int64_t Holdings(Timestamp at) {
    int64_t n = 0;
    const int64_t slot = sim::SlotIndex(fleet_, at);
    for (int u = 0; u < static_cast<int>(fleet_.units.size()); ++u) {
      n += sim::HoldingAt(fleet_, u, slot).has_value();
    }
    return n;
  }

  std::string url_;
  std::unique_ptr<store::Store> store_;
  sim::Fleet fleet_;
  metrics::Registry registry_;
  SyncMetrics metrics_{registry_};
};

TEST_P(HubSyncerTest, WritesEveryEntityOnceWithOpenAllocations) {
  auto syncer = Syncer(Sim());
  auto r = syncer->SyncOnce(kT0);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(Rows("gpu").size(), fleet_.gpus.size());
  EXPECT_EQ(Rows("gpu-slice").size(), fleet_.slices.size());
  EXPECT_EQ(Rows("node").size(), fleet_.nodes.size());
  EXPECT_EQ(Rows("cluster").size(), fleet_.hubs[0].clusters.size());
  EXPECT_EQ(static_cast<int64_t>(Rows("allocation").size()), Holdings(kT0));
  for (const auto& g : Rows("gpu")) {
    EXPECT_EQ(std::get<int64_t>(g.Get("last_seen_at")), ToUnixNanos(kT0));
    EXPECT_FALSE(model::IsNull(g.Get("power_watts"))) << g.Key();
    const std::string state = g.GetString("state");
    EXPECT_TRUE(state == "idle" || state == "active" || state == "allocated-idle") << state;
  }
  auto hub = Rows("hub");
  ASSERT_EQ(hub.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(hub[0].Get("last_sync_ok_at")), ToUnixNanos(kT0));
  EXPECT_NE(registry_.Render().find("aitelemetry_series_parsed_total{hub=\"" + fleet_.hubs[0].name +
                                    "\"}"),
            std::string::npos);
}

// The change feed hears of every new entity once, then only of state and holder changes, and
// of one "sync" summary per model each time; a repeated snapshot adds summaries alone.
TEST_P(HubSyncerTest, SyncsAppendOnlyStateAndHolderChanges) {
  auto syncer = Syncer(Sim());
  ASSERT_TRUE(syncer->SyncOnce(kT0));
  auto first = store_->ChangesSince(0, {}, store::Scope::All(), 100'000);
  ASSERT_TRUE(first) << first.error().message;
  std::map<std::string, int> inserts, summaries;
  for (const auto& c : *first) {
    EXPECT_EQ(c.at, kT0);
    if (c.op == "insert") ++inserts[c.model];
    if (c.op == "sync") ++summaries[c.model];
  }
  EXPECT_EQ(inserts["gpu"], static_cast<int>(fleet_.gpus.size()));
  EXPECT_EQ(inserts["gpu-slice"], static_cast<int>(fleet_.slices.size()));
  EXPECT_EQ(inserts["node"], static_cast<int>(fleet_.nodes.size()));
  for (const char* m : {"cluster", "node", "project", "gpu", "gpu-slice"}) {
    EXPECT_EQ(summaries[m], 1) << m;
  }
  // The same sample again (a retry at the same time): nothing changed but the summaries.
  ASSERT_TRUE(syncer->SyncOnce(kT0));
  auto again = store_->ChangesSince(first->back().seq, {}, store::Scope::All(), 100'000);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->size(), 5u);
  for (const auto& c : *again) EXPECT_EQ(c.op, "sync") << c.model << " " << c.key;
  // Later samples: only entities whose state or holder differs from the previous sync.
  ASSERT_TRUE(syncer->SyncOnce(kT0 + hours(3)));
  auto later = store_->ChangesSince(again->back().seq, {}, store::Scope::All(), 100'000);
  ASSERT_TRUE(later);
  for (const auto& c : *later) {
    EXPECT_TRUE(c.op == "update" || c.op == "sync" || c.op == "insert" || c.op == "gone") << c.op;
  }
  EXPECT_LT(later->size(), fleet_.gpus.size() + fleet_.slices.size() + fleet_.nodes.size());
}

TEST_P(HubSyncerTest, LiveUsageMatchesTruthAndRepeatsCountOnce) {
  auto syncer = Syncer(Sim());
  for (Timestamp t = kT0; t < kT0 + hours(2); t += minutes(10)) {
    ASSERT_TRUE(syncer->SyncOnce(t));
  }
  auto again = syncer->SyncOnce(kT0 + hours(2) - minutes(10));  // a repeated evaluation time
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->usage_counted);
  std::map<std::string, double> got;
  for (const auto& r : Rows("usage")) {
    if (model::IsNull(r.Get("project"))) continue;
    got[model::ProjectKey(r.GetString("hub"), r.GetString("cluster"), r.GetString("project"))] +=
        std::get<double>(r.Get("gpu_equivalent_seconds"));
  }
  auto truth = sim::GpuSecondsByProject(fleet_, kT0, kT0 + hours(2));
  double total = 0;
  for (size_t p = 0; p < truth.size(); ++p) {
    total += truth[p];
    EXPECT_NEAR(got[sim::ProjectKey(fleet_, static_cast<int>(p))], truth[p], 1e-6)
        << sim::ProjectKey(fleet_, static_cast<int>(p));
  }
  EXPECT_GT(total, 0);
}

TEST_P(HubSyncerTest, ClosesEndedAllocationsAndMarksVanishedGone) {
  // Node names repeat across clusters: drop the lines of one node of one cluster.
  const std::string dropped = fleet_.nodes[0].name;
  const std::string dropped_cluster = fleet_.clusters[fleet_.nodes[0].cluster].name;
  bool drop = false;
  auto syncer = Syncer([&](Timestamp at) -> Result<std::string> {
    std::string all;
    sim::AppendExposition(fleet_, 0, at, &all);
    if (!drop) return all;
    std::string kept;  // the node's exporter stopped serving
    size_t pos = 0;
    while (pos < all.size()) {
      size_t end = all.find('\n', pos);
      std::string_view line(all.data() + pos, end - pos);
      if (line.find("\"" + dropped + "\"") == std::string_view::npos ||
          line.find("cluster=\"" + dropped_cluster + "\"") == std::string_view::npos) {
        kept.append(line);
        kept.push_back('\n');
      }
      pos = end + 1;
    }
    return kept;
  });
  ASSERT_TRUE(syncer->SyncOnce(kT0));
  const Timestamp t1 = kT0 + hours(3);
  drop = true;
  auto r = syncer->SyncOnce(t1);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_GE(r->counts.gone, 1 + static_cast<int64_t>(fleet_.nodes[0].gpus.size()));
  auto gone_nodes = Rows("node", {Filter::Eq("state", std::string("gone"))});
  ASSERT_EQ(gone_nodes.size(), 1u);
  EXPECT_EQ(gone_nodes[0].GetString("name"), dropped);
  EXPECT_EQ(gone_nodes[0].GetString("cluster"), dropped_cluster);
  EXPECT_EQ(std::get<int64_t>(gone_nodes[0].Get("gone_at")), ToUnixNanos(t1));
  for (const auto& g : Rows("gpu", {Filter::Eq("node", dropped)})) {
    EXPECT_EQ(g.GetString("state") == "gone", g.GetString("cluster") == dropped_cluster);
  }
  // Every allocation still open is one the simulator has at t1 on a node still served.
  auto open = Rows("allocation", {Filter::Eq("state", std::string("open"))});
  for (const auto& a : open) {
    EXPECT_EQ(std::get<int64_t>(a.Get("last_seen_at")), ToUnixNanos(t1));
    EXPECT_FALSE(a.GetString("node") == dropped && a.GetString("cluster") == dropped_cluster);
  }
  for (const auto& a : Rows("allocation", {Filter::Eq("state", std::string("closed"))})) {
    EXPECT_EQ(std::get<int64_t>(a.Get("ended_at")), ToUnixNanos(t1));
  }
  EXPECT_GT(r->counts.allocations_closed, 0);
  // The node comes back: gone_at clears.
  drop = false;
  ASSERT_TRUE(syncer->SyncOnce(t1 + minutes(10)));
  EXPECT_TRUE(Rows("node", {Filter::Eq("state", std::string("gone"))}).empty());
}

// An exporter hub (no history to rebuild from) with two outages: the lost minutes appear as
// unobserved seconds of every device, charged by the holder rule, and the GPU-hours of the
// observed time are exact.
TEST_P(HubSyncerTest, ExporterOutagesAreUnobservedAndTheRestIsExact) {
  struct Outage {
    Timestamp from, to;
  };
  const std::vector<Outage> outages = {{kT0 + minutes(20), kT0 + minutes(26)},
                                       {kT0 + minutes(70), kT0 + minutes(73)}};
  auto sim = Sim();
  auto syncer = Syncer(
      [&](Timestamp at) -> Result<std::string> {
        for (const Outage& o : outages) {
          if (at >= o.from && at < o.to) return Fail(ErrorCode::kUnavailable, "connection refused");
        }
        return sim(at);
      },
      minutes(1));
  const Timestamp end = kT0 + hours(2);
  for (Timestamp t = kT0; t < end; t += minutes(1)) {
    auto r = syncer->SyncOnce(t);
    bool down = false;
    for (const Outage& o : outages) down |= t >= o.from && t < o.to;
    ASSERT_EQ(static_cast<bool>(r), !down) << FormatRfc3339(t);
    if (r && t == outages[0].to) {
      EXPECT_DOUBLE_EQ(r->unobserved_seconds, 6 * 60.0);
    }
  }
  std::map<std::string, double> allocated, unobserved, observed;
  for (const auto& r : Rows("usage")) {
    if (!model::IsNull(r.Get("project"))) {
      allocated[model::ProjectKey(r.GetString("hub"), r.GetString("cluster"),
                                  r.GetString("project"))] +=
          std::get<double>(r.Get("gpu_equivalent_seconds"));
    }
    unobserved[r.GetString("device_key")] += std::get<double>(r.Get("unobserved_seconds"));
    observed[r.GetString("device_key")] += std::get<double>(r.Get("observed_seconds"));
  }
  // Each outage is one gap row per unit, with its cause.
  auto gap_rows = Rows("gap");
  EXPECT_EQ(gap_rows.size(), 2 * fleet_.units.size());
  for (const auto& g : gap_rows) {
    EXPECT_EQ(g.GetString("cause"), "sync failed");
    const int64_t from = std::get<int64_t>(g.Get("started_at"));
    EXPECT_TRUE(from == ToUnixNanos(outages[0].from) || from == ToUnixNanos(outages[1].from));
    EXPECT_DOUBLE_EQ(std::get<double>(g.Get("seconds")),
                     from == ToUnixNanos(outages[0].from) ? 360.0 : 180.0);
  }
  // Every unit: 9 minutes unobserved, the other 111 observed.
  EXPECT_EQ(unobserved.size(), fleet_.units.size());
  for (const auto& [device, seconds] : unobserved) {
    EXPECT_NEAR(seconds, 9 * 60.0, 1e-6) << device;
    EXPECT_NEAR(observed[device], 111 * 60.0, 1e-6) << device;
  }
  // The GPU-hours of the observed time, exactly; none invented for the outages.
  auto observed_truth = sim::GpuSecondsByProject(fleet_, kT0, outages[0].from);
  for (auto [a, b] : {std::pair{outages[0].to, outages[1].from}, std::pair{outages[1].to, end}}) {
    auto part = sim::GpuSecondsByProject(fleet_, a, b);
    for (size_t p = 0; p < part.size(); ++p) observed_truth[p] += part[p];
  }
  double total = 0;
  for (size_t p = 0; p < observed_truth.size(); ++p) {
    const std::string key = sim::ProjectKey(fleet_, static_cast<int>(p));
    total += observed_truth[p];
    EXPECT_NEAR(allocated[key], observed_truth[p], 1e-6) << key;
  }
  EXPECT_GT(total, 0);
}

TEST_P(HubSyncerTest, FailureKeepsValuesAndMarksStale) {
  bool fail = false;
  auto sim = Sim();
  auto syncer = Syncer([&](Timestamp at) -> Result<std::string> {
    if (fail) return Fail(ErrorCode::kUnavailable, "HTTP 500 from peer");
    return sim(at);
  });
  ASSERT_TRUE(syncer->SyncOnce(kT0));
  auto before = Rows("gpu");
  fail = true;
  auto r = syncer->SyncOnce(kT0 + minutes(10));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find(fleet_.hubs[0].name), std::string::npos);
  auto hub = Rows("hub")[0];
  EXPECT_NE(hub.GetString("last_error").find("HTTP 500"), std::string::npos);
  EXPECT_EQ(std::get<int64_t>(hub.Get("last_sync_ok_at")), ToUnixNanos(kT0));
  EXPECT_EQ(std::get<int64_t>(hub.Get("last_sync_at")), ToUnixNanos(kT0 + minutes(10)));
  auto after = Rows("gpu");
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(std::get<int64_t>(after[i].Get("stale_since")), ToUnixNanos(kT0));
    EXPECT_EQ(after[i].Get("power_watts"), before[i].Get("power_watts"));
    EXPECT_TRUE(model::IsNull(after[i].Get("gone_at")));
  }
  EXPECT_NE(registry_.Render().find("aitelemetry_sync_errors_total{hub=\"" + fleet_.hubs[0].name +
                                    "\"} 1"),
            std::string::npos);
  fail = false;
  ASSERT_TRUE(syncer->SyncOnce(kT0 + minutes(20)));
  for (const auto& g : Rows("gpu")) EXPECT_TRUE(model::IsNull(g.Get("stale_since")));
  EXPECT_TRUE(model::IsNull(Rows("hub")[0].Get("last_error")));
}

// Every row of every model the collector writes, as text, for comparing two stores. Usage energy
// and unobserved seconds are left out: they depend on the previous counter reading and on the
// end of each device's last sample, which a syncer remembers and a fresh syncer does not have
// (so are rows made of unobserved time alone).
std::map<std::string, std::string> Dump(store::Store& store) {
  std::map<std::string, std::string> out;
  for (const char* name : {"hub", "cluster", "node", "project", "gpu", "gpu-slice", "allocation",
                           "health-event", "usage"}) {
    const model::Model& m = *model::FindModel(name);
    store::QuerySpec spec;
    spec.rows = 1'000'000;
    auto rows = store.Query(m, spec, store::Scope::All());
    EXPECT_TRUE(rows) << rows.error().message;
    if (!rows) continue;
    for (const auto& r : rows->rows) {
      if (std::string_view(name) == "usage" && std::get<int64_t>(r.Get("samples")) == 0) continue;
      std::string text;
      for (size_t i = 0; i < m.fields.size(); ++i) {
        if (std::string_view(name) == "usage" &&
            (m.fields[i].name == "energy_joules" || m.fields[i].name == "unobserved_seconds")) {
          continue;
        }
        text += m.fields[i].name + "=" + model::ValueToText(m.fields[i], r.values[i]) + " ";
      }
      out[std::string(name) + " " + r.Key()] = text;
    }
  }
  auto changes = store.ChangesSince(0, {}, store::Scope::All(), 1'000'000);
  EXPECT_TRUE(changes);
  int i = 0;
  for (const auto& c : *changes) {
    out["change " + std::to_string(i++)] = c.model + " " + c.key + " " + c.op + " " + c.hub + " " +
                                           c.cluster + " " + c.project + " " + FormatRfc3339(c.at);
  }
  return out;
}

// The syncer writes only what changed since its mirror of the hub; a store written that way
// must equal one written by a fresh syncer each time (which reloads everything from the store),
// through state and holder changes, a node that vanishes and comes back, a repeated sample, and
// another syncer of the same hub (a replica that held the lead) in between.
TEST_P(HubSyncerTest, WritingOnlyChangesEqualsRewritingEverything) {
  auto other =
      store::Store::Open({test_support::FreshDatabase(GetParam(), "syncerfresh"), 2, true});
  ASSERT_TRUE(other) << other.error().message;
  const std::string dropped = fleet_.nodes[1].name;
  bool drop = false;
  TextSource::Fn text = [&](Timestamp at) -> Result<std::string> {
    std::string all;
    sim::AppendExposition(fleet_, 0, at, &all);
    if (!drop) return all;
    std::string kept;
    size_t pos = 0;
    while (pos < all.size()) {
      size_t end = all.find('\n', pos);
      std::string_view line(all.data() + pos, end - pos);
      if (line.find("\"" + dropped + "\"") == std::string_view::npos) {
        kept.append(line);
        kept.push_back('\n');
      }
      pos = end + 1;
    }
    return kept;
  };
  HubSyncOptions o;
  o.hub = fleet_.hubs[0].name;
  o.interval = minutes(10);
  HubSyncer kept(o, *store_, std::make_unique<TextSource>(text));
  std::vector<Timestamp> times;
  for (int k = 0; k < 14; ++k) times.push_back(kT0 + hours(k / 2) + minutes(10 * (k % 2)));
  times.push_back(times.back());  // a repeated sample
  for (size_t k = 0; k < times.size(); ++k) {
    drop = k >= 4 && k < 7;
    SCOPED_TRACE("sync " + std::to_string(k) + " at " + FormatRfc3339(times[k]));
    if (k == 9) {  // another writer of the hub in between
      HubSyncer replica(o, *store_, std::make_unique<TextSource>(text));
      ASSERT_TRUE(replica.SyncOnce(times[k]));
    } else {
      auto r = kept.SyncOnce(times[k]);
      ASSERT_TRUE(r) << r.error().message;
    }
    HubSyncer fresh(o, **other, std::make_unique<TextSource>(text));
    auto r = fresh.SyncOnce(times[k]);
    ASSERT_TRUE(r) << r.error().message;
  }
  auto a = Dump(*store_);
  auto b = Dump(**other);
  EXPECT_GT(a.size(), fleet_.gpus.size() + fleet_.slices.size());
  for (const auto& [key, row] : b) {
    auto it = a.find(key);
    if (it == a.end()) {
      ADD_FAILURE() << "missing " << key;
      continue;
    }
    EXPECT_EQ(it->second, row) << key;
  }
  EXPECT_EQ(a.size(), b.size());
}

// Rows changed under the syncer without its hub row changing (an operator's DELETE) are noticed:
// the write finds fewer rows than the mirror knows, and the sync reloads and writes them again.
TEST_P(HubSyncerTest, RowsRemovedBehindTheMirrorAreRewritten) {
  auto syncer = Syncer(Sim());
  ASSERT_TRUE(syncer->SyncOnce(kT0));
  const size_t gpus = Rows("gpu").size();
  ASSERT_TRUE(store_->Delete(*model::FindModel("gpu"), {Filter::Eq("uuid", fleet_.gpus[0].uuid)}));
  ASSERT_TRUE(store_->Delete(*model::FindModel("usage"), {Filter::Eq("hub", fleet_.hubs[0].name)}));
  ASSERT_EQ(Rows("gpu").size(), gpus - 1);
  auto r = syncer->SyncOnce(kT0 + minutes(10));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(Rows("gpu").size(), gpus);
  for (const auto& g : Rows("gpu")) {
    EXPECT_EQ(std::get<int64_t>(g.Get("last_seen_at")), ToUnixNanos(kT0 + minutes(10))) << g.Key();
  }
  // The usage of the hour restarts from what the store holds (nothing), not from the mirror.
  for (const auto& u : Rows("usage")) {
    EXPECT_EQ(std::get<int64_t>(u.Get("samples")), 1) << u.Key();
  }
}

// A Prometheus that answers 500, garbage, truncated JSON or too late: the sync fails naming the
// hub, nothing is half-written, the hub row records the error.
TEST_P(HubSyncerTest, MisbehavingPrometheusIsReportedAndLeavesStoreConsistent) {
  struct Case {
    const char* what;
    std::function<std::string(testing::FakeHttpServer&)> answer;
  };
  const std::string truncated =
      R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"DCGM_FI_DEV_FB_USED","UUID":"G","hostname":"n"},"value":[1,"1")";
  const Case cases[] = {
      {"500", [](auto&) { return testing::FakeHttpServer::Response(500, "boom"); }},
      {"not JSON",
       [](auto&) {
         return testing::FakeHttpServer::Response(200, "<html>proxy</html>", "text/html");
       }},
      {"truncated", [&](auto&) { return testing::FakeHttpServer::Response(200, truncated); }},
      {"cut connection",
       [&](auto&) {
         std::string full = testing::FakeHttpServer::Response(200, truncated + "]}}");
         return full.substr(0, full.size() / 2);
       }},
      {"timeout",
       [](testing::FakeHttpServer& s) {
         s.Stall(std::chrono::milliseconds(1500));
         return testing::FakeHttpServer::Response(200, "{}");
       }},
  };
  for (const Case& c : cases) {
    testing::FakeHttpServer* self = nullptr;
    testing::FakeHttpServer server([&](const testing::FakeRequest&) { return c.answer(*self); });
    self = &server;
    PrometheusSourceOptions o;
    o.url = server.url();
    o.timeout = std::chrono::milliseconds(500);
    o.retries = 0;
    HubSyncOptions ho;
    ho.hub = "bad";
    HubSyncer syncer(ho, *store_, std::make_unique<PrometheusSnapshotSource>(o), &metrics_);
    auto r = syncer.SyncOnce(kT0);
    ASSERT_FALSE(r) << c.what;
    EXPECT_NE(r.error().message.find("hub bad"), std::string::npos) << r.error().message;
    EXPECT_TRUE(Rows("gpu", {Filter::Eq("hub", std::string("bad"))}).empty()) << c.what;
    auto hub = Rows("hub", {Filter::Eq("name", std::string("bad"))});
    ASSERT_EQ(hub.size(), 1u) << c.what;
    EXPECT_FALSE(hub[0].GetString("last_error").empty()) << c.what;
    EXPECT_TRUE(model::IsNull(hub[0].Get("last_sync_ok_at"))) << c.what;
  }
}

// The value of label `name` in one exposition line, or "" (the simulator quotes every value and
// escapes no quote inside one).
std::string_view LabelIn(std::string_view line, std::string_view name) {
  const std::string needle = std::string(name) + "=\"";
  size_t at = line.find(needle);
  while (at != std::string_view::npos && at > 0 && line[at - 1] != '{' && line[at - 1] != ',') {
    at = line.find(needle, at + 1);
  }
  if (at == std::string_view::npos) return {};
  const size_t from = at + needle.size();
  return line.substr(from, line.find('"', from) - from);
}

// An exporter hub served by one real HTTP target per node (the node's DCGM series) plus one for
// the rest (kube-state-metrics). One node's exporter dies twice: only its devices turn stale and
// unobserved, with gaps put down to the exporter; the rest of the hub syncs every minute and the
// GPU-hours of everything observed are exact.
TEST_P(HubSyncerTest, DeadExporterDegradesOnlyItsNode) {
  using testing::FakeHttpServer;
  const int dead_node = fleet_.clusters[fleet_.hubs[0].clusters[0]].nodes[0];
  const std::string dead_host = fleet_.nodes[dead_node].name;
  const std::string dead_cluster = fleet_.clusters[fleet_.nodes[dead_node].cluster].name;
  struct Outage {
    Timestamp from, to;
  };
  const std::vector<Outage> outages = {{kT0 + minutes(20), kT0 + minutes(26)},
                                       {kT0 + minutes(70), kT0 + minutes(73)}};
  std::atomic<int64_t> now_ms{ToUnixMillis(kT0)};
  // Serves the lines of one (cluster, host), or with an empty host those without a host name.
  auto lines_of = [&](std::string cluster, std::string host) {
    return [&, cluster, host](const testing::FakeRequest&) {
      const Timestamp at = FromUnixMillis(now_ms.load());
      if (host == dead_host && cluster == dead_cluster) {
        for (const Outage& o : outages) {
          if (at >= o.from && at < o.to) return FakeHttpServer::Response(503, "down", "text/plain");
        }
      }
      std::string all, kept;
      sim::AppendExposition(fleet_, 0, at, &all);
      size_t pos = 0;
      while (pos < all.size()) {
        const size_t end = all.find('\n', pos);
        std::string_view line(all.data() + pos, end - pos);
        pos = end + 1;
        std::string_view h = LabelIn(line, "hostname");
        if (h.empty()) h = LabelIn(line, "Hostname");
        const bool keep = host.empty() ? h.empty() && !line.starts_with("# ")
                                       : h == host && LabelIn(line, "cluster") == cluster;
        if (keep) kept.append(line).push_back('\n');
      }
      return FakeHttpServer::Response(200, kept, "text/plain; version=0.0.4");
    };
  };
  std::vector<std::unique_ptr<FakeHttpServer>> servers;
  ExporterSourceOptions o;
  o.retries = 0;
  o.timeout = std::chrono::milliseconds(5000);
  servers.push_back(std::make_unique<FakeHttpServer>(lines_of("", "")));
  for (int c : fleet_.hubs[0].clusters) {
    for (int n : fleet_.clusters[c].nodes) {
      servers.push_back(std::make_unique<FakeHttpServer>(
          lines_of(fleet_.clusters[c].name, fleet_.nodes[n].name)));
    }
  }
  for (const auto& server : servers) o.targets.push_back({server->url() + "/metrics", ""});
  HubSyncOptions so;
  so.hub = fleet_.hubs[0].name;
  so.interval = minutes(1);
  HubSyncer syncer(so, *store_, std::make_unique<ExporterSnapshotSource>(o), &metrics_);

  const Timestamp end = kT0 + hours(2);
  const size_t all_gpus = Rows("gpu").size();
  for (Timestamp t = kT0; t < end; t += minutes(1)) {
    now_ms = ToUnixMillis(t);
    auto r = syncer.SyncOnce(t);
    ASSERT_TRUE(r) << FormatRfc3339(t) << ": " << r.error().message;
    bool down = false;
    for (const Outage& x : outages) down |= t >= x.from && t < x.to;
    EXPECT_EQ(r->unreachable_nodes, down ? 1u : 0u) << FormatRfc3339(t);
    if (down) {
      EXPECT_GT(r->counts.stale + r->counts.touched, 0) << FormatRfc3339(t);
    }
    if (t == outages[0].from + minutes(2)) {
      // The dead node's GPUs are stale (kept, not gone), the hub says why, the rest is fresh.
      (void)all_gpus;
      for (const auto& g : Rows("gpu")) {
        const bool dead =
            g.GetString("node") == dead_host && g.GetString("cluster") == dead_cluster;
        EXPECT_NE(g.GetString("state"), "gone") << g.Key();
        EXPECT_EQ(!model::IsNull(g.Get("stale_since")), dead) << g.Key();
        if (dead) {
          EXPECT_EQ(std::get<int64_t>(g.Get("stale_since")),
                    ToUnixNanos(outages[0].from - minutes(1)));
          EXPECT_EQ(std::get<int64_t>(g.Get("last_seen_at")),
                    ToUnixNanos(outages[0].from - minutes(1)));
        } else {
          EXPECT_EQ(std::get<int64_t>(g.Get("last_seen_at")), ToUnixNanos(t));
        }
      }
      auto hub = Rows("hub");
      ASSERT_EQ(hub.size(), 1u);
      EXPECT_NE(hub[0].GetString("last_error").find(dead_host), std::string::npos);
      EXPECT_NE(hub[0].GetString("last_error").find("HTTP 503"), std::string::npos);
    }
  }
  // Back: nothing stale, no error; no GPU or node was ever called gone.
  EXPECT_TRUE(Rows("gpu", {Filter::Eq("state", std::string("gone"))}).empty());
  EXPECT_TRUE(Rows("node", {Filter::Eq("state", std::string("gone"))}).empty());
  for (const auto& g : Rows("gpu")) EXPECT_TRUE(model::IsNull(g.Get("stale_since"))) << g.Key();
  EXPECT_TRUE(model::IsNull(Rows("hub")[0].Get("last_error")));

  // Gaps: one per unit of the dead node and outage, put down to the exporter; none elsewhere.
  std::set<int> dead_units;
  for (int u = 0; u < static_cast<int>(fleet_.units.size()); ++u) {
    if (fleet_.gpus[fleet_.units[u].gpu].node == dead_node) dead_units.insert(u);
  }
  ASSERT_FALSE(dead_units.empty());
  auto gap_rows = Rows("gap");
  EXPECT_EQ(gap_rows.size(), 2 * dead_units.size());
  for (const auto& g : gap_rows) {
    EXPECT_EQ(g.GetString("cause"), "exporter unreachable");
    EXPECT_EQ(g.GetString("node"), dead_host);
    const int64_t from = std::get<int64_t>(g.Get("started_at"));
    EXPECT_TRUE(from == ToUnixNanos(outages[0].from) || from == ToUnixNanos(outages[1].from));
  }
  // Usage: the dead node's units miss 9 minutes each; every project's GPU-seconds are the truth
  // less what the dead node's holdings would have added during the outages.
  std::map<std::string, double> allocated, unobserved;
  for (const auto& r : Rows("usage")) {
    if (!model::IsNull(r.Get("project"))) {
      allocated[model::ProjectKey(r.GetString("hub"), r.GetString("cluster"),
                                  r.GetString("project"))] +=
          std::get<double>(r.Get("gpu_equivalent_seconds"));
    }
    unobserved[r.GetString("node") == dead_host && r.GetString("cluster") == dead_cluster
                   ? "dead"
                   : "alive"] += std::get<double>(r.Get("unobserved_seconds"));
  }
  EXPECT_NEAR(unobserved["dead"], 9 * 60.0 * static_cast<double>(dead_units.size()), 1e-6);
  EXPECT_NEAR(unobserved["alive"], 0, 1e-9);
  auto truth = sim::GpuSecondsByProject(fleet_, kT0, end);
  for (const Outage& x : outages) {
    for (Timestamp t = x.from; t < x.to; t += minutes(1)) {
      for (int u : dead_units) {
        if (auto h = sim::HoldingAt(fleet_, u, sim::SlotIndex(fleet_, t))) {
          truth[h->project] -= 60.0 * fleet_.units[u].compute_sevenths / 7.0;
        }
      }
    }
  }
  double total = 0;
  for (size_t p = 0; p < truth.size(); ++p) {
    const std::string key = sim::ProjectKey(fleet_, static_cast<int>(p));
    total += truth[p];
    EXPECT_NEAR(allocated[key], truth[p], 1e-6) << key;
  }
  EXPECT_GT(total, 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, HubSyncerTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace aitelemetry::collect
