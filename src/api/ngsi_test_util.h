// Test helpers: a small fleet in a fresh SQLite store, and a middleware that sets the Caller.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "api/caller.h"
#include "core/time.h"
#include "http/router.h"
#include "store/store.h"

namespace aitelemetry::api::testing {

inline int64_t At(const char* rfc3339) { return ToUnixNanos(*ParseRfc3339(rfc3339)); }

// Opens a store in a new temporary file under `dir` and fills it with: one node, two GPUs on it
// (one held by project ai-lab, one by project other), and three hours of usage for each GPU.
inline std::unique_ptr<store::Store> SeededStore(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  std::filesystem::remove(dir / "ngsi.db");
  auto s = store::Store::Open({"sqlite:" + (dir / "ngsi.db").string(), 2, true});
  EXPECT_TRUE(s) << s.error().ToString();
  if (!s) return nullptr;
  using model::FindModel;
  using model::Record;
  std::string node_key = model::NodeKey("moc", "c1", "n1");
  Record node(*FindModel("node"));
  node.Set("key", node_key);
  node.Set("hub", std::string("moc"));
  node.Set("cluster", std::string("c1"));
  node.Set("name", std::string("n1"));
  node.Set("gpu_product", std::string("NVIDIA-A100"));
  EXPECT_TRUE((*s)->Upsert(*FindModel("node"), std::span<const Record>(&node, 1)));
  std::vector<Record> gpus, usage;
  for (auto [uuid, project, power] : std::vector<std::tuple<const char*, const char*, double>>{
           {"GPU-a", "ai-lab", 250.5}, {"GPU-b", "other", 90}}) {
    Record g(*FindModel("gpu"));
    std::string key = model::GpuKey("moc", "c1", "n1", uuid);
    g.Set("key", key);
    g.Set("hub", std::string("moc"));
    g.Set("cluster", std::string("c1"));
    g.Set("node", std::string("n1"));
    g.Set("node_key", node_key);
    g.Set("uuid", std::string(uuid));
    g.Set("model_name", std::string("NVIDIA A100-SXM4-40GB"));
    g.Set("power_watts", power);
    g.Set("project", std::string(project));
    g.Set("last_seen_at", At("2026-11-01T12:00:00Z"));
    gpus.push_back(g);
    for (const char* hour :
         {"2026-11-01T09:00:00Z", "2026-11-01T10:00:00Z", "2026-11-01T11:00:00Z"}) {
      Record u(*FindModel("usage"));
      u.Set("key", key + "-" + project + "-" + hour);
      u.Set("hub", std::string("moc"));
      u.Set("cluster", std::string("c1"));
      u.Set("project", std::string(project));
      u.Set("node", std::string("n1"));
      u.Set("device_key", key);
      u.Set("hour", At(hour));
      u.Set("allocated_seconds", 3600.0);
      u.Set("active_seconds", 1800.0);
      u.Set("energy_joules", 1000.0);
      usage.push_back(u);
    }
  }
  EXPECT_TRUE((*s)->Upsert(*FindModel("gpu"), gpus));
  EXPECT_TRUE((*s)->Upsert(*FindModel("usage"), usage));
  return std::move(*s);
}

// A middleware that attaches `caller` to every request, standing in for authentication.
inline http::Middleware SetCaller(Caller caller) {
  return [caller](http::Request& req, const std::function<http::Response(http::Request&)>& next) {
    req.principal = caller;
    return next(req);
  };
}

inline Caller Admin() {
  Caller c;
  c.authenticated = true;
  c.admin = true;
  c.scope = store::Scope::All();
  return c;
}

inline Caller Nobody() {
  Caller c;
  c.authenticated = true;
  c.scope = store::Scope::None();
  return c;
}

inline Caller ProjectMember(const char* project) {
  Caller c;
  c.authenticated = true;
  c.scope.grants.push_back({"moc", "c1", project});
  return c;
}

}  // namespace aitelemetry::api::testing
