#!/usr/bin/env bash
# The Prometheus column of the API search benchmark: a real Prometheus (Debian package) holding
# the same simulated fleet as history, answering the aggregate the search's facet computes,
#   count by (modelName) (DCGM_FI_DEV_GPU_UTIL)
# under wrk at the same connection count. Run by bench/api_search.sh (PROMETHEUS=1, the default)
# or alone.
#
# The simulator writes HISTORY (default 10m, one sample a minute) of the fleet as OpenMetrics;
# only DCGM_FI_DEV_GPU_UTIL is kept (the whole exposition is ~5 GB per 10 minutes at 100,000
# GPUs), promtool turns it into TSDB blocks, and the query is asked at the window's end. MIG GPUs
# report no DCGM_FI_DEV_GPU_UTIL, so the counts cover the ~78,000 whole GPUs.
#
# Usage: bench/prometheus_aggregate.sh
# Environment: BUILD (build dir, default build), GPUS (100000), HISTORY (10m),
#   PROM_DURATION (wrk duration, 60s: one query takes about a second here), CONNECTIONS (64),
#   THREADS (2), WORK (a directory to use; default a new temp dir, removed unless KEEP=1).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
GPUS=${GPUS:-100000}
HISTORY=${HISTORY:-10m}
PROM_DURATION=${PROM_DURATION:-60s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
own_work=0
if [ -z "${WORK:-}" ]; then
  WORK=$(mktemp -d /tmp/aitel-prom-bench.XXXXXX)
  own_work=1
fi
prom_pid=
cleanup() {
  [ -n "$prom_pid" ] && kill "$prom_pid" 2>/dev/null || true
  if [ "$own_work" = 1 ] && [ "${KEEP:-0}" != 1 ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

for tool in prometheus promtool wrk; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (apt-get install prometheus wrk)" >&2; exit 1; }
done
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The truth file is written beside and renamed into place, so it must be a real path (never
# /dev/null, which the rename would replace with a plain file).
# A fixed end keeps the fleet (and so the answer) the same from run to run.
end=2026-01-01T12:00:00Z
echo "== Prometheus: $HISTORY of $GPUS GPUs' DCGM_FI_DEV_GPU_UTIL from the simulator"
start=$(date +%s)
"$BUILD/aitelemetry" simulate --history "$HISTORY" --end "$end" --seed 1 --gpus "$GPUS" \
  --out /dev/stdout --truth "$WORK/truth.json" 2>"$WORK/simulate.err" |
  grep -E '^(DCGM_FI_DEV_GPU_UTIL\{|# (TYPE|HELP) DCGM_FI_DEV_GPU_UTIL |# EOF)' >"$WORK/util.om"
echo "simulated in $(($(date +%s) - start)) s: $(grep -c '' "$WORK/util.om") lines"
start=$(date +%s)
rm -rf "$WORK/promdata"
promtool tsdb create-blocks-from openmetrics "$WORK/util.om" "$WORK/promdata" >/dev/null
rm -f "$WORK/util.om" "$WORK/truth.json"
echo "blocks in $(($(date +%s) - start)) s: $(du -sh "$WORK/promdata" | cut -f1)"

port=$(free_port)
printf 'global:\n  scrape_interval: 1m\n' >"$WORK/prometheus.yml"
prometheus --storage.tsdb.path="$WORK/promdata" --config.file="$WORK/prometheus.yml" \
  --web.listen-address="127.0.0.1:$port" --storage.tsdb.retention.time=100y \
  >"$WORK/prometheus.log" 2>&1 &
prom_pid=$!
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null && break; sleep 0.5; done
url="http://127.0.0.1:$port/api/v1/query?query=count+by+(modelName)+(DCGM_FI_DEV_GPU_UTIL)&time=$end"
curl -sf "$url" | python3 -c "import json,sys; d=json.load(sys.stdin)['data']['result']; print('answer', {r['metric']['modelName']: r['value'][1] for r in d})"
echo "one query alone: $(curl -sf -o /dev/null -w '%{time_total}' "$url") s"
echo "== Prometheus count by (modelName) ($CONNECTIONS connections, $PROM_DURATION)"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$PROM_DURATION" --timeout 60s --latency "$url"
