#!/usr/bin/env bash
# Builds the libFuzzer targets in tests/fuzz/ with clang + ASan/UBSan and runs
# each for a bounded time. Not part of CI.
#
# Usage: bash tools/scripts/fuzz.sh [SECONDS_PER_TARGET=600] [TARGET...]
#   targets: meta_yaml metric_line filter (default: all that build)
# Output: build-fuzz/ (library + targets), build-fuzz/corpus/<target>/ (grown
# corpus, kept between runs), build-fuzz/crashes/ (crashing inputs),
# build-fuzz/logs/<target>.log (libFuzzer output incl. -print_final_stats).
# Crashing inputs belong in tests/fuzz/regressions/<target>/ once fixed;
# tests/fuzz/fuzz_regression_test.cpp replays them in CI.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
secs="${1:-600}"
shift || true
targets=("$@")
((${#targets[@]})) || targets=(meta_yaml metric_line filter)

# Fuzz-only toolchain: clang and its libFuzzer runtime (Debian 12). Kept out
# of install-deps.sh on purpose: CI never fuzzes.
need=()
for p in clang libclang-rt-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if ((${#need[@]})); then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
bash "$repo/tools/scripts/install-deps.sh"

out="$repo/build-fuzz"
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
CC=clang CXX=clang++ cmake -S "$repo" -B "$out" -DCMAKE_BUILD_TYPE=Debug \
  -DMLRUNS_BUILD_TESTS=OFF -DMLRUNS_BUILD_TOOLS=OFF \
  -DCMAKE_CXX_FLAGS="$san -fsanitize=fuzzer-no-link" >/dev/null
cmake --build "$out" -j 2 --target mlruns >/dev/null

mkdir -p "$out/crashes" "$out/logs"
flags=(-std=c++20 $san -fsanitize=fuzzer -I"$repo/include" -I"$repo/src")
libs=("$out/libmlruns.a" -lyaml-cpp -lboost_filesystem -lfmt -lpthread)

seed() {  # seed <target> <dir>: fills the seed corpus from the fixtures
  local t="$1" d="$2"
  mkdir -p "$d"
  case "$t" in
    meta_yaml) find "$repo/tests/fixtures" -name meta.yaml -print0 |
                 xargs -0 -I{} sh -c 'cp "$1" "$2/$(echo "$1" | md5sum | cut -c1-16)"' _ {} "$d" ;;
    metric_line) find "$repo/tests/fixtures" -path '*/metrics/*' -type f -print0 |
                 xargs -0 -I{} sh -c 'cp "$1" "$2/$(echo "$1" | md5sum | cut -c1-16)"' _ {} "$d" ;;
    filter) local i=0
            while IFS= read -r line; do printf '%s' "$line" >"$d/seed$((i++))"; done \
              <"$repo/tests/fuzz/filter_seeds.txt" ;;
  esac
  # Past crashes stay in the corpus so a regression is found at once.
  [ -d "$repo/tests/fuzz/regressions/$t" ] && cp "$repo/tests/fuzz/regressions/$t/"* "$d/" 2>/dev/null || true
}

for t in "${targets[@]}"; do
  src="$repo/tests/fuzz/fuzz_$t.cpp"
  bin="$out/fuzz_$t"
  if ! clang++ "${flags[@]}" "$src" "${libs[@]}" -o "$bin" 2>"$out/logs/$t.build.log"; then
    echo "fuzz: $t does not build (see $out/logs/$t.build.log); skipped" >&2
    continue
  fi
  seed "$t" "$out/seeds/$t"
  mkdir -p "$out/corpus/$t"
  dict=()
  [ -f "$repo/tests/fuzz/$t.dict" ] && dict=(-dict="$repo/tests/fuzz/$t.dict")
  echo "fuzz: $t for ${secs}s" >&2
  # -timeout=30: under ASan on a loaded machine, an allocator stall once held
  # one 314-byte input for 12 s (0.3 s when replayed); docs/fuzzing.md.
  start=$(date +%s)
  "$bin" -max_total_time="$secs" -timeout=30 -rss_limit_mb=2048 -max_len=4096 \
    -print_final_stats=1 -artifact_prefix="$out/crashes/$t-" "${dict[@]}" \
    "$out/corpus/$t" "$out/seeds/$t" >"$out/logs/$t.log" 2>&1 || true
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/logs/$t.log" | grep -o '[0-9]*$' || echo "?")
  crashes=$(ls "$out/crashes" | grep -c "^$t-" || true)
  echo "fuzz: $t: $(( $(date +%s) - start ))s, $execs executions, corpus $(ls "$out/corpus/$t" | wc -l) files, $crashes crash files" >&2
done
