"""The plugin against MLflow's own FileStore, call by call (runs only where MLflow is importable).

Each scenario runs twice through MLflow's public API: once with an ``mlruns:`` URI (our
store, found through the entry point) and once with a ``file:`` URI (MLflow's FileStore,
mlflow/store/tracking/file_store.py, the reference). Return values, exceptions (type and
error code) and the trees' bytes must be the same, up to ids and times.
"""
import math
import os
import re
import shutil
import time
import warnings

import pytest

mlflow = pytest.importorskip("mlflow", reason="MLflow is not importable here: the plugin's comparison with "
                                                "MLflow's FileStore is skipped (CI has no MLflow; run locally)")
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Metric, Param, RunTag, ViewType  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402

import mlruns.mlflow_plugin  # noqa: E402

os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow >= 3.10 refuses file: otherwise
warnings.filterwarnings("ignore", category=FutureWarning)

MLFLOW_MAJOR = int(mlflow.__version__.split(".")[0])
RUN_ID = re.compile(r"\b[0-9a-f]{32}\b")
EXP_ID = re.compile(r"\b[0-9]{18,19}\b")
TIME = re.compile(r"\b1[0-9]{12}\b")


class Ids:
    """Replaces run and experiment ids by their order of appearance, and times by T."""

    def __init__(self, root):
        self.root = str(root)
        self.seen = {}

    def seed(self):
        """Names ids by what they name (experiment and run names are unique in the
        scenarios), so that both trees' files pair up whatever their random ids."""
        for dirpath, _dirs, names in os.walk(self.root):
            if "meta.yaml" not in names:
                continue
            meta = open(os.path.join(dirpath, "meta.yaml")).read()
            folder = os.path.basename(dirpath)
            run = re.search(r"(?m)^run_name: (.*)$", meta)
            exp = re.search(r"(?m)^name: (.*)$", meta)
            if run:
                self.seen[folder] = f"<run {run.group(1)}>"
            elif exp:
                self.seen[folder] = f"<experiment {exp.group(1)}>"
        return self

    def text(self, s):
        s = s.replace(self.root, "<root>")
        def name(m):
            return self.seen.setdefault(m.group(0), f"<id{len(self.seen)}>")
        s = RUN_ID.sub(name, s)
        s = EXP_ID.sub(name, s)
        return TIME.sub("T", s)

    def value(self, v):
        if isinstance(v, str):
            return self.text(v)
        if isinstance(v, bool) or v is None:
            return v
        if isinstance(v, int):
            return "T" if v > 10**12 else v
        if isinstance(v, float):
            return "nan" if math.isnan(v) else v
        if isinstance(v, dict):
            return {self.value(k): self.value(x) for k, x in sorted(v.items(), key=lambda kv: str(kv[0]))}
        if isinstance(v, (list, tuple)):
            return [self.value(x) for x in v]
        if hasattr(v, "to_dictionary"):
            return self.value(v.to_dictionary())
        if hasattr(v, "__iter__") and hasattr(v, "_properties"):
            return self.value(dict(v))
        if isinstance(v, BaseException):
            return ("raises", type(v).__name__, getattr(v, "error_code", None))
        return self.value(repr(v))


def outcome(call):
    try:
        return call()
    except MlflowException as e:
        return e
    except Exception as e:  # MLflow raises plain exceptions in places too; compared by type
        return e


def run_both(tmp_path, scenario):
    """(our results, FileStore's results, our root, FileStore's root)."""
    results = {}
    for scheme in ("mlruns", "file"):
        root = tmp_path / scheme
        uri = f"{scheme}://{root}"
        client = MlflowClient(tracking_uri=uri)
        if scheme == "mlruns":
            assert isinstance(client._tracking_client.store, mlruns.mlflow_plugin.MlrunsStore)
        mlflow.set_tracking_uri(uri)
        try:
            results[scheme] = scenario(client)
        finally:
            while mlflow.active_run():
                mlflow.end_run()
            mlflow.set_tracking_uri(None)
    return results["mlruns"], results["file"], tmp_path / "mlruns", tmp_path / "file"


def tree_files(root, ids):
    """Every file of a tree: path and bytes with ids and times normalized (the run's
    system tags hold paths that differ and are left out)."""
    files = {}
    for dirpath, _dirs, names in os.walk(root):
        for n in names:
            path = os.path.join(dirpath, n)
            if os.path.relpath(path, root).startswith(".mlruns-"):
                continue  # mlruns' own bookkeeping (names claimed across processes), not MLflow's layout
            rel = ids.text(os.path.relpath(path, root))
            with open(path, "rb") as f:
                data = f.read().decode("utf-8", "replace")
            if n == "meta.yaml":
                # mlruns writes run_uuid as MLflow up to 2.x does, for readers down to 1.30 (spec
                # §13.1); MLflow 3.x left it out. Compared without it.
                data = re.sub(r"(?m)^run_uuid: .*\n", "", data)
                # MLflow 3.11 adds these two experiment fields; mlruns writes the canonical
                # 2.x layout every version reads (spec §13.1). Compared without them.
                data = re.sub(r"(?m)^(trace_location: null|workspace: default)\n", "", data)
            files[rel] = ids.text(data)
    return files


def compare(tmp_path, scenario, trees=True):
    ours, theirs, our_root, their_root = run_both(tmp_path, scenario)
    ids_a, ids_b = Ids(our_root).seed(), Ids(their_root).seed()
    assert ids_a.value(ours) == ids_b.value(theirs)
    if trees:
        a, b = tree_files(our_root, ids_a), tree_files(their_root, ids_b)
        assert sorted(set(a) - set(b)) == [] and sorted(set(b) - set(a)) == []
        for path in a:
            assert a[path] == b[path], path
    return ours


def test_experiments(tmp_path):
    def scenario(c):
        out = []
        c.get_experiment("0")  # the Default experiment exists
        time.sleep(0.01)
        e1 = c.create_experiment("alpha", tags={"team": "rl"})
        time.sleep(0.01)  # distinct creation times: the default order is creation_time DESC
        e2 = c.create_experiment("beta")
        out.append(outcome(lambda: c.create_experiment("alpha")))
        out.append(c.get_experiment(e1))
        out.append(c.get_experiment_by_name("beta").experiment_id == e2)
        out.append(c.get_experiment_by_name("nope"))
        out.append(outcome(lambda: c.get_experiment("12345")))
        c.rename_experiment(e2, "gamma")
        out.append(outcome(lambda: c.rename_experiment(e1, "gamma")))
        c.set_experiment_tag(e1, "k", 3)
        if hasattr(c, "delete_experiment_tag"):  # MLflow >= 2.11
            out.append(outcome(lambda: c.delete_experiment_tag(e1, "missing")))
            c.delete_experiment_tag(e1, "team")
        c.delete_experiment(e2)
        out.append(outcome(lambda: c.delete_experiment(e2)))
        out.append(outcome(lambda: c.delete_experiment("0")))
        if MLFLOW_MAJOR >= 3:
            # MLflow 2.x's FileStore takes the name of a deleted experiment again (two
            # experiments, one name); mlruns refuses it as 3.x does (test below).
            out.append(outcome(lambda: c.create_experiment("gamma")))
        out.append([e.name for e in c.search_experiments(view_type=ViewType.ALL)])
        out.append([e.name for e in c.search_experiments(filter_string="name LIKE 'a%'")])
        page = c.search_experiments(max_results=1, order_by=["name ASC"])
        out.append(([e.name for e in page], page.token is not None))
        out.append([e.name for e in c.search_experiments(max_results=1, order_by=["name ASC"],
                                                          page_token=page.token)])
        out.append(outcome(lambda: c.search_experiments(max_results=0)))
        c.restore_experiment(e2)
        out.append(c.get_experiment(e2).lifecycle_stage)
        return out

    compare(tmp_path, scenario, trees=False)  # experiment meta.yaml times differ; runs' trees are below


def test_relative_artifact_location(tmp_path, monkeypatch):
    """FileStore.create_experiment resolves a relative location against the current
    directory (resolve_uri_if_local, mlflow/utils/uri.py); so does the plugin."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    locations = [("plain", "rel/x/../y/"), ("dotted", "./z//w"), ("uri", "file:rel2"), ("absolute", "/abs/p")]

    def scenario(c):
        return [c.get_experiment(c.create_experiment(name, artifact_location=loc)).artifact_location
                for name, loc in locations]

    ours = compare(tmp_path, scenario, trees=False)
    assert ours[0] == os.path.realpath(cwd) + "/rel/x/../y"


def test_default_artifact_root(tmp_path, monkeypatch):
    """The store's artifact_uri (``mlflow server --default-artifact-root``) gives new
    experiments <artifact_uri>/<id>, as FileStore(root, artifact_root_uri) does."""
    from mlflow.store.tracking.file_store import FileStore
    from mlflow.tracking._tracking_service.utils import _get_store

    monkeypatch.chdir(tmp_path)
    for artifact_uri in ("s3://bucket/base", "art", str(tmp_path / "abs") + "/"):
        ours = _get_store(f"mlruns://{tmp_path / ('m-' + str(abs(hash(artifact_uri))))}", artifact_uri)
        assert isinstance(ours, mlruns.mlflow_plugin.MlrunsStore)
        theirs = FileStore(str(tmp_path / ("f-" + str(abs(hash(artifact_uri))))), artifact_uri)
        got = []
        for store in (ours, theirs):
            exp = store.create_experiment("e")
            got.append((store.get_experiment("0").artifact_location.replace("/0", "/<id>"),
                        store.get_experiment(exp).artifact_location.replace(exp, "<id>")))
        assert got[0] == got[1], artifact_uri


def test_runs_params_metrics_tags(tmp_path):
    def scenario(c):
        out = []
        exp = c.create_experiment("runs")
        run = c.create_run(exp, run_name="r1", tags={"mlflow.user": "alice", "k": "v"}, start_time=1700000000000)
        rid = run.info.run_id
        out.append(run)
        c.log_param(rid, "int", 1)
        c.log_param(rid, "float", 0.1)
        c.log_param(rid, "bool", True)
        c.log_param(rid, "text", "hello world")
        out.append(outcome(lambda: c.log_param(rid, "int", 2)))
        out.append(outcome(lambda: c.log_param(rid, "bad/../key", 1)))
        for step in range(5):
            c.log_metric(rid, "loss", 1.0 / (step + 1), step=step, timestamp=1700000000000 + step)
        c.log_metric(rid, "acc", 7, timestamp=1700000000100)
        c.log_metric(rid, "weird", float("nan"), timestamp=1700000000100)
        c.log_metric(rid, "big", float("inf"), timestamp=1700000000100, step=2)
        out.append(outcome(lambda: c.log_metric(rid, "bool", True)))
        out.append(outcome(lambda: c.log_metric(rid, "str", "x")))
        c.log_batch(rid, metrics=[Metric("b", 0.5, 1700000000200, 3)], params=[Param("bp", "1")],
                    tags=[RunTag("bt", "x")])
        out.append(outcome(lambda: c.log_batch(rid, params=[Param("p", "1"), Param("p", "2")])))
        # distinct points: mlruns does not write a point identical to the one before it in its
        # series (src/write/metric_buffer.h: MLflow's migrate-filestore refuses such twins)
        out.append(outcome(lambda: c.log_batch(rid, metrics=[Metric("m", float(i), 1, i) for i in range(1001)])))
        c.set_tag(rid, "mlflow.runName", "renamed")
        c.set_tag(rid, "gone", "x")
        c.delete_tag(rid, "gone")
        out.append(outcome(lambda: c.delete_tag(rid, "gone")))
        out.append([(m.value, m.step) for m in c.get_metric_history(rid, "loss")])
        out.append(c.get_metric_history(rid, "never"))
        c.set_terminated(rid, "FAILED", end_time=1700000001000)
        out.append(c.get_run(rid))
        out.append(outcome(lambda: c.get_run("0123456789abcdef0123456789abcdef")))
        out.append(outcome(lambda: c.log_metric("0123456789abcdef0123456789abcdef", "x", 1.0)))
        c.delete_run(rid)
        out.append(outcome(lambda: c.log_param(rid, "late", 1)))
        out.append(c.get_run(rid).info.lifecycle_stage)
        c.restore_run(rid)
        out.append(c.get_run(rid).info.lifecycle_stage)
        return out

    compare(tmp_path, scenario)


def test_search_runs(tmp_path):
    def scenario(c):
        exp = c.create_experiment("search")
        for i in range(7):
            r = c.create_run(exp, run_name=f"t{i}", start_time=1700000000000 + i)
            c.log_param(r.info.run_id, "lr", 10.0 ** -i)
            c.log_metric(r.info.run_id, "reward", float(i % 4), step=1, timestamp=1700000000000)
            if i % 3:
                c.set_terminated(r.info.run_id, "FINISHED", end_time=1700000000500)
        out = []
        for kwargs in [
            {},
            {"filter_string": "metrics.reward >= 2"},
            {"filter_string": "params.lr = '0.01' or attributes.status = 'FINISHED'".replace(" or ", " and ")},
            {"order_by": ["metrics.reward DESC"]},
            {"order_by": ["params.lr ASC", "attributes.run_name DESC"]},
            {"filter_string": "tags.mlflow.runName LIKE 't%'", "max_results": 3},
            {"run_view_type": ViewType.ALL, "filter_string": "attribute.run_name IN ('t1', 't2')"},
        ]:
            page = outcome(lambda: c.search_runs([exp], **kwargs))
            out.append(([r.info.run_name for r in page], page.token) if isinstance(page, list) else page)
        page = c.search_runs([exp], max_results=4, order_by=["metrics.reward ASC"])
        rest = c.search_runs([exp], max_results=4, order_by=["metrics.reward ASC"], page_token=page.token)
        out.append(([r.info.run_name for r in page], [r.info.run_name for r in rest], rest.token))
        out.append(outcome(lambda: c.search_runs([exp], filter_string="metrics.reward >>> 1")))
        out.append(outcome(lambda: c.search_runs([exp], max_results=50001)))
        return out

    compare(tmp_path, scenario)


def test_fluent_workflow_with_artifacts(tmp_path):
    """What training scripts do: set_experiment, nested start_run, log_params/log_metrics per step,
    tags, log_text and log_artifact (artifacts go through MLflow's LocalArtifactRepository)."""
    src = tmp_path / "model.txt"
    src.write_text("weights")

    def scenario(c):
        mlflow.set_experiment("fluent")
        with mlflow.start_run(run_name="parent") as parent:
            mlflow.log_params({"lr": 3e-4, "layers": 4, "flag": False})
            with mlflow.start_run(run_name="child", nested=True):
                for epoch in range(3):
                    mlflow.log_metrics({"loss": 1.0 / (epoch + 1), "acc": epoch * 0.25}, step=epoch)
                mlflow.set_tags({"stage": "train", "mlflow.note.content": "a note"})
                mlflow.log_text("hello", "notes/readme.txt")
                mlflow.log_artifact(str(src), "ckpt")
        exp = mlflow.get_experiment_by_name("fluent").experiment_id
        runs = c.search_runs([exp], order_by=["attributes.run_name ASC"])
        out = []
        for r in runs:
            tags = {k: v for k, v in r.data.tags.items() if not k.startswith("mlflow.source")}
            out.append((r.info.run_name, r.info.status, r.data.params, r.data.metrics, tags))
            out.append([(a.path, a.is_dir, a.file_size) for a in c.list_artifacts(r.info.run_id)])
        out.append(c.get_parent_run(runs[0].info.run_id).info.run_name if hasattr(c, "get_parent_run") else None)
        return out

    ours = compare(tmp_path, scenario, trees=False)
    assert ours[0][0] == "child" and ours[0][1] == "FINISHED"


def test_the_name_of_a_deleted_experiment_stays_taken(tmp_path):
    """As MLflow 3.x's FileStore (file_store.py: _validate_experiment_does_not_exist over all
    experiments), whatever the MLflow: a name names one experiment."""
    c = MlflowClient(tracking_uri=f"mlruns://{tmp_path / 't'}")
    c.delete_experiment(c.create_experiment("gone"))
    with pytest.raises(MlflowException) as info:
        c.create_experiment("gone")
    assert info.value.error_code == "RESOURCE_ALREADY_EXISTS" and "gone" in str(info.value)


def test_unsupported_calls_raise_not_implemented(tmp_path):
    store = mlruns.mlflow_plugin.MlrunsStore(f"mlruns://{tmp_path / 't'}")
    for name in ("start_trace", "get_trace_info"):
        if hasattr(store, name):
            with pytest.raises(MlflowException) as info:
                getattr(store, name)("x")
            assert info.value.error_code == "NOT_IMPLEMENTED" and name in str(info.value)
    if hasattr(store, "search_logged_models"):
        assert list(store.search_logged_models(experiment_ids=["0"])) == []


def test_dataset_inputs_and_the_registry(tmp_path):
    """mlflow.log_input and the model registry work on mlruns: URIs (both written by MLflow's
    own file-store code over the tree), and the UI's dataset filter lists the dataset."""
    pd = pytest.importorskip("pandas", reason="pandas is not installed: mlflow.data needs it")
    uri = f"mlruns://{tmp_path / 't'}"
    mlflow.set_tracking_uri(uri)
    try:
        mlflow.set_experiment("inputs")
        dataset = mlflow.data.from_pandas(pd.DataFrame({"x": [1, 2]}), name="toy")
        with mlflow.start_run() as run:
            mlflow.log_input(dataset, context="training")
        store = MlflowClient(uri)._tracking_client.store
        got = store.get_run(run.info.run_id).inputs.dataset_inputs
        assert [(d.dataset.name, d.tags[0].value) for d in got] == [("toy", "training")]
        summaries = store._search_datasets([run.info.experiment_id])
        assert [(s.name, s.context) for s in summaries] == [("toy", "training")]
        client = MlflowClient(uri)
        client.create_registered_model("reg")
        assert [m.name for m in client.search_registered_models()] == ["reg"]
    finally:
        mlflow.set_tracking_uri(None)


def test_update_run_info_keeps_what_it_is_not_given(tmp_path):
    """The server's runs/update passes None for status or end_time it did not get
    (mlflow/server/handlers.py _update_run); FileStore keeps the stored values."""
    store = mlruns.mlflow_plugin.MlrunsStore(f"mlruns://{tmp_path / 't'}")
    run = store.create_run("0", "u", 1700000000000, [], "r")
    info = store.update_run_info(run.info.run_id, None, None, "renamed")
    assert (info.status, info.end_time, info.run_name) == ("RUNNING", None, "renamed")
    info = store.update_run_info(run.info.run_id, "FINISHED", 1700000000500, None)
    assert (info.status, info.end_time, info.run_name) == ("FINISHED", 1700000000500, "renamed")
    assert store.get_run(run.info.run_id).data.tags["mlflow.runName"] == "renamed"


def test_log_batch_takes_numbers_as_file_store_does(tmp_path):
    """The plugin hands MLflow's Metric objects to C++ as they are (float(value),
    int(timestamp), int(step or 0) are taken there): numpy scalars, negative steps and bad
    values behave as in FileStore. (An int value is left out: MLflow 2.x's FileStore writes
    it as "3", 3.x and mlruns as "3.0", spec §5.1.)"""
    np = pytest.importorskip("numpy")

    def scenario(c):
        exp = c.create_experiment("numbers")
        rid = c.create_run(exp, run_name="n").info.run_id
        out = []
        c.log_batch(rid, metrics=[Metric("np", np.float64(0.25), 1700000000001, 1),
                                  Metric("np32", np.float32(0.1), np.int64(1700000000002), np.int64(2)),
                                  Metric("neg", -1e-300, 1700000000004, -5)])
        out.append(outcome(lambda: c.log_batch(rid, metrics=[Metric("bad", "x", 1700000000005, 0)])))
        out.append(outcome(lambda: c.log_batch(rid, metrics=[Metric("flag", True, 1700000000006, 0)])))
        c.log_metric(rid, "one", np.float64(2.5), step=np.int64(3), timestamp=1700000000007)
        out.append(c.get_run(rid))
        return out

    compare(tmp_path, scenario)


def test_log_batch_metrics_checked_in_cpp_raise_mlflows_own_exceptions(tmp_path):
    """log_batch and log_metric check metrics in C++ (_mlruns' plainly_valid_metric) and
    call MLflow's validators (mlflow/utils/validation.py) only for what C++ doubts: every
    refusal is MLflow's own, same type, code and message, and in FileStore's order (a bad
    metric before a bad param, the data before the batch limits, file_store.py log_batch);
    what MLflow accepts beyond the plain rules (a ':' in a key on 3.x, non-ASCII) is written."""
    bad_metrics = [Metric("a//b", 1.0, 1700000000001, 0), Metric("./a", 1.0, 1700000000001, 0),
                   Metric("a/", 1.0, 1700000000001, 0), Metric("/a", 1.0, 1700000000001, 0),
                   Metric("..a", 1.0, 1700000000001, 0), Metric("a/../b", 1.0, 1700000000001, 0),
                   Metric("", 1.0, 1700000000001, 0), Metric("x" * 251, 1.0, 1700000000001, 0),
                   Metric("a\tb", 1.0, 1700000000001, 0), Metric("none", None, 1700000000001, 0),
                   Metric("text", "x", 1700000000001, 0), Metric("flag", True, 1700000000001, 0),
                   Metric("early", 1.0, -1, 0), Metric("nostep", 1.0, 1700000000001, None)]
    maybe_metrics = [Metric("a:b", 1.0, 1700000000001, 0), Metric("caf\u00e9", 1.0, 1700000000001, 0),
                     Metric("x" * 250, 1.0, 1700000000001, 0), Metric("nan", float("nan"), 1700000000001, 0),
                     Metric("sp ace/x.y-z_1", -0.5, 1700000000001, -2)]
    # (An int value is left out: MLflow 2.x's FileStore writes it as "3", 3.x through
    # MlflowClient and mlruns as "3.0", spec §5.1.)

    def at_step(m, j):
        """m at another step: the three calls below log three points, not metric twins (§5.1)."""
        return Metric(m.key, m.value, m.timestamp, m.step + j if type(m.step) is int else m.step)

    def scenario(c):
        exp = c.create_experiment("checked")
        rid = c.create_run(exp, run_name="c").info.run_id
        store = c._tracking_client.store
        out = []

        def record(call):
            r = outcome(call)
            out.append(r)
            if isinstance(r, BaseException):
                out.append(str(r))

        for i, m in enumerate(bad_metrics + maybe_metrics):
            record(lambda: c.log_batch(rid, metrics=[Metric("ok", 0.5, 1700000000002, i), m]))
            record(lambda: store.log_batch(rid, [at_step(m, 1)], [], []))
            record(lambda: store.log_metric(rid, at_step(m, 2)))
        # a bad metric is reported before a bad param, a bad param with plain metrics is the param's
        record(lambda: store.log_batch(rid, [Metric("a//b", 1.0, 1, 0)], [Param("p//q", "v")], []))
        record(lambda: store.log_batch(rid, [Metric("fine", 1.0, 1, 0)], [Param("p//q", "v")], []))
        record(lambda: store.log_batch(rid, [Metric("fine", 1.0, 1, 0)], [], [RunTag("", "v")]))
        # the data before the limits, the limits before unique keys
        many = [Metric(f"k{i}", 1.0, 1, 0) for i in range(1001)]
        record(lambda: store.log_batch(rid, many, [], []))
        record(lambda: store.log_batch(rid, many[:-1] + [Metric("a//b", 1.0, 1, 0)] * 2, [], []))
        record(lambda: store.log_batch(rid, [Metric("fine", 1.0, 1, 0)], [Param("d", "1"), Param("d", "2")], []))
        out.append(c.get_run(rid))
        return out

    compare(tmp_path, scenario)


def test_search_runs_returns_whole_runs_as_file_store_does(tmp_path):
    """search_runs' entities (made in C++, mlflow_plugin._ENTITIES) against FileStore's."""
    def scenario(c):
        exp = c.create_experiment("whole")
        for i in range(4):
            rid = c.create_run(exp, run_name=f"w{i}", start_time=1700000000000 + i, tags={"k": str(i)}).info.run_id
            c.log_batch(rid, metrics=[Metric(f"m{k}", k * 0.25 + i, 1700000000000 + k, k) for k in range(3)],
                        params=[Param("lr", str(10.0 ** -i))], tags=[RunTag("t", "x")])
            if i % 2:
                c.set_terminated(rid, "FINISHED", end_time=1700000000500)
        c.delete_run(rid)
        return [list(c.search_runs([exp], order_by=["attributes.run_name ASC"], run_view_type=view))
                for view in (ViewType.ACTIVE_ONLY, ViewType.ALL)]

    compare(tmp_path, scenario)


def test_entities_made_in_cpp_are_the_ones_their_init_makes(tmp_path):
    """The fast path is on with this MLflow, and makes the objects __init__ makes: same
    types, same attributes in the same order, same protos (mlflow_plugin._same_entity)."""
    plugin = mlruns.mlflow_plugin
    store = plugin.MlrunsStore(f"mlruns://{tmp_path}")
    assert store._entities is not None
    exp = store.create_experiment("fast", None, [])
    for i in range(3):
        run = store.create_run(exp, "u", 1700000000000 + i, [RunTag("k", f"v{i}")], f"r{i}")
        rid = run.info.run_id
        store.log_batch(rid, [Metric("a", 0.5 * i, 1700000000001, i), Metric("b/c", float("inf"), 5, -1)],
                        [Param("p", str(i))], [])
        if i == 1:
            store.update_run_info(rid, "FAILED", 1700000000900, None)
    runs, _ = mlruns._mlruns.search_runs(store._reader, [exp], "", [], "ALL", 100, "")
    fast = mlruns._mlruns.mlflow_runs(store._entities, runs)
    slow = [plugin._run(r) for r in runs]
    assert len(fast) == len(slow) == 3
    for f, s in zip(fast, slow):
        assert plugin._same_entity(f, s)
        assert f.to_proto() == s.to_proto()
        assert f.data.metrics == s.data.metrics and f.data.params == s.data.params and f.data.tags == s.data.tags
        assert f.info == s.info
    assert plugin._fast_entities(store._entities, mlruns._mlruns.sample_runs())


def test_an_init_that_does_more_than_store_its_arguments_keeps_the_init_path():
    """_recipe declines a class whose __init__ converts or adds values; _fast_entities
    declines recipes whose objects differ from __init__'s."""
    plugin = mlruns.mlflow_plugin

    class Converts:
        def __init__(self, key, value):
            self._key = str(key)
            self._value = value

    class Adds:
        def __init__(self, key, value):
            self._key, self._value, self._extra = key, value, 1

    class Stores:
        def __init__(self, key, value):
            self._key, self._value = key, value

    assert plugin._recipe(Converts, 2) is None
    assert plugin._recipe(Adds, 2) is None
    assert plugin._recipe(Stores, 2) == [("_key", 0), ("_value", 1)]
    wrong = mlruns._mlruns.MlflowEntities(Metric, [("_key", 1), ("_value", 0)],  # swapped on purpose
                                          *plugin._ENTITIES_ARGS[2:])
    assert not plugin._fast_entities(wrong, mlruns._mlruns.sample_runs())


def _plugin_run(tmp_path):
    uri = f"mlruns://{tmp_path / 't'}"
    c = MlflowClient(tracking_uri=uri)
    run = c.create_run("0")
    c.log_metric(run.info.run_id, "loss", 1.0, step=0)
    # No artifact logged here: MLflow caches a run's artifact repository per process (by run id).
    os.makedirs(os.path.join(str(tmp_path / "t"), "0", run.info.run_id, "artifacts"), exist_ok=True)
    return c, str(tmp_path / "t"), run.info.run_id


@pytest.mark.parametrize("attack", ["uri_outside", "uri_through_link", "artifacts_is_link"])
def test_mlflow_never_writes_artifacts_outside_the_tree(tmp_path, attack):
    """Issue 15: MLflow's client writes artifacts where store.get_run(id).info.artifact_uri
    names (get_artifact_repository, LocalArtifactRepository follows links); the plugin hands
    it only what mlruns' artifact-folder rule allows (format/artifact_dir.h), else a URI
    MLflow has no repository for, so log_artifact refuses and nothing outside changes."""
    c, root, rid = _plugin_run(tmp_path)
    victim = tmp_path / "victim"
    (victim / rid / "artifacts").mkdir(parents=True)
    (victim / "artifacts").mkdir()
    own = os.path.join(root, "0", rid, "artifacts")
    meta = os.path.join(root, "0", rid, "meta.yaml")

    def set_uri(uri):
        text = open(meta).read()
        open(meta, "w").write(re.sub(r"(?m)^artifact_uri: .*$", f"artifact_uri: {uri}", text))

    if attack == "uri_outside":
        set_uri(f"file://{victim}/artifacts")
    elif attack == "uri_through_link":
        os.symlink(str(victim), os.path.join(root, "lnk"))
        set_uri(f"file://{root}/lnk/{rid}/artifacts")
    else:
        shutil.rmtree(own)
        os.symlink(str(victim / "artifacts"), own)
    src = tmp_path / "pa.txt"
    src.write_text("planted")
    got = c.get_run(rid).info.artifact_uri
    if attack != "artifacts_is_link":
        assert got == "file://" + own  # the run's own folder, as mlruns' Reader falls back
        c.log_artifact(rid, str(src))
        assert os.path.exists(os.path.join(own, "pa.txt"))
    else:
        assert got.startswith(mlruns.REFUSED_ARTIFACT_SCHEME + ":")
        with pytest.raises(MlflowException, match="Could not find a registered artifact repository"):
            c.log_artifact(rid, str(src))
        with pytest.raises(MlflowException, match="Could not find a registered artifact repository"):
            c.list_artifacts(rid)
    assert [p for p, _d, f in os.walk(victim) if f] == []  # nothing written outside
    assert c.search_runs(["0"])[0].info.artifact_uri == got


def test_a_metric_file_that_is_a_link_is_refused_with_the_rule(tmp_path):
    """Issue 15: the error names the file and the rule, with INVALID_PARAMETER_VALUE (the
    plugin's code for an invalid argument), not "Changing param values is not allowed"."""
    c, root, rid = _plugin_run(tmp_path)
    outside = tmp_path / "loss"
    outside.write_text("1 1.0 0\n")
    metric = os.path.join(root, "0", rid, "metrics", "loss")
    os.remove(metric)
    os.symlink(str(outside), metric)
    with pytest.raises(MlflowException, match=r"metrics/loss' is a symbolic link; not followed") as e:
        c.log_metric(rid, "loss", 2.0, step=1)
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "param" not in str(e.value)
    assert outside.read_text() == "1 1.0 0\n"
# ---- MLflow 3.x LoggedModels (file_store.py: create_logged_model ... search_logged_models,
# log_outputs, _get_all_outputs; format spec §9.2) and the 2.x log-model history tag
# (file_store.py: record_logged_model, spec §8.3) -------------------------------------

needs_logged_models = pytest.mark.skipif(MLFLOW_MAJOR < 3, reason="MLflow < 3 has no LoggedModels")
MODEL_TIME = re.compile(r"\b20[0-9]{2}-[0-9]{2}-[0-9]{2}[ T][0-9:.]+\b")


def model_files(root, ids):
    """tree_files with the times MLmodel and the history tag write as dates made T."""
    return {path: MODEL_TIME.sub("T", data) for path, data in tree_files(root, ids).items()}


def compare_models(tmp_path, scenario):
    ours, theirs, our_root, their_root = run_both(tmp_path, scenario)
    ids_a, ids_b = Ids(our_root).seed(), Ids(their_root).seed()
    assert ids_a.value(ours) == ids_b.value(theirs)
    a, b = model_files(our_root, ids_a), model_files(their_root, ids_b)
    assert sorted(set(a) - set(b)) == [] and sorted(set(b) - set(a)) == []
    for path in a:
        assert a[path] == b[path], path
    return ours


@needs_logged_models
def test_logged_models_through_the_client(tmp_path):
    """Every LoggedModel call of MlflowClient, good and bad input: same results, errors, bytes."""
    from mlflow.entities import LoggedModelParameter, LoggedModelStatus, LoggedModelTag

    def scenario(c):
        exp = c.create_experiment("lm")
        out = []
        a = c.create_logged_model(exp, name="a", tags={"t": "1"}, params={"lr": "0.1"}, model_type="clf")
        b = c.create_logged_model(exp, name="b")
        out.append([a, b])
        out.append(outcome(lambda: c.create_logged_model("123", name="x")))        # no such experiment
        out.append(outcome(lambda: c.create_logged_model(exp, name="bad/name")))   # MLflow's name rule
        c.set_logged_model_tags(a.model_id, {"stage": "dev", "t": "2"})
        c.delete_logged_model_tag(a.model_id, "stage")
        out.append(outcome(lambda: c.delete_logged_model_tag(a.model_id, "stage")))  # gone already
        c.log_model_params(b.model_id, {"depth": "3"})
        out.append(c.finalize_logged_model(a.model_id, LoggedModelStatus.READY))
        out.append(c.get_logged_model(a.model_id))
        out.append(outcome(lambda: c.get_logged_model("m-" + "0" * 32)))
        out.append(list(c.search_logged_models([exp], order_by=[{"field_name": "name", "ascending": False}])))
        out.append(list(c.search_logged_models([exp], filter_string="name = 'a'")))
        page = c.search_logged_models([exp], max_results=1, order_by=[{"field_name": "name"}])
        out.append((list(page), list(c.search_logged_models([exp], max_results=1, page_token=page.token,
                                                             order_by=[{"field_name": "name"}]))))
        out.append(outcome(lambda: c.search_logged_models([exp], filter_string="name ~ 'a'")))
        c.delete_logged_model(b.model_id)
        out.append(outcome(lambda: c.get_logged_model(b.model_id)))
        out.append(list(c.search_logged_models([exp])))
        return out

    ours = compare_models(tmp_path, scenario)
    assert ours[0][0].name == "a" and ours[0][0].params == {"lr": "0.1"}


class _Identity(mlflow.pyfunc.PythonModel if hasattr(mlflow, "pyfunc") else object):
    def predict(self, context, model_input, params=None):
        return model_input


def test_pyfunc_log_model_load_and_register(tmp_path):
    """mlflow.pyfunc.log_model in a run, then load_model and register_model by the URI it
    returns (models:/m-... on 3.x, runs:/... on 2.x), and the run's outputs."""
    import mlflow.pyfunc

    def scenario(c):
        mlflow.set_experiment("pyfunc")
        with mlflow.start_run(run_name="train") as run:
            if MLFLOW_MAJOR >= 3:
                info = mlflow.pyfunc.log_model(name="model", python_model=_Identity(), pip_requirements=["x"])
            else:
                info = mlflow.pyfunc.log_model("model", python_model=_Identity(), pip_requirements=["x"])
            if MLFLOW_MAJOR >= 3:  # a metric of the model: FileStore also writes it under the model
                mlflow.log_metric("acc", 0.5, step=1, timestamp=1, model_id=info.model_id)
                mlflow.log_metrics({"f1": 0.25}, step=2, timestamp=2, model_id=info.model_id)
        out = [info.model_uri.split(":")[0], mlflow.pyfunc.load_model(info.model_uri).predict([1, 2])]
        got = c.get_run(run.info.run_id)
        found = c.search_runs([run.info.experiment_id])
        if MLFLOW_MAJOR >= 3:
            out.append([o.model_id for o in got.outputs.model_outputs] == [info.model_id])
            out.append([[o.model_id for o in r.outputs.model_outputs] for r in found])
            out.append(c.get_logged_model(info.model_id).status)
            out.append(c.get_logged_model(info.model_id).metrics)
            out.append(len(c.search_logged_models([run.info.experiment_id])))
        out.append(got.data.tags.get("mlflow.log-model.history") is not None)
        version = mlflow.register_model(info.model_uri, "reg")
        out.append((version.name, version.version))
        return out

    ours = compare_models(tmp_path, scenario)
    assert ours[1] == [1, 2] and ours[-1][0] == "reg" and str(ours[-1][1]) == "1"
    assert ours[-2] is (MLFLOW_MAJOR < 3)  # 3.x records the model as a LoggedModel, not in the tag
    if MLFLOW_MAJOR >= 3:
        assert ours[0] == "models" and ours[2] is True and str(ours[4]).endswith("READY") and ours[6] == 1
        assert sorted((m.key, m.value, m.step) for m in ours[5]) == [("acc", 0.5, 1), ("f1", 0.25, 2)]


def test_onnx_log_and_load(tmp_path):
    """mlflow.onnx.log_model / load_model where onnx and onnxruntime are importable (log_model
    needs onnxruntime)."""
    onnx = pytest.importorskip("onnx", reason="onnx is not importable: mlflow.onnx is skipped")
    pytest.importorskip("onnxruntime", reason="onnxruntime is not importable: mlflow.onnx.log_model needs it")
    import mlflow.onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    model = helper.make_model(graph)

    def scenario(c):
        mlflow.set_experiment("onnx")
        with mlflow.start_run(run_name="train"):
            info = (mlflow.onnx.log_model(model, name="model") if MLFLOW_MAJOR >= 3
                    else mlflow.onnx.log_model(model, "model"))
        return [mlflow.onnx.load_model(info.model_uri).graph.node[0].op_type]

    assert compare_models(tmp_path, scenario) == ["Identity"]


@needs_logged_models
def test_logged_models_where_mlflow_refuses_its_file_store(tmp_path, monkeypatch):
    """MLflow >= 3.10 refuses its FileStore without MLFLOW_ALLOW_FILE_STORE=true
    (file_store.py: FileStore.__init__); the LoggedModel calls then raise NOT_IMPLEMENTED
    naming the call and the variable, and the listing is empty (list_artifacts calls it)."""
    import mlflow.environment_variables as variables

    if not hasattr(variables, "MLFLOW_ALLOW_FILE_STORE"):
        pytest.skip("this MLflow (< 3.10) never refuses its FileStore")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "false")
    store = mlruns.mlflow_plugin.MlrunsStore(f"mlruns://{tmp_path / 't'}")
    with pytest.raises(MlflowException) as info:
        store.create_logged_model("0", name="m")
    assert info.value.error_code == "NOT_IMPLEMENTED"
    assert "create_logged_model" in str(info.value) and "MLFLOW_ALLOW_FILE_STORE" in str(info.value)
    assert list(store.search_logged_models(["0"])) == []


def _message(call):
    """The outcome of call, an exception as (type, error code, message): these tests check
    FileStore's words too."""
    result = outcome(call)
    if isinstance(result, BaseException):
        return (type(result).__name__, getattr(result, "error_code", None), str(result))
    return result


def test_errors_and_edge_values_as_mlflows_own_file_store_tests_expect(tmp_path):
    """Divergences found by running MLflow's tests/store/tracking/test_file_store.py against
    the plugin (docs/python.md): FileStore's messages for a missing experiment and a changed
    param (file_store.py: _get_experiment, _log_run_param), MissingConfigException for a
    missing meta.yaml (_read_yaml), an empty page for max_results=0 (SearchUtils.paginate),
    and run names from MLflow's generator (create_run: _generate_random_name)."""
    from mlflow.utils.name_utils import _GENERATOR_PREDICATES

    def scenario(c):
        root = c._tracking_client.store.root_directory
        exp = c.create_experiment("e")
        run = c.create_run(exp, run_name="r")
        c.log_param(run.info.run_id, "p", "1")
        named = c.create_run(exp).info.run_name
        bare = c.create_run(exp, run_name="bare").info.run_id
        os.remove(os.path.join(root, exp, bare, "meta.yaml"))
        gone = c.create_experiment("gone")
        os.remove(os.path.join(root, gone, "meta.yaml"))
        page = c.search_runs([exp], max_results=0)
        return [
            _message(lambda: c.get_experiment("123")),
            _message(lambda: c.log_param(run.info.run_id, "p", "2")),
            named.split("-")[0] in _GENERATOR_PREDICATES,
            (list(page), page.token is not None),
            _message(lambda: c.get_run(bare))[:2],  # FileStore's path names its own tree
            _message(lambda: c.get_experiment(gone))[:2],
            len(c.search_runs([exp], max_results=5)),
            _message(lambda: c.search_experiments(max_results=0)),
            _message(lambda: c.search_experiments(max_results=50001)),
        ]

    compare(tmp_path, scenario, trees=False)


def test_a_meta_yaml_planted_in_an_artifacts_folder_is_no_run(tmp_path):
    """An experiment whose artifact location is the tree root puts a run's artifacts in
    <root>/<run id>/artifacts; a meta.yaml written there must not make a run "artifacts"
    whose artifact_uri points anywhere (MLflow's file_store.py: _is_valid_run_directory,
    ZDI-CAN-26649; compared with FileStore where it has that check, 3.x)."""
    import yaml
    from mlflow.store.tracking.file_store import FileStore

    outside = tmp_path / "outside"
    outside.mkdir()

    def scenario(c):
        root = c._tracking_client.store.root_directory
        exp = c.create_experiment("planted", artifact_location=root)
        run_id = c.create_run(exp).info.run_id
        folder = os.path.join(root, run_id, "artifacts")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "meta.yaml"), "w") as f:
            yaml.safe_dump({
            "run_id": "artifacts", "run_uuid": "artifacts", "experiment_id": run_id, "user_id": "x",
            "status": 1, "start_time": 0, "end_time": None, "lifecycle_stage": "active",
                "artifact_uri": str(outside), "tags": []}, f)
        return [_message(lambda: c.get_run("artifacts")),
                [r.info.run_id for r in c.search_runs([run_id])]]

    ours, theirs, _a, _b = run_both(tmp_path, scenario)
    assert ours[0][:2] == ("MlflowException", "RESOURCE_DOES_NOT_EXIST")
    # FileStore's search_runs still lists the planted run when asked for the folder <run id>
    # as an experiment (3.8, 3.11); ours lists no run of a folder that is no experiment.
    assert ours[1] == []
    if hasattr(FileStore, "_is_valid_run_directory"):  # 3.x; 2.x's FileStore returns the run
        assert ours[0] == theirs[0]
