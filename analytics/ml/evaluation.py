"""How a trained pipeline is judged on held-out rows, which columns matter to it, and why it gave
one row its score. Plain scikit-learn, no Django."""

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.compose import ColumnTransformer
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    log_loss,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

ROC_POINTS = 50
CALIBRATION_BINS = 10
IMPORTANCE_ROWS = 2000
# Rows explained per estimator call: each becomes one copy per column.
EXPLAIN_ROWS = 5000


def _rounded(value: float) -> float:
    return round(float(value), 4)


def _roc_points(y_true: np.ndarray, probability: np.ndarray) -> list[list[float]]:
    false_positive, true_positive, _thresholds = roc_curve(y_true, probability)
    # A chart needs a few dozen points, not one per distinct score.
    keep = np.unique(np.linspace(0, len(false_positive) - 1, ROC_POINTS).round().astype(int))
    return [[_rounded(false_positive[i]), _rounded(true_positive[i])] for i in keep]


def calibration_table(y_true: np.ndarray, probability: np.ndarray) -> list[dict]:
    """Per tenth of predicted probability: how many rows, their mean prediction, and how many of
    them really were positive. A well-calibrated model has the two close."""
    bins = np.minimum((probability * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
    table = []
    for index in range(CALIBRATION_BINS):
        inside = bins == index
        count = int(inside.sum())
        table.append(
            {
                "bin": f"{index / CALIBRATION_BINS:.1f}-{(index + 1) / CALIBRATION_BINS:.1f}",
                "rows": count,
                "predicted": _rounded(probability[inside].mean()) if count else None,
                "observed": _rounded(y_true[inside].mean()) if count else None,
            }
        )
    return table


def binary_metrics(y_true, probability, *, threshold: float = 0.5) -> dict:
    """ROC AUC, accuracy, precision, recall, log loss, the ROC curve, the confusion matrix at
    `threshold` ([[true negatives, false positives], [false negatives, true positives]]) and the
    calibration table. ROC AUC is None when the held-out rows hold a single class."""
    y_true = np.asarray(y_true).astype(int)
    probability = np.clip(np.asarray(probability, dtype=float), 1e-7, 1 - 1e-7)
    predicted = (probability >= threshold).astype(int)
    both_classes = len(np.unique(y_true)) == 2
    return {
        "roc_auc": _rounded(roc_auc_score(y_true, probability)) if both_classes else None,
        "accuracy": _rounded(accuracy_score(y_true, predicted)),
        "precision": _rounded(precision_score(y_true, predicted, zero_division=0)),
        "recall": _rounded(recall_score(y_true, predicted, zero_division=0)),
        "log_loss": _rounded(log_loss(y_true, probability, labels=[0, 1])),
        "threshold": threshold,
        "roc": _roc_points(y_true, probability) if both_classes else [],
        "confusion": confusion_matrix(y_true, predicted, labels=[0, 1]).tolist(),
        "calibration": calibration_table(y_true, probability),
    }


def multiclass_metrics(y_true, probabilities: np.ndarray, classes: list) -> dict:
    """For a model choosing among several classes (a ticket's category): one-vs-rest ROC AUC
    weighted by class size, accuracy, macro precision and recall, log loss, the confusion matrix
    with `labels` naming its rows and columns."""
    y_true = np.asarray(y_true)
    predicted = np.asarray(classes)[probabilities.argmax(axis=1)]
    present = len(np.unique(y_true)) > 1
    roc_auc = None
    if present:
        try:
            roc_auc = _rounded(
                roc_auc_score(
                    y_true, probabilities, multi_class="ovr", average="weighted", labels=classes
                )
            )
        except ValueError:
            roc_auc = None
    return {
        "roc_auc": roc_auc,
        "accuracy": _rounded(accuracy_score(y_true, predicted)),
        "precision": _rounded(
            precision_score(y_true, predicted, average="macro", zero_division=0, labels=classes)
        ),
        "recall": _rounded(
            recall_score(y_true, predicted, average="macro", zero_division=0, labels=classes)
        ),
        "log_loss": _rounded(log_loss(y_true, np.clip(probabilities, 1e-7, 1), labels=classes)),
        "labels": [str(label) for label in classes],
        "confusion": confusion_matrix(y_true, predicted, labels=classes).tolist(),
    }


def feature_importance(
    pipeline: Pipeline, frame: pd.DataFrame, y_true, *, columns: list[str], seed: int = 0
) -> list[list]:
    """How much the held-out ROC AUC (or accuracy, for several classes) drops when one input
    column is shuffled, per column of the raw frame, largest first: [[column, drop], ...]."""
    rng = np.random.default_rng(seed)
    if len(frame) > IMPORTANCE_ROWS:
        chosen = rng.choice(len(frame), IMPORTANCE_ROWS, replace=False)
        frame = frame.iloc[chosen]
        y_true = np.asarray(y_true)[chosen]
    y_true = np.asarray(y_true)
    binary = len(pipeline.classes_) == 2

    def score(rows: pd.DataFrame) -> float:
        if binary:
            if len(np.unique(y_true)) < 2:
                return accuracy_score(y_true, pipeline.predict(rows))
            return roc_auc_score(y_true, pipeline.predict_proba(rows)[:, 1])
        return accuracy_score(y_true, pipeline.predict(rows))

    baseline = score(frame)
    drops = []
    for column in columns:
        shuffled = frame.copy()
        shuffled[column] = rng.permutation(shuffled[column].to_numpy())
        drops.append([column, _rounded(baseline - score(shuffled))])
    drops.sort(key=lambda item: item[1], reverse=True)
    return drops


def reference_row(frame: pd.DataFrame, *, columns: list[str]) -> dict:
    """A typical row (median of numbers, most common value otherwise), kept with the artifact so
    a single score can be explained against it."""
    reference = {}
    for column in columns:
        values = frame[column].dropna()
        if values.empty:
            reference[column] = None
        elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            reference[column] = float(values.median())
        else:
            reference[column] = values.mode().iloc[0]
    return reference


def explain_rows(
    pipeline: Pipeline,
    rows: pd.DataFrame,
    *,
    reference: dict,
    columns: list[str],
    top: int = 5,
) -> list[list[list]]:
    """Why each row got its probability: for every input column, how much the probability moves
    when that column alone is set back to the typical row's value. Positive effects pushed the
    score up. Returns per row the `top` strongest as [[column, shown value, effect], ...].

    The row itself and its copies with one column changed each go through the estimator in one
    call, so one customer costs one prediction. A batch goes through EXPLAIN_ROWS rows at a time:
    each row becomes one copy per column, and a whole scoring batch of copies at once would
    hold gigabytes."""
    explained = []
    for start in range(0, len(rows), EXPLAIN_ROWS):
        explained += _explain_part(
            pipeline,
            rows.iloc[start : start + EXPLAIN_ROWS],
            reference=reference,
            columns=columns,
            top=top,
        )
    return explained


def _output_columns(pipeline: Pipeline) -> dict[str, np.ndarray] | None:
    """Which columns of the prepared matrix each input column becomes, when the pipeline is a
    ColumnTransformer of column-by-column steps followed by the estimator; None otherwise."""
    if len(pipeline.steps) != 2 or not isinstance(pipeline[0], ColumnTransformer):
        return None
    prepare = pipeline[0]
    outputs: dict[str, list[int]] = {}
    for name, transformer, inputs in prepare.transformers_:
        if isinstance(transformer, str) and transformer == "drop":
            continue
        where = prepare.output_indices_[name]
        width = where.stop - where.start
        inputs = list(inputs)
        last = transformer[-1] if isinstance(transformer, Pipeline) else transformer
        if len(inputs) == 1:
            widths = [width]
        elif isinstance(last, OneHotEncoder):
            widths = list(last._n_features_outs)
        elif width == len(inputs):
            widths = [1] * width
        else:
            return None
        if sum(widths) != width:
            return None
        start = where.start
        for column, count in zip(inputs, widths, strict=True):
            outputs.setdefault(column, []).extend(range(start, start + count))
            start += count
    return {column: np.array(indices, dtype=int) for column, indices in outputs.items()}


def _with_typical(prepared, typical: np.ndarray, indices: np.ndarray):
    """The prepared rows with the columns `indices` set to the typical row's."""
    if not sparse.issparse(prepared):
        changed = prepared.copy()
        changed[:, indices] = typical[indices]
        return changed
    keep = np.ones(prepared.shape[1])
    keep[indices] = 0
    replaced = np.zeros((1, prepared.shape[1]))
    replaced[0, indices] = typical[indices]
    ones = sparse.csr_matrix(np.ones((prepared.shape[0], 1)))
    return prepared @ sparse.diags(keep) + ones @ sparse.csr_matrix(replaced)


def _variant_probabilities(
    pipeline: Pipeline, rows: pd.DataFrame, *, reference: dict, explained_columns: list[str]
) -> np.ndarray:
    """The positive probability of the rows, then of the rows with each explained column set to
    its reference value, one after the other. The steps before the estimator work column by
    column, so the rows are prepared once and each variant only swaps the changed column's
    prepared values for the typical row's: preparing (one-hot encoding) every copy costs twenty
    times the estimator."""
    outputs = _output_columns(pipeline)
    if outputs is None:
        variants = [rows]
        for column in explained_columns:
            changed = rows.copy()
            changed[column] = reference[column]
            variants.append(changed)
        return pipeline.predict_proba(pd.concat(variants, ignore_index=True))[:, -1]
    prepare, estimate = pipeline[0], pipeline[-1]
    prepared = prepare.transform(rows)
    typical_row = rows.iloc[:1].copy()
    for column in explained_columns:
        typical_row[column] = reference[column]
    typical = prepare.transform(typical_row)
    typical = (typical.toarray() if sparse.issparse(typical) else np.asarray(typical))[0]
    nothing = np.array([], dtype=int)
    blocks = [prepared] + [
        _with_typical(prepared, typical, outputs.get(column, nothing))
        for column in explained_columns
    ]
    stacked = (
        sparse.vstack(blocks, format="csr") if sparse.issparse(prepared) else np.vstack(blocks)
    )
    return estimate.predict_proba(stacked)[:, -1]


def _explain_part(
    pipeline: Pipeline, rows: pd.DataFrame, *, reference: dict, columns: list[str], top: int
) -> list[list[list]]:
    explained_columns = [column for column in columns if column in reference]
    probabilities = _variant_probabilities(
        pipeline, rows, reference=reference, explained_columns=explained_columns
    )
    probabilities = probabilities.reshape(len(explained_columns) + 1, len(rows))
    base = probabilities[0]
    effects = np.zeros((len(rows), len(columns)))
    for variant, column in enumerate(explained_columns, start=1):
        effects[:, columns.index(column)] = base - probabilities[variant]
    strongest = np.argsort(-np.abs(effects), axis=1)[:, :top]
    # One object array for the whole part: reading a row with .iloc costs more than its
    # prediction.
    values = rows[columns].to_numpy(dtype=object)
    explained = []
    for index in range(len(rows)):
        reasons = []
        for position in strongest[index]:
            effect = effects[index, position]
            if abs(effect) < 0.001:
                continue
            value = values[index, position]
            shown = "" if value is None or (isinstance(value, float) and np.isnan(value)) else value
            if isinstance(shown, str) and len(shown) > 60:
                shown = shown[:57] + "..."
            elif isinstance(shown, np.generic):
                shown = shown.item()
            if isinstance(shown, float):
                # Shown to people: 3 orders, not 3.0; 240.7 days, not 240.72617435107637.
                shown = int(shown) if shown.is_integer() else round(shown, 2)
            reasons.append([columns[position], shown, _rounded(effect)])
        explained.append(reasons)
    return explained
