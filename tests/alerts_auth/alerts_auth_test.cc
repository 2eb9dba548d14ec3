// Integration: who may deliver alerts, and which secrets never leave, with the real peers on
// loopback. A real Alertmanager runs the shipped receivers (deploy/alertmanager/alertmanager.yml,
// via tests/alertmanager/shipped_config.h) against two `aitelemetry worker`s:
//   - worker "jwt": alerts.jwt_roles [aitelemetry-alerts] with auth.issuer = the test OIDC
//     provider (tests/oidc/provider.mjs); Alertmanager's oauth2 receiver fetches a client
//     credentials token as client "alertmanager" (which has the role) or "researcher-a" (which
//     has not);
//   - worker "mtls": TLS with alerts.client_ca_file and client_subjects; Alertmanager's tls_config
//     receiver presents a certificate made here with openssl, or none, or one of another CA.
// Each case is its own receiver, chosen by the alert's `case` label. Then: a worker or `all` on
// a non-loopback address without webhook authentication refuses to start (exit 2), and a hub
// whose source fails with credentials in its URL shows none of them to any reader.
//
// Needs prometheus-alertmanager, openssl and node (with `npm ci` at the repository root).
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "alertmanager/shipped_config.h"
#include "core/time.h"
#include "model/value.h"
#include "oidc/node_peer.h"
#include "store/sql.h"
#include "traces_e2e/peers.h"

namespace aitelemetry::e2e {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;
using model::FieldType;
using model::Value;

constexpr char kRole[] = "aitelemetry-alerts";

bool Installed(const char* tool) {
  return std::system(fmt::format("command -v {} >/dev/null 2>&1", tool).c_str()) == 0;
}

// Runs `command` with the shell; returns its exit status (-1 when it did not exit).
int RunShell(const std::string& command) {
  int rc = std::system(command.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// A self-signed CA and certificates it issues, made with the openssl command.
class Pki {
 public:
  explicit Pki(std::string dir) : dir_(std::move(dir)) {}

  // Makes the CA `name` (name.crt, name.key). Returns "" or what failed.
  std::string Ca(const std::string& name) {
    return Do(fmt::format(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
        "-subj '/CN={0} test CA' -addext basicConstraints=critical,CA:TRUE "
        "-addext keyUsage=critical,keyCertSign,cRLSign -keyout {1}/{0}.key -out {1}/{0}.crt",
        name, dir_));
  }

  // Makes `name`.crt/.key for subject CN=`cn` with subjectAltName `san`, issued by CA `ca`.
  std::string Leaf(const std::string& name, const std::string& ca, const std::string& cn,
                   const std::string& san) {
    if (!WriteFile(dir_ + "/" + name + ".ext", "subjectAltName=" + san + "\n")) {
      return "cannot write " + name + ".ext";
    }
    return Do(fmt::format(
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj '/CN={2}' "
        "-keyout {0}/{1}.key -out {0}/{1}.csr && "
        "openssl x509 -req -in {0}/{1}.csr -CA {0}/{3}.crt -CAkey {0}/{3}.key -CAcreateserial "
        "-days 2 -extfile {0}/{1}.ext -out {0}/{1}.crt",
        dir_, name, cn, ca));
  }

  std::string Path(const std::string& file) const { return dir_ + "/" + file; }

 private:
  std::string Do(const std::string& command) {
    const std::string log = dir_ + "/openssl.log";
    return RunShell(command + " >>" + log + " 2>&1") == 0 ? ""
                                                          : "openssl failed:\n" + ReadFile(log);
  }

  std::string dir_;
};

// A session alert as Prometheus would send it to Alertmanager's API; `ends_at` "" while firing.
Json Alert(const std::string& case_label, const std::string& pod, const std::string& starts_at,
           const std::string& ends_at = "") {
  Json a = {{"labels",
             {{"alertname", "GpuWorkloadActive"},
              {"aitelemetry", "session"},
              {"case", case_label},
              {"namespace", "alerts-auth"},
              {"pod", pod},
              {"container", "main"},
              {"UUID", "GPU-a1e27000-0000-4000-8000-000000000001"},
              {"modelName", "NVIDIA A100-SXM4-40GB"}}},
            {"annotations", {{"summary", "test"}}},
            {"startsAt", starts_at},
            {"generatorURL", "http://prometheus/graph"}};
  if (!ends_at.empty()) a["endsAt"] = ends_at;
  return a;
}

// A running worker and a read connection to its SQLite database.
struct Worker {
  Child process;
  std::string url;
  std::string db_path;
  std::unique_ptr<store::SqlConnection> db;

  // The status of the session of `pod` ("" while there is none).
  std::string SessionStatus(const std::string& pod) {
    std::string status;
    FieldType types[] = {FieldType::kString};
    const Value params[] = {Value(pod)};
    auto st = db->Query("SELECT status FROM gpu_session WHERE pod = ?", params, types,
                        [&](std::vector<Value>& row) {
                          if (auto* s = std::get_if<std::string>(&row[0])) status = *s;
                        });
    EXPECT_TRUE(st.has_value()) << (st ? "" : st.error().message);
    return status;
  }
};

class AlertsAuth : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { problem_ = Start(); }
  static void TearDownTestSuite() {
    alertmanager_.reset();
    jwt_.reset();
    mtls_.reset();
    provider_.reset();
  }
  void SetUp() override { ASSERT_TRUE(problem_.empty()) << problem_; }

  static std::string Start() {
    for (const char* tool : {"prometheus-alertmanager", "openssl", "node"}) {
      if (!Installed(tool))
        return fmt::format("{} is not installed (scripts/setup installs it)", tool);
    }
    dir_ = std::string(AITELEMETRY_BINARY_DIR) + "/Testing/alerts_auth";
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);

    provider_ =
        std::make_unique<testing::NodePeer>("provider.mjs", std::vector<std::string>{"0"},
                                            std::vector<std::pair<std::string, std::string>>{});
    if (!provider_->ready().is_object()) {
      return "tests/oidc/provider.mjs did not start: run npm ci at the repository root";
    }
    issuer_ = provider_->ready()["issuer"].get<std::string>();

    Pki pki(dir_);
    for (const auto& problem :
         {pki.Ca("server-ca"), pki.Ca("client-ca"), pki.Ca("other-ca"),
          pki.Leaf("server", "server-ca", "127.0.0.1", "IP:127.0.0.1,DNS:localhost"),
          pki.Leaf("am", "client-ca", "alertmanager", "DNS:alertmanager.example"),
          pki.Leaf("am-other", "other-ca", "alertmanager", "DNS:alertmanager.example"),
          pki.Leaf("am-stranger", "client-ca", "stranger", "DNS:stranger.example")}) {
      if (!problem.empty()) return problem;
    }
    server_ca_ = pki.Path("server-ca.crt");

    jwt_ = std::make_unique<Worker>();
    if (auto p = StartWorker(
            *jwt_, "jwt",
            fmt::format("auth: {{issuer: '{}', redirect_url: 'http://127.0.0.1/callback'}}\n"
                        "alerts: {{jwt_roles: [{}]}}\n",
                        issuer_, kRole),
            false);
        !p.empty()) {
      return p;
    }
    mtls_ = std::make_unique<Worker>();
    if (auto p = StartWorker(*mtls_, "mtls",
                             fmt::format("tls: {{cert_file: {0}/server.crt, key_file: "
                                         "{0}/server.key}}\n"
                                         "alerts: {{client_ca_file: {0}/client-ca.crt, "
                                         "client_subjects: [alertmanager.example]}}\n",
                                         dir_),
                             true);
        !p.empty()) {
      return p;
    }
    return StartAlertmanager(pki);
  }

  static std::string StartWorker(Worker& w, const std::string& name, const std::string& extra,
                                 bool tls) {
    const int port = FreePort();
    w.url = fmt::format("{}://127.0.0.1:{}", tls ? "https" : "http", port);
    w.db_path = dir_ + "/" + name + ".db";
    const std::string config =
        fmt::format("listen: 127.0.0.1:{}\ndb: sqlite:{}\nthreads: 2\n{}", port, w.db_path, extra);
    if (!WriteFile(dir_ + "/" + name + ".yaml", config)) return "cannot write the worker config";
    if (auto p =
            w.process.Start({AITELEMETRY_BINARY_PATH, "worker", "-c", dir_ + "/" + name + ".yaml"},
                            dir_ + "/" + name + ".log");
        !p.empty()) {
      return p;
    }
    // /healthz needs no certificate: only the webhook asks for one.
    bool up = PollUntil(30s, [&] {
      if (!w.process.Running()) return true;
      http::HttpClient client({server_ca_, "", "", false});
      http::ClientRequest r;
      r.url = w.url + "/healthz";
      auto resp = client.Send(r);
      return resp && resp->status == 200;
    });
    if (!up || !w.process.Running())
      return "worker " + name + " did not start:\n" + w.process.LogTail();
    auto db = store::Connect("sqlite:" + w.db_path);
    if (!db) return "cannot open the worker's database: " + db.error().message;
    w.db = std::move(*db);
    return "";
  }

  static std::string StartAlertmanager(const Pki& pki) {
    YAML::Node shipped = test_support::LoadShippedAlertmanagerConfig();
    YAML::Node oauth2 = test_support::ShippedReceiver(shipped, "aitelemetry");
    YAML::Node mtls = test_support::ShippedReceiver(shipped, "aitelemetry-mtls");
    if (!oauth2 || !mtls || !oauth2["webhook_configs"][0]["http_config"]["oauth2"] ||
        !mtls["webhook_configs"][0]["http_config"]["tls_config"]["cert_file"]) {
      return "the shipped receivers aitelemetry (oauth2) and aitelemetry-mtls (tls_config) "
             "are missing";
    }
    std::vector<test_support::TestRoute> routes;
    // The oauth2 receiver as shipped, pointed at the provider and the jwt worker (plain http on
    // loopback: no tls_config).
    for (const auto& [name, client] :
         {std::pair<std::string, std::string>{"oauth2", "alertmanager"},
          {"oauth2-wrong-role", "researcher-a"}}) {
      YAML::Node r = YAML::Clone(oauth2);
      r["name"] = name;
      YAML::Node webhook = r["webhook_configs"][0];
      webhook["url"] = jwt_->url + "/api/alerts";
      YAML::Node http_config = webhook["http_config"];
      http_config.remove("tls_config");
      http_config["oauth2"]["token_url"] = issuer_ + "/protocol/openid-connect/token";
      http_config["oauth2"]["client_id"] = client;
      const std::string secret = dir_ + "/" + client + ".secret";
      if (!WriteFile(secret, client + "-secret\n")) return "cannot write " + secret;
      http_config["oauth2"]["client_secret_file"] = secret;
      routes.push_back({r, "case", name});
    }
    // The tls_config receiver as shipped, with this test's certificates.
    struct TlsCase {
      std::string name, cert;
    };
    for (const TlsCase& c :
         {TlsCase{"mtls", "am"}, TlsCase{"mtls-no-cert", ""}, TlsCase{"mtls-other-ca", "am-other"},
          TlsCase{"mtls-stranger", "am-stranger"}}) {
      YAML::Node r = YAML::Clone(mtls);
      r["name"] = c.name;
      YAML::Node webhook = r["webhook_configs"][0];
      webhook["url"] = mtls_->url + "/api/alerts";
      YAML::Node tls = webhook["http_config"]["tls_config"];
      tls["ca_file"] = pki.Path("server-ca.crt");
      if (c.cert.empty()) {
        tls.remove("cert_file");
        tls.remove("key_file");
      } else {
        tls["cert_file"] = pki.Path(c.cert + ".crt");
        tls["key_file"] = pki.Path(c.cert + ".key");
      }
      routes.push_back({r, "case", c.name});
    }
    const std::string config = dir_ + "/alertmanager.yml";
    if (!WriteFile(config, test_support::TestAlertmanagerConfig(shipped, routes))) {
      return "cannot write " + config;
    }
    am_url_ = fmt::format("http://127.0.0.1:{}", FreePort());
    alertmanager_ = std::make_unique<Child>();
    if (auto p = alertmanager_->Start(
            {"prometheus-alertmanager", "--config.file=" + config,
             "--storage.path=" + dir_ + "/alertmanager",
             "--cluster.listen-address=", "--web.listen-address=" + am_url_.substr(7)},
            dir_ + "/alertmanager.log");
        !p.empty()) {
      return p;
    }
    if (auto p = alertmanager_->WaitReady(am_url_ + "/-/ready", 30s); !p.empty()) {
      return "alertmanager: " + p;
    }
    return "";
  }

  // Hands `alerts` to Alertmanager, as Prometheus does.
  static void PostToAlertmanager(const Json& alerts) {
    auto r = Call("POST", am_url_ + "/api/v2/alerts", alerts.dump());
    ASSERT_EQ(r.status, 200) << r.body;
  }

  // Waits until Alertmanager logs that receiver `name` was refused with `status`.
  static bool AlertmanagerLogsRefusal(const std::string& name, int status) {
    return PollUntil(30s, [&] {
      std::string log = ReadFile(dir_ + "/alertmanager.log");
      for (size_t at = log.find(name + "/webhook[0]"); at != std::string::npos;
           at = log.find(name + "/webhook[0]", at + 1)) {
        size_t end = log.find('\n', at);
        if (log.substr(at, end - at).find(fmt::format("unexpected status code {}", status)) !=
            std::string::npos) {
          return true;
        }
      }
      return false;
    });
  }

  static std::string problem_;
  static std::string dir_;
  static std::string issuer_;
  static std::string server_ca_;
  static std::string am_url_;
  static std::unique_ptr<testing::NodePeer> provider_;
  static std::unique_ptr<Worker> jwt_;
  static std::unique_ptr<Worker> mtls_;
  static std::unique_ptr<Child> alertmanager_;
};

std::string AlertsAuth::problem_;
std::string AlertsAuth::dir_;
std::string AlertsAuth::issuer_;
std::string AlertsAuth::server_ca_;
std::string AlertsAuth::am_url_;
std::unique_ptr<testing::NodePeer> AlertsAuth::provider_;
std::unique_ptr<Worker> AlertsAuth::jwt_;
std::unique_ptr<Worker> AlertsAuth::mtls_;
std::unique_ptr<Child> AlertsAuth::alertmanager_;

std::string Ago(std::chrono::seconds s) { return FormatRfc3339(Now() - s); }

TEST_F(AlertsAuth, OAuth2ClientWithTheRoleOpensAndClosesSessions) {
  const std::string start = Ago(60s);
  PostToAlertmanager(Json::array({Alert("oauth2", "nb-oauth2", start)}));
  ASSERT_TRUE(PollUntil(60s, [] { return jwt_->SessionStatus("nb-oauth2") == "open"; }))
      << "alertmanager log:\n"
      << alertmanager_->LogTail() << "\nworker log:\n"
      << jwt_->process.LogTail();
  PostToAlertmanager(Json::array({Alert("oauth2", "nb-oauth2", start, Ago(1s))}));
  ASSERT_TRUE(PollUntil(60s, [] { return jwt_->SessionStatus("nb-oauth2") == "closed"; }))
      << alertmanager_->LogTail();
}

TEST_F(AlertsAuth, OAuth2ClientWithoutTheRoleIsRefusedWith403) {
  PostToAlertmanager(Json::array({Alert("oauth2-wrong-role", "nb-wrong-role", Ago(60s))}));
  EXPECT_TRUE(AlertmanagerLogsRefusal("oauth2-wrong-role", 403)) << alertmanager_->LogTail();
  EXPECT_EQ(jwt_->SessionStatus("nb-wrong-role"), "");
  EXPECT_NE(ReadFile(dir_ + "/jwt.log").find("has none of alerts.jwt_roles"), std::string::npos)
      << jwt_->process.LogTail();
}

TEST_F(AlertsAuth, ForgedAndMissingTokensAreRefusedWith401) {
  for (const std::string& authorization :
       {std::string(), std::string("Bearer not-a-jwt"), std::string("Basic YTpi")}) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!authorization.empty()) headers.emplace_back("Authorization", authorization);
    auto r = Call("POST", jwt_->url + "/api/alerts", R"({"version":"4","alerts":[]})", headers);
    EXPECT_EQ(r.status, 401) << authorization;
  }
}

TEST_F(AlertsAuth, ClientCertificateOfTheCaIsAccepted) {
  const std::string start = Ago(60s);
  PostToAlertmanager(Json::array({Alert("mtls", "nb-mtls", start)}));
  ASSERT_TRUE(PollUntil(60s, [] { return mtls_->SessionStatus("nb-mtls") == "open"; }))
      << "alertmanager log:\n"
      << alertmanager_->LogTail() << "\nworker log:\n"
      << mtls_->process.LogTail();
  PostToAlertmanager(Json::array({Alert("mtls", "nb-mtls", start, Ago(1s))}));
  ASSERT_TRUE(PollUntil(60s, [] { return mtls_->SessionStatus("nb-mtls") == "closed"; }))
      << alertmanager_->LogTail();
}

TEST_F(AlertsAuth, NoCertificateAnotherCaOrAnotherSubjectIsRefused) {
  PostToAlertmanager(Json::array({Alert("mtls-no-cert", "nb-no-cert", Ago(60s)),
                                  Alert("mtls-other-ca", "nb-other-ca", Ago(60s)),
                                  Alert("mtls-stranger", "nb-stranger", Ago(60s))}));
  for (const char* name : {"mtls-no-cert", "mtls-other-ca", "mtls-stranger"}) {
    EXPECT_TRUE(AlertmanagerLogsRefusal(name, 403)) << name << "\n" << alertmanager_->LogTail();
  }
  for (const char* pod : {"nb-no-cert", "nb-other-ca", "nb-stranger"}) {
    EXPECT_EQ(mtls_->SessionStatus(pod), "") << pod;
  }
  // Go's TLS client sends no certificate that the server's CA list does not name; curl sends the
  // other CA's certificate anyway, and the webhook refuses it too.
  http::HttpClient other({server_ca_, dir_ + "/am-other.crt", dir_ + "/am-other.key", false});
  http::ClientRequest request;
  request.method = "POST";
  request.url = mtls_->url + "/api/alerts";
  request.body = R"({"version":"4","alerts":[]})";
  auto refused = other.Send(request);
  ASSERT_TRUE(refused.has_value()) << refused.error().message;
  EXPECT_EQ(refused->status, 403);
  http::HttpClient good({server_ca_, dir_ + "/am.crt", dir_ + "/am.key", false});
  auto accepted = good.Send(request);
  ASSERT_TRUE(accepted.has_value()) << accepted.error().message;
  // Past authentication: the empty body is then refused as a payload.
  EXPECT_EQ(accepted->status, 400) << accepted->body;
  EXPECT_NE(accepted->body.find("status: required"), std::string::npos) << accepted->body;
  EXPECT_NE(ReadFile(dir_ + "/mtls.log").find("is not issued by alerts.client_ca_file"),
            std::string::npos);
}

// Runs `aitelemetry ARGS` to its end; returns the exit status and fills `output` with stderr.
int RunAitelemetry(const std::string& args, const std::string& output_file, std::string* output) {
  int rc = RunShell(
      fmt::format("timeout 30 {} {} >/dev/null 2>{}", AITELEMETRY_BINARY_PATH, args, output_file));
  *output = ReadFile(output_file);
  return rc;
}

TEST_F(AlertsAuth, NonLoopbackWebhookWithoutAuthenticationRefusesToStart) {
  const std::string db = "--db sqlite:" + dir_ + "/refuse.db";
  std::string err;
  for (const char* role : {"worker", "all"}) {
    SCOPED_TRACE(role);
    const std::string extra =
        std::string(role) == "all"
            ? fmt::format(
                  " -c {}",
                  [&] {
                    const std::string f = dir_ + "/all-issuer.yaml";
                    WriteFile(
                        f,
                        fmt::format(
                            "auth: {{issuer: '{}', redirect_url: 'http://127.0.0.1/callback'}}\n",
                            issuer_));
                    return f;
                  }())
            : "";
    EXPECT_EQ(
        RunAitelemetry(fmt::format("{} {} --listen 0.0.0.0:{}{}", role, db, FreePort(), extra),
                       dir_ + "/refuse.err", &err),
        2);
    EXPECT_NE(err.find("alerts.bearer_token_file, alerts.jwt_roles or alerts.client_ca_file"),
              std::string::npos)
        << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  }
  // An empty token file is a configuration error too.
  WriteFile(dir_ + "/empty-token", "\n");
  WriteFile(dir_ + "/empty-token.yaml",
            fmt::format("alerts: {{bearer_token_file: {}/empty-token}}\n", dir_));
  EXPECT_EQ(RunAitelemetry(fmt::format("worker {} --listen 0.0.0.0:{} -c {}/empty-token.yaml", db,
                                       FreePort(), dir_),
                           dir_ + "/refuse.err", &err),
            2);
  EXPECT_NE(err.find("alerts.bearer_token_file"), std::string::npos) << err;

  // With the webhook turned off, the same worker starts, and has no webhook.
  const int port = FreePort();
  WriteFile(dir_ + "/off.yaml", "alerts: {enabled: false}\n");
  Child off;
  ASSERT_EQ(off.Start({AITELEMETRY_BINARY_PATH, "worker", "--db", "sqlite:" + dir_ + "/off.db",
                       "--listen", fmt::format("0.0.0.0:{}", port), "-c", dir_ + "/off.yaml"},
                      dir_ + "/off.log"),
            "");
  const std::string url = fmt::format("http://127.0.0.1:{}", port);
  ASSERT_EQ(off.WaitReady(url + "/healthz", 30s), "");
  EXPECT_EQ(Call("POST", url + "/api/alerts", R"({"version":"4","alerts":[]})").status, 404);
}

// Returns a client-credentials access token of the provider's client `name`.
std::string TokenFor(const std::string& issuer, const std::string& name) {
  http::HttpClient client;
  http::ClientRequest request;
  request.method = "POST";
  request.url = issuer + "/protocol/openid-connect/token";
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  request.body = "grant_type=client_credentials&client_id=" + http::UrlEncode(name) +
                 "&client_secret=" + http::UrlEncode(name + "-secret");
  auto response = client.Send(request);
  if (!response || response->status != 200) return "";
  return Json::parse(response->body, nullptr, false).value("access_token", "");
}

TEST_F(AlertsAuth, SourceCredentialsReachNoReader) {
  // An upstream that fails every request, its answers quoting a secret of its own: a Prometheus
  // error answer on /prom, an HTML page elsewhere.
  const int upstream_port = FreePort();
  Child upstream;
  ASSERT_EQ(upstream.Start({"node", "-e",
                            "require('http').createServer((q, s) => {"
                            " if (q.url.startsWith('/prom')) {"
                            "  s.writeHead(400, {'content-type': 'application/json'});"
                            "  s.end(JSON.stringify({status: 'error', errorType: 'bad_data',"
                            "   error: 'upstream-body-s3cret'})); return; }"
                            " s.writeHead(502, {'content-type': 'text/html'});"
                            " s.end('<html>upstream-body-s3cret</html>');"
                            "}).listen(Number(process.argv[1]), '127.0.0.1')",
                            std::to_string(upstream_port)},
                           dir_ + "/upstream.log"),
            "");
  ASSERT_TRUE(PollUntil(30s, [&] {
    return Call("GET", fmt::format("http://127.0.0.1:{}/", upstream_port)).status == 502;
  })) << upstream.LogTail();
  const std::vector<std::string> secrets = {"pr0m-s3cret", "t0ken-s3cret", "exp0rter-s3cret",
                                            "k3y-s3cret"};
  const int port = FreePort();
  const std::string config = dir_ + "/all.yaml";
  WriteFile(config,
            fmt::format("listen: 127.0.0.1:{0}\ndb: sqlite:{1}/all.db\ninterval: 1s\n"
                        "auth: {{issuer: '{2}', redirect_url: 'http://127.0.0.1/callback'}}\n"
                        "hubs:\n"
                        "  - name: moc\n"
                        "    prometheus: {{url: 'http://collector:pr0m-s3cret@127.0.0.1:{3}/prom"
                        "?token=t0ken-s3cret', retries: 0}}\n"
                        "  - name: edge\n"
                        "    exporters: [{{url: 'http://scraper:exp0rter-s3cret@127.0.0.1:{3}/"
                        "metrics?key=k3y-s3cret'}}]\n",
                        port, dir_, issuer_, upstream_port));
  Child all;
  ASSERT_EQ(all.Start({AITELEMETRY_BINARY_PATH, "all", "-c", config}, dir_ + "/all.log"), "");
  const std::string url = fmt::format("http://127.0.0.1:{}", port);
  ASSERT_EQ(all.WaitReady(url + "/healthz", 30s), "");

  const std::string admin = TokenFor(issuer_, "admin");
  const std::string researcher = TokenFor(issuer_, "researcher-a");  // one project in hub moc
  ASSERT_FALSE(admin.empty());
  ASSERT_FALSE(researcher.empty());
  auto hubs = [&](const std::string& token) {
    return Call("GET", url + "/api/hub?rows=10", "", {{"Authorization", "Bearer " + token}});
  };
  // Both hubs have failed at least once.
  ASSERT_TRUE(PollUntil(30s,
                        [&] {
                          auto r = hubs(admin);
                          Json j = Json::parse(r.body, nullptr, false);
                          if (r.status != 200 || !j.is_object()) return false;
                          int failed = 0;
                          for (const Json& h : j.value("list", Json::array())) {
                            if (h.value("last_error", Json()).is_string()) ++failed;
                          }
                          return failed == 2;
                        }))
      << hubs(admin).body << "\n"
      << all.LogTail();

  for (const auto& [who, token] :
       {std::pair<std::string, std::string>{"admin", admin}, {"researcher-a", researcher}}) {
    SCOPED_TRACE(who);
    auto r = hubs(token);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.body.find("\"moc\""), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("HTTP 400"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("http://***@127.0.0.1"), std::string::npos) << r.body;
    for (const auto& secret : secrets) EXPECT_EQ(r.body.find(secret), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("upstream-body-s3cret"), std::string::npos) << r.body;
  }
  auto metrics = Call("GET", url + "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("aitelemetry_sync_errors_total{hub=\"moc\"}"), std::string::npos);
  all.Stop();
  const std::string log = ReadFile(dir_ + "/all.log");
  EXPECT_NE(log.find("sync: hub moc"), std::string::npos) << log;
  std::string printed;
  EXPECT_EQ(RunShell(fmt::format("{} check-config -c {} >{}/printed.yaml 2>&1",
                                 AITELEMETRY_BINARY_PATH, config, dir_)),
            0);
  printed = ReadFile(dir_ + "/printed.yaml");
  EXPECT_NE(printed.find("http://***@127.0.0.1"), std::string::npos) << printed;
  for (const auto& secret : secrets) {
    EXPECT_EQ(metrics.body.find(secret), std::string::npos) << secret;
    EXPECT_EQ(log.find(secret), std::string::npos) << secret;
    EXPECT_EQ(printed.find(secret), std::string::npos) << secret;
  }
}

}  // namespace
}  // namespace aitelemetry::e2e
