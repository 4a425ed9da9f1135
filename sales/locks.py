"""The one place the sales app takes row locks: deals in primary key order, pipelines, campaigns
and their mailings (a campaign before its mailing)."""

from collections.abc import Iterable

from sales.models import Campaign, CampaignMailing, Deal, Pipeline


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


def campaign_mailing_lock(*, mailing_id: int) -> CampaignMailing | None:
    """Lock a campaign mailing's row; its batches and its cancelling take it, so a batch run
    twice at once hands each member to one run only."""
    return (
        CampaignMailing.objects.select_for_update(of=("self",))
        .select_related("campaign", "started_by")
        .filter(pk=mailing_id)
        .first()
    )


def campaign_lock(*, campaign_id: int) -> Campaign:
    """Lock a campaign's row; starting a mailing takes it, so two starts see one another."""
    return Campaign.objects.select_for_update().get(pk=campaign_id)
