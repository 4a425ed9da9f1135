"""Writes of the ticket text models: their predictions on tickets (batch and one new ticket),
the suggestion applied to a ticket through service's own update, and one-off classification of a
text for integrators."""

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from analytics.models import ModelVersion, PredictiveModel, TicketPrediction
from analytics.selectors.text import (
    CATEGORY_MODEL,
    SENTIMENT_MODEL,
    TEXT_COLUMN,
    category_usual_team,
    text_model_get,
)
from analytics.services.predictions import ticket_predictions_upsert
from analytics.services.training import ModelUnavailable, bundle_load, scores_store_batch
from analytics.specs import model_spec
from crm.accounts.models import Team, User
from service.models import Ticket, TicketCategory
from service.services.tickets import ticket_update

logger = logging.getLogger(__name__)


def ticket_categories_store(
    model: PredictiveModel,
    version: ModelVersion,
    ticket_ids: list[int],
    probabilities: np.ndarray,
    classes: list,
    reasons: list | None,
) -> None:
    """The most likely category of each ticket and its probability. Classes are category names;
    a category renamed or deleted since training is no longer suggested."""
    category_ids = dict(
        TicketCategory.objects.filter(name__in=[str(name) for name in classes]).values_list(
            "name", "pk"
        )
    )
    best = probabilities.argmax(axis=1)
    ticket_predictions_upsert(
        rows={
            ticket_id: {
                "category_id": category_ids.get(str(classes[best[index]])),
                "category_confidence": float(probabilities[index, best[index]]),
                "category_version_id": version.pk,
            }
            for index, ticket_id in enumerate(ticket_ids)
        }
    )


def ticket_sentiments_store(
    model: PredictiveModel,
    version: ModelVersion,
    ticket_ids: list[int],
    probabilities: np.ndarray,
    classes: list,
    reasons: list | None,
) -> None:
    """The chance each ticket's text reads as satisfied (the class 1, the last)."""
    positive = probabilities[:, -1]
    ticket_predictions_upsert(
        rows={
            ticket_id: {
                "positive_probability": float(positive[index]),
                "sentiment_version_id": version.pk,
            }
            for index, ticket_id in enumerate(ticket_ids)
        }
    )


def ticket_text_predict(*, ticket_id: int) -> list[str]:
    """Read one ticket with every text model that has an active version; returns the names of
    the models that did. A model without an active version is skipped, not an error: a CRM
    that has never trained one still opens tickets."""
    done = []
    for name in (CATEGORY_MODEL, SENTIMENT_MODEL):
        model = text_model_get(name=name)
        version = model.active_version
        if version is None:
            continue
        spec = model_spec(model.kind)
        try:
            bundle = bundle_load(version=version)
        except ModelUnavailable:
            logger.warning("%s v%s has no artifact to predict with", model.name, version.number)
            continue
        rows = spec.feature_rows(model, [ticket_id])
        if rows.empty:
            continue
        scores_store_batch(version=version, spec=spec, bundle=bundle, rows=rows)
        done.append(name)
    return done


def ticket_text_predict_on_create(ticket: Ticket) -> None:
    """Queue the reading of a newly committed ticket (service calls this after the commit)."""
    from analytics.tasks.text import ticket_text_predict_task

    ticket_text_predict_task.delay(ticket.pk)


def ticket_suggestion_apply(*, actor: User, ticket: Ticket, version: int) -> Ticket:
    """Give the ticket its suggested category and the team that category usually goes to,
    through service's ticket update (so its permission, version and validation rules hold)."""
    prediction = TicketPrediction.objects.filter(ticket_id=ticket.pk).first()
    if prediction is None or prediction.category_id is None:
        raise ValidationError(_("This ticket has no suggested category."))
    values: dict = {"category": TicketCategory.objects.get(pk=prediction.category_id)}
    usual_team = category_usual_team(category_id=prediction.category_id)
    if usual_team is not None:
        values["team"] = Team.objects.get(pk=usual_team.team_id)
    return ticket_update(actor=actor, ticket=ticket, version=version, **values)


@dataclass(frozen=True)
class TextReading:
    category: TicketCategory | None
    category_name: str
    confidence: float | None
    positive_probability: float | None
    category_version: ModelVersion | None
    sentiment_version: ModelVersion | None


def text_classify(*, text: str) -> TextReading:
    """What the active text models make of a text; ModelUnavailable when neither has an active
    version. A model without one leaves its part empty."""
    category_model = text_model_get(name=CATEGORY_MODEL)
    sentiment_model = text_model_get(name=SENTIMENT_MODEL)
    if category_model.active_version is None and sentiment_model.active_version is None:
        raise ModelUnavailable(_("Neither text model has an active version yet."))
    rows = pd.DataFrame({TEXT_COLUMN: [text]})
    category = None
    category_name = ""
    confidence = None
    if category_model.active_version is not None:
        bundle = bundle_load(version=category_model.active_version)
        probabilities = bundle.pipeline.predict_proba(rows[bundle.columns])[0]
        best = int(probabilities.argmax())
        category_name = str(bundle.classes[best])
        confidence = round(float(probabilities[best]), 4)
        category = TicketCategory.objects.filter(name=category_name).first()
    positive = None
    if sentiment_model.active_version is not None:
        bundle = bundle_load(version=sentiment_model.active_version)
        positive = round(float(bundle.pipeline.predict_proba(rows[bundle.columns])[0, -1]), 4)
    return TextReading(
        category=category,
        category_name=category_name,
        confidence=confidence,
        positive_probability=positive,
        category_version=category_model.active_version,
        sentiment_version=sentiment_model.active_version,
    )
