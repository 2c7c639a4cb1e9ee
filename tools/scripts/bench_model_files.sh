#!/usr/bin/env bash
# Many small files through `mlruns log-model` and `mlruns download`
# (docs/performance.md, "Models with many files"): a folder of FILES files of
# a few bytes is logged as a model and downloaded back (runs:/RUN/model), REPS
# times into fresh trees; prints each repetition's wall seconds and the medians.
#
# Usage: bash tools/scripts/bench_model_files.sh [MLRUNS_BINARY] [FILES] [REPS] [DIR]
#   defaults: build/tools/mlruns, 5000 files, 3 repetitions, a new folder under /tmp
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
mlruns="${1:-$repo/build/tools/mlruns}"
files="${2:-5000}"
reps="${3:-3}"
dir="${4:-$(mktemp -d /tmp/mlruns-bench-model-files.XXXXXX)}"
mkdir -p "$dir/src"
for ((i = 0; i < files; i++)); do printf 'weights %d\n' "$i" >"$dir/src/part-$i.bin"; done
now() { date +%s.%N; }
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
log_times=() dl_times=()
echo "load average at start: $(cut -d' ' -f1 /proc/loadavg); $files files; $mlruns"
for ((r = 1; r <= reps; r++)); do
  export MLFLOW_TRACKING_URI="$dir/rep$r/mlruns"
  "$mlruns" experiments create bench >/dev/null
  run=$("$mlruns" run start --experiment bench)
  t0=$(now)
  "$mlruns" log-model "$run" "$dir/src" --flavor many_files >/dev/null
  t1=$(now)
  "$mlruns" download "runs:/$run/model" -d "$dir/rep$r/out" >/dev/null 2>&1
  t2=$(now)
  "$mlruns" run end "$run" >/dev/null
  [[ $(find "$dir/rep$r/out/model" -type f | wc -l) -eq $((files + 1)) ]] || { echo "download incomplete" >&2; exit 1; }
  log_times+=("$(echo "$t1 - $t0" | bc)") dl_times+=("$(echo "$t2 - $t1" | bc)")
  echo "rep $r: log-model ${log_times[-1]} s, download ${dl_times[-1]} s"
  rm -rf "$dir/rep$r"
done
echo "median of $reps: log-model $(printf '%s\n' "${log_times[@]}" | median) s," \
  "download $(printf '%s\n' "${dl_times[@]}" | median) s; load average at end: $(cut -d' ' -f1 /proc/loadavg)"
rm -rf "$dir"
