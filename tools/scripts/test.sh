#!/usr/bin/env bash
# Installs the dependencies, builds mlruns and its Python package, and runs the whole
# test suite: CTest, then pytest on the installed package.
# Usage: bash tools/scripts/test.sh   (from anywhere; builds in <repo>/build)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bash "$repo/tools/scripts/install-deps.sh" --test
# Release, as the demo builds: the README's two commands share one build. The
# Python package is built with Debian's interpreter (python-package.sh says why).
cmake -S "$repo" -B "$repo/build" -DCMAKE_BUILD_TYPE=Release -DMLRUNS_BUILD_PYTHON=ON \
  -DPython_EXECUTABLE=/usr/bin/python3 >/dev/null
cmake --build "$repo/build" -j "$(nproc)"
bash "$repo/tools/scripts/python-package.sh" install
(cd "$repo/build" && ctest --output-on-failure -j "$(nproc)")
bash "$repo/tools/scripts/python-package.sh" test
