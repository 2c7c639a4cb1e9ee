#!/usr/bin/env python3
"""MLflow's Python client over mlruns: (the plugin) against file: (MLflow's FileStore), same process.

    PYTHONPATH=<site with mlruns installed> python3 tools/bench_python.py [--runs 2000] [--out DIR]

Needs MLflow and the mlruns package importable (docs/performance.md gives the commands).
Both stores get the same tree, the one of docs/performance.md's ranking benchmark: 2,000 runs
with 10 metrics of 100 steps, 2 params and 2 tags each, written once with mlruns.Store and
copied, so both read identical bytes. Then, through
MlflowClient with each tracking URI:

  log_metric   one point per call into one run                 (median over --calls calls)
  log_batch    three batch shapes, each call a new step (so every call appends new lines;
               median over --batches calls):
                 1000 keys x 1 step    1,000 distinct metrics (MLflow's batch limit): both
                                       stores append to 1,000 files per call
                 10 keys x 100 steps   1,000 points into 10 files
                 10 keys x 1 step      what Lightning's / Hugging Face's loggers send per step
  store.log_batch  the 1000-key batch given to the store itself, without MlflowClient's own
               per-metric Python work (validation, copies)
  search_runs  all 2,000 runs of the experiment, a filter on a metric and ordered by
               another, max_results 1,000 (one page)            (median over --searches calls)

The same calls also go through MlflowClient to a do-nothing store (a throw-away URI scheme
registered by this program only): its log_metric and log_batch return at once, its search_runs
returns the page mlruns: found, made before the clock starts. What MlflowClient itself costs
per call is then the floor of every store, so `file:` time / that time is the best ratio ANY
tracking store can reach through MlflowClient (the "ceiling" column).

Prints a Markdown table: medians in ms of wall time and of the process's CPU time (the figure
to compare on a loaded machine), how many times faster mlruns: is, and the ceiling.
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings

os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow >= 3.10 refuses file: otherwise
warnings.filterwarnings("ignore")

import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Metric  # noqa: E402

import mlruns  # noqa: E402

NULL_SCHEME = "mlruns-bench-null"


class NullStore:
    """A tracking store that does nothing: MlflowClient's own cost per call, measured alone.
    Registered for NULL_SCHEME in this process only; search_runs returns `page`, set by bench()."""
    page = None

    def __init__(self, store_uri=None, artifact_uri=None):
        pass

    def log_metric(self, run_id, metric):
        return None

    def log_batch(self, run_id, metrics, params, tags):
        return None

    def search_runs(self, experiment_ids, filter_string, run_view_type, max_results, order_by, page_token):
        return NullStore.page


def register_null_store():
    from mlflow.tracking._tracking_service.utils import _tracking_store_registry
    _tracking_store_registry.register(NULL_SCHEME, NullStore)


def build_tree(root, runs):
    """The tree of docs/performance.md's ranking benchmark (tools/bench_rank.cpp): per run 10
    metrics of 100 steps, 2 params, 2 tags; every 10th run FAILED."""
    store = mlruns.Store(root, durability="none")
    exp = store.create_experiment("bench")
    for i in range(runs):
        with store.start_run(exp, f"run-{i}", system_tags=False, tags={"kind": "trial", "seed": i % 7}) as run:
            run.log_params({"lr": 10.0 ** -(i % 5), "batch": 32 * (1 + i % 4)})
            for step in range(100):
                run.log_metrics({f"metric{k}": ((i * 31 + k * 7 + step * 3) % 1000) / 1000.0 for k in range(10)},
                                step=step)
            if i % 10 == 9:
                run.end("FAILED")
    store.flush()
    return exp


def median_ms(fn, repeat):
    """(wall, CPU) medians in ms; CPU is the process's user + system time, all threads."""
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1000.0)
        cpu.append((time.process_time() - c0) * 1000.0)
    return statistics.median(wall), statistics.median(cpu)


# (row name, key prefix, distinct keys, steps) of the log_batch rows: 1,000 points or fewer a call.
BATCH_SHAPES = [
    ("log_batch 1000 keys x 1 step", "wide", 1000, 1),
    ("log_batch 10 keys x 100 steps", "deep", 10, 100),
    ("log_batch 10 keys x 1 step", "step", 10, 1),
]


def bench(uri, exp, args):
    client = MlflowClient(tracking_uri=uri)
    null = uri.startswith(NULL_SCHEME)
    run_id = "0" * 32 if null else client.create_run(exp, run_name="target").info.run_id
    step = iter(range(10**9))
    now = int(time.time() * 1000)
    results = {}
    results["log_metric"] = median_ms(lambda: client.log_metric(run_id, "loss", 0.5, timestamp=now, step=next(step)),
                                      args.calls)
    # A new step per call: a batch equal to the file's last line is not written again by mlruns
    # (spec §5.1, metric twins), so repeating one batch would measure no writing at all. The
    # batches are made before the clock starts.
    for name, prefix, keys, steps in BATCH_SHAPES:
        batches = iter([[Metric(f"{prefix}{k}", (k + s) * 0.001, now, call * steps + s)
                         for s in range(steps) for k in range(keys)] for call in range(args.batches)])
        results[name] = median_ms(lambda: client.log_batch(run_id, metrics=next(batches)), args.batches)
    # The store's own share: MlflowClient.log_batch also validates and copies every metric in
    # Python before it calls the store (mlflow/tracking/_tracking_service/client.py).
    store = client._tracking_client.store
    batches = iter([[Metric(f"store{k}", k * 0.001, now, call) for k in range(1000)] for call in range(args.batches)])
    results["store.log_batch"] = median_ms(lambda: store.log_batch(run_id, next(batches), [], []), args.batches)
    query = dict(filter_string="metrics.metric0 > 0.25", order_by=["metrics.metric1 DESC"], max_results=1000)
    results["found"] = [r.info.run_id for r in client.search_runs([exp], **query)]
    results["search_runs"] = median_ms(lambda: client.search_runs([exp], **query), args.searches)
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=2000)
    ap.add_argument("--calls", type=int, default=300, help="log_metric calls")
    ap.add_argument("--batches", type=int, default=20, help="log_batch calls")
    ap.add_argument("--searches", type=int, default=5, help="search_runs calls")
    ap.add_argument("--out", help="folder for the two trees (default: a temporary one, removed)")
    args = ap.parse_args()
    base = args.out or tempfile.mkdtemp(prefix="bench_python.")
    try:
        ours, theirs = os.path.join(base, "mlruns-plugin"), os.path.join(base, "file-store")
        for d in (ours, theirs):
            shutil.rmtree(d, ignore_errors=True)
        exp = build_tree(ours, args.runs)
        shutil.copytree(ours, theirs, symlinks=True)
        # artifact URIs in meta.yaml name the first tree; neither benchmark touches artifacts
        r_ours = bench("mlruns://" + ours, exp, args)
        r_theirs = bench("file://" + theirs, exp, args)
        if r_ours["found"] != r_theirs["found"]:
            sys.exit("bench_python: the two stores found different runs")
        register_null_store()
        NullStore.page = MlflowClient(tracking_uri="mlruns://" + ours)._tracking_client.store.search_runs(
            [exp], "metrics.metric0 > 0.25", 1, 1000, ["metrics.metric1 DESC"], None)
        r_null = bench(NULL_SCHEME + ":/", exp, args)
        if r_null["found"] != r_ours["found"]:
            sys.exit("bench_python: the do-nothing store's page is not mlruns:'s")
    finally:
        if not args.out:
            shutil.rmtree(base, ignore_errors=True)
    print(f"MLflow {mlflow.__version__}, Python {sys.version.split()[0]}, {args.runs} runs; "
          f"medians of {args.calls} log_metric, {args.batches} log_batch, {args.searches} search_runs calls; "
          f"search_runs returns {len(r_ours['found'])} runs, the same in both\n")
    print("| call | file: wall ms | mlruns: wall ms | faster (wall) | file: CPU ms | mlruns: CPU ms | faster (CPU) "
          "| do-nothing store CPU ms | ceiling (CPU) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in ["log_metric"] + [b[0] for b in BATCH_SHAPES] + ["store.log_batch", "search_runs"]:
        (tw, tc), (ow, oc), (_, nc) = r_theirs[name], r_ours[name], r_null[name]
        # store.log_batch bypasses MlflowClient: no client cost to measure
        ceiling = ("—", "—") if name == "store.log_batch" else (f"{nc:.3f}", f"{tc / max(nc, 1e-3):.0f}x")
        print(f"| {name} | {tw:.3f} | {ow:.3f} | {tw / ow:.1f}x | {tc:.3f} | {oc:.3f} | {tc / max(oc, 1e-3):.1f}x "
              f"| {ceiling[0]} | {ceiling[1]} |")


if __name__ == "__main__":
    main()
