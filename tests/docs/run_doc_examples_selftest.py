#!/usr/bin/env python3
"""Self-test of run_doc_examples.py on tests/docs/selftest/*.md: a failing shell line and a
C++ compile error are reported at their Markdown file:line, setup/after/exit/needs/skip and
transcripts work, and a skip without a reason is refused (exit 2).

Usage: run_doc_examples_selftest.py --build BUILD_DIR"""
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
runner = os.path.join(here, "run_doc_examples.py")
failures = []


def check(cond, what, output):
    if not cond:
        failures.append(f"{what}\n--- runner output ---\n{output}")


def run(*args):
    p = subprocess.run([sys.executable, runner, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return p.returncode, p.stdout.decode("utf-8", "replace")


build = sys.argv[sys.argv.index("--build") + 1]
examples = os.path.join(here, "selftest", "examples.md")
rc, out = run("--build", build, "--repo", here, examples)
check(rc == 1, f"examples.md: exit status {rc}, expected 1 (two blocks fail)", out)
check("selftest/examples.md:28: shell example exited 1" in out,
      "the failing shell line is not reported as selftest/examples.md:28", out)
check("selftest/examples.md:56" in out and "undeclared_name" in out,
      "the C++ compile error is not reported at selftest/examples.md:56", out)
check("shows a skip with its reason" in out, "the skip reason is not printed", out)
check("no-such-program-anywhere not installed (ci: needs)" in out, "'ci: needs' did not skip", out)
check("7 blocks in 1 files: 3 ran, 0 compiled only, 2 skipped, 2 failed" in out,
      "wrong counts (expected 3 ran, 2 skipped, 2 failed of 7 blocks)", out)

rc, out = run("--list", os.path.join(here, "selftest", "bad_directive.md"))
check(rc == 2 and "needs a reason" in out, f"a skip without a reason: exit {rc}, expected 2", out)

for f in failures:
    print("FAIL " + f, file=sys.stderr)
print(f"run_doc_examples self-test: {'OK' if not failures else f'{len(failures)} failure(s)'}")
sys.exit(1 if failures else 0)
