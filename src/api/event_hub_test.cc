// The live change fan-out without a server: grants and models filter every stream, limits,
// credential expiry, slow readers, and replay without gaps or repeats, on SQLite and PostgreSQL.
#include "api/event_hub.h"

#include <future>
#include <set>

#include "api/rest_test_util.h"

namespace aitelemetry::api {
namespace {

using namespace std::chrono_literals;

store::Change ChangeAt(const std::string& key, const std::string& hub, const std::string& cluster,
                       const std::string& project, const std::string& model = "gpu") {
  store::Change c;
  c.model = model;
  c.key = key;
  c.op = "state";
  c.hub = hub;
  c.cluster = cluster;
  c.project = project;
  c.at = *ParseRfc3339("2026-01-01T00:00:00Z");
  return c;
}

store::Scope Grants(std::vector<store::Grant> grants) {
  store::Scope s;
  s.grants = std::move(grants);
  return s;
}

// One chunk from `source`, waiting up to `timeout` for it; nothing when none came.
struct Chunk {
  std::string text;
  bool more = false;
};
std::optional<Chunk> NextChunk(http::StreamSource& source,
                               std::chrono::milliseconds timeout = 10s) {
  auto promise = std::make_shared<std::promise<Chunk>>();
  auto future = promise->get_future();
  source.Next([promise](std::string text, bool more) {
    promise->set_value(Chunk{std::move(text), more});
  });
  if (future.wait_for(timeout) != std::future_status::ready) return std::nullopt;
  return future.get();
}

// Reads chunks until `until` appears in what `source` sent or the stream ends; returns all text.
std::string ReadUntil(http::StreamSource& source, std::string_view until) {
  std::string all;
  while (all.find(until) == std::string::npos) {
    auto chunk = NextChunk(source);
    if (!chunk) break;
    all += chunk->text;
    if (!chunk->more) break;
  }
  return all;
}

class EventHubTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    testing::OpenFreshStore(GetParam(), &url_, &store_);
    options_.poll = 20ms;
    options_.heartbeat = 200ms;
    options_.clock = [this] { return now_.load(); };
  }
  std::unique_ptr<EventHub> Hub() { return std::make_unique<EventHub>(*store_, options_); }
  std::shared_ptr<http::StreamSource> Open(EventHub& hub, StreamSpec spec) {
    // The reader may still be starting: Open answers kUnavailable until it has its position.
    for (int i = 0; i < 500; ++i) {
      auto s = hub.Open(spec);
      if (s) return *s;
      if (s.error().message.find("yet") == std::string::npos) {
        ADD_FAILURE() << s.error().ToString();
        return nullptr;
      }
      std::this_thread::sleep_for(10ms);
    }
    ADD_FAILURE() << "the hub never started";
    return nullptr;
  }

  std::string url_;
  std::unique_ptr<store::Store> store_;
  EventHubOptions options_;
  std::atomic<Timestamp> now_{*ParseRfc3339("2026-01-01T00:00:00Z")};
};

TEST_P(EventHubTest, EachStreamCarriesOnlyWhatItsGrantsAndModelsCover) {
  auto hub = Hub();
  struct Reader {
    std::string name;
    StreamSpec spec;
    std::set<std::string> want;  // keys it must get; every other key must stay out
    std::string last;            // the last of them to arrive
  };
  std::vector<Reader> readers = {
      {"researcher-a",
       {{}, Grants({{"moc", "c1", "proj-a"}}), {}, "a", {}},
       {"a-gpu", "a-proj", "end-gpu"},
       "end-gpu"},
      {"researcher-b",
       {{}, Grants({{"moc", "c1", "proj-b"}}), {}, "b", {}},
       {"b-gpu", "end-b"},
       "end-b"},
      {"cluster-c1",
       {{}, Grants({{"moc", "c1", ""}}), {}, "c", {}},
       {"a-gpu", "a-proj", "b-gpu", "c1-node", "end-gpu", "end-b"},
       "end-b"},
      {"gpu-only-admin",
       {{"gpu"}, store::Scope::All(), {}, "d", {}},
       {"a-gpu", "b-gpu", "other-gpu", "end-gpu"},
       "end-gpu"},
      {"other-hub",
       {{}, Grants({{"other", "", ""}}), {}, "e", {}},
       {"other-gpu", "end-e"},
       "end-e"},
  };
  std::vector<std::shared_ptr<http::StreamSource>> streams;
  for (auto& r : readers) {
    streams.push_back(Open(*hub, r.spec));
    ASSERT_TRUE(streams.back());
    auto first = NextChunk(*streams.back());
    ASSERT_TRUE(first);
    EXPECT_NE(first->text.find("retry: 2000"), std::string::npos);
  }
  ASSERT_TRUE(store_->AppendChanges({
      ChangeAt("a-gpu", "moc", "c1", "proj-a"),
      ChangeAt("a-proj", "moc", "c1", "proj-a", "project"),
      ChangeAt("b-gpu", "moc", "c1", "proj-b"),
      ChangeAt("c1-node", "moc", "c1", "", "node"),
      ChangeAt("c2-gpu", "moc", "c2", "proj-a", "node"),
      ChangeAt("other-gpu", "other", "c9", "proj-z"),
  }));
  // A last change everyone may see marks the end of the batch for each stream.
  ASSERT_TRUE(store_->AppendChanges({ChangeAt("end-gpu", "moc", "c1", "proj-a")}));
  ASSERT_TRUE(store_->AppendChanges({ChangeAt("end-b", "moc", "c1", "proj-b", "node")}));
  ASSERT_TRUE(store_->AppendChanges({ChangeAt("end-e", "other", "c9", "", "node")}));
  const std::vector<std::string> every = {"a-gpu",     "a-proj",  "b-gpu", "c1-node", "c2-gpu",
                                          "other-gpu", "end-gpu", "end-b", "end-e"};
  for (size_t i = 0; i < readers.size(); ++i) {
    std::string got = ReadUntil(*streams[i], "\"key\":\"" + readers[i].last + "\"");
    for (const auto& key : every) {
      bool present = got.find("\"key\":\"" + key + "\"") != std::string::npos;
      EXPECT_EQ(present, readers[i].want.count(key) > 0) << readers[i].name << " / " << key << "\n"
                                                         << got;
    }
  }
}

// The fan-out's in-memory filter and the store's SQL agree on every grant shape.
TEST_P(EventHubTest, TheFanOutFilterAgreesWithTheStoreQuery) {
  std::vector<store::Change> changes;
  const char* hubs[] = {"moc", "other"};
  const char* clusters[] = {"c1", "c2"};
  const char* projects[] = {"proj-a", "proj-b", ""};
  for (auto* h : hubs)
    for (auto* c : clusters)
      for (auto* p : projects)
        changes.push_back(ChangeAt(fmt::format("{}/{}/{}", h, c, p), h, c, p));
  ASSERT_TRUE(store_->AppendChanges(changes));
  std::vector<store::Scope> scopes = {
      store::Scope::All(),
      store::Scope::None(),
      Grants({{"moc", "", ""}}),
      Grants({{"moc", "c1", ""}}),
      Grants({{"moc", "c1", "proj-a"}}),
      Grants({{"moc", "c1", "proj-a"}, {"other", "c2", ""}}),
      Grants({{"moc", "c2", "proj-b"}, {"nowhere", "", ""}}),
      Grants({{"other", "c1", "proj-c"}}),
  };
  for (size_t i = 0; i < scopes.size(); ++i) {
    auto sql = store_->ChangesSince(0, {}, scopes[i], 1000);
    ASSERT_TRUE(sql) << sql.error().ToString();
    std::set<std::string> from_sql, from_memory;
    for (const auto& c : *sql) from_sql.insert(c.key);
    for (const auto& c : changes) {
      if (scopes[i].Covers(c.hub, c.cluster, c.project)) from_memory.insert(c.key);
    }
    EXPECT_EQ(from_sql, from_memory) << "scope " << i;
  }
}

TEST_P(EventHubTest, LimitsPerCallerAndInAll) {
  options_.max_streams_per_caller = 2;
  options_.max_streams = 3;
  auto hub = Hub();
  auto a1 = Open(*hub, {{}, store::Scope::All(), {}, "alice", {}});
  auto a2 = Open(*hub, {{}, store::Scope::All(), {}, "alice", {}});
  ASSERT_TRUE(a1 && a2);
  auto a3 = hub->Open({{}, store::Scope::All(), {}, "alice", {}});
  ASSERT_FALSE(a3);
  EXPECT_EQ(a3.error().code, ErrorCode::kResourceExhausted);
  EXPECT_EQ(http::StatusFor(a3.error().code), 429);
  auto b1 = Open(*hub, {{}, store::Scope::All(), {}, "bob", {}});
  ASSERT_TRUE(b1);
  auto b2 = hub->Open({{}, store::Scope::All(), {}, "bob", {}});
  ASSERT_FALSE(b2);
  EXPECT_EQ(b2.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(hub->open_streams(), 3);
  a1->Close();
  EXPECT_EQ(hub->open_streams(), 2);
  auto a4 = hub->Open({{}, store::Scope::All(), {}, "alice", {}});
  EXPECT_TRUE(a4);
  // A stream dropped without Close (the server never streamed it) frees its place too.
  b1.reset();
  EXPECT_EQ(hub->open_streams(), 2);
}

TEST_P(EventHubTest, AStreamEndsWhenItsCredentialsExpire) {
  auto hub = Hub();
  auto s = Open(*hub, {{}, store::Scope::All(), {}, "alice", now_.load() + 1h});
  ASSERT_TRUE(s);
  ASSERT_TRUE(NextChunk(*s));  // retry:
  auto pending = std::async(std::launch::async, [&] { return ReadUntil(*s, "expired"); });
  EXPECT_EQ(pending.wait_for(300ms), std::future_status::timeout) << "ended before expiry";
  now_ = now_.load() + 2h;
  ASSERT_EQ(pending.wait_for(10s), std::future_status::ready);
  EXPECT_NE(pending.get().find("event: expired"), std::string::npos);
  EXPECT_EQ(hub->open_streams(), 0);
  auto after = NextChunk(*s);
  ASSERT_TRUE(after);
  EXPECT_FALSE(after->more);
}

TEST_P(EventHubTest, QuietStreamsGetHeartbeats) {
  auto hub = Hub();
  auto s = Open(*hub, {{}, store::Scope::All(), {}, "alice", {}});
  ASSERT_TRUE(s);
  std::string got = ReadUntil(*s, ": heartbeat");
  EXPECT_NE(got.find(": heartbeat"), std::string::npos) << got;
}

// A reader that does not keep up is ended with a final event instead of holding memory, and
// resuming from the last event it got loses nothing.
TEST_P(EventHubTest, ASlowReaderIsEndedAndResumesWithoutLoss) {
  options_.max_buffer_bytes = 2000;
  auto hub = Hub();
  auto s = Open(*hub, {{}, store::Scope::All(), {}, "slow", {}});
  ASSERT_TRUE(s);
  ASSERT_TRUE(NextChunk(*s));  // retry:
  std::vector<store::Change> batch;
  for (int i = 0; i < 40; ++i)
    batch.push_back(ChangeAt(fmt::format("k{:02}", i), "moc", "c1", "p"));
  ASSERT_TRUE(store_->AppendChanges(batch));
  // The stream asks for nothing until the reader has queued the whole batch for it.
  for (int i = 0; i < 2000 && hub->position() < 40; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(hub->position(), 40);
  auto chunk = NextChunk(*s);
  ASSERT_TRUE(chunk);
  EXPECT_FALSE(chunk->more);
  std::string got = chunk->text;
  EXPECT_NE(got.find("event: overflow"), std::string::npos) << got;
  EXPECT_EQ(hub->open_streams(), 0);
  // Resume after the last id received: every change arrives once, in order.
  int64_t last_id = 0;
  for (size_t at = got.find("id: "); at != std::string::npos; at = got.find("id: ", at + 1)) {
    last_id = std::stoll(got.substr(at + 4));
  }
  auto resumed = Open(*hub, {{}, store::Scope::All(), last_id, "slow", {}});
  ASSERT_TRUE(resumed);
  std::string rest = ReadUntil(*resumed, "\"key\":\"k39\"");
  std::string all = got + rest;
  for (int i = 0; i < 40; ++i) {
    std::string key = fmt::format("\"key\":\"k{:02}\"", i);
    auto first = all.find(key);
    ASSERT_NE(first, std::string::npos) << key << "\n" << all;
    EXPECT_EQ(all.find(key, first + 1), std::string::npos) << "twice: " << key;
  }
}

// Replay from an old id delivers every visible change once, in order, while new ones arrive.
TEST_P(EventHubTest, ReplayHasNoGapsOrRepeatsWhileChangesArrive) {
  options_.batch = 100;
  auto hub = Hub();
  std::vector<store::Change> batch;
  for (int i = 0; i < 450; ++i) {
    batch.push_back(ChangeAt(fmt::format("old{:03}", i), "moc", "c1", i % 3 ? "proj-a" : "proj-b"));
  }
  ASSERT_TRUE(store_->AppendChanges(batch));
  auto s = Open(*hub, {{}, Grants({{"moc", "c1", "proj-a"}}), int64_t{0}, "r", {}});
  ASSERT_TRUE(s);
  std::thread writer([&] {
    for (int i = 0; i < 30; ++i) {
      EXPECT_TRUE(store_->AppendChanges(
          {ChangeAt(fmt::format("new{:03}", i), "moc", "c1", i % 3 ? "proj-a" : "proj-b")}));
    }
  });
  std::string got = ReadUntil(*s, "\"key\":\"new029\"");
  writer.join();
  int64_t prev = 0;
  int count = 0;
  for (size_t at = got.find("id: "); at != std::string::npos; at = got.find("id: ", at + 1)) {
    int64_t id = std::stoll(got.substr(at + 4));
    EXPECT_GT(id, prev) << "out of order or repeated";
    prev = id;
    ++count;
  }
  EXPECT_EQ(count, 300 + 20) << got.substr(0, 2000);
  EXPECT_EQ(got.find("proj-b"), std::string::npos);
}

TEST_P(EventHubTest, StoppingEndsEveryStream) {
  auto hub = Hub();
  auto s = Open(*hub, {{}, store::Scope::All(), {}, "alice", {}});
  ASSERT_TRUE(s);
  ASSERT_TRUE(NextChunk(*s));
  auto pending = std::async(std::launch::async, [&] { return NextChunk(*s); });
  EXPECT_EQ(pending.wait_for(100ms), std::future_status::timeout);
  hub->Stop();
  ASSERT_EQ(pending.wait_for(10s), std::future_status::ready);
  auto last = pending.get();
  ASSERT_TRUE(last);
  EXPECT_FALSE(last->more);
  EXPECT_FALSE(hub->Open({{}, store::Scope::All(), {}, "alice", {}}));
}

INSTANTIATE_TEST_SUITE_P(Backends, EventHubTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace aitelemetry::api
