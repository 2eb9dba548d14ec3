// The response cache alone: LRU by bytes, the per-entry limit, generations, and cache keys.
#include "api/response_cache.h"

#include <gtest/gtest.h>

namespace aitelemetry::api {
namespace {

http::Response Answer(size_t body_bytes, char fill = 'x') {
  http::Response r = http::JsonResponse(200, "");
  r.shared_body = std::make_shared<const std::string>(body_bytes, fill);
  return r;
}

TEST(ResponseCache, KeepsTheMostRecentlyUsedWithinItsBytes) {
  ResponseCache cache(4 * 1200);
  for (const char* k : {"a", "b", "c"}) ASSERT_FALSE(cache.Find(k, "g1"));
  cache.Insert("a", "g1", Answer(900, 'a'));
  cache.Insert("b", "g1", Answer(900, 'b'));
  cache.Insert("c", "g1", Answer(900, 'c'));
  auto a = cache.Find("a", "g1");  // a is now the most recently used; b the least
  ASSERT_TRUE(a);
  EXPECT_EQ(a->Body(), std::string(900, 'a'));
  EXPECT_EQ(a->Header("content-type"), "application/json");
  cache.Insert("d", "g1", Answer(900, 'd'));
  cache.Insert("e", "g1", Answer(900, 'e'));
  EXPECT_LE(cache.stats().bytes, cache.capacity_bytes());
  EXPECT_FALSE(cache.Find("b", "g1"));
  EXPECT_TRUE(cache.Find("a", "g1"));
  EXPECT_TRUE(cache.Find("e", "g1"));
  EXPECT_GE(cache.stats().evictions, 1u);
}

TEST(ResponseCache, ANewGenerationDropsEverythingAndStaleAnswersAreNotStored) {
  ResponseCache cache(1 << 20);
  ASSERT_FALSE(cache.Find("k", "g1"));
  cache.Insert("k", "g1", Answer(10));
  EXPECT_TRUE(cache.Find("k", "g1"));
  EXPECT_FALSE(cache.Find("k", "g2")) << "a write happened";
  EXPECT_EQ(cache.stats().entries, 0u);
  // An answer read at g1 arrives after a request saw g2: it may predate the write.
  cache.Insert("k", "g1", Answer(10));
  EXPECT_FALSE(cache.Find("k", "g2"));
  cache.Insert("k", "g2", Answer(10));
  EXPECT_TRUE(cache.Find("k", "g2"));
}

TEST(ResponseCache, AnAnswerOverAQuarterOfTheBoundIsNotKept) {
  ResponseCache cache(40000);
  ASSERT_FALSE(cache.Find("big", "g"));
  cache.Insert("big", "g", Answer(10001));
  EXPECT_FALSE(cache.Find("big", "g"));
  cache.Insert("small", "g", Answer(9000));
  EXPECT_TRUE(cache.Find("small", "g"));
  http::Response unshared = http::JsonResponse(200, "body");  // not shared: never stored
  cache.Insert("unshared", "g", unshared);
  EXPECT_FALSE(cache.Find("unshared", "g"));
}

TEST(ReadCacheKey, SeparatesScopesRolesFormatsAndValuesButNotParameterOrder) {
  Caller admin;
  admin.authenticated = true;
  admin.admin = true;
  admin.scope = store::Scope::All();
  Caller two;
  two.authenticated = true;
  two.scope.grants = {{"moc", "c1", "proj-a"}, {"moc", "c2", ""}};
  Caller swapped = two;
  std::swap(swapped.scope.grants[0], swapped.scope.grants[1]);
  Caller one = two;
  one.scope.grants.pop_back();
  Caller joined = two;  // "moc"/"c1" + "proj-a" must not read as "moc"/"c1proj-a"
  joined.scope.grants = {{"moc", "c1proj-a", ""}, {"moc", "c2", ""}};
  Caller none;

  http::Request r;
  r.path = "/api/gpu";
  r.query = {{"rows", "5"}, {"fq", "state:active"}, {"fq", "hub:moc"}};
  http::Request reordered = r;
  reordered.query = {{"fq", "state:active"}, {"rows", "5"}, {"fq", "hub:moc"}};
  http::Request repeats_swapped = r;
  repeats_swapped.query = {{"rows", "5"}, {"fq", "hub:moc"}, {"fq", "state:active"}};
  http::Request csv = r;
  csv.headers = {{"accept", "text/csv"}};
  http::Request other_path = r;
  other_path.path = "/api/node";
  http::Request split = r;  // the same characters split differently between name and value
  split.query = {{"rows", "5fq"}, {"fq", "state:active"}, {"fq", "hub:moc"}};

  const std::string base = ReadCacheKey(two, r);
  EXPECT_EQ(ReadCacheKey(swapped, r), base) << "grant order";
  EXPECT_EQ(ReadCacheKey(two, reordered), base) << "parameter order";
  for (const auto& [what, key] : std::vector<std::pair<std::string, std::string>>{
           {"admin", ReadCacheKey(admin, r)},
           {"fewer grants", ReadCacheKey(one, r)},
           {"joined grant", ReadCacheKey(joined, r)},
           {"no grants", ReadCacheKey(none, r)},
           {"fq order (repeats keep theirs)", ReadCacheKey(two, repeats_swapped)},
           {"accept", ReadCacheKey(two, csv)},
           {"path", ReadCacheKey(two, other_path)},
           {"split", ReadCacheKey(two, split)},
           {"extra", ReadCacheKey(two, r, "hour")}}) {
    EXPECT_NE(key, base) << what;
  }
}

}  // namespace
}  // namespace aitelemetry::api
