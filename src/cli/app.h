// The one place where the parts are wired together for the long-running roles.
#pragma once

#include <string>

#include "config/config.h"

namespace aitelemetry::cli {

enum class Role { kAll, kServe, kWorker };

// Runs `role` until SIGTERM/SIGINT. Returns the process exit code: 0 after a clean stop, 1 for a
// runtime failure (store unreachable, port taken), 2 for a configuration the role refuses (open
// mode on a non-loopback address; for worker and all, an Alertmanager webhook without
// authentication on a non-loopback address: see api::AlertsRefusal).
int RunRole(Role role, const config::Config& config);

// True when `listen` binds only the loopback interface.
bool IsLoopback(const std::string& listen);

}  // namespace aitelemetry::cli
