// The read API's response cache over HTTP against the real server, on SQLite and PostgreSQL:
// cached answers equal uncached ones byte for byte (headers too), every committed write (through
// the store, another connection, another process or replica) is seen by the next request, callers
// with different grants never share an answer, and the byte bound evicts.
#include "api/response_cache.h"
#include "api/rest_test_util.h"
#include "model/record.h"

namespace aitelemetry::api {
namespace {

using model::Record;
using testing::Get;
using testing::JsonOf;

constexpr int kRows = 30;

class RestCacheTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    testing::OpenFreshStore(GetParam(), &url_, &store_);
    if (HasFatalFailure()) return;
    testing::FillGenericRows(*store_, kRows);
    if (HasFatalFailure()) return;
    cache_ = std::make_unique<ResponseCache>(64u << 20);
    cached_ = std::make_unique<testing::RestServer>(*store_, EventHubOptions{}, cache_.get());
    plain_ = std::make_unique<testing::RestServer>(*store_);
  }

  // The found number of a search through the cached server.
  int64_t Found(const std::string& query, const std::string& caller = "admin") {
    auto r = Get(client_, cached_->base() + query, caller);
    EXPECT_EQ(r.status, 200) << query << ": " << r.body;
    auto j = JsonOf(r);
    return j.contains("foundNum") ? j["foundNum"].get<int64_t>() : -1;
  }

  // Runs `step` until the store generation held still across it, and returns whether it did
  // within a few tries. Counting hits needs this on PostgreSQL: its generation is
  // pg_current_snapshot(), which any transaction on the server moves (other databases' too, such
  // as the tests running beside this one), and a new generation empties the cache. SQLite's
  // moves only with this database, so there the first try counts.
  template <typename Step>
  bool WithSteadyGeneration(Step step) {
    for (int attempt = 0; attempt < 20; ++attempt) {
      auto before = store_->Generation(true);
      step();
      auto after = store_->Generation(true);
      if (before && after && *before == *after) return true;
    }
    ADD_FAILURE() << "the store generation never held still";
    return false;
  }

  std::string url_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ResponseCache> cache_;
  std::unique_ptr<testing::RestServer> cached_, plain_;
  http::HttpClient client_;
};

// Whatever a client can see of an answer: status, the headers the API sets, and the body.
std::string Seen(const http::ClientResponse& r) {
  std::string out = std::to_string(r.status) + "\n";
  for (const char* h : {"content-type", "content-disposition", "content-length", "x-found-num",
                        "x-next-cursor-mark", "etag", "cache-control"}) {
    out += std::string(h) + ": " + r.Header(h) + "\n";
  }
  return out + r.body;
}

TEST_P(RestCacheTest, ACachedAnswerIsTheUncachedAnswer) {
  const std::string gpu_key = testing::GenericRows(*model::FindModel("gpu"), 1)[0].Key();
  struct Case {
    std::string query;
    std::vector<std::pair<std::string, std::string>> headers;
    bool cacheable = true;  // a 200 (errors are never stored)
  } cases[] = {
      {"/api/gpu?rows=5&facet.field=model_name&facet.field=state&stats.field=power_watts&sort=key"
       "%20desc"},
      {"/api/gpu?rows=5&format=csv&fl=key,hub,power_watts"},
      {"/api/gpu?rows=5&fl=key", {{"Accept", "text/csv"}}},
      {"/api/gpu?rows=5&fl=key", {{"Accept", "application/json"}}},
      {"/api/project?q=proj&fl=key,namespace&start=2"},
      {"/api/gpu?rows=4&cursorMark=*&fl=key"},
      {"/api/usage?groupBy=project&step=day&from=2026-01-01T00:00:00Z&to=2026-01-03T00:00:00Z"},
      {"/api/usage?groupBy=hub&format=csv&from=2026-01-01T00:00:00Z&to=2026-01-03T00:00:00Z"},
      {"/api/gpu/" + gpu_key},
      {"/api/gpu/" + gpu_key + "?fl=key,state"},
      {"/api/gpu?fq=nope:1", {}, false},
      {"/api/gpu/NO-SUCH-KEY", {}, false},
  };
  for (const std::string caller : {"admin", "researcher"}) {
    for (const auto& c : cases) {
      SCOPED_TRACE(caller + " " + c.query);
      auto want = Get(client_, plain_->base() + c.query, caller, c.headers);
      // (After a retry the first request may be a hit too: its answer was stored by the try
      // before. The second one is a hit in any case.)
      ResponseCache::Stats before, middle, after;
      http::ClientResponse first, second;
      WithSteadyGeneration([&] {
        before = cache_->stats();
        first = Get(client_, cached_->base() + c.query, caller, c.headers);
        middle = cache_->stats();
        second = Get(client_, cached_->base() + c.query, caller, c.headers);
        after = cache_->stats();
      });
      EXPECT_EQ(Seen(first), Seen(want));
      EXPECT_EQ(Seen(second), Seen(want));
      if (caller == "admin" && c.cacheable) {
        EXPECT_EQ(want.status, 200) << want.body;
      }
      const bool stored = c.cacheable && want.status == 200;
      EXPECT_EQ(after.hits - middle.hits, stored ? 1u : 0u);
      if (!stored) {
        EXPECT_EQ(middle.hits, before.hits);
      }
    }
  }
  // Parameter order does not matter (the key sorts by name); the values do.
  // (Each try asks for other rows, so nothing a previous try stored can be hit.)
  uint64_t reordered = 0, other_value = 0;
  int rows = 5;
  WithSteadyGeneration([&] {
    auto hits = [&] { return cache_->stats().hits; };
    auto get = [&](const std::string& query) {
      Get(client_, cached_->base() + "/api/gpu?" + query, "admin");
      return hits();
    };
    const std::string n = std::to_string(rows), more = std::to_string(rows + 1);
    rows += 2;
    const auto first = get("fl=key&rows=" + n + "&facet.field=model_name");
    const auto second = get("rows=" + n + "&facet.field=model_name&fl=key");
    const auto third = get("rows=" + more + "&facet.field=model_name&fl=key");
    reordered = second - first;
    other_value = third - second;
  });
  EXPECT_EQ(reordered, 1u);
  EXPECT_EQ(other_value, 0u);
}

TEST_P(RestCacheTest, EveryCommittedWriteIsSeenByTheNextRequest) {
  const model::Model& gpu = *model::FindModel("gpu");
  const std::string query = "/api/gpu?rows=0&fq=state:fresh";
  uint64_t warm = 0;
  WithSteadyGeneration([&] {
    const auto before = cache_->stats().hits;
    EXPECT_EQ(Found(query), 0);
    EXPECT_EQ(Found(query), 0);
    warm = cache_->stats().hits - before;
  });
  EXPECT_GE(warm, 1u) << "the second request should have been a hit";

  // 1. An upsert through the store.
  auto rows = testing::GenericRows(gpu, 3, 100);
  for (auto& r : rows) r.Set("state", std::string("fresh"));
  ASSERT_TRUE(store_->Upsert(gpu, std::span<const Record>(rows.data(), 1)));
  EXPECT_EQ(Found(query), 1) << "after an upsert through the store";

  // 2. Another connection (another replica of the same database).
  auto other = store::Connect(url_);
  ASSERT_TRUE(other);
  ASSERT_TRUE((*other)->Exec("UPDATE gpu SET state = 'fresh' WHERE key = '" + rows[0].Key() +
                             "' OR key = 'gpu-00000'"));
  EXPECT_EQ(Found(query), 2) << "after a commit by another connection";

  // 3. Another Store on the same database, as a second process or replica would open it.
  auto replica = store::Store::Open({url_, 2, false});
  ASSERT_TRUE(replica);
  ASSERT_TRUE((*replica)->Upsert(gpu, std::span<const Record>(rows.data() + 1, 1)));
  EXPECT_EQ(Found(query), 3) << "after an upsert by another store";

  // 4. Another process.
  ASSERT_TRUE(test_support::ExecInAnotherProcess(
      url_, "UPDATE gpu SET state = 'fresh' WHERE key = 'gpu-00001'"));
  EXPECT_EQ(Found(query), 4) << "after a commit by another process";

  // One entity, and a delete.
  const std::string one = "/api/gpu/gpu-00001?fl=state";
  auto before = JsonOf(Get(client_, cached_->base() + one, "admin"));
  EXPECT_EQ(before["state"], "fresh");
  ASSERT_TRUE((*other)->Exec("DELETE FROM gpu WHERE key = 'gpu-00001'"));
  EXPECT_EQ(Get(client_, cached_->base() + one, "admin").status, 404);
  EXPECT_EQ(Found(query), 3) << "after a delete";
}

// A researcher never gets an admin's cached answer, nor another grant's: not the rows, not the
// counts, not the facets or stats.
TEST_P(RestCacheTest, CallersWithDifferentGrantsNeverShareAnAnswer) {
  const std::string query =
      "/api/gpu?rows=100&fl=key,hub,project&facet.field=hub&facet.field=project&stats.field="
      "power_watts";
  uint64_t hits = 0;
  WithSteadyGeneration([&] {
    const auto before = cache_->stats().hits;
    for (int round = 0; round < 2; ++round) {  // the second round is served from the cache
      SCOPED_TRACE(round);
      auto admin = JsonOf(Get(client_, cached_->base() + query, "admin"));
      auto researcher = JsonOf(Get(client_, cached_->base() + query, "researcher"));
      auto stranger = JsonOf(Get(client_, cached_->base() + query, "stranger"));
      auto plain = JsonOf(Get(client_, plain_->base() + query, "researcher"));
      EXPECT_EQ(admin["foundNum"], kRows);
      EXPECT_EQ(researcher, plain);
      EXPECT_LT(researcher["foundNum"].get<int>(), kRows);
      EXPECT_GT(researcher["foundNum"].get<int>(), 0);
      for (const auto& row : researcher["list"]) EXPECT_EQ(row["project"], "proj-a") << row;
      EXPECT_EQ(researcher["facet_counts"]["facet_fields"]["hub"].size(), 1u);
      EXPECT_EQ(stranger["foundNum"], 0);
      EXPECT_TRUE(stranger["list"].empty());
      EXPECT_TRUE(stranger["facet_counts"]["facet_fields"]["hub"].empty());
      EXPECT_TRUE(stranger["facet_counts"]["facet_fields"]["project"].empty());
      EXPECT_EQ(stranger["stats"]["stats_fields"]["power_watts"]["count"], 0);
      auto nobody = Get(client_, cached_->base() + query, "nobody");
      EXPECT_EQ(JsonOf(nobody)["foundNum"], 0);
    }
    hits = cache_->stats().hits - before;
  });
  EXPECT_GE(hits, 4u);
  // One entity the researcher may not see stays a 404 after the admin's answer was cached.
  const std::string hidden = "/api/gpu/gpu-00003";  // hub "other"
  EXPECT_EQ(Get(client_, cached_->base() + hidden, "admin").status, 200);
  EXPECT_EQ(Get(client_, cached_->base() + hidden, "admin").status, 200);
  EXPECT_EQ(Get(client_, cached_->base() + hidden, "researcher").status, 404);
  EXPECT_EQ(Get(client_, cached_->base() + hidden, "stranger").status, 404);
}

TEST_P(RestCacheTest, TheByteBoundEvictsTheLeastRecentlyUsed) {
  // Room for four of these answers (each ~7 KB; an entry may take at most a quarter), so the
  // fifth evicts the least recently used.
  auto body = Get(client_, plain_->base() + "/api/gpu?rows=10&start=0", "admin").body;
  ASSERT_GT(body.size(), 5000u);
  struct Counts {
    ResponseCache::Stats four, hit, fifth, recent, least;
    size_t capacity = 0;
  } seen;
  WithSteadyGeneration([&] {
    ResponseCache small(4 * (body.size() + 600) + 100);
    testing::RestServer server(*store_, EventHubOptions{}, &small);
    auto get = [&](int start) {
      auto r =
          Get(client_, server.base() + "/api/gpu?rows=10&start=" + std::to_string(start), "admin");
      EXPECT_EQ(r.status, 200);
      return small.stats();
    };
    for (int start : {0, 1, 2}) get(start);
    seen.four = get(3);
    seen.hit = get(0);  // 0 is now the most recently used; 1 the least
    seen.fifth = get(4);
    seen.recent = get(0);
    seen.least = get(1);
    seen.capacity = small.capacity_bytes();
  });
  EXPECT_EQ(seen.four.entries, 4u);
  EXPECT_EQ(seen.four.evictions, 0u);
  EXPECT_EQ(seen.hit.hits, 1u);
  EXPECT_EQ(seen.fifth.evictions, 1u);
  EXPECT_EQ(seen.fifth.entries, 4u);
  EXPECT_LE(seen.fifth.bytes, seen.capacity);
  EXPECT_EQ(seen.recent.hits, 2u) << "recently used, so kept";
  EXPECT_EQ(seen.least.hits, 2u) << "least recently used, so evicted";
}

TEST_P(RestCacheTest, WithoutACacheEveryAnswerIsFresh) {
  const model::Model& gpu = *model::FindModel("gpu");
  const std::string query = "/api/gpu?rows=0&fq=state:fresh";
  auto found = [&] { return JsonOf(Get(client_, plain_->base() + query, "admin"))["foundNum"]; };
  EXPECT_EQ(found(), 0);
  auto rows = testing::GenericRows(gpu, 1, 100);
  rows[0].Set("state", std::string("fresh"));
  ASSERT_TRUE(store_->Upsert(gpu, rows));
  EXPECT_EQ(found(), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, RestCacheTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace aitelemetry::api
