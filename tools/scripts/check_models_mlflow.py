#!/usr/bin/env python3
"""Checks that MLflow itself reads the models and the Model Registry that mlruns writes.

Usage: check_models_mlflow.py MLRUNS_BINARY [--port PORT] [--keep DIR]

Run it with a Python that has MLflow (2.x or 3.x); without MLflow it prints "skipped" and exits 0,
so CI without MLflow passes it by. The mlruns CLI writes a tree in a temporary folder: a run with an
ONNX model (a real one if the onnx package is importable), a TorchScript-flavored file and a
generic-flavor folder, registered as `policy` version 1 with alias `champion` (stage Production)
and version 2. Then MLflow's client reads it:

* mlflow.models.get_model_info("runs:/RUN/model"): flavors, run_id, model_uuid, signature;
* MlflowClient: search_registered_models, get_registered_model, get_model_version_by_alias,
  search_model_versions, get_latest_versions (stages), the run's mlflow.log-model.history tag;
* mlflow.onnx.load_model("models:/policy@champion") (needs the onnx package);
* mlflow.artifacts.download_artifacts of models:/policy/2 and models:/policy/Production;
* mlflow.pytorch.load_model and mlflow.pyfunc.load_model of the TorchScript model: where torch is not
  importable, a stand-in `torch` module records what MLflow hands to torch.load (the file and its
  bytes), which checks every MLmodel field and file name MLflow's loader reads; torch's own parsing
  of the archive is not checked then;
* MLflow 3.x: the LoggedModel records mlruns writes beside the 2.x form (docs/models.md, spec §9.2):
  search_logged_models lists the three models, get_logged_model (READY, source run, artifact
  location under the run's artifacts, the run's params), the run's outputs, get_model_info's
  model_id, mlflow.onnx.load_model("models:/<model_id>"), download_artifacts of the other two,
  and mlflow.register_model("models:/<model_id>") (a version with model_id, read back by mlruns);

and `mlflow server --backend-store-uri <tree>` answers the REST calls MLflow's UI makes:
registered-models/search, registered-models/get, model-versions/search, registered-models/alias,
runs/get (the log-model history), artifacts/list (the MLmodel that makes the UI offer "Register
model"), logged-models/search (MLflow 3.x: the experiment's Models tab lists mlruns' three models),
all under ajax-api/2.0 as the UI sends them; then registers the run's model as the UI's "Register
model" does (registered-models/create, model-versions/create; 3.x also from models:/<model_id>), which
mlruns reads back;
the registry answers must equal `mlruns models ...
--json` (the same shapes). Exit 0 when every check passes, 1 otherwise, one line per check.
"""
import json
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

try:
    import mlflow
    from mlflow.tracking import MlflowClient
except Exception as e:  # noqa: BLE001 - any import failure means: no MLflow here
    print(f"check_models_mlflow: skipped (MLflow is not importable: {e})")
    sys.exit(0)

# MLflow >= 3.10 refuses file: stores unless this is set.
os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")

FAILURES = []
TORCHSCRIPT_BYTES = b"PK\x03\x04 not a real TorchScript archive"


def check(name, ok, detail=""):
    print(("PASS " if ok else "FAIL ") + name + (f": {detail}" if detail and not ok else ""))
    if not ok:
        FAILURES.append(name)


def attempt(name, fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - report and go on with the other checks
        check(name, False, f"{type(e).__name__}: {e}")


def mlruns(binary, root, *args):
    out = subprocess.run([binary, *args, "--tracking-uri", root, "-q"], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"mlruns {' '.join(args)}: exit {out.returncode}: {out.stderr.strip()}")
    return out.stdout


def write_onnx(path):
    """A real ONNX model (Identity on a float tensor [-1, 4]) if the onnx package exists."""
    try:
        import onnx
        from onnx import TensorProto, helper
    except Exception:  # noqa: BLE001
        with open(path, "wb") as f:
            f.write(b"not an onnx model")
        return False
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 4])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "mlruns-policy", [x], [y])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    return True


def build_tree(binary, work):
    root = os.path.join(work, "mlruns")
    onnx_path = os.path.join(work, "policy.onnx")
    real_onnx = write_onnx(onnx_path)
    sig = os.path.join(work, "signature.json")
    with open(sig, "w") as f:
        json.dump({"inputs": [{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}],
                   "outputs": [{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]}, f)
    ts_path = os.path.join(work, "policy.pt")
    with open(ts_path, "wb") as f:
        f.write(TORCHSCRIPT_BYTES)
    solver = os.path.join(work, "solver")
    os.makedirs(solver)
    with open(os.path.join(solver, "weights.bin"), "wb") as f:
        f.write(b"\x00" * 64)
    mlruns(binary, root, "experiments", "create", "sweep")
    run = mlruns(binary, root, "run", "start", "--experiment", "sweep", "--name", "trial-1").strip()
    mlruns(binary, root, "log", run, "--param", "lr=0.001")
    ids = {}
    ids["model"] = json.loads(mlruns(binary, root, "log-model", run, onnx_path, "--flavor", "onnx", "--signature", sig,
                                     "--metadata", "epoch=3", "--step", "3", "--json"))["model_id"]
    ids["torchscript"] = json.loads(mlruns(binary, root, "log-model", run, ts_path, "--artifact-path", "torchscript",
                                           "--flavor", "torchscript", "--framework-version", "2.3.0",
                                           "--json"))["model_id"]
    ids["solver"] = json.loads(mlruns(binary, root, "log-model", run, solver, "--artifact-path", "solver",
                                      "--flavor", "solver_weights", "--json"))["model_id"]
    mlruns(binary, root, "run", "end", run)
    mlruns(binary, root, "models", "register", "policy", f"runs:/{run}/model", "--alias", "champion",
           "--description", "best of the sweep")
    mlruns(binary, root, "models", "transition", "policy", "1", "Production")
    mlruns(binary, root, "models", "register", "policy", f"runs:/{run}/solver")
    return root, run, real_onnx, ids


def is_mlflow3():
    return int(mlflow.__version__.split(".")[0]) >= 3


def logged_model_checks(scheme, root, run, real_onnx, ids, work):
    """MLflow 3.x reads the LoggedModel records mlruns wrote (spec §9.2), through a `scheme`
    tracking URI: file: (MLflow's FileStore) or mlruns: (the mlruns package's plugin,
    python/mlruns/mlflow_plugin.py)."""
    if not is_mlflow3():
        print("SKIP LoggedModel checks (MLflow 2.x has no LoggedModels; it read the tree above without error)")
        return
    uri = f"{scheme}://{root}"
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    exp = client.get_experiment_by_name("sweep").experiment_id

    def search():
        found = client.search_logged_models(experiment_ids=[exp])
        check(f"{scheme}: search_logged_models lists the three models (the experiment's Models tab)",
              sorted((m.model_id, m.name) for m in found) == sorted((i, n) for n, i in ids.items()),
              str([(m.model_id, m.name) for m in found]))
    attempt(f"{scheme}: search_logged_models", search)

    def get():
        m = client.get_logged_model(ids["model"])
        check(f"{scheme}: get_logged_model: READY", str(m.status) in ("READY", "LoggedModelStatus.READY"), str(m.status))
        check(f"{scheme}: get_logged_model: source_run_id", m.source_run_id == run, str(m.source_run_id))
        check(f"{scheme}: get_logged_model: artifact_location is the run's model folder",
              m.artifact_location == f"file://{root}/{exp}/{run}/artifacts/model", m.artifact_location)
        check(f"{scheme}: get_logged_model: the run's params", m.params.get("lr") == "0.001", str(m.params))
        outputs = sorted(o.model_id for o in client.get_run(run).outputs.model_outputs)
        check(f"{scheme}: get_run: outputs link the three models", outputs == sorted(ids.values()), str(outputs))
        info = mlflow.models.get_model_info(f"runs:/{run}/model")
        check(f"{scheme}: get_model_info: model_id", getattr(info, "model_id", None) == ids["model"],
              str(getattr(info, "model_id", None)))
    attempt(f"{scheme}: get_logged_model", get)

    def load():
        if not real_onnx:
            print("SKIP mlflow.onnx.load_model(models:/<model_id>) (the onnx package is not importable)")
            return
        import mlflow.onnx
        proto = mlflow.onnx.load_model(f"models:/{ids['model']}")
        check(f"{scheme}: mlflow.onnx.load_model(models:/<model_id>)", proto.graph.name == "mlruns-policy", proto.graph.name)
    attempt(f"{scheme}: mlflow.onnx.load_model(models:/<model_id>)", load)

    def download():
        for name, expect in [("solver", "weights.bin"), ("torchscript", "policy.pt")]:
            dest = tempfile.mkdtemp(dir=work)
            got = mlflow.artifacts.download_artifacts(f"models:/{ids[name]}", dst_path=dest)
            check(f"{scheme}: download_artifacts(models:/<{name} model_id>)", os.path.exists(os.path.join(got, expect)), got)
    attempt(f"{scheme}: download_artifacts(models:/<model_id>)", download)

    def register():
        v = mlflow.register_model(f"models:/{ids['solver']}", f"from-logged-model-{scheme}")
        check(f"{scheme}: register_model(models:/<model_id>): version 1 with model_id",
              str(v.version) == "1" and getattr(v, "model_id", None) == ids["solver"], str(v))
    attempt(f"{scheme}: register_model(models:/<model_id>)", register)


def client_checks(root, run, real_onnx, work):
    uri = "file://" + root
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)

    def model_info():
        info = mlflow.models.get_model_info(f"runs:/{run}/model")
        check("get_model_info: flavors onnx + python_function",
              set(info.flavors) == {"onnx", "python_function"}, str(info.flavors))
        check("get_model_info: run_id", info.run_id == run, info.run_id)
        check("get_model_info: model_uuid is 32 hex", len(info.model_uuid or "") == 32, str(info.model_uuid))
        check("get_model_info: signature", info.signature is not None and len(info.signature.inputs.inputs) == 1,
              str(info.signature))
        check("get_model_info: metadata", (info.metadata or {}).get("epoch") == "3", str(info.metadata))
    attempt("get_model_info", model_info)

    def registry():
        names = [m.name for m in client.search_registered_models()]
        check("search_registered_models lists policy", names == ["policy"], str(names))
        # Version numbers are str or int depending on the MLflow version and store: compare as str.
        m = client.get_registered_model("policy")
        check("get_registered_model: aliases", {k: str(v) for k, v in m.aliases.items()} == {"champion": "1"},
              str(m.aliases))
        v = client.get_model_version_by_alias("policy", "champion")
        check("get_model_version_by_alias: version 1 of the run", str(v.version) == "1" and v.run_id == run,
              f"{v.version} {v.run_id}")
        check("get_model_version: description", client.get_model_version("policy", "1").description
              == "best of the sweep", str(v.description))
        versions = sorted(int(v.version) for v in client.search_model_versions("name='policy'"))
        check("search_model_versions: 1, 2", versions == [1, 2], str(versions))
        latest = client.get_latest_versions("policy", ["Production"])
        check("get_latest_versions(Production): version 1", [str(v.version) for v in latest] == ["1"],
              str([v.version for v in latest]))
    attempt("registry", registry)

    def history():
        tag = client.get_run(run).data.tags.get("mlflow.log-model.history")
        entries = json.loads(tag)
        check("run tag mlflow.log-model.history: 3 models",
              sorted(e["artifact_path"] for e in entries) == ["model", "solver", "torchscript"], tag[:200])
    attempt("history", history)

    def onnx_load():
        if not real_onnx:
            print("SKIP mlflow.onnx.load_model (the onnx package is not importable)")
            return
        import mlflow.onnx
        proto = mlflow.onnx.load_model("models:/policy@champion")
        check("mlflow.onnx.load_model(models:/policy@champion)", proto.graph.name == "mlruns-policy",
              proto.graph.name)
    attempt("mlflow.onnx.load_model", onnx_load)

    def downloads():
        for model_uri, expect in [("models:/policy/2", "weights.bin"), ("models:/policy/Production", "policy.onnx"),
                                  ("models:/policy@champion", "MLmodel")]:
            dest = tempfile.mkdtemp(dir=work)
            got = mlflow.artifacts.download_artifacts(model_uri, dst_path=dest)
            check(f"download_artifacts({model_uri})", os.path.exists(os.path.join(got, expect)), got)
    attempt("download_artifacts", downloads)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(base, path, params=None, body=None):
    # ajax-api/2.0: the prefix MLflow's UI sends its calls to (the same handlers as api/2.0).
    url = f"{base}/ajax-api/2.0/mlflow/{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def sort_latest(j):
    for m in j.get("registered_models", []) + ([j["registered_model"]] if "registered_model" in j else []):
        m.get("latest_versions", []).sort(key=lambda v: -int(v["version"]))
    return j


def server_checks(binary, root, run, ids, port, work):
    log = open(os.path.join(work, "server.log"), "w")
    server = subprocess.Popen([sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
                               "--workers", "1", "--backend-store-uri", root, "--default-artifact-root", root],
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(base + "/health", timeout=2)
                break
            except Exception:  # noqa: BLE001
                time.sleep(0.5)
        else:
            check("mlflow server starts", False, "no /health after 60 s; see " + log.name)
            return
        pairs = [
            ("registered-models/search", {"max_results": 100}, ["models", "list", "--json"]),
            ("registered-models/get", {"name": "policy"}, ["models", "show", "policy", "--json"]),
            ("model-versions/search", {"filter": "name='policy'"}, ["models", "versions", "policy", "--json"]),
        ]
        for path, params, args in pairs:
            def one(path=path, params=params, args=args):
                server_json = sort_latest(get(base, path, params))
                ours = sort_latest(json.loads(mlruns(binary, root, *args)))
                check(f"REST {path} == mlruns {' '.join(args)}", server_json == ours,
                      json.dumps(server_json)[:300] + " vs " + json.dumps(ours)[:300])
            attempt(f"REST {path}", one)

        def alias():
            v = get(base, "registered-models/alias", {"name": "policy", "alias": "champion"})["model_version"]
            check("REST registered-models/alias: version 1", v["version"] == "1", str(v))
        attempt("REST registered-models/alias", alias)

        def run_models():
            tags = {t["key"]: t["value"] for t in get(base, "runs/get", {"run_id": run})["run"]["data"]["tags"]}
            check("REST runs/get: the UI's Models column (mlflow.log-model.history)",
                  len(json.loads(tags.get("mlflow.log-model.history", "[]"))) == 3)
            files = get(base, "artifacts/list", {"run_id": run, "path": "model"}).get("files", [])
            check("REST artifacts/list model/: MLmodel (the UI's Register model button)",
                  any(f["path"] == "model/MLmodel" for f in files), str(files))
        attempt("REST runs/get + artifacts/list", run_models)

        def ui_register():
            # The UI's "Register model" on the run's model folder: registered-models/create, then
            # model-versions/create with source = the run's artifact_uri + "/model" and the run id.
            artifact_uri = get(base, "runs/get", {"run_id": run})["run"]["info"]["artifact_uri"]
            get(base, "registered-models/create", body={"name": "ui-registered"})
            made = get(base, "model-versions/create",
                       body={"name": "ui-registered", "source": artifact_uri + "/model", "run_id": run})
            ours = json.loads(mlruns(binary, root, "models", "versions", "ui-registered", "--json"))
            versions = ours if isinstance(ours, list) else ours.get("model_versions", ours.get("versions", []))
            check("REST model-versions/create (the UI's Register model) -> version 1, read back by mlruns",
                  made["model_version"]["version"] == "1" and len(versions) == 1
                  and str(versions[0]["version"]) == "1" and versions[0]["run_id"] == run,
                  json.dumps(made)[:200] + " / " + json.dumps(ours)[:300])
            if is_mlflow3():  # the Models tab registers the LoggedModel: source models:/<model_id>
                made = get(base, "model-versions/create",
                           body={"name": "ui-registered", "source": "models:/" + ids["model"], "run_id": run,
                                 "model_id": ids["model"]})
                check("REST model-versions/create from models:/<model_id> -> version 2",
                      made["model_version"]["version"] == "2", json.dumps(made)[:300])
        attempt("REST model-versions/create (UI register)", ui_register)

        if is_mlflow3():
            def logged_models():
                exps = get(base, "experiments/search", body={"max_results": 100})["experiments"]
                exp_ids = [e["experiment_id"] for e in exps]
                got = get(base, "logged-models/search", body={"experiment_ids": exp_ids})
                listed = sorted(m["info"]["model_id"] for m in got.get("models", []))
                check("REST logged-models/search: the three models (the UI's Models tab)",
                      listed == sorted(ids.values()), json.dumps(got)[:300])
            attempt("REST logged-models/search", logged_models)
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
        log.close()


def torchscript_checks(run):
    """mlflow.pytorch's loaders find mlruns' TorchScript file (mlflow/pytorch/__init__.py load_model,
    _load_pyfunc, _load_model: flavors.pytorch.model_data and pytorch_version, python_function.data)."""
    try:
        import torch  # noqa: F401
        print("SKIP mlflow.pytorch checks with a stand-in torch (a real torch is importable; policy.pt is no "
              "real archive)")
        return
    except Exception:  # noqa: BLE001 - no torch: use the stand-in
        pass
    import types
    calls = []

    class Loaded:
        def __init__(self, path):
            with open(path, "rb") as f:
                self.data = f.read()

        def eval(self):
            return self

        def to(self, device=None):
            return self

    def load(f, **kwargs):
        calls.append((f, kwargs))
        return Loaded(f)

    fake = types.ModuleType("torch")
    fake.__version__ = "2.3.0"
    fake.load = load
    fake.cuda = types.SimpleNamespace(is_available=lambda: False)
    fake.jit = types.SimpleNamespace(load=load, ScriptModule=type("ScriptModule", (), {}))
    fake.nn = types.SimpleNamespace(Module=type("Module", (), {}))
    sys.modules["torch"] = fake
    try:
        def native():
            import mlflow.pytorch
            m = mlflow.pytorch.load_model(f"runs:/{run}/torchscript")
            check("mlflow.pytorch.load_model: torch.load gets policy.pt with the logged bytes",
                  os.path.basename(calls[-1][0]) == "policy.pt" and m.data == TORCHSCRIPT_BYTES, str(calls[-1:]))
        attempt("mlflow.pytorch.load_model (stand-in torch)", native)

        def pyfunc():
            p = mlflow.pyfunc.load_model(f"runs:/{run}/torchscript")
            impl = p._model_impl
            check("mlflow.pyfunc.load_model: loader mlflow.pytorch, torch.load gets policy.pt",
                  type(impl).__name__ == "_PyTorchWrapper" and os.path.basename(calls[-1][0]) == "policy.pt"
                  and impl.pytorch_model.data == TORCHSCRIPT_BYTES, f"{type(impl).__name__} {calls[-1:]}")
        attempt("mlflow.pyfunc.load_model (stand-in torch)", pyfunc)
    finally:
        del sys.modules["torch"]


def main():
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0 if len(sys.argv) >= 2 else 2)
    binary = os.path.abspath(sys.argv[1])
    port = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else free_port()
    keep = sys.argv[sys.argv.index("--keep") + 1] if "--keep" in sys.argv else None
    work = keep or tempfile.mkdtemp(prefix="mlruns-models-mlflow-")
    os.makedirs(work, exist_ok=True)
    print(f"check_models_mlflow: MLflow {mlflow.__version__}, tree in {work}")
    try:
        root, run, real_onnx, ids = build_tree(binary, work)
        client_checks(root, run, real_onnx, work)
        torchscript_checks(run)
        logged_model_checks("file", root, run, real_onnx, ids, work)
        if importlib.util.find_spec("mlruns") is not None:
            logged_model_checks("mlruns", root, run, real_onnx, ids, work)
        else:
            print("SKIP LoggedModel checks through mlruns: URIs (the mlruns Python package is not importable)")
        server_checks(binary, root, run, ids, port, work)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"check_models_mlflow: {len(FAILURES)} failure(s)")
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
