"""seed_demo's sales part: pipelines, deals with a consistent stage history, targets, campaigns,
assignment rules, the contact form and the reps' tasks, reproducible from a seed."""

import io
from datetime import timedelta
from itertools import pairwise

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from collaboration.models import Task
from crm.accounts.models import TeamMembership, User
from crm.accounts.selectors import records_visible_to
from sales.models import (
    AssignmentRule,
    Campaign,
    CampaignMember,
    Deal,
    DealLine,
    DealStageChange,
    Pipeline,
    SalesTarget,
    Stage,
    WebForm,
)

REPS = ["rep", "rep2", "rep3", "rep4"]


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def sales_fingerprint() -> dict:
    per_stage = (
        Deal.objects.values_list("pipeline__name", "stage__name")
        .annotate(count=Count("pk"), total=Sum("amount"))
        .order_by("pipeline__name", "stage__name")
    )
    return {
        "deals per stage": list(per_stage),
        "owners": list(
            Deal.objects.values_list("owner__username").annotate(Count("pk")).order_by("owner")
        ),
        "history": DealStageChange.objects.count(),
        "lines": list(DealLine.objects.values_list("quantity", "unit_price").order_by("pk")),
        "from campaigns": Deal.objects.filter(campaign__isnull=False).count(),
        "members": list(
            CampaignMember.objects.values_list("campaign__name", "response")
            .annotate(Count("pk"))
            .order_by("campaign__name", "response")
        ),
        "targets": list(
            SalesTarget.objects.values_list(
                "owner__username", "team__name", "period", "amount"
            ).order_by("owner__username", "team__name", "period", "period_start")
        ),
        "tasks": list(Task.objects.values_list("title", "status").order_by("pk")),
    }


@pytest.mark.django_db
def test_seed_demo_creates_deals_in_every_stage_kind_of_both_pipelines():
    # given an empty database  # when
    seed(customers=300, seed=1)

    # then there is the default pipeline and the partnerships one, with won and lost stages
    assert set(Pipeline.objects.values_list("name", flat=True)) == {"Sales", "Partnerships"}
    partnerships = Pipeline.objects.get(name="Partnerships")
    assert set(partnerships.stages.values_list("kind", flat=True)) == set(Stage.Kind.values)
    assert partnerships.stages.filter(stale_after_days__isnull=False).exists()

    # and about one deal per four customers, open, won and lost, in both pipelines
    assert Deal.objects.count() == 75
    for kind in Stage.Kind.values:
        assert Deal.objects.filter(stage__kind=kind).exists(), kind
    assert Deal.objects.filter(pipeline=partnerships).exists()
    assert not Deal.objects.exclude(stage__pipeline=F("pipeline")).exists()


@pytest.mark.django_db
def test_every_deals_history_walks_its_pipeline_to_where_it_is():
    # given  # when
    seed(customers=300, seed=1)

    # then each deal starts in its pipeline's first stage, moves one stage forward at a time,
    # and its last move is to the stage it is in, when it entered it
    deals = Deal.objects.select_related("stage", "pipeline").prefetch_related("stage_changes")
    for deal in deals:
        stages = list(deal.pipeline.stages.order_by("position"))
        open_stages = [stage for stage in stages if stage.kind == Stage.Kind.OPEN]
        changes = sorted(deal.stage_changes.all(), key=lambda change: change.changed_at)
        assert changes[0].from_stage_id is None
        assert changes[0].to_stage_id == open_stages[0].pk
        assert changes[0].changed_at == deal.created_at
        assert changes[-1].to_stage_id == deal.stage_id, deal.pk
        assert changes[-1].changed_at == deal.stage_entered_at
        for previous, change in pairwise(changes):
            assert change.from_stage_id == previous.to_stage_id
            assert change.seconds_in_from_stage == int(
                (change.changed_at - previous.changed_at).total_seconds()
            )
        walked = [change.to_stage_id for change in changes if change.to_stage.kind == "open"]
        assert walked == [stage.pk for stage in open_stages[: len(walked)]]
        assert deal.version == 1
        if deal.stage.kind == Stage.Kind.OPEN:
            assert deal.closed_at is None and deal.lost_reason == ""
        else:
            assert deal.closed_at == deal.stage_entered_at
        if deal.stage.kind == Stage.Kind.LOST:
            assert deal.lost_reason in Deal.LostReason.values
        if deal.stage.kind == Stage.Kind.WON:
            assert len(walked) == len(open_stages)


@pytest.mark.django_db
def test_deals_belong_to_the_demo_reps_and_their_teams():
    # given  # when
    seed(customers=300, seed=1)

    # then every deal is owned by a demo rep, in that rep's team
    team_of = dict(
        TeamMembership.objects.filter(user__username__in=REPS).values_list("user_id", "team_id")
    )
    owners = set(Deal.objects.values_list("owner__username", flat=True))
    assert owners <= set(REPS) and len(owners) >= 3
    for owner_id, team_id in Deal.objects.values_list("owner_id", "team_id").distinct():
        assert team_of[owner_id] == team_id

    # and the money is mostly in the default currency, line items add up to the amount
    assert Deal.objects.filter(currency="CNY").count() > Deal.objects.count() * 0.7
    with_lines = Deal.objects.filter(lines__isnull=False).distinct()
    assert with_lines.exists()
    for deal in with_lines.prefetch_related("lines"):
        assert deal.amount == sum(line.line_total for line in deal.lines.all())

    # and some open deals are stale, some past their expected close date
    now = timezone.now()
    stale = [
        deal
        for deal in Deal.objects.filter(stage__kind="open", stage__stale_after_days__isnull=False)
        .select_related("stage")
        .iterator()
        if deal.stage_entered_at < now - timedelta(days=deal.stage.stale_after_days)
    ]
    assert stale
    assert Deal.objects.filter(
        stage__kind="open", expected_close_date__lt=timezone.localdate()
    ).exists()
    assert set(Deal.objects.values_list("forecast_category", flat=True)) == set(
        Deal.ForecastCategory.values
    )


@pytest.mark.django_db
def test_targets_campaigns_rules_form_and_tasks_are_seeded():
    # given  # when
    seed(customers=300, seed=1)
    today = timezone.localdate()

    # then each demo rep has this month's, the two previous months' and this quarter's target
    for username in REPS:
        targets = SalesTarget.objects.filter(owner__username=username)
        assert targets.filter(period="month").count() == 3, username
        assert targets.filter(period="month", period_start=today.replace(day=1)).exists()
        assert targets.filter(period="quarter").count() == 1
    for team in ("Sales East", "Sales West"):
        team_targets = SalesTarget.objects.filter(team__name=team)
        assert team_targets.filter(period="month").count() == 3
        assert team_targets.filter(period="quarter").count() == 1

    # and campaigns of several types, with members who responded, some credited with deals
    assert Campaign.objects.count() >= 4
    assert Campaign.objects.values("type").distinct().count() >= 4
    assert CampaignMember.objects.filter(response="converted").exists()
    assert not CampaignMember.objects.filter(
        ~Q(response="sent"), responded_at__isnull=True
    ).exists()
    assert Deal.objects.filter(campaign__isnull=False).exists()
    assert Campaign.objects.filter(actual_cost__gt=0, budget__gt=0).exists()

    # and assignment rules, among them a city rule handing round robin to Sales East
    assert AssignmentRule.objects.filter(
        match="city", strategy="round_robin", team__name="Sales East"
    ).exists()

    # and the contact form, tied to a campaign
    form = WebForm.objects.get(slug="contact-us")
    assert form.campaign is not None and form.is_active

    # and open tasks for the reps: overdue, due today and upcoming, about their deals
    now = timezone.now()
    for username in REPS:
        tasks = Task.objects.filter(assignee__username=username, status__in=Task.OPEN_STATUSES)
        assert tasks.filter(due_at__lt=now).exists(), username
        assert tasks.filter(due_at__date=today).exists(), username
        assert tasks.filter(due_at__gt=now + timedelta(days=1)).exists(), username
    deal_type = ContentType.objects.get_for_model(Deal)
    assert Task.objects.filter(related_type=deal_type).exists()


@pytest.mark.django_db
def test_a_rep_sees_their_teams_deals_and_the_campaigns():
    # given  # when
    seed(customers=300, seed=1)
    rep = User.objects.get(username="rep")

    # then the rep sees some deals but not the other team's
    visible = records_visible_to(user=rep, queryset=Deal.objects.all())
    assert 0 < visible.count() < Deal.objects.count()

    # and every campaign, which marketing shares with the sales teams
    campaigns = records_visible_to(user=rep, queryset=Campaign.objects.all())
    assert campaigns.count() == Campaign.objects.count()


@pytest.mark.django_db
def test_if_empty_does_not_add_deals_again():
    # given seeded demo data
    seed(customers=300, seed=1)
    before = sales_fingerprint()

    # when seed_demo runs again with --if-empty
    seed(customers=300, seed=1, if_empty=True)

    # then nothing is added
    assert sales_fingerprint() == before


@pytest.mark.django_db(transaction=True)
def test_the_same_seed_gives_the_same_sales_data():
    # given a database seeded with seed 1
    seed(customers=300, seed=1)
    first = sales_fingerprint()

    # when the database is flushed (the default pipeline with it) and seeded again
    call_command("flush", interactive=False, verbosity=0)
    seed(customers=300, seed=1)

    # then the deals, history, lines, members, targets and tasks are the same
    assert sales_fingerprint() == first
    assert Pipeline.objects.get(is_default=True).stages.count() == 6


@pytest.mark.django_db(transaction=True)
def test_a_different_seed_gives_different_deals():
    # given  # when
    seed(customers=300, seed=1)
    first = sales_fingerprint()
    call_command("flush", interactive=False, verbosity=0)
    seed(customers=300, seed=2)

    # then
    assert sales_fingerprint()["deals per stage"] != first["deals per stage"]


@pytest.mark.django_db
@pytest.mark.parametrize(("customers", "deals"), [(120, 45), (40, 100)])
def test_an_asked_number_of_deals_is_seeded_exactly(customers, deals):
    # given  # when fewer deals than the usual share, or more than customers, are asked for
    seed(customers=customers, deals=deals, seed=3)

    # then exactly the asked number is written, each with its stage history
    assert Deal.objects.count() == deals
    assert not Deal.objects.filter(stage_changes__isnull=True).exists()
