"""mlruns: write and read MLflow's file-store layout (``mlruns/``) fast and crash-safely.

A Pythonic layer over the C++ library (extension module ``mlruns._mlruns``)::

    import mlruns

    store = mlruns.Store("/scratch/me/mlruns")          # or MLFLOW_TRACKING_URI, else ./mlruns
    exp = store.set_experiment("ppo-cartpole")         # get or create; safe when 1000s of ranks race
    with store.start_run(exp, run_name="lr-3e-4") as run:   # FINISHED, FAILED on an exception
        run.log_params({"lr": 3e-4, "gamma": 0.99})
        for step in range(100):
            run.log_metric("reward", 1.5 * step, step=step)  # buffered: about a microsecond
        run.log_artifact("checkpoint_000100")

    best = mlruns.Reader("/scratch/me/mlruns").get_top_run(exp, "reward")

The same trees are written by MLflow's own code through the tracking-store
plugin: ``MLFLOW_TRACKING_URI=mlruns:///scratch/me/mlruns`` (mlruns.mlflow_plugin).

Values follow MLflow: params and tags are stored as ``str(value)`` (True ->
'True', 3e-4 -> '0.0003'); metric values must be numbers (bool refused) and
are written as Python's repr(float); times are milliseconds since the epoch;
steps are integers. Errors are :class:`MlrunsError` subclasses whose ``.code``
names the class and whose message names the value and the rule broken.

Every call that touches the file system releases the GIL.
"""
from __future__ import annotations

import numbers
import os
import stat
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

from . import _mlruns
from ._mlruns import (
    AlreadyExistsError,
    CorruptionError,
    FailedPreconditionError,
    InvalidArgumentError,
    MlrunsError,
    NotFoundError,
    NotSupportedError,
    StorageError,
)

__version__ = "0.1.0"

__all__ = [
    "Store", "ActiveRun", "Reader", "Experiment", "RunInfo", "RunData", "RunInputs", "Run", "Metric",
    "Dataset", "DatasetInput", "ArtifactEntry", "TopRun", "PagedList",
    "MlrunsError", "InvalidArgumentError", "NotFoundError", "AlreadyExistsError",
    "FailedPreconditionError", "CorruptionError", "StorageError", "NotSupportedError",
    "RUN_STATUSES", "VIEW_TYPES", "local_tracking_uri",
]

#: MLflow's RunStatus names.
RUN_STATUSES = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")
#: MLflow's ViewType names.
VIEW_TYPES = ("ACTIVE_ONLY", "DELETED_ONLY", "ALL")


def local_tracking_uri(tracking_uri: Optional[str]) -> str:
    """The tree a tracking URI names, as the C++ library takes it.

    ``None`` or ``""``: MLFLOW_TRACKING_URI, else ./mlruns (resolved by the
    library). A path, a ``file:`` URI and the plugin's ``mlruns:`` URI
    (``mlruns:///abs/path``, ``mlruns:rel/path``) name a local tree; server
    URIs (http:, databricks, sqlite:) raise NotSupportedError when opened.
    """
    if tracking_uri is None:
        return ""
    if not isinstance(tracking_uri, (str, os.PathLike)):
        raise InvalidArgumentError(
            f"tracking_uri {tracking_uri!r}: must be a str or a path, not {type(tracking_uri).__name__}")
    return os.fspath(tracking_uri)


# ---- values as MLflow takes them ----------------------------------------------

def _text(what: str, key: Any, value: Any) -> str:
    """A param or tag value as MLflow stores it: str(value) (spec §5.2)."""
    if isinstance(value, bytes):
        raise InvalidArgumentError(f"{what} '{key}': a value must be text or a number, not bytes")
    return str(value)


def _key(what: str, key: Any) -> str:
    if not isinstance(key, str):
        raise InvalidArgumentError(f"{what} {key!r}: a key must be a str, not {type(key).__name__}")
    return key


def _number(key: Any, value: Any) -> float:
    """A metric value: any number, numpy scalars included; bool (numpy's too) is
    refused, as MLflow's _validate_metric does (spec §6.4)."""
    is_bool = isinstance(value, bool) or (type(value).__name__ == "bool_" and type(value).__module__ == "numpy")
    if not is_bool and isinstance(value, numbers.Number):
        try:
            return float(value)
        except TypeError:
            pass
    raise InvalidArgumentError(
        f"metric '{key}' value {value!r}: must be a real number (int, float or a numpy scalar; "
        f"bool is refused, spec §6.4)")


def _int(what: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidArgumentError(f"{what} {value!r}: must be an integer, not {type(value).__name__}")
    return int(value)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _metric_points(metrics: Iterable[Any]) -> list:
    """(key, value, timestamp_ms, step) tuples from Metric objects, tuples or dicts."""
    points = []
    now = None
    for m in metrics:
        if isinstance(m, Mapping):
            key, value, ts, step = m["key"], m["value"], m.get("timestamp"), m.get("step", 0)
        elif isinstance(m, tuple):
            key, value = m[0], m[1]
            step = m[2] if len(m) > 2 else 0
            ts = m[3] if len(m) > 3 else None
        else:
            key, value, ts, step = m.key, m.value, getattr(m, "timestamp", None), getattr(m, "step", 0)
        if ts is None:
            now = now if now is not None else _now_ms()
            ts = now
        points.append((_key("metric key", key), _number(key, value), _int("timestamp", ts), _int("step", step or 0)))
    return points


def _text_map(what: str, values: Optional[Mapping[str, Any]]) -> dict:
    if not values:
        return {}
    if not isinstance(values, Mapping):
        raise InvalidArgumentError(f"{what}s {values!r}: must be a mapping of keys to values")
    return {_key(what + " key", k): _text(what, k, v) for k, v in values.items()}


def _run_tags(tags: Optional[Mapping[str, Any]], system_tags: bool) -> dict:
    """The caller's tags, plus mlflow.source.name as MLflow's Python client sets it:
    the main script, sys.argv[0], else "<console>" (spec §4.5)."""
    out = _text_map("tag", tags)
    if system_tags and "mlflow.source.name" not in out:
        out["mlflow.source.name"] = sys.argv[0] if sys.argv and sys.argv[0] else "<console>"
    return out


def _source_dir() -> str:
    """Where mlflow.source.git.commit comes from, as MLflow's Python client finds it: the
    repository holding the main script (sys.argv[0]); none for an interactive session."""
    main = sys.argv[0] if sys.argv else ""
    return os.path.dirname(os.path.abspath(main)) if main and os.path.isfile(main) else ""


# ---- what the reader returns: plain objects shaped as MLflow's entities --------

@dataclass(frozen=True)
class Experiment:
    """An experiment (MLflow's Experiment entity). Times in ms since the epoch, None if unknown."""
    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str  # "active" or "deleted"
    creation_time: Optional[int]
    last_update_time: Optional[int]
    tags: dict


@dataclass(frozen=True)
class RunInfo:
    """A run's meta.yaml (MLflow's RunInfo). Times in ms; end_time None while running."""
    run_id: str
    run_name: str
    experiment_id: str
    user_id: str
    status: str  # RUN_STATUSES
    start_time: int
    end_time: Optional[int]
    # As stored in meta.yaml (as the C++ Reader's RunInfo, `mlruns show`): a tree's author can
    # write any URI here. Use Reader.artifact_root() for the folder mlruns' rule allows
    # (docs/reading.md#artifact-location); the MLflow plugin hands MLflow only that folder.
    artifact_uri: str
    lifecycle_stage: str  # "active" or "deleted"

    @property
    def run_uuid(self) -> str:
        return self.run_id


@dataclass(frozen=True)
class Metric:
    """One logged point (MLflow's Metric): timestamp in ms, step an integer."""
    key: str
    value: float
    timestamp: int
    step: int


@dataclass(frozen=True)
class RunData:
    """A run's data as MLflow's RunData: metrics maps each key to its latest value
    (the point with the largest (step, timestamp, value), spec §5.1); metric_points
    has those points in full."""
    metrics: dict
    params: dict
    tags: dict
    metric_points: dict = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Dataset:
    """A dataset logged with mlflow.log_input; schema and profile are JSON text or None."""
    name: str
    digest: str
    source_type: str
    source: str
    schema: Optional[str]
    profile: Optional[str]


@dataclass(frozen=True)
class DatasetInput:
    dataset: Dataset
    tags: dict


@dataclass(frozen=True)
class RunInputs:
    dataset_inputs: list


@dataclass(frozen=True)
class Run:
    """A run as MLflow's Run entity: run.info, run.data, run.inputs."""
    info: RunInfo
    data: RunData
    inputs: RunInputs


@dataclass(frozen=True)
class ArtifactEntry:
    """An artifact below a run's root (MLflow's FileInfo): '/'-separated path; size in bytes, None for folders."""
    path: str
    is_dir: bool
    file_size: Optional[int]


@dataclass(frozen=True)
class TopRun:
    """The winner of get_top_run: the run, the value it was ranked on and that
    value's step, and the explanation `mlruns get-top-run` prints."""
    run: Run
    value: float
    step: int
    explanation: list


class PagedList(list):
    """A page of results, with ``token`` for the next page (None on the last), as MLflow's PagedList."""

    def __init__(self, items: Iterable[Any], token: Optional[str]):
        super().__init__(items)
        self.token = token


def _experiment(e: _mlruns.Experiment) -> Experiment:
    return Experiment(e.experiment_id, e.name, e.artifact_location, e.lifecycle_stage, e.creation_time,
                      e.last_update_time, dict(e.tags))


def _run_info(i: _mlruns.RunInfo) -> RunInfo:
    return RunInfo(i.run_id, i.run_name, i.experiment_id, i.user_id, i.status, i.start_time, i.end_time,
                   i.artifact_uri, i.lifecycle_stage)


def _metric(m: _mlruns.Metric) -> Metric:
    return Metric(m.key, m.value, m.timestamp, m.step)


#: The scheme of an artifact_uri the plugin hands MLflow for a run whose stored artifact_uri
#: fails mlruns' artifact-folder rule: MLflow has no artifact repository for it, so its
#: get_artifact_repository refuses ("Could not find a registered artifact repository") and
#: nothing is read or written through it.
REFUSED_ARTIFACT_SCHEME = "mlruns-refused"


def _local_path(uri: str) -> Optional[str]:
    """The local path of a path or file: URI as written (None for another scheme)."""
    if uri.startswith("file://"):
        path = uri[len("file://"):]
        if not path.startswith("/"):
            return None  # file://host/...: not a local path
    elif uri.startswith("file:"):
        path = uri[len("file:"):]
    elif ":" in uri.split("/", 1)[0]:
        return None  # s3:, mlflow-artifacts:, ...
    else:
        path = uri
    return path or None


def _link_below(base: str, path: str) -> Optional[str]:
    """The first component of `path` below `base` (both normalised, absolute) that is a
    symbolic link, or None; a missing component ends the walk (MLflow would create it)."""
    rel = os.path.relpath(path, base)
    cur = base
    for part in rel.split(os.sep):
        cur = os.path.join(cur, part)
        try:
            if stat.S_ISLNK(os.lstat(cur).st_mode):  # one lstat per component
                return cur
        except OSError:
            return None
    return None


def _outside_folder_not_made_yet(reader: _mlruns.Reader, run_id: str, experiment_id: str, path: str,
                                 fallback: str, root: str) -> bool:
    """Whether `path` (normalised) is <location>/<run_id>/artifacts outside the tree for the
    experiment's own artifact_location (the shape rule, format/artifact_dir.h) and the Reader
    fell back to the run's in-tree folder only because MLflow has not made it yet: MLflow's
    FileStore creates <location>/<run_id>/artifacts on the first log_artifact (os.makedirs),
    and so does mlruns' own Store.log_artifact. A moved tree's runs keep their in-tree
    artifacts (a non-empty in-tree folder), which are used as the Reader uses them."""
    if not (len(run_id) == 32 and all(c in "0123456789abcdef" for c in run_id)):
        return False  # uuid4().hex, as every writer makes it: no outside folder by a chosen id
    if os.path.basename(path) != "artifacts" or os.path.basename(os.path.dirname(path)) != run_id:
        return False
    location = os.path.dirname(os.path.dirname(path))
    if location == root or location.startswith(root + os.sep):
        return False  # inside the tree: the Reader's answer stands
    if fallback != os.path.join(root, experiment_id, run_id, "artifacts"):
        return False
    try:
        if os.listdir(fallback):
            return False  # artifacts in the tree already: a moved tree, read as the Reader does
    except OSError:
        pass
    try:
        stored = _local_path(reader.experiment(experiment_id).artifact_location)
    except MlrunsError:
        return False
    return stored is not None and os.path.normpath(stored) == location


def _mlflow_artifact_uri(reader: _mlruns.Reader, run_id: str, experiment_id: str, uri: str) -> tuple:
    """(artifact_uri to hand MLflow, None) for a run whose stored `uri` passes mlruns'
    artifact-folder rule (format/artifact_dir.h, docs/reading.md#artifact-location): a
    local folder that is the run's own (in the tree, or <location>/<run_id>/artifacts
    outside it) with no symbolic link at or below the tree root (outside: below
    <location>/<run_id>). The stored URI is kept as it is when it names that folder; a
    moved tree gets the folder the Reader falls back to (as file: URI). Otherwise
    ("mlruns-refused:<uri>", why): MLflow's LocalArtifactRepository follows links and
    takes any path, so a hostile tree's URI must never reach it. Remote URIs (s3:,
    mlflow-artifacts:) are kept: they write nothing on this machine."""
    raw = _local_path(uri)
    if raw is None:
        return uri, None
    path = os.path.normpath(raw)
    root = os.path.normpath(reader.root)
    if path == os.path.join(root, experiment_id, run_id, "artifacts"):
        folder = path  # the usual shape, inside the tree: only links remain to check
    else:
        try:
            folder = os.path.normpath(reader.artifact_root(run_id))
        except MlrunsError as e:
            return f"{REFUSED_ARTIFACT_SCHEME}:{uri}", str(e)
        if _outside_folder_not_made_yet(reader, run_id, experiment_id, path, folder, root):
            folder = path
    inside = folder == root or folder.startswith(root + os.sep)
    # Outside the tree <location> is the user's (links allowed, as the rule says); below
    # <location>/<run_id> nothing may be a link.
    base = root if inside else os.path.dirname(os.path.dirname(folder))
    link = _link_below(base, folder)
    if link is not None:
        return (f"{REFUSED_ARTIFACT_SCHEME}:{uri}",
                f"run {run_id}: artifact folder {folder!r}: {link!r} is a symbolic link; not followed")
    if folder == raw:
        return uri, None
    # A fallback (moved tree, a URI failing the rule) or a URI with '.'/'..' components, which
    # the kernel would resolve after following links: MLflow gets the folder itself.
    return "file://" + folder, None


def _run(r: _mlruns.Run) -> Run:
    points = {k: _metric(m) for k, m in r.metrics.items()}
    data = RunData({k: m.value for k, m in points.items()}, dict(r.params), dict(r.tags), points)
    inputs = RunInputs([
        DatasetInput(Dataset(d.dataset.name, d.dataset.digest, d.dataset.source_type, d.dataset.source,
                             d.dataset.schema, d.dataset.profile), dict(d.tags))
        for d in r.dataset_inputs
    ])
    return Run(_run_info(r.info), data, inputs)


def _view(view_type: Any) -> str:
    name = getattr(view_type, "name", view_type)
    if isinstance(view_type, int) and not isinstance(view_type, bool):
        name = {1: "ACTIVE_ONLY", 2: "DELETED_ONLY", 3: "ALL"}.get(view_type, str(view_type))
    if name not in VIEW_TYPES:
        raise InvalidArgumentError(f"view type {view_type!r}: must be one of {', '.join(VIEW_TYPES)}")
    return name


# ---- writing ------------------------------------------------------------------

def _counted(method):
    """In errors="count" mode, a refusal by the Python layer (a bool metric, a key that is
    not a str, ...) is counted like the library's own and the call returns None; the
    library itself never raises in that mode."""

    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except MlrunsError as e:
            store = self if isinstance(self, Store) else self._store
            if store._errors != "count":
                raise
            store._note_failure(e)
            return None

    wrapper.__name__ = method.__name__
    wrapper.__qualname__ = method.__qualname__
    wrapper.__doc__ = method.__doc__
    return wrapper


class ActiveRun:
    """A run being written. Use it as a context manager: leaving the block ends
    the run FINISHED, FAILED when an exception leaves it, KILLED on
    KeyboardInterrupt (as MLflow's ActiveRun). Safe to use from many threads.

    Metric points are buffered in C++ (a few hundred ns each) and reach their
    files at the latest after the Store's ``flush_max_age`` seconds, on
    flush(), at the end of the run and at normal interpreter exit.
    """

    __slots__ = ("_run", "_store")

    def __init__(self, run: _mlruns.ActiveRun, store: "Store"):
        self._run = run
        self._store = store

    @property
    def run_id(self) -> str:
        return self._run.run_id

    @property
    def experiment_id(self) -> str:
        return self._run.experiment_id

    @property
    def run_name(self) -> str:
        return self._run.run_name

    @property
    def artifact_uri(self) -> str:
        """file:// URI of the run's artifact folder, as MLflow's file store writes it."""
        return self._run.artifact_uri

    @property
    def ok(self) -> bool:
        """False if the run could not be created (errors='count' only)."""
        return self._run.ok

    @_counted
    def log_param(self, key: str, value: Any) -> Any:
        """Logs a param as str(value) (MLflow's rule: True -> 'True'). Params are
        immutable: the same value again is fine, another raises AlreadyExistsError.
        Returns the value, as mlflow.log_param does."""
        self._run.log_param(_key("param key", key), _text("param", key, value))
        return value

    @_counted
    def log_params(self, params: Mapping[str, Any]) -> None:
        """Logs many params; every key and value is checked before the first is written."""
        self._run.log_params(_text_map("param", params))

    @_counted
    def log_metric(self, key: str, value: Any, step: Optional[int] = None, timestamp: Optional[int] = None) -> None:
        """Logs one point: value a number (bool refused), step an integer (default 0),
        timestamp in ms since the epoch (default now)."""
        self._run.log_metric(_key("metric key", key), _number(key, value), _int("step", step or 0),
                             None if timestamp is None else _int("timestamp", timestamp))

    @_counted
    def log_metrics(self, metrics: Mapping[str, Any], step: Optional[int] = None) -> None:
        """Logs one point per key at the same step and time."""
        self._run.log_metrics({_key("metric key", k): _number(k, v) for k, v in metrics.items()},
                              _int("step", step or 0))

    @_counted
    def set_tag(self, key: str, value: Any) -> None:
        """Sets a tag to str(value); setting mlflow.runName renames the run."""
        self._run.set_tag(_key("tag key", key), _text("tag", key, value))

    @_counted
    def set_tags(self, tags: Mapping[str, Any]) -> None:
        for k, v in _text_map("tag", tags).items():
            self._run.set_tag(k, v)

    @_counted
    def delete_tag(self, key: str) -> None:
        """Removes a tag; NotFoundError if it is not set."""
        self._run.delete_tag(_key("tag key", key))

    @_counted
    def log_batch(self, metrics: Iterable[Any] = (), params: Optional[Mapping[str, Any]] = None,
                  tags: Optional[Mapping[str, Any]] = None) -> None:
        """MLflow's log_batch with its limits (<= 1000 metrics, 100 params, 100 tags, spec §6.3).
        metrics: Metric objects, dicts or (key, value[, step[, timestamp_ms]]) tuples."""
        self._run.log_batch(_metric_points(metrics), _text_map("param", params), _text_map("tag", tags))

    @_counted
    def log_artifact(self, local_path: Union[str, os.PathLike], artifact_path: Optional[str] = None, *,
                     overwrite: bool = False) -> None:
        """MLflow's log_artifact: a file goes to artifacts/<artifact_path>/<its name>, a folder
        keeps its name too (artifacts/<artifact_path>/<folder>/...). Each file is copied to a
        temporary name, then renamed. An artifact file that exists already raises
        AlreadyExistsError naming it, and nothing is copied, unless overwrite=True (MLflow
        replaces silently)."""
        self._run.log_artifact(os.fspath(local_path), artifact_path or "", bool(overwrite))

    @_counted
    def log_artifacts(self, local_dir: Union[str, os.PathLike], artifact_path: Optional[str] = None, *,
                      overwrite: bool = False) -> None:
        """MLflow's log_artifacts: the *contents* of a folder go to artifacts/<artifact_path>/;
        the same rules as log_artifact."""
        self._run.log_artifacts(os.fspath(local_dir), artifact_path or "", bool(overwrite))

    @_counted
    def log_text(self, text: str, artifact_file: str) -> None:
        """Writes text (UTF-8) to artifacts/<artifact_file>, replacing it (MLflow's log_text)."""
        self._run.log_text(text, artifact_file)

    def start_run(self, run_name: Optional[str] = None, *, tags: Optional[Mapping[str, Any]] = None,
                  description: Optional[str] = None, start_time: Optional[int] = None,
                  system_tags: bool = True) -> "ActiveRun":
        """A nested run: same experiment, tag mlflow.parentRunId = this run."""
        child = self._run.start_child(run_name or "", _run_tags(tags, system_tags), description or "",
                                      None if start_time is None else _int("start_time", start_time), system_tags,
                                      _source_dir())
        return ActiveRun(child, self._store)

    @_counted
    def flush(self) -> None:
        """Writes the buffered points to their files."""
        self._run.flush()

    @_counted
    def end(self, status: str = "FINISHED") -> None:
        """Flushes and writes status and end_time. Later calls do nothing."""
        self._run.end(getattr(status, "name", status))

    @_counted
    def detach(self) -> None:
        """Flushes and lets go of the run without ending it: it stays RUNNING."""
        self._run.detach()

    def __enter__(self) -> "ActiveRun":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            status = "FINISHED"
        elif issubclass(exc_type, KeyboardInterrupt):
            status = "KILLED"
        else:
            status = "FAILED"
        self.end(status)
        return False

    def __repr__(self) -> str:
        return f"<mlruns.ActiveRun run_id={self.run_id!r} run_name={self.run_name!r}>"


class Store:
    """Writes an mlruns tree exactly as MLflow's file store does (spec §13.1).

    tracking_uri: a path, file: or mlruns: URI; None means MLFLOW_TRACKING_URI,
      else ./mlruns. The tree is created (with experiment 0 "Default") if missing.
    errors: "raise" (default) raises MlrunsError subclasses; "count" never
      raises from a logging call: failures are counted (failure_count,
      last_error) and calls return False (or None for values), so logging
      trouble never stops the job.
    durability: "none", "on_close" (fsync each file when its run ends; the
      default) or "every_flush".
    flush_max_points, flush_max_age (seconds), write_through: when buffered
      metric points are written (write_through: before log_metric returns).
    long_values: "reject" (default) or "truncate" params over 6000 and tags
      over 8000 characters (MLflow >= 2.11 truncates).
    name_rules: "portable" (default; keys every MLflow 1.30-3.x reads) or
      "mlflow" (also ':' and non-ASCII letters, MLflow >= 2.16).
    heartbeat: seconds between touches of running runs' meta.yaml (0: off).
    artifact_uri: the default artifact root, as MLflow's FileStore(root, artifact_root_uri)
      and ``mlflow server --default-artifact-root``: an experiment created without an
      artifact_location gets <artifact_uri>/<experiment id> (a relative path is taken
      against the current directory); None: the tree itself (file://<root>/<id>).

    Safe to use from many threads and processes (each run written by one).
    """

    def __init__(self, tracking_uri: Optional[str] = None, *, errors: str = "raise", durability: str = "on_close",
                 flush_max_points: int = 16384, flush_max_age: float = 2.0, write_through: bool = False,
                 long_values: str = "reject", name_rules: str = "portable", heartbeat: float = 30.0,
                 artifact_uri: Optional[str] = None):
        self._store = _mlruns.Store(local_tracking_uri(tracking_uri), errors, durability, flush_max_points,
                                    flush_max_age, write_through, long_values, name_rules, heartbeat,
                                    os.fspath(artifact_uri) if artifact_uri else "")
        self._errors = errors
        self._py_failures = 0
        self._py_last = None  # (library failure count then, (code, message))

    def _note_failure(self, error: "MlrunsError") -> None:
        self._py_failures += 1
        self._py_last = (self._store.failure_count, (error.code, str(error)))

    @property
    def root(self) -> str:
        """Absolute path of the tree."""
        return self._store.root

    @property
    def ok(self) -> bool:
        """False if the tree could not be opened (errors='count' only)."""
        return self._store.ok

    @property
    def failure_count(self) -> int:
        """Failed calls so far (in both error modes)."""
        return self._store.failure_count + self._py_failures

    @property
    def last_error(self) -> Optional[tuple]:
        """(code, message) of the last failure, or None."""
        if self._py_last is not None and self._py_last[0] == self._store.failure_count:
            return self._py_last[1]
        return self._store.last_error

    def reader(self, threads: int = 0) -> "Reader":
        """A Reader of the same tree (what it shows is what was flushed)."""
        return Reader(self.root, threads=threads)

    # experiments
    @_counted
    def create_experiment(self, name: str, artifact_location: Optional[str] = None,
                          tags: Optional[Mapping[str, Any]] = None) -> Optional[str]:
        """A new experiment; returns its id. AlreadyExistsError if the name is taken."""
        return self._store.create_experiment(name, _text_map("tag", tags), artifact_location or "")

    @_counted
    def set_experiment(self, name: str) -> Optional[str]:
        """The id of the experiment with this name, created if needed (safe across processes and nodes)."""
        return self._store.get_or_create_experiment(name)

    get_or_create_experiment = set_experiment

    def get_experiment(self, experiment_id: str) -> Optional[Experiment]:
        """NotFoundError if there is no such experiment."""
        e = self._store.get_experiment(str(experiment_id))
        return None if e is None else _experiment(e)

    def get_experiment_by_name(self, name: str) -> Optional[Experiment]:
        """The experiment, or None if no experiment has this name (as MLflow)."""
        try:
            e = self._store.get_experiment_by_name(name)
        except NotFoundError:
            return None
        return None if e is None else _experiment(e)

    @_counted
    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self._store.rename_experiment(str(experiment_id), new_name)

    @_counted
    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        self._store.set_experiment_tag(str(experiment_id), _key("tag key", key), _text("tag", key, value))

    @_counted
    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self._store.delete_experiment_tag(str(experiment_id), key)

    @_counted
    def delete_experiment(self, experiment_id: str) -> None:
        """Marks its runs deleted and moves it to .trash/ (MLflow's soft delete)."""
        self._store.delete_experiment(str(experiment_id))

    @_counted
    def restore_experiment(self, experiment_id: str) -> None:
        self._store.restore_experiment(str(experiment_id))

    # runs
    def start_run(self, experiment_id: Optional[str] = None, run_name: Optional[str] = None, *,
                  experiment_name: Optional[str] = None, parent_run_id: Optional[str] = None,
                  tags: Optional[Mapping[str, Any]] = None, description: Optional[str] = None,
                  start_time: Optional[int] = None, system_tags: bool = True) -> ActiveRun:
        """Starts a run (RUNNING) in experiment_id, or in experiment_name (created if
        needed), else in "0" (Default). run_name None: an "adjective-noun-N" name as
        MLflow makes them. parent_run_id makes a nested run. start_time in ms (default
        now). system_tags: mlflow.user, mlflow.source.* and mlruns.host/pid/slurm.*.
        Use the result as a context manager."""
        if experiment_id is not None and experiment_name is not None:
            raise InvalidArgumentError("start_run: give experiment_id or experiment_name, not both")
        if experiment_name is not None:
            experiment_id = self.set_experiment(experiment_name)
        run = self._store.start_run(str(experiment_id if experiment_id is not None else "0"), run_name or "",
                                    parent_run_id or "", _run_tags(tags, system_tags), description or "",
                                    None if start_time is None else _int("start_time", start_time), system_tags,
                                    _source_dir())
        return ActiveRun(run, self)

    def resume_run(self, run_id: str) -> ActiveRun:
        """Takes a run up again: RUNNING, its end_time kept until it ends (spec §7)."""
        return ActiveRun(self._store.resume_run(run_id), self)

    @_counted
    def log_batch(self, run_id: str, metrics: Iterable[Any] = (), params: Optional[Mapping[str, Any]] = None,
                  tags: Optional[Mapping[str, Any]] = None) -> None:
        """Logs to a run by id without taking it over (written before returning)."""
        self._store.log_batch(run_id, _metric_points(metrics), _text_map("param", params), _text_map("tag", tags))

    @_counted
    def log_metric(self, run_id: str, key: str, value: Any, step: Optional[int] = None,
                   timestamp: Optional[int] = None) -> None:
        self.log_batch(run_id, [(key, value, step or 0, timestamp)])

    @_counted
    def log_param(self, run_id: str, key: str, value: Any) -> Any:
        self.log_batch(run_id, params={key: value})
        return value

    @_counted
    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        self.log_batch(run_id, tags={key: value})

    @_counted
    def set_terminated(self, run_id: str, status: str = "FINISHED", end_time: Optional[int] = None) -> None:
        """Ends a run by id: status and end_time (ms, default now)."""
        self._store.set_terminated(run_id, getattr(status, "name", status),
                                   None if end_time is None else _int("end_time", end_time))

    @_counted
    def delete_run(self, run_id: str) -> None:
        self._store.delete_run(run_id)

    @_counted
    def restore_run(self, run_id: str) -> None:
        self._store.restore_run(run_id)

    @_counted
    def delete_tag(self, run_id: str, key: str) -> None:
        """Removes a run's tag, as MLflow's delete_tag: NotFoundError if the run or the
        tag does not exist, FailedPreconditionError if the run is deleted."""
        self._store.delete_tag(run_id, key)

    @_counted
    def log_artifact(self, run_id: str, local_path: Union[str, os.PathLike], artifact_path: Optional[str] = None, *,
                     overwrite: bool = False) -> None:
        """ActiveRun.log_artifact by run id."""
        self._store.log_artifact(run_id, os.fspath(local_path), artifact_path or "", bool(overwrite))

    @_counted
    def log_artifacts(self, run_id: str, local_dir: Union[str, os.PathLike], artifact_path: Optional[str] = None, *,
                      overwrite: bool = False) -> None:
        """ActiveRun.log_artifacts by run id."""
        self._store.log_artifacts(run_id, os.fspath(local_dir), artifact_path or "", bool(overwrite))

    @_counted
    def flush(self) -> None:
        """Writes every buffered point of every active run of this Store."""
        self._store.flush()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        self.flush()
        return False

    def __repr__(self) -> str:
        if "_store" not in self.__dict__:  # __init__ refused its tracking URI
            return "<mlruns.Store (not opened)>"
        return f"<mlruns.Store root={self.root!r}>"


# ---- reading ------------------------------------------------------------------

class Reader:
    """Reads any mlruns tree (MLflow 1.30-3.x or mlruns), damaged or hostile ones
    included: never writes, never follows a link out of the tree, skips what it
    cannot read. threads: workers for listing runs (0: one per core).
    NotFoundError if the tree does not exist."""

    def __init__(self, tracking_uri: Optional[str] = None, *, threads: int = 0):
        self._reader = _mlruns.Reader(local_tracking_uri(tracking_uri), threads)

    @property
    def root(self) -> str:
        return self._reader.root

    def search_experiments(self, view_type: Any = "ACTIVE_ONLY") -> list:
        """Experiments, newest first (MLflow's order: creation_time DESC, then id)."""
        return [_experiment(e) for e in self._reader.experiments(_view(view_type))]

    def get_experiment(self, experiment_id: str) -> Experiment:
        return _experiment(self._reader.experiment(str(experiment_id)))

    def get_experiment_by_name(self, name: str) -> Optional[Experiment]:
        try:
            return _experiment(self._reader.experiment_by_name(name))
        except NotFoundError:
            return None

    def _experiment_ids(self, experiment_ids: Any, experiment_names: Any) -> list:
        ids = []
        if isinstance(experiment_ids, (str, int)):
            experiment_ids = [experiment_ids]
        ids += [str(i) for i in (experiment_ids or [])]
        if isinstance(experiment_names, str):
            experiment_names = [experiment_names]
        for name in experiment_names or []:
            ids.append(self._reader.experiment_by_name(name).experiment_id)
        if not ids:
            raise InvalidArgumentError("experiment_ids / experiment_names: give at least one experiment")
        return ids

    def get_run(self, run_id: str) -> Run:
        """One run, everything loaded; NotFoundError if there is none."""
        return _run(self._reader.run(run_id))

    def get_metric_history(self, run_id: str, key: str) -> list:
        """Every point of a metric in file order; [] for an unknown key."""
        return [_metric(m) for m in self._reader.metric_history(run_id, key)]

    def search_runs(self, experiment_ids: Any = None, filter_string: str = "", run_view_type: Any = "ACTIVE_ONLY",
                    max_results: int = 1000, order_by: Optional[Sequence[str]] = None,
                    page_token: Optional[str] = None, *, experiment_names: Any = None) -> PagedList:
        """MLflow's search_runs: filter and order_by in MLflow's language (docs/search.md),
        max_results 1..50000, page tokens interchangeable with MLflow's. Returns a
        PagedList of Run; .token is the next page's token or None."""
        runs, token = _mlruns.search_runs(self._reader, self._experiment_ids(experiment_ids, experiment_names),
                                          filter_string or "", list(order_by or []), _view(run_view_type),
                                          _int("max_results", max_results), page_token or "")
        return PagedList([_run(r) for r in runs], token or None)

    def get_top_run(self, experiment_ids: Any = None, metric: str = "", *, ascending: bool = False,
                    rank_by: str = "latest", step: int = 0, filter_string: str = "", finished_only: bool = True,
                    run_view_type: Any = "ACTIVE_ONLY", experiment_names: Any = None) -> Optional[TopRun]:
        """The best run by a metric ("loss" or "metrics.loss"): highest value
        (lowest with ascending=True) of the latest point (rank_by="latest", MLflow's
        rule), of the whole history ("best") or at a step ("step"). Only FINISHED
        runs unless finished_only=False. None if no run has a value."""
        if not metric:
            raise InvalidArgumentError("get_top_run: metric is required (e.g. 'metrics.loss')")
        ids = self._experiment_ids(experiment_ids, experiment_names)
        names = ", ".join(self._reader.experiment(i).name for i in ids)
        runs, _considered, _without, why = _mlruns.rank_runs(
            self._reader, ids, metric, bool(ascending), rank_by, _int("step", step), filter_string or "",
            bool(finished_only), _view(run_view_type), names)
        if not runs:
            return None
        run, value, at_step = runs[0]
        return TopRun(_run(run), value, at_step, list(why))

    def list_artifacts(self, run_id: str, path: Optional[str] = None, recursive: bool = False) -> list:
        """Artifacts below path (the run's root when None), sorted by path."""
        return [ArtifactEntry(a.path, a.is_dir, None if a.is_dir else a.size)
                for a in self._reader.list_artifacts(run_id, path or "", recursive)]

    def artifact_root(self, run_id: str) -> str:
        """The local folder holding the run's artifacts (found even in a moved tree): the
        stored artifact_uri only if it names the run's own folder, else <run folder>/artifacts
        (docs/reading.md#artifact-location). Pass this, not get_run().info.artifact_uri, to
        code that writes or reads there."""
        return self._reader.artifact_root(run_id)

    def download_artifacts(self, run_id: str, artifact_path: Optional[str] = None,
                           dst_path: Union[str, os.PathLike] = ".", overwrite: bool = False) -> str:
        """Copies artifacts/<artifact_path> (all when None) into dst_path and returns
        the local path made. Complete or nothing: copied aside, sizes checked, renamed.
        AlreadyExistsError if the target exists and not overwrite."""
        local, _files, _bytes = _mlruns.download_artifacts(self._reader, run_id, artifact_path or "",
                                                           os.fspath(dst_path), bool(overwrite))
        return local

    def __repr__(self) -> str:
        return f"<mlruns.Reader root={self.root!r}>"
