#include "auth/grants.h"

#include <gtest/gtest.h>

namespace aitelemetry::auth {
namespace {

TEST(ResourceName, ParsesAndPrintsKeycloakNames) {
  struct Case {
    std::string text;
    ResourceName want;
  };
  const Case cases[] = {
      {"HUB-moc", {"moc", std::nullopt, std::nullopt}},
      {"HUB-moc-CLUSTER-c1", {"moc", "c1", std::nullopt}},
      {"HUB-moc-CLUSTER-c1-PROJECT-proj-a", {"moc", "c1", "proj-a"}},
      {"HUB-new-england-CLUSTER-nerc-ocp-prod-PROJECT-my-ns-1",
       {"new-england", "nerc-ocp-prod", "my-ns-1"}},
  };
  for (const auto& c : cases) {
    auto got = ResourceName::Parse(c.text);
    ASSERT_TRUE(got.has_value()) << c.text;
    EXPECT_EQ(*got, c.want) << c.text;
    EXPECT_EQ(got->ToString(), c.text);
  }
}

TEST(ResourceName, RefusesOtherShapes) {
  const char* bad[] = {
      "",
      "HUB-",
      "hub-moc",
      "moc",
      "HUB-moc-CLUSTER-",
      "HUB--CLUSTER-c1",
      "HUB-moc-CLUSTER-c1-PROJECT-",
      "HUB-moc-CLUSTER-c1-NODE-n1",
      "HUB-moc-CLUSTER-c1-NODE-n1-GPU-GPU-1234",
      "HUB-moc-CLUSTER-c1-PROJECT-a-PROJECT-b",
      "HUB-moc-CLUSTER-c1-CLUSTER-c2",
      "HUB-moc-PROJECT-p",
  };
  for (const char* text : bad) EXPECT_FALSE(ResourceName::Parse(text).has_value()) << text;
}

TEST(GrantSet, CoversByHierarchy) {
  GrantSet g;
  g.resources = {"HUB-h1", "HUB-h2-CLUSTER-c1", "HUB-h3-CLUSTER-c1-PROJECT-p1"};
  struct Case {
    std::string hub;
    std::optional<std::string> cluster, project;
    bool want;
  };
  const Case cases[] = {
      {"h1", std::nullopt, std::nullopt, true},
      {"h1", "any", std::nullopt, true},
      {"h1", "any", "p", true},
      {"h2", std::nullopt, std::nullopt, false},
      {"h2", "c1", std::nullopt, true},
      {"h2", "c1", "p9", true},
      {"h2", "c2", "p9", false},
      {"h3", "c1", "p1", true},
      {"h3", "c1", "p2", false},
      {"h3", "c1", std::nullopt, false},
      {"h4", std::nullopt, std::nullopt, false},
      {"h2-CLUSTER-c1", std::nullopt, std::nullopt, false},
      {"h2", "c1-PROJECT-x", std::nullopt, false},
  };
  for (const auto& c : cases) {
    std::optional<std::string_view> cluster, project;
    if (c.cluster) cluster = *c.cluster;
    if (c.project) project = *c.project;
    EXPECT_EQ(g.Covers(c.hub, cluster, project), c.want)
        << c.hub << "/" << c.cluster.value_or("-") << "/" << c.project.value_or("-");
    EXPECT_FALSE(g.CoversPatch(c.hub, cluster, project));
  }
  GrantSet admin;
  admin.admin = true;
  EXPECT_TRUE(admin.Covers("anything", "at", "all"));
  EXPECT_TRUE(admin.CoversPatch("anything"));
}

TEST(GrantsFromClaims, ReadsGroupsAndRoles) {
  struct Case {
    const char* name;
    std::vector<std::string> groups, realm_roles, client_roles;
    std::set<std::string> want_get, want_patch;
    bool want_admin, want_manager;
  };
  const Case cases[] = {
      {"none", {}, {}, {}, {}, {}, false, false},
      {"researcher",
       {"/HUB-moc-CLUSTER-c1-PROJECT-proj-a-GET"},
       {"offline_access"},
       {},
       {"HUB-moc-CLUSTER-c1-PROJECT-proj-a"},
       {},
       false,
       false},
      {"no leading slash", {"HUB-moc-GET"}, {}, {}, {"HUB-moc"}, {}, false, false},
      {"patch", {"/HUB-moc-CLUSTER-c1-PATCH"}, {}, {}, {}, {"HUB-moc-CLUSTER-c1"}, false, false},
      {"manager",
       {"/HUB-moc-CLUSTER-c1-GET"},
       {"aitelemetry-manager"},
       {},
       {"HUB-moc-CLUSTER-c1"},
       {},
       false,
       true},
      {"admin realm role", {}, {"aitelemetry-admin"}, {}, {}, {}, true, false},
      {"admin client role", {}, {}, {"aitelemetry-admin"}, {}, {}, true, false},
      {"admin group", {"/aitelemetry-admin"}, {}, {}, {}, {}, true, false},
      {"junk groups",
       {"/HUB-moc-CLUSTER-c1-NODE-n1-GET", "/HUB-moc", "/other-GET", "//HUB-x-GET", "-GET"},
       {},
       {},
       {},
       {},
       false,
       false},
  };
  GrantOptions options;
  for (const auto& c : cases) {
    Claims claims;
    claims.groups = c.groups;
    claims.realm_roles = c.realm_roles;
    claims.client_roles["ai-telemetry"] = c.client_roles;
    claims.client_roles["other-client"] = {"aitelemetry-admin"};  // another client's role: ignored
    GrantSet g = GrantsFromClaims(claims, options);
    EXPECT_EQ(g.resources, c.want_get) << c.name;
    EXPECT_EQ(g.patch_resources, c.want_patch) << c.name;
    EXPECT_EQ(g.admin, c.want_admin) << c.name;
    EXPECT_EQ(g.manager, c.want_manager) << c.name;
  }
}

}  // namespace
}  // namespace aitelemetry::auth
