// `aitelemetry simulate`: serves a synthetic fleet's exporter metrics, or writes its history.
#pragma once

#include <string>

#include "core/time.h"

namespace aitelemetry::cli {

struct SimulateOptions {
  uint64_t seed = 1;
  int gpus = 64;
  double mig_fraction = 0.2;
  int hubs = 1;
  std::string listen = "127.0.0.1:9400";
  std::string truth_file;
  std::string history;  // duration text; non-empty: write history instead of serving
  std::string out;      // the OpenMetrics file for --history
  std::string step = "60s";
  std::string slot = "10m";
  std::string end;  // RFC 3339 end of the history window; default: the simulated now, aligned
                    // down to the slot
  // The simulated clock (sim/clock.h): `at` (RFC 3339) is the simulated instant at start;
  // `clock_offset` (a duration, optionally negative) is added to real time. At most one is set;
  // neither means the wall clock.
  std::string at;
  std::string clock_offset;
};

// Returns the process exit code (0 ok, 1 runtime failure, 2 bad options).
int RunSimulate(const SimulateOptions& options);

}  // namespace aitelemetry::cli
