"""Every ```python block of docs/python.md runs (the lead's rule: every example in the docs runs).

Blocks that import MLflow run where MLflow is importable and are skipped, with the reason,
where it is not (CI: MLflow is not in Debian). A block after an HTML comment
"<!-- ci: skip REASON -->" is not run. Each block runs in a fresh folder, as a script of the
interpreter running the tests, with MLFLOW_TRACKING_URI unset.
"""
import importlib.util
import os
import re
import subprocess
import sys

import pytest

DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "python.md")
FENCE = re.compile(r"^```(\w*)\s*$")


def python_blocks():
    lines = open(DOC).read().split("\n")
    blocks, i, skip = [], 0, None
    while i < len(lines):
        line = lines[i]
        directive = re.match(r"^\s*<!--\s*ci:\s*skip\s+(.*?)\s*-->\s*$", line)
        if directive:
            skip = directive.group(1)
        m = FENCE.match(line)
        if m:
            start, body = i + 1, []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            if m.group(1) == "python":
                blocks.append(pytest.param("\n".join(body) + "\n", skip, id=f"python.md:{start}"))
            skip = None
        elif line.strip() and not directive:
            skip = None
        i += 1
    return blocks


BLOCKS = python_blocks()


def test_the_doc_has_python_examples():
    assert len(BLOCKS) >= 7  # the five workflows and the API examples


@pytest.mark.parametrize("code, skip", BLOCKS)
def test_example_runs(code, skip, tmp_path):
    if skip:
        pytest.skip(skip)
    if re.search(r"^\s*import mlflow|^\s*from mlflow", code, re.M) and importlib.util.find_spec("mlflow") is None:
        pytest.skip("uses MLflow, which is not importable here (not in Debian); run locally with MLflow")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING")}
    env.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    script = tmp_path / "example.py"
    script.write_text(code)
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
