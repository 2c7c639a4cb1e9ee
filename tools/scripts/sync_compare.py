#!/usr/bin/env python3
"""Compares an mlruns tree with what `mlruns sync` put on a tracking server, field by field.

Usage: sync_compare.py MLRUNS_BINARY TREE URL [--include-deleted]

The tree is read through `mlruns ... --json` (the shapes of MLflow's REST API), the server through
its REST API (Python's standard library only: this runs where MLflow is not installed). For each
run of the tree (deleted ones only with --include-deleted) the server must hold exactly one run
tagged mlruns.sync.source = <tree id>/<run id> with the same name, start and end time, status,
lifecycle stage, user, params, tags (mlflow.parentRunId naming the server's parent), metric points
(no point missing, none more often than in the tree) and artifacts (same paths, sizes and bytes).
What SQL servers change is allowed for: +-inf comes back as +-1.7976931348623157e308, -0.0 as 0.0,
and identical points are kept once. Exit 0 when all matches, 1 with one line per difference.
Credentials: MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/PASSWORD, as MLflow's clients.
"""
import base64
import json
import math
import os
import subprocess
import sys
import urllib.parse
import urllib.request
from collections import Counter

MAX_FLOAT = 1.7976931348623157e308


def mlruns(binary, tree, *args):
    out = subprocess.run([binary, *args, "--tracking-uri", tree, "-q"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


class Server:
    def __init__(self, url):
        self.url = url.rstrip("/")
        self.headers = {"Content-Type": "application/json"}
        user, pw = os.environ.get("MLFLOW_TRACKING_USERNAME"), os.environ.get("MLFLOW_TRACKING_PASSWORD")
        if user and pw:
            self.headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()
        elif os.environ.get("MLFLOW_TRACKING_TOKEN"):
            self.headers["Authorization"] = "Bearer " + os.environ["MLFLOW_TRACKING_TOKEN"]

    def call(self, method, endpoint, body=None, raw=False, **query):
        url = self.url + endpoint + ("?" + urllib.parse.urlencode(query) if query else "")
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method, headers=self.headers)
        with urllib.request.urlopen(req, timeout=120) as resp:
            payload = resp.read()
        return payload if raw else json.loads(payload or b"{}")

    def get(self, endpoint, **query):
        return self.call("GET", "/api/2.0/mlflow/" + endpoint, **query)

    def post(self, endpoint, body):
        return self.call("POST", "/api/2.0/mlflow/" + endpoint, body)


def norm_value(v):
    if isinstance(v, str):
        v = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[v]
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return MAX_FLOAT if v > 0 else -MAX_FLOAT
    return v + 0.0  # -0.0 -> 0.0


def point(m):
    return (m["key"], int(m["step"]), int(m["timestamp"]), norm_value(m["value"]))


def kv(items):
    return {x["key"]: x["value"] for x in items or []}


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    binary, tree, url = sys.argv[1:4]
    include_deleted = "--include-deleted" in sys.argv[4:]
    server = Server(url)
    problems = []
    tree_id = open(os.path.join(tree, ".mlruns-sync.trash", "tree-id")).read().strip()

    local_runs = mlruns(binary, tree, "runs", "--view", "all", "--max", "50000", "--json").get("runs", [])
    experiments = {e["experiment_id"]: e for e in mlruns(binary, tree, "experiments", "--view", "all", "--json")["experiments"]}

    server_exps = server.post("experiments/search", {"max_results": 1000, "view_type": "ALL"}).get("experiments", [])
    by_source = {}
    token = None
    while True:
        body = {"experiment_ids": [e["experiment_id"] for e in server_exps], "run_view_type": "ALL",
                "filter": f"tags.`mlruns.sync.source` LIKE '{tree_id}/%'", "max_results": 1000}
        if token:
            body["page_token"] = token
        page = server.post("runs/search", body)
        for r in page.get("runs", []):
            by_source.setdefault(kv(r["data"].get("tags"))["mlruns.sync.source"], []).append(r)
        token = page.get("next_page_token")
        if not token:
            break
    server_id = {src.split("/", 1)[1]: runs[0]["info"]["run_id"] for src, runs in by_source.items()}

    expected = 0
    for local in local_runs:
        info = local["info"]
        rid = info["run_id"]
        where = f"run {rid} ({info.get('run_name', '')})"
        exp_deleted = experiments.get(info["experiment_id"], {}).get("lifecycle_stage") == "deleted"
        deleted = info["lifecycle_stage"] == "deleted" or exp_deleted
        copies = by_source.get(f"{tree_id}/{rid}", [])
        if deleted and not include_deleted:
            if copies:
                problems.append(f"{where}: deleted here and not to be synced, but on the server")
            continue
        expected += 1
        if len(copies) != 1:
            problems.append(f"{where}: {len(copies)} copies on the server, want 1")
            if not copies:
                continue
        srv = server.get("runs/get", run_id=copies[0]["info"]["run_id"])["run"]
        si = srv["info"]
        want_stage = "deleted" if deleted else "active"
        for field, want in [("run_name", info.get("run_name", "")), ("start_time", info.get("start_time")),
                            ("end_time", info.get("end_time")), ("status", info["status"]),
                            ("lifecycle_stage", want_stage), ("user_id", info.get("user_id", ""))]:
            if si.get(field) != want:
                problems.append(f"{where}: {field} is {si.get(field)!r} on the server, {want!r} here")
        lp, sp = kv(local["data"].get("params")), kv(srv["data"].get("params"))
        if lp != sp:
            problems.append(f"{where}: params differ: here {lp}, server {sp}")
        lt = kv(local["data"].get("tags"))
        if "mlflow.parentRunId" in lt:
            lt["mlflow.parentRunId"] = server_id.get(lt["mlflow.parentRunId"], "<parent not synced>")
        lt["mlruns.sync.source"] = f"{tree_id}/{rid}"
        lt.setdefault("mlflow.runName", info.get("run_name", ""))
        st = kv(srv["data"].get("tags"))
        for k in sorted(set(lt) | set(st)):
            if lt.get(k) != st.get(k):
                problems.append(f"{where}: tag {k!r} is {st.get(k)!r} on the server, {lt.get(k)!r} here")
        # Metric points.
        for m in local["data"].get("metrics", []):
            key = m["key"]
            here = Counter(point(p) for p in mlruns(binary, tree, "history", rid, key, "--json")["metrics"])
            there, tok = Counter(), None
            while True:
                q = {"run_id": si["run_id"], "metric_key": key, "max_results": 25000}
                if tok:
                    q["page_token"] = tok
                page = server.get("metrics/get-history", **q)
                there.update(point(p) for p in page.get("metrics", []))
                tok = page.get("next_page_token")
                if not tok or not page.get("metrics"):
                    break
            if set(here) != set(there):
                problems.append(f"{where}: metric {key!r}: {len(set(here) - set(there))} point(s) missing, "
                                f"{len(set(there) - set(here))} extra on the server")
            for p, n in there.items():
                if n > here.get(p, 0):
                    problems.append(f"{where}: metric {key!r}: point {p} {n} times on the server, {here.get(p, 0)} here")
        # Artifacts (only to servers that proxy them).
        if si.get("artifact_uri", "").startswith("mlflow-artifacts:"):
            files = mlruns(binary, tree, "artifacts", rid, "--recursive", "--json").get("files", [])
            want = {f["path"]: f.get("file_size", 0) for f in files if not f.get("is_dir")}
            got, dirs = {}, [""]
            while dirs:
                d = dirs.pop()
                q = {"run_id": si["run_id"]}
                if d:
                    q["path"] = d
                for f in server.get("artifacts/list", **q).get("files", []):
                    if f.get("is_dir"):
                        dirs.append(f["path"])
                    else:
                        got[f["path"]] = int(f.get("file_size", 0))
            if want != got:
                problems.append(f"{where}: artifacts differ: here {want}, server {got}")
            else:
                art_root = subprocess.run([binary, "artifacts", rid, "--tracking-uri", tree, "--json", "-q"],
                                          check=True, capture_output=True, text=True)
                root = json.loads(art_root.stdout).get("root_uri", "")
                for path in want:
                    content = server.call("GET", "/get-artifact", raw=True, run_id=si["run_id"], path=path)
                    local_path = local_artifact(tree, info, path, root)
                    if local_path and open(local_path, "rb").read() != content:
                        problems.append(f"{where}: artifact {path!r}: bytes differ")
    ours = sum(len(v) for v in by_source.values())
    if ours != expected:
        problems.append(f"the server holds {ours} runs of this tree, want {expected}")
    for p in problems:
        print("sync_compare: " + p)
    print(f"sync_compare: {expected} runs compared, {len(problems)} difference(s)")
    return 1 if problems else 0


def local_artifact(tree, info, path, root_uri):
    if root_uri.startswith("file://"):
        base = urllib.parse.unquote(root_uri[len("file://"):])
    elif root_uri.startswith("/"):
        base = root_uri
    else:
        base = None
    for candidate in ([base] if base else []) + [os.path.join(tree, info["experiment_id"], info["run_id"], "artifacts")]:
        p = os.path.join(candidate, path)
        if os.path.isfile(p):
            return p
    return None


if __name__ == "__main__":
    sys.exit(main())
