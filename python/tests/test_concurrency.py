"""Threads, the GIL, and a SIGKILL during logging."""
import os
import signal
import subprocess
import sys
import threading
import time

import mlruns
from conftest import metric_lines


def test_many_threads_log_into_runs_at_once(store, tree):
    exp = store.set_experiment("threads")
    shared = store.start_run(exp, "shared")
    own_runs = {}
    errors = []

    def work(i):
        try:
            with store.start_run(exp, f"own-{i}") as run:
                own_runs[i] = run.run_id
                run.log_param("thread", i)
                for step in range(500):
                    run.log_metric("x", float(step), step=step)
                    shared.log_metric(f"t{i}", float(step), step=step)
                shared.set_tag(f"tag{i}", i)
        except Exception as e:  # reported below: an assertion in a thread would be lost
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    shared.end()
    assert errors == []
    reader = mlruns.Reader(tree)
    for i, run_id in own_runs.items():
        assert len(metric_lines(tree, exp, run_id, "x")) == 500
        assert reader.get_run(run_id).data.params == {"thread": str(i)}
    got = reader.get_run(shared.run_id)
    assert sorted(got.data.metrics) == [f"t{i}" for i in range(8)]
    for i in range(8):
        steps = [int(line.split(" ")[2]) for line in metric_lines(tree, exp, shared.run_id, f"t{i}")]
        assert steps == list(range(500))  # one thread's points stay in their order
        assert got.data.tags[f"tag{i}"] == str(i)


def test_the_gil_is_released_during_io(store, tree):
    """Another Python thread runs while a long C++ call reads a large metric file."""
    with store.start_run() as run:
        pass
    path = os.path.join(tree, run.experiment_id, run.run_id, "metrics", "big")
    with open(path, "w") as f:
        f.writelines(f"{1700000000000 + i} {i * 0.5} {i}\n" for i in range(400_000))
    reader = mlruns.Reader(tree)
    in_call = threading.Event()
    done = threading.Event()

    def long_call():
        in_call.set()
        for _ in range(3):
            reader.get_top_run(run.experiment_id, "big", rank_by="best", finished_only=False)  # one run back
        done.set()

    worker = threading.Thread(target=long_call)
    worker.start()
    in_call.wait()
    progress = 0
    while not done.is_set():
        progress += 1  # only runs while the worker's call has let go of the GIL
    worker.join()
    assert progress > 1000, f"the main thread ran {progress} loop turns during three long reads"


CHILD = r"""
import sys, threading, mlruns
store = mlruns.Store(sys.argv[1], flush_max_points=64)
exp = store.set_experiment("killed")
lock = threading.Lock()
def work(i):
    run = store.start_run(exp, f"w{i}")
    with lock:  # one whole line per id (print() may interleave threads' text and newline)
        sys.stdout.write(run.run_id + "\n")
        sys.stdout.flush()
    run.log_param("i", i)
    step = 0
    while True:
        run.log_metric("loss", 1.0 / (step + 1), step=step)
        run.log_batch([("acc", step * 0.001, step)], tags={"last": step})
        step += 1
for i in range(4):
    threading.Thread(target=work, args=(i,), daemon=True).start()
threading.Event().wait()
"""


def test_a_sigkill_during_logging_leaves_a_clean_tree(tree):
    child = subprocess.Popen([sys.executable, "-c", CHILD, tree], stdout=subprocess.PIPE, text=True)
    run_ids = [child.stdout.readline().strip() for _ in range(4)]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # logging at full speed until every run has flushed points
        found = [os.path.join(d, r, "metrics", k) for d, _, _ in os.walk(tree) for r in run_ids
                 for k in ("loss", "acc") if os.path.isdir(os.path.join(d, r))]
        if len(found) == 8 and all(os.path.exists(f) and os.path.getsize(f) > 0 for f in found):
            break
        time.sleep(0.05)
    time.sleep(0.2)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    reader = mlruns.Reader(tree)
    exp = reader.get_experiment_by_name("killed").experiment_id
    runs = {r.info.run_id: r for r in reader.search_runs(exp)}
    assert sorted(runs) == sorted(run_ids)
    for run_id, run in runs.items():
        assert run.info.status == "RUNNING" and run.data.params["i"] in "0123"
        for key in ("loss", "acc"):
            lines = metric_lines(tree, exp, run_id, key)
            assert lines, f"{key} of {run_id}: no point reached the file"
            for line in lines:  # every line whole: MLflow fails a whole run on a torn one (spec §5.1)
                ts, value, step = line.split(" ")
                int(ts), float(value), int(step)
        assert int(run.data.tags["last"]) >= 0
