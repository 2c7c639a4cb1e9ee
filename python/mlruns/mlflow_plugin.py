"""MLflow tracking store for ``mlruns:`` URIs: MLflow's own Python code writes through mlruns.

MLflow finds this class through the entry point group ``mlflow.tracking_store``
(``mlruns = mlruns.mlflow_plugin:MlrunsStore``, installed with the package), so
unchanged code writes the same ``mlruns/`` tree as MLflow's file store, through
the C++ engine::

    MLFLOW_TRACKING_URI=mlruns:///scratch/me/mlruns python train.py
    mlflow server --backend-store-uri mlruns:///scratch/me/mlruns

``mlruns:///abs/path`` and ``mlruns:rel/path`` name a tree as ``file:`` URIs do.
Runs get ``file://`` artifact URIs, exactly as MLflow's FileStore writes them, so
MLflow's LocalArtifactRepository stores artifacts (log_artifact, log_figure, ...).

Behaviour and error codes are those of MLflow's FileStore
(mlflow/store/tracking/file_store.py): MLflow's own validators run first (metrics are
checked in C++, and MLflow's validators judge any metric C++ is not sure of), so bad
input raises the same MlflowException (INVALID_PARAMETER_VALUE,
RESOURCE_DOES_NOT_EXIST, RESOURCE_ALREADY_EXISTS, ...). Differences, on purpose:
a refused log_batch writes nothing (FileStore may leave part of it); files are
replaced atomically; experiment ids are made race-free across processes.
Dataset inputs and MLflow 3.x LoggedModels (create/finalize/get/search/delete_logged_model,
their tags and params, log_outputs; run outputs in get_run/search_runs) are written and
read by MLflow's own FileStore code over the same tree, so their bytes are MLflow's; on
MLflow >= 3.10 that needs MLFLOW_ALLOW_FILE_STORE=true. What mlruns does not write
(traces, assessments, scorers, evaluation datasets, prompts) raises MlflowException with
error code NOT_IMPLEMENTED and a message naming the call.

Options through environment variables (read when the store is created):
  MLRUNS_DURABILITY   "none" (default, as MLflow's FileStore: no fsync),
                      "on_close" or "every_flush" (see mlruns.Store).
"""
from __future__ import annotations

import functools
import inspect
import logging
import os
import re
import warnings

from mlflow.entities import (
    Dataset as MlflowDataset,
    DatasetInput as MlflowDatasetInput,
    Experiment as MlflowExperiment,
    ExperimentTag,
    InputTag,
    LifecycleStage,
    Metric as MlflowMetric,
    Param,
    Run as MlflowRun,
    RunData,
    RunInfo as MlflowRunInfo,
    RunInputs,
    RunStatus,
    RunTag,
    ViewType,
)
from mlflow.entities.dataset_summary import _DatasetSummary
from mlflow.exceptions import MissingConfigException, MlflowException
from mlflow.protos import databricks_pb2
from mlflow.store.entities.paged_list import PagedList
from mlflow.store.tracking import SEARCH_MAX_RESULTS_DEFAULT, SEARCH_MAX_RESULTS_THRESHOLD
from mlflow.store.tracking.abstract_store import AbstractStore
from mlflow.utils import validation as _v
from mlflow.utils.name_utils import _generate_random_name
from mlflow.utils.search_utils import SearchExperimentsUtils, SearchUtils
from mlflow.version import VERSION as mlflow_version

import mlruns
from mlruns import _mlruns

_log = logging.getLogger(__name__)

try:  # MLflow >= 2.21: runs have outputs (logged models)
    from mlflow.entities import RunOutputs
except ImportError:  # pragma: no cover - older MLflow
    RunOutputs = None

try:  # only its version-specific rules are borrowed, never its storage (see get_experiment_by_name)
    from mlflow.store.tracking.file_store import FileStore as _FileStore
except ImportError:  # pragma: no cover - an MLflow without a file store
    _FileStore = None

_RUN_INPUTS_TAKES_MODELS = "model_inputs" in inspect.signature(RunInputs.__init__).parameters
_DEFAULT_EXPERIMENT_ID = "0"
_RUN_NAME_TAG = "mlflow.runName"


def _validator(name):
    """One of MLflow's validators (mlflow/utils/validation.py), or a no-op where this MLflow has none."""
    return getattr(_v, name, lambda *args, **kwargs: None)


_validate_run_id = _validator("_validate_run_id")
_validate_experiment_name = _validator("_validate_experiment_name")
_validate_metric = _validator("_validate_metric")
_validate_param = _validator("_validate_param")
_validate_tag_name = _validator("_validate_tag_name")
_validate_metric_name = _validator("_validate_metric_name")
_validate_batch_log_data = getattr(_v, "_validate_batch_log_data", None)
_validate_batch_log_limits = _validator("_validate_batch_log_limits")
_validate_param_keys_unique = _validator("_validate_param_keys_unique")
_validate_experiment_artifact_location_length = _validator("_validate_experiment_artifact_location_length")


def _validate_batch(metrics, params, tags):
    """FileStore.log_batch's checks, in its order (mlflow/store/tracking/file_store.py):
    MLflow's exception for the first problem; the params and tags as MLflow keeps them."""
    if _validate_batch_log_data is not None:
        validated = _validate_batch_log_data(metrics, params, tags)
        if validated is not None:
            metrics, params, tags = validated
    _validate_batch_log_limits(metrics, params, tags)
    _validate_param_keys_unique(params)
    return metrics, params, tags


def _validate_params_tags(params, tags):
    """MLflow's validators for a batch's params and tags alone: (params, tags) as MLflow keeps them."""
    if _validate_batch_log_data is None:
        return params, tags
    validated = _validate_batch_log_data((), params, tags)
    return (params, tags) if validated is None else (validated[1], validated[2])


def _tree_uri(store_uri: str) -> str:
    """The tree of an ``mlruns:`` URI, as the C++ library takes it (a path or file: URI)."""
    if store_uri.startswith("mlruns:"):
        return "file:" + store_uri[len("mlruns:"):]
    return store_uri


def _open_tree(store_uri, artifact_uri=None) -> _mlruns.Store:
    """The tree of a store URI, opened (created if missing) for writing by run id: nothing is
    buffered; MLflow's own validators run first, so MLflow's name rules; no heartbeat thread.
    artifact_uri: MLflow's default artifact root (StoreOptions::artifact_root)."""
    return _mlruns.Store(_tree_uri(store_uri or "mlruns:mlruns"), "raise",
                         os.environ.get("MLRUNS_DURABILITY", "none"), 16384, 2.0, False, "reject", "mlflow", 0.0,
                         artifact_uri or "")


# mlruns error codes -> MLflow's (databricks_pb2), as FileStore raises them.
_CODES = {
    "invalid argument": databricks_pb2.INVALID_PARAMETER_VALUE,
    "not found": databricks_pb2.RESOURCE_DOES_NOT_EXIST,
    "already exists": databricks_pb2.RESOURCE_ALREADY_EXISTS,
    "failed precondition": databricks_pb2.INVALID_STATE,
    "corruption": databricks_pb2.INVALID_STATE,
    "io error": databricks_pb2.INTERNAL_ERROR,
    "not supported": databricks_pb2.NOT_IMPLEMENTED,
}


def _mlflow_errors(method):
    """Turns mlruns errors raised by `method` into MlflowException with MLflow's code."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except mlruns.MlrunsError as e:
            raise MlflowException(str(e), error_code=_CODES.get(e.code, databricks_pb2.INTERNAL_ERROR)) from e

    return wrapper


def _view_name(view_type) -> str:
    if view_type is None:
        return "ACTIVE_ONLY"
    return {ViewType.ACTIVE_ONLY: "ACTIVE_ONLY", ViewType.DELETED_ONLY: "DELETED_ONLY",
            ViewType.ALL: "ALL"}.get(view_type) or _raise_invalid(f"Invalid view type '{view_type}'")


def _raise_invalid(message):
    raise MlflowException(message, databricks_pb2.INVALID_PARAMETER_VALUE)


def _status_name(status) -> str:
    return status if isinstance(status, str) else RunStatus.to_string(status)


# ---- mlruns values -> MLflow entities -----------------------------------------

_MLFLOW_2 = mlflow_version.startswith("2.")

#: An experiment or run id that names one folder (MLflow's run id rule, mlflow/utils/validation.py).
_PLAIN_ID = re.compile(r"[a-zA-Z0-9][\w\-]{0,255}")


def _subfolders(path) -> list:
    try:
        return [e.name for e in os.scandir(path) if e.is_dir(follow_symlinks=False)]
    except OSError:
        return []


def _experiment(e: _mlruns.Experiment) -> MlflowExperiment:
    return MlflowExperiment(e.experiment_id, e.name, e.artifact_location, e.lifecycle_stage,
                            tags=[ExperimentTag(k, v) for k, v in e.tags.items()],
                            creation_time=e.creation_time, last_update_time=e.last_update_time)


def _run_info(i: _mlruns.RunInfo) -> MlflowRunInfo:
    # Positional: the first argument is run_uuid in MLflow 2.x and run_id in 3.x.
    return MlflowRunInfo(i.run_id, i.experiment_id, i.user_id, i.status, i.start_time, i.end_time,
                         i.lifecycle_stage, i.artifact_uri, run_name=i.run_name)


def _metric(m: _mlruns.Metric) -> MlflowMetric:
    return MlflowMetric(m.key, m.value, m.timestamp, m.step)


def _inputs(dataset_inputs) -> RunInputs:
    datasets = [
        MlflowDatasetInput(
            MlflowDataset(d.dataset.name, d.dataset.digest, d.dataset.source_type, d.dataset.source,
                          d.dataset.schema, d.dataset.profile),
            [InputTag(k, v) for k, v in d.tags.items()])
        for d in dataset_inputs
    ]
    if not datasets:
        return _NO_INPUTS  # shared: entities are not changed after they are made
    return RunInputs(datasets, []) if _RUN_INPUTS_TAKES_MODELS else RunInputs(datasets)


def _run(r: _mlruns.Run) -> MlflowRun:
    """MLflow's Run of an mlruns Run, through the entities' own __init__ (the reference the
    fast path, _ENTITIES, is checked against)."""
    data = RunData(metrics=[_metric(m) for m in r.metrics.values()],
                   params=[Param(k, v) for k, v in r.params.items()],
                   tags=[RunTag(k, v) for k, v in r.tags.items()])
    inputs = _inputs(r.dataset_inputs)
    if _NO_OUTPUTS is not None:
        return MlflowRun(_run_info(r.info), data, inputs, _NO_OUTPUTS)
    return MlflowRun(_run_info(r.info), data, inputs)


_NO_INPUTS = RunInputs([], []) if _RUN_INPUTS_TAKES_MODELS else RunInputs([])
_NO_OUTPUTS = RunOutputs([]) if RunOutputs is not None else None


# ---- the same entities without running their __init__ per object -------------
#
# A page of search_runs holds ~20 entities per run (Metric per metric, RunData, RunInfo,
# Run); made through their Python __init__ that is about 0.1 ms per run. Their __init__s
# only store their arguments (RunData: the metrics list and three dicts it derives), so
# the C++ module can make the same objects as object.__new__(cls) plus those attributes.
# _recipe finds, for the installed MLflow, which attribute holds which argument; the
# fast path is used only if it makes objects equal (==, __dict__, to_proto) to __init__'s
# for a sample run (_check_entities), else every entity goes through __init__ (_run).

class _Mark:
    """A marker argument: which attribute an __init__ stores it in."""


def _recipe(cls, n_args, keywords=()):
    """[(attribute, index of the argument it holds, -1 for None)] of cls(*args[:n_args],
    **{keywords[i]: args[n_args + i]}), in the order __init__ sets them; None if __init__
    stores anything else, or cls cannot be made without it."""
    if cls.__new__ is not object.__new__ or "__slots__" in vars(cls) or cls.__setattr__ is not object.__setattr__:
        return None
    marks = [_Mark() for _ in range(n_args + len(keywords))]
    try:
        obj = cls(*marks[:n_args], **dict(zip(keywords, marks[n_args:])))
    except Exception:  # noqa: BLE001 - an __init__ that checks its arguments' types
        return None
    recipe = []
    for attribute, value in vars(obj).items():
        if value is None:
            recipe.append((attribute, -1))
            continue
        index = next((i for i, mark in enumerate(marks) if mark is value), None)
        if index is None:
            return None
        recipe.append((attribute, index))
    return recipe


def _run_data_recipe():
    """RunData(metrics, params, tags) keeps the metrics list and derives three dicts (key ->
    value); the C++ side passes them in this order."""
    m, p, t = MlflowMetric("k", 1.0, 2, 3), Param("p", "v"), RunTag("t", "w")
    expected = {"_metric_objs": [m], "_metrics": {"k": 1.0}, "_params": {"p": "v"}, "_tags": {"t": "w"}}
    data = RunData(metrics=[m], params=[p], tags=[t])
    if (RunData.__new__ is not object.__new__ or "__slots__" in vars(RunData)
            or list(vars(data)) != list(expected) or vars(data) != expected):
        return None
    return [(name, i) for i, name in enumerate(expected)]


def _entity_args():
    """The arguments of _mlruns.MlflowEntities for this MLflow, or None (then every entity is
    made by its __init__)."""
    recipes = (
        _recipe(MlflowMetric, 4),
        _recipe(MlflowRunInfo, 7, ("artifact_uri", "run_name")),
        _run_data_recipe(),
        _recipe(MlflowRun, 4 if _NO_OUTPUTS is not None else 3),
    )
    if any(r is None for r in recipes):
        return None
    metric, run_info, run_data, run = recipes
    return (MlflowMetric, metric, MlflowRunInfo, run_info, RunData, run_data, MlflowRun, run,
            _NO_INPUTS, _NO_OUTPUTS, _inputs)


def _same_entity(a, b) -> bool:
    """a and b are the same entity: type, attributes (nested entities alike), proto."""
    if type(a) is not type(b):
        return False
    if hasattr(a, "__dict__"):
        da, db = vars(a), vars(b)
        if list(da) != list(db):
            return False
        if not all(_same_entity(da[k], db[k]) for k in da):
            return False
        return not hasattr(a, "to_proto") or a.to_proto() == b.to_proto()
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same_entity(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same_entity(a[k], b[k]) for k in a)
    return a == b


def _fast_entities(entities, sample_runs) -> bool:
    """True if the C++ module makes the runs exactly as _run does."""
    try:
        fast = _mlruns.mlflow_runs(entities, sample_runs)
        return len(fast) == len(sample_runs) and all(_same_entity(f, _run(r)) for f, r in zip(fast, sample_runs))
    except Exception:  # noqa: BLE001 - any doubt: the reference path
        return False


_ENTITIES_ARGS = _entity_args()
_ENTITIES = _mlruns.MlflowEntities(*_ENTITIES_ARGS) if _ENTITIES_ARGS is not None else None


class MlrunsStore(AbstractStore):
    """MLflow's tracking store API over an mlruns tree (see the module docstring).

    store_uri: ``mlruns:///path`` (or a path / ``file:`` URI); artifact_uri: MLflow's
    default artifact root, used as FileStore uses it (None: the tree itself).
    """

    #: The experiment every tree has, and the names of the layout (format spec §1), under the
    #: names MLflow's FileStore gives them.
    DEFAULT_EXPERIMENT_ID = _DEFAULT_EXPERIMENT_ID
    TRASH_FOLDER_NAME = ".trash"
    ARTIFACTS_FOLDER_NAME = "artifacts"
    METRICS_FOLDER_NAME = "metrics"
    PARAMS_FOLDER_NAME = "params"
    TAGS_FOLDER_NAME = "tags"
    DATASETS_FOLDER_NAME = "datasets"
    INPUTS_FOLDER_NAME = "inputs"
    META_DATA_FILE_NAME = "meta.yaml"

    def __init__(self, store_uri=None, artifact_uri=None):
        super().__init__()
        self.store_uri = store_uri or "mlruns:mlruns"
        # New experiments get <artifact_uri>/<id>, as FileStore(root, artifact_root_uri).
        self._store = _open_tree(self.store_uri, artifact_uri)
        self.root_directory = self._store.root
        self.artifact_root_uri = artifact_uri or ("file://" + self.root_directory)
        self._reader = _mlruns.Reader(self.root_directory, 0)
        self._entities = _ENTITIES if MlrunsStore._entities_checked() else None

    _fast_entities_ok = None

    @classmethod
    def _entities_checked(cls) -> bool:
        """Whether search_runs makes MLflow's entities in C++: once per process, a sample run
        (metrics, params, tags, an unfinished end time) made both ways must come out equal."""
        if cls._fast_entities_ok is None:
            cls._fast_entities_ok = _ENTITIES is not None and _fast_entities(_ENTITIES, _mlruns.sample_runs())
        return cls._fast_entities_ok

    # ---- experiments ----------------------------------------------------------

    def _experiments(self, view: str) -> list:
        return [_experiment(e) for e in self._reader.experiments(view)]

    @_mlflow_errors
    def search_experiments(self, view_type=ViewType.ACTIVE_ONLY, max_results=SEARCH_MAX_RESULTS_DEFAULT,
                           filter_string=None, order_by=None, page_token=None):
        # FileStore.search_experiments' words, which MLflow 3 changed.
        if not isinstance(max_results, int) or max_results < 1:
            _raise_invalid(f"Invalid value for max_results. It must be a positive integer, but got {max_results}"
                           if _MLFLOW_2 else f"Invalid value {max_results} for parameter 'max_results' supplied. "
                           "It must be a positive integer")
        if max_results > SEARCH_MAX_RESULTS_THRESHOLD:
            _raise_invalid(f"Invalid value for max_results. It must be at most {SEARCH_MAX_RESULTS_THRESHOLD}, "
                           f"but got {max_results}" if _MLFLOW_2 else
                           f"Invalid value {max_results} for parameter 'max_results' supplied. "
                           f"It must be at most {SEARCH_MAX_RESULTS_THRESHOLD}")
        experiments = self._experiments(_view_name(view_type))
        filtered = SearchExperimentsUtils.filter(experiments, filter_string)
        ordered = SearchExperimentsUtils.sort(filtered, order_by or ["creation_time DESC", "experiment_id ASC"])
        page, token = SearchUtils.paginate(ordered, page_token, max_results)
        return PagedList(page, token)

    @_mlflow_errors
    def get_experiment_by_name(self, experiment_name):
        if _FileStore is not None:
            # The installed MLflow's own rule, over this store's search_experiments: 2.x
            # looks among active experiments only, 3.x among all.
            return _FileStore.get_experiment_by_name(self, experiment_name)
        for e in self._reader.experiments("ALL"):
            if e.name == experiment_name:
                return _experiment(e)
        return None

    def _check_name_is_free(self, name):
        existing = self.get_experiment_by_name(name)
        if existing is None:
            return
        if existing.lifecycle_stage == LifecycleStage.DELETED:
            raise MlflowException(
                f"Experiment {name!r} already exists in deleted state. You can restore the experiment, or "
                "permanently delete the experiment from the .trash folder (under tracking server's root "
                "folder) in order to use this experiment name again.", databricks_pb2.RESOURCE_ALREADY_EXISTS)
        raise MlflowException(f"Experiment '{name}' already exists.", databricks_pb2.RESOURCE_ALREADY_EXISTS)

    @_mlflow_errors
    def create_experiment(self, name, artifact_location=None, tags=None):
        _validate_experiment_name(name)
        if artifact_location:
            _validate_experiment_artifact_location_length(artifact_location)
        self._check_name_is_free(name)
        for tag in tags or []:
            _validate_tag_name(tag.key)
        tag_map = {t.key: "" if t.value is None else str(t.value) for t in tags or []}
        return self._store.create_experiment(name, tag_map, artifact_location or "")

    @_mlflow_errors
    def get_experiment(self, experiment_id):
        experiment_id = _DEFAULT_EXPERIMENT_ID if experiment_id is None else str(experiment_id)
        try:
            return _experiment(self._reader.experiment(experiment_id))
        except mlruns.CorruptionError:
            self._raise_if_meta_missing(experiment_id)
            raise
        except mlruns.NotFoundError:  # FileStore's words (file_store.py: get_experiment)
            raise MlflowException(f"Could not find experiment with ID {experiment_id}",
                                  databricks_pb2.RESOURCE_DOES_NOT_EXIST) from None

    @_mlflow_errors
    def delete_experiment(self, experiment_id):
        if str(experiment_id) == _DEFAULT_EXPERIMENT_ID:
            raise MlflowException(f"Cannot delete the default experiment '{_DEFAULT_EXPERIMENT_ID}'. "
                                  "This is an internally reserved experiment.")
        experiment = self.get_experiment(experiment_id)
        if experiment.lifecycle_stage != LifecycleStage.ACTIVE:
            raise MlflowException(f"Could not find experiment with ID {experiment_id}",
                                  databricks_pb2.RESOURCE_DOES_NOT_EXIST)
        self._store.delete_experiment(str(experiment_id))

    @_mlflow_errors
    def restore_experiment(self, experiment_id):
        experiment = self.get_experiment(experiment_id)
        if experiment.lifecycle_stage != LifecycleStage.DELETED:
            raise MlflowException(f"Cannot restore experiment with ID {experiment_id}. It is not in deleted state.",
                                  databricks_pb2.INVALID_PARAMETER_VALUE)
        self._check_name_is_free_of_active(experiment.name, experiment_id)
        self._store.restore_experiment(str(experiment_id))

    def _check_name_is_free_of_active(self, name, experiment_id):
        for e in self._reader.experiments("ACTIVE_ONLY"):
            if e.name == name and e.experiment_id != str(experiment_id):
                raise MlflowException(f"Cannot restore experiment with ID {experiment_id}. An experiment with "
                                      f"name {name} already exists.", databricks_pb2.RESOURCE_ALREADY_EXISTS)

    @_mlflow_errors
    def rename_experiment(self, experiment_id, new_name):
        _validate_experiment_name(new_name)
        experiment = self.get_experiment(experiment_id)
        self._check_name_is_free(new_name)
        if experiment.lifecycle_stage != LifecycleStage.ACTIVE:
            raise Exception("Cannot rename experiment in non-active lifecycle stage. "
                            f"Current stage: {experiment.lifecycle_stage}")
        self._store.rename_experiment(str(experiment_id), new_name)

    @_mlflow_errors
    def set_experiment_tag(self, experiment_id, tag):
        _validate_tag_name(tag.key)
        experiment = self.get_experiment(experiment_id)
        if experiment.lifecycle_stage != LifecycleStage.ACTIVE:
            raise MlflowException(f"The experiment {experiment.experiment_id} must be in the 'active' "
                                  "lifecycle_stage to set tags", error_code=databricks_pb2.INVALID_PARAMETER_VALUE)
        self._store.set_experiment_tag(str(experiment_id), tag.key, "" if tag.value is None else str(tag.value))

    @_mlflow_errors
    def delete_experiment_tag(self, experiment_id, key):
        experiment = self.get_experiment(experiment_id)
        if experiment.lifecycle_stage != LifecycleStage.ACTIVE:
            raise MlflowException(f"The experiment {experiment.experiment_id} must be in the 'active' "
                                  "lifecycle_stage to delete tags", error_code=databricks_pb2.INVALID_PARAMETER_VALUE)
        if key not in experiment.tags:
            raise MlflowException(f"No tag with name: {key} in experiment with id {experiment_id}",
                                  error_code=databricks_pb2.RESOURCE_DOES_NOT_EXIST)
        self._store.delete_experiment_tag(str(experiment_id), key)

    # ---- runs -----------------------------------------------------------------

    def _run_or_raise(self, run_id) -> _mlruns.Run:
        try:
            run = self._reader.run(run_id)
        except mlruns.NotFoundError:
            run = None
        except mlruns.CorruptionError:
            raise MlflowException(f"Run '{run_id}' metadata is in invalid state.",
                                  databricks_pb2.INVALID_STATE) from None
        # A run is a folder of an experiment. The reader also finds <root>/<a run id>/
        # artifacts/meta.yaml when an experiment's artifact location is the tree root, and a
        # meta.yaml planted there could point artifact_uri anywhere: such a "run" is not found,
        # as FileStore's _is_valid_run_directory decides (file_store.py, ZDI-CAN-26649).
        if run is None:
            self._raise_if_meta_missing(None, run_id)
        if run is None or run_id == self.ARTIFACTS_FOLDER_NAME or not self._is_experiment(run.info.experiment_id):
            raise MlflowException(f"Run '{run_id}' not found", databricks_pb2.RESOURCE_DOES_NOT_EXIST)
        return run

    def _raise_if_meta_missing(self, experiment_id, run_id=None):
        """MissingConfigException, FileStore's error (file_store.py: _read_yaml, _get_experiment),
        for an experiment folder (experiment_id) or a run folder of any experiment (run_id)
        whose meta.yaml is missing or empty; nothing otherwise."""
        if not _PLAIN_ID.fullmatch(experiment_id or run_id or ""):
            return
        root = self.root_directory
        parents = [root, os.path.join(root, self.TRASH_FOLDER_NAME)]
        if run_id is None:
            folders = [os.path.join(p, experiment_id) for p in parents]
        else:
            folders = [os.path.join(p, e, run_id) for p in parents for e in _subfolders(p)
                       if os.path.isfile(os.path.join(p, e, self.META_DATA_FILE_NAME))]
        for folder in folders:
            meta = os.path.join(folder, self.META_DATA_FILE_NAME)
            if not os.path.isdir(folder) or os.path.islink(folder):
                continue
            if not os.path.exists(meta):
                raise MissingConfigException(f"Yaml file '{meta}' does not exist.")
            if os.path.getsize(meta) == 0 and run_id is None:
                raise MissingConfigException(f"Experiment {experiment_id} is invalid with empty "
                                             f"{self.META_DATA_FILE_NAME} in directory '{folder}'.")

    def _is_experiment(self, experiment_id) -> bool:
        try:
            self._reader.experiment(experiment_id)
            return True
        except mlruns.MlrunsError:
            return False

    def _active_run_info(self, run_id) -> _mlruns.RunInfo:
        info = self._run_or_raise(run_id).info
        if info.lifecycle_stage != LifecycleStage.ACTIVE:
            raise MlflowException(f"The run {run_id} must be in 'active' lifecycle_stage.",
                                  error_code=databricks_pb2.INVALID_PARAMETER_VALUE)
        return info

    @_mlflow_errors
    def create_run(self, experiment_id, user_id, start_time, tags, run_name):
        experiment = self.get_experiment(experiment_id)
        if experiment.lifecycle_stage != LifecycleStage.ACTIVE:
            raise MlflowException(f"Could not create run under non-active experiment with ID "
                                  f"{experiment.experiment_id}.", databricks_pb2.INVALID_STATE)
        tag_map = {}
        for tag in tags or []:
            _validate_tag_name(tag.key)
            tag_map[tag.key] = "" if tag.value is None else str(tag.value)
        name_tag = tag_map.get(_RUN_NAME_TAG)
        # No name: one from MLflow's own generator, as FileStore.create_run does.
        run_name = run_name or name_tag or _generate_random_name()
        if run_name and name_tag and run_name != name_tag:
            raise MlflowException(
                "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values "
                f"(run_name='{run_name}', mlflow.runName='{name_tag}').", databricks_pb2.INVALID_PARAMETER_VALUE)
        run = self._store.start_run(experiment.experiment_id, run_name or "", "", tag_map, "",
                                    None if start_time is None else int(start_time), False, "")
        run_id = run.run_id
        run.detach()  # RUNNING until MLflow ends it (update_run_info)
        return self.get_run(run_id)

    @_mlflow_errors
    def get_run(self, run_id):
        _validate_run_id(run_id)
        return self._artifacts_checked(_with_outputs(self.root_directory, [_run(self._run_or_raise(run_id))])[0])

    def _artifacts_checked(self, run: MlflowRun) -> MlflowRun:
        """The run with the artifact_uri mlruns' artifact-folder rule allows
        (mlruns._mlflow_artifact_uri): MLflow's client opens the artifact repository of
        get_run(run_id).info.artifact_uri, and its LocalArtifactRepository writes wherever
        that names, through links; a URI from a hostile tree never gets there."""
        i = run.info
        uri, why = mlruns._mlflow_artifact_uri(self._reader, i.run_id, i.experiment_id, i.artifact_uri)
        if uri == i.artifact_uri:
            return run
        if why:
            _log.warning("mlruns: %s; MLflow gets artifact_uri %r, which it refuses", why, uri)
        info = MlflowRunInfo(i.run_id, i.experiment_id, i.user_id, i.status, i.start_time, i.end_time,
                             i.lifecycle_stage, uri, run_name=i.run_name)
        if _NO_OUTPUTS is not None:
            return MlflowRun(info, run.data, run.inputs, run.outputs)
        return MlflowRun(info, run.data, run.inputs)

    @_mlflow_errors
    def update_run_info(self, run_id, run_status, end_time, run_name):
        _validate_run_id(run_id)
        info = self._active_run_info(run_id)
        if run_name:
            self._store.log_batch(run_id, [], {}, {_RUN_NAME_TAG: run_name})
        # None keeps the stored value, as FileStore's RunInfo._copy_with_overrides does.
        status = info.status if run_status is None else _status_name(run_status)
        new_end = info.end_time if end_time is None else int(end_time)
        if status != info.status or new_end != info.end_time:
            if new_end is not None:
                self._store.set_terminated(run_id, status, new_end)
            elif status == "RUNNING":
                self._store.resume_run(run_id).detach()  # RUNNING, end_time kept (spec §7)
            else:
                self._store.set_terminated(run_id, status, None)  # end_time now
        return _run_info(self._run_or_raise(run_id).info)

    @_mlflow_errors
    def delete_run(self, run_id):
        self._run_or_raise(run_id)
        self._store.delete_run(run_id)

    @_mlflow_errors
    def restore_run(self, run_id):
        self._run_or_raise(run_id)
        self._store.restore_run(run_id)

    # ---- logging --------------------------------------------------------------

    def _write(self, run_id, metrics, params, tags, check_metrics=False):
        """One by-id write of MLflow Metric objects (read in C++: float(value), int(timestamp),
        int(step or 0)), params and tags; mlruns' refusals as FileStore words them.
        check_metrics: nothing is written and None returned unless every metric is one that
        MLflow's validators accept without a doubt (_mlruns' plainly_valid_metric)."""
        try:
            written = self._store.log_batch_objects(run_id, metrics, params, tags, check_metrics)
        except mlruns.NotFoundError:
            self._run_or_raise(run_id)  # the run is missing: FileStore's error
            raise
        except mlruns.FailedPreconditionError:
            raise MlflowException(f"The run {run_id} must be in 'active' lifecycle_stage.",
                                  error_code=databricks_pb2.INVALID_PARAMETER_VALUE) from None
        except mlruns.AlreadyExistsError as e:  # a param changed: FileStore's words and code
            stored = self._run_or_raise(run_id).params
            key = next((k for k, v in params.items() if k in stored and stored[k] != v), None)
            if key is None:
                raise MlflowException(f"Changing param values is not allowed. {e}",
                                      databricks_pb2.INVALID_PARAMETER_VALUE) from None
            raise MlflowException(  # file_store.py: _log_run_param
                f"Changing param values is not allowed. Param with key='{key}' was already"
                f" logged with value='{stored[key]}' for run ID='{run_id}'. Attempted logging"
                f" new value '{params[key]}'.", databricks_pb2.INVALID_PARAMETER_VALUE) from None
        if written is not None:  # None: nothing written, MLflow's validators judge first
            _log_model_metrics(self, run_id, metrics)
        return written

    @_mlflow_errors
    def log_metric(self, run_id, metric):
        _validate_run_id(run_id)
        # Checked in C++; MLflow's validator raises its own exception for what C++ doubts.
        if self._write(run_id, [metric], {}, {}, check_metrics=True) is None:
            _validate_metric(metric.key, metric.value, metric.timestamp, metric.step)
            self._write(run_id, [metric], {}, {})

    @_mlflow_errors
    def log_param(self, run_id, param):
        _validate_run_id(run_id)
        param = _validate_param(param.key, param.value) or param
        self._write(run_id, [], {param.key: "" if param.value is None else str(param.value)}, {})

    @_mlflow_errors
    def set_tag(self, run_id, tag):
        _validate_run_id(run_id)
        _validate_tag_name(tag.key)
        self._write(run_id, [], {}, {tag.key: "" if tag.value is None else str(tag.value)})

    @_mlflow_errors
    def delete_tag(self, run_id, key):
        _validate_run_id(run_id)
        # Store::delete_tag has FileStore.delete_tag's semantics; the messages are FileStore's.
        try:
            self._store.delete_tag(run_id, key)
        except mlruns.NotFoundError:
            self._run_or_raise(run_id)  # the run is missing: FileStore's error
            raise MlflowException(f"No tag with name: {key} in run with id {run_id}",
                                  error_code=databricks_pb2.RESOURCE_DOES_NOT_EXIST) from None
        except mlruns.FailedPreconditionError:
            raise MlflowException(f"The run {run_id} must be in 'active' lifecycle_stage.",
                                  error_code=databricks_pb2.INVALID_PARAMETER_VALUE) from None

    @_mlflow_errors
    def log_batch(self, run_id, metrics, params, tags):
        # FileStore's checks, in its order: the data (metrics, params, tags), the batch
        # limits, unique param keys. MLflow's validators check params, tags and limits here;
        # the metrics are checked in C++ while they are read for the write, and MLflow's
        # validators see them only when C++ doubts one (a key with ':' or non-ASCII, a
        # value that is not a float or int, ...), so every refusal is MLflow's own.
        _validate_run_id(run_id)
        metrics = metrics if isinstance(metrics, (list, tuple)) else list(metrics)
        try:
            checked_params, checked_tags = _validate_params_tags(params, tags)
            _validate_batch_log_limits(metrics, checked_params, checked_tags)
            _validate_param_keys_unique(checked_params)
        except MlflowException:
            _validate_batch(metrics, params, tags)  # a bad metric comes first, as in FileStore
            raise
        params = {p.key: "" if p.value is None else str(p.value) for p in checked_params}
        tags = {t.key: "" if t.value is None else str(t.value) for t in checked_tags}
        if self._write(run_id, metrics, params, tags, check_metrics=True) is None:
            _validate_batch(metrics, checked_params, checked_tags)  # raises MLflow's exception
            self._write(run_id, metrics, params, tags)

    @_mlflow_errors
    def get_metric_history(self, run_id, metric_key, max_results=None, page_token=None):
        _validate_run_id(run_id)
        _validate_metric_name(metric_key)
        self._run_or_raise(run_id)
        points = [_metric(m) for m in self._reader.metric_history(run_id, metric_key)]
        if max_results is None:
            offset = SearchUtils.parse_start_offset_from_page_token(page_token)
            return PagedList(points[offset:], None)
        page, token = SearchUtils.paginate(points, page_token, max_results)
        return PagedList(page, token)

    # ---- search ---------------------------------------------------------------

    @_mlflow_errors
    def _search_runs(self, experiment_ids, filter_string, run_view_type, max_results, order_by, page_token):
        if max_results > SEARCH_MAX_RESULTS_THRESHOLD:
            raise MlflowException(
                "Invalid value for request parameter max_results. It must be at most "
                f"{SEARCH_MAX_RESULTS_THRESHOLD}, but got value {max_results}", databricks_pb2.INVALID_PARAMETER_VALUE)
        if max_results == 0:  # FileStore pages an empty page: none, and a token if any run is left
            runs, token = self._search_runs(experiment_ids, filter_string, run_view_type, 1, order_by, page_token)
            if not runs:
                return [], None
            start = SearchUtils.parse_start_offset_from_page_token(page_token)
            return [], SearchUtils.create_page_token(start)
        # Only experiments' runs: a folder without an experiment's meta.yaml (e.g. <root>/<run id>
        # under an artifact location at the root) holds none, as in FileStore (_run_or_raise).
        experiment_ids = [str(i) for i in experiment_ids if self._is_experiment(str(i))]
        args = (self._reader, experiment_ids, filter_string or "", list(order_by or []),
                _view_name(run_view_type), max_results, page_token or "")
        if self._entities is not None:
            runs, token = _mlruns.search_runs_mlflow(*args, self._entities)
        else:
            runs, token = _mlruns.search_runs(*args)
            runs = [_run(r) for r in runs]
        runs = [self._artifacts_checked(r) for r in _with_outputs(self.root_directory, runs)]
        # bytes, as MLflow's SearchUtils.create_page_token makes them for its own stores
        return runs, token.encode() if token else None

    # ---- datasets (the UI's dataset filter) ----------------------------------

    @_mlflow_errors
    def _search_datasets(self, experiment_ids):
        """Distinct (experiment, dataset name, digest, context) of the experiments' runs, at
        most 1000, as FileStore's _search_datasets lists them for the UI."""
        summaries = []
        seen = set()
        for run in self._reader.runs([str(i) for i in experiment_ids], "ACTIVE_ONLY"):
            for d in run.dataset_inputs:
                key = (run.info.experiment_id, d.dataset.name, d.dataset.digest, d.tags.get("mlflow.data.context"))
                if key not in seen:
                    seen.add(key)
                    summaries.append(_DatasetSummary(*key))
                    if len(summaries) == 1000:
                        return summaries
        return summaries

    # ---- inputs ---------------------------------------------------------------

    def log_inputs(self, run_id, datasets=None, models=None):
        """Dataset inputs (mlflow.log_input): written by MLflow's own FileStore code over the
        same tree (mlruns reads inputs/ and datasets/ but has no writer for them yet), so the
        bytes are MLflow's. On MLflow >= 3.10 that needs MLFLOW_ALLOW_FILE_STORE=true."""
        if not datasets and not models:
            return
        self._run_or_raise(run_id)
        if models is None:
            return self._mlflow_file_store().log_inputs(run_id, datasets)
        return self._mlflow_file_store().log_inputs(run_id, datasets, models)

    def _mlflow_file_store(self, call="log_inputs"):
        """MLflow's FileStore over this tree, for what the engine does not write (dataset
        inputs, LoggedModels); MlflowException(NOT_IMPLEMENTED) naming `call` if this MLflow
        has none or refuses it."""
        if getattr(self, "_file_store", None) is None:
            if _FileStore is None:
                raise MlflowException(f"{call} needs MLflow's FileStore, which this MLflow does not have",
                                      databricks_pb2.NOT_IMPLEMENTED)
            try:
                with warnings.catch_warnings():  # 3.x's deprecation of file: URIs is not about mlruns:
                    warnings.simplefilter("ignore", FutureWarning)
                    self._file_store = _FileStore(self.root_directory, self.artifact_root_uri)
            except MlflowException as e:
                raise MlflowException(
                    f"{call} on an mlruns: URI writes through MLflow's FileStore, which this MLflow "
                    f"refuses: {e.message}", databricks_pb2.NOT_IMPLEMENTED) from e
        return self._file_store


def registry_store(store_uri=None, tracking_uri=None):
    """MLflow's model registry for ``mlruns:`` URIs (entry point group
    ``mlflow.model_registry_store``): MLflow's own file-store registry
    (mlflow/store/model_registry/file_store.py) over the same tree, so that the default
    registry URI (the tracking URI) and the server's registry pages work. mlruns writes no
    registry itself; on MLflow >= 3.10 this needs MLFLOW_ALLOW_FILE_STORE=true."""
    from mlflow.store.model_registry.file_store import FileStore as RegistryFileStore

    return RegistryFileStore(_open_tree(store_uri).root)


# ---- MLflow 3.x LoggedModels (issue 12/13) -------------------------------------
#
# A LoggedModel is <exp>/models/<model_id>/ (meta.yaml, params/, tags/, metrics/,
# artifacts/) and a run's outputs/<model_id>/meta.yaml links it (format spec §9.2).
# The C++ engine writes these records only as part of log_model (a model from files,
# READY at once); MLflow's API creates a PENDING record first, uploads the files into
# its artifact_location, then finalizes it, and tags, params and searches it on the way.
# So these methods run MLflow's own FileStore code over the same tree, as log_inputs
# does: the bytes, the filter/order_by/page-token rules and the errors are FileStore's.
# On MLflow >= 3.10 that FileStore needs MLFLOW_ALLOW_FILE_STORE=true; without it every
# method but the listing raises NOT_IMPLEMENTED saying so, and the listing is empty
# (3.x's list_artifacts searches a run's logged models in passing).

_LOGGED_MODEL_METHODS = (
    "create_logged_model", "log_logged_model_params", "finalize_logged_model", "set_logged_model_tags",
    "delete_logged_model_tag", "get_logged_model", "delete_logged_model", "log_outputs",
    "_hard_delete_logged_model", "_get_deleted_logged_models",
)


def _by_mlflow_file_store(name):
    """The store method `name`, done by MLflow's FileStore over this tree."""

    def method(self, *args, **kwargs):
        return getattr(self._mlflow_file_store(name), name)(*args, **kwargs)

    method.__name__ = name
    method.__doc__ = (f"MLflow's FileStore.{name} over this tree (mlflow/store/tracking/file_store.py): "
                      "same arguments, result, bytes and MlflowException codes.")
    return method


def _search_logged_models(self, experiment_ids, filter_string=None, datasets=None, max_results=None,
                          order_by=None, page_token=None):
    """MLflow's FileStore.search_logged_models over this tree (filter_string, datasets,
    order_by and page_token as FileStore takes them); an empty page where this MLflow
    refuses its FileStore (>= 3.10 without MLFLOW_ALLOW_FILE_STORE=true)."""
    try:
        store = self._mlflow_file_store("search_logged_models")
    except MlflowException:
        return PagedList([], None)
    return store.search_logged_models(experiment_ids, filter_string=filter_string, datasets=datasets,
                                      max_results=max_results, order_by=order_by, page_token=page_token)


def _run_outputs(root_directory, info):
    """RunOutputs of <exp>/<run>/outputs/*/meta.yaml (the models a run logged, MLflow >= 3.0),
    as FileStore._get_all_outputs reads them; the shared empty one if there is no outputs/."""
    outputs_dir = os.path.join(root_directory, info.experiment_id, info.run_id, "outputs")
    if _NO_OUTPUTS is None or not os.path.isdir(outputs_dir):
        return _NO_OUTPUTS
    from mlflow.entities import LoggedModelOutput
    from mlflow.protos.internal_pb2 import OutputVertexType

    outputs = []
    for name in os.listdir(outputs_dir):
        entry = _FileStore._FileStoreOutput.from_yaml(os.path.join(outputs_dir, name), "meta.yaml")
        if entry.destination_type == OutputVertexType.MODEL_OUTPUT:
            outputs.append(LoggedModelOutput(model_id=entry.destination_id, step=entry.step))
    return RunOutputs(model_outputs=outputs) if outputs else _NO_OUTPUTS


def _with_outputs(root_directory, runs):
    """The runs, each with its outputs (a new Run for the few that have any)."""
    if _NO_OUTPUTS is None or _FileStore is None or not hasattr(_FileStore, "_FileStoreOutput"):
        return runs
    isdir = os.path.isdir  # one stat per run: ~1 us, against the page's ~50 us per run
    result = list(runs)
    for i, run in enumerate(result):
        info = run.info
        if isdir(f"{root_directory}/{info.experiment_id}/{info.run_id}/outputs"):
            outputs = _run_outputs(root_directory, info)
            if outputs is not _NO_OUTPUTS:
                result[i] = MlflowRun(info, run.data, run.inputs, outputs)
    return result


def _record_logged_model(self, run_id, mlflow_model):
    """Appends mlflow_model's dict to the run's mlflow.log-model.history tag, as FileStore's
    record_logged_model does (json.dumps of the list; TypeError for a non-Model), through
    the engine's atomic tag write."""
    import json

    from mlflow.models import Model

    if not isinstance(mlflow_model, Model):
        raise TypeError(f"Argument 'mlflow_model' should be mlflow.models.Model, got '{type(mlflow_model)}'")
    _validate_run_id(run_id)
    run = self._run_or_raise(run_id)
    if run.info.lifecycle_stage != LifecycleStage.ACTIVE:
        raise MlflowException(f"The run {run_id} must be in 'active' lifecycle_stage.",
                              error_code=databricks_pb2.INVALID_PARAMETER_VALUE)
    history = run.tags.get(_LOG_MODEL_HISTORY_TAG)
    models = json.loads(history) if history else []
    # 3.x records get_tags_dict() (to_dict() less the fields it leaves out), 2.x to_dict().
    entry = getattr(mlflow_model, "get_tags_dict", mlflow_model.to_dict)()
    self._write(run_id, [], {}, {_LOG_MODEL_HISTORY_TAG: json.dumps(models + [entry])})


_LOG_MODEL_HISTORY_TAG = "mlflow.log-model.history"


def _log_model_metrics(store, run_id, metrics):
    """Metrics logged with a model_id (MLflow >= 3.0: the active model, or log_metric(model_id=))
    are also appended to <exp>/models/<model_id>/metrics/<key>, by FileStore's _log_model_metric
    (the run's own files are the engine's, written before)."""
    linked = [m for m in metrics if getattr(m, "model_id", None) is not None]
    if not linked:
        return
    file_store = store._mlflow_file_store("log_metric with a model_id")
    experiment_id = store._run_or_raise(run_id).info.experiment_id
    for metric in linked:
        file_store._log_model_metric(experiment_id=experiment_id, model_id=metric.model_id, run_id=run_id,
                                     metric=metric)


def _install_logged_models():
    """record_logged_model on every MLflow (FileStore writes the 2.x history tag on 2.x too);
    the LoggedModel methods where this MLflow has them (>= 3.0)."""
    MlrunsStore.record_logged_model = _mlflow_errors(_record_logged_model)
    if not hasattr(AbstractStore, "create_logged_model") or _FileStore is None:
        return
    for name in _LOGGED_MODEL_METHODS:
        if hasattr(_FileStore, name):
            setattr(MlrunsStore, name, _by_mlflow_file_store(name))
    MlrunsStore.search_logged_models = _search_logged_models


_install_logged_models()


def _search_traces(self, *args, **kwargs):
    """mlruns writes no traces: no trace and no next page (the UI's traces tab shows none)."""
    return [], None


def _not_implemented(name):
    def method(self, *args, **kwargs):
        raise MlflowException(
            f"{name} is not supported by the mlruns: tracking store: mlruns writes experiments, runs, "
            "params, metrics, tags, artifacts and logged models; traces, assessments, scorers and "
            "evaluation datasets need a database tracking URI (sqlite:, postgresql:)",
            databricks_pb2.NOT_IMPLEMENTED)

    method.__name__ = name
    method.__doc__ = f"Not supported by mlruns: raises MlflowException(NOT_IMPLEMENTED)."
    return method


def _fill_not_implemented():
    """Every AbstractStore method that this MLflow leaves unimplemented (its body raises
    NotImplementedError) raises MLflow's NOT_IMPLEMENTED error with a message instead."""
    if hasattr(AbstractStore, "search_traces"):
        MlrunsStore.search_traces = _search_traces
    for name, member in vars(AbstractStore).items():
        if name.startswith("__") or name in vars(MlrunsStore) or not inspect.isfunction(member):
            continue
        try:
            source = inspect.getsource(member)
        except (OSError, TypeError):
            continue
        if "raise NotImplementedError" in source or getattr(member, "__isabstractmethod__", False):
            setattr(MlrunsStore, name, _not_implemented(name))
    MlrunsStore.__abstractmethods__ = frozenset()


_fill_not_implemented()
