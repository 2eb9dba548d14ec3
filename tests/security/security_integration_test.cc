// Integration: authentication of the running server, end to end, against the real test peers
// (tests/oidc/provider.mjs: npm oidc-provider shaped like Keycloak; uma.mjs: the UMA stand-in;
// mint.mjs: the RFC 8725 attack tokens). The server is the real http::Server with the real
// middleware and login routes (api::BuildAuth, as cli/app.cc wires them) over a SQLite store
// filled with a small fleet:
//
//   hub moc:   cluster c1: node n1 with GPU ga (project proj-a) and GPU gb (project proj-b)
//              cluster c2: node n2 with GPU gc (project proj-c)
//   hub other: cluster x1: node nx with GPU gx (project proj-x)
//
// plus one hour of usage per GPU (held by the GPU's project) and one change event per project and
// GPU. The REST and NGSI-LD routes are wired as cli/app.cc wires them.
//
// The visibility matrix is a table over (read path x caller): each row names a path and how to
// read the visible keys out of its answer, so a new read path is one row.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/auth_web.h"
#include "api/caller.h"
#include "api/ngsi_routes.h"
#include "api/rest.h"
#include "auth/base64url.h"
#include "http/client.h"
#include "http/server.h"
#include "model/record.h"
#include "oidc/node_peer.h"
#include "store/change_feed.h"
#include "store/store.h"
#include "testing/process.h"

namespace aitelemetry {
namespace {

using Json = nlohmann::json;
using KeySet = std::set<std::string>;
namespace fs = std::filesystem;
using test_support::FreePort;

// ---- The fleet ---------------------------------------------------------------------------------

struct Row {
  const char* model;
  std::vector<std::pair<const char*, std::string>> fields;
};

const std::vector<Row>& Fleet() {
  static const std::vector<Row> rows = {
      {"hub", {{"key", "HUB-moc"}, {"name", "moc"}}},
      {"hub", {{"key", "HUB-other"}, {"name", "other"}}},
      {"cluster", {{"key", "HUB-moc-CLUSTER-c1"}, {"hub", "moc"}, {"name", "c1"}}},
      {"cluster", {{"key", "HUB-moc-CLUSTER-c2"}, {"hub", "moc"}, {"name", "c2"}}},
      {"cluster", {{"key", "HUB-other-CLUSTER-x1"}, {"hub", "other"}, {"name", "x1"}}},
      {"node",
       {{"key", "HUB-moc-CLUSTER-c1-NODE-n1"}, {"hub", "moc"}, {"cluster", "c1"}, {"name", "n1"}}},
      {"node",
       {{"key", "HUB-moc-CLUSTER-c2-NODE-n2"}, {"hub", "moc"}, {"cluster", "c2"}, {"name", "n2"}}},
      {"node",
       {{"key", "HUB-other-CLUSTER-x1-NODE-nx"},
        {"hub", "other"},
        {"cluster", "x1"},
        {"name", "nx"}}},
      {"project",
       {{"key", "HUB-moc-CLUSTER-c1-PROJECT-proj-a"},
        {"hub", "moc"},
        {"cluster", "c1"},
        {"namespace", "proj-a"}}},
      {"project",
       {{"key", "HUB-moc-CLUSTER-c1-PROJECT-proj-b"},
        {"hub", "moc"},
        {"cluster", "c1"},
        {"namespace", "proj-b"}}},
      {"project",
       {{"key", "HUB-moc-CLUSTER-c2-PROJECT-proj-c"},
        {"hub", "moc"},
        {"cluster", "c2"},
        {"namespace", "proj-c"}}},
      {"project",
       {{"key", "HUB-other-CLUSTER-x1-PROJECT-proj-x"},
        {"hub", "other"},
        {"cluster", "x1"},
        {"namespace", "proj-x"}}},
      {"gpu",
       {{"key", "HUB-moc-CLUSTER-c1-NODE-n1-GPU-ga"},
        {"hub", "moc"},
        {"cluster", "c1"},
        {"node", "n1"},
        {"node_key", "HUB-moc-CLUSTER-c1-NODE-n1"},
        {"uuid", "ga"},
        {"project", "proj-a"}}},
      {"gpu",
       {{"key", "HUB-moc-CLUSTER-c1-NODE-n1-GPU-gb"},
        {"hub", "moc"},
        {"cluster", "c1"},
        {"node", "n1"},
        {"node_key", "HUB-moc-CLUSTER-c1-NODE-n1"},
        {"uuid", "gb"},
        {"project", "proj-b"}}},
      {"gpu",
       {{"key", "HUB-moc-CLUSTER-c2-NODE-n2-GPU-gc"},
        {"hub", "moc"},
        {"cluster", "c2"},
        {"node", "n2"},
        {"node_key", "HUB-moc-CLUSTER-c2-NODE-n2"},
        {"uuid", "gc"},
        {"project", "proj-c"}}},
      {"gpu",
       {{"key", "HUB-other-CLUSTER-x1-NODE-nx-GPU-gx"},
        {"hub", "other"},
        {"cluster", "x1"},
        {"node", "nx"},
        {"node_key", "HUB-other-CLUSTER-x1-NODE-nx"},
        {"uuid", "gx"},
        {"project", "proj-x"}}},
  };
  return rows;
}

// Numbers of the fleet for the stats rows: some rows of each model with a stats field have a
// value, one does not (the stats count covers only rows with a value).
const std::vector<std::tuple<const char*, const char*, Json>>& Numbers() {
  static const std::vector<std::tuple<const char*, const char*, Json>> numbers = {
      {"HUB-moc-CLUSTER-c1-NODE-n1", "gpu_count", 2},
      {"HUB-other-CLUSTER-x1-NODE-nx", "gpu_count", 1},
      {"HUB-moc-CLUSTER-c1-PROJECT-proj-a", "gpus_allocated", 1.0},
      {"HUB-moc-CLUSTER-c1-PROJECT-proj-b", "gpus_allocated", 0.5},
      {"HUB-other-CLUSTER-x1-PROJECT-proj-x", "gpus_allocated", 1.0},
      {"HUB-moc-CLUSTER-c1-NODE-n1-GPU-ga", "memory_total_bytes", 85899345920},
      {"HUB-moc-CLUSTER-c1-NODE-n1-GPU-gb", "memory_total_bytes", 85899345920},
      {"HUB-moc-CLUSTER-c2-NODE-n2-GPU-gc", "memory_total_bytes", 42949672960},
  };
  return numbers;
}

// The hour of the fixture's usage rows, and a day around it for the usage and temporal reads.
constexpr char kUsageHour[] = "2026-01-01T10:00:00Z";
constexpr char kUsageFrom[] = "2026-01-01T00:00:00Z";
constexpr char kUsageTo[] = "2026-01-02T00:00:00Z";

std::vector<std::string> Models() { return {"hub", "cluster", "node", "project", "gpu"}; }

KeySet KeysOf(const std::string& model) {
  KeySet keys;
  for (const auto& r : Fleet()) {
    if (r.model == model) keys.insert(r.fields[0].second);
  }
  return keys;
}

// What each test user may see of the whole fleet. The store's rules: a project grant reveals its
// project, its GPUs, the node they sit on, and the cluster and hub above; a cluster grant
// everything in the cluster and the hub above.
const std::map<std::string, KeySet>& Visible() {
  static const std::map<std::string, KeySet> visible = [] {
    KeySet all;
    for (const auto& r : Fleet()) all.insert(r.fields[0].second);
    KeySet a = {"HUB-moc", "HUB-moc-CLUSTER-c1", "HUB-moc-CLUSTER-c1-NODE-n1",
                "HUB-moc-CLUSTER-c1-PROJECT-proj-a", "HUB-moc-CLUSTER-c1-NODE-n1-GPU-ga"};
    KeySet b = {"HUB-moc", "HUB-moc-CLUSTER-c1", "HUB-moc-CLUSTER-c1-NODE-n1",
                "HUB-moc-CLUSTER-c1-PROJECT-proj-b", "HUB-moc-CLUSTER-c1-NODE-n1-GPU-gb"};
    KeySet manager = a;
    manager.insert(b.begin(), b.end());
    return std::map<std::string, KeySet>{{"no-grants", {}},
                                         {"researcher-a", a},
                                         {"researcher-b", b},
                                         {"manager", manager},
                                         {"admin", all}};
  }();
  return visible;
}

KeySet Intersect(const KeySet& a, const KeySet& b) {
  KeySet out;
  for (const auto& k : a) {
    if (b.contains(k)) out.insert(k);
  }
  return out;
}

// ---- One server: router, auth stack, store ----------------------------------------------------

// Read routes over the store that stand in for the API's generated routes in this suite: they do
// exactly what every handler must do, pass CallerOf(request).scope into the store.
void AddProbeRoutes(http::Router& router, store::Store* store) {
  router.Add("GET", "/api/probe/{model}", [store](const http::Request& r) {
    const model::Model* m = model::FindModel(r.params.at("model"));
    if (m == nullptr) return http::Problem(404, "no such model");
    store::QuerySpec spec;
    spec.rows = 1000;
    auto q = store->Query(*m, spec, api::CallerOf(r).scope);
    if (!q) return http::ProblemFor(q.error());
    Json keys = Json::array();
    for (const auto& row : q->rows) keys.push_back(row.Key());
    return http::JsonResponse(200, Json{{"found", q->found}, {"keys", keys}}.dump());
  });
  router.Add("GET", "/api/probe/{model}/{key}", [store](const http::Request& r) {
    const model::Model* m = model::FindModel(r.params.at("model"));
    if (m == nullptr) return http::Problem(404, "no such model");
    auto row = store->Get(*m, r.params.at("key"), api::CallerOf(r).scope);
    if (!row) return http::ProblemFor(row.error());
    return http::JsonResponse(200, model::ToJson(*row).dump());
  });
  router.Add("PATCH", "/api/probe/{model}/{key}", [store](const http::Request& r) {
    const api::Caller& c = api::CallerOf(r);
    if (!c.admin) return http::Problem(403, "admins only");
    const model::Model* m = model::FindModel(r.params.at("model"));
    auto row = store->Patch(*m, r.params.at("key"), {{"display_name", r.body}}, c.scope);
    if (!row) return http::ProblemFor(row.error());
    return http::JsonResponse(200, model::ToJson(*row).dump());
  });
  router.Add("GET", "/probe-page", [](const http::Request&) {
    http::Response resp;
    resp.body = "<!doctype html><title>page</title>";
    resp.Set("Content-Type", "text/html");
    return resp;
  });
}

struct RunningServer {
  std::unique_ptr<api::AuthStack> auth;
  std::unique_ptr<api::EventHub> events;
  std::shared_ptr<http::Router> router;
  std::unique_ptr<http::Server> server;
  std::thread thread;
  std::string base;  // http://127.0.0.1:PORT

  ~RunningServer() {
    if (server) server->Stop();
    if (thread.joinable()) thread.join();
  }
};

// ---- A browser: cookie jar per host, redirects followed ---------------------------------------

std::string HostOf(const std::string& url) {
  auto start = url.find("://") + 3;
  return url.substr(start, url.find('/', start) - start);
}

class Browser {
 public:
  // Sends a request with this browser's cookies and follows redirects (303 and a 302 after a POST
  // become GETs). Stops at the first non-redirect answer, or before leaving for a URL for which
  // `stop_at` returns true. Returns the last response; last_url() is where it came from.
  http::ClientResponse Go(std::string method, std::string url, std::string body = {},
                          std::vector<std::pair<std::string, std::string>> headers = {},
                          const std::function<bool(const std::string&)>& stop_at = {}) {
    for (int hop = 0; hop < 15; ++hop) {
      http::ClientRequest request;
      request.method = method;
      request.url = url;
      request.body = body;
      request.headers = headers;
      if (!body.empty())
        request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
      request.headers.emplace_back("Accept", "text/html,application/json");
      std::string cookies = CookieHeader(url);
      if (!cookies.empty()) request.headers.emplace_back("Cookie", cookies);
      auto response = client_->Send(request);
      EXPECT_TRUE(response.has_value()) << url;
      if (!response) return {};
      last_url_ = url;
      for (const auto& [k, v] : response->headers) {
        if (k == "set-cookie") Store(HostOf(url), v);
      }
      int s = response->status;
      std::string location = response->Header("location");
      if ((s != 301 && s != 302 && s != 303 && s != 307) || location.empty()) return *response;
      if (location.starts_with("/"))
        location = url.substr(0, url.find('/', url.find("://") + 3)) + location;
      if (stop_at && stop_at(location)) return *response;
      if (s == 303 || (s == 302 && method == "POST")) {
        method = "GET";
        body.clear();
        headers.clear();
      }
      url = location;
    }
    ADD_FAILURE() << "too many redirects";
    return {};
  }

  std::string Cookie(const std::string& host, const std::string& name) const {
    auto jar = jar_.find(host);
    if (jar == jar_.end()) return {};
    auto it = jar->second.find(name);
    return it == jar->second.end() ? std::string() : it->second;
  }
  const std::string& last_url() const { return last_url_; }

 private:
  void Store(const std::string& host, const std::string& set_cookie) {
    std::string pair = set_cookie.substr(0, set_cookie.find(';'));
    auto eq = pair.find('=');
    std::string name = pair.substr(0, eq), value = pair.substr(eq + 1);
    std::string lower = set_cookie;
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (lower.find("max-age=0") != std::string::npos ||
        lower.find("expires=thu, 01 jan 1970") != std::string::npos) {
      jar_[host].erase(name);
    } else {
      jar_[host][name] = value;
    }
  }
  std::string CookieHeader(const std::string& url) const {
    std::string out;
    auto jar = jar_.find(HostOf(url));
    if (jar == jar_.end()) return out;
    for (const auto& [k, v] : jar->second) {
      if (!out.empty()) out += "; ";
      out += k + "=" + v;
    }
    return out;
  }

  std::unique_ptr<http::HttpClient> client_ = std::make_unique<http::HttpClient>();
  std::map<std::string, std::map<std::string, std::string>> jar_;
  std::string last_url_;
};

// ---- The suite ---------------------------------------------------------------------------------

class Security : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/aitel-security-XXXXXX";
    dir_ = new std::string(mkdtemp(tmpl));
    port_ = FreePort();
    StartProvider("");
    ASSERT_TRUE(provider_->ready().is_object())
        << "provider.mjs did not start: run npm ci at the repo root";
    issuer_ = new std::string(provider_->ready()["issuer"]);
    provider_port_ = provider_->ready()["port"].get<int>();
    uma_ = new testing::NodePeer("uma.mjs", {"--issuer", *issuer_}, {});
    ASSERT_TRUE(uma_->ready().is_object()) << "uma.mjs did not start";

    store_ = store::Store::Open({"sqlite:" + *dir_ + "/fleet.db", 4, true}).value().release();
    for (const auto& row : Fleet()) {
      const model::Model& m = *model::FindModel(row.model);
      model::Record r(m);
      for (const auto& [f, v] : row.fields) r.Set(f, v);
      for (const auto& [key, field, value] : Numbers()) {
        if (key != row.fields[0].second) continue;
        auto v = model::ValueFromJson(*m.FindField(field), value);
        ASSERT_TRUE(v.has_value()) << field;
        r.Set(field, *v);
      }
      ASSERT_TRUE(store_->Upsert(m, std::span(&r, 1)).has_value()) << row.fields[0].second;
    }
    FillUsageAndChanges();
    std::ofstream(*dir_ + "/client-secret") << "ai-telemetry-secret\n";
    claims_ = StartServer("claims", port_).release();
    uma_server_ = StartServer("uma", 0).release();
  }

  static void TearDownTestSuite() {
    delete claims_;
    delete uma_server_;
    delete store_;
    delete uma_;
    delete provider_;
    if (dir_ != nullptr) fs::remove_all(*dir_);
    delete dir_;
    delete issuer_;
  }

  // One hour of usage per GPU, held by the GPU's project; and one change per project and GPU, as a
  // sync appends them, for the event stream.
  static void FillUsageAndChanges() {
    const model::Model& usage = *model::FindModel("usage");
    std::vector<model::Record> rows;
    std::vector<store::Change> changes;
    for (const auto& row : Fleet()) {
      if (std::string(row.model) != "gpu" && std::string(row.model) != "project") continue;
      std::map<std::string, std::string> f(row.fields.begin(), row.fields.end());
      const model::Model& m = *model::FindModel(row.model);
      model::Record entity(m);
      for (const auto& [name, value] : row.fields) entity.Set(name, value);
      changes.push_back(store::ChangeOf(entity, "update", Now()));
      if (std::string(row.model) != "gpu") continue;
      Json u = {{"key", f["key"] + ":" + f["project"] + ":" + kUsageHour},
                {"hub", f["hub"]},
                {"cluster", f["cluster"]},
                {"project", f["project"]},
                {"node", f["node"]},
                {"device_key", f["key"]},
                {"model_name", "NVIDIA A100-SXM4-80GB"},
                {"hour", kUsageHour},
                {"allocated_seconds", 3600.0},
                {"gpu_equivalent_seconds", 3600.0},
                {"active_seconds", 1800.0},
                {"idle_seconds", 0.0},
                {"energy_joules", 1.0e6},
                {"samples", 60}};
      model::Record r(usage);
      for (const auto& [name, value] : u.items()) {
        auto v = model::ValueFromJson(*usage.FindField(name), value);
        ASSERT_TRUE(v.has_value()) << name << ": " << v.error().ToString();
        r.Set(name, *v);
      }
      rows.push_back(std::move(r));
    }
    ASSERT_TRUE(store_->Upsert(usage, rows).has_value());
    ASSERT_TRUE(store_->AppendChanges(std::move(changes)).has_value());
  }

  // (Re)starts the provider on port_'s redirect URI; `rotate` as OIDC_ROTATE.
  static void StartProvider(const std::string& rotate) {
    delete provider_;
    std::vector<std::pair<std::string, std::string>> env = {
        {"OIDC_KEYS_FILE", *dir_ + "/keys.json"},
        {"OIDC_REALM", "nerc"},
        {"OIDC_REDIRECT_URI", "http://127.0.0.1:" + std::to_string(port_) + "/callback"},
        {"OIDC_ROTATE", rotate}};
    provider_ = new testing::NodePeer("provider.mjs", {std::to_string(provider_port_)}, env);
  }

  static std::unique_ptr<RunningServer> StartServer(const std::string& grants_source, int port) {
    auto s = std::make_unique<RunningServer>();
    config::AuthConfig config;
    config.issuer = *issuer_;
    config.client_secret_file = *dir_ + "/client-secret";
    config.grants_source = grants_source;
    config.session_ttl = std::chrono::seconds(120);
    config.redirect_url = "http://127.0.0.1:" + std::to_string(port) + "/callback";
    api::AuthSeams seams;
    seams.clock = [] { return Now() + std::chrono::seconds(offset_s_.load()); };
    seams.uma_token_endpoint = uma_->ready()["url"];
    auto stack = api::BuildAuth(config, store_, seams);
    EXPECT_TRUE(stack.has_value()) << stack.error().ToString();
    s->auth = std::move(*stack);
    s->router = std::make_shared<http::Router>();
    s->router->Add("GET", "/healthz", [](const http::Request&) {
      return http::JsonResponse(200, R"({"status":"ok"})");
    });
    s->auth->web->Install(*s->router);  // first: /api/me before /api/{model}, as in app.cc
    AddProbeRoutes(*s->router, store_);
    // As cli/app.cc wires them; short event polls and heartbeats end the test's streams quickly.
    api::EventHubOptions events;
    events.poll = std::chrono::milliseconds(50);
    events.heartbeat = std::chrono::milliseconds(300);
    s->events = std::make_unique<api::EventHub>(*store_, events);
    api::RestDeps rest{store_};
    rest.events = s->events.get();
    api::AddRestRoutes(*s->router, rest);
    api::AddNgsiRoutes(*s->router, *store_);
    http::ServerOptions options;
    options.listen = "127.0.0.1:" + std::to_string(port);
    options.threads = 2;
    options.blocking_threads = 4;
    auto server = http::Server::Create(options, s->router);
    EXPECT_TRUE(server.has_value()) << server.error().ToString();
    s->server = std::move(*server);
    s->base = "http://127.0.0.1:" + std::to_string(s->server->port());
    s->thread = std::thread([raw = s->server.get()] { raw->Run(false); });
    return s;
  }

  // Returns a client-credentials access token of test user `name` (a research team's program).
  std::string TokenFor(const std::string& name) {
    http::ClientRequest request;
    request.method = "POST";
    request.url = *issuer_ + "/protocol/openid-connect/token";
    request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    request.body = "grant_type=client_credentials&client_id=" + http::UrlEncode(name) +
                   "&client_secret=" + http::UrlEncode(name + "-secret");
    auto response = client_.Send(request);
    EXPECT_TRUE(response.has_value());
    if (!response) return {};
    EXPECT_EQ(response->status, 200) << response->body;
    return Json::parse(response->body, nullptr, false).value("access_token", "");
  }

  http::ClientResponse Get(const RunningServer& s, const std::string& path,
                           const std::string& token,
                           std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::ClientRequest request;
    request.url = s.base + path;
    request.headers = std::move(headers);
    if (!token.empty()) request.headers.emplace_back("Authorization", "Bearer " + token);
    auto response = client_.Send(request);
    EXPECT_TRUE(response.has_value()) << path;
    return response ? *response : http::ClientResponse{};
  }

  http::ClientResponse Send(const RunningServer& s, std::string method, const std::string& path,
                            std::vector<std::pair<std::string, std::string>> headers,
                            std::string body = {}) {
    http::ClientRequest request;
    request.method = std::move(method);
    request.url = s.base + path;
    request.headers = std::move(headers);
    request.body = std::move(body);
    auto response = client_.Send(request);
    EXPECT_TRUE(response.has_value()) << path;
    return response ? *response : http::ClientResponse{};
  }

  // Signs in through the browser flow as `user` and returns the browser, cookies set.
  Browser SignIn(const std::string& user, const std::string& next = "/api/me") {
    Browser b;
    auto page = b.Go("GET", claims_->base + "/login?next=" + http::UrlEncode(next));
    EXPECT_EQ(page.status, 200) << b.last_url();
    for (int step = 0;
         step < 3 && page.status == 200 && page.body.find("name=\"prompt\"") != std::string::npos;
         ++step) {
      std::smatch action;
      EXPECT_TRUE(std::regex_search(page.body, action, std::regex("action=\"([^\"]+)\"")));
      std::string target = action[1];
      if (target.starts_with("/")) target = "http://" + HostOf(b.last_url()) + target;
      bool login = page.body.find("value=\"login\"") != std::string::npos;
      std::string form = login ? "prompt=login&login=" + http::UrlEncode(user) + "&password=any"
                               : "prompt=consent";
      page = b.Go("POST", target, form);
    }
    return b;
  }

  static std::string* dir_;
  static std::string* issuer_;
  static int port_, provider_port_;
  static testing::NodePeer* provider_;
  static testing::NodePeer* uma_;
  static store::Store* store_;
  static RunningServer* claims_;
  static RunningServer* uma_server_;
  static std::atomic<int64_t> offset_s_;
  http::HttpClient client_;
};

std::string* Security::dir_ = nullptr;
std::string* Security::issuer_ = nullptr;
int Security::port_ = 0;
int Security::provider_port_ = 0;
testing::NodePeer* Security::provider_ = nullptr;
testing::NodePeer* Security::uma_ = nullptr;
store::Store* Security::store_ = nullptr;
RunningServer* Security::claims_ = nullptr;
RunningServer* Security::uma_server_ = nullptr;
std::atomic<int64_t> Security::offset_s_{0};

const char* const kUsers[] = {"no-grants", "researcher-a", "researcher-b", "manager", "admin"};

using Headers = std::vector<std::pair<std::string, std::string>>;

// What one read path answered for one model: the keys it shows, and the count the answer claims
// (-1 when its own parts disagree, such as facet counts that do not sum to the rows).
struct Answer {
  int status = 200;
  std::string body;  // of a refused request
  KeySet keys;
  int64_t count = -1;
};

Answer Refused(int status, std::string body) { return {status, std::move(body), {}, -1}; }

// One caller against one server.
struct Reader {
  Security* t;
  const RunningServer* s;
  std::string token;
  http::ClientResponse Get(const std::string& path, Headers headers = {}) const {
    return t->Get(*s, path, token, std::move(headers));
  }
};

// One read path of the matrix: the models it serves (empty: all of Models()) and how to read the
// visible keys and the claimed count for one of them.
struct ReadPath {
  std::string name;
  std::vector<std::string> models;
  std::function<Answer(const Reader&, const std::string& model)> read;
};

// A path answered by one JSON document.
ReadPath JsonPath(std::string name, std::vector<std::string> models,
                  std::function<std::string(const std::string& model)> path,
                  std::function<KeySet(const Json&)> keys,
                  std::function<int64_t(const Json&)> count) {
  return {std::move(name), std::move(models),
          [path, keys, count](const Reader& reader, const std::string& m) {
            auto r = reader.Get(path(m));
            if (r.status != 200) return Refused(r.status, r.body);
            Json j = Json::parse(r.body);
            return Answer{200, {}, keys(j), count(j)};
          }};
}

KeySet ListKeys(const Json& j) {
  KeySet k;
  for (const auto& row : j["list"]) k.insert(row["key"].get<std::string>());
  return k;
}

// Splits CSV text (RFC 4180: quoted cells, doubled quotes, CRLF line ends) into rows of cells.
std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string cell;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(cell));
      cell.clear();
    } else if (c == '\n') {
      row.push_back(std::move(cell));
      cell.clear();
      rows.push_back(std::move(row));
      row.clear();
    } else if (c != '\r') {
      cell += c;
    }
  }
  if (!cell.empty() || !row.empty()) {
    row.push_back(std::move(cell));
    rows.push_back(std::move(row));
  }
  return rows;
}

int64_t HeaderNumber(const http::ClientResponse& r, const std::string& name) {
  std::string v = r.Header(name);
  return v.empty() ? -1 : std::stoll(v);
}

// Opens the SSE stream `path` as the reader's caller over a plain socket (the stream never ends)
// and reads until the first heartbeat, which the server sends only once the replay is done, or
// for 5 s at most. Returns the status, the body read, and the data of each event.
struct SseRead {
  int status = 0;
  std::string body;
  std::vector<Json> events;
};

SseRead ReadEvents(const Reader& reader, const std::string& path, const Headers& headers) {
  SseRead out;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(reader.s->server->port()));
  timeval tv{0, 500000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return out;
  }
  std::string request = "GET " + path +
                        " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                        "Authorization: Bearer " +
                        reader.token + "\r\n";
  for (const auto& [k, v] : headers) request += k + ": " + v + "\r\n";
  request += "Connection: close\r\n\r\n";
  send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string data;
  char buf[16384];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline &&
         data.find(": heartbeat") == std::string::npos) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;  // closed: a refusal
    if (n > 0) data.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  std::smatch status;
  if (std::regex_search(data, status, std::regex("^HTTP/1\\.[01] (\\d{3})"))) {
    out.status = std::stoi(status[1]);
  }
  auto body_at = data.find("\r\n\r\n");
  out.body = body_at == std::string::npos ? data : data.substr(body_at + 4);
  // Each event is "id: N\nevent: change\ndata: {...}\n\n", whole within one chunk of the body.
  std::regex line("data: (\\{[^\\n]*\\})\\n");
  for (std::sregex_iterator it(out.body.begin(), out.body.end(), line), end; it != end; ++it) {
    out.events.push_back(Json::parse((*it)[1].str()));
  }
  return out;
}

const std::string& UsageRange() {
  static const std::string range =
      "from=" + http::UrlEncode(kUsageFrom) + "&to=" + http::UrlEncode(kUsageTo);
  return range;
}

std::vector<ReadPath> ReadPaths() {
  return {
      JsonPath(
          "probe search", {}, [](const std::string& m) { return "/api/probe/" + m; },
          [](const Json& j) {
            KeySet k;
            for (const auto& key : j["keys"]) k.insert(key.get<std::string>());
            return k;
          },
          [](const Json& j) { return j["found"].get<int64_t>(); }),
      JsonPath(
          "REST search", {},
          [](const std::string& m) {
            return "/api/" + m + "?rows=100" + (m == "hub" ? "" : "&facet.field=hub");
          },
          ListKeys,
          [](const Json& j) {
            // The facet counts cover exactly what the caller may see, too.
            int64_t found = j["foundNum"].get<int64_t>();
            const Json& facets = j["facet_counts"]["facet_fields"];
            if (!facets.contains("hub")) return found;
            int64_t faceted = 0;
            for (const auto& [hub, n] : facets["hub"].items()) faceted += n.get<int64_t>();
            return faceted == found ? found : -1;
          }),
      // CSV export: the key column of the body; the count is X-Found-Num, which must match the
      // body's rows.
      {"REST CSV export",
       {},
       [](const Reader& reader, const std::string& m) {
         auto r = reader.Get("/api/" + m + "?format=csv&rows=100");
         if (r.status != 200) return Refused(r.status, r.body);
         Answer a;
         auto rows = ParseCsv(r.body);
         if (rows.empty() || !r.Header("content-type").starts_with("text/csv")) return a;
         auto column = std::find(rows[0].begin(), rows[0].end(), "key") - rows[0].begin();
         if (column == static_cast<ptrdiff_t>(rows[0].size())) return a;
         for (size_t i = 1; i < rows.size(); ++i) a.keys.insert(rows[i].at(column));
         int64_t found = HeaderNumber(r, "x-found-num");
         a.count = found == static_cast<int64_t>(rows.size() - 1) ? found : -1;
         return a;
       }},
      // Cursor export, two rows a page: follows nextCursorMark until it repeats. The count is the
      // first page's foundNum, which must match the rows collected, none twice.
      {"REST cursor export",
       {},
       [](const Reader& reader, const std::string& m) {
         Answer a;
         std::string mark = "*";
         int64_t rows = 0, found = -1;
         for (int page = 0; page < 50; ++page) {
           auto r = reader.Get("/api/" + m + "?rows=2&cursorMark=" + http::UrlEncode(mark));
           if (r.status != 200) return Refused(r.status, r.body);
           Json j = Json::parse(r.body);
           if (page == 0) found = j["foundNum"].get<int64_t>();
           for (const auto& row : j["list"]) {
             a.keys.insert(row["key"].get<std::string>());
             ++rows;
           }
           std::string next = j.value("nextCursorMark", "");
           if (next.empty()) return a;  // no cursor: count stays -1
           if (next == mark) {
             a.count = rows == found && rows == static_cast<int64_t>(a.keys.size()) ? found : -1;
             return a;
           }
           mark = next;
         }
         return a;  // the mark never repeated
       }},
      // Facets of the scope columns: each field's counts equal those of the visible rows listed.
      JsonPath(
          "REST facets", {"cluster", "node", "project", "gpu"},
          [](const std::string& m) {
            std::string path = "/api/" + m + "?rows=100&facet.field=hub";
            if (m != "cluster") path += "&facet.field=cluster";
            if (m == "gpu") path += "&facet.field=project";
            return path;
          },
          ListKeys,
          [](const Json& j) {
            int64_t found = j["foundNum"].get<int64_t>();
            const Json& facets = j["facet_counts"]["facet_fields"];
            if (facets.empty()) return int64_t{-1};
            for (const auto& [field, counts] : facets.items()) {
              std::map<std::string, int64_t> expect;
              for (const auto& row : j["list"]) ++expect[row[field].get<std::string>()];
              std::map<std::string, int64_t> got;
              int64_t sum = 0;
              for (const auto& [value, n] : counts.items()) {
                got[value] = n.get<int64_t>();
                sum += n.get<int64_t>();
              }
              if (got != expect || sum != found) return int64_t{-1};
            }
            return found;
          }),
      // Stats of a numeric field: count and sum equal those of the visible rows listed that have
      // a value (the fixture leaves one row of each model without).
      JsonPath(
          "REST stats", {"node", "project", "gpu"},
          [](const std::string& m) {
            std::string field = m == "node"      ? "gpu_count"
                                : m == "project" ? "gpus_allocated"
                                                 : "memory_total_bytes";
            return "/api/" + m + "?rows=100&stats.field=" + field;
          },
          ListKeys,
          [](const Json& j) {
            int64_t found = j["foundNum"].get<int64_t>();
            const auto& fields = j["stats"]["stats_fields"];
            if (fields.size() != 1) return int64_t{-1};
            const std::string field = fields.begin().key();
            const Json& s = fields.begin().value();
            int64_t with_value = 0;
            double sum = 0;
            for (const auto& row : j["list"]) {
              if (!row.contains(field) || row[field].is_null()) continue;
              ++with_value;
              sum += row[field].get<double>();
            }
            if (s.value("count", int64_t{-1}) != with_value) return int64_t{-1};
            if (with_value > 0 && std::abs(s["sum"].get<double>() - sum) > 1e-6 * (1 + sum)) {
              return int64_t{-1};
            }
            return found;
          }),
      // The usage report by project: one row per project the caller may see.
      JsonPath(
          "usage by project", {"project"},
          [](const std::string&) { return "/api/usage?groupBy=project&" + UsageRange(); },
          [](const Json& j) {
            KeySet k;
            for (const auto& row : j["rows"]) {
              k.insert(row["key"].is_string() ? row["key"].get<std::string>() : "(unallocated)");
            }
            return k;
          },
          [](const Json& j) { return static_cast<int64_t>(j["rows"].size()); }),
      // Change events, replayed from the start (lastEventId=0 for projects, Last-Event-ID: 0 for
      // GPUs): the fixture appended one change per project and GPU of every hub.
      {"events",
       {"project", "gpu"},
       [](const Reader& reader, const std::string& m) {
         std::string path = "/api/events?model=" + m;
         Headers headers;
         if (m == "project") {
           path += "&lastEventId=0";
         } else {
           headers.emplace_back("Last-Event-ID", "0");
         }
         auto sse = ReadEvents(reader, path, headers);
         if (sse.status != 200) return Refused(sse.status, sse.body);
         Answer a;
         bool ok = sse.body.find(": heartbeat") != std::string::npos;
         for (const auto& e : sse.events) {
           ok = ok && e["model"] == m && e["key"].is_string();
           if (e["key"].is_string()) a.keys.insert(e["key"].get<std::string>());
         }
         a.count = ok ? static_cast<int64_t>(a.keys.size()) : -1;
         return a;
       }},
      // NGSI-LD entities of each type: ids urn:ngsi-ld:{Type}:{key}; the count is
      // NGSILD-Results-Count, which must match the entities listed.
      {"NGSI-LD entities",
       {},
       [](const Reader& reader, const std::string& m) {
         std::string type = model::FindModel(m)->type_name;
         auto r = reader.Get("/ngsi-ld/v1/entities?type=" + type + "&limit=1000&count=true",
                             {{"Accept", "application/json"}});
         if (r.status != 200) return Refused(r.status, r.body);
         Answer a;
         Json list = Json::parse(r.body);
         std::string prefix = "urn:ngsi-ld:" + type + ":";
         bool ok = list.is_array();
         for (const auto& e : list) {
           std::string id = e["id"];
           ok = ok && id.starts_with(prefix) && e["type"] == type;
           a.keys.insert(id.substr(std::min(prefix.size(), id.size())));
         }
         int64_t n = HeaderNumber(r, "ngsild-results-count");
         a.count = ok && n == static_cast<int64_t>(list.size()) ? n : -1;
         return a;
       }},
      // NGSI-LD temporal usage: one series per GPU and project, ids
      // urn:ngsi-ld:UsageRollup:{device key}:{project}; keys are the device keys.
      {"NGSI-LD temporal usage",
       {"gpu"},
       [](const Reader& reader, const std::string&) {
         auto r = reader.Get(
             "/ngsi-ld/v1/temporal/entities?type=UsageRollup&timerel=between&"
             "timeAt=" +
                 http::UrlEncode(kUsageFrom) + "&endTimeAt=" + http::UrlEncode(kUsageTo) +
                 "&limit=1000",
             {{"Accept", "application/json"}});
         if (r.status != 200) return Refused(r.status, r.body);
         Answer a;
         Json list = Json::parse(r.body);
         const std::string prefix = "urn:ngsi-ld:UsageRollup:";
         bool ok = list.is_array();
         for (const auto& e : list) {
           std::string id = e["id"];
           ok = ok && id.starts_with(prefix);
           std::string series = id.substr(std::min(prefix.size(), id.size()));
           for (size_t at; (at = series.find("%3A")) != std::string::npos;) {
             series.replace(at, 3, ":");
           }
           a.keys.insert(series.substr(0, series.find(':')));
         }
         a.count = ok ? static_cast<int64_t>(list.size()) : -1;
         return a;
       }},
  };
}

void CheckMatrix(Security* t, const RunningServer& s,
                 const std::function<std::string(const std::string&)>& token_for) {
  for (const char* user : kUsers) {
    Reader reader{t, &s, token_for(user)};
    ASSERT_FALSE(reader.token.empty()) << user;
    const KeySet& visible = Visible().at(user);
    for (const auto& path : ReadPaths()) {
      for (const auto& m : path.models.empty() ? Models() : path.models) {
        Answer a = path.read(reader, m);
        ASSERT_EQ(a.status, 200) << path.name << " " << m << " as " << user << ": " << a.body;
        KeySet expect = Intersect(visible, KeysOf(m));
        EXPECT_EQ(a.keys, expect) << path.name << " " << m << " as " << user;
        EXPECT_EQ(a.count, static_cast<int64_t>(expect.size()))
            << path.name << " " << m << " as " << user;
      }
    }
    // One-entity reads: every key of the fleet, 200 when visible, 404 when not.
    for (const auto& row : Fleet()) {
      std::string key = row.fields[0].second;
      for (const std::string prefix : {"/api/probe/", "/api/"}) {
        auto r = t->Get(s, prefix + row.model + "/" + key, reader.token);
        EXPECT_EQ(r.status, visible.contains(key) ? 200 : 404) << prefix << key << " as " << user;
      }
      std::string id = "urn:ngsi-ld:" + model::FindModel(row.model)->type_name + ":" + key;
      auto r =
          t->Get(s, "/ngsi-ld/v1/entities/" + id, reader.token, {{"Accept", "application/json"}});
      EXPECT_EQ(r.status, visible.contains(key) ? 200 : 404) << id << " as " << user;
      if (r.status == 200) {
        EXPECT_EQ(Json::parse(r.body)["id"], id);
      }
    }
  }
}

TEST_F(Security, MatrixWithGrantsFromClaims) {
  CheckMatrix(this, *claims_, [this](const std::string& u) { return TokenFor(u); });
}

TEST_F(Security, MatrixWithGrantsFromUma) {
  CheckMatrix(this, *uma_server_, [this](const std::string& u) { return TokenFor(u); });
}

TEST_F(Security, MeDescribesTheCaller) {
  struct Case {
    std::string user;
    std::vector<std::string> grants;
    bool admin, manager;
  };
  const Case cases[] = {
      {"no-grants", {}, false, false},
      {"researcher-a", {"HUB-moc-CLUSTER-c1-PROJECT-proj-a"}, false, false},
      {"researcher-b", {"HUB-moc-CLUSTER-c1-PROJECT-proj-b"}, false, false},
      {"manager", {"HUB-moc-CLUSTER-c1"}, false, true},
      {"admin", {}, true, false},
  };
  for (const auto& c : cases) {
    auto r = Get(*claims_, "/api/me", TokenFor(c.user));
    ASSERT_EQ(r.status, 200) << c.user;
    Json me = Json::parse(r.body);
    EXPECT_EQ(me["name"], c.user);
    EXPECT_EQ(me["subject"], c.user);
    EXPECT_EQ(me["grants"].get<std::vector<std::string>>(), c.grants) << c.user;
    EXPECT_EQ(me["admin"], c.admin) << c.user;
    EXPECT_EQ(me["manager"], c.manager) << c.user;
    EXPECT_FALSE(me.contains("csrf_token")) << "bearer callers have no CSRF token";
  }
}

TEST_F(Security, WithoutCredentials) {
  auto api = Get(*claims_, "/api/probe/gpu", "");
  EXPECT_EQ(api.status, 401);
  EXPECT_EQ(api.Header("www-authenticate"), "Bearer");
  auto page = Get(*claims_, "/probe-page", "", {{"Accept", "text/html"}});
  EXPECT_EQ(page.status, 302);
  EXPECT_EQ(page.Header("location"), "/login?next=%2Fprobe-page");
  EXPECT_EQ(Get(*claims_, "/healthz", "").status, 200);
}

TEST_F(Security, AttackTokensAreRefused) {
  std::string good = TokenFor("researcher-a");
  ASSERT_FALSE(good.empty());
  std::string out = *dir_ + "/attacks.json";
  std::string command = "node '" + std::string(AITELEMETRY_SOURCE_DIR) +
                        "/tests/oidc/mint.mjs' --keys '" + *dir_ + "/keys.json' --issuer '" +
                        *issuer_ + "' --good '" + good + "' --out '" + out + "'";
  ASSERT_EQ(std::system(command.c_str()), 0);
  Json doc = Json::parse(std::ifstream(out), nullptr, false);
  ASSERT_TRUE(doc.is_object());
  int refused = 0;
  for (const auto& c : doc["cases"]) {
    std::string name = c["name"], token = c["token"], expect = c["expect"];
    // The provider publishes its RSA key with "alg":"RS256", which binds it: a PS256 signature
    // by the same key is refused (RFC 8725 section 3.1).
    if (name == "good_ps256") expect = "key_mismatch";
    if (token.empty() || token.find_first_of(" \r\n") != std::string::npos) continue;
    auto r = Get(*claims_, "/api/probe/gpu", token);
    if (expect == "accept") {
      EXPECT_EQ(r.status, 200) << name << ": " << r.body;
      continue;
    }
    ++refused;
    if (expect == "too_large" && r.status == 431) continue;  // the server's header limit is lower
    EXPECT_EQ(r.status, 401) << name << ": " << r.body;
    EXPECT_EQ(r.Header("www-authenticate"), "Bearer error=\"invalid_token\"") << name;
    EXPECT_EQ(r.body.find(token.substr(0, std::min<size_t>(token.size(), 24))), std::string::npos)
        << name << ": the answer echoes the token";
  }
  EXPECT_GE(refused, 40);
}

TEST_F(Security, BrowserLoginCsrfAndLogout) {
  Browser b = SignIn("admin");
  std::string host = HostOf(claims_->base);
  std::string session = b.Cookie(host, api::kSessionCookie);
  ASSERT_EQ(session.size(), 43u) << "no session cookie after the login";
  EXPECT_TRUE(b.Cookie(host, api::kLoginCookie).empty()) << "the login cookie is cleared";
  EXPECT_EQ(b.last_url(), claims_->base + "/api/me") << "back where the login started";

  std::vector<std::pair<std::string, std::string>> cookie = {
      {"Cookie", std::string(api::kSessionCookie) + "=" + session}};
  auto me = Send(*claims_, "GET", "/api/me", cookie);
  ASSERT_EQ(me.status, 200) << me.body;
  Json j = Json::parse(me.body);
  EXPECT_EQ(j["name"], "admin");
  EXPECT_TRUE(j["admin"].get<bool>());
  std::string csrf = j.value("csrf_token", "");
  ASSERT_EQ(csrf.size(), 43u);

  // The session reads like the bearer token of the same user.
  auto gpus = Send(*claims_, "GET", "/api/probe/gpu", cookie);
  ASSERT_EQ(gpus.status, 200);
  EXPECT_EQ(Json::parse(gpus.body)["found"], 4);

  // CSRF: cookie-authenticated writes must echo the session's token.
  const std::string project = "/api/probe/project/HUB-moc-CLUSTER-c1-PROJECT-proj-a";
  EXPECT_EQ(Send(*claims_, "PATCH", project, cookie, "Project A").status, 403);
  auto wrong = cookie;
  wrong.emplace_back("X-CSRF-Token", std::string(csrf.size(), 'A'));
  EXPECT_EQ(Send(*claims_, "PATCH", project, wrong, "Project A").status, 403);
  auto right = cookie;
  right.emplace_back("X-CSRF-Token", csrf);
  auto patched = Send(*claims_, "PATCH", project, right, "Project A");
  EXPECT_EQ(patched.status, 200) << patched.body;
  // A bearer-token write needs no CSRF token.
  EXPECT_EQ(Send(*claims_, "PATCH", project, {{"Authorization", "Bearer " + TokenFor("admin")}},
                 "Project A2")
                .status,
            200);

  // A GET (a cross-site link or image) does not sign out: it answers the page whose form does.
  auto page = Send(*claims_, "GET", "/logout", cookie);
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find(csrf), std::string::npos);
  EXPECT_EQ(Send(*claims_, "GET", "/api/me", cookie).status, 200);
  // A POST without the session's CSRF token is refused.
  EXPECT_EQ(Send(*claims_, "POST", "/logout", cookie).status, 403);
  EXPECT_EQ(Send(*claims_, "GET", "/api/me", cookie).status, 200);
  // With it, logout deletes the session and sends the browser to the provider's
  // end_session_endpoint.
  auto out = Send(*claims_, "POST", "/logout", cookie, "csrf_token=" + http::UrlEncode(csrf));
  EXPECT_EQ(out.status, 302);
  EXPECT_TRUE(out.Header("location").starts_with(*issuer_ + "/protocol/openid-connect/logout?"))
      << out.Header("location");
  EXPECT_NE(out.Header("location").find("id_token_hint="), std::string::npos);
  EXPECT_NE(out.Header("set-cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(Send(*claims_, "GET", "/api/me", cookie).status, 401);
}

TEST_F(Security, BrowserLoginOfAResearcherSeesOnlyTheirProject) {
  Browser b = SignIn("researcher-a", "/probe-page");
  std::string session = b.Cookie(HostOf(claims_->base), api::kSessionCookie);
  ASSERT_FALSE(session.empty());
  EXPECT_EQ(b.last_url(), claims_->base + "/probe-page");
  std::vector<std::pair<std::string, std::string>> cookie = {
      {"Cookie", std::string(api::kSessionCookie) + "=" + session}};
  auto gpus = Send(*claims_, "GET", "/api/probe/gpu", cookie);
  ASSERT_EQ(gpus.status, 200);
  EXPECT_EQ(Json::parse(gpus.body)["keys"], Json::array({"HUB-moc-CLUSTER-c1-NODE-n1-GPU-ga"}));
}

TEST_F(Security, CallbackRefusesForgedOrReplayedState) {
  // A callback this browser did not start (no login cookie): refused before any code exchange.
  auto forged = Send(*claims_, "GET", "/callback?code=abc&state=xyz", {});
  EXPECT_EQ(forged.status, 400);
  auto mismatch = Send(*claims_, "GET", "/callback?code=abc&state=xyz",
                       {{"Cookie", std::string(api::kLoginCookie) + "=other"}});
  EXPECT_EQ(mismatch.status, 400);
  // A state the server never issued, even with a matching cookie.
  auto unknown = Send(*claims_, "GET", "/callback?code=abc&state=xyz",
                      {{"Cookie", std::string(api::kLoginCookie) + "=xyz"}});
  EXPECT_EQ(unknown.status, 400);
  // The provider reports an error: no session.
  auto error = Send(*claims_, "GET", "/callback?error=access_denied&state=xyz", {});
  EXPECT_EQ(error.status, 401);
  EXPECT_TRUE(error.Header("set-cookie").empty());
}

TEST_F(Security, ExpiredSessionIsRefused) {
  Browser b = SignIn("researcher-b");
  std::string session = b.Cookie(HostOf(claims_->base), api::kSessionCookie);
  ASSERT_FALSE(session.empty());
  std::vector<std::pair<std::string, std::string>> cookie = {
      {"Cookie", std::string(api::kSessionCookie) + "=" + session}};
  ASSERT_EQ(Send(*claims_, "GET", "/api/me", cookie).status, 200);
  offset_s_ += 121;  // session_ttl is 120 s here
  EXPECT_EQ(Send(*claims_, "GET", "/api/me", cookie).status, 401);
  auto page = Send(*claims_, "GET", "/probe-page", {cookie[0], {"Accept", "text/html"}});
  EXPECT_EQ(page.status, 302);
  EXPECT_EQ(page.Header("location"), "/login?next=%2Fprobe-page");
}

std::string KidOf(const std::string& token) {
  auto header = auth::Base64UrlDecode(token.substr(0, token.find('.')));
  return header ? Json::parse(*header).value("kid", "") : "";
}

// Runs last: it restarts the provider with new keys.
TEST_F(Security, KeyRotation) {
  const RunningServer& s = *claims_;
  std::string t1 = TokenFor("admin");
  ASSERT_EQ(Get(s, "/api/me", t1).status, 200);

  // The provider adds a new signing key and keeps the old one published.
  StartProvider("add");
  ASSERT_TRUE(provider_->ready().is_object());
  std::string t2 = TokenFor("admin");
  ASSERT_NE(KidOf(t2), KidOf(t1)) << "the provider did not sign with its new key";
  offset_s_ += 31;  // past the unknown-kid refresh interval
  int fetches = s.auth->keys->fetch_count();
  EXPECT_EQ(Get(s, "/api/me", t2).status, 200) << "a new kid is fetched";
  EXPECT_EQ(s.auth->keys->fetch_count(), fetches + 1);
  EXPECT_EQ(Get(s, "/api/me", t1).status, 200) << "the old key is still published";

  // The provider rotates again and retires the first key.
  StartProvider("retire");
  ASSERT_TRUE(provider_->ready().is_object());
  std::string t3 = TokenFor("admin");
  ASSERT_NE(KidOf(t3), KidOf(t2));
  EXPECT_EQ(Get(s, "/api/me", t3).status, 401) << "refresh is rate-limited";
  EXPECT_EQ(Get(s, "/api/me", t3).status, 401);
  EXPECT_EQ(s.auth->keys->fetch_count(), fetches + 1);
  offset_s_ += 31;
  EXPECT_EQ(Get(s, "/api/me", t3).status, 200) << "accepted after the rate-limited refresh";
  EXPECT_EQ(s.auth->keys->fetch_count(), fetches + 2);
  EXPECT_EQ(Get(s, "/api/me", t2).status, 200);
  EXPECT_EQ(Get(s, "/api/me", t1).status, 401) << "a removed key is refused after the refresh";
}

}  // namespace
}  // namespace aitelemetry
