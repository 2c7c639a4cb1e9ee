#!/usr/bin/env bash
# Installs the dependencies, builds mlruns and runs the whole test suite.
# Usage: bash tools/scripts/test.sh   (from anywhere; builds in <repo>/build)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bash "$repo/tools/scripts/install-deps.sh" --test
# Release, as the demo builds: the README's two commands share one build.
cmake -S "$repo" -B "$repo/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$repo/build" -j "$(nproc)"
cd "$repo/build"
ctest --output-on-failure -j "$(nproc)"
