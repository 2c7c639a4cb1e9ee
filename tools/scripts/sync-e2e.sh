#!/usr/bin/env bash
# The sync scenarios of the tests, against a real tracking server given by URL:
#   tools/scripts/sync-e2e.sh http://127.0.0.1:5000 [path/to/mlruns]
# Each scenario ends with tools/scripts/sync_compare.py, which compares the
# server with the tree field by field (no run, point or artifact missing or
# twice). The server should be one nobody else writes to; every run lands in
# experiments named e2e-<random>-*. Exit 0 when every scenario matches.
set -euo pipefail
url="${1:?usage: sync-e2e.sh URL [MLRUNS_BINARY]}"
here="$(cd "$(dirname "$0")" && pwd)"
mlruns="${2:-$(command -v mlruns || echo "$here/../../build/tools/mlruns")}"
py="$(command -v python3)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tree="$work/mlruns"
tag="e2e-$RANDOM$RANDOM"
export MLFLOW_HTTP_REQUEST_MAX_RETRIES="${MLFLOW_HTTP_REQUEST_MAX_RETRIES:-5}"
export MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR="${MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR:-1}"
m() { "$mlruns" --tracking-uri "$tree" "$@"; }
say() { echo "sync-e2e: $*"; }
compare() {
  say "compare: $1"
  "$py" "$here/sync_compare.py" "$mlruns" "$tree" "$url" ${2:-}
}
sync_json() { m sync --to "$url" --json "$@"; }
field() { "$py" -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

# ---- a tree with what sync must carry ----
ea=$(m experiments create "$tag-a" --tag team=rl)
eb=$(m experiments create "$tag-b")
parent=$(m run start -e "$ea" -n parent --tag phase=search)
m log "$parent" --param lr=0.001
child=$(m run start -e "$ea" -n child --parent "$parent")
for s in $(seq 0 49); do m log "$child" --metric loss=0.$((99 - s))@$s --timestamp $((1704067200000 + s)); done
m log "$child" --metric edge=nan@0 --metric edge2=inf@1 --metric edge3=-inf@2 --metric zero=-0.0@3 --param seed=7
m run end "$child"
m run end "$parent" --status FAILED
plain=$(m run start -e "$eb" -n plain --description "a note")
mkdir -p "$work/ckpt/deep"
head -c 300000 /dev/urandom > "$work/ckpt/weights.bin"
echo '{"step": 10}' > "$work/ckpt/deep/meta.json"
m log-artifact "$plain" "$work/ckpt"
m log "$plain" --metric acc=0.5@0 --tag stage=train
gone=$(m run start -e "$eb" -n gone)
m log "$gone" --param x=1
m run end "$gone"
m run delete "$gone"
running=$(m run start -e "$eb" -n still-running)
m log "$running" --metric acc=0.1@0

# ---- 1. first sync, then an unchanged one that writes nothing ----
say "1. first sync"
m sync --to "$url" -e "$tag-a" -e "$tag-b"
compare "first sync"
writes=$(sync_json -e "$tag-a" -e "$tag-b" | field write_requests)
[ "$writes" = 0 ] || { say "FAIL: an unchanged tree sent $writes write requests"; exit 1; }

# ---- 2. changes ----
say "2. changed tree"
for s in $(seq 1 30); do m log "$running" --metric acc=0.$s@$s; done
m log "$running" --param late=yes --tag stage=eval
echo more > "$work/more.txt"
m log-artifact "$running" "$work/more.txt"
m run end "$running"
m sync --to "$url" -e "$tag-a" -e "$tag-b"
compare "changed tree"

# ---- 3. the record lost: rebuilt from the server, nothing sent twice ----
say "3. record deleted"
find "$tree/.mlruns-sync.trash" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
points=$(sync_json -e "$tag-a" -e "$tag-b" | field points_sent)
[ "$points" = 0 ] || { say "FAIL: $points points sent again after the record was lost"; exit 1; }
compare "record rebuilt"

# ---- 4. killed at random points, then run again ----
say "4. killed syncs"
for round in 1 2 3 4 5; do
  for s in $(seq 1 5000); do echo "$((1704067300000 + round * 10000 + s)) 0.$s $((round * 10000 + s))"; done \
    >> "$tree/$eb/$running/metrics/acc"
  m sync --to "$url" -e "$tag-a" -e "$tag-b" >/dev/null 2>&1 & pid=$!
  sleep "0.$((RANDOM % 5))$((RANDOM % 10))"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
done
m sync --to "$url" -e "$tag-a" -e "$tag-b"
compare "after killed syncs"

# ---- 5. two syncs at once ----
say "5. two syncs at once"
for s in $(seq 1 300); do echo "$((1704067400000 + s)) 1.$s $((9000 + s))"; done >> "$tree/$ea/$child/metrics/loss"
m sync --to "$url" -e "$tag-a" -e "$tag-b" >/dev/null & a=$!
m sync --to "$url" -e "$tag-a" -e "$tag-b" -j 1 >/dev/null & b=$!
wait "$a"; wait "$b"
compare "two syncs at once"

# ---- 6. deleted runs with --include-deleted ----
say "6. --include-deleted"
m sync --to "$url" -e "$tag-a" -e "$tag-b" --include-deleted
compare "deleted runs" --include-deleted
say "OK: every scenario matches on $url"
