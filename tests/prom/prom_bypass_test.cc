// The /prom endpoint against a real Prometheus holding several projects' series (loaded through
// promtool blocks): every known way around the Keycloak proxy and prom-label-proxy returns none
// of another project's series. Handlers run through the router with a test caller; the
// authentication middleware that sets real callers is tested in src/api.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/caller.h"
#include "api/prom_routes.h"
#include "http/client.h"
#include "http/router.h"
#include "testing/process.h"

namespace aitelemetry {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test_support::FreePort;
using test_support::Process;
using test_support::Shell;
using test_support::Slurp;

// Series values: the caller (cluster c1, namespace alpha) owns 1 and 3; every other series holds
// 100 or more, so any leak shows in a value, a sum or a count.
constexpr const char* kSeries[] = {
    R"(gpu_util{cluster="c1",exported_namespace="alpha",namespace="gpu-operator"} 1)",
    R"(gpu_util{cluster="c1",exported_namespace="beta",namespace="gpu-operator"} 100)",
    R"(gpu_util{cluster="c1",namespace="alpha"} 3)",
    R"(gpu_util{cluster="c1",namespace="beta"} 200)",
    R"(gpu_util{cluster="c2",namespace="alpha"} 400)",
    R"(gpu_util{cluster="c1",namespace="gpu-operator"} 800)",
    R"(gpu_util{cluster="c1",exported_namespace="beta",namespace="alpha"} 1600)",
    R"(gpu_util{namespace="alpha"} 3200)",
    R"(secret_metric{cluster="c1",namespace="beta"} 6400)",
    R"(secret_metric{cluster="c1",exported_namespace="beta",namespace="alpha"} 12800)",
};

class PromBypass : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::access("/usr/bin/prometheus", X_OK) != 0 ||
        Shell("command -v promtool >/dev/null") != 0) {
      GTEST_SKIP() << "prometheus/promtool not installed (scripts/setup installs them)";
    }
    dir_ = fs::path(::testing::TempDir()) / ("aitel-prom-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // Samples every minute for two hours, ending ten minutes ago.
    now_ = std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
    std::ofstream om(dir_ / "data.om");
    for (const char* name : {"gpu_util", "secret_metric"}) om << "# TYPE " << name << " gauge\n";
    for (const char* name : {"gpu_util", "secret_metric"}) {
      for (const char* s : kSeries) {
        if (!std::string(s).starts_with(std::string(name) + "{")) continue;
        for (int64_t t = now_ - 7200; t <= now_ - 600; t += 60) om << s << " " << t << "\n";
      }
    }
    om << "# EOF\n";
    om.close();
    ASSERT_EQ(Shell("promtool tsdb create-blocks-from openmetrics '" + (dir_ / "data.om").string() +
                    "' '" + (dir_ / "data").string() + "' > '" + (dir_ / "promtool.log").string() +
                    "' 2>&1"),
              0)
        << Slurp(dir_ / "promtool.log");
    int port = FreePort();
    url_ = "http://127.0.0.1:" + std::to_string(port);
    std::ofstream(dir_ / "prometheus.yml") << "global: {scrape_interval: 1m}\n";
    prometheus_ =
        new Process("/usr/bin/prometheus --config.file='" + (dir_ / "prometheus.yml").string() +
                        "' --storage.tsdb.path='" + (dir_ / "data").string() +
                        "' --storage.tsdb.retention.time=30d --web.listen-address=127.0.0.1:" +
                        std::to_string(port) + " --log.level=warn",
                    dir_ / "prometheus.log");
    bool ready = false;
    for (int i = 0; i < 240 && !ready; ++i) {
      ready = Shell("curl -fsS " + url_ + "/-/ready > /dev/null 2>&1") == 0;
      if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    ASSERT_TRUE(ready) << Slurp(dir_ / "prometheus.log");
  }
  static void TearDownTestSuite() {
    delete prometheus_;
    prometheus_ = nullptr;
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void SetUp() override {
    if (prometheus_ == nullptr) GTEST_SKIP();
    config::HubConfig hub;
    hub.name = "h";
    hub.default_cluster = "local";
    hub.prometheus.url = url_;
    api::PromRouteOptions options;
    options.hubs = {hub};
    options.max_concurrent_per_caller = 64;
    router_.Use(
        [this](http::Request& r, const std::function<http::Response(http::Request&)>& next) {
          api::Caller c;
          c.authenticated = true;
          c.subject = r.Header("x-user");
          c.scope.grants = grants_[c.subject];
          r.principal = c;
          return next(r);
        });
    api::AddPromRoutes(router_, options);
    grants_["alpha"] = {{"h", "c1", "alpha"}};
    grants_["nobody"] = {{"other", "", ""}};
    grants_["rect"] = {{"h", "c1", "alpha"}, {"h", "c2", "alpha"}};
    grants_["split"] = {{"h", "c1", "alpha"}, {"h", "c2", "gamma"}};
  }

  // Sends a request as `user`: GET with `query` in the URL, or POST with it as the form body.
  http::Response Send(const std::string& user, const std::string& path, const std::string& query,
                      const std::string& method = "GET", const std::string& url_query = "") {
    http::Request r;
    r.method = method;
    r.path = path;
    std::string in_url = method == "GET" ? query : url_query;
    r.target = path + (in_url.empty() ? "" : "?" + in_url);
    r.query = *http::ParseQuery(in_url);
    if (method == "POST") {
      r.body = query;
      r.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
    }
    r.headers.emplace_back("x-user", user);
    return router_.Dispatch(r);
  }

  json Query(const std::string& user, const std::string& promql) {
    auto r = Send(user, "/prom/h/api/v1/query",
                  "query=" + http::UrlEncode(promql) + "&time=" + std::to_string(now_ - 900));
    auto body = json::parse(r.Body(), nullptr, false);
    EXPECT_TRUE(body.is_object()) << r.Body();
    return body;
  }

  // The values of an instant query's answer (vector or scalar).
  std::vector<double> Values(const json& answer) {
    std::vector<double> out;
    if (answer.value("status", "") != "success") return out;
    const json& d = answer["data"];
    if (d["resultType"] == "scalar") return {std::stod(d["result"][1].get<std::string>())};
    for (const auto& s : d["result"]) {
      if (s.contains("value")) out.push_back(std::stod(s["value"][1].get<std::string>()));
      for (const auto& v : s.value("values", json::array())) {
        out.push_back(std::stod(v[1].get<std::string>()));
      }
    }
    return out;
  }

  static inline fs::path dir_;
  static inline std::string url_;
  static inline int64_t now_ = 0;
  static inline Process* prometheus_ = nullptr;
  http::Router router_;
  std::map<std::string, std::vector<store::Grant>> grants_;
};

TEST_F(PromBypass, QueriesSeeOnlyTheGrantedProject) {
  struct Case {
    const char* query;
    double sum;  // of the answer's values; a leak adds 100 or more
  };
  const Case cases[] = {
      {"gpu_util", 4},
      {"{__name__=~\".+\"}", 4},
      {"{__name__=~\".*\", namespace=~\".*\"}", 4},
      {"{__name__=~\"secret.*\"}", 0},
      {"secret_metric", 0},
      {"{__name__=\"secret_metric\", namespace=\"beta\"}", 0},
      {"gpu_util{namespace!=\"alpha\"}", 1},  // alpha's series scraped from the operator
      {"gpu_util{namespace=~\"beta|\"}", 0},
      {"gpu_util{exported_namespace=\"\"}", 3},
      {"gpu_util{exported_namespace!~\"alpha\"}", 3},
      {"gpu_util{cluster!=\"c1\"}", 0},
      {"gpu_util{cluster=~\".*\"}", 4},
      {"sum(gpu_util)", 4},
      {"count({__name__=~\".+\"})", 2},
      {"max({__name__=~\".+\"})", 3},
      {"sum(label_replace(gpu_util, \"namespace\", \"beta\", \"namespace\", \".*\"))", 4},
      {"sum(gpu_util or secret_metric)", 4},
      {"sum(gpu_util unless on() secret_metric)", 4},
      {"vector(0) and on() secret_metric", 0},
      {"absent(secret_metric)", 1},
      {"sum(max_over_time(gpu_util[1h]))", 4},
      {"max_over_time(sum({__name__=~\".+\"})[1h:5m])", 4},
      {"sum(gpu_util offset 5m)", 4},
      {"count(count_over_time({__name__=~\".+\"}[1h] offset 1m))", 2},
      {"sum(gpu_util * on(cluster) group_left() secret_metric)", 0},
      {"count(count by (cluster, namespace, exported_namespace) ({__name__=~\".+\"}))", 2},
  };
  for (const Case& c : cases) {
    json answer = Query("alpha", c.query);
    ASSERT_EQ(answer.value("status", ""), "success") << c.query << ": " << answer.dump();
    double sum = 0;
    for (double v : Values(answer)) sum += v;
    EXPECT_DOUBLE_EQ(sum, c.sum) << c.query << ": " << answer.dump();
  }
  // @ pins an instant inside the data.
  json at = Query("alpha", fmt::format("sum(gpu_util @ {})", now_ - 1800));
  EXPECT_EQ(Values(at), std::vector<double>{4}) << at.dump();
}

TEST_F(PromBypass, MetadataSeesOnlyTheGrantedProject) {
  auto body = [&](const std::string& path, const std::string& q) {
    auto r = Send("alpha", path, q);
    EXPECT_EQ(r.status, 200) << path << "?" << q << ": " << r.Body();
    return std::string(r.Body());
  };
  std::string names = body("/prom/h/api/v1/label/__name__/values", "");
  EXPECT_NE(names.find("gpu_util"), std::string::npos) << names;
  EXPECT_EQ(names.find("secret_metric"), std::string::npos) << names;
  std::string namespaces = body("/prom/h/api/v1/label/namespace/values", "");
  EXPECT_EQ(namespaces.find("beta"), std::string::npos) << namespaces;
  std::string exported = body("/prom/h/api/v1/label/exported_namespace/values", "");
  EXPECT_EQ(exported.find("beta"), std::string::npos) << exported;
  std::string clusters = body("/prom/h/api/v1/label/cluster/values", "");
  EXPECT_EQ(clusters.find("c2"), std::string::npos) << clusters;
  std::string series =
      body("/prom/h/api/v1/series",
           "match[]=" + http::UrlEncode("{namespace=\"beta\"}") + "&match[]=secret_metric");
  EXPECT_EQ(json::parse(series)["data"].size(), 0u) << series;
  std::string all =
      body("/prom/h/api/v1/series", "match[]=" + http::UrlEncode("{__name__=~\".+\"}"));
  EXPECT_EQ(json::parse(all)["data"].size(), 2u) << all;
  std::string labels = body("/prom/h/api/v1/labels", "");
  EXPECT_NE(labels.find("cluster"), std::string::npos) << labels;
}

TEST_F(PromBypass, ParametersAndPathsThatFooledOtherProxies) {
  // Checked first, run last: a repeated parameter is refused, from the URL and from the form.
  std::string two = "query=gpu_util&query=secret_metric";
  EXPECT_EQ(Send("alpha", "/prom/h/api/v1/query", two).status, 400);
  EXPECT_EQ(Send("alpha", "/prom/h/api/v1/query", two, "POST").status, 400);
  // URL and form together.
  EXPECT_EQ(
      Send("alpha", "/prom/h/api/v1/query", "query=gpu_util", "POST", "query=secret_metric").status,
      400);
  auto post = Send("alpha", "/prom/h/api/v1/query", "query=sum(gpu_util)", "POST");
  EXPECT_EQ(post.status, 200) << post.Body();
  for (const char* path :
       {"/prom/h/api/v1/status/config", "/prom/h/api/v1/query_exemplars", "/prom/h/federate",
        "/prom/h/api/v1/admin/tsdb/delete_series", "/prom/h/api/v1/targets",
        "/prom/h/api/v1/label/a/b/values", "/prom/h/api/v1/read", "/prom/h/api/v1/rules"}) {
    EXPECT_EQ(Send("alpha", path, "query=up").status, 404) << path;
  }
  auto bad = Send("alpha", "/prom/h/api/v1/query", "query=gpu_util&lookback_delta=1h");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.Body())["errorType"], "bad_data");
}

TEST_F(PromBypass, NoGrantNoAnswer) {
  for (const char* path :
       {"/prom/h/api/v1/query", "/prom/h/api/v1/labels", "/prom/h/api/v1/label/namespace/values",
        "/prom/h/api/v1/series", "/prom/unknown/api/v1/query"}) {
    auto r = Send("nobody", path, "query=gpu_util&match[]=gpu_util");
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.Body().find("gpu_util"), std::string::npos) << r.Body();
  }
}

TEST_F(PromBypass, SeveralClustersAreAnExactUnion) {
  EXPECT_EQ(Values(Query("rect", "sum(gpu_util)")), std::vector<double>{404});
  EXPECT_EQ(Values(Query("split", "sum(gpu_util)")), std::vector<double>{4});
  EXPECT_EQ(Values(Query("split", "sum(rate(gpu_util[10m]))")), std::vector<double>{0});
  auto r = Send("split", "/prom/h/api/v1/query", "query=" + http::UrlEncode("gpu_util[5m]"));
  EXPECT_EQ(r.status, 403) << r.Body();
  EXPECT_EQ(json::parse(r.Body())["status"], "error");
}

TEST_F(PromBypass, HostileQueriesAreCleanErrors) {
  for (std::string q :
       {std::string("sum("), std::string(5000, '('), std::string("x{a=\"\\q\"}"),
        std::string("\xff\xfe"), std::string("info(gpu_util)"), std::string("rate(gpu_util[100y])"),
        std::string(70000, 'a'), std::string("gpu_util{a=~\"(\"}")}) {
    auto r = Send("alpha", "/prom/h/api/v1/query", "query=" + http::UrlEncode(q));
    EXPECT_EQ(r.status, 400) << q.substr(0, 40) << ": " << r.Body();
    auto body = json::parse(r.Body(), nullptr, false);
    EXPECT_EQ(body.value("status", ""), "error") << r.Body();
  }
}

TEST_F(PromBypass, ManyConcurrentClients) {
  std::atomic<int> ok{0}, wrong{0};
  std::vector<std::thread> threads;
  auto started = std::chrono::steady_clock::now();
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        auto v = Values(Query("alpha", "sum({__name__=~\".+\"})"));
        (v == std::vector<double>{4} ? ok : wrong)++;
      }
    });
  }
  for (auto& t : threads) t.join();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(ok.load(), 400);
  EXPECT_EQ(wrong.load(), 0);
  std::printf("400 queries from 16 clients in %.2f s\n", seconds);
}

}  // namespace
}  // namespace aitelemetry
