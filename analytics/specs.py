"""What each kind of predictive model contributes to the one training, registry and scoring
procedure in analytics.services.training: where its rows come from, how it is fitted, and where
its scores go. Each kind registers its spec from analytics.hooks when the app starts."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analytics.ml.pipelines import LOGISTIC_REGRESSION, Features, pipeline_make


@dataclass(frozen=True)
class TrainingSet:
    """Rows to fit on and held-out rows to judge on, never the same rows. `split` says how they
    were separated ("orders up to 2026-05-24 predict the next 90 days; tested on ...")."""

    train: pd.DataFrame
    y_train: np.ndarray
    test: pd.DataFrame
    y_test: np.ndarray
    features: Features
    split: str


@dataclass(frozen=True)
class Fitted:
    pipeline: object
    algorithm: str
    parameters: dict
    # Anything the choice of algorithm wants to show (cross-validated AUC per candidate...).
    selection: dict = field(default_factory=dict)


class NotEnoughData(Exception):
    """The CRM does not hold enough labelled rows to train this model yet; the message says what
    is missing."""


def fit_logistic_regression(training: TrainingSet, _model) -> Fitted:
    parameters = {"C": 1.0}
    pipeline = pipeline_make(training.features, LOGISTIC_REGRESSION, parameters)
    pipeline.fit(training.train, training.y_train)
    return Fitted(pipeline=pipeline, algorithm=LOGISTIC_REGRESSION, parameters=parameters)


# store(model, version, subject_ids, probabilities (rows x classes), classes, reasons or None)
ScoreStore = Callable[[object, object, list[int], np.ndarray, list, list | None], None]


@dataclass(frozen=True)
class ModelSpec:
    kind: str
    # model -> TrainingSet (raises NotEnoughData)
    training_set: Callable[[object], TrainingSet]
    # (model, subject ids) -> feature rows indexed by subject id, for one prediction or a batch
    feature_rows: Callable[[object, list[int]], pd.DataFrame]
    # model -> batches of feature rows (indexed by subject id) of everything to score
    scoring_batches: Callable[[object], Iterator[pd.DataFrame]] | None
    store_scores: ScoreStore | None
    # (model, version) after a complete scoring run: drop what older versions left behind
    finish_scoring: Callable[[object, object], None] | None = None
    # model -> how many batches scoring_batches will yield, so a run can show its progress
    scoring_batch_count: Callable[[object], int] | None = None
    fit: Callable[[TrainingSet, object], Fitted] = fit_logistic_regression
    # Whether each score is stored with the columns that pushed it up or down.
    explain: bool = True


_specs: dict[str, ModelSpec] = {}


def register_model_spec(spec: ModelSpec) -> None:
    _specs[spec.kind] = spec


def model_spec(kind: str) -> ModelSpec:
    try:
        return _specs[kind]
    except KeyError:
        raise LookupError(f"no model spec registered for {kind!r}") from None
