#!/usr/bin/env python3
"""The baseline of bench_sync (docs/performance.md): MLflow's own Python client uploading the same
data with MlflowClient.log_batch (1,000 metrics a call, MLflow's limit) and log_artifact.

Usage: python bench_sync_mlflow.py URL [--runs 200] [--metrics 10] [--steps 1000] [--artifact-mib 1]
Needs the mlflow package (exits 0 with a note when it is not importable).
"""
import argparse
import os
import sys
import tempfile
import time

try:
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param
except ImportError:
    print("bench_sync_mlflow: mlflow is not importable here; nothing measured")
    sys.exit(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--metrics", type=int, default=10)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--artifact-mib", type=int, default=1)
    a = ap.parse_args()
    client = MlflowClient(a.url)
    exp = client.create_experiment(f"bench-sync-python-{os.getpid()}-{time.time_ns()}")
    with tempfile.TemporaryDirectory() as d:
        blob = os.path.join(d, "model.bin")
        with open(blob, "wb") as f:
            f.write(bytes((i * 2654435761 >> 13) & 255 for i in range(1 << 20)) * a.artifact_mib)
        t0 = 1704067200000
        start, cpu0 = time.perf_counter(), time.process_time()
        for i in range(a.runs):
            run = client.create_run(exp).info.run_id
            points = [Metric(f"metric_{m}", s * 0.001 + m, t0 + s, s) for s in range(a.steps) for m in range(a.metrics)]
            client.log_batch(run, params=[Param("index", str(i))])
            for k in range(0, len(points), 1000):
                client.log_batch(run, metrics=points[k:k + 1000])
            if a.artifact_mib:
                client.log_artifact(run, blob)
            client.set_terminated(run)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu0
    points = a.runs * a.metrics * a.steps
    mib = a.runs * a.artifact_mib
    print(f"mlflow client: {wall:.2f} s wall, {cpu:.2f} s CPU, {points / wall:.0f} points/s, "
          f"{mib / wall:.1f} MiB/s (artifacts)")


if __name__ == "__main__":
    main()
