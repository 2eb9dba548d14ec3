// The store's conformance suite: every test runs on SQLite and on a real PostgreSQL.
#include "store/store.h"
#include "store/leader.h"
#include "testing/database.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace aitelemetry::store {
namespace {

using model::FindModel;
using model::Record;

// Creates a fresh database for one test and returns its URL.
std::string FreshDatabase(const std::string& backend) {
  return test_support::FreshDatabase(backend, "store");
}

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    url_ = FreshDatabase(GetParam());
    ASSERT_FALSE(url_.empty()) << "no database for " << GetParam()
                               << " (PostgreSQL is started by the ctest fixture tests/pg.sh)";
    auto s = Store::Open({url_, 4, true});
    ASSERT_TRUE(s) << s.error().ToString();
    store_ = std::move(*s);
  }

  static Record Gpu(const std::string& hub, const std::string& cluster, const std::string& node,
                    const std::string& uuid, const std::string& model_name, const char* project,
                    double power) {
    Record r(*FindModel("gpu"));
    r.Set("key", model::GpuKey(hub, cluster, node, uuid));
    r.Set("hub", hub);
    r.Set("cluster", cluster);
    r.Set("node", node);
    r.Set("node_key", model::NodeKey(hub, cluster, node));
    r.Set("uuid", uuid);
    r.Set("model_name", model_name);
    if (project) r.Set("project", std::string(project));
    r.Set("power_watts", power);
    r.Set("state", std::string(project ? "active" : "idle"));
    r.Set("first_seen_at", int64_t{1000});
    r.Set("last_seen_at", int64_t{1000});
    return r;
  }

  void Fill() {
    std::vector<Record> gpus = {
        Gpu("moc", "c1", "n1", "GPU-a", "A100", "proj-a", 100),
        Gpu("moc", "c1", "n1", "GPU-b", "A100", "proj-b", 200),
        Gpu("moc", "c1", "n2", "GPU-c", "H100", nullptr, 300),
        Gpu("moc", "c2", "n3", "GPU-d", "H100", "proj-a", 400),
        Gpu("other", "c9", "n9", "GPU-e", "L40S", "proj-z", 500),
    };
    ASSERT_TRUE(store_->Upsert(*FindModel("gpu"), gpus));
  }

  std::string url_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreTest, MigrateIsIdempotentAndVersioned) {
  auto v = store_->Migrate();
  ASSERT_TRUE(v) << v.error().ToString();
  EXPECT_EQ(*v, kSchemaVersion);
  EXPECT_EQ(*store_->SchemaVersion(), kSchemaVersion);
  EXPECT_TRUE(store_->Ping());
}

TEST_P(StoreTest, RefusesADatabaseFromANewerVersion) {
  ASSERT_TRUE(store_->WithConnection([](SqlConnection& c) -> Status {
    model::Value p[] = {int64_t{kSchemaVersion + 1}, int64_t{0}, std::string("future")};
    auto r = c.Exec(
        "INSERT INTO schema_migrations (version, applied_at, description) VALUES (?,?,?)", p);
    if (!r) return Fail(r.error());
    return Ok();
  }));
  auto again = Store::Open({url_, 1, true});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(again.error().message.find("newer"), std::string::npos);
}

TEST_P(StoreTest, UpsertInsertsThenUpdatesKeepingWriteOnceFields) {
  Fill();
  Record g = Gpu("moc", "c1", "n1", "GPU-a", "A100", "proj-a", 111);
  g.Set("first_seen_at", int64_t{5000});
  g.Set("last_seen_at", int64_t{5000});
  ASSERT_TRUE(store_->Upsert(*FindModel("gpu"), std::span<const Record>(&g, 1)));
  auto got = store_->Get(*FindModel("gpu"), g.Key(), Scope::All());
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(std::get<double>(got->Get("power_watts")), 111);
  EXPECT_EQ(std::get<int64_t>(got->Get("first_seen_at")), 1000);  // kept
  EXPECT_EQ(std::get<int64_t>(got->Get("last_seen_at")), 5000);
  EXPECT_TRUE(model::IsNull(got->Get("temperature_celsius")));
  auto all = store_->Query(*FindModel("gpu"), {}, Scope::All());
  ASSERT_TRUE(all);
  EXPECT_EQ(all->found, 5);
}

TEST_P(StoreTest, UpdateFieldsRefreshesKnownRowsOnlyAndOnlyTheGivenFields) {
  Fill();
  const auto& gpu = *FindModel("gpu");
  Record a = Gpu("moc", "c1", "n1", "GPU-a", "A100", "proj-a", 150);
  a.Set("last_seen_at", int64_t{7000});
  a.Set("model_name", std::string("changed, but not among the fields"));
  Record unknown = Gpu("moc", "c1", "n1", "GPU-zz", "A100", nullptr, 1);
  std::vector<Record> rows = {a, unknown};
  const int fields[] = {gpu.FieldIndex("power_watts"), gpu.FieldIndex("last_seen_at")};
  Result<int64_t> changed = int64_t{0};
  ASSERT_TRUE(store_->Transaction([&](Store::Writer& w) -> Status {
    changed = w.UpdateFields(gpu, fields, rows);
    return changed ? Ok() : Fail(changed.error());
  }));
  EXPECT_EQ(*changed, 1);  // the unknown key is neither inserted nor counted
  auto got = store_->Get(gpu, a.Key(), Scope::All());
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(std::get<double>(got->Get("power_watts")), 150);
  EXPECT_EQ(std::get<int64_t>(got->Get("last_seen_at")), 7000);
  EXPECT_EQ(got->GetString("model_name"), "A100");
  EXPECT_FALSE(store_->Get(gpu, unknown.Key(), Scope::All()));
  // The key is never a field to set.
  const int key_field[] = {0};
  EXPECT_FALSE(store_->Transaction([&](Store::Writer& w) -> Status {
    auto n = w.UpdateFields(gpu, key_field, rows);
    return n ? Ok() : Fail(n.error());
  }));

  // On a partitioned model rows are matched by key and partition value.
  const auto& usage = *FindModel("usage");
  Record u(usage);
  u.Set("key", std::string("dev|proj|2026-11-01T00:00:00Z"));
  u.Set("hub", std::string("moc"));
  u.Set("cluster", std::string("c1"));
  u.Set("device_key", std::string("dev"));
  u.Set("hour", ToUnixNanos(*ParseRfc3339("2026-11-01T00:00:00Z")));
  u.Set("allocated_seconds", 30.0);
  ASSERT_TRUE(store_->Upsert(usage, std::span<const Record>(&u, 1)));
  u.Set("allocated_seconds", 60.0);
  const int usage_fields[] = {usage.FieldIndex("allocated_seconds")};
  ASSERT_TRUE(store_->Transaction([&](Store::Writer& w) -> Status {
    auto n = w.UpdateFields(usage, usage_fields, std::span<const Record>(&u, 1));
    if (!n) return Fail(n.error());
    EXPECT_EQ(*n, 1);
    return Ok();
  }));
  EXPECT_EQ(std::get<double>(store_->Get(usage, u.Key(), Scope::All())->Get("allocated_seconds")),
            60.0);
}

TEST_P(StoreTest, MigrateDropsIndexesTheRegistryNoLongerDerives) {
  // An index of an older version (gpu.last_seen_at had one), and one made by hand.
  ASSERT_TRUE(store_->WithConnection([](SqlConnection& c) -> Status {
    for (const char* sql : {"CREATE INDEX gpu_last_seen_at_idx ON gpu (last_seen_at)",
                            "CREATE INDEX by_hand ON gpu (power_watts)"}) {
      if (auto r = c.Exec(sql); !r) return Fail(r.error());
    }
    return Ok();
  }));
  ASSERT_TRUE(store_->Migrate());
  std::set<std::string> names;
  ASSERT_TRUE(store_->WithConnection([&](SqlConnection& c) -> Status {
    model::FieldType types[] = {model::FieldType::kString};
    model::Value p[] = {std::string("gpu")};
    return c.Query(c.dialect() == Dialect::kSqlite
                       ? "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
                       : "SELECT indexname FROM pg_indexes WHERE tablename = ?",
                   p, types, [&](std::vector<model::Value>& row) {
                     names.insert(std::get<std::string>(row[0]));
                   });
  }));
  EXPECT_FALSE(names.contains("gpu_last_seen_at_idx"));
  EXPECT_TRUE(names.contains("by_hand"));
  EXPECT_TRUE(names.contains("gpu_state_model_name_idx"));
  EXPECT_TRUE(IndexedFields(*FindModel("gpu")).contains("state"));
  EXPECT_FALSE(IndexedFields(*FindModel("gpu")).contains("power_watts"));
  EXPECT_FALSE(IndexedFields(*FindModel("gpu")).contains("last_seen_at"));
}

TEST_P(StoreTest, UpsertSettingUpdatesOnlyTheNamedFieldsOfStoredRows) {
  Fill();
  const model::Model& gpu = *FindModel("gpu");
  auto before = store_->Get(gpu, model::GpuKey("moc", "c1", "n1", "GPU-a"), Scope::All());
  ASSERT_TRUE(before) << before.error().ToString();
  Record changed = Gpu("moc", "c1", "n1", "GPU-a", "H100", "proj-x", 111);
  changed.Set("first_seen_at", int64_t{5000});
  changed.Set("last_seen_at", int64_t{5000});
  Record fresh = Gpu("moc", "c1", "n9", "GPU-new", "H100", "proj-x", 7);
  std::vector<Record> rows = {changed, fresh};
  const std::string fields[] = {"power_watts", "first_seen_at", "last_seen_at"};
  auto st = store_->Transaction(
      [&](Store::Writer& w) -> Status { return w.UpsertSetting(gpu, rows, fields); });
  ASSERT_TRUE(st) << st.error().ToString();
  auto got = store_->Get(gpu, changed.Key(), Scope::All());
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(std::get<double>(got->Get("power_watts")), 111);                 // named: written
  EXPECT_EQ(std::get<int64_t>(got->Get("first_seen_at")), 1000);             // write-once: kept
  EXPECT_EQ(std::get<int64_t>(got->Get("last_seen_at")), 5000);              // named: written
  EXPECT_EQ(got->GetString("model_name"), before->GetString("model_name"));  // not named: kept
  EXPECT_EQ(got->GetString("project"), before->GetString("project"));
  auto inserted = store_->Get(gpu, fresh.Key(), Scope::All());
  ASSERT_TRUE(inserted) << inserted.error().ToString();
  EXPECT_EQ(inserted->values, fresh.values);  // a new row is inserted whole

  // No fields: stored rows are kept as they are.
  st = store_->Transaction(
      [&](Store::Writer& w) -> Status { return w.UpsertSetting(gpu, rows, {}); });
  ASSERT_TRUE(st) << st.error().ToString();
  EXPECT_EQ(std::get<double>(store_->Get(gpu, changed.Key(), Scope::All())->Get("power_watts")),
            111);
  for (const char* bad : {"key", "no_such_field"}) {
    const std::string named[] = {bad};
    st = store_->Transaction(
        [&](Store::Writer& w) -> Status { return w.UpsertSetting(gpu, rows, named); });
    ASSERT_FALSE(st) << bad;
    EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument) << bad;
  }
}

// Sums kept by the store: a stored row's named fields become stored + new, null meaning unknown
// (null + x = x, x + null = x), the others are kept; a new row is inserted as given.
TEST_P(StoreTest, UpsertAddingAddsToStoredSumsAndKeepsUnknownApart) {
  const model::Model& usage = *FindModel("usage");
  const int64_t hour = 1'790'002'800'000'000'000;
  auto row = [&](const std::string& key, model::Value allocated, model::Value active,
                 int64_t samples, const std::string& node) {
    Record r(usage);
    r.Set("key", key);
    r.Set("hour", hour);
    r.Set("hub", std::string("moc"));
    r.Set("cluster", std::string("c1"));
    r.Set("node", node);
    r.Set("device_key", key);
    r.Set("allocated_seconds", allocated);
    r.Set("active_seconds", active);
    r.Set("samples", samples);
    return r;
  };
  const int adds[] = {usage.FieldIndex("allocated_seconds"), usage.FieldIndex("active_seconds"),
                      usage.FieldIndex("samples")};
  auto write = [&](std::vector<Record> rows) {
    auto st = store_->Transaction(
        [&](Store::Writer& w) -> Status { return w.UpsertAdding(usage, rows, adds); });
    if (!st) std::cerr << st.error().ToString() << "\n";
    return st;
  };
  ASSERT_TRUE(write({row("a", 60.0, model::Value{}, 1, "n1"), row("b", 60.0, 30.0, 1, "n1")}));
  ASSERT_TRUE(write({row("a", 60.0, 15.0, 1, "n2"), row("b", 30.0, model::Value{}, 2, "n2"),
                     row("c", 10.0, 5.0, 1, "n2")}));
  auto get = [&](const std::string& key) {
    auto r = store_->Get(usage, key, Scope::All());
    EXPECT_TRUE(r) << key << ": " << r.error().ToString();
    return r ? *r : Record(usage);
  };
  auto a = get("a"), b = get("b"), c = get("c");
  EXPECT_DOUBLE_EQ(std::get<double>(a.Get("allocated_seconds")), 120);
  EXPECT_DOUBLE_EQ(std::get<double>(a.Get("active_seconds")), 15);  // unknown + 15
  EXPECT_EQ(std::get<int64_t>(a.Get("samples")), 2);
  EXPECT_EQ(a.GetString("node"), "n1");  // not a sum: kept
  EXPECT_DOUBLE_EQ(std::get<double>(b.Get("allocated_seconds")), 90);
  EXPECT_DOUBLE_EQ(std::get<double>(b.Get("active_seconds")), 30);  // 30 + unknown
  EXPECT_EQ(std::get<int64_t>(b.Get("samples")), 3);
  EXPECT_DOUBLE_EQ(std::get<double>(c.Get("allocated_seconds")), 10);  // inserted as given
  EXPECT_TRUE(model::IsNull(c.Get("memory_byte_seconds")));

  // A key twice in one call, or a field that is no number, is refused and changes nothing.
  auto st = write({row("a", 1.0, 1.0, 1, "n3"), row("a", 1.0, 1.0, 1, "n3")});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
  const int bad[] = {usage.FieldIndex("node")};
  st = store_->Transaction([&](Store::Writer& w) -> Status {
    return w.UpsertAdding(usage, std::vector<Record>{row("a", 1.0, 1.0, 1, "n3")}, bad);
  });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
  EXPECT_DOUBLE_EQ(std::get<double>(get("a").Get("allocated_seconds")), 120);
}

TEST_P(StoreTest, LargeBatchInOneTransaction) {
  std::vector<Record> many;
  for (int i = 0; i < 3000; ++i) {
    many.push_back(Gpu("moc", "c1", "n" + std::to_string(i / 8), "GPU-" + std::to_string(i), "A100",
                       nullptr, i));
  }
  ASSERT_TRUE(store_->Upsert(*FindModel("gpu"), many));
  QuerySpec spec;
  spec.rows = 0;
  spec.stats = {"power_watts"};
  auto r = store_->Query(*FindModel("gpu"), spec, Scope::All());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->found, 3000);
  EXPECT_DOUBLE_EQ(*r->stats["power_watts"].sum, 2999.0 * 3000 / 2);
  EXPECT_DOUBLE_EQ(*r->stats["power_watts"].max, 2999);
  EXPECT_EQ(r->stats["power_watts"].count, 3000);
}

TEST_P(StoreTest, SelectAnyOfFindsEveryListedRowInChunks) {
  std::vector<Record> many;
  for (int i = 0; i < 700; ++i) {
    many.push_back(Gpu("moc", "c1", "n" + std::to_string(i / 8), fmt::format("GPU-{:04}", i),
                       i % 2 ? "A100" : "H100", nullptr, i));
  }
  ASSERT_TRUE(store_->Upsert(*FindModel("gpu"), many));
  // Lengths below, at and above one chunk (kMaxAnyOfValues), some values absent.
  for (size_t n :
       {size_t{0}, size_t{1}, size_t{3}, kMaxAnyOfValues, kMaxAnyOfValues + 1, size_t{600}}) {
    std::vector<Value> uuids;
    std::set<std::string> expected;
    for (size_t i = 0; i < n; ++i) {
      int g = static_cast<int>((i * 7) % 800);  // 700..799 do not exist
      uuids.emplace_back(fmt::format("GPU-{:04}", g));
      if (g < 700 && g % 2 == 1) expected.insert(many[g].Key());
    }
    QuerySpec spec;
    spec.rows = 1000;
    spec.filters = {Filter::Eq("model_name", std::string("A100"))};
    std::vector<Record> rows;
    auto st = store_->Transaction([&](Store::Writer& w) -> Status {
      auto r = w.SelectAnyOf(*FindModel("gpu"), spec, "uuid", uuids);
      if (!r) return Fail(r.error());
      rows = std::move(*r);
      return Ok();
    });
    ASSERT_TRUE(st) << st.error().ToString();
    std::set<std::string> got;
    for (const auto& r : rows) got.insert(r.Key());
    EXPECT_EQ(got, expected) << n << " values";
    EXPECT_EQ(rows.size(), expected.size()) << n << " values: a row came twice";
  }
  auto bad = store_->Transaction([&](Store::Writer& w) -> Status {
    Value v[] = {std::string("x")};
    auto r = w.SelectAnyOf(*FindModel("gpu"), {}, "no_such_field", v);
    if (!r) return Fail(r.error());
    return Ok();
  });
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

TEST_P(StoreTest, FiltersSortsPagesAndFacets) {
  Fill();
  QuerySpec spec;
  spec.filters.push_back(Filter::Eq("hub", std::string("moc")));
  spec.sort = {{"power_watts", true}};
  spec.rows = 2;
  spec.start = 1;
  spec.facets = {"model_name", "project"};
  auto r = store_->Query(*FindModel("gpu"), spec, Scope::All());
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->found, 4);
  ASSERT_EQ(r->rows.size(), 2u);
  EXPECT_EQ(r->rows[0].GetString("uuid"), "GPU-c");
  EXPECT_EQ(r->rows[1].GetString("uuid"), "GPU-b");
  ASSERT_EQ(r->facets["model_name"].size(), 2u);
  EXPECT_EQ(r->facets["model_name"][0].count, 2);
  EXPECT_EQ(r->facets["project"][0].value, "proj-a");
  EXPECT_EQ(r->facets["project"][0].count, 2);

  QuerySpec range;
  Filter f;
  f.field = "power_watts";
  f.kind = Filter::Kind::kRange;
  f.lower = 150.0;
  f.upper = 400.0;
  f.upper_inclusive = false;
  range.filters.push_back(f);
  auto rr = store_->Query(*FindModel("gpu"), range, Scope::All());
  ASSERT_TRUE(rr);
  EXPECT_EQ(rr->found, 2);

  QuerySpec neg;
  Filter n = Filter::Eq("project", std::string("proj-a"));
  n.negate = true;
  neg.filters.push_back(n);
  auto nr = store_->Query(*FindModel("gpu"), neg, Scope::All());
  ASSERT_TRUE(nr);
  EXPECT_EQ(nr->found, 3);  // proj-b, proj-z and the free GPU (null project)
}

TEST_P(StoreTest, FullTextIsCaseInsensitiveAndTreatsMetaCharactersLiterally) {
  Fill();
  for (auto [text, want] : std::vector<std::pair<std::string, int>>{{"gpu-A", 1},
                                                                    {"h100", 2},
                                                                    {"%", 0},
                                                                    {"_", 0},
                                                                    {"'; DROP TABLE gpu; --", 0},
                                                                    {"\\", 0}}) {
    QuerySpec q;
    q.text = text;
    auto r = store_->Query(*FindModel("gpu"), q, Scope::All());
    ASSERT_TRUE(r) << text;
    EXPECT_EQ(r->found, want) << text;
  }
  auto all = store_->Query(*FindModel("gpu"), {}, Scope::All());
  EXPECT_EQ(all->found, 5);
}

TEST_P(StoreTest, ScopeIsAppliedToRowsCountsFacetsStatsAndGets) {
  Fill();
  Scope a{false, {{"moc", "c1", "proj-a"}}};
  QuerySpec spec;
  spec.facets = {"model_name", "node"};
  spec.stats = {"power_watts"};
  auto r = store_->Query(*FindModel("gpu"), spec, a);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->found, 1);
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(r->rows[0].GetString("uuid"), "GPU-a");
  EXPECT_EQ(r->facets["model_name"].size(), 1u);
  EXPECT_EQ(r->facets["node"].size(), 1u);
  EXPECT_DOUBLE_EQ(*r->stats["power_watts"].sum, 100);

  Scope cluster{false, {{"moc", "c1", ""}}};
  EXPECT_EQ(store_->Query(*FindModel("gpu"), {}, cluster)->found, 3);
  Scope hub{false, {{"other", "", ""}}};
  EXPECT_EQ(store_->Query(*FindModel("gpu"), {}, hub)->found, 1);
  EXPECT_EQ(store_->Query(*FindModel("gpu"), {}, Scope::None())->found, 0);

  auto hidden = store_->Get(*FindModel("gpu"), model::GpuKey("moc", "c1", "n1", "GPU-b"), a);
  ASSERT_FALSE(hidden);
  EXPECT_EQ(hidden.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(store_->Get(*FindModel("gpu"), model::GpuKey("moc", "c1", "n1", "GPU-a"), a));
}

TEST_P(StoreTest, ProjectGrantRevealsNodesThroughItsGpusAndAncestors) {
  Fill();
  std::vector<Record> nodes, clusters;
  for (auto [c, n] :
       std::vector<std::pair<std::string, std::string>>{{"c1", "n1"}, {"c1", "n2"}, {"c2", "n3"}}) {
    Record r(*FindModel("node"));
    r.Set("key", model::NodeKey("moc", c, n));
    r.Set("hub", std::string("moc"));
    r.Set("cluster", c);
    r.Set("name", n);
    nodes.push_back(r);
  }
  for (std::string c : {"c1", "c2"}) {
    Record r(*FindModel("cluster"));
    r.Set("key", model::ClusterKey("moc", c));
    r.Set("hub", std::string("moc"));
    r.Set("name", c);
    clusters.push_back(r);
  }
  ASSERT_TRUE(store_->Upsert(*FindModel("node"), nodes));
  ASSERT_TRUE(store_->Upsert(*FindModel("cluster"), clusters));
  Scope b{false, {{"moc", "c1", "proj-b"}}};
  auto n = store_->Query(*FindModel("node"), {}, b);
  ASSERT_TRUE(n) << n.error().ToString();
  ASSERT_EQ(n->found, 1);
  EXPECT_EQ(n->rows[0].GetString("name"), "n1");
  auto c = store_->Query(*FindModel("cluster"), {}, b);
  ASSERT_TRUE(c);
  ASSERT_EQ(c->found, 1);
  EXPECT_EQ(c->rows[0].GetString("name"), "c1");
}

TEST_P(StoreTest, KeysetCursorVisitsEveryRowOnce) {
  std::vector<Record> many;
  for (int i = 0; i < 257; ++i) {
    many.push_back(
        Gpu("moc", "c1", "n", "GPU-" + std::to_string(i), i % 3 ? "A100" : "H100", nullptr, i % 7));
  }
  ASSERT_TRUE(store_->Upsert(*FindModel("gpu"), many));
  QuerySpec spec;
  spec.sort = {{"model_name", false}, {"power_watts", true}};
  spec.rows = 50;
  spec.count = false;
  std::set<std::string> seen;
  for (int page = 0; page < 20; ++page) {
    auto r = store_->Query(*FindModel("gpu"), spec, Scope::All());
    ASSERT_TRUE(r) << r.error().ToString();
    if (r->rows.empty()) break;
    for (const auto& row : r->rows) EXPECT_TRUE(seen.insert(row.Key()).second) << row.Key();
    const auto& last = r->rows.back();
    spec.after =
        std::vector<model::Value>{last.Get("model_name"), last.Get("power_watts"), last.Get("key")};
  }
  EXPECT_EQ(seen.size(), 257u);
}

TEST_P(StoreTest, UpdateMarksGoneAndPatchWritesOnlyEditableFields) {
  Fill();
  const auto& gpu = *FindModel("gpu");
  Record fresh = Gpu("moc", "c1", "n1", "GPU-a", "A100", "proj-a", 100);
  fresh.Set("last_seen_at", int64_t{2000});
  ASSERT_TRUE(store_->Upsert(gpu, std::span<const Record>(&fresh, 1)));
  auto n = store_->Update(gpu,
                          {Filter::Eq("hub", std::string("moc")),
                           Filter::Less("last_seen_at", int64_t{2000}), Filter::Null("gone_at")},
                          {{"gone_at", int64_t{2000}}, {"state", std::string("gone")}});
  ASSERT_TRUE(n) << n.error().ToString();
  EXPECT_EQ(*n, 3);
  QuerySpec gone;
  gone.filters.push_back(Filter::Eq("state", std::string("gone")));
  EXPECT_EQ(store_->Query(gpu, gone, Scope::All())->found, 3);

  const auto& project = *FindModel("project");
  Record p(project);
  p.Set("key", model::ProjectKey("moc", "c1", "proj-a"));
  p.Set("hub", std::string("moc"));
  p.Set("cluster", std::string("c1"));
  p.Set("namespace", std::string("proj-a"));
  ASSERT_TRUE(store_->Upsert(project, std::span<const Record>(&p, 1)));
  auto patched = store_->Patch(project, p.Key(), {{"owner", std::string("Dr. A")}}, Scope::All());
  ASSERT_TRUE(patched) << patched.error().ToString();
  EXPECT_EQ(patched->GetString("owner"), "Dr. A");
  // A later collector upsert does not erase what the admin wrote.
  ASSERT_TRUE(store_->Upsert(project, std::span<const Record>(&p, 1)));
  EXPECT_EQ(store_->Get(project, p.Key(), Scope::All())->GetString("owner"), "Dr. A");
  auto bad = store_->Patch(project, p.Key(), {{"namespace", std::string("x")}}, Scope::All());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  auto invisible = store_->Patch(project, p.Key(), {{"owner", std::string("x")}}, Scope::None());
  ASSERT_FALSE(invisible);
  EXPECT_EQ(invisible.error().code, ErrorCode::kNotFound);
}

TEST_P(StoreTest, TransactionRollsBackOnError) {
  const auto& gpu = *FindModel("gpu");
  auto st = store_->Transaction([&](Store::Writer& w) -> Status {
    Record r = Gpu("moc", "c1", "n1", "GPU-x", "A100", nullptr, 1);
    if (auto s = w.Upsert(gpu, std::span<const Record>(&r, 1)); !s) return s;
    return Fail(ErrorCode::kInternal, "boom");
  });
  EXPECT_FALSE(st);
  EXPECT_EQ(store_->Query(gpu, {}, Scope::All())->found, 0);
}

// The generation a response cache keys on changes with every commit: through the store, through
// another connection, and (SQLite) from another process; a rolled-back write may change it too,
// but a read never does (checked on SQLite only: on PostgreSQL the token is cluster-wide and
// other tests' databases share the server).
TEST_P(StoreTest, GenerationChangesWithEveryCommitFromAnyConnectionOrProcess) {
  const auto& gpu = *FindModel("gpu");
  const bool sqlite = GetParam() == "sqlite";
  auto g0 = store_->Generation(true);
  ASSERT_TRUE(g0) << g0.error().ToString();
  Fill();
  auto g1 = store_->Generation(true);
  ASSERT_TRUE(g1);
  EXPECT_NE(*g1, *g0) << "an upsert through the store";
  ASSERT_TRUE(store_->Query(gpu, {}, Scope::All()));
  if (sqlite) {
    EXPECT_EQ(*store_->Generation(true), *g1) << "a read is not a write";
    auto fast = store_->Generation(false);
    ASSERT_TRUE(fast) << fast.error().ToString();
    EXPECT_EQ(*fast, *g1);
  } else {
    EXPECT_FALSE(store_->Generation(false)) << "PostgreSQL needs a round trip";
  }

  // A second connection of this process, as another replica would be.
  auto other = Connect(url_);
  ASSERT_TRUE(other);
  ASSERT_TRUE((*other)->Exec("UPDATE gpu SET power_watts = 1 WHERE uuid = 'GPU-a'"));
  auto g2 = store_->Generation(true);
  ASSERT_TRUE(g2);
  EXPECT_NE(*g2, *g1) << "a commit by another connection";

  // An update inside the store's own transaction.
  ASSERT_TRUE(
      store_->Update(gpu, {Filter::Eq("uuid", std::string("GPU-c"))}, {{"power_watts", 5.0}}));
  auto g3 = store_->Generation(true);
  ASSERT_TRUE(g3);
  EXPECT_NE(*g3, *g2) << "an update";

  if (sqlite) {
    // Another process writing to the same file.
    ASSERT_TRUE(test_support::ExecInAnotherProcess(
        url_, "UPDATE gpu SET power_watts = 2 WHERE uuid = 'GPU-b'"));
    auto g4 = store_->Generation(false);
    ASSERT_TRUE(g4);
    EXPECT_NE(*g4, *g3) << "a commit by another process";
  }
}

TEST(StoreGeneration, AnInMemoryDatabaseHasNone) {
  auto s = Store::Open({"sqlite::memory:", 1, true});
  ASSERT_TRUE(s) << s.error().ToString();
  auto g = (*s)->Generation(true);
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, ErrorCode::kFailedPrecondition);
}

TEST_P(StoreTest, RejectsUnknownAndUnflaggedFields) {
  const auto& gpu = *FindModel("gpu");
  struct Case {
    QuerySpec spec;
    const char* needle;
  };
  std::vector<Case> cases(6);
  cases[0].spec.sort = {{"nope", false}};
  cases[0].needle = "unknown field \"nope\"";
  cases[1].spec.facets = {"power_watts"};
  cases[1].needle = "not facetable";
  cases[2].spec.stats = {"uuid"};
  cases[2].needle = "not numeric";
  cases[3].spec.filters = {Filter::Eq("key; DROP TABLE gpu", std::string("x"))};
  cases[3].needle = "unknown field";
  cases[4].spec.start = -1;
  cases[4].needle = "start";
  cases[5].spec.fields = {"*"};
  cases[5].needle = "unknown field";
  for (const auto& c : cases) {
    auto r = store_->Query(gpu, c.spec, Scope::All());
    ASSERT_FALSE(r) << c.needle;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message.find(c.needle), std::string::npos) << r.error().message;
  }
}

TEST_P(StoreTest, OneLeaderAtATimeAndTakeoverWhenItGoes) {
  auto a = LeaderElection::Create(url_, "worker");
  auto b = LeaderElection::Create(url_, "worker");
  ASSERT_TRUE(a && b);
  auto got_a = (*a)->Acquire();
  ASSERT_TRUE(got_a);
  EXPECT_TRUE(*got_a);
  EXPECT_TRUE(*(*a)->Acquire());  // still held, not stacked
  auto got_b = (*b)->Acquire();
  ASSERT_TRUE(got_b);
  if (GetParam() == "postgres") {
    EXPECT_FALSE(*got_b);
    a->reset();  // the holder dies: its connection closes and the lock goes with it
    EXPECT_TRUE(*(*b)->Acquire());
    auto other = LeaderElection::Create(url_, "another-job");
    EXPECT_TRUE(*(*other)->Acquire());  // different jobs do not exclude each other
  } else {
    EXPECT_TRUE(*got_b);  // SQLite: one process by design, always leads
  }
}

TEST_P(StoreTest, UsageIsPartitionedByMonthAndRetentionRemovesOldRows) {
  const auto& usage = *FindModel("usage");
  std::vector<Record> rows;
  // Hours spread over three months: 2026-09-30T23:00, 2026-10-15T00:00, 2026-11-01T00:00.
  for (const char* hour :
       {"2026-09-30T23:00:00Z", "2026-10-15T00:00:00Z", "2026-11-01T00:00:00Z"}) {
    Record r(usage);
    auto t = ParseRfc3339(hour);
    r.Set("key", std::string("dev|proj|") + hour);
    r.Set("hub", std::string("moc"));
    r.Set("cluster", std::string("c1"));
    r.Set("project", std::string("proj"));
    r.Set("device_key", std::string("dev"));
    r.Set("hour", ToUnixNanos(*t));
    r.Set("allocated_seconds", 3600.0);
    rows.push_back(r);
  }
  ASSERT_TRUE(store_->Upsert(usage, rows));
  ASSERT_TRUE(store_->Upsert(usage, rows));  // idempotent: the same hours replace themselves
  EXPECT_EQ(store_->Query(usage, {}, Scope::All())->found, 3);
  auto removed = store_->ApplyRetention(usage, *ParseRfc3339("2026-10-20T00:00:00Z"));
  ASSERT_TRUE(removed) << removed.error().ToString();
  EXPECT_EQ(*removed, 2);
  auto left = store_->Query(usage, {}, Scope::All());
  ASSERT_EQ(left->found, 1);
  EXPECT_EQ(left->rows[0].Key(), "dev|proj|2026-11-01T00:00:00Z");
  EXPECT_FALSE(store_->ApplyRetention(*FindModel("gpu"), Now()));
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

TEST(StoreOpen, ClearErrorsForBadUrlsAndFiles) {
  auto bad = Store::Open({"mysql://x", 1, true});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);

  auto path = std::filesystem::temp_directory_path() / "aitelemetry-not-a-db.db";
  {
    std::ofstream out(path);
    out << "this is not a database, just text long enough to fill a header page.........";
  }
  auto corrupt = Store::Open({"sqlite:" + path.string(), 1, true});
  ASSERT_FALSE(corrupt);
  EXPECT_EQ(corrupt.error().code, ErrorCode::kDataLoss);
  std::filesystem::remove(path);

  auto unreachable =
      Store::Open({"postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", 1, true});
  ASSERT_FALSE(unreachable);
  EXPECT_EQ(unreachable.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(RedactUrl("postgresql://u:secret@h/db"), "postgresql://u:***@h/db");
}

}  // namespace
}  // namespace aitelemetry::store
