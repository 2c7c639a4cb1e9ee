#!/usr/bin/env bash
# Installs mlruns' build dependencies from Debian 12's archive; with --test,
# also what only the test suite needs (Debian's chromium, for the test that
# opens a report in a headless browser).
# Used by both README commands and by .ci/run; safe to run again (apt-get skips what is there).
# Usage: install-deps.sh [--test]
set -euo pipefail
packages=(
  g++ cmake make pkg-config git python3
  libyaml-cpp-dev libboost-filesystem-dev libboost-dev
  catch2 libcli11-dev nlohmann-json3-dev libfmt-dev libfast-float-dev libexpected-dev
  # meta.yaml read as PyYAML (MLflow) reads it: libyaml, the parser under CSafeLoader
  libyaml-dev
  # mlruns report/plot: PNG charts, terminal widths, the page's CSP hashes; the tests parse its HTML
  libcairo2-dev fonts-dejavu-core libutf8proc-dev nettle-dev libgumbo-dev
  # mlruns sync: HTTP client; its tests' stand-in MLflow server
  libcurl4-openssl-dev libcpp-httplib-dev
  # the Python package (python/): pybind11, built by pip in a venv of Debian's python3, tested with pytest
  python3-dev pybind11-dev python3-pybind11 python3-setuptools python3-venv python3-pytest
)
case "${1:-}" in
  --test) packages+=(chromium) ;;
  "") ;;
  *) echo "install-deps: unknown option '$1' (use --test)" >&2; exit 2 ;;
esac
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# apt-get "$@", waiting while another apt or dpkg (unattended-upgrades, a
# second shell) holds the package manager's locks: up to
# MLRUNS_APT_LOCK_TIMEOUT seconds (default 300) instead of failing at once.
# DPkg::Lock::Timeout covers dpkg's lock; apt-get update's lists lock is
# not covered by it, so a refusal for a lock is retried every 2 s.
# apt's output streams to stderr as it comes (a wait on dpkg's lock shows
# as apt's "Waiting for cache lock" lines, never as silence) and is kept in
# a file to spot a lock refusal.
apt_get() {
  local timeout=${MLRUNS_APT_LOCK_TIMEOUT:-300} rc said=""
  local deadline=$((SECONDS + timeout)) log
  log=$(mktemp)
  while :; do
    rc=0
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$timeout" "$@" 2>&1 | tee "$log" >&2 \
      || rc=$?
    ((rc == 0)) && { rm -f "$log"; return 0; }
    if grep -qE "Could not get lock|Unable to lock|Unable to acquire" "$log" && ((SECONDS < deadline)); then
      [ -n "$said" ] || echo "install-deps: another package manager holds the lock; waiting (up to ${timeout}s)" >&2
      said=1
      sleep 2
      continue
    fi
    rm -f "$log"
    return "$rc"
  done
}
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}" >&2
  echo "install-deps: apt's output follows; if another apt or dpkg is running, apt waits for its lock" \
    "(up to ${MLRUNS_APT_LOCK_TIMEOUT:-300}s) and says so" >&2
  echo "install-deps: updating the package lists..." >&2
  apt_get update -qq
  apt_get install -y -qq --no-install-recommends "${missing[@]}"
fi
