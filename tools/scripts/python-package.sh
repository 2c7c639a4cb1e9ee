#!/usr/bin/env bash
# Builds the mlruns Python package into a venv under build/ and runs its tests.
#   python-package.sh install   venv build/python-venv (Debian's python3, --system-site-packages)
#                               + pip install --no-build-isolation ./python, reusing build/
#   python-package.sh test      pytest python/tests in that venv (no tests collected is a failure)
# The interpreter is Debian's /usr/bin/python3 (python3-dev, pybind11-dev), not whatever
# python3 comes first on PATH (a pyenv one has no Debian packages); MLRUNS_PYTHON overrides it.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
python="${MLRUNS_PYTHON:-/usr/bin/python3}"
venv="$repo/build/python-venv"
case "${1:-}" in
  install)
    [ -x "$python" ] || { echo "python-package: no interpreter at $python (set MLRUNS_PYTHON)" >&2; exit 2; }
    [ -x "$venv/bin/python" ] || "$python" -m venv --system-site-packages "$venv"
    # build/ is the repository's own build folder, configured by test.sh with
    # MLRUNS_BUILD_PYTHON=ON: pip links the module there instead of building the library again.
    MLRUNS_PYTHON_BUILD_DIR="$repo/build" "$venv/bin/pip" install --quiet --no-index --no-deps \
      --no-build-isolation --force-reinstall "$repo/python"
    ;;
  test)
    cd "$repo/python/tests"   # not python/: the tests import the installed package
    status=0
    "$venv/bin/python" -m pytest -q -p no:cacheprovider . || status=$?
    if [ "$status" -eq 5 ]; then echo "python-package: pytest collected no tests" >&2; exit 1; fi
    exit "$status"
    ;;
  *) echo "usage: python-package.sh install|test" >&2; exit 2 ;;
esac
