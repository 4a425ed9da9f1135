"""Stale deals: an open deal that stays in a stage longer than the stage allows is flagged on the
board and list, and its owner is told once, by the hourly Celery task, until the deal moves."""

from datetime import timedelta

import pytest
from django.utils import timezone

from collaboration.models import Notification
from sales.models import Deal, Stage
from sales.selectors.deals import deals_with_stale_flag
from sales.services.deals import deal_move_stage, deals_notify_stale
from sales.tasks import deals_notify_stale_task
from tests.sales.factories import DealFactory, StageFactory, pipeline_with_stages, stage_named

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]


@pytest.fixture
def pipeline():
    """Lead (stale after 7 days), Proposal (no limit), Won, Lost."""
    return pipeline_with_stages(name="Field sales")


def deal_in(stage: Stage, *, days: float, owner=None, **values) -> Deal:
    return DealFactory(
        stage=stage,
        owner=owner,
        stage_entered_at=timezone.now() - timedelta(days=days),
        **values,
    )


def stale_notices(user) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, kind=Notification.Kind.DEAL_STALE))


def test_owner_is_told_once_through_the_task(pipeline, rep):
    # given
    lead = stage_named(pipeline, "Lead")
    stale = deal_in(lead, days=8, owner=rep, name="Big tea order")
    deal_in(lead, days=6, owner=rep, name="Fresh")

    # when
    first = deals_notify_stale_task.delay().get()
    second = deals_notify_stale_task.delay().get()

    # then
    assert (first, second) == (1, 0)
    [notice] = stale_notices(rep)
    assert notice.related_id == stale.pk
    assert notice.url == f"/sales/deals/{stale.pk}/"
    assert "Big tea order" in notice.title and "Lead" in notice.title
    stale.refresh_from_db()
    assert stale.stale_notified_at is not None


def test_stages_without_a_limit_and_closed_stages_never_notify(pipeline, rep):
    # given a closed stage that (wrongly) carries a limit too
    closed_with_limit = StageFactory(
        pipeline=pipeline, name="Won too", kind=Stage.Kind.WON, probability=100, stale_after_days=1
    )
    for name in ("Proposal", "Won", "Lost"):
        deal_in(stage_named(pipeline, name), days=400, owner=rep)
    deal_in(closed_with_limit, days=400, owner=rep)

    # when
    flagged = deals_notify_stale_task.delay().get()

    # then
    assert flagged == 0
    assert stale_notices(rep) == []
    assert not Deal.objects.filter(stale_notified_at__isnull=False).exists()


def test_moving_the_deal_rearms_the_notice(pipeline, rep):
    # given a deal already notified
    lead, proposal = stage_named(pipeline, "Lead"), stage_named(pipeline, "Proposal")
    deal = deal_in(lead, days=8, owner=rep)
    deals_notify_stale_task.delay().get()

    # when it moves on and comes back to the stage
    deal = deal_move_stage(actor=None, deal=deal, stage=proposal, version=deal.version)
    deal = deal_move_stage(actor=None, deal=deal, stage=lead, version=deal.version)

    # then it is fresh in the stage and not notified again yet
    assert deal.stale_notified_at is None
    assert deals_notify_stale_task.delay().get() == 0
    # and once it overstays again, its owner is told again
    assert deals_notify_stale(now=timezone.now() + timedelta(days=8)) == 1
    assert len(stale_notices(rep)) == 2


def test_a_deal_without_owner_is_marked_but_nobody_is_told(pipeline):
    # given
    deal = deal_in(stage_named(pipeline, "Lead"), days=30, owner=None)

    # when
    flagged = deals_notify_stale_task.delay().get()

    # then
    assert flagged == 0
    deal.refresh_from_db()
    assert deal.stale_notified_at is not None
    assert not Notification.objects.exists()


def test_the_default_pipeline_limits_apply(rep):
    # given the default pipeline's Qualification stage (stale after 14 days)
    qualification = Stage.objects.get(pipeline__is_default=True, name="Qualification")
    deal_in(qualification, days=15, owner=rep)
    deal_in(qualification, days=13, owner=rep)

    # when  # then
    assert deals_notify_stale_task.delay().get() == 1


def test_the_selector_flags_exactly_the_stale_deals(pipeline, rep, django_assert_num_queries):
    # given
    lead = stage_named(pipeline, "Lead")
    stale = deal_in(lead, days=8, owner=rep)
    notified = deal_in(lead, days=20, owner=rep, stale_notified_at=timezone.now())
    deal_in(lead, days=6, owner=rep)
    deal_in(stage_named(pipeline, "Proposal"), days=300, owner=rep)
    deal_in(stage_named(pipeline, "Won"), days=300, owner=rep)
    deal_in(stage_named(pipeline, "Lost"), days=300, owner=rep)

    # when
    with django_assert_num_queries(2):
        flags = dict(deals_with_stale_flag(Deal.objects.all()).values_list("pk", "is_stale"))

    # then (notified or not, an overdue deal stays flagged until it moves)
    assert {pk for pk, is_stale in flags.items() if is_stale} == {stale.pk, notified.pk}
    assert len(flags) == 6


def test_the_selector_flags_nothing_when_no_stage_has_a_limit(pipeline, rep):
    # given
    Stage.objects.update(stale_after_days=None)
    deal_in(stage_named(pipeline, "Lead"), days=100, owner=rep)

    # when
    flags = list(deals_with_stale_flag(Deal.objects.all()).values_list("is_stale", flat=True))

    # then
    assert flags == [False]
    assert deals_notify_stale_task.delay().get() == 0
