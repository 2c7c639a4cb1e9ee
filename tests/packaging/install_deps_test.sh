#!/usr/bin/env bash
# tools/scripts/install-deps.sh waits while another apt or dpkg holds the
# package manager's lock (issue 10 item 14), with stand-ins for apt-get,
# dpkg-query and sudo on PATH: apt-get refuses for a lock twice, then works.
# Also: a failure that is not about a lock fails at once, with apt's message.
# Usage: install_deps_test.sh SOURCE_DIR
set -euo pipefail
src=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/bin"
cat >"$work/bin/dpkg-query" <<'EOS'
#!/bin/sh
echo "unknown ok not-installed"   # every package is missing
EOS
cat >"$work/bin/sudo" <<'EOS'
#!/bin/sh
exec "$@"
EOS
cat >"$work/bin/apt-get" <<'EOS'
#!/usr/bin/env bash
echo "$*" >>"$FAKE_APT_LOG"
n=$(grep -c . "$FAKE_APT_LOG")
if [ "$FAKE_APT_MODE" = locked ] && [ "$n" -le 2 ]; then
  echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242 (apt-get)" >&2
  exit 100
fi
if [ "$FAKE_APT_MODE" = slow ]; then
  echo "Waiting for cache lock: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt)"
  for _ in $(seq 100); do [ -e "$FAKE_APT_GO" ] && break; sleep 0.1; done   # until the test has seen that line
  echo "Unpacking libyaml-cpp-dev ..."
  exit 0
fi
if [ "$FAKE_APT_MODE" = broken ]; then
  echo "E: Unable to locate package nonsense" >&2
  exit 100
fi
exit 0
EOS
chmod +x "$work/bin/"*

# Locked twice, then free: waits, says so once, installs.
export FAKE_APT_LOG=$work/log FAKE_APT_MODE=locked
PATH="$work/bin:$PATH" bash "$src/tools/scripts/install-deps.sh" 2>"$work/err"
grep -q "another package manager holds the lock; waiting" "$work/err"
[ "$(grep -c waiting "$work/err")" -eq 1 ]
[ "$(grep -c ' update ' "$work/log")" -eq 3 ]       # two refusals, then the update
grep -q "DPkg::Lock::Timeout=300 install .*libyaml-cpp-dev" "$work/log"

# apt's output streams while apt runs (F12): its wait on dpkg's lock is seen
# before apt finishes, and the count of packages comes first.
: >"$FAKE_APT_LOG"
export FAKE_APT_MODE=slow FAKE_APT_GO=$work/go
PATH="$work/bin:$PATH" bash "$src/tools/scripts/install-deps.sh" 2>"$work/err" &
pid=$!
seen=""
for _ in $(seq 100); do grep -q "Waiting for cache lock" "$work/err" && { seen=1; break; }; sleep 0.1; done
touch "$work/go"   # apt (the update) was still running when its line was out
wait "$pid"
[ -n "$seen" ] || { echo "apt's output did not stream while apt ran" >&2; exit 1; }
grep -q "install-deps: installing [0-9]* package(s)" "$work/err"
grep -q "Unpacking libyaml-cpp-dev" "$work/err"

# Not a lock: fails at once with apt's own message.
: >"$FAKE_APT_LOG"
export FAKE_APT_MODE=broken
if PATH="$work/bin:$PATH" bash "$src/tools/scripts/install-deps.sh" 2>"$work/err"; then
  echo "install-deps succeeded although apt-get failed" >&2
  exit 1
fi
grep -q "Unable to locate package nonsense" "$work/err"
[ "$(grep -c . "$FAKE_APT_LOG")" -eq 1 ]

# Still locked after MLRUNS_APT_LOCK_TIMEOUT: gives up with apt's message.
: >"$FAKE_APT_LOG"
export FAKE_APT_MODE=locked MLRUNS_APT_LOCK_TIMEOUT=1
if PATH="$work/bin:$PATH" bash "$src/tools/scripts/install-deps.sh" 2>"$work/err"; then
  echo "install-deps did not give up" >&2
  exit 1
fi
grep -q "Could not get lock" "$work/err"
echo "install-deps waits for the lock: ok"
