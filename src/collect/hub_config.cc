#include "collect/hub_config.h"

#include <fmt/format.h>

namespace aitelemetry::collect {

Result<std::unique_ptr<SnapshotSource>> MakeSnapshotSource(const config::HubConfig& hub) {
  if (!hub.prometheus.url.empty()) {
    PrometheusSourceOptions o;
    o.url = hub.prometheus.url;
    o.bearer_token_file = hub.prometheus.bearer_token_file;
    o.oauth2.token_url = hub.prometheus.oauth2.token_url;
    o.oauth2.client_id = hub.prometheus.oauth2.client_id;
    o.oauth2.client_secret_file = hub.prometheus.oauth2.client_secret_file;
    o.oauth2.scopes = hub.prometheus.oauth2.scopes;
    o.tls = {hub.prometheus.tls.ca_file, hub.prometheus.tls.cert_file, hub.prometheus.tls.key_file};
    o.timeout = hub.prometheus.timeout;
    o.retries = hub.prometheus.retries;
    return std::unique_ptr<SnapshotSource>(std::make_unique<PrometheusSnapshotSource>(o));
  }
  if (!hub.exporters.empty()) {
    ExporterSourceOptions o;
    for (const auto& e : hub.exporters) {
      o.targets.push_back({e.url, e.cluster.empty() ? hub.default_cluster : e.cluster});
    }
    o.bearer_token_file = hub.bearer_token_file;
    o.tls = {hub.tls.ca_file, hub.tls.cert_file, hub.tls.key_file};
    return std::unique_ptr<SnapshotSource>(std::make_unique<ExporterSnapshotSource>(o));
  }
  return Fail(ErrorCode::kInvalidArgument,
              fmt::format("hub {}: neither prometheus.url nor exporters is set", hub.name));
}

Result<std::unique_ptr<HubSyncer>> MakeHubSyncer(const config::HubConfig& hub,
                                                 std::chrono::seconds interval, store::Store& store,
                                                 SyncMetrics* metrics) {
  auto source = MakeSnapshotSource(hub);
  if (!source) return Fail(source.error());
  HubSyncOptions o;
  o.hub = hub.name;
  o.default_cluster = hub.default_cluster.empty() ? hub.name : hub.default_cluster;
  o.interval = interval;
  o.spacing = hub.spacing;
  return std::make_unique<HubSyncer>(o, store, std::move(*source), metrics);
}

}  // namespace aitelemetry::collect
