// End-to-end test of the Traces feature with the real peers on loopback: the fleet simulator is
// scraped by Prometheus, which evaluates a copy of the shipped rules (deploy/prometheus/
// gpu-rules.yaml, only `for:` shortened) and sends alerts to Alertmanager, which runs the shipped
// receiver configuration (deploy/alertmanager/alertmanager.yml, pointed at this worker) and calls
// `aitelemetry worker`'s webhook, whose outbox exports spans to the OTLP test receiver
// (tests/otlp_receiver/server.mjs).
//
// The tests share one set of peers and run in order; the last one waits for simulated workloads
// to start and stop and then checks the whole run: every closed session became exactly one span,
// with the alert's times, and nothing is pending. The seed is chosen at start so that some
// workloads that never go idle start and stop inside the run; their sessions must begin and end
// within the rules' `for:` plus one evaluation and one scrape interval of their slot boundaries.
//
// Needs prometheus, prometheus-alertmanager, sed and node (with `npm ci` run at the repository
// root) on PATH; skipped, with the reason, when one is missing.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "alertmanager/shipped_config.h"
#include "core/time.h"
#include "sim/fleet.h"
#include "sim/workload.h"
#include "store/sql.h"
#include "testing/sim_time.h"
#include "trace/session_identity.h"
#include "trace/test_support.h"
#include "traces_e2e/peers.h"

namespace aitelemetry::e2e {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;
using model::FieldType;
using model::Value;

// The run's timing. Workloads change at multiples of kSlot; Prometheus scrapes and evaluates every
// kScrape / kEval; the session rules fire after kFor.
constexpr auto kSlot = 10s;
constexpr auto kScrape = 2s;
constexpr auto kEval = 2s;
constexpr auto kFor = 4s;
// Scheduling delay allowed on a loaded machine on top of the bounds above, and the earliest a
// sample can carry a new value (a scrape stamped just before the boundary answered just after).
constexpr auto kLate = 2s;
constexpr auto kEarly = 1s;
constexpr int kGpus = 16;
constexpr double kMigFraction = 0.2;  // simulate's default

const std::string kSessionAlert = "GpuWorkloadActive";

int64_t Ns(Timestamp t) { return ToUnixNanos(t); }
Timestamp FromNs(int64_t ns) { return Timestamp(Nanos(ns)); }
std::string Iso(int64_t ns) { return FormatRfc3339(FromNs(ns)); }

// A simulated holding the run must see from start to end.
struct Target {
  int unit = 0;
  sim::Holding holding;
  std::string pod;
};

struct Plan {
  uint64_t seed = 0;
  std::unique_ptr<sim::Fleet> fleet;
  std::vector<Target> targets;  // sorted by end
};

sim::FleetOptions FleetOptionsFor(uint64_t seed) {
  sim::FleetOptions o;
  o.seed = seed;
  o.gpus = kGpus;
  o.mig_fraction = kMigFraction;
  o.slot = kSlot;
  return o;
}

// Picks the seed whose fleet has at least two training or inference holdings (activity never
// 0, so each is exactly one alert occurrence) inside [from, to], ending earliest.
std::optional<Plan> ChoosePlan(Timestamp from, Timestamp to) {
  std::optional<Plan> best;
  Timestamp best_end = Timestamp::max();
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    auto fleet = sim::BuildFleet(FleetOptionsFor(seed));
    if (!fleet) continue;
    std::vector<Target> targets;
    const int64_t first = sim::SlotIndex(*fleet, from) + 1;
    const int64_t last = sim::SlotIndex(*fleet, to);
    for (int unit = 0; unit < static_cast<int>(fleet->units.size()); ++unit) {
      for (const sim::Holding& h : sim::HoldingsBetween(*fleet, unit, first, last)) {
        if (h.kind != sim::WorkloadKind::kTraining && h.kind != sim::WorkloadKind::kInference) {
          continue;
        }
        if (h.start_slot < first || h.end_slot > last) continue;
        Target t{unit, h, ""};
        sim::AppendPodName(h, &t.pod);
        targets.push_back(std::move(t));
      }
    }
    if (targets.size() < 2) continue;
    std::sort(targets.begin(), targets.end(), [](const Target& a, const Target& b) {
      return a.holding.end_slot < b.holding.end_slot;
    });
    targets.resize(2);
    Timestamp end = sim::SlotStart(*fleet, targets.back().holding.end_slot);
    if (end < best_end) {
      best_end = end;
      best = Plan{seed, std::make_unique<sim::Fleet>(std::move(*fleet)), std::move(targets)};
    }
  }
  return best;
}

// The unit of the fleet a session names: a whole GPU (gpu_i_id "") or one MIG slice.
std::optional<int> UnitOf(const sim::Fleet& fleet, const std::string& uuid,
                          const std::string& gpu_i_id) {
  for (int i = 0; i < static_cast<int>(fleet.units.size()); ++i) {
    const sim::Unit& u = fleet.units[i];
    if (fleet.gpus[u.gpu].uuid != uuid) continue;
    if (u.slice < 0 && gpu_i_id.empty()) return i;
    if (u.slice >= 0 && std::to_string(fleet.slices[u.slice].gpu_i_id) == gpu_i_id) return i;
  }
  return std::nullopt;
}

struct SessionRow {
  std::string fingerprint, status, trace_id, span_id, pod, gpu_uuid, gpu_i_id;
  int64_t started_at = 0;
  int64_t ended_at = 0;  // 0 while open
};

struct OutboxRow {
  std::string span_id, state;
  int64_t attempts = 0;
  int64_t next_attempt_at = 0;  // 0 when null
};

std::string Str(const Value& v) {
  auto* s = std::get_if<std::string>(&v);
  return s ? *s : "";
}
int64_t Int(const Value& v) {
  auto* i = std::get_if<int64_t>(&v);
  return i ? *i : 0;
}

// Everything the tests start, shared by all of them.
class Peers {
 public:
  // Starts every peer. Returns "" or why not; `skip` is set when a tool is missing.
  std::string Start(bool* skip) {
    for (const char* tool : {"prometheus", "prometheus-alertmanager", "sed"}) {
      if (std::system(fmt::format("command -v {} >/dev/null 2>&1", tool).c_str()) != 0) {
        *skip = true;
        return fmt::format("{} is not installed (scripts/setup installs it)", tool);
      }
    }
    if (!trace::test_support::ReceiverInstalled()) {
      *skip = true;
      return "node_modules missing: run `npm ci` at the repository root";
    }
    dir_ = std::string(AITELEMETRY_BINARY_DIR) + "/Testing/traces_e2e";
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    token_ = "e2e-token-5b0d1c7f";
    if (!WriteFile(dir_ + "/token", token_ + "\n")) return "cannot write the token file";

    if (auto problem = StartReceiver(); !problem.empty()) return problem;
    worker_port_ = FreePort();
    if (auto problem = StartWorker(); !problem.empty()) return problem;

    const int sim_port = FreePort();
    am_port_ = FreePort();
    if (auto problem = WriteAlertmanagerConfig(); !problem.empty()) return problem;
    if (auto problem = alertmanager_.Start(
            {"prometheus-alertmanager", "--config.file=" + dir_ + "/alertmanager.yml",
             "--storage.path=" + dir_ + "/alertmanager", "--cluster.listen-address=",
             fmt::format("--web.listen-address=127.0.0.1:{}", am_port_)},
            dir_ + "/alertmanager.log");
        !problem.empty()) {
      return problem;
    }
    if (auto problem = alertmanager_.WaitReady(AlertmanagerUrl() + "/-/ready", 30s);
        !problem.empty()) {
      return "alertmanager: " + problem;
    }
    poller_ = std::jthread([this](std::stop_token stop) { PollAlertmanager(stop); });

    if (auto problem = WriteRulesCopy(); !problem.empty()) return problem;
    const int prom_port = FreePort();
    const std::string prom_config = fmt::format(
        "global:\n  scrape_interval: {}s\n  evaluation_interval: {}s\n"
        "rule_files: ['{}/gpu-rules.yaml']\n"
        "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:{}']\n"
        "scrape_configs:\n  - job_name: dcgm-exporter\n    static_configs:\n"
        "      - targets: ['127.0.0.1:{}']\n",
        kScrape.count(), kEval.count(), dir_, am_port_, sim_port);
    if (!WriteFile(dir_ + "/prometheus.yml", prom_config)) return "cannot write prometheus.yml";
    if (auto problem =
            prometheus_.Start({"prometheus", "--config.file=" + dir_ + "/prometheus.yml",
                               "--storage.tsdb.path=" + dir_ + "/prometheus",
                               fmt::format("--web.listen-address=127.0.0.1:{}", prom_port)},
                              dir_ + "/prometheus.log");
        !problem.empty()) {
      return problem;
    }
    if (auto problem =
            prometheus_.WaitReady(fmt::format("http://127.0.0.1:{}/-/ready", prom_port), 30s);
        !problem.empty()) {
      return "prometheus: " + problem;
    }
    // Prometheus already tries to scrape the simulator's port: the simulator is up within a
    // second and scraped within kScrape, so workloads that start a few seconds from now are seen
    // from their first sample.
    // The simulator's clock runs at the test's simulated instant (testing/sim_time.h), shifted by
    // a whole number of milliseconds from real time; Prometheus, Alertmanager and the worker
    // stamp real times, so slot boundaries are compared after RealTime().
    sim_offset_ =
        std::chrono::duration_cast<std::chrono::milliseconds>(test_support::TestSimAt() - Now());
    plan_ = ChoosePlan(SimNow() + 8s, SimNow() + 90s);
    if (!plan_) return "no seed in 1..200 has two active workloads starting and ending soon";

    const auto offset_ms = std::chrono::duration_cast<std::chrono::milliseconds>(sim_offset_);
    if (auto problem = sim_.Start(
            {AITELEMETRY_BINARY_PATH, "simulate", "--gpus", std::to_string(kGpus), "--seed",
             std::to_string(plan_->seed), "--slot", fmt::format("{}s", kSlot.count()),
             fmt::format("--clock-offset={}ms", offset_ms.count()), "--listen",
             fmt::format("127.0.0.1:{}", sim_port)},
            dir_ + "/simulate.log");
        !problem.empty()) {
      return problem;
    }
    if (auto problem = sim_.WaitReady(fmt::format("http://127.0.0.1:{}/healthz", sim_port), 30s);
        !problem.empty()) {
      return "simulate: " + problem;
    }

    const Timestamp first_start =
        sim::SlotStart(*plan_->fleet, plan_->targets.front().holding.start_slot);
    for (const Target& t : plan_->targets) {
      if (sim::SlotStart(*plan_->fleet, t.holding.start_slot) < SimNow() + kScrape) {
        return fmt::format("the simulator came up too late ({}) for workloads starting at {}",
                           FormatRfc3339(SimNow()), FormatRfc3339(first_start));
      }
    }
    auto db = store::Connect("sqlite:" + DbPath());
    if (!db) return "cannot open the worker's database: " + db.error().message;
    db_ = std::move(*db);
    return "";
  }

  ~Peers() {
    if (poller_.joinable()) {
      poller_.request_stop();
      poller_.join();
    }
  }

  // Starts tests/otlp_receiver/server.mjs on a port of its choice.
  std::string StartReceiver() {
    const std::string log = dir_ + "/receiver.log";
    if (auto problem = receiver_.Start(
            {"node", std::string(AITELEMETRY_SOURCE_DIR) + "/tests/otlp_receiver/server.mjs", "0"},
            log);
        !problem.empty()) {
      return problem;
    }
    const std::regex listening("listening ([0-9]+)");
    std::smatch m;
    PollUntil(20s, [&] {
      std::string text = ReadFile(log);
      if (!std::regex_search(text, m, listening)) return !receiver_.Running();
      receiver_url_ = "http://127.0.0.1:" + m[1].str();
      return true;
    });
    if (receiver_url_.empty()) return "the OTLP receiver did not start:\n" + receiver_.LogTail();
    return "";
  }

  // Calls the receiver's test API and returns its JSON answer (null on failure).
  Json Receiver(const std::string& method, const std::string& path, const std::string& body = "") {
    auto r = Call(method, receiver_url_ + path, body);
    EXPECT_EQ(r.status, 200) << method << " " << path << ": " << r.body;
    return r.status == 200 ? Json::parse(r.body) : Json();
  }

  // (Re)starts the worker on the same port and database.
  std::string StartWorker() {
    const std::string config = fmt::format(
        "listen: 127.0.0.1:{}\ndb: sqlite:{}\nthreads: 2\n"
        "otlp:\n  endpoint: {}\nalerts:\n  bearer_token_file: {}/token\n",
        worker_port_, DbPath(), receiver_url_, dir_);
    if (!WriteFile(dir_ + "/worker.yaml", config)) return "cannot write worker.yaml";
    if (auto problem = worker_.Start(
            {AITELEMETRY_BINARY_PATH, "worker", "-c", dir_ + "/worker.yaml"}, dir_ + "/worker.log");
        !problem.empty()) {
      return problem;
    }
    if (auto problem = worker_.WaitReady(WorkerUrl() + "/healthz", 30s); !problem.empty()) {
      return "worker: " + problem;
    }
    return "";
  }

  // The simulator's clock now, and the real instant of a simulated one.
  Timestamp SimNow() const { return Now() + sim_offset_; }
  Timestamp RealTime(Timestamp simulated) const { return simulated - sim_offset_; }
  // The simulated instant of a real one.
  Timestamp SimTime(Timestamp real) const { return real + sim_offset_; }

  std::string DbPath() const { return dir_ + "/worker.db"; }
  std::string WorkerUrl() const { return fmt::format("http://127.0.0.1:{}", worker_port_); }
  std::string AlertmanagerUrl() const { return fmt::format("http://127.0.0.1:{}", am_port_); }
  const std::string& token() const { return token_; }
  const Plan& plan() const { return *plan_; }
  Child& worker() { return worker_; }
  store::SqlConnection& db() { return *db_; }

  // POSTs a webhook body to the worker with `authorization` (none when empty).
  http::ClientResponse PostAlerts(const std::string& body, const std::string& authorization) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!authorization.empty()) headers.emplace_back("Authorization", authorization);
    return Call("POST", WorkerUrl() + "/api/alerts", body, std::move(headers));
  }
  http::ClientResponse PostAlerts(const std::string& body) {
    return PostAlerts(body, "Bearer " + token_);
  }

  // startsAt values (ns) Alertmanager has shown for each session alert fingerprint.
  std::map<std::string, std::set<int64_t>> AlertmanagerStarts() {
    std::lock_guard lock(mu_);
    return starts_;
  }

  std::vector<std::vector<Value>> Rows(const std::string& sql, std::vector<FieldType> types,
                                       std::vector<Value> params = {}) {
    std::vector<std::vector<Value>> rows;
    // Copied, not moved: the SQLite connection reuses the vector for the next row.
    auto st = db_->Query(sql, params, types, [&](std::vector<Value>& row) { rows.push_back(row); });
    EXPECT_TRUE(st.has_value()) << sql << ": " << (st ? "" : st.error().message);
    return rows;
  }

  std::vector<SessionRow> Sessions() {
    std::vector<SessionRow> out;
    using enum FieldType;
    for (auto& r :
         Rows("SELECT fingerprint, status, trace_id, span_id, pod, gpu_uuid, gpu_i_id, "
              "started_at, ended_at FROM gpu_session ORDER BY started_at",
              {kString, kString, kString, kString, kString, kString, kString, kTime, kTime})) {
      out.push_back({Str(r[0]), Str(r[1]), Str(r[2]), Str(r[3]), Str(r[4]), Str(r[5]), Str(r[6]),
                     Int(r[7]), Int(r[8])});
    }
    return out;
  }

  std::vector<OutboxRow> Outbox() {
    std::vector<OutboxRow> out;
    using enum FieldType;
    for (auto& r : Rows("SELECT span_id, state, attempts, next_attempt_at FROM span_outbox",
                        {kString, kString, kInt, kTime})) {
      out.push_back({Str(r[0]), Str(r[1]), Int(r[2]), Int(r[3])});
    }
    return out;
  }

  std::optional<OutboxRow> OutboxFor(const std::string& span_id) {
    std::optional<OutboxRow> found;
    for (auto& row : Outbox()) {
      if (row.span_id != span_id) continue;
      EXPECT_FALSE(found) << "two outbox rows for span " << span_id;
      found = row;
    }
    return found;
  }

  int64_t Count(const std::string& sql, std::vector<Value> params) {
    auto rows = Rows(sql, {FieldType::kInt}, std::move(params));
    return rows.empty() ? -1 : Int(rows[0][0]);
  }

  // Spans the receiver accepted, by span id (a duplicate shows as a count above 1).
  std::map<std::string, std::vector<Json>> SpansById() {
    std::map<std::string, std::vector<Json>> out;
    for (const Json& s : Receiver("GET", "/spans")) {
      out[s["spanId"].get<std::string>()].push_back(s);
    }
    return out;
  }

  std::string Logs() { return "worker log:\n" + worker_.LogTail(); }

 private:
  // The shipped rules with every `for:` set to kFor, nothing else changed.
  std::string WriteRulesCopy() {
    const std::string shipped =
        std::string(AITELEMETRY_SOURCE_DIR) + "/deploy/prometheus/gpu-rules.yaml";
    const std::string copy = dir_ + "/gpu-rules.yaml";
    const std::string cmd = fmt::format(
        "sed -E 's/^([[:space:]]*)for: .*$/\\1for: {}s/' '{}' > '{}'", kFor.count(), shipped, copy);
    if (std::system(cmd.c_str()) != 0) return "sed failed: " + cmd;
    const std::string before = ReadFile(shipped), after = ReadFile(copy);
    const std::regex for_line("\n[ ]*for: ");
    auto count = [&](const std::string& s) {
      return std::distance(std::sregex_iterator(s.begin(), s.end(), for_line),
                           std::sregex_iterator());
    };
    if (count(before) < 2 || count(before) != count(after) || before.size() < after.size() / 2) {
      return "the rules copy did not come out as expected: " + copy;
    }
    return "";
  }

  // The shipped receiver and route pointed at this worker: its URL, the worker's static token in
  // place of oauth2 (tests/alerts_auth runs the oauth2 receiver), no TLS (http on loopback),
  // short grouping.
  std::string WriteAlertmanagerConfig() {
    YAML::Node shipped = test_support::LoadShippedAlertmanagerConfig();
    YAML::Node receiver = test_support::ShippedReceiver(shipped, "aitelemetry");
    if (!receiver || !test_support::ShippedRoute(shipped, "aitelemetry")) {
      return "the shipped Alertmanager configuration has no aitelemetry receiver and route";
    }
    YAML::Node webhook = receiver["webhook_configs"][0];
    webhook["url"] = WorkerUrl() + "/api/alerts";
    YAML::Node http_config = webhook["http_config"];
    http_config.remove("oauth2");
    http_config.remove("tls_config");
    http_config["authorization"]["type"] = "Bearer";
    http_config["authorization"]["credentials_file"] = dir_ + "/token";
    const std::string copy = dir_ + "/alertmanager.yml";
    const std::string text = test_support::TestAlertmanagerConfig(shipped, {{receiver, "", ""}});
    if (!WriteFile(copy, text)) return "cannot write " + copy;
    if (text.find("send_resolved: true") == std::string::npos ||
        text.find("aitelemetry=~") == std::string::npos) {
      return "the Alertmanager config copy did not come out as expected: " + copy;
    }
    return "";
  }

  // Records the startsAt of every session alert Alertmanager shows, until stopped.
  void PollAlertmanager(const std::stop_token& stop) {
    while (!stop.stop_requested()) {
      auto r = Call("GET", AlertmanagerUrl() + "/api/v2/alerts");
      if (r.status == 200) {
        Json alerts = Json::parse(r.body, nullptr, false);
        std::lock_guard lock(mu_);
        for (const Json& a : alerts.is_array() ? alerts : Json::array()) {
          if (a["labels"].value("aitelemetry", "") != "session") continue;
          auto t = ParseRfc3339(a.value("startsAt", ""));
          if (t) starts_[a.value("fingerprint", "")].insert(Ns(*t));
        }
      }
      std::this_thread::sleep_for(500ms);
    }
  }

  std::string dir_;
  std::string token_;
  int worker_port_ = 0;
  int am_port_ = 0;
  Nanos sim_offset_{0};  // the simulator's clock minus real time
  std::optional<Plan> plan_;
  std::string receiver_url_;
  Child receiver_, worker_, sim_, alertmanager_, prometheus_;
  std::unique_ptr<store::SqlConnection> db_;
  std::mutex mu_;
  std::map<std::string, std::set<int64_t>> starts_;  // guarded by mu_
  std::jthread poller_;  // declared last: stopped before the members it reads go away
};

// A webhook body (version 4) with one hand-made session alert. `ends_at` "" while firing.
std::string Webhook(const std::string& fingerprint, const std::string& starts_at,
                    const std::string& ends_at, const std::string& pod) {
  const bool resolved = !ends_at.empty();
  Json alert = {{"status", resolved ? "resolved" : "firing"},
                {"labels",
                 {{"alertname", kSessionAlert},
                  {"aitelemetry", "session"},
                  {"namespace", "e2e-handmade"},
                  {"pod", pod},
                  {"container", "main"},
                  {"UUID", "GPU-e2e00000-0000-4000-8000-000000000001"},
                  {"modelName", "NVIDIA A100-SXM4-40GB"}}},
                {"annotations", {{"summary", "hand-made"}}},
                {"startsAt", starts_at},
                {"endsAt", resolved ? ends_at : "0001-01-01T00:00:00Z"},
                {"generatorURL", "http://prometheus/graph"},
                {"fingerprint", fingerprint}};
  Json body = {{"version", "4"},
               {"groupKey", "{}:{alertname=\"GpuWorkloadActive\"}"},
               {"truncatedAlerts", 0},
               {"status", resolved ? "resolved" : "firing"},
               {"receiver", "aitelemetry"},
               {"groupLabels", {{"alertname", kSessionAlert}}},
               {"commonLabels", alert["labels"]},
               {"commonAnnotations", alert["annotations"]},
               {"externalURL", "http://alertmanager"},
               {"alerts", Json::array({alert})}};
  return body.dump();
}

std::string SpanIdOf(const std::string& fingerprint, const std::string& starts_at) {
  return trace::ToHex(trace::SpanIdFor({fingerprint, *ParseRfc3339(starts_at)}));
}

class TracesE2e : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    peers_ = new Peers();
    problem_ = peers_->Start(&skip_);
  }
  static void TearDownTestSuite() {
    delete peers_;
    peers_ = nullptr;
  }
  void SetUp() override {
    if (skip_) GTEST_FAIL() << problem_;  // scripts/setup installs every peer
    ASSERT_TRUE(problem_.empty()) << problem_;
  }

  // Waits until the receiver holds the span `span_id`; returns how many copies it holds.
  static size_t WaitForSpan(const std::string& span_id, std::chrono::milliseconds timeout) {
    size_t copies = 0;
    PollUntil(timeout, [&] {
      auto spans = peers_->SpansById();
      copies = spans.count(span_id) ? spans[span_id].size() : 0;
      return copies > 0;
    });
    return copies;
  }

  // Returns the outbox state of `span_id` once it is `want`, or the last one seen after
  // `timeout` ("" when there is no row).
  static std::string WaitForOutboxState(const std::string& span_id, const std::string& want,
                                        std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    std::string state;
    while (true) {
      auto row = peers_->OutboxFor(span_id);
      state = row ? row->state : "";
      if (state == want || std::chrono::steady_clock::now() > until) return state;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  // Expects the hand-made session `fingerprint`@`starts_at` closed at `ends_at`, with one outbox
  // row, and exported exactly once with those times.
  static void ExpectOneSpan(const std::string& fingerprint, const std::string& starts_at,
                            const std::string& ends_at) {
    const std::string span_id = SpanIdOf(fingerprint, starts_at);
    ASSERT_EQ(WaitForSpan(span_id, 60s), 1u) << span_id << "\n" << peers_->Logs();
    std::vector<SessionRow> mine;
    for (auto& s : peers_->Sessions()) {
      if (s.fingerprint == fingerprint) mine.push_back(s);
    }
    ASSERT_EQ(mine.size(), 1u) << fingerprint;
    EXPECT_EQ(mine[0].status, "closed");
    EXPECT_EQ(mine[0].span_id, span_id);
    EXPECT_EQ(mine[0].started_at, Ns(*ParseRfc3339(starts_at)));
    EXPECT_EQ(mine[0].ended_at, Ns(*ParseRfc3339(ends_at)));
    // The drainer marks the row sent once the collector has answered, just after the span
    // arrived there.
    EXPECT_EQ(WaitForOutboxState(span_id, "sent", 10s), "sent") << span_id;
    const Json span = peers_->SpansById()[span_id].front();
    EXPECT_EQ(span["traceId"], mine[0].trace_id);
    EXPECT_EQ(span["name"], "gpu.session");
    EXPECT_EQ(span["startTimeUnixNano"], std::to_string(mine[0].started_at));
    EXPECT_EQ(span["endTimeUnixNano"], std::to_string(mine[0].ended_at));
  }

  static Peers* peers_;
  static std::string problem_;
  static bool skip_;
};

Peers* TracesE2e::peers_ = nullptr;
std::string TracesE2e::problem_;
bool TracesE2e::skip_ = false;

TEST_F(TracesE2e, WebhookWithoutTheBearerTokenIsRefusedAndStoresNothing) {
  const std::string fp = "handmade-401";
  const std::string body = Webhook(fp, "2026-01-05T10:00:00Z", "2026-01-05T10:30:00Z", "nb-401");
  const std::vector<std::string> refused = {"", "Bearer wrong-token",
                                            "Bearer " + peers_->token() + "x",
                                            "Basic " + peers_->token(), peers_->token()};
  for (const std::string& authorization : refused) {
    auto r = peers_->PostAlerts(body, authorization);
    EXPECT_EQ(r.status, 401) << "Authorization: " << authorization << " -> " << r.body;
    EXPECT_NE(r.Header("www-authenticate").find("Bearer"), std::string::npos);
  }
  EXPECT_EQ(peers_->Count("SELECT count(*) FROM alert_inbox WHERE fingerprint = ?", {fp}), 0);
  EXPECT_EQ(peers_->Count("SELECT count(*) FROM gpu_session WHERE fingerprint = ?", {fp}), 0);
  EXPECT_FALSE(peers_->OutboxFor(SpanIdOf(fp, "2026-01-05T10:00:00Z")));

  // The same body with the token is stored: the refusals above were about the token alone.
  auto accepted = peers_->PostAlerts(body);
  ASSERT_EQ(accepted.status, 200) << accepted.body;
  EXPECT_EQ(peers_->Count("SELECT count(*) FROM alert_inbox WHERE fingerprint = ?", {fp}), 1);
  ExpectOneSpan(fp, "2026-01-05T10:00:00Z", "2026-01-05T10:30:00Z");
}

TEST_F(TracesE2e, ReplayedAndReorderedWebhooksGiveOneSessionAndOneSpan) {
  // Firing twice, then resolved twice, as Alertmanager's repeats and retries deliver them.
  const std::string fp1 = "handmade-replay", start1 = "2026-01-05T11:00:00.123456789Z",
                    end1 = "2026-01-05T11:45:10.5Z";
  const std::string firing1 = Webhook(fp1, start1, "", "nb-replay");
  const std::string resolved1 = Webhook(fp1, start1, end1, "nb-replay");
  auto r = peers_->PostAlerts(firing1);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json::parse(r.body)["sessionsOpened"], 1);
  r = peers_->PostAlerts(firing1);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json::parse(r.body)["sessionsOpened"], 0);
  r = peers_->PostAlerts(resolved1);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json::parse(r.body)["sessionsClosed"], 1);
  r = peers_->PostAlerts(resolved1);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json::parse(r.body)["sessionsClosed"], 0);

  // Resolved before firing (a lost or late firing notification), then the stale firing.
  const std::string fp2 = "handmade-reordered", start2 = "2026-01-05T12:00:00Z",
                    end2 = "2026-01-05T12:20:00Z";
  r = peers_->PostAlerts(Webhook(fp2, start2, end2, "nb-reordered"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json::parse(r.body)["sessionsClosed"], 1);
  r = peers_->PostAlerts(Webhook(fp2, start2, "", "nb-reordered"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json::parse(r.body)["sessionsOpened"], 0);

  ExpectOneSpan(fp1, start1, end1);
  ExpectOneSpan(fp2, start2, end2);

  // A replay after the export changes nothing either (the last test counts spans again).
  r = peers_->PostAlerts(resolved1);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json::parse(r.body)["sessionsClosed"], 0);
  EXPECT_EQ(WaitForOutboxState(SpanIdOf(fp1, start1), "sent", 10s), "sent");
}

TEST_F(TracesE2e, CollectorOutageLosesAndDuplicatesNothing) {
  peers_->Receiver("POST", "/control", R"({"fail":503})");
  const std::string fp = "handmade-outage", start = "2026-01-05T13:00:00Z",
                    end = "2026-01-05T13:05:00Z";
  const std::string span_id = SpanIdOf(fp, start);
  ASSERT_EQ(peers_->PostAlerts(Webhook(fp, start, "", "nb-outage")).status, 200);
  ASSERT_EQ(peers_->PostAlerts(Webhook(fp, start, end, "nb-outage")).status, 200);
  // The worker keeps trying: at least two refused attempts, the row still pending.
  bool retried = PollUntil(30s, [&] {
    auto row = peers_->OutboxFor(span_id);
    return row && row->attempts >= 2;
  });
  ASSERT_TRUE(retried) << peers_->Logs();
  auto row = peers_->OutboxFor(span_id);
  EXPECT_EQ(row->state, "pending");
  EXPECT_EQ(peers_->SpansById().count(span_id), 0u);

  peers_->Receiver("POST", "/control", R"({"fail":0})");
  ExpectOneSpan(fp, start, end);
}

TEST_F(TracesE2e, WorkerKilledBeforeExportLosesAndDuplicatesNothing) {
  peers_->Receiver("POST", "/control", R"({"fail":503})");
  const std::string fp = "handmade-crash", start = "2026-01-05T14:00:00Z",
                    end = "2026-01-05T14:10:00Z";
  const std::string span_id = SpanIdOf(fp, start);
  ASSERT_EQ(peers_->PostAlerts(Webhook(fp, start, "", "nb-crash")).status, 200);
  ASSERT_EQ(peers_->PostAlerts(Webhook(fp, start, end, "nb-crash")).status, 200);

  // SIGKILL while no drain pass holds a claim: with the database's write lock taken here, no pass
  // can claim a row, and a claim already made would show as a lease far in the future. (A worker
  // killed in the middle of an export leaves its claimed rows for the lease, 30 minutes, to pass;
  // that path is the outbox tests'.)
  bool killed = PollUntil(
      30s,
      [&] {
        auto& db = peers_->db();
        if (!db.Begin()) return false;
        bool claimed = false;
        for (const OutboxRow& row : peers_->Outbox()) {
          claimed = claimed || (row.state == "pending" && row.next_attempt_at > Ns(Now() + 10min));
        }
        if (!claimed) peers_->worker().KillHard();
        db.Rollback();
        return !claimed;
      },
      100ms);
  ASSERT_TRUE(killed);
  auto row = peers_->OutboxFor(span_id);
  ASSERT_TRUE(row) << "the webhook answered 200, so its span is stored";
  EXPECT_EQ(row->state, "pending");

  ASSERT_EQ(peers_->StartWorker(), "");
  // The new worker picks the row up (the collector still refuses it), then delivers it once.
  const int64_t attempts_at_kill = row->attempts;
  ASSERT_TRUE(PollUntil(30s, [&] {
    auto r = peers_->OutboxFor(span_id);
    return r && r->attempts > attempts_at_kill;
  })) << peers_->Logs();
  EXPECT_EQ(peers_->SpansById().count(span_id), 0u);
  peers_->Receiver("POST", "/control", R"({"fail":0})");
  ExpectOneSpan(fp, start, end);
}

TEST_F(TracesE2e, SimulatedWorkloadsBecomeOneSpanPerSessionWithTheAlertTimes) {
  const Plan& plan = peers_->plan();
  const sim::Fleet& fleet = *plan.fleet;
  const Timestamp last_end =
      peers_->RealTime(sim::SlotStart(fleet, plan.targets.back().holding.end_slot));
  for (const Target& t : plan.targets) {
    std::cout << fmt::format("seed {}: waiting for {} on unit {} from {} to {} (simulated)\n",
                             plan.seed, t.pod, t.unit,
                             FormatRfc3339(sim::SlotStart(fleet, t.holding.start_slot)),
                             FormatRfc3339(sim::SlotStart(fleet, t.holding.end_slot)));
  }
  auto target_sessions = [&](const Target& t) {
    std::vector<SessionRow> out;
    for (auto& s : peers_->Sessions()) {
      if (s.pod == t.pod && UnitOf(fleet, s.gpu_uuid, s.gpu_i_id) == t.unit) out.push_back(s);
    }
    return out;
  };
  const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(last_end - Now()) + 60s;
  bool closed = PollUntil(
      wait,
      [&] {
        for (const Target& t : plan.targets) {
          auto s = target_sessions(t);
          if (s.empty() || s.back().status != "closed") return false;
        }
        return true;
      },
      1s);
  ASSERT_TRUE(closed) << peers_->Logs();

  // Each target workload: one session (its activity never drops to 0), starting once the rule's
  // `for:` has passed after the slot boundary where the workload began, within one scrape and one
  // evaluation, and ending within one scrape and one evaluation of the boundary where it stopped.
  for (const Target& t : plan.targets) {
    SCOPED_TRACE(t.pod);
    auto sessions = target_sessions(t);
    ASSERT_EQ(sessions.size(), 1u);
    const Timestamp began = peers_->RealTime(sim::SlotStart(fleet, t.holding.start_slot));
    const Timestamp stopped = peers_->RealTime(sim::SlotStart(fleet, t.holding.end_slot));
    const int64_t start = sessions[0].started_at, end = sessions[0].ended_at;
    std::cout << fmt::format(
        "{}: startsAt = start boundary + {:.3f} s, endsAt = end boundary + {:.3f} s\n", t.pod,
        static_cast<double>(start - Ns(began)) / 1e9, static_cast<double>(end - Ns(stopped)) / 1e9);
    EXPECT_GE(start, Ns(began + kFor - kEarly)) << Iso(start);
    EXPECT_LE(start, Ns(began + kFor + kScrape + kEval + kLate)) << Iso(start);
    EXPECT_GE(end, Ns(stopped - kEarly)) << Iso(end);
    EXPECT_LE(end, Ns(stopped + kScrape + kEval + kLate)) << Iso(end);
  }

  // The whole run: every closed session has exactly one span, every span a closed session, nothing
  // pending or dead. Sessions close concurrently, so wait until one snapshot agrees.
  std::vector<SessionRow> sessions;
  std::map<std::string, std::vector<Json>> spans;
  std::vector<OutboxRow> outbox;
  auto agree = [&] {
    sessions = peers_->Sessions();
    spans = peers_->SpansById();
    outbox = peers_->Outbox();
    size_t closed_count = 0;
    for (const auto& s : sessions) {
      if (s.status != "closed") continue;
      ++closed_count;
      if (!spans.count(s.span_id)) return false;
    }
    bool pending = std::any_of(outbox.begin(), outbox.end(),
                               [](const OutboxRow& r) { return r.state != "sent"; });
    return !pending && closed_count == spans.size() && outbox.size() == spans.size() &&
           peers_->Sessions().size() == sessions.size();
  };
  ASSERT_TRUE(PollUntil(60s, agree, 1s)) << peers_->Logs();

  const auto am_starts = peers_->AlertmanagerStarts();
  size_t real = 0;
  for (const SessionRow& s : sessions) {
    if (s.status != "closed") continue;
    SCOPED_TRACE(fmt::format("{} {} {}@{}", s.pod, s.gpu_uuid, s.fingerprint, Iso(s.started_at)));
    ASSERT_EQ(spans[s.span_id].size(), 1u) << "span exported more than once";
    const Json& span = spans[s.span_id].front();
    EXPECT_EQ(span["traceId"], s.trace_id);
    EXPECT_EQ(span["name"], "gpu.session");
    EXPECT_EQ(span["startTimeUnixNano"], std::to_string(s.started_at));
    EXPECT_EQ(span["endTimeUnixNano"], std::to_string(s.ended_at));
    EXPECT_EQ(span["attributes"]["k8s.pod.name"], s.pod);
    EXPECT_EQ(span["attributes"]["gpu.uuid"], s.gpu_uuid);
    if (s.fingerprint.starts_with("handmade-")) continue;  // checked by the tests above
    ++real;
    // Alertmanager showed this occurrence with this very startsAt.
    auto seen = am_starts.find(s.fingerprint);
    ASSERT_NE(seen, am_starts.end()) << "Alertmanager never showed this alert";
    EXPECT_TRUE(seen->second.count(s.started_at)) << "startsAt differs from Alertmanager's";
    // It is a simulated workload: the pod that held that GPU (or slice) then, and it ended by
    // the time its holding did.
    auto unit = UnitOf(fleet, s.gpu_uuid, s.gpu_i_id);
    ASSERT_TRUE(unit) << "no such GPU in the fleet";
    auto holding = sim::HoldingAt(
        fleet, *unit, sim::SlotIndex(fleet, peers_->SimTime(FromNs(s.started_at) - kFor)));
    ASSERT_TRUE(holding) << "the GPU was free when the alert started";
    std::string pod;
    sim::AppendPodName(*holding, &pod);
    EXPECT_EQ(s.pod, pod);
    EXPECT_LE(s.ended_at, Ns(peers_->RealTime(sim::SlotStart(fleet, holding->end_slot)) + kScrape +
                             kEval + kLate));
  }
  EXPECT_GE(real, plan.targets.size());
  std::cout << fmt::format("{} sessions ({} closed from simulated workloads), {} spans\n",
                           sessions.size(), real, spans.size());

  // The worker's metrics agree with its outbox (read again: sessions may have closed since).
  std::string metrics;
  bool metrics_agree = PollUntil(30s, [&] {
    const int64_t sent =
        peers_->Count("SELECT count(*) FROM span_outbox WHERE state = ?", {std::string("sent")});
    const int64_t total = peers_->Count("SELECT count(*) FROM span_outbox", {});
    metrics = Call("GET", peers_->WorkerUrl() + "/metrics").body;
    return sent == total &&
           metrics.find(fmt::format("\naitelemetry_spans_exported_total {}\n", sent)) !=
               std::string::npos &&
           metrics.find("\naitelemetry_spans_pending 0\n") != std::string::npos &&
           metrics.find("\naitelemetry_spans_failed_total 0\n") != std::string::npos;
  });
  EXPECT_TRUE(metrics_agree) << metrics;
}

}  // namespace
}  // namespace aitelemetry::e2e
