#!/usr/bin/env bash
# Runs the tests that depend on the simulator's clock (ctest label "clock") at many pinned
# simulated instants, to show that none of them holds only at some hours. Each instant runs the
# default-time entries of the label (collect_sync, scale_out_test, traces_e2e) with
# AITEL_TEST_SIM_AT set; the PostgreSQL fixture starts with them.
#
#   bench/clock_sweep.sh [INSTANT...]   (RFC 3339; default: every 3 hours of 2026-11-02 and a few
#                                        minutes that sit on slot and hour boundaries)
#
# Prints one line per instant with ctest's summary; exits 1 when any run failed. Needs a built
# build/ (scripts/build).
set -euo pipefail
cd "$(dirname "$0")/../build"
if [ $# -eq 0 ]; then
  set -- 2026-11-02T00:00:00Z 2026-11-02T03:00:00Z 2026-11-02T06:00:00Z 2026-11-02T09:00:00Z \
    2026-11-02T12:00:00Z 2026-11-02T15:00:00Z 2026-11-02T18:00:00Z 2026-11-02T21:00:00Z \
    2026-11-02T23:59:30Z 2026-11-03T07:09:45Z 2026-11-07T13:50:00Z 2026-12-31T23:55:00Z
fi
status=0
for at in "$@"; do
  log=Testing/clock_sweep_${at//:/}.log
  start=$(date +%s)
  if AITEL_TEST_SIM_AT=$at ctest -L clock -E '_at_[0-9]{4}$' --timeout 600 >"$log" 2>&1; then
    result=passed
  else
    result=FAILED
    status=1
  fi
  echo "$at: $result in $(($(date +%s) - start)) s ($(grep -E 'tests passed' "$log" || echo 'no summary'))"
done
exit $status
