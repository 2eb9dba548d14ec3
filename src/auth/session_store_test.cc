#include "auth/session_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "auth/oidc_client.h"

namespace aitelemetry::auth {
namespace {

namespace fs = std::filesystem;

class SessionStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("aitel-sessions-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    store_ = store::Store::Open({"sqlite:" + (dir_ / "s.db").string(), 2, true}).value();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  Timestamp now_ = FromUnixSeconds(1790000000);
  Clock clock_ = [this] { return now_; };
};

TEST_F(SessionStoreTest, CreateFindExpireDelete) {
  SessionStore sessions(store_.get(), clock_);
  WebSession s;
  s.subject = "sub-a";
  s.name = "researcher-a";
  s.access_token = "at";
  s.id_token = "it";
  s.grants.manager = true;
  s.grants.resources = {"HUB-moc-CLUSTER-c1-PROJECT-proj-a"};
  s.grants.patch_resources = {"HUB-moc-CLUSTER-c1-PROJECT-proj-a"};
  s.expires_at = now_ + std::chrono::hours(1);
  auto id = sessions.Create(s);
  ASSERT_TRUE(id.has_value()) << id.error().ToString();
  EXPECT_EQ(id->size(), 43u);

  auto found = sessions.Find(*id);
  ASSERT_TRUE(found.has_value()) << found.error().ToString();
  EXPECT_EQ(found->subject, "sub-a");
  EXPECT_EQ(found->name, "researcher-a");
  EXPECT_EQ(found->access_token, "at");
  EXPECT_EQ(found->id_token, "it");
  EXPECT_EQ(found->grants.resources, s.grants.resources);
  EXPECT_EQ(found->grants.patch_resources, s.grants.patch_resources);
  EXPECT_TRUE(found->grants.manager);
  EXPECT_FALSE(found->grants.admin);
  EXPECT_EQ(found->csrf_token.size(), 43u);
  EXPECT_EQ(found->created_at, now_);

  // The row is keyed by the hash: the id itself is nowhere in the table.
  auto row = store_->Get(*model::FindModel("web-session"), Sha256Hex(*id), store::Scope::All());
  ASSERT_TRUE(row.has_value());
  for (const auto& v : row->values) {
    if (const auto* text = std::get_if<std::string>(&v)) {
      EXPECT_EQ(text->find(*id), std::string::npos);
    }
  }
  // No grant reveals a session.
  store::Scope everything_in_a_hub{false, {{"moc", "", ""}}};
  EXPECT_FALSE(store_->Get(*model::FindModel("web-session"), Sha256Hex(*id), everything_in_a_hub)
                   .has_value());

  EXPECT_FALSE(sessions.Find("not-a-session").has_value());
  EXPECT_FALSE(sessions.Find("").has_value());

  now_ += std::chrono::hours(1);
  auto expired = sessions.Find(*id);
  ASSERT_FALSE(expired.has_value());
  EXPECT_EQ(expired.error().code, ErrorCode::kNotFound);

  now_ -= std::chrono::hours(1);
  EXPECT_FALSE(sessions.Find(*id).has_value()) << "an expired session is deleted when seen";

  auto other = sessions.Create(s);
  ASSERT_TRUE(other.has_value());
  ASSERT_TRUE(sessions.Delete(*other).has_value());
  EXPECT_FALSE(sessions.Find(*other).has_value());
  EXPECT_TRUE(sessions.Delete(*other).has_value());
}

// A refresh rewrites tokens and grants and when they were computed; the rest of the session stays.
TEST_F(SessionStoreTest, UpdateGrantsKeepsTheSessionAndStampsTheGrants) {
  SessionStore sessions(store_.get(), clock_);
  WebSession s;
  s.subject = "sub-a";
  s.refresh_token = "rt-1";
  s.grants.admin = true;
  s.expires_at = now_ + std::chrono::hours(8);
  auto id = sessions.Create(s).value();
  auto found = sessions.Find(id).value();
  EXPECT_EQ(found.refresh_token, "rt-1");
  EXPECT_EQ(found.grants_at, now_);  // Create stamps now when unset

  now_ += std::chrono::minutes(5);
  WebSession next = found;
  next.access_token = "at-2";
  next.refresh_token = "rt-2";
  next.grants = GrantSet{};
  next.grants.resources = {"HUB-moc"};
  next.grants_at = now_;
  ASSERT_TRUE(sessions.UpdateGrants(id, next).has_value());
  auto after = sessions.Find(id).value();
  EXPECT_EQ(after.access_token, "at-2");
  EXPECT_EQ(after.refresh_token, "rt-2");
  EXPECT_FALSE(after.grants.admin);
  EXPECT_EQ(after.grants.resources, next.grants.resources);
  EXPECT_EQ(after.grants_at, now_);
  EXPECT_EQ(after.csrf_token, found.csrf_token);
  EXPECT_EQ(after.created_at, found.created_at);
  EXPECT_EQ(after.expires_at, found.expires_at);
  EXPECT_EQ(sessions.UpdateGrants("no-such-session", next).error().code, ErrorCode::kNotFound);
}

TEST_F(SessionStoreTest, LoginsAreSingleUseAndExpire) {
  SessionStore sessions(store_.get(), clock_);
  PendingLogin login{"nonce-1", "verifier-1", "/gpus?q=a100", now_ + std::chrono::minutes(10)};
  ASSERT_TRUE(sessions.SaveLogin("state-1", login).has_value());
  // A login row is not a session.
  EXPECT_FALSE(sessions.Find("state-1").has_value());
  auto taken = sessions.TakeLogin("state-1");
  ASSERT_TRUE(taken.has_value()) << taken.error().ToString();
  EXPECT_EQ(taken->nonce, "nonce-1");
  EXPECT_EQ(taken->code_verifier, "verifier-1");
  EXPECT_EQ(taken->return_to, "/gpus?q=a100");
  EXPECT_FALSE(sessions.TakeLogin("state-1").has_value());

  ASSERT_TRUE(sessions.SaveLogin("state-2", login).has_value());
  now_ += std::chrono::minutes(11);
  EXPECT_FALSE(sessions.TakeLogin("state-2").has_value());

  ASSERT_TRUE(
      sessions.SaveLogin("state-3", {"n", "v", "/", now_ + std::chrono::minutes(1)}).has_value());
  now_ += std::chrono::minutes(2);
  auto removed = sessions.DeleteExpired();
  ASSERT_TRUE(removed.has_value());
  EXPECT_EQ(*removed, 1);
}

TEST(GrantsJson, RoundTripsAndRefusesJunk) {
  GrantSet g;
  g.admin = true;
  g.resources = {"HUB-moc"};
  g.patch_resources = {"HUB-moc"};
  auto back = ParseGrantsJson(GrantsToJson(g));
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(back->admin);
  EXPECT_EQ(back->resources, g.resources);
  for (const char* junk : {"", "[]", R"({"admin":1,"manager":false,"get":[],"patch":[]})",
                           R"({"admin":false,"manager":false,"get":[1],"patch":[]})"}) {
    auto r = ParseGrantsJson(junk);
    ASSERT_FALSE(r.has_value()) << junk;
    EXPECT_EQ(r.error().code, ErrorCode::kDataLoss);
  }
}

}  // namespace
}  // namespace aitelemetry::auth
