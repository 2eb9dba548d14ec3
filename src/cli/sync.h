// `aitelemetry sync`: one collection cycle for every hub, or a rebuild of past usage hours.
#pragma once

#include <string>

#include "config/config.h"

namespace aitelemetry::cli {

struct SyncCommand {
  std::string backfill;  // "FROM..TO" (RFC 3339); empty: one live cycle
  std::string step;      // backfill step (duration); empty: the config's interval
};

// Runs the command. Returns 0 when every hub succeeded; 1 when one failed (one stderr line per
// failing hub, naming it); 2 for a bad --backfill/--step or a hub without a source.
int RunSync(const config::Config& config, const SyncCommand& command);

}  // namespace aitelemetry::cli
