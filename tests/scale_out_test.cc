// Scaling out on one PostgreSQL (the ctest fixture "postgres"): two `serve` replicas and two
// `worker`s as subprocesses on loopback, the simulator as the hub. Replicas answer alike, live
// updates cross replicas within a second, a killed leader hands over within one interval without
// double counting, and a PostgreSQL restart fails one sync cleanly before syncs resume.
// Labelled "integration"; runs serially because it restarts the shared PostgreSQL.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/registry.h"
#include "store/sql.h"
#include "store/store.h"
#include "testing/process.h"

namespace aitelemetry {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
const std::string kBinary = std::string(AITELEMETRY_BINARY_DIR) + "/aitelemetry";
const fs::path kPgDir = fs::path(AITELEMETRY_BINARY_DIR) / "pg";
constexpr int kIntervalSeconds = 3;
using test_support::FreePort;
using test_support::Output;
using test_support::Process;
using test_support::Shell;
using test_support::Slurp;

// Waits until `ok` holds, checking every 50 ms, up to `limit`.
bool Until(const std::function<bool()>& ok, std::chrono::milliseconds limit) {
  auto until = Clock::now() + limit;
  while (Clock::now() < until) {
    if (ok()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return ok();
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string Get(const std::string& url) { return Output("curl -fsS --max-time 5 '" + url + "'"); }

// The value of `aitelemetry_leader{job="worker"}` at `base`, or -1.
int Leader(const std::string& base) {
  std::string m = Get(base + "/metrics");
  const std::string name = "aitelemetry_leader{job=\"worker\"} ";
  auto at = m.find(name);
  if (at == std::string::npos) return -1;
  return m.compare(at + name.size(), 1, "1") == 0 ? 1 : 0;
}

class ScaleOut : public ::testing::Test {
 protected:
  void SetUp() override {
    std::getline(std::ifstream(kPgDir / "url"), base_url_);
    ASSERT_FALSE(base_url_.empty()) << "PostgreSQL is started by the ctest fixture tests/pg.sh";
    auto admin = store::Connect(base_url_);
    ASSERT_TRUE(admin) << admin.error().message;
    const std::string name = "scale_" + std::to_string(::getpid());
    (void)(*admin)->Exec("DROP DATABASE IF EXISTS " + name);
    ASSERT_TRUE((*admin)->Exec("CREATE DATABASE " + name));
    url_ = base_url_.substr(0, base_url_.rfind('/') + 1) + name;
    dir_ = fs::path(::testing::TempDir()) / ("aitel-scale-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    if (!HasFailure()) fs::remove_all(dir_, ec);
  }

  // Runs a PostgreSQL server command on the fixture's data directory (as user postgres when
  // running as root, as tests/pg.sh does).
  int PgCtl(const std::string& args) {
    std::string bin = Output("ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1");
    while (!bin.empty() && bin.back() == '\n') bin.pop_back();
    std::string as_pg = ::getuid() == 0 ? "runuser -u postgres -- " : "";
    return Shell(as_pg + bin + "/pg_ctl -D '" + (kPgDir / "data").string() + "' -l '" +
                 (kPgDir / "server.log").string() + "' " + args + " > /dev/null 2>&1");
  }
  std::string PgPort() const {
    auto colon = base_url_.rfind(':');
    return base_url_.substr(colon + 1, base_url_.rfind('/') - colon - 1);
  }

  std::unique_ptr<store::Store> Db() {
    auto s = store::Store::Open({url_, 1, false});
    EXPECT_TRUE(s) << s.error().message;
    return s ? std::move(*s) : nullptr;
  }
  // The hub's last_sync_ok_at in nanoseconds (0 when none), read with a fresh connection.
  int64_t LastSyncOk() {
    auto db = Db();
    if (!db) return 0;
    auto row = db->Get(*model::FindModel("hub"), model::HubKey("sim"), store::Scope::All());
    if (!row) return 0;
    auto* v = std::get_if<int64_t>(&row->Get("last_sync_ok_at"));
    return v ? *v : 0;
  }
  int64_t Count(const std::string& base, const std::string& model) {
    auto body = Get(base + "/api/" + model + "?rows=0");
    if (body.empty()) return -1;
    return nlohmann::json::parse(body)["foundNum"].get<int64_t>();
  }

  std::string base_url_, url_;
  fs::path dir_;
};

TEST_F(ScaleOut, ReplicasWorkersHandoverAndRestart) {
  const auto test_start = Clock::now();
  const int sim_port = FreePort();
  Process sim(
      kBinary + " simulate --gpus 8 --seed 3 --listen 127.0.0.1:" + std::to_string(sim_port),
      dir_ / "sim.log");
  ASSERT_TRUE(Until(
      [&] { return !Get("http://127.0.0.1:" + std::to_string(sim_port) + "/healthz").empty(); },
      std::chrono::seconds(30)));
  const fs::path config = dir_ / "scale.yaml";
  std::ofstream(config) << "interval: " << kIntervalSeconds
                        << "s\nhubs:\n  - name: sim\n    exporters: [{url: \"http://127.0.0.1:"
                        << sim_port << "/metrics\"}]\n";
  // `env`: extra environment ("NAME=value ...") for the process.
  auto start = [&](const std::string& role, const std::string& name, std::string* base,
                   const std::string& env = "") {
    int port = FreePort();
    *base = "http://127.0.0.1:" + std::to_string(port);
    return std::make_unique<Process>((env.empty() ? "" : "env " + env + " ") + kBinary + " " +
                                         role + " --config '" + config.string() + "' --db '" +
                                         url_ + "' --listen 127.0.0.1:" + std::to_string(port),
                                     dir_ / (name + ".log"));
  };
  std::string w1_url, w2_url, r1_url, r2_url;
  // The first process migrates the fresh database; the others start on the migrated schema.
  auto w1 = start("worker", "w1", &w1_url);
  ASSERT_TRUE(Until([&] { return !Get(w1_url + "/readyz").empty(); }, std::chrono::seconds(30)))
      << Slurp(dir_ / "w1.log");
  auto w2 = start("worker", "w2", &w2_url);
  // Replica A answers without its response cache (api.cache_bytes: 0); B with (the default).
  auto r1 = start("serve", "r1", &r1_url, "AITELEMETRY_API__CACHE_BYTES=0");
  auto r2 = start("serve", "r2", &r2_url);
  for (const auto& [url, log] :
       {std::pair{w2_url, "w2.log"}, std::pair{r1_url, "r1.log"}, std::pair{r2_url, "r2.log"}}) {
    ASSERT_TRUE(Until([&] { return !Get(url + "/readyz").empty(); }, std::chrono::seconds(30)))
        << Slurp(dir_ / log);
  }

  // Exactly one worker leads, and its syncs land.
  ASSERT_TRUE(Until([&] { return Leader(w1_url) + Leader(w2_url) == 1; }, std::chrono::seconds(10)))
      << Slurp(dir_ / "w1.log") << Slurp(dir_ / "w2.log");
  ASSERT_TRUE(Until([&] { return Count(r1_url, "gpu") == 8; }, std::chrono::seconds(20)))
      << Slurp(dir_ / "w1.log") << Slurp(dir_ / "w2.log");

  // Both replicas give the same answer, B's second one from its cache.
  for (const char* q :
       {"/api/gpu?rows=100&fl=key,node,uuid,hub&sort=key%20asc",
        "/api/project?rows=100&fl=key,namespace&sort=key%20asc", "/api/hub?rows=10&fl=key,name"}) {
    std::string a = Get(r1_url + q), b = Get(r2_url + q), cached = Get(r2_url + q);
    ASSERT_FALSE(a.empty()) << q;
    EXPECT_EQ(a, b) << q;
    EXPECT_EQ(a, cached) << q;
  }
  EXPECT_EQ(Get(r1_url + "/metrics").find("aitelemetry_api_cache"), std::string::npos)
      << "api.cache_bytes: 0 means no cache";
  EXPECT_NE(Get(r2_url + "/metrics").find("aitelemetry_api_cache_requests_total{result=\"hit\"}"),
            std::string::npos);

  // An SSE client of replica B sees a change written through replica A within a second, and the
  // collector's per-sync summaries.
  {
    const fs::path events = dir_ / "events.txt";
    Process sse("curl -sN '" + r2_url + "/api/events?model=project'", events);
    ASSERT_TRUE(Until([&] { return Slurp(events).find("retry:") != std::string::npos; },
                      std::chrono::seconds(10)));
    auto projects = nlohmann::json::parse(Get(r1_url + "/api/project?rows=1&fl=key"));
    ASSERT_FALSE(projects["list"].empty());
    const std::string key = projects["list"][0]["key"];
    // What replica B answers about the project, from its cache when it can: a write committed
    // through replica A must show at once.
    auto b_sees = [&] {
      auto one = nlohmann::json::parse(Get(r2_url + "/api/project/" + key + "?fl=display_name"));
      auto list = nlohmann::json::parse(
          Get(r2_url + "/api/project?rows=1000&fl=key,display_name&fq=key:%22" + key + "%22"));
      std::string in_list = list["list"].empty() || list["list"][0]["display_name"].is_null()
                                ? ""
                                : list["list"][0]["display_name"].get<std::string>();
      std::string in_one =
          one["display_name"].is_null() ? "" : one["display_name"].get<std::string>();
      return in_one == in_list ? in_one : "(get and search differ)";
    };
    b_sees();
    b_sees();
    for (int i = 0; i < 3; ++i) {
      const std::string name = "scale-" + std::to_string(i);
      const auto before = Slurp(events).size();
      ASSERT_EQ(Shell("curl -fsS -o /dev/null -X PATCH -H 'Content-Type: application/json' -d "
                      "'{\"display_name\":\"" +
                      name + "\"}' '" + r1_url + "/api/project/" + key + "'"),
                0);
      const auto written = Clock::now();
      EXPECT_EQ(b_sees(), name) << "replica B after replica A's write";
      ASSERT_TRUE(Until(
          [&] {
            std::string text = Slurp(events).substr(before);
            return text.find("\"key\":\"" + key + "\",\"op\":\"update\"") != std::string::npos;
          },
          std::chrono::seconds(1)))
          << Slurp(events);
      std::printf("scale: replica B saw the change %.3f s after replica A wrote it\n",
                  Seconds(Clock::now() - written));
    }
    ASSERT_TRUE(Until([&] { return Slurp(events).find("\"op\":\"sync\"") != std::string::npos; },
                      std::chrono::seconds(2 * kIntervalSeconds + 2)))
        << Slurp(events);
  }

  // A GPU session delivered to both workers (Alertmanager retries anywhere) is stored once.
  const std::string webhook =
      std::string(AITELEMETRY_SOURCE_DIR) + "/src/trace/testdata/webhook_firing.json";
  for (const std::string& w : {w1_url, w2_url}) {
    ASSERT_EQ(Shell("curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' "
                    "--data-binary @'" +
                    webhook + "' '" + w + "/api/alerts'"),
              0);
  }
  const int64_t sessions = Count(r1_url, "session");
  ASSERT_EQ(sessions, 1);

  // SIGKILL the leader: the standby takes over within one interval and syncs resume.
  const bool first_leads = Leader(w1_url) == 1;
  Process& leader = first_leads ? *w1 : *w2;
  const std::string standby = first_leads ? w2_url : w1_url;
  const int64_t synced_before = LastSyncOk();
  const auto killed = Clock::now();
  leader.Stop(SIGKILL);
  ASSERT_TRUE(Until([&] { return Leader(standby) == 1; }, std::chrono::seconds(kIntervalSeconds)))
      << Slurp(dir_ / (first_leads ? "w2.log" : "w1.log"));
  std::printf("scale: standby took over %.3f s after the leader was killed\n",
              Seconds(Clock::now() - killed));
  ASSERT_TRUE(Until([&] { return LastSyncOk() > synced_before; },
                    std::chrono::seconds(2 * kIntervalSeconds)));
  std::printf("scale: syncs resumed %.3f s after the kill\n", Seconds(Clock::now() - killed));
  EXPECT_EQ(Count(r2_url, "session"), sessions);

  // No sync was counted twice: each device's samples in this hour are at most the grid times
  // since the test started.
  {
    auto db = Db();
    ASSERT_TRUE(db);
    auto hub = db->Get(*model::FindModel("hub"), model::HubKey("sim"), store::Scope::All());
    ASSERT_TRUE(hub);
    const int64_t through = std::get<int64_t>(hub->Get("usage_through"));
    const int64_t hour = through - through % 3'600'000'000'000;
    const int64_t interval = int64_t{kIntervalSeconds} * 1'000'000'000;
    const int64_t started =
        std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::system_clock::now().time_since_epoch() - (Clock::now() - test_start))
            .count();
    const int64_t first = std::max(hour, started - started % interval);
    const int64_t bound = (through - first) / interval + 1;
    store::QuerySpec spec;
    spec.rows = 100'000;
    spec.filters = {store::Filter::Eq("hour", hour)};
    auto rows = db->Query(*model::FindModel("usage"), spec, store::Scope::All());
    ASSERT_TRUE(rows) << rows.error().message;
    ASSERT_FALSE(rows->rows.empty());
    std::map<std::string, int64_t> samples;
    for (const auto& r : rows->rows) {
      samples[r.GetString("device_key")] += std::get<int64_t>(r.Get("samples"));
    }
    for (const auto& [device, n] : samples) EXPECT_LE(n, bound) << device;
  }

  // PostgreSQL restarts. While it is down the survivor either fails a sync (logged as a warning
  // and counted) or, when its leader task meets the outage first, stands by (the lock went with
  // the connection); either way it notices, and once the server is back it leads and syncs again
  // and the replicas answer. The worker's /metrics is not read meanwhile (it would clear the
  // broken connections before the sync meets them).
  const std::string survivor_log = first_leads ? "w2.log" : "w1.log";
  ASSERT_EQ(PgCtl("stop -m fast -w"), 0);
  // Down until the survivor has noticed (its leader task looks every 1.5 s), however slow the
  // machine: a fixed pause could end before anything met the stopped server.
  auto noticed = [&] {
    std::string log = Slurp(dir_ / survivor_log);
    return log.find("warning sync: hub sim:") != std::string::npos ||
           log.find("warning leader: lost the worker lock") != std::string::npos;
  };
  EXPECT_TRUE(Until(noticed, std::chrono::seconds(3 * kIntervalSeconds)))
      << Slurp(dir_ / survivor_log);
  ASSERT_EQ(PgCtl("start -w -t 30 -o \"-p " + PgPort() + " -k " + kPgDir.string() +
                  " -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200\""),
            0);
  const int64_t after_restart = LastSyncOk();
  ASSERT_TRUE(Until([&] { return LastSyncOk() > after_restart; },
                    std::chrono::seconds(3 * kIntervalSeconds)))
      << Slurp(dir_ / survivor_log);
  if (Slurp(dir_ / survivor_log).find("warning sync: hub sim:") != std::string::npos) {
    std::string metrics = Get(standby + "/metrics");
    const std::string errors = "aitelemetry_sync_errors_total{hub=\"sim\"} ";
    auto at = metrics.find(errors);
    ASSERT_NE(at, std::string::npos) << metrics;
    EXPECT_GE(std::stod(metrics.substr(at + errors.size())), 1.0) << metrics;
  }
  EXPECT_TRUE(Until([&] { return Leader(standby) == 1; }, std::chrono::seconds(5)));
  EXPECT_TRUE(Until([&] { return Count(r2_url, "gpu") == 8; }, std::chrono::seconds(5)));
  EXPECT_TRUE(Until([&] { return Count(r1_url, "gpu") == 8; }, std::chrono::seconds(5)));
  std::printf("scale: whole scenario %.1f s\n", Seconds(Clock::now() - test_start));
}

}  // namespace
}  // namespace aitelemetry
