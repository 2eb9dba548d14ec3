// Integration: `promtool tsdb create-blocks-from openmetrics` must accept a generated history.
// Labelled "integration;promtool"; skips only when promtool is not installed.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "sim/history.h"

namespace aitelemetry::sim {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

const Timestamp kT0 = Timestamp(seconds(1'767'225'600));  // 2026-01-01T00:00:00Z

TEST(HistoryPromtool, CreateBlocksAcceptsSixHours) {
  if (std::system("command -v promtool > /dev/null 2>&1") != 0) {
    GTEST_FAIL() << "promtool is not installed (scripts/setup installs prometheus)";
  }
  auto built = BuildFleet({.seed = 21, .gpus = 8, .mig_fraction = 0.5});
  ASSERT_TRUE(built.has_value());
  const Fleet& fleet = *built;
  const auto dir =
      std::filesystem::temp_directory_path() /
      ("sim_history_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
       std::to_string(reinterpret_cast<uintptr_t>(&fleet)));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto file = dir / "history.om";
  {
    std::ofstream out(file);
    ASSERT_TRUE(WriteHistory(fleet, kT0, kT0 + hours(6), seconds(60), out).has_value());
  }
  const std::string command = "promtool tsdb create-blocks-from openmetrics '" + file.string() +
                              "' '" + (dir / "tsdb").string() + "' > '" +
                              (dir / "promtool.log").string() + "' 2>&1";
  const int rc = std::system(command.c_str());
  std::ifstream log(dir / "promtool.log");
  const std::string output((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << output;
  bool has_block = false;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "tsdb")) {
    has_block |= std::filesystem::exists(entry.path() / "meta.json");
  }
  EXPECT_TRUE(has_block) << output;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace aitelemetry::sim
