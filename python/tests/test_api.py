"""The package's own API: writing, reading, values as MLflow stores them, errors."""
import os
import shutil

import pytest

import mlruns
from conftest import metric_lines


def read(root, *parts):
    with open(os.path.join(root, *parts)) as f:
        return f.read()


def test_round_trip_through_the_reader(store, tree):
    exp = store.set_experiment("sweep")
    assert store.set_experiment("sweep") == exp  # get or create
    with store.start_run(exp, "trial-1", tags={"kind": "trial"}) as run:
        run.log_params({"lr": 3e-4, "layers": 4})
        for step in range(3):
            run.log_metric("loss", 1.0 / (step + 1), step=step)
        run.log_metrics({"acc": 0.5, "f1": 0.25}, step=2)
        run.set_tag("note", "first")
    reader = mlruns.Reader(tree)
    got = reader.get_run(run.run_id)
    assert got.info.status == "FINISHED" and got.info.run_name == "trial-1"
    assert got.info.end_time is not None and got.info.end_time >= got.info.start_time
    assert got.data.params == {"lr": "0.0003", "layers": "4"}
    assert got.data.metrics == {"loss": pytest.approx(1 / 3), "acc": 0.5, "f1": 0.25}
    assert got.data.metric_points["loss"].step == 2
    assert got.data.tags["kind"] == "trial" and got.data.tags["note"] == "first"
    assert got.data.tags["mlflow.runName"] == "trial-1"
    assert [m.value for m in reader.get_metric_history(run.run_id, "loss")] == [1.0, 0.5, pytest.approx(1 / 3)]
    assert reader.get_metric_history(run.run_id, "nope") == []
    assert reader.get_experiment_by_name("sweep").experiment_id == exp
    assert reader.get_experiment_by_name("none") is None


def test_values_are_stored_as_mlflow_stores_them(store, tree):
    """Params and tags are str(value) (spec §5.2); metric values repr(float) (spec §5.1, appendix A)."""
    with store.start_run() as run:
        run.log_param("flag", True)
        run.log_param("lr", 1e-05)
        run.log_param("n", 10)
        run.set_tag("ratio", 0.1)
        run.log_metric("m", 100)        # an int becomes 100.0, as MLflow's client writes it
        run.log_metric("m", 1e-05, step=1, timestamp=1700000000000)
        run.log_metric("m", float("nan"), step=2, timestamp=1700000000001)
    d = (run.experiment_id, run.run_id)
    assert read(tree, *d, "params", "flag") == "True"
    assert read(tree, *d, "params", "lr") == "1e-05"
    assert read(tree, *d, "params", "n") == "10"
    assert read(tree, *d, "tags", "ratio") == "0.1"
    lines = metric_lines(tree, *d, "m")
    assert lines[0].split(" ")[1:] == ["100.0", "0"]
    assert lines[1:] == ["1700000000000 1e-05 1", "1700000000001 nan 2"]


def test_numpy_scalars_when_numpy_is_there(store, tree):
    np = pytest.importorskip("numpy", reason="numpy is not installed; numpy scalars are not checked")
    with store.start_run() as run:
        run.log_metric("f32", np.float32(0.5), step=np.int64(3))
        run.log_param("p", np.float64(0.1))
        with pytest.raises(mlruns.InvalidArgumentError, match="bool is refused"):
            run.log_metric("b", np.bool_(True))
    assert metric_lines(tree, run.experiment_id, run.run_id, "f32")[0].split(" ")[1:] == ["0.5", "3"]
    assert read(tree, run.experiment_id, run.run_id, "params", "p") == "0.1"


@pytest.mark.parametrize("call, error, code, words", [
    (lambda r: r.log_param("../x", 1), mlruns.InvalidArgumentError, "invalid argument", ["'../x'", "spec §6.1"]),
    (lambda r: r.log_metric("loss", True), mlruns.InvalidArgumentError, "invalid argument", ["bool is refused"]),
    (lambda r: r.log_metric("loss", "0.5"), mlruns.InvalidArgumentError, "invalid argument", ["'0.5'", "number"]),
    (lambda r: r.log_metric("loss", 1.0, step=1.5), mlruns.InvalidArgumentError, "invalid argument", ["step 1.5"]),
    (lambda r: r.log_param("", "v"), mlruns.InvalidArgumentError, "invalid argument", ["param key"]),
    (lambda r: r.log_param(3, "v"), mlruns.InvalidArgumentError, "invalid argument", ["must be a str"]),
    (lambda r: r.delete_tag("never-set"), mlruns.NotFoundError, "not found", ["never-set"]),
    (lambda r: r.log_text("x", "/etc/passwd"), mlruns.InvalidArgumentError, "invalid argument", ["/etc/passwd"]),
])
def test_bad_input_raises_the_class_of_its_code(store, call, error, code, words):
    with store.start_run() as run:
        with pytest.raises(error) as info:
            call(run)
    assert isinstance(info.value, mlruns.MlrunsError)
    assert info.value.code == code
    for w in words:
        assert w in str(info.value)


def test_a_param_is_immutable_and_nothing_written_is_lost(store, tree):
    with store.start_run() as run:
        run.log_param("lr", 0.1)
        run.log_param("lr", 0.1)  # the same value again is fine
        with pytest.raises(mlruns.AlreadyExistsError) as info:
            run.log_param("lr", 0.2)
        assert info.value.code == "already exists" and "lr" in str(info.value)
    assert read(tree, run.experiment_id, run.run_id, "params", "lr") == "0.1"


def test_store_level_errors(store, tree):
    with pytest.raises(mlruns.NotFoundError):
        store.get_experiment("123456789")
    store.create_experiment("taken")
    with pytest.raises(mlruns.AlreadyExistsError):
        store.create_experiment("taken")
    with pytest.raises(mlruns.NotFoundError):
        store.log_batch("0123456789abcdef0123456789abcdef", [("m", 1.0)])
    with pytest.raises(mlruns.NotSupportedError, match="names a tracking server"):
        mlruns.Store("http://localhost:5000")
    with pytest.raises(mlruns.InvalidArgumentError, match="errors 'loud'"):
        mlruns.Store(tree, errors="loud")
    with pytest.raises(mlruns.NotFoundError):
        mlruns.Reader(tree + "-missing")


def test_count_mode_never_raises_from_logging(tree):
    store = mlruns.Store(tree, errors="count")
    with store.start_run() as run:
        run.log_param("../bad", 1)  # refused by the library: counted, no exception
        code, message = store.last_error
        assert code == "invalid argument" and "../bad" in message
        run.log_metric("flag", True)  # refused by the Python layer: counted the same way
        run.log_metric("ok", 1.0)
    assert store.failure_count == 2
    code, message = store.last_error
    assert code == "invalid argument" and "bool is refused" in message
    assert mlruns.Reader(tree).get_run(run.run_id).data.metrics == {"ok": 1.0}


def test_context_manager_ends_runs_as_mlflow_does(store, tree):
    with store.start_run() as ok_run:
        pass
    with pytest.raises(RuntimeError):
        with store.start_run() as failed_run:
            raise RuntimeError("diverged")
    with pytest.raises(KeyboardInterrupt):
        with store.start_run() as killed_run:
            raise KeyboardInterrupt
    reader = mlruns.Reader(tree)
    assert reader.get_run(ok_run.run_id).info.status == "FINISHED"
    assert reader.get_run(failed_run.run_id).info.status == "FAILED"
    assert reader.get_run(killed_run.run_id).info.status == "KILLED"


def test_nested_runs_and_by_id_calls(store, tree):
    exp = store.set_experiment("nested")
    with store.start_run(experiment_name="nested", run_name="parent") as parent:
        with parent.start_run("child") as child:
            child.log_metric("x", 1.0)
    assert parent.experiment_id == exp
    detached = store.start_run(exp, "detached")
    detached.detach()
    store.log_metric(detached.run_id, "y", 2.0, step=4)
    store.log_param(detached.run_id, "p", "v")
    store.set_tag(detached.run_id, "t", "v")
    reader = mlruns.Reader(tree)
    assert reader.get_run(detached.run_id).info.status == "RUNNING"
    store.set_terminated(detached.run_id, "FAILED", end_time=1700000000000)
    got = reader.get_run(detached.run_id)
    assert (got.info.status, got.info.end_time) == ("FAILED", 1700000000000)
    assert got.data.metric_points["y"].step == 4
    assert reader.get_run(child.run_id).data.tags["mlflow.parentRunId"] == parent.run_id
    store.delete_run(child.run_id)
    assert [r.info.run_id for r in reader.search_runs(exp, run_view_type="DELETED_ONLY")] == [child.run_id]
    store.restore_run(child.run_id)
    assert reader.get_run(child.run_id).info.lifecycle_stage == "active"


def test_search_filter_order_pages_and_top_run(store, tree):
    exp = store.set_experiment("rank")
    ids = {}
    for i, lr in enumerate([0.1, 0.01, 0.001, 0.0001]):
        with store.start_run(exp, f"lr-{lr}", start_time=1700000000000 + i) as run:
            run.log_param("lr", lr)
            run.log_metric("reward", 10.0 * (i + 1), step=1)
            run.log_metric("reward", 5.0 * (i + 1), step=2)  # the latest value is what MLflow ranks on
            ids[lr] = run.run_id
    reader = store.reader()
    page = reader.search_runs(exp, "metrics.reward > 7", order_by=["metrics.reward DESC"], max_results=2)
    assert [r.info.run_id for r in page] == [ids[0.0001], ids[0.001]]
    assert page.token is not None
    rest = reader.search_runs(exp, "metrics.reward > 7", order_by=["metrics.reward DESC"], max_results=2,
                              page_token=page.token)
    assert [r.info.run_id for r in rest] == [ids[0.01]] and rest.token is None
    assert [r.data.params["lr"] for r in reader.search_runs(experiment_names=["rank"], filter_string="params.lr = '0.1'")] == ["0.1"]
    with pytest.raises(mlruns.InvalidArgumentError, match="column"):
        reader.search_runs(exp, "metrics.reward >>> 1")
    top = reader.get_top_run(exp, "metrics.reward")
    assert top.run.info.run_id == ids[0.0001] and top.value == 20.0 and top.step == 2
    best = reader.get_top_run(exp, "reward", rank_by="best", ascending=True)
    assert best.run.info.run_id == ids[0.1] and best.value == 5.0
    assert "rank" in best.explanation[-1]
    assert reader.get_top_run(exp, "missing") is None


def test_artifacts_and_download(store, tree, tmp_path):
    ckpt = tmp_path / "checkpoint_000010"
    ckpt.mkdir()
    (ckpt / "model.pt").write_bytes(b"\x00weights" * 100)
    with store.start_run() as run:
        run.log_artifact(ckpt)  # a folder keeps its name, as in MLflow
        run.log_artifacts(ckpt, "copy")  # its contents
        run.log_text("hello", "notes/readme.txt")
        with pytest.raises(mlruns.AlreadyExistsError, match="model.pt"):
            run.log_artifact(ckpt / "model.pt", "checkpoint_000010")
        (ckpt / "model.pt").write_bytes(b"new")
        run.log_artifact(ckpt / "model.pt", "copy", overwrite=True)
    reader = mlruns.Reader(tree)
    entries = reader.list_artifacts(run.run_id)
    assert [(e.path, e.is_dir) for e in entries] == [("checkpoint_000010", True), ("copy", True), ("notes", True)]
    assert open(os.path.join(reader.artifact_root(run.run_id), "copy", "model.pt"), "rb").read() == b"new"
    assert [(e.path, e.file_size) for e in reader.list_artifacts(run.run_id, "checkpoint_000010")] == \
        [("checkpoint_000010/model.pt", 800)]
    local = reader.download_artifacts(run.run_id, "checkpoint_000010", tmp_path / "best")
    assert open(os.path.join(local, "model.pt"), "rb").read() == b"\x00weights" * 100
    # The message names Python's way to ask for a replacement (DownloadOptions::overwrite_hint).
    with pytest.raises(mlruns.AlreadyExistsError, match=r"is already there \(an earlier download\?\); "
                                                          r"pass overwrite=True to replace it"):
        reader.download_artifacts(run.run_id, "checkpoint_000010", tmp_path / "best")


def test_tracking_uri_forms(tmp_path, monkeypatch):
    root = tmp_path / "t"
    for uri in (str(root), "file://" + str(root), "mlruns://" + str(root)):
        assert mlruns.Store(uri).root == str(root)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "mlruns://" + str(tmp_path / "env"))
    assert mlruns.Store().root == str(tmp_path / "env")


def test_default_artifact_root(tmp_path, monkeypatch):
    """Store(artifact_uri=...) as MLflow's FileStore(root, artifact_root_uri): new experiments
    (Default included) get <artifact_uri>/<id>; a relative one is taken against the cwd."""
    s3 = mlruns.Store(tmp_path / "a", artifact_uri="s3://bucket/base")
    exp = s3.create_experiment("e")
    assert s3.get_experiment(exp).artifact_location == f"s3://bucket/base/{exp}"
    assert s3.get_experiment("0").artifact_location == "s3://bucket/base/0"
    monkeypatch.chdir(tmp_path)
    rel = mlruns.Store(tmp_path / "b", artifact_uri="art")
    assert rel.get_experiment("0").artifact_location == os.path.realpath(tmp_path) + "/art/0"
    assert mlruns.Store(tmp_path / "c").get_experiment("0").artifact_location == \
        "file://" + os.path.realpath(tmp_path / "c") + "/0"


def test_delete_tag_by_run_id(tmp_path):
    """Store.delete_tag: MLflow's FileStore.delete_tag semantics (file_store.py)."""
    store = mlruns.Store(tmp_path / "t")
    with store.start_run("0") as run:
        run.set_tag("k", "v")
    store.delete_tag(run.run_id, "k")
    assert "k" not in mlruns.Reader(store.root).get_run(run.run_id).data.tags
    with pytest.raises(mlruns.NotFoundError, match="'k'"):
        store.delete_tag(run.run_id, "k")
    run2 = store.start_run("0")
    run2.set_tag("kept", "1")
    run2.end()
    store.delete_run(run2.run_id)
    with pytest.raises(mlruns.FailedPreconditionError):
        store.delete_tag(run2.run_id, "kept")


def _set_artifact_uri(root, experiment_id, run_id, uri):
    meta = os.path.join(root, experiment_id, run_id, "meta.yaml")
    text = open(meta).read()
    lines = [f"artifact_uri: {uri}" if line.startswith("artifact_uri:") else line for line in text.splitlines()]
    open(meta, "w").write("\n".join(lines) + "\n")


def test_the_artifact_uri_handed_to_mlflow_never_leaves_the_tree(store, tree, tmp_path):
    """Issue 15: the plugin hands MLflow get_run().info.artifact_uri, and MLflow's
    LocalArtifactRepository writes wherever it names, through links. What it gets is what
    mlruns' artifact-folder rule allows (format/artifact_dir.h, docs/reading.md): the run's
    own folder, never an outside one or one reached through a link."""
    outside = tmp_path / "victim" / "artifacts"
    outside.mkdir(parents=True)
    with store.start_run() as run:
        run.log_text("x", "a.txt")
    store.flush()
    reader = mlruns.Reader(tree)
    root, exp, rid = reader.root, "0", run.run_id
    own = os.path.join(root, exp, rid, "artifacts")
    info = reader.get_run(rid).info
    check = lambda: mlruns._mlflow_artifact_uri(reader._reader, rid, exp, reader.get_run(rid).info.artifact_uri)
    assert check() == (info.artifact_uri, None)  # a good run's URI as stored
    # a. an outside URI not of the shape <location>/<run_id>/artifacts: the run's own folder
    _set_artifact_uri(root, exp, rid, f"file://{outside}")
    assert check() == ("file://" + own, None)
    _set_artifact_uri(root, exp, rid, f"file://{own}/../../{rid}/artifacts")  # '..': the folder itself
    assert check() == ("file://" + own, None)
    # b. a URI through a link in the tree: not followed, the run's own folder
    os.symlink(str(tmp_path / "victim"), os.path.join(root, "lnk"))
    os.makedirs(tmp_path / "victim" / rid / "artifacts")
    _set_artifact_uri(root, exp, rid, f"file://{root}/lnk/{rid}/artifacts")
    assert check() == ("file://" + own, None)
    # c. the run's artifacts folder is a link
    _set_artifact_uri(root, exp, rid, info.artifact_uri)
    shutil.rmtree(own)
    os.symlink(str(outside), own)
    uri, why = check()
    assert uri == f"{mlruns.REFUSED_ARTIFACT_SCHEME}:{info.artifact_uri}"
    assert f"{own!r} is a symbolic link; not followed" in why
    # Reader.get_run() shows meta.yaml as stored, as the C++ Reader does; artifact_root() is
    # the folder mlruns itself uses.
    assert reader.get_run(rid).info.artifact_uri == info.artifact_uri
    assert os.listdir(outside) == []


def test_an_outside_artifact_folder_mlflow_has_not_made_yet_is_handed_to_mlflow(store, tree, tmp_path):
    """An experiment whose artifact_location is outside the tree and not made yet (mlflow
    server --default-artifact-root /new/dir): MLflow's FileStore makes
    <location>/<run_id>/artifacts on the first log_artifact, so the plugin hands MLflow the
    stored URI, not the in-tree fallback the Reader reads from (mlflow/store/tracking/
    file_store.py create_run, _get_artifact_dir; format/artifact_dir.h's shape rule)."""
    location = tmp_path / "elsewhere" / "loc"  # does not exist
    exp = store.create_experiment("outside", artifact_location=f"file://{location}")
    with store.start_run(exp) as run:
        run.log_param("p", "1")
    store.flush()
    reader = mlruns.Reader(tree)
    rid = run.run_id
    stored = reader.get_run(rid).info.artifact_uri
    assert stored == f"file://{location}/{rid}/artifacts"
    check = lambda: mlruns._mlflow_artifact_uri(reader._reader, rid, exp, reader.get_run(rid).info.artifact_uri)
    assert check() == (stored, None)
    # <location>/<run_id> as a link, once made: refused, never followed
    location.mkdir(parents=True)
    victim = tmp_path / "victim"
    victim.mkdir()
    os.symlink(str(victim), str(location / rid))
    uri, why = check()
    assert uri == f"{mlruns.REFUSED_ARTIFACT_SCHEME}:{stored}"
    assert "is a symbolic link; not followed" in why
    os.remove(str(location / rid))
    # a moved tree: the location is gone and the artifacts are in the tree: those are used
    location.rmdir()
    own = os.path.join(reader.root, exp, rid, "artifacts")
    open(os.path.join(own, "a.txt"), "w").write("x")
    assert check() == ("file://" + own, None)
    assert os.listdir(victim) == []


def test_a_metric_file_that_is_a_link_is_refused_with_the_rule(store, tree, tmp_path):
    """Issue 15: a link in the tree is refused, and the error says so (the Reader's words)."""
    with store.start_run() as run:
        run.log_metric("loss", 1.0, step=0)
    store.flush()
    outside = tmp_path / "loss"
    outside.write_text("1 1.0 0\n")
    metric = os.path.join(tree, "0", run.run_id, "metrics", "loss")
    os.remove(metric)
    os.symlink(str(outside), metric)
    with pytest.raises(mlruns.InvalidArgumentError, match=r"metrics/loss' is a symbolic link; not followed"):
        store.log_metric(run.run_id, "loss", 2.0, step=1)
    assert outside.read_text() == "1 1.0 0\n"
