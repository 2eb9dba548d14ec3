// Runs PrometheusSource against Debian's real Prometheus, which scrapes its own /metrics.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "collect/prom_source.h"
#include "testing/process.h"

namespace aitelemetry::collect {
namespace {

constexpr char kPrometheus[] = "/usr/bin/prometheus";
using test_support::FreePort;

class PrometheusFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access(kPrometheus, X_OK) != 0)
      GTEST_FAIL() << kPrometheus << " not installed (scripts/setup installs it)";
    dir_ =
        std::filesystem::path(::testing::TempDir()) / ("aitel-prom-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_ / "data");
    int port = FreePort();
    address_ = "127.0.0.1:" + std::to_string(port);
    std::ofstream(dir_ / "prometheus.yml") << "global:\n  scrape_interval: 1s\n"
                                              "scrape_configs:\n  - job_name: self\n"
                                              "    static_configs:\n      - targets: ['"
                                           << address_ << "']\n";
    std::string config = "--config.file=" + (dir_ / "prometheus.yml").string();
    std::string data = "--storage.tsdb.path=" + (dir_ / "data").string();
    std::string listen = "--web.listen-address=" + address_;
    std::string log = (dir_ / "prometheus.log").string();
    pid_ = ::fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      FILE* out = std::freopen(log.c_str(), "w", stderr);
      (void)out;
      ::execl(kPrometheus, kPrometheus, config.c_str(), data.c_str(), listen.c_str(),
              "--log.level=warn", static_cast<char*>(nullptr));
      std::_Exit(127);
    }
  }

  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      for (int i = 0; i < 100; ++i) {
        if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
          pid_ = -1;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
      }
    }
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  std::filesystem::path dir_;
  std::string address_;
  pid_t pid_ = -1;
};

TEST_F(PrometheusFixture, QueryAndQueryRangeAgainstRealPrometheus) {
  PrometheusSourceOptions o;
  o.url = "http://" + address_;
  o.timeout = std::chrono::milliseconds(2000);
  o.retries = 0;
  PrometheusSource source(o);
  Result<SampleSet> r = Fail(ErrorCode::kUnavailable, "not tried");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    r = source.Query("up", Now());
    if (r && !r->empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  const Sample& s = r->samples()[0];
  EXPECT_EQ(r->Metric(s), "up");
  EXPECT_EQ(r->Label(s, "job"), "self");
  EXPECT_EQ(r->Label(s, "instance"), address_);
  EXPECT_EQ(s.value, 1.0);

  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  Timestamp end = Now();
  Result<SampleSet> range =
      source.QueryRange("up", end - std::chrono::seconds(60), end, std::chrono::seconds(1));
  ASSERT_TRUE(range) << range.error().message;
  EXPECT_EQ(range->result_type(), ResultType::kMatrix);
  ASSERT_GE(range->size(), 2u);
  for (const Sample& p : range->samples()) {
    EXPECT_EQ(p.labels, range->samples()[0].labels);
    EXPECT_EQ(p.value, 1.0);
  }

  Result<SampleSet> bad = source.Query("up{", Now());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument) << bad.error().message;
  EXPECT_NE(bad.error().message.find("bad_data"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("HTTP 400"), std::string::npos) << bad.error().message;
}

}  // namespace
}  // namespace aitelemetry::collect
