#!/usr/bin/env bash
# Starts or stops a private PostgreSQL 15 for the tests: data directory under the build tree,
# loopback only, a free port. Writes the connection URL to DIR/url.
# Usage: tests/pg.sh start|stop DIR
set -euo pipefail
cmd=${1:?start or stop}
dir=${2:?directory}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "pg.sh: PostgreSQL server not installed (run scripts/setup)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

stop() {
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  fi
}

case $cmd in
  start)
    stop
    rm -rf "$dir"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --locale=C -E UTF8 >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    for _ in 1 2 3 4 5 6 7 8; do
      port=$(shuf -i 20000-60000 -n 1)
      if as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
        start >/dev/null 2>&1; then
        as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres aitelemetry_test
        echo "postgresql://postgres@127.0.0.1:$port/aitelemetry_test" >"$dir/url"
        exit 0
      fi
    done
    echo "pg.sh: could not start PostgreSQL; see $dir/server.log" >&2
    exit 1
    ;;
  stop) stop ;;
  *) echo "usage: tests/pg.sh start|stop DIR" >&2; exit 2 ;;
esac
