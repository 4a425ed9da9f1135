"""A toy model kind ("toy-b") for the model registry's pages, API and admin: a binary model on
random rows whose one informative feature can be weakened to make a worse version."""

import numpy as np
import pandas as pd

from analytics.ml.pipelines import Features
from analytics.models import ModelVersion, PredictiveModel
from analytics.services import training as training_services
from analytics.services.scores import customer_scores_finish, customer_scores_store
from analytics.specs import ModelSpec, TrainingSet, register_model_spec
from customers.models import Customer
from tests.analytics.factories import PredictiveModelFactory

TOY_B = "toy-b"
# How informative the toy's feature is; a test lowers it to train a worse version.
toy_signal = {"strength": 3.0}


def _frame(rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows)
    y = (toy_signal["strength"] * x + rng.normal(size=rows) > 0).astype(int)
    return pd.DataFrame({"x": x, "noise": rng.normal(size=rows)}), y


def _training_set(model) -> TrainingSet:
    train, y_train = _frame(300, 1)
    test, y_test = _frame(150, 2)
    return TrainingSet(
        train=train,
        y_train=y_train,
        test=test,
        y_test=y_test,
        features=Features(numeric=["x", "noise"]),
        split="toy rows 1-300 against rows 301-450",
    )


def _rows(model, ids):
    frame, _y = _frame(len(ids), 3)
    frame.index = ids
    return frame


def _batches(model):
    yield _rows(model, list(Customer.objects.order_by("pk").values_list("pk", flat=True)))


register_model_spec(
    ModelSpec(
        kind=TOY_B,
        training_set=_training_set,
        feature_rows=_rows,
        scoring_batches=_batches,
        store_scores=customer_scores_store,
        finish_scoring=customer_scores_finish,
    )
)


def toy_model_make(name: str = "toy-b") -> PredictiveModel:
    return PredictiveModelFactory(name=name, title="Toy B", kind=TOY_B)


def toy_version_train(model: PredictiveModel, *, strength: float = 3.0) -> ModelVersion:
    """Train one version right here (no task), with the feature as informative as asked."""
    toy_signal["strength"] = strength
    try:
        version = training_services.model_retrain_request(
            model=model, trigger=ModelVersion.Trigger.COMMAND
        )
        return training_services.model_train_run(version_id=version.pk)
    finally:
        toy_signal["strength"] = 3.0
