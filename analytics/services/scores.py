"""Where customer-subject models keep their scores: one row per model and customer, replaced in
bulk by each scoring batch."""

import numpy as np
from django.utils import timezone

from analytics.models import CustomerScore, ModelVersion, PredictiveModel
from crm.copying import copy_upsert

SCORE_FIELDS = ["version", "probability", "reasons", "scored_at"]


def customer_scores_store(
    model: PredictiveModel,
    version: ModelVersion,
    customer_ids: list[int],
    probabilities: np.ndarray,
    classes: list,
    reasons: list | None,
) -> None:
    now = timezone.now()
    positive = probabilities[:, -1]
    copy_upsert(
        CustomerScore,
        [
            {
                "model_id": model.pk,
                "customer_id": customer_id,
                "version_id": version.pk,
                "probability": probability,
                "reasons": reasons[index] if reasons is not None else [],
                "scored_at": now,
            }
            for index, (customer_id, probability) in enumerate(
                zip(map(int, customer_ids), positive.tolist(), strict=True)
            )
        ],
        unique_fields=["model", "customer"],
        update_fields=SCORE_FIELDS,
    )


def customer_scores_finish(model: PredictiveModel, version: ModelVersion) -> None:
    """Scores an older version left for customers no longer scored (erased, no longer active)."""
    CustomerScore.objects.filter(model=model).exclude(version=version).delete()
