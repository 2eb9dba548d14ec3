// Runs the real server with the NGSI-LD routes over a seeded store and has the npm jsonld
// processor expand every kind of response in safe mode (tests/ngsi/expand.mjs).
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "api/ngsi.h"
#include "api/ngsi_routes.h"
#include "api/ngsi_test_util.h"
#include "http/server.h"

namespace aitelemetry::api {
namespace {

TEST(NgsiJsonLd, ResponsesExpandInSafeMode) {
  std::filesystem::path src = AITELEMETRY_SOURCE_DIR;
  ASSERT_TRUE(std::filesystem::exists(src / "node_modules/jsonld/package.json"))
      << "node_modules/jsonld is missing: run `npm ci` at the repository root (scripts/setup)";
  auto store = testing::SeededStore(std::filesystem::path(AITELEMETRY_BINARY_DIR) / "ngsi_expand");
  ASSERT_TRUE(store);
  auto router = std::make_shared<http::Router>();
  router->Use(testing::SetCaller(testing::Admin()));
  AddNgsiRoutes(*router, *store);
  http::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.threads = 1;
  auto server = http::Server::Create(options, router);
  ASSERT_TRUE(server) << server.error().ToString();
  std::thread thread([&] { (*server)->Run(false); });
  std::string base = "http://127.0.0.1:" + std::to_string((*server)->port());
  std::string gpu_key = model::GpuKey("moc", "c1", "n1", "GPU-a");
  std::string gpu_id = NgsiEntityId(*model::FindModel("gpu"), gpu_key);
  std::string series_id = NgsiEntityId(*model::FindModel("usage"), gpu_key + ":ai-lab");
  std::string command = "node '" + (src / "tests/ngsi/expand.mjs").string() + "' '" + base + "' '" +
                        gpu_id + "' '" + series_id + "'";
  int rc = std::system(command.c_str());
  (*server)->Stop();
  thread.join();
  ASSERT_TRUE(WIFEXITED(rc)) << command;
  EXPECT_EQ(WEXITSTATUS(rc), 0) << command;
}

}  // namespace
}  // namespace aitelemetry::api
