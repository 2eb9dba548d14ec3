// What a caller may read and patch: a set of Keycloak resource names (HUB-{hub},
// HUB-{hub}-CLUSTER-{c}, HUB-{hub}-CLUSTER-{c}-PROJECT-{ns}) plus admin and manager flags, built
// from token claims (groups and roles) or from Keycloak UMA permissions (uma.h).
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jwt.h"
#include "core/result.h"

namespace aitelemetry::auth {

// A parsed resource name. Parsing splits at the first "-CLUSTER-" after "HUB-" and then at the
// first "-PROJECT-" after that, so a hub name may not contain "-CLUSTER-" and a cluster name may
// not contain "-PROJECT-". To keep one reading per name, no part may contain any of the upper-case
// markers -CLUSTER-, -PROJECT-, -NODE-, -GPU-, -SLICE- (Kubernetes namespace and cluster names are
// lower-case DNS labels, so real names never do); such names are refused, as are empty parts.
struct ResourceName {
  std::string hub;
  std::optional<std::string> cluster;
  std::optional<std::string> project;  // only with a cluster

  // Parses "HUB-h", "HUB-h-CLUSTER-c" or "HUB-h-CLUSTER-c-PROJECT-ns". Returns kInvalidArgument
  // for anything else (including node, GPU and slice names, which grant nothing here).
  [[nodiscard]] static Result<ResourceName> Parse(std::string_view name);

  // Returns the canonical name; Parse(n.ToString()) == n.
  std::string ToString() const;

  bool operator==(const ResourceName&) const = default;
};

struct GrantSet {
  bool admin = false;                     // sees and patches everything
  bool manager = false;                   // a research manager (the API decides what that unlocks)
  std::set<std::string> resources;        // canonical names granted GET
  std::set<std::string> patch_resources;  // canonical names granted PATCH

  // Returns whether a GET grant covers the thing at (hub, cluster, project): a hub grant covers
  // everything in the hub, a cluster grant covers its projects, nodes and GPUs, a project grant
  // covers only that project (and its allocations). A project grant does not cover the cluster
  // itself (cluster == set, project == nullopt). Admin covers everything. Parts containing a marker
  // (see ResourceName) are covered by admin only.
  bool Covers(std::string_view hub, std::optional<std::string_view> cluster = std::nullopt,
              std::optional<std::string_view> project = std::nullopt) const;

  // As Covers, for PATCH grants.
  bool CoversPatch(std::string_view hub, std::optional<std::string_view> cluster = std::nullopt,
                   std::optional<std::string_view> project = std::nullopt) const;

  // Adds everything `other` grants.
  void Merge(const GrantSet& other);
};

struct GrantOptions {
  std::string client_id = "ai-telemetry";  // whose resource_access roles count
  std::vector<std::string> admin_roles = {"aitelemetry-admin"};
  std::vector<std::string> manager_roles = {"aitelemetry-manager"};
};

// Builds grants from token claims. A group "HUB-...-GET" (Keycloak sends "/HUB-...-GET"; one
// leading '/' is stripped) grants GET on the resource before the suffix, "-PATCH" grants PATCH;
// groups that do not parse are ignored. A role in admin_roles / manager_roles, found in
// realm_access.roles, resource_access.{client_id}.roles or as a group name (with or without the
// leading '/'), sets admin / manager.
GrantSet GrantsFromClaims(const Claims& claims, const GrantOptions& options);

}  // namespace aitelemetry::auth
