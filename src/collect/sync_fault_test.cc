// Fault injection (label "fault"): a Prometheus on loopback that answers the collector's queries
// from the simulator and, on one query of a sync, misbehaves mid-stream: HTTP 500, a body that
// turns into HTML after some series, a body cut short, a connection reset, a stall past the
// timeout. After each fault the store holds exactly what it holds after a failure that read
// nothing, and once syncs resume (catching the missed interval up from history) its usage equals
// a run that never failed. On SQLite and on the PostgreSQL the ctest fixture starts.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "collect/exposition.h"
#include "collect/hub_syncer.h"
#include "collect/metric_catalog.h"
#include "collect/snapshot_source.h"
#include "collect/test_util.h"
#include "sim/exposition.h"
#include "sim/fleet.h"
#include "store/sql.h"
#include "testing/database.h"
#include "testing/file_size_limit.h"

namespace aitelemetry::collect {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;

enum class Fault {
  kNone,
  kDiskFull,      // answered, but the store's files may not grow past 32 KiB (RLIMIT_FSIZE)
  kStatus500,     // HTTP 500 with a short body
  kHtmlMidBody,   // 200, some series, then an HTML error page (a proxy giving up)
  kTruncated,     // 200 with the full Content-Length, half the body, then FIN
  kReset,         // 200, half the body, then RST
  kStallMidBody,  // 200, half the body, then nothing until the client gives up
};

const char* FaultName(Fault f) {
  switch (f) {
    case Fault::kNone:
      return "none";
    case Fault::kDiskFull:
      return "disk full";
    case Fault::kStatus500:
      return "500";
    case Fault::kHtmlMidBody:
      return "HTML mid-body";
    case Fault::kTruncated:
      return "truncated";
    case Fault::kReset:
      return "reset";
    case Fault::kStallMidBody:
      return "stall mid-body";
  }
  return "?";
}

// Decodes application/x-www-form-urlencoded text into its fields.
std::map<std::string, std::string> DecodeForm(std::string_view body) {
  std::map<std::string, std::string> out;
  while (!body.empty()) {
    size_t amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    size_t eq = pair.find('=');
    std::string value;
    std::string_view raw = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '+') {
        value.push_back(' ');
      } else if (raw[i] == '%' && i + 2 < raw.size()) {
        value.push_back(
            static_cast<char>(std::stoi(std::string(raw.substr(i + 1, 2)), nullptr, 16)));
        i += 2;
      } else {
        value.push_back(raw[i]);
      }
    }
    out[std::string(pair.substr(0, eq))] = value;
  }
  return out;
}

// Whether a sample is in the answer to one family query (metric_catalog.h).
class FamilyFilter {
 public:
  explicit FamilyFilter(const FamilyQuery& family) : family_(family) {
    const std::string_view selector = family.selector;
    if (selector.starts_with("{__name__=~\"")) {
      name_ = std::regex(std::string(selector.substr(12, selector.size() - 14)));
      by_regex_ = true;
    }
  }
  bool Matches(const SampleSet& set, const Sample& s) const {
    const std::string_view metric = set.Metric(s);
    if (by_regex_) return std::regex_match(metric.begin(), metric.end(), name_);
    if (metric != family_.stem) return false;
    if (family_.stem != "kube_pod_container_resource_requests") return true;
    const std::string_view resource = set.Label(s, "resource");
    return resource == "nvidia_com_gpu" || resource.starts_with("nvidia_com_mig_");
  }

 private:
  const FamilyQuery& family_;
  std::regex name_;
  bool by_regex_ = false;
};

// A Prometheus HTTP API stand-in serving the simulated fleet: /api/v1/query and
// /api/v1/query_range for the collector's family queries (metric_catalog.h), one connection at a
// time, "Connection: close" after each answer. Arm() makes one later query misbehave.
class FaultyPrometheus {
 public:
  explicit FaultyPrometheus(const sim::Fleet& fleet) : fleet_(fleet) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(fd_, 16);
    thread_ = std::thread([this] { Loop(); });
  }
  ~FaultyPrometheus() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // The `nth` query from now (0: the next one) gets `fault`, once.
  void Arm(Fault fault, int nth) {
    std::lock_guard lock(mu_);
    fault_ = fault;
    fault_at_ = queries_ + nth;
  }
  // Queries received so far, and how many of them were sabotaged.
  int queries() {
    std::lock_guard lock(mu_);
    return queries_;
  }
  int faults() {
    std::lock_guard lock(mu_);
    return faults_;
  }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      Serve(c);
    }
  }

  static bool ReadRequest(int c, std::string* path, std::string* body) {
    std::string data;
    char buf[8192];
    size_t header_end = std::string::npos, want = 0;
    while (header_end == std::string::npos || data.size() < header_end + 4 + want) {
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 5000) <= 0) return false;
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) return false;
      data.append(buf, static_cast<size_t>(n));
      if (header_end == std::string::npos && (header_end = data.find("\r\n\r\n")) != data.npos) {
        std::string lower = data.substr(0, header_end);
        for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        size_t cl = lower.find("content-length:");
        if (cl != std::string::npos) want = std::stoul(lower.substr(cl + 15));
      }
    }
    size_t sp = data.find(' ');
    *path = data.substr(sp + 1, data.find(' ', sp + 1) - sp - 1);
    *body = data.substr(header_end + 4, want);
    return true;
  }

  static void Send(int c, std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(c, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
  }

  // The samples of the fleet's exposition at `t` that answer `family`.
  SampleSet Samples(const FamilyQuery& family, Timestamp t) {
    std::string text;
    sim::AppendExposition(fleet_, 0, t, &text);
    SampleSet all;
    ExpositionOptions o;
    o.default_timestamp_ms = ToUnixMillis(t);
    EXPECT_TRUE(ParseExposition(text, o, &all));
    SampleSet out;
    std::vector<LabelPair> pairs;
    const FamilyFilter filter(family);
    for (const Sample& s : all.samples()) {
      if (!filter.Matches(all, s)) continue;
      pairs.clear();
      for (const LabelPair& p : all.Labels(s)) {
        pairs.push_back({out.Intern(all.String(p.name)), out.Intern(all.String(p.value))});
      }
      out.Add({out.Intern(all.Metric(s)), out.InternLabelSet(pairs), s.value, s.timestamp_ms});
    }
    return out;
  }

  // The series of an answer to `path` with form `form`, each rendered as JSON; empty when the
  // query is not one of the collector's.
  std::vector<std::string> Series(const std::string& path,
                                  const std::map<std::string, std::string>& form,
                                  std::string* result_type) {
    int count = 0;
    const FamilyQuery* families = FamilyQueries(&count);
    const std::string& query = form.count("query") ? form.at("query") : "";
    std::vector<std::string> out;
    if (path == "/api/v1/query" && query.starts_with("topk(1, count_over_time(")) {
      // The collector's probe of the hub's sample spacing: this hub shows no raw samples to work
      // it out from, so the spacing is assumed (the sync interval), as before the probe existed.
      *result_type = "vector";
      return out;
    }
    for (int i = 0; i < count; ++i) {
      const FamilyQuery& f = families[i];
      if (path == "/api/v1/query" && query == f.selector) {
        *result_type = "vector";
        SampleSet set = Samples(f, FromUnixSeconds(std::stod(form.at("time"))));
        for (const Sample& s : set.samples()) {
          out.emplace_back();
          testing::AppendVectorSeries(set, s, &out.back());
        }
        return out;
      }
      if (path == "/api/v1/query_range" && query.starts_with(std::string(f.selector) + " and ")) {
        *result_type = "matrix";
        const Timestamp start = FromUnixSeconds(std::stod(form.at("start")));
        const Timestamp end = FromUnixSeconds(std::stod(form.at("end")));
        const auto step = milliseconds(std::llround(std::stod(form.at("step")) * 1000));
        std::map<std::string, std::string> series;  // metric and labels JSON -> values
        for (Timestamp t = start; t <= end; t += step) {
          SampleSet set = Samples(f, t);
          for (const Sample& s : set.samples()) {
            std::string one;
            testing::AppendVectorSeries(set, s, &one);
            // {"metric":{...},"value":[ts,"v"]} -> the metric part and the point.
            const size_t at = one.find(",\"value\":");
            std::string& values = series[one.substr(0, at)];
            values += (values.empty() ? "" : ",") + one.substr(at + 9, one.size() - at - 10);
          }
        }
        for (const auto& [metric, values] : series) {
          out.push_back(metric + ",\"values\":[" + values + "]}");
        }
        return out;
      }
    }
    ADD_FAILURE() << "unexpected query " << path << " " << query;
    return out;
  }

  void Serve(int c) {
    std::string path, body;
    if (!ReadRequest(c, &path, &body)) {
      ::close(c);
      return;
    }
    Fault fault = Fault::kNone;
    {
      std::lock_guard lock(mu_);
      if (queries_++ == fault_at_) {
        fault = fault_;
        ++faults_;
      }
    }
    std::string result_type;
    const std::vector<std::string> series = Series(path, DecodeForm(body), &result_type);
    const std::string head =
        R"({"status":"success","data":{"resultType":")" + result_type + R"(","result":[)";
    std::string full = head, half = head;
    for (size_t i = 0; i < series.size(); ++i) {
      full += (i ? "," : "") + series[i];
      if (i < std::max<size_t>(1, series.size() / 2)) half += (i ? "," : "") + series[i];
    }
    full += "]}}";
    auto headers = [](int status, size_t length, const char* type) {
      return fmt::format(
          "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
          status, type, length);
    };
    switch (fault) {
      case Fault::kNone:
      case Fault::kDiskFull:
        Send(c, headers(200, full.size(), "application/json") + full);
        break;
      case Fault::kStatus500:
        Send(c, headers(500, 4, "text/plain") + "boom");
        break;
      case Fault::kHtmlMidBody: {
        const std::string bad = half + ",<html><body>502 Bad Gateway</body></html>";
        Send(c, headers(200, bad.size(), "application/json") + bad);
        break;
      }
      case Fault::kTruncated:
        Send(c, headers(200, full.size(), "application/json") + half);
        break;
      case Fault::kReset: {
        Send(c, headers(200, full.size(), "application/json") + half);
        linger l{1, 0};  // close with RST instead of FIN
        ::setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        break;
      }
      case Fault::kStallMidBody: {
        Send(c, headers(200, full.size(), "application/json") + half);
        // Hold the connection open until the client gives up on it (it closes: POLLIN with
        // nothing to read), or the server stops.
        char buf[256];
        while (!stop_) {
          pollfd p{c, POLLIN, 0};
          if (::poll(&p, 1, 50) > 0 && ::recv(c, buf, sizeof buf, 0) <= 0) break;
        }
        break;
      }
    }
    ::close(c);
  }

  const sim::Fleet& fleet_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  int queries_ = 0;             // guarded by mu_
  int faults_ = 0;              // guarded by mu_
  int fault_at_ = -1;           // guarded by mu_
  Fault fault_ = Fault::kNone;  // guarded by mu_
};

const Timestamp kT0 = FromUnixMillis(1'790'006'400'000);  // a whole hour
constexpr auto kInterval = minutes(10);
constexpr int kFaultyQuery = 4;  // DCGM_FI_DEV_FB_USED: one series per GPU or slice

// Every row of every model the collector writes, as text, keyed by model and key; with
// `changes`, the change feed too. Usage energy is left out: it depends on the counter reading
// the syncer remembers from its previous sync.
std::map<std::string, std::string> Dump(store::Store& store, const std::vector<std::string>& models,
                                        bool changes) {
  std::map<std::string, std::string> out;
  for (const std::string& name : models) {
    const model::Model& m = *model::FindModel(name);
    store::QuerySpec spec;
    spec.rows = 1'000'000;
    auto rows = store.Query(m, spec, store::Scope::All());
    EXPECT_TRUE(rows) << rows.error().message;
    if (!rows) continue;
    for (const auto& r : rows->rows) {
      std::string text;
      for (size_t i = 0; i < m.fields.size(); ++i) {
        if (name == "usage" && m.fields[i].name == "energy_joules") continue;
        text += m.fields[i].name + "=" + model::ValueToText(m.fields[i], r.values[i]) + " ";
      }
      out[name + " " + r.Key()] = text;
    }
  }
  if (changes) {
    auto feed = store.ChangesSince(0, {}, store::Scope::All(), 1'000'000);
    EXPECT_TRUE(feed) << feed.error().message;
    if (!feed) return out;
    int i = 0;
    for (const auto& c : *feed) {
      out["change " + std::to_string(i++)] =
          c.model + " " + c.key + " " + c.op + " " + c.hub + " " + FormatRfc3339(c.at);
    }
  }
  return out;
}

const std::vector<std::string> kAllModels = {
    "hub", "cluster", "node", "project", "gpu", "gpu-slice", "allocation", "health-event", "usage"};

class SyncFaultTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto f = sim::BuildFleet({.seed = 21, .gpus = 24, .mig_fraction = 0.5, .hubs = 1});
    ASSERT_TRUE(f);
    fleet_ = std::move(*f);
  }

  // A fresh store synced at kT0, kT0 + interval (where query `nth` of the sync gets `fault`) and
  // kT0 + 2 intervals (which catches the missed interval up when the second failed). Returns the
  // store; `*second_failed` says whether the second sync failed.
  std::unique_ptr<store::Store> Run(Fault fault, int nth, int retries, bool* second_failed) {
    const std::string url = test_support::FreshDatabase(GetParam(), "fault");
    EXPECT_FALSE(url.empty()) << "no database for " << GetParam()
                              << " (PostgreSQL is started by the ctest fixture tests/pg.sh)";
    auto s = store::Store::Open({url, 2, true});
    EXPECT_TRUE(s) << s.error().message;
    if (!s) return nullptr;
    FaultyPrometheus prometheus(fleet_);
    PrometheusSourceOptions po;
    po.url = prometheus.url();
    po.timeout = milliseconds(1000);
    po.retries = retries;
    po.retry_backoff = milliseconds(1);
    HubSyncOptions ho;
    ho.hub = fleet_.hubs[0].name;
    ho.interval = kInterval;
    HubSyncer syncer(ho, **s, std::make_unique<PrometheusSnapshotSource>(po), &metrics_);
    auto first = syncer.SyncOnce(kT0);
    EXPECT_TRUE(first) << first.error().message;
    const auto gpus_before = Dump(**s, {"gpu", "gpu-slice", "allocation", "usage"}, false);
    prometheus.Arm(fault, nth);
    std::optional<test_support::FileSizeLimit> disk_full;
    if (fault == Fault::kDiskFull) disk_full.emplace(32 * 1024);
    auto second = syncer.SyncOnce(kT0 + kInterval);
    disk_full.reset();
    *second_failed = !second.has_value();
    if (fault != Fault::kNone) {
      EXPECT_EQ(prometheus.faults(), 1) << FaultName(fault);
    }
    if (!second) {
      // Nothing the failed sync read reached the store: the GPUs, slices, allocations and usage
      // are as the first sync left them but for the stale mark.
      auto after = Dump(**s, {"gpu", "gpu-slice", "allocation", "usage"}, false);
      for (auto& [key, text] : after) {
        text = std::regex_replace(text, std::regex("stale_since=[^ ]* "), "");
      }
      auto before = gpus_before;
      for (auto& [key, text] : before) {
        text = std::regex_replace(text, std::regex("stale_since=[^ ]* "), "");
      }
      EXPECT_EQ(after, before) << FaultName(fault);
    }
    auto third = syncer.SyncOnce(kT0 + 2 * kInterval);
    EXPECT_TRUE(third) << FaultName(fault) << ": " << third.error().message;
    if (GetParam() == "sqlite") {
      auto c = store::Connect(url);
      EXPECT_TRUE(c) << c.error().message;
      std::string check;
      if (c) {
        const model::FieldType types[] = {model::FieldType::kString};
        auto st = (*c)->Query(
            "PRAGMA integrity_check", {}, types,
            [&](std::vector<model::Value>& row) { check += std::get<std::string>(row[0]); });
        EXPECT_TRUE(st) << st.error().message;
      }
      EXPECT_EQ(check, "ok") << FaultName(fault);
    }
    return std::move(*s);
  }

  sim::Fleet fleet_;
  metrics::Registry registry_;
  SyncMetrics metrics_{registry_};
};

// A fault mid-stream, with no retry: the sync fails, and the store ends as it ends after a failure
// that read nothing at all (a 500 on the sync's first query), change feed included. Its usage
// equals that of a run that never failed: the next sync caught the missed interval up.
TEST_P(SyncFaultTest, FaultMidStreamLeavesNoTraceAndUsageIsCaughtUp) {
  bool failed = false;
  auto reference = Run(Fault::kStatus500, 0, 0, &failed);
  ASSERT_TRUE(reference);
  ASSERT_TRUE(failed);
  auto clean = Run(Fault::kNone, 0, 0, &failed);
  ASSERT_TRUE(clean);
  ASSERT_FALSE(failed);
  const auto want = Dump(*reference, kAllModels, true);
  const auto clean_usage = Dump(*clean, {"usage"}, false);
  ASSERT_FALSE(clean_usage.empty());
  EXPECT_EQ(Dump(*reference, {"usage"}, false), clean_usage);
  for (Fault fault : {Fault::kStatus500, Fault::kHtmlMidBody, Fault::kTruncated, Fault::kReset,
                      Fault::kStallMidBody}) {
    SCOPED_TRACE(FaultName(fault));
    auto faulty = Run(fault, kFaultyQuery, 0, &failed);
    ASSERT_TRUE(faulty);
    EXPECT_TRUE(failed);
    auto got = Dump(*faulty, kAllModels, true);
    // The hub's last error names the fault; it is cleared by the next good sync.
    EXPECT_EQ(got, want);
    EXPECT_EQ(Dump(*faulty, {"usage"}, false), clean_usage);
  }
}

// A fault mid-stream that a retry gets past: the sync succeeds and the store equals a run without
// the fault, so the series the broken attempt had already delivered did not count twice.
TEST_P(SyncFaultTest, RetriedFaultCountsOnce) {
  bool failed = false;
  auto clean = Run(Fault::kNone, 0, 1, &failed);
  ASSERT_TRUE(clean);
  const auto want = Dump(*clean, kAllModels, true);
  for (Fault fault : {Fault::kStatus500, Fault::kTruncated, Fault::kReset, Fault::kStallMidBody}) {
    SCOPED_TRACE(FaultName(fault));
    auto faulty = Run(fault, kFaultyQuery, 1, &failed);
    ASSERT_TRUE(faulty);
    EXPECT_FALSE(failed);
    EXPECT_EQ(Dump(*faulty, kAllModels, true), want);
  }
}

// SQLite's disk fills up during a sync: the sync fails, nothing it wrote is half there (the
// database passes integrity_check), and once there is room again the next sync catches up, so
// the entities end as after any failed sync and the usage equals a run that never failed.
TEST_P(SyncFaultTest, DiskFullDuringSyncLosesNothing) {
  if (GetParam() != "sqlite") GTEST_SKIP() << "RLIMIT_FSIZE limits this process's files only";
  bool failed = false;
  auto reference = Run(Fault::kStatus500, 0, 0, &failed);
  ASSERT_TRUE(reference);
  auto clean = Run(Fault::kNone, 0, 0, &failed);
  ASSERT_TRUE(clean);
  auto full = Run(Fault::kDiskFull, 0, 0, &failed);
  ASSERT_TRUE(full);
  EXPECT_TRUE(failed) << "the sync wrote past the file size limit";
  const std::vector<std::string> entities = {"cluster",   "node",       "project",     "gpu",
                                             "gpu-slice", "allocation", "health-event"};
  EXPECT_EQ(Dump(*full, entities, false), Dump(*reference, entities, false));
  EXPECT_EQ(Dump(*full, {"usage"}, false), Dump(*clean, {"usage"}, false));
}

INSTANTIATE_TEST_SUITE_P(Backends, SyncFaultTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace aitelemetry::collect
