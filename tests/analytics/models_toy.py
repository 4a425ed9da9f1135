"""The toy model kind ("toy") every registry test trains: a binary model on random rows whose one
informative feature can be weakened to make a worse version, or whose training set can be made
to fail."""

import numpy as np
import pandas as pd

from analytics.ml.pipelines import Features
from analytics.models import ModelVersion, PredictiveModel
from analytics.services import training as training_services
from analytics.services.scores import customer_scores_finish, customer_scores_store
from analytics.specs import ModelSpec, NotEnoughData, TrainingSet, register_model_spec
from customers.models import Customer
from tests.analytics.factories import PredictiveModelFactory

TOY = "toy"
# How informative the toy's feature is, and whether its training set is refused; tests change
# them to train a worse version or a failed one.
TOY_SIGNAL_DEFAULTS = {"strength": 3.0, "fail": False}
toy_signal = dict(TOY_SIGNAL_DEFAULTS)


def _frame(rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows)
    noise = rng.normal(size=rows)
    y = (toy_signal["strength"] * x + rng.normal(size=rows) > 0).astype(int)
    colour = np.where(x > 0, "red", "blue")
    return pd.DataFrame({"x": x, "noise": noise, "colour": colour}), y


def _training_set(model) -> TrainingSet:
    if toy_signal["fail"]:
        raise NotEnoughData("only 3 labelled rows")
    train, y_train = _frame(400, 1)
    test, y_test = _frame(200, 2)
    return TrainingSet(
        train=train,
        y_train=y_train,
        test=test,
        y_test=y_test,
        features=Features(numeric=["x", "noise"], categorical=["colour"]),
        split="toy rows 1-400 against rows 401-600",
    )


def _rows(model, ids):
    frame, _y = _frame(len(ids), 3)
    frame.index = ids
    return frame


def _batches(model):
    yield _rows(model, list(Customer.objects.order_by("pk").values_list("pk", flat=True)))


register_model_spec(
    ModelSpec(
        kind=TOY,
        training_set=_training_set,
        feature_rows=_rows,
        scoring_batches=_batches,
        store_scores=customer_scores_store,
        finish_scoring=customer_scores_finish,
    )
)


def toy_model_make(name: str = "toy-b") -> PredictiveModel:
    return PredictiveModelFactory(name=name, title="Toy B", kind=TOY)


def toy_version_train(model: PredictiveModel, *, strength: float = 3.0) -> ModelVersion:
    """Train one version right here (no task), with the feature as informative as asked."""
    toy_signal["strength"] = strength
    try:
        version = training_services.model_retrain_request(
            model=model, trigger=ModelVersion.Trigger.COMMAND
        )
        return training_services.model_train_run(version_id=version.pk)
    finally:
        toy_signal.update(TOY_SIGNAL_DEFAULTS)
