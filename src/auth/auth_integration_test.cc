// Integration: the validator, key cache, grants and UMA client against the real test peers in
// tests/oidc (npm oidc-provider configured like Keycloak, the UMA stand-in, the attack-token mint).
// Needs node and the repo's npm packages (npm ci at the repo root).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/grants.h"
#include "auth/jwt.h"
#include "auth/test_util.h"
#include "auth/uma.h"
#include "http/client.h"
#include "oidc/node_peer.h"

namespace aitelemetry::auth {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

using aitelemetry::testing::NodePeer;

// Runs `command` and returns its exit status.
int RunCommand(const std::string& command) { return std::system(command.c_str()); }

class AuthIntegration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/aitel-auth-XXXXXX";
    dir_ = new std::string(mkdtemp(tmpl));
    provider_ = new NodePeer("provider.mjs", {"0"},
                             {{"OIDC_KEYS_FILE", *dir_ + "/keys.json"}, {"OIDC_REALM", "nerc"}});
    ASSERT_TRUE(provider_->ready().is_object())
        << "provider.mjs did not start: run npm ci at the repo root";
    issuer_ = new std::string(provider_->ready()["issuer"]);
    uma_ = new NodePeer("uma.mjs", {"--issuer", *issuer_}, {});
    ASSERT_TRUE(uma_->ready().is_object()) << "uma.mjs did not start";
  }
  static void TearDownTestSuite() {
    delete uma_;
    delete provider_;
    if (dir_ != nullptr) fs::remove_all(*dir_);
    delete dir_;
    delete issuer_;
  }

  // Returns a client-credentials access token of test user `name`.
  std::string TokenFor(const std::string& name) {
    http::ClientRequest request;
    request.method = "POST";
    request.url = *issuer_ + "/protocol/openid-connect/token";
    request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    request.body = "grant_type=client_credentials&client_id=" + http::UrlEncode(name) +
                   "&client_secret=" + http::UrlEncode(name + "-secret");
    auto response = client_.Send(request);
    EXPECT_TRUE(response.has_value());
    if (!response) return {};
    EXPECT_EQ(response->status, 200) << response->body;
    return Json::parse(response->body, nullptr, false).value("access_token", "");
  }

  KeyCacheOptions CacheOptions() {
    KeyCacheOptions options;
    options.issuer = *issuer_;
    options.min_refresh_interval = std::chrono::seconds(30);
    return options;
  }

  JwtValidator Validator() {
    JwtOptions options;
    options.issuer = *issuer_;
    options.audience = "ai-telemetry";
    return JwtValidator::Create(options).value();
  }

  static std::string* dir_;
  static std::string* issuer_;
  static NodePeer* provider_;
  static NodePeer* uma_;
  http::HttpClient client_;
  http::HttpClient cache_client_;
  Timestamp now_ = Now();
  Clock clock_ = [this] { return now_; };
};

std::string* AuthIntegration::dir_ = nullptr;
std::string* AuthIntegration::issuer_ = nullptr;
NodePeer* AuthIntegration::provider_ = nullptr;
NodePeer* AuthIntegration::uma_ = nullptr;

TEST_F(AuthIntegration, ProviderTokensValidateAndYieldGrants) {
  KeyCache cache(CacheOptions(), &cache_client_, clock_);
  JwtValidator validator = Validator();
  struct Case {
    std::string user;
    std::set<std::string> get;
    bool admin, manager;
  };
  const Case cases[] = {
      {"no-grants", {}, false, false},
      {"researcher-a", {"HUB-moc-CLUSTER-c1-PROJECT-proj-a"}, false, false},
      {"researcher-b", {"HUB-moc-CLUSTER-c1-PROJECT-proj-b"}, false, false},
      {"manager", {"HUB-moc-CLUSTER-c1"}, false, true},
      {"admin", {}, true, false},
  };
  for (const auto& c : cases) {
    std::string token = TokenFor(c.user);
    auto claims = ValidateBearer(validator, cache, token, Now());
    ASSERT_TRUE(claims.has_value()) << c.user << ": " << claims.error().ToString();
    EXPECT_EQ(claims->azp, c.user);
    EXPECT_EQ(claims->preferred_username, c.user);
    GrantSet grants = GrantsFromClaims(*claims, GrantOptions{});
    EXPECT_EQ(grants.resources, c.get) << c.user;
    EXPECT_EQ(grants.admin, c.admin) << c.user;
    EXPECT_EQ(grants.manager, c.manager) << c.user;
  }
  EXPECT_EQ(cache.fetch_count(), 1);
}

TEST_F(AuthIntegration, AttackMatrixAgainstProviderKeys) {
  std::string good = TokenFor("researcher-a");
  ASSERT_FALSE(good.empty());
  std::string out = *dir_ + "/attacks.json";
  std::string command = "node '" + std::string(AITELEMETRY_SOURCE_DIR) +
                        "/tests/oidc/mint.mjs' --keys '" + *dir_ + "/keys.json' --issuer '" +
                        *issuer_ + "' --good '" + good + "' --out '" + out + "'";
  ASSERT_EQ(RunCommand(command), 0);
  Json doc = Json::parse(std::ifstream(out), nullptr, false);
  ASSERT_TRUE(doc.is_object());
  KeyCache cache(CacheOptions(), &cache_client_, clock_);
  auto keys = cache.Keys();
  ASSERT_TRUE(keys.has_value()) << keys.error().ToString();
  JwtValidator validator = Validator();
  Timestamp now = FromUnixSeconds(doc["now"].get<double>());
  int provider_cases = 0;
  for (const auto& c : doc["cases"]) {
    std::string name = c["name"], expect = c["expect"];
    // The provider publishes its RSA key with "alg":"RS256", which binds it: a PS256 signature
    // by the same key is refused (RFC 8725 section 3.1).
    if (name == "good_ps256") expect = "key_mismatch";
    auto claims = validator.Validate(c["token"].get<std::string>(), **keys, now);
    if (expect == "accept") {
      EXPECT_TRUE(claims.has_value()) << name << ": " << claims.error().error.ToString();
    } else {
      ASSERT_FALSE(claims.has_value()) << name << " was accepted";
      EXPECT_EQ(JwtRejectionName(claims.error().rejection), expect) << name;
    }
    if (name.starts_with("provider_token")) ++provider_cases;
  }
  EXPECT_EQ(provider_cases, 2);
}

TEST_F(AuthIntegration, UnknownKidRefreshIsRateLimited) {
  KeyCache cache(CacheOptions(), &cache_client_, clock_);
  JwtValidator validator = Validator();
  ASSERT_TRUE(ValidateBearer(validator, cache, TokenFor("admin"), Now()).has_value());
  ASSERT_EQ(cache.fetch_count(), 1);
  // A token with a kid the issuer never had: one refresh, then none until the interval passes.
  Json doc = Json::parse(testing::ReadTestdata("attack_tokens.json"));
  std::string foreign;
  for (const auto& c : doc["cases"]) {
    if (c["name"] == "unknown_kid") foreign = c["token"];
  }
  ASSERT_FALSE(foreign.empty());
  now_ += std::chrono::seconds(31);
  for (int i = 0; i < 5; ++i) {
    auto r = ValidateBearer(validator, cache, foreign, Now());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
  }
  EXPECT_EQ(cache.fetch_count(), 2);
  now_ += std::chrono::seconds(31);
  EXPECT_FALSE(ValidateBearer(validator, cache, foreign, Now()).has_value());
  EXPECT_EQ(cache.fetch_count(), 3);
  // The scheduled refresh happens on the first use after refresh_interval.
  now_ += std::chrono::seconds(601);
  EXPECT_TRUE(cache.Keys().has_value());
  EXPECT_EQ(cache.fetch_count(), 4);
}

TEST_F(AuthIntegration, KeyCacheRefusesAForeignIssuer) {
  KeyCacheOptions options = CacheOptions();
  options.issuer = *issuer_ + "-other";
  KeyCache cache(options, &cache_client_, clock_);
  auto keys = cache.Keys();
  ASSERT_FALSE(keys.has_value());
}

TEST_F(AuthIntegration, UmaGrantsPerUser) {
  http::HttpClient uma_http;
  UmaOptions options{.issuer = *issuer_, .client_id = "ai-telemetry"};
  options.token_endpoint = uma_->ready()["url"];
  auto uma = UmaClient::Create(options, &uma_http, clock_).value();
  struct Case {
    std::string user;
    std::set<std::string> get, patch;
  };
  const Case cases[] = {
      {"no-grants", {}, {}},
      {"researcher-a", {"HUB-moc-CLUSTER-c1-PROJECT-proj-a"}, {}},
      {"researcher-b", {"HUB-moc-CLUSTER-c1-PROJECT-proj-b"}, {}},
      {"manager", {"HUB-moc-CLUSTER-c1"}, {}},
      {"admin", {"HUB-moc"}, {"HUB-moc"}},
  };
  for (const auto& c : cases) {
    auto grants = uma->Grants(c.user, TokenFor(c.user));
    ASSERT_TRUE(grants.has_value()) << c.user << ": " << grants.error().ToString();
    EXPECT_EQ(grants->resources, c.get) << c.user;
    EXPECT_EQ(grants->patch_resources, c.patch) << c.user;
  }
}

TEST_F(AuthIntegration, UmaCachesBrieflyAndFailsClosed) {
  http::HttpClient uma_http;
  std::string stats_url =
      "http://127.0.0.1:" + std::to_string(uma_->ready()["port"].get<int>()) + "/stats";
  auto requests = [&] {
    auto r = client_.Send({.url = stats_url});
    return r ? Json::parse(r->body, nullptr, false).value("requests", -1) : -1;
  };
  UmaOptions options{.issuer = *issuer_, .client_id = "ai-telemetry"};
  options.token_endpoint = uma_->ready()["url"];
  auto uma = UmaClient::Create(options, &uma_http, clock_).value();
  std::string token = TokenFor("researcher-a");
  int before = requests();
  ASSERT_TRUE(uma->Grants("researcher-a", token).has_value());
  ASSERT_TRUE(uma->Grants("researcher-a", token).has_value());
  EXPECT_EQ(requests(), before + 1);
  now_ += std::chrono::seconds(30);
  ASSERT_TRUE(uma->Grants("researcher-a", token).has_value());
  EXPECT_EQ(requests(), before + 2);

  // A tampered token is refused by the endpoint: deny, not empty grants.
  std::string tampered = token;
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  auto bad_token = uma->Grants("someone-else", tampered);
  ASSERT_FALSE(bad_token.has_value());
  EXPECT_EQ(bad_token.error().code, ErrorCode::kPermissionDenied);

  // The wrong resource server (audience): 400 invalid_resource, deny.
  UmaOptions wrong = options;
  wrong.client_id = "not-registered";
  auto wrong_uma = UmaClient::Create(wrong, &uma_http, clock_).value();
  auto denied = wrong_uma->Grants("researcher-a", token);
  ASSERT_FALSE(denied.has_value());
  EXPECT_EQ(denied.error().code, ErrorCode::kPermissionDenied);

  // Nobody listening: deny.
  UmaOptions down = options;
  down.token_endpoint = "http://127.0.0.1:1/realms/nerc/protocol/openid-connect/token";
  auto down_uma = UmaClient::Create(down, &uma_http, clock_).value();
  auto unreachable = down_uma->Grants("researcher-a", token);
  ASSERT_FALSE(unreachable.has_value());
  EXPECT_EQ(unreachable.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace aitelemetry::auth
