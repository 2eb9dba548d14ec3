#!/usr/bin/env bash
# SSE fan-out benchmark: one api_search_server (the REST routes, /healthz and /api/events over one
# api::EventHub, a SQLite store with GPUS generated GPUs) holding STREAMS open /api/events streams
# (bench/sse_fanout_client.cc: a tenth of them researchers granted one project each), while wrk
# runs CONNECTIONS connections of a faceted /api/gpu search and, beside it, /healthz. Prints the
# server's memory and descriptors per stream, how long a committed change takes to reach every
# stream that may see it (before and under the load), and wrk's latency distributions.
#
# Usage: bench/sse_fanout.sh
#   (after: cmake --build build --target api_search_server sse_fanout_client)
# Environment: BUILD (build dir, default build), GPUS (100000), STREAMS (10000), DURATION (20s),
#   CONNECTIONS (64), SLOWLORIS (sockets trickling headers a byte a second during a last wrk
#   round, 500; 0 skips it), SOAK (e.g. 10m: a last round of CONNECTIONS_SOAK=1000 keep-alive
#   connections over a mix of endpoints, memory and descriptors sampled every 30 s; 0 skips it),
#   DB (reuse a filled database file), KEEP=1 keeps the temp dir.
# Copy the figures into bench/RESULTS.md ("Live streams").
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
GPUS=${GPUS:-100000}
STREAMS=${STREAMS:-10000}
DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-64}
work=$(mktemp -d /tmp/aitel-sse-bench.XXXXXX)
DB=${DB:-$work/fleet.db}
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ "${KEEP:-0}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 1; }
# Each stream is one descriptor in the server and one in the client.
ulimit -n $((STREAMS * 2 + 1024)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"

echo "== filling/opening $DB with $GPUS GPUs"
"$BUILD/bench/api_search_server" "$DB" "$GPUS" 0 $((64 << 20)) >"$work/server.out" 2>"$work/server.err" &
server=$!
pids+=($server)
for _ in $(seq 1 600); do grep -q listening "$work/server.out" 2>/dev/null && break; sleep 0.5; done
port=$(awk '/listening/{print $2}' "$work/server.out")
[ -n "$port" ] || { cat "$work/server.err" >&2; exit 1; }
echo "server pid $server on port $port"

path='/api/gpu?rows=50&fq=state:active&fq=model_name:%22NVIDIA%20A100-SXM4-80GB%22&facet.field=model_name'
echo "== without streams: /api/gpu search ($CONNECTIONS connections, $DURATION) and /healthz (4 connections)"
wrk -t1 -c4 -d"$DURATION" --timeout 10s --latency "http://127.0.0.1:$port/healthz" >"$work/healthz0.txt" &
wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --timeout 10s --latency "http://127.0.0.1:$port$path"
wait %%
cat "$work/healthz0.txt"

hold=$(( ${DURATION%s} * 2 + 20 ))
echo "== opening $STREAMS streams"
"$BUILD/bench/sse_fanout_client" "$port" "$server" "$DB" "$STREAMS" "$hold" >"$work/client.out" 2>&1 &
client=$!
pids+=($client)
for _ in $(seq 1 600); do grep -q '^ready' "$work/client.out" 2>/dev/null && break; sleep 0.5; done
cat "$work/client.out"
grep -q '^ready' "$work/client.out" || exit 1
echo "== with $STREAMS streams open: /api/gpu search ($CONNECTIONS connections, $DURATION) and /healthz (4 connections)"
wrk -t1 -c4 -d"$DURATION" --timeout 10s --latency "http://127.0.0.1:$port/healthz" >"$work/healthz1.txt" &
wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --timeout 10s --latency "http://127.0.0.1:$port$path"
wait %%
cat "$work/healthz1.txt"
wait "$client" || true
echo "== client, to the end"
sed -n '/^ready/,$p' "$work/client.out"

if [ "${SLOWLORIS:-500}" -gt 0 ]; then
  # Sockets that trickle their headers one byte a second (each is dropped by the header timeout
  # and reconnects), while wrk measures the search again.
  cat >"$work/slowloris.py" <<'PY'
import socket, sys, time
port, count, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
request = b"GET /healthz HTTP/1.1\r\nHost: slow\r\nX-Padding: " + b"a" * 4000 + b"\r\n\r\n"
socks, pos, dropped = [], [], 0
def connect():
    s = socket.socket(); s.connect(("127.0.0.1", port)); s.setblocking(False); return s
for _ in range(count):
    socks.append(connect()); pos.append(0)
end = time.time() + seconds
while time.time() < end:
    for i, s in enumerate(socks):
        try:
            s.send(request[pos[i]:pos[i] + 1]); pos[i] += 1
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            dropped += 1; s.close(); socks[i] = connect(); pos[i] = 0
    time.sleep(1)
print(f"slowloris: {count} sockets for {seconds:.0f} s, {dropped} dropped by the server and reopened")
PY
  echo "== $SLOWLORIS slowloris sockets: /api/gpu search ($CONNECTIONS connections, $DURATION)"
  python3 "$work/slowloris.py" "$port" "${SLOWLORIS:-500}" $(( ${DURATION%s} + 10 )) &
  slow=$!
  sleep 3
  wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --timeout 10s --latency "http://127.0.0.1:$port$path"
  wait "$slow" || true
fi
if [ "${SOAK:-0}" != 0 ]; then
  # SOAK=DURATION: CONNECTIONS_SOAK (1000) keep-alive connections over a mix of endpoints, with the
  # server's resident memory and descriptors sampled every 30 s.
  cat >"$work/mix.lua" <<'LUA'
local paths = {
  "/healthz",
  "/api/gpu?rows=50&fq=state:active&facet.field=model_name",
  "/api/gpu?rows=10&sort=power_watts%20desc",
  "/api/node?rows=20",
  "/api/project?rows=20&facet.field=cluster",
  "/api/gpu?rows=0&stats.field=power_watts",
}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
LUA
  echo "== soak: ${CONNECTIONS_SOAK:-1000} keep-alive connections over a mix of endpoints for $SOAK"
  wrk -t2 -c"${CONNECTIONS_SOAK:-1000}" -d"$SOAK" --timeout 10s --latency -s "$work/mix.lua" \
    "http://127.0.0.1:$port" >"$work/soak.txt" &
  soak=$!
  while kill -0 "$soak" 2>/dev/null; do
    echo "soak sample: $(date +%T) rss_kib $(awk '/VmRSS/{print $2}' /proc/$server/status) fds $(ls /proc/$server/fd | wc -l)"
    sleep 30
  done
  cat "$work/soak.txt"
fi
echo "machine: $(nproc) cores, $(uname -m), $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
