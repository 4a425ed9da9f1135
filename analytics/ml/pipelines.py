"""scikit-learn pipelines the CRM trains: impute, scale and one-hot encode the columns, turn free
text into character n-grams, then the estimator. Plain scikit-learn, no Django."""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

LOGISTIC_REGRESSION = "logistic_regression"
GRADIENT_BOOSTING = "gradient_boosting"
ALGORITHMS = (LOGISTIC_REGRESSION, GRADIENT_BOOSTING)


@dataclass(frozen=True)
class Features:
    """The columns of a training frame by type. `text` is one column of free text (any language:
    character n-grams need no word segmentation, so Chinese works as well as English)."""

    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    text: str | None = None

    @property
    def columns(self) -> list[str]:
        return [*self.numeric, *self.categorical, *([self.text] if self.text else [])]


def _as_strings(frame):
    # OneHotEncoder needs one type per column; missing values become their own category.
    return pd.DataFrame(frame).astype("object").where(pd.notna(frame), "(missing)").astype(str)


def _text_column(frame):
    return pd.DataFrame(frame).iloc[:, 0].fillna("").astype(str)


def preprocessor(features: Features, *, dense: bool = False) -> ColumnTransformer:
    transformers = []
    if features.numeric:
        transformers.append(
            (
                "numeric",
                make_pipeline(
                    SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler()
                ),
                features.numeric,
            )
        )
    if features.categorical:
        transformers.append(
            (
                "categorical",
                make_pipeline(
                    FunctionTransformer(_as_strings, feature_names_out="one-to-one"),
                    OneHotEncoder(
                        handle_unknown="infrequent_if_exist",
                        min_frequency=5,
                        max_categories=30,
                        sparse_output=not dense,
                    ),
                ),
                features.categorical,
            )
        )
    if features.text:
        transformers.append(
            (
                "text",
                make_pipeline(
                    FunctionTransformer(_text_column, feature_names_out="one-to-one"),
                    TfidfVectorizer(
                        analyzer="char_wb",
                        ngram_range=(2, 4),
                        min_df=2,
                        max_features=20000,
                        sublinear_tf=True,
                    ),
                ),
                [features.text],
            )
        )
    return ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0 if dense else 0.3)


def estimator(algorithm: str, parameters: dict | None = None):
    parameters = dict(parameters or {})
    if algorithm == LOGISTIC_REGRESSION:
        return LogisticRegression(
            **{"max_iter": 2000, "C": 1.0, "class_weight": None, **parameters}
        )
    if algorithm == GRADIENT_BOOSTING:
        return HistGradientBoostingClassifier(
            **{"max_iter": 200, "learning_rate": 0.05, "max_leaf_nodes": 15, **parameters},
            random_state=0,
        )
    raise ValueError(f"unknown algorithm {algorithm!r}; expected one of {', '.join(ALGORITHMS)}")


def pipeline_make(features: Features, algorithm: str, parameters: dict | None = None) -> Pipeline:
    """Preprocessing and estimator in one object, so the artifact scores raw rows as they come
    from the database, with the same imputation and encoding it was trained with."""
    # Gradient-boosted trees take no sparse input; text stays with logistic regression.
    dense = algorithm == GRADIENT_BOOSTING
    return Pipeline(
        [
            ("prepare", preprocessor(features, dense=dense)),
            ("estimate", estimator(algorithm, parameters)),
        ]
    )


def positive_probability(pipeline: Pipeline, frame: pd.DataFrame) -> np.ndarray:
    """The probability of the positive class (the last of the two classes, label 1)."""
    return pipeline.predict_proba(frame)[:, -1]
