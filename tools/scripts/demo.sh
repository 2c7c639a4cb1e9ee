#!/usr/bin/env bash
# The README's main command: installs the dependencies, builds mlruns, runs a
# simulated PPO hyperparameter sweep (a parent run + 12 trials, one of which
# diverges and ends FAILED) into ./mlruns, lists the trials ranked by
# episode_reward_mean, downloads the best FINISHED trial's checkpoint into
# ./best-checkpoint, and writes a report of the sweep to ./report.html (open it
# in any browser; it needs no server and no network). ./mlruns,
# ./best-checkpoint and ./report.html are relative to where you run it (the
# README says: from the repository root).
#
# Usage: bash tools/scripts/demo.sh
# Re-runnable: each run adds a new sweep (a new parent run) to the same
# experiment, and ranking is restricted to that sweep's trials. A previous
# demo download in ./best-checkpoint is replaced with get-top-run --overwrite,
# which swaps it atomically (the CLI never overwrites without being asked).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
experiment="rl-sweep-demo"
tracking_uri="./mlruns"
dest="./best-checkpoint"
report="./report.html"

step() { printf '\n==> %s\n' "$*"; }

step "Installing build dependencies (apt-get; skipped when present)"
bash "$repo/tools/scripts/install-deps.sh"

# The first build compiles the whole library (~15 minutes on 2 cores,
# measured: docs/performance.md); later runs only relink what changed.
step "Building mlruns in $repo/build (Release; the first build takes about 15 minutes on 2 cores, less with more; later runs take seconds)"
cmake -S "$repo" -B "$repo/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
log="$repo/build/demo-build.log"
# Progress: make's "[ 42%] Building CXX object ..." lines; the full output goes to $log.
status=0
cmake --build "$repo/build" -j "$(nproc)" --target mlruns_cli mlruns_demo 2>&1 | tee "$log" \
  | { grep --line-buffered -E '^\[ *[0-9]+%\] (Building|Linking)' || true; } || status=$?
if [ "$status" -ne 0 ]; then
  tail -n 30 "$log" >&2
  echo "demo.sh: the build failed (full output: $log)" >&2
  exit 1
fi
mlruns="$repo/build/tools/mlruns"
demo="$repo/build/tools/mlruns_demo"

step "Running the sweep: $demo --tracking-uri $tracking_uri --experiment $experiment"
out="$("$demo" --tracking-uri "$tracking_uri" --experiment "$experiment")"
printf '%s\n' "$out"
value() { printf '%s\n' "$out" | sed -n "s/^$1=//p"; }
parent="$(value parent_run_id)"
best_trial="$(value best_trial)"
[ -n "$parent" ] || { echo "demo.sh: the demo did not report its parent run" >&2; exit 1; }
this_sweep="tags.mlflow.parentRunId = '$parent'"

step "Trials of this sweep, best first: mlruns runs --order-by \"metrics.episode_reward_mean DESC\""
"$mlruns" runs --tracking-uri "$tracking_uri" --experiment "$experiment" \
  --filter "$this_sweep" --order-by "metrics.episode_reward_mean DESC" \
  --columns run_id,run_name,status,metrics.episode_reward_mean,params.lr,params.gamma,params.clip_param
echo "(the FAILED trial's last reward is the highest: it spiked, then diverged)"

step "Picking the best FINISHED trial and downloading its checkpoint_000010 into $dest"
"$mlruns" get-top-run --tracking-uri "$tracking_uri" --experiment "$experiment" \
  --filter "$this_sweep" --rank-metric metrics.episode_reward_mean \
  --local-path "$dest" --artifact-path checkpoint_000010 --overwrite

step "Downloaded files"
find "$dest" -type f -printf '%10s bytes  %p\n' | sort -k3
manifest="$(find "$dest" -name rllib_checkpoint.json | head -1)"
[ -n "$manifest" ] || { echo "demo.sh: no rllib_checkpoint.json under $dest" >&2; exit 1; }
echo
echo "$manifest:"
cat "$manifest"
if grep -q "\"trial\": \"$best_trial\"" "$manifest"; then
  echo "OK: get-top-run chose $best_trial, the best FINISHED trial of the sweep (not the FAILED one)."
else
  echo "demo.sh: expected the checkpoint of $best_trial" >&2
  exit 1
fi

step "Writing the sweep's report: mlruns report -o $report"
"$mlruns" report --tracking-uri "$tracking_uri" --experiment "$experiment" \
  --filter "$this_sweep" --order-by "metrics.episode_reward_mean DESC" --title "PPO sweep (demo)" -o "$report"
"$mlruns" history --tracking-uri "$tracking_uri" "$(value best_run_id)" episode_reward_mean --plot

step "Done"
echo "Tree: $tracking_uri    Checkpoint: $dest    Report: $report (open it in a browser)"
echo "Browse it with MLflow (>= 3.13 needs the opt-in):"
echo "  MLFLOW_ALLOW_FILE_STORE=true mlflow ui --backend-store-uri $tracking_uri"
