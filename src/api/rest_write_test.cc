// PATCH rules, usage reports and live change events over HTTP against the real server, on SQLite
// and PostgreSQL.
#include <algorithm>
#include <cmath>

#include "api/rest_test_util.h"
#include "model/record.h"

namespace aitelemetry::api {
namespace {

using model::Record;
using testing::Get;
using testing::JsonOf;

class RestWriteTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    testing::OpenFreshStore(GetParam(), &url_, &store_);
    if (HasFatalFailure()) return;
    events_.poll = std::chrono::milliseconds(50);
    events_.heartbeat = std::chrono::milliseconds(300);
    server_ = std::make_unique<testing::RestServer>(*store_, events_);
    base_ = server_->base();
  }

  http::ClientResponse Patch(const std::string& path, const std::string& caller,
                             const std::string& body,
                             std::vector<std::pair<std::string, std::string>> headers = {
                                 {"Content-Type", "application/merge-patch+json"}}) {
    http::ClientRequest req;
    req.method = "PATCH";
    req.url = base_ + path;
    req.body = body;
    req.headers = std::move(headers);
    req.headers.emplace_back("X-Test-Caller", caller);
    auto r = client_.Send(req);
    if (!r) {
      ADD_FAILURE() << r.error().ToString();
      return {};
    }
    return *r;
  }

  std::string url_;
  std::unique_ptr<store::Store> store_;
  EventHubOptions events_;
  std::unique_ptr<testing::RestServer> server_;
  std::string base_;
  http::HttpClient client_;
};

Record Project(const std::string& hub, const std::string& cluster, const std::string& ns) {
  Record r(*model::FindModel("project"));
  r.Set("key", model::ProjectKey(hub, cluster, ns));
  r.Set("hub", hub);
  r.Set("cluster", cluster);
  r.Set("namespace", ns);
  r.Set("state", std::string("active"));
  return r;
}

TEST_P(RestWriteTest, PatchFollowsTheRules) {
  const model::Model& pm = *model::FindModel("project");
  std::vector<Record> projects = {Project("moc", "c1", "proj-a"), Project("moc", "c1", "proj-b")};
  ASSERT_TRUE(store_->Upsert(pm, projects));
  std::string a = "/api/project/" + projects[0].Key();
  std::string b = "/api/project/" + projects[1].Key();
  auto seq0 = *store_->LastChangeSeq();

  // An admin edits editable fields; the change is stored, returned and logged in the feed.
  auto ok = Patch(a, "admin", R"({"display_name":"Project A","owner":"pi@example.org"})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(JsonOf(ok)["display_name"], "Project A");
  auto stored = store_->Get(pm, projects[0].Key(), store::Scope::All());
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->GetString("owner"), "pi@example.org");
  EXPECT_EQ(*store_->LastChangeSeq(), seq0 + 1);
  // Merge-patch null clears a field; plain application/json is accepted too.
  auto cleared = Patch(a, "admin", R"({"owner":null})", {{"Content-Type", "application/json"}});
  ASSERT_EQ(cleared.status, 200) << cleared.body;
  EXPECT_TRUE(JsonOf(cleared)["owner"].is_null());

  struct Case {
    std::string path, caller, body, content_type;
    int status;
    std::string detail;
  };
  const std::string json = "application/json";
  const std::vector<Case> cases = {
      // Not an admin and no patch grant: 403 on a visible row, 404 on an invisible one.
      {a, "researcher", R"({"display_name":"x"})", json, 403, "no permission"},
      {b, "researcher", R"({"display_name":"x"})", json, 404, "not found"},
      {b, "manager", R"({"display_name":"x"})", json, 404, "not found"},
      {"/api/project/HUB-none", "admin", R"({"display_name":"x"})", json, 404, "not found"},
      {a, "nobody", R"({"display_name":"x"})", json, 401, ""},
      // Fields that are not editable, unknown or mistyped; bodies that are not objects.
      {a, "admin", R"({"namespace":"evil"})", json, 400, "not editable"},
      {a, "admin", R"({"state":"gone"})", json, 400, "not editable"},
      {a, "admin", R"({"key":"x"})", json, 400, "not editable"},
      {a, "admin", R"({"nope":1})", json, 400, "not editable"},
      {a, "admin", R"({"display_name":42})", json, 400, "expected string"},
      {a, "admin", R"(["display_name"])", json, 400, "JSON object"},
      {a, "admin", R"({"display_name":"x")", json, 400, "JSON object"},
      {a, "admin", "", json, 400, "JSON object"},
      {a, "admin", R"({"display_name":"x"})", "text/plain", 415, ""},
      {a, "admin", R"({"display_name":"x"})", "", 415, ""},
      {"/api/nope/x", "admin", R"({"display_name":"x"})", json, 400, "unknown model"},
      {"/api/alert-inbox/x", "admin", R"({"processed":true})", json, 400, "unknown model"},
      // Browser sessions must echo the CSRF token.
      {a, "browser", R"({"display_name":"x"})", json, 403, "X-CSRF-Token"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.caller + " " + c.path + " " + c.body);
    std::vector<std::pair<std::string, std::string>> headers;
    if (!c.content_type.empty()) headers.emplace_back("Content-Type", c.content_type);
    auto r = Patch(c.path, c.caller, c.body, headers);
    EXPECT_EQ(r.status, c.status) << r.body;
    if (!c.detail.empty()) {
      EXPECT_NE(r.body.find(c.detail), std::string::npos) << r.body;
    }
  }
  auto wrong = Patch(a, "browser", R"({"display_name":"x"})",
                     {{"Content-Type", json}, {"X-CSRF-Token", "csrf-0123456788"}});
  EXPECT_EQ(wrong.status, 403);
  auto right = Patch(a, "browser", R"({"display_name":"From the browser"})",
                     {{"Content-Type", json}, {"X-CSRF-Token", "csrf-0123456789"}});
  EXPECT_EQ(right.status, 200) << right.body;
  // A holder of a patch grant on the project may edit it.
  auto managed = Patch(a, "manager", R"({"description":"managed"})");
  EXPECT_EQ(managed.status, 200) << managed.body;
  // Nothing the refused requests carried reached the store.
  auto after = store_->Get(pm, projects[0].Key(), store::Scope::All());
  ASSERT_TRUE(after);
  EXPECT_EQ(after->GetString("display_name"), "From the browser");
  EXPECT_EQ(after->GetString("description"), "managed");
  EXPECT_EQ(after->GetString("namespace"), "proj-a");
  auto other = store_->Get(pm, projects[1].Key(), store::Scope::All());
  EXPECT_TRUE(other->GetString("display_name").empty());
}

// One usage row: device `device` of (hub, cluster, project or "") in `hour` (RFC 3339).
Record Usage(const std::string& hub, const std::string& cluster, const std::string& project,
             const std::string& node, const std::string& device, const std::string& model_name,
             const std::string& hour, double allocated, double equivalent, double active,
             double idle, double energy) {
  Record r(*model::FindModel("usage"));
  r.Set("key", device + "@" + project + "@" + hour);
  r.Set("hub", hub);
  r.Set("cluster", cluster);
  if (!project.empty()) r.Set("project", project);
  r.Set("node", node);
  r.Set("device_key", device);
  r.Set("model_name", model_name);
  r.Set("hour", ToUnixNanos(*ParseRfc3339(hour)));
  r.Set("allocated_seconds", allocated);
  r.Set("gpu_equivalent_seconds", equivalent);
  r.Set("active_seconds", active);
  r.Set("idle_seconds", idle);
  r.Set("energy_joules", energy);
  r.Set("samples", int64_t{120});
  r.Set("observed_seconds", allocated);
  r.Set("unobserved_seconds", 0.0);
  return r;
}

TEST_P(RestWriteTest, UsageSumsMatchHandComputedValues) {
  const double third = 3600.0 * 3 / 7;  // a 3g slice held for an hour
  std::vector<Record> rows = {
      // proj-a: a whole A100 busy half the hour, a 3g slice held all hour at half activity.
      Usage("moc", "c1", "proj-a", "n1", "gpu-1", "A100", "2026-01-31T23:00:00Z", 3600, 3600, 1800,
            900, 1000),
      Usage("moc", "c1", "proj-a", "n1", "gpu-2-s1", "A100", "2026-01-31T23:00:00Z", 3600, third,
            third / 2, 0, 200),
      // proj-a again, next hour (the next month), same GPU.
      Usage("moc", "c1", "proj-a", "n1", "gpu-1", "A100", "2026-02-01T00:00:00Z", 3600, 3600, 3600,
            0, 2000),
      // proj-b held an H100 for half an hour and left it idle; nobody held it the other half.
      Usage("moc", "c1", "proj-b", "n2", "gpu-3", "H100", "2026-02-01T00:00:00Z", 1800, 1800, 0,
            1800, 300),
      Usage("moc", "c1", "", "n2", "gpu-3", "H100", "2026-02-01T00:00:00Z", 1800, 1800, 0, 0, 100),
      // Another hub entirely, and a row outside the asked range.
      Usage("other", "c9", "proj-z", "n9", "gpu-9", "L40S", "2026-02-01T05:00:00Z", 3600, 3600, 360,
            0, 500),
      Usage("moc", "c1", "proj-a", "n1", "gpu-1", "A100", "2026-03-05T00:00:00Z", 3600, 3600, 3600,
            0, 9999),
  };
  // The slice's exporter was down for half an hour besides: proj-a observed 6/7 of its time.
  rows[1].Set("unobserved_seconds", 1800.0);
  ASSERT_TRUE(store_->Upsert(*model::FindModel("usage"), rows));
  const std::string range = "&from=2026-01-31T00:00:00Z&to=2026-02-02T00:00:00Z";
  auto report = [&](const std::string& query, const std::string& caller) {
    auto r = Get(client_, base_ + "/api/usage?" + query + range, caller);
    EXPECT_EQ(r.status, 200) << r.body;
    return JsonOf(r);
  };
  auto near = [](const nlohmann::json& j, double want) {
    EXPECT_TRUE(j.is_number()) << j;
    if (j.is_number()) {
      EXPECT_NEAR(j.get<double>(), want, 1e-9);
    }
  };

  auto by_project = report("groupBy=project", "admin");
  EXPECT_EQ(by_project["groupBy"], "project");
  EXPECT_EQ(by_project["from"], "2026-01-31T00:00:00Z");
  EXPECT_TRUE(by_project["step"].is_null());
  ASSERT_EQ(by_project["rows"].size(), 4u);  // the unattributed time, proj-a, proj-b, proj-z
  std::map<std::string, nlohmann::json> p;
  for (const auto& row : by_project["rows"]) p[row["key"].is_null() ? "" : row["key"]] = row;
  const auto& pa = p[model::ProjectKey("moc", "c1", "proj-a")];
  near(pa["allocated_gpu_hours"], 3.0);
  near(pa["gpu_equivalent_hours"], 2.0 + 3.0 / 7);
  near(pa["active_gpu_hours"], 0.5 + 1.5 / 7 + 1.0);
  near(pa["idle_gpu_hours"], 0.25);
  near(pa["energy_joules"], 3200);
  near(pa["efficiency"], (0.5 + 1.5 / 7 + 1.0) / (2.0 + 3.0 / 7));
  near(pa["coverage"], 1.0);
  near(pa["observed_fraction"], 6.0 / 7);
  const auto& pb = p[model::ProjectKey("moc", "c1", "proj-b")];
  near(pb["allocated_gpu_hours"], 0.5);
  near(pb["idle_gpu_hours"], 0.5);
  near(pb["efficiency"], 0.0);
  near(pb["observed_fraction"], 1.0);
  const auto& unattributed = p[""];
  near(unattributed["allocated_gpu_hours"], 0.0);
  near(unattributed["energy_joules"], 100);
  near(unattributed["coverage"], 0.0);
  EXPECT_TRUE(unattributed["efficiency"].is_null());

  auto by_cluster = report("groupBy=cluster&hub=moc", "admin");
  ASSERT_EQ(by_cluster["rows"].size(), 1u);
  const auto& c1 = by_cluster["rows"][0];
  EXPECT_EQ(c1["key"], model::ClusterKey("moc", "c1"));
  near(c1["allocated_gpu_hours"], 3.5);
  near(c1["energy_joules"], 3600);
  near(c1["coverage"], (3 * 3600.0 + 1800) / (3 * 3600.0 + 3600));
  near(c1["observed_fraction"], 8.0 / 9);  // the cluster's devices: 4 h observed, 1/2 h not

  auto by_model = report("groupBy=model&model=A100&model=H100", "admin");
  ASSERT_EQ(by_model["rows"].size(), 2u);
  EXPECT_EQ(by_model["rows"][0]["key"], "A100");
  near(by_model["rows"][1]["allocated_gpu_hours"], 0.5);

  // Month buckets split at the UTC month boundary; day and hour buckets too.
  auto monthly = report("groupBy=project&project=proj-a&step=month", "admin");
  ASSERT_EQ(monthly["rows"].size(), 2u);
  EXPECT_EQ(monthly["rows"][0]["time"], "2026-01-01T00:00:00Z");
  near(monthly["rows"][0]["allocated_gpu_hours"], 2.0);
  EXPECT_EQ(monthly["rows"][1]["time"], "2026-02-01T00:00:00Z");
  near(monthly["rows"][1]["allocated_gpu_hours"], 1.0);
  auto daily = report("groupBy=hub&step=day", "admin");
  ASSERT_EQ(daily["rows"].size(), 3u);  // moc on Jan 31 and Feb 1, other on Feb 1
  EXPECT_EQ(daily["rows"][0]["key"], "HUB-moc");
  EXPECT_EQ(daily["rows"][0]["time"], "2026-01-31T00:00:00Z");
  auto hourly = report("groupBy=gpu&node=n2&step=hour", "admin");
  ASSERT_EQ(hourly["rows"].size(), 1u);
  EXPECT_EQ(hourly["rows"][0]["key"], "gpu-3");
  near(hourly["rows"][0]["coverage"], 0.5);

  // The researcher (moc / c1 / proj-a) sees only proj-a's hours, whatever the grouping.
  for (const std::string group : {"project", "cluster", "hub", "node", "gpu", "model"}) {
    auto mine = report("groupBy=" + group, "researcher");
    double allocated = 0, energy = 0;
    for (const auto& row : mine["rows"]) {
      allocated += row["allocated_gpu_hours"].get<double>();
      energy += row["energy_joules"].get<double>();
      near(row["coverage"], 1.0);
    }
    EXPECT_NEAR(allocated, 3.0, 1e-9) << group;
    EXPECT_NEAR(energy, 3200, 1e-9) << group;
  }

  // CSV: a header, one line per row, keys neutralised like any text cell.
  auto csv = Get(client_, base_ + "/api/usage?groupBy=project&format=csv" + range, "researcher");
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.Header("content-type"), "text/csv; charset=utf-8");
  const std::string header =
      "key,allocated_gpu_hours,gpu_equivalent_hours,active_gpu_hours,idle_gpu_hours,"
      "energy_joules,efficiency,coverage,observed_fraction\r\n";
  ASSERT_TRUE(csv.body.starts_with(header)) << csv.body;
  std::string line = csv.body.substr(header.size());
  ASSERT_TRUE(line.ends_with("\r\n"));
  EXPECT_EQ(line.find("\r\n"), line.size() - 2);  // exactly one row
  std::vector<std::string> cells;
  for (size_t pos = 0, comma; pos <= line.size() - 2; pos = comma + 1) {
    comma = line.find_first_of(",\r", pos);
    cells.push_back(line.substr(pos, comma - pos));
    if (line[comma] == '\r') break;
  }
  ASSERT_EQ(cells.size(), 9u) << line;
  EXPECT_EQ(cells[0], model::ProjectKey("moc", "c1", "proj-a"));
  const double want[] = {3.0,  2.0 + 3.0 / 7, 0.5 + 1.5 / 7 + 1.0,
                         0.25, 3200,          (0.5 + 1.5 / 7 + 1.0) / (2.0 + 3.0 / 7),
                         1.0,  6.0 / 7};
  for (size_t i = 0; i < 8; ++i) EXPECT_NEAR(std::stod(cells[i + 1]), want[i], 1e-9) << i;
  // Without groupBy, /api/usage searches the hourly rows like any model.
  auto search = Get(client_, base_ + "/api/usage?rows=0&stats.field=energy_joules", "researcher");
  ASSERT_EQ(search.status, 200);
  EXPECT_EQ(JsonOf(search)["foundNum"], 4);
}

// Reads SSE frames from /api/events until `until` appears in the stream or the timeout passes.
std::string ReadEvents(int port, const std::string& query, const std::string& caller,
                       const std::string& until, const std::string& extra_headers = "") {
  return testing::RawExchange(
      port,
      "GET /api/events" + query + " HTTP/1.1\r\nHost: t\r\nX-Test-Caller: " + caller + "\r\n" +
          extra_headers + "\r\n",
      [&](const std::string& got) { return got.find(until) != std::string::npos; },
      std::chrono::seconds(5));
}

TEST_P(RestWriteTest, EventsStreamVisibleChangesAndResume) {
  auto at = *ParseRfc3339("2026-01-01T00:00:00Z");
  auto change = [&](const char* model, const char* key, const char* project) {
    store::Change c;
    c.model = model;
    c.key = key;
    c.op = "state";
    c.hub = "moc";
    c.cluster = "c1";
    c.project = project;
    c.at = at;
    return c;
  };
  ASSERT_TRUE(store_->AppendChanges({change("gpu", "old-change", "proj-a")}));
  // A live stream starts at the newest change: the old one is not replayed.
  testing::SseClient stream(server_->port(), testing::EventsRequest("?model=gpu", "researcher"));
  ASSERT_TRUE(stream.ReadUntil("retry: 2000")) << stream.received();
  ASSERT_TRUE(store_->AppendChanges(
      {change("gpu", "hidden-gpu", "proj-b"), change("project", "visible-project", "proj-a"),
       change("gpu", "visible-gpu", "proj-a"), change("gpu", "ownerless-gpu", "")}));
  ASSERT_TRUE(stream.ReadUntil("visible-gpu")) << stream.received();
  std::string live = stream.received();
  EXPECT_NE(live.find("Content-Type: text/event-stream"), std::string::npos) << live;
  EXPECT_NE(live.find("retry: 2000"), std::string::npos);
  EXPECT_NE(live.find("id: 4\nevent: change\ndata: {\"seq\":4,\"model\":\"gpu\",\"key\":"
                      "\"visible-gpu\",\"op\":\"state\",\"at\":\"2026-01-01T00:00:00Z\","
                      "\"hub\":\"moc\",\"cluster\":\"c1\",\"project\":\"proj-a\"}\n\n"),
            std::string::npos)
      << live;
  for (const char* hidden : {"old-change", "hidden-gpu", "visible-project", "ownerless-gpu"}) {
    EXPECT_EQ(live.find(hidden), std::string::npos) << hidden;
  }
  // Resuming with Last-Event-ID replays what came after it, still filtered by scope.
  std::string resumed =
      ReadEvents(server_->port(), "", "researcher", "visible-gpu", "Last-Event-ID: 0\r\n");
  auto first = resumed.find("old-change");
  auto second = resumed.find("visible-project");
  auto third = resumed.find("visible-gpu");
  ASSERT_NE(first, std::string::npos) << resumed;
  ASSERT_NE(second, std::string::npos) << resumed;
  ASSERT_NE(third, std::string::npos) << resumed;
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  EXPECT_EQ(resumed.find("hidden-gpu"), std::string::npos);
  EXPECT_EQ(resumed.find("ownerless-gpu"), std::string::npos);
  // The admin sees everything; a quiet stream sends heartbeats.
  std::string all = ReadEvents(server_->port(), "?lastEventId=1", "admin", ": heartbeat");
  for (const char* key : {"hidden-gpu", "visible-project", "visible-gpu", "ownerless-gpu"}) {
    EXPECT_NE(all.find(key), std::string::npos) << key;
  }
  EXPECT_EQ(all.find("old-change"), std::string::npos);
  EXPECT_NE(all.find(": heartbeat"), std::string::npos);
  // Trimming keeps the newest change, so seqs never restart.
  auto trimmed = store_->TrimChanges(at + std::chrono::hours(1));
  ASSERT_TRUE(trimmed) << trimmed.error().ToString();
  EXPECT_EQ(*trimmed, 4);
  EXPECT_EQ(*store_->LastChangeSeq(), 5);
}

// Many open streams hold no thread: a store-backed search stays prompt while 50 are open on a
// server with two I/O threads, and every stream still gets a change committed after they opened.
TEST_P(RestWriteTest, FiftyOpenStreamsDoNotSlowOtherRequests) {
  testing::FillGenericRows(*store_, 20);
  if (HasFatalFailure()) return;
  std::vector<std::unique_ptr<testing::SseClient>> streams;
  for (int i = 0; i < 50; ++i) {
    streams.push_back(std::make_unique<testing::SseClient>(
        server_->port(), testing::EventsRequest("?model=gpu", i % 2 ? "admin" : "researcher")));
  }
  for (auto& s : streams) ASSERT_TRUE(s->ReadUntil("retry: 2000")) << s->received();
  std::vector<double> millis;
  for (int i = 0; i < 15; ++i) {
    auto started = std::chrono::steady_clock::now();
    // rows and start vary so that no answer comes from a cache.
    auto r = Get(client_, base_ + "/api/gpu?rows=5&start=" + std::to_string(i), "admin");
    millis.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count());
    ASSERT_EQ(r.status, 200) << r.body;
  }
  std::sort(millis.begin(), millis.end());
  EXPECT_LT(millis[millis.size() / 2], 100.0) << "median of a store-backed search, in ms";
  store::Change c;
  c.model = "gpu";
  c.key = "seen-by-all";
  c.op = "state";
  c.hub = "moc";
  c.cluster = "c1";
  c.project = "proj-a";
  c.at = *ParseRfc3339("2026-01-01T00:00:00Z");
  ASSERT_TRUE(store_->AppendChanges({c}));
  for (auto& s : streams) EXPECT_TRUE(s->ReadUntil("seen-by-all")) << s->received();
  EXPECT_EQ(server_->hub().open_streams(), 50);
  streams.clear();
}

// A stream ends when its caller's credentials expire, with a last event that says so.
TEST_P(RestWriteTest, AStreamEndsWhenItsCredentialsExpire) {
  testing::SseClient stream(server_->port(), testing::EventsRequest("", "expired"));
  EXPECT_TRUE(stream.ReadToEnd()) << stream.received();
  EXPECT_NE(stream.received().find("event: expired"), std::string::npos) << stream.received();
}

// The stream limits answer with problem+json and Retry-After; closing a stream frees its place.
TEST_P(RestWriteTest, StreamLimitsAnswerWithProblems) {
  server_.reset();
  events_.max_streams_per_caller = 2;
  server_ = std::make_unique<testing::RestServer>(*store_, events_);
  auto open = [&](const std::string& caller) {
    auto s =
        std::make_unique<testing::SseClient>(server_->port(), testing::EventsRequest("", caller));
    s->ReadUntil("\r\n\r\n");
    return s;
  };
  auto a1 = open("admin");
  auto a2 = open("admin");
  ASSERT_TRUE(a1->ReadUntil("retry: 2000")) << a1->received();
  ASSERT_TRUE(a2->ReadUntil("retry: 2000")) << a2->received();
  auto a3 = open("admin");  // the test callers all share one (empty) subject
  ASSERT_TRUE(a3->ReadUntil("}")) << a3->received();
  EXPECT_NE(a3->received().find("HTTP/1.1 429"), std::string::npos) << a3->received();
  EXPECT_NE(a3->received().find("application/problem+json"), std::string::npos);
  EXPECT_NE(a3->received().find("Retry-After: 5"), std::string::npos);
  EXPECT_NE(a3->received().find("api.max_streams_per_caller"), std::string::npos);
  a1->Close();
  // The server notices the closed socket at its next write (a heartbeat, 300 ms here).
  bool reopened = false;
  for (int i = 0; i < 100 && !reopened; ++i) {
    auto again = open("admin");
    again->ReadUntil("\r\n\r\n");
    reopened = again->received().find("HTTP/1.1 200") != std::string::npos;
    if (reopened)
      a1 = std::move(again);
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(reopened);
}

INSTANTIATE_TEST_SUITE_P(Backends, RestWriteTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace aitelemetry::api
