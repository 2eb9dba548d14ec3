// The simulated instant the integration tests run the fleet simulator at, so that no test depends
// on the hour it runs: AITEL_TEST_SIM_AT (RFC 3339) when set, else a fixed instant (not an
// AITELEMETRY_ name: the processes under test refuse unknown AITELEMETRY_ variables). CI runs
// the tests labelled "clock" at three such instants (tests/CMakeLists.txt). Header-only, tests
// only; users link aitel_sim.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/time.h"
#include "sim/fleet.h"
#include "sim/workload.h"

namespace aitelemetry::test_support {

// The instant used when AITEL_TEST_SIM_AT is not set.
inline constexpr char kDefaultSimAt[] = "2026-11-02T10:00:00Z";

// Returns the simulated instant the tests stand at. Aborts the test binary on unparsable text, so
// a typo in the environment cannot pass silently as the default.
inline Timestamp TestSimAt() {
  const char* env = std::getenv("AITEL_TEST_SIM_AT");
  std::string text = env != nullptr && *env != '\0' ? env : kDefaultSimAt;
  auto t = ParseRfc3339(text);
  if (!t) {
    std::fprintf(stderr, "AITEL_TEST_SIM_AT: %s\n", t.error().message.c_str());
    std::abort();
  }
  return *t;
}

// Returns the start of the first slot at or after `from` from which some unit of `fleet` is held
// for at least `slots` slots without a break (the same holding), so that a test started there sees
// an allocation for that long. Looks at most `horizon_slots` slots ahead; returns
// Timestamp::max() when none is found (the caller fails, naming the instant).
inline Timestamp FirstHeldSlot(const sim::Fleet& fleet, Timestamp from, int slots,
                               int horizon_slots = 1000) {
  int64_t first = sim::SlotIndex(fleet, from);
  if (sim::SlotStart(fleet, first) < from) ++first;
  for (int64_t slot = first; slot < first + horizon_slots; ++slot) {
    for (int unit = 0; unit < static_cast<int>(fleet.units.size()); ++unit) {
      auto h = sim::HoldingAt(fleet, unit, slot);
      if (h && h->end_slot - slot >= slots) return sim::SlotStart(fleet, slot);
    }
  }
  return Timestamp::max();
}

}  // namespace aitelemetry::test_support
