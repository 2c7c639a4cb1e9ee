#!/usr/bin/env bash
# Installs the built project into a temporary prefix, then builds and runs
# consumers against it: CMake find_package(mlruns CONFIG) (C++ and C) and
# pkg-config (C++). Each writes a run into a temporary tree, which is checked.
# Usage: packaging_test.sh <source dir> <build dir> [cmake]
set -euo pipefail
src="$1"
build="$2"
cmake="${3:-cmake}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/mlruns_packaging.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"

fail() { echo "packaging_test: FAIL: $*" >&2; exit 1; }

"$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log" || { cat "$tmp/install.log"; fail "cmake --install"; }
libdir="$(find "$prefix" -name 'mlrunsConfig.cmake' -printf '%h\n' | head -1)"
[ -n "$libdir" ] || fail "no mlrunsConfig.cmake under $prefix"
for f in include/mlruns/store.h include/mlruns/report.h include/mlruns/c.h include/mlruns/mlruns.f90 bin/mlruns; do
  [ -e "$prefix/$f" ] || fail "$f not installed"
done
pcdir="$(find "$prefix" -name 'mlruns.pc' -printf '%h\n' | head -1)"
[ -n "$pcdir" ] || fail "mlruns.pc not installed"
"$prefix/bin/mlruns" --help >/dev/null || fail "installed CLI does not run"

check_run() {  # <tree> <expected run count in experiment "consumer">
  local exp_dir
  exp_dir="$(grep -l '^name: consumer$' "$1"/*/meta.yaml | head -1 | xargs dirname)"
  [ -n "$exp_dir" ] || fail "no experiment 'consumer' in $1"
  local n
  n="$(find "$exp_dir" -mindepth 2 -maxdepth 2 -name meta.yaml | wc -l)"
  [ "$n" -eq "$2" ] || fail "$1: expected $2 runs, found $n"
}

# ---- CMake: find_package(mlruns CONFIG) ----
"$cmake" -S "$src/tests/packaging/consumer" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release >"$tmp/configure.log" 2>&1 || { cat "$tmp/configure.log"; fail "consumer configure"; }
"$cmake" --build "$tmp/cmake-build" -j 2 >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; fail "consumer build"; }
"$tmp/cmake-build/app" "$tmp/tree-cmake" || fail "CMake consumer (C++) run"
"$tmp/cmake-build/app_c" "$tmp/tree-cmake" || fail "CMake consumer (C) run"
check_run "$tmp/tree-cmake" 2
grep -rq '^0.001$' "$tmp/tree-cmake"/*/*/params/lr || fail "param lr not written by the CMake consumer"
"$tmp/cmake-build/app_report" "$tmp/tree-cmake" "$tmp/report.html" || fail "CMake consumer of mlruns::report run"
grep -q '<!DOCTYPE html>' "$tmp/report.html" || fail "the report consumer wrote no page"
[ "$("$tmp/cmake-build/app_sync" "$tmp/tree-cmake")" = "2 http://127.0.0.1:9" ] || fail "CMake consumer of mlruns::sync run"

# ---- pkg-config ----
export PKG_CONFIG_PATH="$pcdir"
flags="$(pkg-config --cflags --libs --static mlruns)" || fail "pkg-config mlruns"
# shellcheck disable=SC2086
c++ "$src/tests/packaging/consumer/app.cpp" -o "$tmp/app-pc" $flags 2>"$tmp/pc.log" \
  || { cat "$tmp/pc.log"; fail "pkg-config consumer build (flags: $flags)"; }
"$tmp/app-pc" "$tmp/tree-pc" || fail "pkg-config consumer run"
check_run "$tmp/tree-pc" 1

echo "packaging_test: OK (installed to a temporary prefix; CMake C++, C, report and sync consumers and a pkg-config consumer built and ran)"
