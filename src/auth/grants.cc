#include "auth/grants.h"

#include <algorithm>
#include <array>

namespace aitelemetry::auth {
namespace {

constexpr std::string_view kHubPrefix = "HUB-";
constexpr std::string_view kCluster = "-CLUSTER-";
constexpr std::string_view kProject = "-PROJECT-";
constexpr std::array<std::string_view, 5> kMarkers = {"-CLUSTER-", "-PROJECT-", "-NODE-", "-GPU-",
                                                      "-SLICE-"};

bool CleanPart(std::string_view part) {
  if (part.empty()) return false;
  for (auto marker : kMarkers) {
    if (part.find(marker) != std::string_view::npos) return false;
  }
  return true;
}

std::string Name(std::string_view hub, std::optional<std::string_view> cluster,
                 std::optional<std::string_view> project) {
  std::string out = std::string(kHubPrefix) + std::string(hub);
  if (cluster) out += std::string(kCluster) + std::string(*cluster);
  if (cluster && project) out += std::string(kProject) + std::string(*project);
  return out;
}

bool CoversIn(const std::set<std::string>& names, std::string_view hub,
              std::optional<std::string_view> cluster, std::optional<std::string_view> project) {
  if (!CleanPart(hub) || (cluster && !CleanPart(*cluster)) || (project && !CleanPart(*project))) {
    return false;
  }
  if (project && !cluster) return false;
  if (names.contains(Name(hub, std::nullopt, std::nullopt))) return true;
  if (cluster && names.contains(Name(hub, cluster, std::nullopt))) return true;
  return cluster && project && names.contains(Name(hub, cluster, project));
}

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

Result<ResourceName> ResourceName::Parse(std::string_view name) {
  auto bad = [&] {
    return Fail(ErrorCode::kInvalidArgument, "not a hub, cluster or project resource name");
  };
  if (!name.starts_with(kHubPrefix)) return bad();
  std::string_view rest = name.substr(kHubPrefix.size());
  ResourceName out;
  size_t c = rest.find(kCluster);
  if (c == std::string_view::npos) {
    if (!CleanPart(rest)) return bad();
    out.hub = std::string(rest);
    return out;
  }
  std::string_view hub = rest.substr(0, c);
  std::string_view after = rest.substr(c + kCluster.size());
  size_t p = after.find(kProject);
  std::string_view cluster = p == std::string_view::npos ? after : after.substr(0, p);
  if (!CleanPart(hub) || !CleanPart(cluster)) return bad();
  out.hub = std::string(hub);
  out.cluster = std::string(cluster);
  if (p != std::string_view::npos) {
    std::string_view project = after.substr(p + kProject.size());
    if (!CleanPart(project)) return bad();
    out.project = std::string(project);
  }
  return out;
}

std::string ResourceName::ToString() const {
  return Name(hub, cluster ? std::optional<std::string_view>(*cluster) : std::nullopt,
              project ? std::optional<std::string_view>(*project) : std::nullopt);
}

bool GrantSet::Covers(std::string_view hub, std::optional<std::string_view> cluster,
                      std::optional<std::string_view> project) const {
  return admin || CoversIn(resources, hub, cluster, project);
}

bool GrantSet::CoversPatch(std::string_view hub, std::optional<std::string_view> cluster,
                           std::optional<std::string_view> project) const {
  return admin || CoversIn(patch_resources, hub, cluster, project);
}

void GrantSet::Merge(const GrantSet& other) {
  admin = admin || other.admin;
  manager = manager || other.manager;
  resources.insert(other.resources.begin(), other.resources.end());
  patch_resources.insert(other.patch_resources.begin(), other.patch_resources.end());
}

GrantSet GrantsFromClaims(const Claims& claims, const GrantOptions& options) {
  GrantSet grants;
  std::vector<std::string> roles = claims.realm_roles;
  if (auto it = claims.client_roles.find(options.client_id); it != claims.client_roles.end()) {
    roles.insert(roles.end(), it->second.begin(), it->second.end());
  }
  for (const std::string& raw : claims.groups) {
    std::string_view group = raw;
    if (group.starts_with('/')) group.remove_prefix(1);
    roles.emplace_back(group);
    std::set<std::string>* target = nullptr;
    if (group.ends_with("-GET")) {
      group.remove_suffix(4);
      target = &grants.resources;
    } else if (group.ends_with("-PATCH")) {
      group.remove_suffix(6);
      target = &grants.patch_resources;
    } else {
      continue;
    }
    if (auto name = ResourceName::Parse(group)) target->insert(name->ToString());
  }
  for (const auto& role : roles) {
    grants.admin = grants.admin || Contains(options.admin_roles, role);
    grants.manager = grants.manager || Contains(options.manager_roles, role);
  }
  return grants;
}

}  // namespace aitelemetry::auth
