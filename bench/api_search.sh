#!/usr/bin/env bash
# API search benchmark: wrk at 64 connections on
#   /api/gpu?rows=50&fq=state:active&fq=model_name:"NVIDIA A100-SXM4-80GB"&facet.field=model_name
# with 100,000 generated GPUs in a SQLite store, served with the response cache (the default,
# api.cache_bytes 64 MiB) and without it (a second server on the same file, cache 0), next to
# nginx serving a static file of the same size (the floor any HTTP server pays for that many
# bytes on this machine), then a real Prometheus answering the equivalent aggregate over the same
# simulated fleet (bench/prometheus_aggregate.sh).
#
# Usage: bench/api_search.sh
#   (after: cmake --build build --target api_search_server aitelemetry)
# Environment: BUILD (build dir, default build), GPUS (100000), DURATION (20s), UNCACHED_DURATION
#   (10s), CONNECTIONS (64), THREADS (wrk threads, 2), REPEAT (rounds of cached, uncached and
#   nginx, 1), PROMETHEUS (1: also run bench/prometheus_aggregate.sh; 0: skip it; see that
#   script for HISTORY and PROM_DURATION), KEEP=1 keeps the temp dir (the filled database is
#   reused when DB=path is given).
# Prints wrk's summary for every server; copy the figures into bench/RESULTS.md ("API search").
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
GPUS=${GPUS:-100000}
DURATION=${DURATION:-20s}
UNCACHED_DURATION=${UNCACHED_DURATION:-10s}
REPEAT=${REPEAT:-1}
PROMETHEUS=${PROMETHEUS:-1}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
work=$(mktemp -d /tmp/aitel-api-bench.XXXXXX)
DB=${DB:-$work/fleet.db}
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  [ "${KEEP:-0}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT

command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 1; }
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  echo "installing nginx (Debian package)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light >/dev/null 2>&1 ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "== filling/opening $DB with $GPUS GPUs"
start=$(date +%s.%N)
# Starts api_search_server with cache bytes $1, output in $work/server-$1.*; sets $port.
start_server() {
  "$BUILD/bench/api_search_server" "$DB" "$GPUS" 0 "$1" >"$work/server-$1.out" \
    2>"$work/server-$1.err" &
  pids+=($!)
  for _ in $(seq 1 600); do grep -q listening "$work/server-$1.out" 2>/dev/null && break; sleep 0.5; done
  port=$(awk '/listening/{print $2}' "$work/server-$1.out")
  [ -n "$port" ] || { cat "$work/server-$1.err" >&2; exit 1; }
}
start_server $((64 << 20))
api_port=$port
echo "ready after $(echo "$(date +%s.%N) - $start" | bc) s on port $api_port"
start_server 0
uncached_port=$port

path='/api/gpu?rows=50&fq=state:active&fq=model_name:%22NVIDIA%20A100-SXM4-80GB%22&facet.field=model_name'
mkdir -p "$work/www"
curl -sf "http://127.0.0.1:$api_port$path" -o "$work/www/search.json"
bytes=$(stat -c %s "$work/www/search.json")
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print('foundNum', d['foundNum'], 'returnedNum', d['returnedNum'], 'facets', d['facet_counts']['facet_fields']['model_name'])" "$work/www/search.json"
echo "body: $bytes bytes"

nginx_port=$(free_port)
cat >"$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx.err warn;
daemon on;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/json;
  client_body_temp_path $work/tmp; proxy_temp_path $work/tmp; fastcgi_temp_path $work/tmp;
  uwsgi_temp_path $work/tmp; scgi_temp_path $work/tmp;
  server { listen 127.0.0.1:$nginx_port; root $work/www; }
}
CONF
mkdir -p "$work/tmp"
chmod -R a+rX "$work"  # nginx workers run as an unprivileged user
"$NGINX" -c "$work/nginx.conf" -p "$work"
sleep 0.5
curl -sf "http://127.0.0.1:$nginx_port/search.json" -o /dev/null

curl -sf "http://127.0.0.1:$uncached_port$path" | cmp -s - "$work/www/search.json" ||
  { echo "the uncached server answers differently" >&2; exit 1; }

for round in $(seq 1 "$REPEAT"); do
  echo "== round $round: aitelemetry /api/gpu search, cached ($CONNECTIONS connections, $DURATION)"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 10s --latency "http://127.0.0.1:$api_port$path"
  echo "== round $round: aitelemetry /api/gpu search, uncached ($CONNECTIONS connections, $UNCACHED_DURATION)"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$UNCACHED_DURATION" --timeout 10s --latency "http://127.0.0.1:$uncached_port$path"
  echo "== round $round: nginx, static file of the same size"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 10s --latency "http://127.0.0.1:$nginx_port/search.json"
done
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
pids=()
if [ "$PROMETHEUS" = 1 ]; then
  mkdir -p "$work/prometheus"
  WORK="$work/prometheus" BUILD="$BUILD" GPUS="$GPUS" CONNECTIONS="$CONNECTIONS" THREADS="$THREADS" \
    bench/prometheus_aggregate.sh
fi
echo "machine: $(nproc) cores, $(uname -m), $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
