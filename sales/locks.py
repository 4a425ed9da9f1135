"""The one place the sales app takes row locks: deals, in primary key order."""

from collections.abc import Iterable

from sales.models import Deal, Pipeline


def deals_lock(*, deal_ids: Iterable[int]) -> dict[int, Deal]:
    """Lock these deals' rows until the transaction ends; returns them by id."""
    locked = (
        Deal.objects.select_for_update(of=("self",))
        .select_related("stage", "pipeline")
        .filter(pk__in=sorted(set(deal_ids)))
        .order_by("pk")
    )
    return {deal.pk: deal for deal in locked}


def pipeline_lock(*, pipeline_id: int) -> Pipeline:
    """Lock a pipeline's row; its stage writes take it, so their checks see one another."""
    return Pipeline.objects.select_for_update().get(pk=pipeline_id)
