"""The three built-in predictions (purchase propensity, churn risk, satisfaction): what each
contributes to the one training procedure (analytics.services.training), where satisfaction
keeps its scores, and one prediction on request (the predict API)."""

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.ml.evaluation import explain_rows
from analytics.models import ModelVersion, PredictiveModel, TicketPrediction
from analytics.selectors import features as feature_selectors
from analytics.services.scores import customer_scores_finish, customer_scores_store
from analytics.services.training import Bundle, ModelUnavailable, bundle_load
from analytics.specs import ModelSpec, model_spec
from crm.copying import copy_upsert
from customers.models import Customer
from service.models import Ticket


def _purchase_rows(_model, customer_ids: list[int]) -> pd.DataFrame:
    return feature_selectors.customer_feature_rows(cutoff=timezone.now(), customer_ids=customer_ids)


def _purchase_batches(_model) -> Iterator[pd.DataFrame]:
    return feature_selectors.customer_feature_chunks(cutoff=timezone.now())


def _churn_batches(_model) -> Iterator[pd.DataFrame]:
    # Only customers active now can stop ordering; the others keep no churn score.
    return feature_selectors.customer_feature_chunks(cutoff=timezone.now(), active_only=True)


def _ticket_rows(_model, ticket_ids: list[int]) -> pd.DataFrame:
    return feature_selectors.ticket_feature_rows(ticket_ids=ticket_ids)


def _ticket_batches(_model) -> Iterator[pd.DataFrame]:
    return feature_selectors.tickets_to_score_chunks()


def ticket_predictions_upsert(*, rows: dict[int, dict]) -> None:
    """Insert or update, for each ticket id, only the prediction columns given by attribute name
    (and `predicted_at`): the satisfaction model and the two text models each write their own
    columns of the same row, and none may wipe another's."""
    if not rows:
        return
    now = timezone.now()
    copy_upsert(
        TicketPrediction,
        [
            {"ticket_id": int(ticket_id), "predicted_at": now, **values}
            for ticket_id, values in rows.items()
        ],
        unique_fields=["ticket"],
        update_fields=[
            TicketPrediction._meta.get_field(name).name
            for name in [*next(iter(rows.values())), "predicted_at"]
        ],
    )


def ticket_satisfaction_store(
    model: PredictiveModel,
    version: ModelVersion,
    ticket_ids: list[int],
    probabilities: np.ndarray,
    classes: list,
    reasons: list | None,
) -> None:
    """Write only the satisfaction fields of each ticket's prediction row."""
    positive = probabilities[:, -1]
    ticket_predictions_upsert(
        rows={
            ticket_id: {
                "satisfaction_probability": float(positive[index]),
                "satisfaction_reasons": reasons[index] if reasons is not None else [],
                "satisfaction_version_id": version.pk,
            }
            for index, ticket_id in enumerate(ticket_ids)
        }
    )


PURCHASE_SPEC = ModelSpec(
    kind=PredictiveModel.Kind.PURCHASE,
    training_set=lambda _model: feature_selectors.purchase_training_set(now=timezone.now()),
    feature_rows=_purchase_rows,
    scoring_batches=_purchase_batches,
    store_scores=customer_scores_store,
    finish_scoring=customer_scores_finish,
    scoring_batch_count=lambda _model: feature_selectors.customer_feature_chunk_count(),
)
CHURN_SPEC = ModelSpec(
    kind=PredictiveModel.Kind.CHURN,
    training_set=lambda _model: feature_selectors.churn_training_set(now=timezone.now()),
    feature_rows=_purchase_rows,
    scoring_batches=_churn_batches,
    store_scores=customer_scores_store,
    finish_scoring=customer_scores_finish,
    scoring_batch_count=lambda _model: feature_selectors.customer_feature_chunk_count(),
)
# A rated or closed ticket keeps the last satisfaction prediction it had, to compare with the
# rating it got, so there is nothing to clear after a scoring run.
SATISFACTION_SPEC = ModelSpec(
    kind=PredictiveModel.Kind.SATISFACTION,
    training_set=lambda _model: feature_selectors.satisfaction_training_set(),
    feature_rows=_ticket_rows,
    scoring_batches=_ticket_batches,
    store_scores=ticket_satisfaction_store,
    scoring_batch_count=lambda _model: feature_selectors.tickets_to_score_chunk_count(),
)
BUILT_IN_SPECS = [PURCHASE_SPEC, CHURN_SPEC, SATISFACTION_SPEC]


@dataclass(frozen=True)
class Prediction:
    model: PredictiveModel
    version: ModelVersion
    probability: float
    # [[feature, value, effect], ...], strongest first; a positive effect pushed the score up.
    reasons: list


def _active_bundle(model: PredictiveModel) -> tuple[ModelVersion, Bundle]:
    version = model.active_version
    if version is None:
        raise ModelUnavailable(
            _("%(model)s has no active version yet: train it first.") % {"model": model}
        )
    return version, bundle_load(version=version)


def _predict(model: PredictiveModel, rows: pd.DataFrame) -> Prediction:
    version, bundle = _active_bundle(model)
    frame = rows[bundle.columns]
    probability = float(bundle.pipeline.predict_proba(frame)[0, -1])
    reasons = explain_rows(
        bundle.pipeline, frame, reference=bundle.reference, columns=bundle.columns
    )[0]
    return Prediction(model=model, version=version, probability=probability, reasons=reasons)


def prediction_for_subject(*, model: PredictiveModel, subject: Customer | Ticket) -> Prediction:
    """The active version's probability for one customer or ticket (the caller checked that the
    user may see it), with the features that pushed it up or down."""
    rows = model_spec(model.kind).feature_rows(model, [subject.pk])
    if rows.empty:
        raise ValidationError(
            {model.subject: _("This record's data has been erased; there is nothing to score.")}
        )
    return _predict(model, rows)


def _numeric_columns(bundle: Bundle) -> set[str]:
    prepare = bundle.pipeline.named_steps["prepare"]
    return {
        column
        for name, _transformer, columns in prepare.transformers_
        if name == "numeric"
        for column in columns
    }


def _is_number(value) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and not (isinstance(value, float) and math.isinf(value))
    )


def features_frame(*, bundle: Bundle, features: dict) -> pd.DataFrame:
    """One row from raw feature values: numbers for numeric columns, text (or true/false) for
    the others, null or left out for unknown. A ValidationError names each bad field."""
    errors = {}
    numeric = _numeric_columns(bundle)
    for name, value in features.items():
        field = f"features.{name}"
        if name not in bundle.columns:
            errors[field] = _("Unknown feature; expected one of: %(columns)s.") % {
                "columns": ", ".join(bundle.columns)
            }
        elif value is None:
            continue
        elif name in numeric and not _is_number(value):
            errors[field] = _("Must be a number or null.")
        elif name not in numeric and not isinstance(value, (str, bool, int, float)):
            errors[field] = _("Must be text, a number, true/false or null.")
    if errors:
        raise ValidationError(errors)
    row = {
        column: (np.nan if column in numeric else None)
        if features.get(column) is None
        else (float(features[column]) if column in numeric else features[column])
        for column in bundle.columns
    }
    return pd.DataFrame([row], index=pd.Index([0], name="id"))


def prediction_for_features(*, model: PredictiveModel, features: dict) -> Prediction:
    """The active version's probability for a row of raw feature values (what-if questions, or
    a customer the CRM does not hold yet)."""
    _version, bundle = _active_bundle(model)
    return _predict(model, features_frame(bundle=bundle, features=features))
