// A server for the API search benchmark (bench/api_search.sh): the REST routes over a SQLite
// store holding a generated fleet (sim::BuildFleet), every caller treated as an admin as in open
// local mode, answers cached in an api::ResponseCache of CACHE_BYTES (default 64 MiB, as
// api.cache_bytes; 0: no cache), plus /healthz and /api/events over one api::EventHub (the SSE
// benchmark, bench/sse_fanout.sh). A request with `X-Bench-Caller: NAME` is that caller (its own
// stream quota), and with `X-Bench-Grant: HUB/CLUSTER/PROJECT` sees only that project. Prints
// "listening PORT" once ready.
//
// Usage: api_search_server DB_PATH GPUS [PORT [CACHE_BYTES]]
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "api/caller.h"
#include "api/event_hub.h"
#include "api/response_cache.h"
#include "api/rest.h"
#include "http/server.h"
#include "model/registry.h"
#include "sim/fleet.h"
#include "store/store.h"

namespace {

using namespace aitelemetry;

Status Fill(store::Store& store, int gpus) {
  sim::FleetOptions options;
  options.gpus = gpus;
  options.hubs = 2;
  auto fleet = sim::BuildFleet(options);
  if (!fleet) return Fail(fleet.error());
  const model::Model& m = *model::FindModel("gpu");
  std::vector<model::Record> batch;
  int64_t now = ToUnixNanos(Now());
  for (size_t i = 0; i < fleet->gpus.size(); ++i) {
    const auto& g = fleet->gpus[i];
    const auto& node = fleet->nodes[g.node];
    const auto& cluster = fleet->clusters[node.cluster];
    const auto& hub = fleet->hubs[cluster.hub];
    model::Record r(m);
    r.Set("key", model::GpuKey(hub.name, cluster.name, node.name, g.uuid));
    r.Set("hub", hub.name);
    r.Set("cluster", cluster.name);
    r.Set("node", node.name);
    r.Set("node_key", model::NodeKey(hub.name, cluster.name, node.name));
    r.Set("uuid", g.uuid);
    r.Set("gpu_index", int64_t{g.index});
    r.Set("model_name", std::string(sim::GpuModels()[node.model].model_name));
    r.Set("mig_enabled", g.mig);
    bool held = i % 3 != 0 && !cluster.projects.empty();
    if (held) {
      r.Set("project", fleet->projects[cluster.projects[i % cluster.projects.size()]].ns);
    }
    r.Set("power_watts", 60.0 + static_cast<double>(i % 300));
    r.Set("utilization_ratio", static_cast<double>(i % 101) / 100);
    r.Set("state", std::string(held ? (i % 5 == 0 ? "allocated-idle" : "active") : "idle"));
    r.Set("first_seen_at", now);
    r.Set("last_seen_at", now);
    batch.push_back(std::move(r));
    if (batch.size() == 5000 || i + 1 == fleet->gpus.size()) {
      if (auto st = store.Upsert(m, batch); !st) return st;
      batch.clear();
    }
  }
  return Ok();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s DB_PATH GPUS [PORT [CACHE_BYTES]]\n", argv[0]);
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);  // no access log on the measured path
  auto store = store::Store::Open({std::string("sqlite:") + argv[1], 16, true});
  if (!store) {
    std::fprintf(stderr, "store: %s\n", store.error().ToString().c_str());
    return 1;
  }
  store::QuerySpec count;
  count.rows = 0;
  auto have = (*store)->Query(*model::FindModel("gpu"), count, store::Scope::All());
  int gpus = std::atoi(argv[2]);
  if (have && have->found < gpus) {
    if (auto st = Fill(**store, gpus); !st) {
      std::fprintf(stderr, "fill: %s\n", st.error().ToString().c_str());
      return 1;
    }
  }
  auto router = std::make_shared<http::Router>();
  router->Add("GET", "/healthz",
              [](const http::Request&) { return http::JsonResponse(200, R"({"status":"ok"})"); });
  router->Use([](http::Request& r, const std::function<http::Response(http::Request&)>& next) {
    api::Caller caller;
    caller.authenticated = true;
    caller.subject = r.Header("x-bench-caller");
    caller.open_mode = caller.subject.empty();
    std::string grant = r.Header("x-bench-grant");
    if (grant.empty()) {
      caller.admin = true;
      caller.scope = store::Scope::All();
    } else {
      auto a = grant.find('/');
      auto b = grant.find('/', a + 1);
      caller.scope.grants.push_back(
          {grant.substr(0, a), grant.substr(a + 1, b - a - 1), grant.substr(b + 1)});
    }
    r.principal = caller;
    return next(r);
  });
  size_t cache_bytes = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : size_t{64} << 20;
  std::unique_ptr<api::ResponseCache> cache;
  if (cache_bytes > 0) cache = std::make_unique<api::ResponseCache>(cache_bytes);
  api::EventHubOptions events;
  events.max_streams = 20000;
  events.max_streams_per_caller = 1000;
  api::EventHub hub(**store, events);
  api::RestDeps deps{store->get()};
  deps.cache = cache.get();
  deps.events = &hub;
  api::AddRestRoutes(*router, deps);
  http::ServerOptions options;
  options.listen = std::string("127.0.0.1:") + (argc > 3 ? argv[3] : "0");
  auto server = http::Server::Create(options, router);
  if (!server) {
    std::fprintf(stderr, "server: %s\n", server.error().ToString().c_str());
    return 1;
  }
  (*server)->OnShutdown([&hub] { hub.Stop(); });
  std::printf("listening %d cache_bytes %zu\n", (*server)->port(), cache_bytes);
  std::fflush(stdout);
  (*server)->Run(true);
  return 0;
}
