#!/usr/bin/env bash
# End to end: the README demo's sweep, then `mlruns get-top-run` on its tree
# must download the checkpoint of the best FINISHED trial (not the FAILED one
# whose last reward is the highest), byte for byte, and never overwrite a
# previous download unless asked.
# Usage: demo_test.sh <mlruns_demo> <mlruns CLI>
set -euo pipefail
demo="$1"
cli="$2"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/mlruns_demo_test.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
tree="$tmp/mlruns"
checks=0
fail() { echo "demo_test: FAIL: $*" >&2; exit 1; }
ok() { checks=$((checks + 1)); }

out="$("$demo" --tracking-uri "$tree" --experiment demo-test)" || fail "demo exited non-zero"
value() { printf '%s\n' "$out" | sed -n "s/^$1=//p"; }
exp="$(value experiment_id)"
parent="$(value parent_run_id)"
best="$(value best_run_id)"
[ "$(value best_trial)" = "PPO_trial_002" ] || fail "best trial should be PPO_trial_002 (lr 0.0005, gamma 0.99, clip 0.2)"; ok
[ -n "$exp" ] && [ -n "$parent" ] && [ -n "$best" ] || fail "demo did not report its ids"; ok

# ---- the tree: 1 parent + 12 trials, one FAILED, checkpoints on the finished ones ----
runs=("$tree/$exp"/*/meta.yaml)
[ "${#runs[@]}" -eq 13 ] || fail "expected 13 runs, found ${#runs[@]}"; ok
[ "$(grep -l '^status: 4$' "$tree/$exp"/*/meta.yaml | wc -l)" -eq 1 ] || fail "expected exactly one FAILED run"; ok
[ "$(grep -l '^status: 3$' "$tree/$exp"/*/meta.yaml | wc -l)" -eq 12 ] || fail "expected 12 FINISHED runs"; ok
failed_dir="$(dirname "$(grep -l '^status: 4$' "$tree/$exp"/*/meta.yaml)")"
[ ! -e "$failed_dir/artifacts/checkpoint_000010" ] || fail "the FAILED trial must not have checkpoint_000010"; ok
[ -e "$failed_dir/artifacts/checkpoint_000005/rllib_checkpoint.json" ] || fail "the FAILED trial keeps checkpoint_000005"; ok
b="$tree/$exp/$best"
[ "$(cat "$b/params/lr")" = "0.0005" ] || fail "best run's lr param"; ok
[ "$(cat "$b/params/gamma")" = "0.99" ] || fail "best run's gamma param"; ok
[ "$(cat "$b/params/clip_param")" = "0.2" ] || fail "best run's clip_param param"; ok
[ "$(cat "$b/tags/model_type")" = "PPO" ] || fail "model_type tag"; ok
[ -s "$b/tags/dataset_version" ] || fail "dataset_version tag"; ok
[ "$(cat "$b/tags/mlflow.parentRunId")" = "$parent" ] || fail "trial is not nested under the parent"; ok
for m in episode_reward_mean episode_reward_max episode_reward_min; do
  [ "$(wc -l <"$b/metrics/$m")" -eq 10 ] || fail "$m should have 10 points"; ok
done
[ "$(stat -c %s "$b/artifacts/checkpoint_000010/policies/default_policy/policy_state.bin")" -eq 16384 ] \
  || fail "policy_state.bin size"; ok

# ---- get-top-run picks the best FINISHED trial and downloads its checkpoint ----
filter="tags.mlflow.parentRunId = '$parent'"
"$cli" get-top-run --tracking-uri "$tree" --experiment demo-test --filter "$filter" \
  --rank-metric metrics.episode_reward_mean --local-path "$tmp/dl" --artifact-path checkpoint_000010 \
  >"$tmp/top.out" 2>&1 || fail "get-top-run exited non-zero: $(cat "$tmp/top.out")"; ok
grep -q "$best" "$tmp/top.out" || fail "get-top-run did not name run $best: $(cat "$tmp/top.out")"; ok
grep -q '"trial": "PPO_trial_002"' "$tmp/dl/checkpoint_000010/rllib_checkpoint.json" \
  || fail "downloaded checkpoint is not PPO_trial_002's"; ok
diff -r "$b/artifacts/checkpoint_000010" "$tmp/dl/checkpoint_000010" >/dev/null \
  || fail "download differs from the run's artifacts"; ok

# ---- the report of the sweep: one self-contained page whose best run is get-top-run's ----
"$cli" report --tracking-uri "$tree" --experiment demo-test --filter "$filter" \
  --order-by "metrics.episode_reward_mean DESC" -o "$tmp/report.html" >"$tmp/report.out" 2>&1 \
  || fail "report exited non-zero: $(cat "$tmp/report.out")"; ok
grep -q "<div class=\"card\" data-run=\"$best\">" "$tmp/report.html" || fail "the report's best run is not $best"; ok
[ "$(grep -o '<tr data-run=' "$tmp/report.html" | wc -l)" -eq 12 ] || fail "the report's table should have the 12 trials"; ok
! grep -Eq '<(script|link|img)[^>]* (src|href)=' "$tmp/report.html" || fail "the report loads something from outside"; ok

# ---- an existing download is never overwritten silently ----
if "$cli" get-top-run --tracking-uri "$tree" --experiment demo-test --filter "$filter" \
  --rank-metric metrics.episode_reward_mean --local-path "$tmp/dl" --artifact-path checkpoint_000010 \
  >/dev/null 2>&1; then
  fail "get-top-run overwrote an existing download without --overwrite"
fi
ok
"$cli" get-top-run --tracking-uri "$tree" --experiment demo-test --filter "$filter" \
  --rank-metric metrics.episode_reward_mean --local-path "$tmp/dl" --artifact-path checkpoint_000010 \
  --overwrite >/dev/null || fail "get-top-run --overwrite"; ok

# ---- the demo is re-runnable: same experiment, a second sweep ----
out2="$("$demo" --tracking-uri "$tree" --experiment demo-test --trials 3)" || fail "second demo run"
[ "$(printf '%s\n' "$out2" | sed -n 's/^experiment_id=//p')" = "$exp" ] || fail "second run created another experiment"; ok
runs=("$tree/$exp"/*/meta.yaml)
[ "${#runs[@]}" -eq 17 ] || fail "expected 13 + 4 runs after the second sweep, found ${#runs[@]}"; ok

echo "demo_test: OK ($checks checks)"
