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

# ---- static and shared libraries (issue 10 item 12) ----
for lib in libmlruns libmlruns_report libmlruns_sync; do
  [ -n "$(find "$prefix" -name "$lib.a")" ] || fail "$lib.a not installed"
  so="$(find "$prefix" -name "$lib.so.0.*" | head -1)"
  [ -n "$so" ] || fail "$lib.so.0.* not installed"
  readelf -d "$so" | grep -q "(SONAME).*\[$lib\.so\.0\]" || fail "$so has no SONAME $lib.so.0"
  [ -L "$(dirname "$so")/$lib.so" ] || fail "$lib.so (the link for -l) not installed"
done
[ "$("$tmp/cmake-build/app_shared" "$tmp/tree-shared")" != "" ] || fail "CMake consumer of mlruns::mlruns_shared run"
readelf -d "$tmp/cmake-build/app_shared" | grep -q "NEEDED.*libmlruns.so.0" || fail "app_shared does not use libmlruns.so.0"
check_run "$tmp/tree-shared" 1

# ---- find_package COMPONENTS (F11): report and sync found, an unknown one named ----
components() {  # <dir> <components...>: configures a one-line consumer asking for them
  mkdir -p "$1"
  printf 'cmake_minimum_required(VERSION 3.20)\nproject(c LANGUAGES CXX)\nfind_package(mlruns CONFIG REQUIRED COMPONENTS %s)\nmessage(STATUS "report=${mlruns_report_FOUND} sync=${mlruns_sync_FOUND}")\n' "${*:2}" >"$1/CMakeLists.txt"
  "$cmake" -S "$1" -B "$1/b" -DCMAKE_PREFIX_PATH="$prefix" >"$1/log" 2>&1
}
components "$tmp/comp-ok" report sync || { cat "$tmp/comp-ok/log"; fail "find_package COMPONENTS report sync"; }
grep -q "report=TRUE sync=TRUE" "$tmp/comp-ok/log" || { cat "$tmp/comp-ok/log"; fail "mlruns_report_FOUND/mlruns_sync_FOUND not set"; }
components "$tmp/comp-bad" report nosuch && fail "find_package COMPONENTS nosuch succeeded"
grep -q "mlruns has no component 'nosuch'" "$tmp/comp-bad/log" || { cat "$tmp/comp-bad/log"; fail "no message naming the missing component"; }

# ---- pkg-config (issue 10 item 13): without --static, the shared library ----
export PKG_CONFIG_PATH="$pcdir"
shared_libdir="$(dirname "$(find "$prefix" -name 'libmlruns.so' | head -1)")"
flags="$(pkg-config --cflags --libs mlruns)" || fail "pkg-config mlruns"
# shellcheck disable=SC2086
c++ -std=c++20 "$src/tests/packaging/consumer/app.cpp" -o "$tmp/app-pc" $flags 2>"$tmp/pc.log" \
  || { cat "$tmp/pc.log"; fail "pkg-config consumer build (flags: $flags)"; }
LD_LIBRARY_PATH="$shared_libdir" "$tmp/app-pc" "$tmp/tree-pc" || fail "pkg-config consumer run"
check_run "$tmp/tree-pc" 1
flags="$(pkg-config --cflags --libs mlruns-report)" || fail "pkg-config mlruns-report"
# shellcheck disable=SC2086
c++ -std=c++20 "$src/tests/packaging/consumer/app_report.cpp" -o "$tmp/app-pc-report" $flags 2>"$tmp/pc.log" \
  || { cat "$tmp/pc.log"; fail "pkg-config mlruns-report consumer build (flags: $flags)"; }
LD_LIBRARY_PATH="$shared_libdir" "$tmp/app-pc-report" "$tmp/tree-pc" "$tmp/report-pc.html" >/dev/null \
  || fail "pkg-config mlruns-report consumer run"
flags="$(pkg-config --cflags --libs mlruns-sync)" || fail "pkg-config mlruns-sync"
# shellcheck disable=SC2086
c++ -std=c++20 "$src/tests/packaging/consumer/app_sync.cpp" -o "$tmp/app-pc-sync" $flags 2>"$tmp/pc.log" \
  || { cat "$tmp/pc.log"; fail "pkg-config mlruns-sync consumer build (flags: $flags)"; }
# A C consumer with the flags as they are, warnings as errors (issue 10 items 13, 16): no -std=c++20 in Cflags.
flags="$(pkg-config --cflags --libs mlruns)" || fail "pkg-config mlruns"
# shellcheck disable=SC2086
cc -std=c11 -Wall -Wextra -Werror "$src/tests/packaging/consumer/app_c.c" -o "$tmp/app-pc-c" $flags 2>"$tmp/pc.log" \
  || { cat "$tmp/pc.log"; fail "pkg-config C consumer build with -Wall -Wextra -Werror (flags: $flags)"; }
LD_LIBRARY_PATH="$shared_libdir" "$tmp/app-pc-c" "$tmp/tree-pc-c" || fail "pkg-config C consumer run"
# With --static: libmlruns.a and what it needs.
# (libmlruns.a named by its path: with libmlruns.so beside it, -lmlruns would pick the shared one.)
flags="$(pkg-config --cflags --libs --static mlruns)" || fail "pkg-config --static mlruns"
flags="${flags//-lmlruns /$shared_libdir/libmlruns.a }"
# shellcheck disable=SC2086
c++ -std=c++20 "$src/tests/packaging/consumer/app.cpp" -o "$tmp/app-pc-static" $flags 2>"$tmp/pc.log" || { cat "$tmp/pc.log"; fail "pkg-config --static consumer build (flags: $flags)"; }
readelf -d "$tmp/app-pc-static" | grep -q "NEEDED.*libmlruns" && fail "the --static consumer needs libmlruns.so"
"$tmp/app-pc-static" "$tmp/tree-pc" || fail "pkg-config --static consumer run"
check_run "$tmp/tree-pc" 2

# ---- -Wall -Wextra consumers: no warning from the designated-initialiser style (item 16) ----
# shellcheck disable=SC2046
c++ -std=c++20 -Wall -Wextra -Werror -fsyntax-only "$src/tests/packaging/consumer/app_wextra.cpp" \
  $(pkg-config --cflags mlruns) 2>"$tmp/wextra.log" || { cat "$tmp/wextra.log"; fail "-Wall -Wextra consumer warns"; }

# ---- a fresh configure builds Release (optimised, no debug info) by default (item 12) ----
"$cmake" -S "$src" -B "$tmp/fresh" -DMLRUNS_BUILD_TESTS=OFF >"$tmp/fresh.log" 2>&1 || { cat "$tmp/fresh.log"; fail "fresh configure"; }
grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$tmp/fresh/CMakeCache.txt" || fail "a fresh configure is not Release"

echo "packaging_test: OK (installed to a temporary prefix; static and shared libraries with SONAMEs; CMake C++, C, shared, report and sync consumers, pkg-config consumers with and without --static, a -Wextra consumer)"
