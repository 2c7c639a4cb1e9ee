"""Fixtures of the mlruns package's tests (run by tools/scripts/test.sh against the installed package)."""
import os

import pytest

import mlruns


@pytest.fixture
def tree(tmp_path):
    """A fresh tree's path (created by the first Store)."""
    return str(tmp_path / "mlruns")


@pytest.fixture
def store(tree):
    s = mlruns.Store(tree)
    yield s
    s.flush()


def metric_lines(root, experiment_id, run_id, key):
    with open(os.path.join(root, experiment_id, run_id, "metrics", key)) as f:
        return f.read().splitlines()
