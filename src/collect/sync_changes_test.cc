#include "collect/sync_changes.h"

#include <gtest/gtest.h>

namespace aitelemetry::collect {
namespace {

EntityFact Fact(const std::string& key, std::string state, std::string holder = "") {
  EntityFact f;
  f.state = std::move(state);
  f.holder = std::move(holder);
  f.scope.model = "gpu";
  f.scope.key = key;
  f.scope.hub = "h";
  f.scope.cluster = "c";
  return f;
}

std::vector<std::string> Ops(const std::vector<store::Change>& changes) {
  std::vector<std::string> out;
  for (const auto& c : changes) out.push_back(c.key + ":" + c.op);
  return out;
}

const Timestamp kAt = FromUnixMillis(1'790'006'400'000);

TEST(SyncChanges, OnlyStateAndHolderChangesAndOneSummary) {
  HubFacts before, after;
  before["gpu"] = {{"a", Fact("a", "idle")},
                   {"b", Fact("b", "active", "ns/p1")},
                   {"c", Fact("c", "active", "ns/p1")},
                   {"d", Fact("d", "idle")},
                   {"e", Fact("e", "gone")}};
  after["gpu"] = {{"a", Fact("a", "idle")},             // unchanged: nothing
                  {"b", Fact("b", "active", "ns/p2")},  // holder changed
                  {"c", Fact("c", "allocated-idle", "ns/p1")},
                  {"d", Fact("d", "gone")},
                  {"e", Fact("e", "gone")},  // still gone: nothing
                  {"f", Fact("f", "idle")}};
  auto changes = SyncChanges(before, after, "h", kAt);
  EXPECT_EQ(Ops(changes),
            (std::vector<std::string>{"b:update", "c:update", "d:gone", "f:insert", ":sync"}));
  for (const auto& c : changes) {
    EXPECT_EQ(c.at, kAt);
    EXPECT_EQ(c.hub, "h");
    EXPECT_EQ(c.model, "gpu");
  }
  EXPECT_EQ(changes[0].cluster, "c");
}

TEST(SyncChanges, ASteadyFleetWritesOnlySummaries) {
  HubFacts facts;
  for (int i = 0; i < 100; ++i)
    facts["gpu"].emplace(std::to_string(i), Fact(std::to_string(i), "idle"));
  facts["node"] = {};
  EXPECT_EQ(Ops(SyncChanges(facts, facts, "h", kAt)), (std::vector<std::string>{":sync"}));
}

TEST(SyncChanges, AFirstLargeSyncIsOnlyASummary) {
  HubFacts before, after;
  for (int i = 0; i < 5000; ++i)
    after["gpu"].emplace(std::to_string(i), Fact(std::to_string(i), "idle"));
  auto changes = SyncChanges(before, after, "h", kAt, 1000);
  EXPECT_EQ(Ops(changes), (std::vector<std::string>{":sync"}));
  EXPECT_EQ(SyncChanges(before, after, "h", kAt, 5000).size(), 5001u);
}

}  // namespace
}  // namespace aitelemetry::collect
