// Builds a hub's collector from its configuration section.
#pragma once

#include <chrono>
#include <memory>

#include "collect/hub_syncer.h"
#include "config/config.h"

namespace aitelemetry::collect {

// Returns the source of `hub`: its Prometheus when prometheus.url is set, else its exporters.
// kInvalidArgument naming the hub when it has neither.
[[nodiscard]] Result<std::unique_ptr<SnapshotSource>> MakeSnapshotSource(
    const config::HubConfig& hub);

// Returns a syncer for `hub` with the given sync interval, writing to `store`.
[[nodiscard]] Result<std::unique_ptr<HubSyncer>> MakeHubSyncer(const config::HubConfig& hub,
                                                               std::chrono::seconds interval,
                                                               store::Store& store,
                                                               SyncMetrics* metrics);

}  // namespace aitelemetry::collect
