#include "config/config.h"

#include <filesystem>
#include <fstream>
#include <vector>

#include <gtest/gtest.h>

namespace aitelemetry::config {
namespace {

// Writes `text` to a new temp file and returns its path; the files are removed when the test
// program exits.
std::string Write(const std::string& text) {
  static struct Written {
    std::vector<std::filesystem::path> paths;
    ~Written() {
      for (const auto& p : paths) std::filesystem::remove(p);
    }
  } written;
  auto path = std::filesystem::temp_directory_path() /
              ("aitelemetry-config-" + std::to_string(getpid()) + "-" +
               std::to_string(written.paths.size()) + ".yaml");
  std::ofstream(path) << text;
  written.paths.push_back(path);
  return path.string();
}

TEST(Config, LoadsTheDocumentedShape) {
  auto c = Load({std::string(AITELEMETRY_SOURCE_DIR) + "/src/config/testdata/full.yaml", {}, {}});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->interval, std::chrono::seconds(30));
  ASSERT_EQ(c->hubs.size(), 2u);
  EXPECT_EQ(c->hubs[0].prometheus.oauth2.client_id, "collector");
  EXPECT_EQ(c->hubs[0].default_cluster, "moc");
  EXPECT_EQ(c->hubs[0].spacing, std::chrono::minutes(5));
  EXPECT_EQ(c->hubs[1].spacing.count(), 0);  // absent: worked out from sample timestamps
  EXPECT_EQ(c->hubs[1].exporters[0].cluster, "c1");
  EXPECT_EQ(c->auth.grants_source, "claims");
  EXPECT_EQ(c->otlp.headers.at("X-Scope-OrgID"), "tenant-secret");
  EXPECT_EQ(c->api.cache_bytes, 32u << 20);
  EXPECT_EQ(c->auth.redirect_url, "https://telemetry.example/callback");
  EXPECT_EQ(c->auth.session_refresh, std::chrono::minutes(2));
  EXPECT_EQ(c->auth.allowed_hosts, std::vector<std::string>{"gpu-box.lab"});
  std::string yaml = ToYaml(*c);
  EXPECT_EQ(yaml.find("tenant-secret"), std::string::npos);  // header values are masked
  EXPECT_NE(yaml.find("observatorium.example"), std::string::npos);
}

// What check-config prints loads again to the same config (found by the config fuzz target: a
// hub without OAuth2 was rendered with an empty oauth2 section, which does not load).
TEST(Config, RenderingLoadsAgain) {
  const std::string cases[] = {
      "hubs:\n  - name: h\n    prometheus: {url: \"http://127.0.0.1:9090\", timeout: 5s}\n",
      "hubs:\n  - name: h\n    exporters: [{url: \"http://127.0.0.1:9400/metrics\"}]\n",
      "",
  };
  for (const std::string& text : cases) {
    auto c = Load({"a.yaml", {}, {}, text});
    ASSERT_TRUE(c) << text << c.error().message;
    const std::string yaml = ToYaml(*c);
    auto again = Load({"rendered.yaml", {}, {}, yaml});
    ASSERT_TRUE(again) << yaml << again.error().message;
    EXPECT_EQ(ToYaml(*again), yaml);
  }
  auto full =
      Load({std::string(AITELEMETRY_SOURCE_DIR) + "/src/config/testdata/full.yaml", {}, {}});
  ASSERT_TRUE(full);
  auto again = Load({"rendered.yaml", {}, {}, ToYaml(*full)});
  EXPECT_TRUE(again) << ToYaml(*full) << again.error().message;
}

TEST(Config, EnvironmentThenFlagsOverrideTheFile) {
  std::string f = Write(
      "listen: 127.0.0.1:1\ndb: sqlite:a.db\nhubs: [{name: h, exporters: [{url: "
      "'http://x:1/metrics'}]}]\n");
  auto c = Load({f,
                 {{"AITELEMETRY_LISTEN", "127.0.0.1:2"},
                  {"AITELEMETRY_DB", "sqlite:b.db"},
                  {"AITELEMETRY_HUBS__0__NAME", "renamed"},
                  {"AITELEMETRY_AUTH__GRANTS__SOURCE", "uma"},
                  {"PATH", "/usr/bin"}},
                 {{"listen", "127.0.0.1:3"}}});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->listen, "127.0.0.1:3");
  EXPECT_EQ(c->db, "sqlite:b.db");
  EXPECT_EQ(c->hubs[0].name, "renamed");
  EXPECT_EQ(c->auth.grants_source, "uma");
}

TEST(Config, ReportsEveryProblemWithPathAndOrigin) {
  std::string f = Write(
      "listen: nowhere\n"
      "interval: soon\n"
      "colour: blue\n"
      "hubs:\n"
      "  - name: moc\n"
      "    prometheus: {url: 'htp:/x', bearer_token_file: /nonexistent/token}\n"
      "  - prometheus: {url: 'http://ok:9090'}\n"
      "auth: {grants: {source: ldap}}\n");
  auto c = Load({f, {{"AITELEMETRY_LOG_FORMAT", "xml"}}, {}});
  ASSERT_FALSE(c);
  const std::string& m = c.error().message;
  for (const std::string& want : std::vector<std::string>{
           "config: listen: expected HOST:PORT (\"nowhere\") in " + f,
           "config: interval: expected a duration", "config: colour: unknown key in " + f,
           "config: hubs[0].prometheus.url: not a URL (\"htp:/x\") in " + f,
           "config: hubs[0].prometheus.bearer_token_file: cannot read file",
           "config: hubs[1].name: missing required value",
           "config: auth.grants.source: expected claims or uma",
           "config: log_format: expected text or json (\"xml\") in environment "
           "AITELEMETRY_LOG_FORMAT"}) {
    EXPECT_NE(m.find(want), std::string::npos) << "missing: " << want << "\n---\n" << m;
  }
}

TEST(Config, PromLimitsAndNamespaceLabel) {
  std::string f = Write(
      "hubs:\n"
      "  - name: moc\n"
      "    prometheus: {url: 'http://ok:9090', namespace_label: exported_namespace}\n"
      "prom: {query_timeout: 10s, max_range: 48h, max_points: 500, "
      "max_concurrent_per_caller: 2}\n");
  auto c = Load({f, {}, {}});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->hubs[0].prometheus.namespace_label, "exported_namespace");
  EXPECT_EQ(c->prom.query_timeout, std::chrono::seconds(10));
  EXPECT_EQ(c->prom.max_range, std::chrono::hours(48));
  EXPECT_EQ(c->prom.max_points, 500);
  EXPECT_EQ(c->prom.max_concurrent_per_caller, 2);
  EXPECT_TRUE(c->prom.enabled);
  auto again = Load({"a.yaml", {}, {}, ToYaml(*c)});
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->prom.max_range, std::chrono::hours(48));
  EXPECT_EQ(again->hubs[0].prometheus.namespace_label, "exported_namespace");

  std::string bad = Write(
      "hubs:\n"
      "  - name: moc\n"
      "    prometheus: {url: 'http://ok:9090', namespace_label: pod}\n"
      "prom: {query_timeout: 1h, max_range: 10m, max_points: 0}\n");
  auto b = Load({bad, {}, {}});
  ASSERT_FALSE(b);
  for (const char* want :
       {"hubs[0].prometheus.namespace_label: expected namespace or exported_namespace",
        "prom.query_timeout: expected a duration from 1s to 10m",
        "prom.max_range: expected a duration of at least 1h", "prom.max_points"}) {
    EXPECT_NE(b.error().message.find(want), std::string::npos) << want << "\n" << b.error().message;
  }
}

// An IPv6 listen address is brackets and a port, from a flag, the environment or the file: never
// read as YAML flow syntax.
TEST(Config, ListenTakesIpv6Addresses) {
  for (const char* listen : {"[::]:8080", "[::1]:9090", "[fd00::5]:80"}) {
    auto flag = Load({"", {}, {{"listen", listen}}});
    ASSERT_TRUE(flag) << listen << ": " << flag.error().message;
    EXPECT_EQ(flag->listen, listen);
    auto env = Load({"", {{"AITELEMETRY_LISTEN", listen}}, {}});
    ASSERT_TRUE(env) << listen << ": " << env.error().message;
    EXPECT_EQ(env->listen, listen);
    auto file = Load({Write(std::string("listen: \"") + listen + "\"\n"), {}, {}});
    ASSERT_TRUE(file) << listen << ": " << file.error().message;
    EXPECT_EQ(file->listen, listen);
  }
  // Lists and maps in the environment still read as YAML.
  auto list = Load({"", {{"AITELEMETRY_AUTH__ADMIN_ROLES", "[a, b]"}}, {}});
  ASSERT_TRUE(list) << list.error().message;
  EXPECT_EQ(list->auth.admin_roles, (std::vector<std::string>{"a", "b"}));
}

// Browser sign-in sends codes to auth.redirect_url and marks cookies Secure from its scheme: it
// is required with an issuer, and https unless on loopback.
TEST(Config, AuthNeedsARedirectUrlAndBoundedRefresh) {
  struct Case {
    std::string yaml;
    std::string problem;  // "" when valid
  };
  const std::string issuer = "auth:\n  issuer: https://sso.example/realms/r\n";
  const Case cases[] = {
      {issuer, "config: auth.redirect_url: required with auth.issuer"},
      {issuer + "  redirect_url: https://t.example/callback\n", ""},
      {issuer + "  redirect_url: http://127.0.0.1:8080/callback\n", ""},
      {issuer + "  redirect_url: http://t.example/callback\n", "must be https://"},
      {issuer + "  redirect_url: https://t.example/callback\n  session_refresh: 500ms\n",
       "auth.session_refresh: expected a duration from 1s to 1h"},
      {issuer + "  redirect_url: https://t.example/callback\n  session_refresh: 2h\n",
       "auth.session_refresh"},
      {"auth: {}\n", ""},  // open local mode: no browser sign-in
  };
  for (const Case& c : cases) {
    auto loaded = Load({Write(c.yaml), {}, {}});
    if (c.problem.empty()) {
      EXPECT_TRUE(loaded) << c.yaml << loaded.error().message;
    } else {
      ASSERT_FALSE(loaded) << c.yaml;
      EXPECT_NE(loaded.error().message.find(c.problem), std::string::npos)
          << loaded.error().message;
    }
  }
}

TEST(Config, MetricsBearerTokenFile) {
  std::string token = Write("s3cret\n");
  auto c = Load({Write("metrics: {bearer_token_file: " + token + "}\n"), {}, {}});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->metrics.bearer_token_file, token);
  EXPECT_NE(ToYaml(*c).find("metrics:"), std::string::npos);
  EXPECT_FALSE(Load({Write("metrics: {bearer_token_file: /nonexistent/token}\n"), {}, {}}));
  EXPECT_TRUE(Load({"", {}, {}})->metrics.bearer_token_file.empty());  // loopback only
}

TEST(Config, RejectsBrokenYamlAndMissingFiles) {
  auto missing = Load({"/nonexistent/aitelemetry.yaml", {}, {}});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("cannot read"), std::string::npos);
  for (const char* text :
       {"listen: [unclosed\n", "- a\n- b\n", "hubs: {name: x}\n", "threads: many\n",
        "hubs: [{name: a, exporters: [{url: 'http://x:1'}]}, {name: a, exporters: [{url: "
        "'http://x:1'}]}]\n"}) {
    auto c = Load({Write(text), {}, {}});
    EXPECT_FALSE(c) << text;
  }
}

TEST(Config, DefaultsAreValidWithoutAFile) {
  auto c = Load({"", {}, {}});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->listen, "127.0.0.1:8080");
  EXPECT_EQ(c->db, "sqlite:aitelemetry.db");
  EXPECT_EQ(c->api.cache_bytes, 64u * 1024 * 1024);
}

TEST(Config, ApiCacheBytesTakesUnitsAndZeroAndRefusesTheRest) {
  struct Case {
    const char* value;
    bool ok;
    size_t bytes;
  } cases[] = {{"0", true, 0},
               {"1048576", true, 1048576},
               {"16MiB", true, 16u << 20},
               {"2GiB", true, 2ull << 30},
               {"512KiB", true, 512u << 10},
               {"-1", false, 0},
               {"lots", false, 0},
               {"MiB", false, 0},
               {"1.5MiB", false, 0}};
  for (const auto& c : cases) {
    auto got = Load({Write(std::string("api: {cache_bytes: ") + c.value + "}\n"), {}, {}});
    EXPECT_EQ(bool(got), c.ok) << c.value;
    if (got && c.ok) {
      EXPECT_EQ(got->api.cache_bytes, c.bytes) << c.value;
    }
    if (!got && !c.ok) {
      EXPECT_NE(got.error().message.find("config: api.cache_bytes: expected a size in bytes"),
                std::string::npos)
          << got.error().message;
    }
  }
  auto env = Load({"", {{"AITELEMETRY_API__CACHE_BYTES", "0"}}, {}});
  ASSERT_TRUE(env) << env.error().message;
  EXPECT_EQ(env->api.cache_bytes, 0u);
  EXPECT_NE(ToYaml(*env).find("cache_bytes: 0"), std::string::npos);
}

TEST(Config, AlertsAuthenticationKeysAreCheckedAtLoad) {
  const std::string token = Write("s3cret-token\n");
  const std::string empty = Write("\n  \n");
  const std::string ca = Write("-----BEGIN CERTIFICATE-----\n");
  struct Case {
    std::string yaml;
    std::string problem;  // "" when the config loads
  } cases[] = {
      {"alerts: {bearer_token_file: " + token + "}\n", ""},
      {"alerts: {bearer_token_file: " + empty + "}\n",
       "config: alerts.bearer_token_file: \"" + empty + "\" holds no token"},
      {"alerts: {bearer_token_file: /nonexistent/token}\n",
       "config: alerts.bearer_token_file: cannot read file"},
      {"alerts: {jwt_roles: [am]}\n", "config: alerts.jwt_roles: needs auth.issuer"},
      {"auth: {issuer: 'https://kc.example/realms/r', redirect_url: "
       "'https://t.example/callback'}\nalerts: {jwt_roles: [am]}\n",
       ""},
      {"alerts: {client_subjects: [am]}\n",
       "config: alerts.client_subjects: needs alerts.client_ca_file"},
      {"alerts: {client_ca_file: " + ca + "}\n",
       "config: alerts.client_ca_file: client certificates need TLS"},
      {"tls: {cert_file: " + ca + ", key_file: " + ca + "}\nalerts: {client_ca_file: " + ca +
           ", client_subjects: [alertmanager]}\n",
       ""},
      {"alerts: {enabled: maybe}\n", "config: alerts.enabled: expected true or false"},
      {"alerts: {enabled: false}\n", ""},
  };
  for (const auto& c : cases) {
    auto got = Load({Write(c.yaml), {}, {}});
    if (c.problem.empty()) {
      EXPECT_TRUE(got) << c.yaml << (got ? "" : got.error().message);
    } else {
      ASSERT_FALSE(got) << c.yaml;
      EXPECT_NE(got.error().message.find(c.problem), std::string::npos) << c.yaml << "\n"
                                                                        << got.error().message;
    }
  }
  auto env = Load({"",
                   {{"AITELEMETRY_AUTH__ISSUER", "https://kc.example/realms/r"},
                    {"AITELEMETRY_AUTH__REDIRECT_URL", "https://t.example/callback"},
                    {"AITELEMETRY_ALERTS__JWT_ROLES", "[am, other]"},
                    {"AITELEMETRY_ALERTS__ENABLED", "false"}},
                   {}});
  ASSERT_TRUE(env) << env.error().message;
  EXPECT_EQ(env->alerts.jwt_roles, (std::vector<std::string>{"am", "other"}));
  EXPECT_FALSE(env->alerts.enabled);
  EXPECT_TRUE(env->alerts.Authenticated());
  EXPECT_FALSE(AlertsConfig{}.Authenticated());
}

TEST(Config, PrintedConfigMasksCredentialsInUrls) {
  std::string f = Write(
      "hubs:\n"
      "  - name: a\n"
      "    prometheus: {url: 'https://collector:pr0m-pass@prom.example/api?token=t0ken-a'}\n"
      "  - name: b\n"
      "    exporters: [{url: 'http://scraper:exp0rter-pass@node:9400/metrics'}]\n"
      "otlp: {endpoint: 'http://tempo:0tlp-pass@tempo.example:4318'}\n"
      "db: 'postgresql://app:db-pass@db:5432/x'\n");
  auto c = Load({f, {}, {}});
  ASSERT_TRUE(c) << c.error().message;
  std::string yaml = ToYaml(*c);
  for (const char* secret : {"pr0m-pass", "t0ken-a", "exp0rter-pass", "0tlp-pass", "db-pass"}) {
    EXPECT_EQ(yaml.find(secret), std::string::npos) << secret << "\n" << yaml;
  }
  EXPECT_NE(yaml.find("https://***@prom.example/api?token=***"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("http://***@node:9400/metrics"), std::string::npos) << yaml;
}

}  // namespace
}  // namespace aitelemetry::config
