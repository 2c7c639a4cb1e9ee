#!/usr/bin/env python3
"""Writes the model fixtures tests/fixtures/mlflow-<version>-models/ with a real MLflow.

A logged model, the run's mlflow.log-model.history tag and a Model Registry with
every state mlruns reads (spec §8.3, §9.2, §9.4): descriptions, tags, an alias,
2.x stages (Production, Archived, a deleted version), a model without versions
and one whose name is not ASCII.

    PYTHON tools/scripts/gen_model_fixtures.py /tmp/golden-models/<version>/mlruns

PYTHON is an interpreter with MLflow (2.x or 3.x), scikit-learn and numpy; the
fixtures READMEs say which MLflow wrote each tree and how rest/ was captured.
"""
import os
import sys

import mlflow
from mlflow import MlflowClient
from mlflow.models import Model

root = os.path.abspath(sys.argv[1])
mlflow.set_tracking_uri("file:" + root)
mlflow.set_registry_uri("file:" + root)
major = int(mlflow.__version__.split(".")[0])
mlflow.set_experiment("models")

import numpy as np  # noqa: E402
from sklearn.linear_model import LinearRegression  # noqa: E402

X = np.array([[1.0, 2.0], [2.0, 3.0], [3.0, 5.0]], dtype=np.float32)
y = np.array([1.0, 2.0, 3.0])
estimator = LinearRegression().fit(X, y)
client = MlflowClient()


def log_sklearn(name, **kw):
    if major >= 3:
        return mlflow.sklearn.log_model(estimator, name=name, pip_requirements=["scikit-learn"], **kw)
    return mlflow.sklearn.log_model(estimator, name, pip_requirements=["scikit-learn"], **kw)


with mlflow.start_run(run_name="trainer") as run:
    run_id = run.info.run_id
    mlflow.log_metric("loss", 0.25, step=3)
    first = log_sklearn("model", metadata={"epoch": "3", "yes": "no"})
    second = log_sklearn("model2")
    # The history entry of an ONNX model, as mlflow.onnx.save_model builds its
    # flavors (its config is left out of the tag, spec §8.3).
    onnx_model = Model(artifact_path="onnx-model", run_id=run_id)
    onnx_model.add_flavor("python_function", loader_module="mlflow.onnx", data="model.onnx",
                          config={"unused": 1})
    onnx_model.add_flavor("onnx", onnx_version="1.12.0", data="model.onnx",
                          providers=["CPUExecutionProvider"], code=None)
    client._record_logged_model(run_id, onnx_model)

registry = client
registry.create_registered_model("bare")
registry.create_registered_model("reg-model", tags={"team": "cfd"}, description="the sweep's best")
v1 = mlflow.register_model(first.model_uri if major < 3 else f"runs:/{run_id}/model", "reg-model")
v2 = mlflow.register_model(f"runs:/{run_id}/model2", "reg-model")
v3 = registry.create_model_version("reg-model", source=f"runs:/{run_id}/model", run_id=run_id,
                                   tags={"k": "v"}, description="third")
registry.set_registered_model_alias("reg-model", "champion", v1.version)
registry.set_model_version_tag("reg-model", v1.version, "validated", "yes")
registry.transition_model_version_stage("reg-model", v2.version, "Production")
registry.transition_model_version_stage("reg-model", v1.version, "Production",
                                        archive_existing_versions=True)
registry.delete_model_version("reg-model", v3.version)
registry.create_registered_model("unicodé ü", tags={"t": "ü"})
print(run_id)
