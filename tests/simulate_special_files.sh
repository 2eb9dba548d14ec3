#!/bin/sh
# `aitelemetry simulate --truth PATH` writes through a temporary file renamed over PATH, except
# when PATH is not a regular file (/dev/null, a FIFO): then it writes into it and leaves it one.
# Run by ctest with the binary's path; a FIFO stands in for /dev/null.
set -eu
bin=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkfifo "$dir/truth"
cat "$dir/truth" > "$dir/read" &
reader=$!
"$bin" simulate --seed 1 --gpus 8 --history 2m --out "$dir/fleet.om" --truth "$dir/truth"
wait "$reader"
[ -p "$dir/truth" ] || { echo "FAIL: the FIFO was replaced by a regular file"; exit 1; }
grep -q '"gpus"' "$dir/read" || { echo "FAIL: the truth did not reach the FIFO's reader"; exit 1; }
# A regular file is replaced whole.
"$bin" simulate --seed 1 --gpus 8 --history 2m --out "$dir/fleet.om" --truth "$dir/truth.json"
[ -f "$dir/truth.json" ] && [ ! -e "$dir/truth.json.tmp" ] || { echo "FAIL: regular file"; exit 1; }
echo "ok"
