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
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "install-deps: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
