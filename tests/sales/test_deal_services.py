"""The deal services' rules: defaults and assignment on create, stage history, closing and
reopening, lost reasons, pipelines, won leads, optimistic locking, and stale-deal notices."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.utils import timezone

from collaboration.models import Notification
from crm.concurrency import StaleRecordError
from customers.models import Customer
from sales.models import Assignment, AssignmentRule, Deal, DealStageChange, Pipeline, Stage
from sales.services.deals import (
    deal_create,
    deal_delete,
    deal_move_stage,
    deal_update,
    deals_notify_stale,
)
from sales.tasks import deals_notify_stale_task
from tests.accounts.factories import TeamFactory, TeamMembershipFactory, UserFactory
from tests.customers.factories import CompanyFactory, CustomerFactory, ProductFactory
from tests.sales.factories import AssignmentRuleFactory, pipeline_with_stages, stage_named

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]


def default_stage(name: str) -> Stage:
    return Stage.objects.get(pipeline__is_default=True, name=name)


@pytest.fixture
def customer(rep, team):
    return CustomerFactory(owner=rep, team=team, company=CompanyFactory(), city="Hangzhou")


def new_deal(actor, customer, **values) -> Deal:
    values.setdefault("name", "Tea for the office")
    return deal_create(actor=actor, customer=customer, **values)


def entered_days_ago(deal: Deal, days: int) -> None:
    Deal.objects.filter(pk=deal.pk).update(stage_entered_at=timezone.now() - timedelta(days=days))
    deal.refresh_from_db()


# Creating ----------------------------------------------------------------------------------------


def test_create_fills_in_the_defaults(rep, team, customer):
    # given no assignment rule  # when
    deal = new_deal(rep, customer)

    # then
    assert deal.pipeline == Pipeline.objects.get(is_default=True)
    assert deal.stage.name == "Qualification"
    assert deal.currency == "CNY"
    assert deal.company == customer.company
    assert (deal.owner, deal.team) == (rep, team)
    assert (deal.version, deal.closed_at) == (1, None)
    assert not Assignment.objects.exists()


@override_settings(CRM_DEFAULT_CURRENCY="EUR")
def test_create_in_a_given_stage_takes_its_pipeline_and_the_configured_currency(rep, customer):
    # given
    other = pipeline_with_stages(name="Renewals")

    # when
    deal = new_deal(rep, customer, stage=stage_named(other, "Proposal"))

    # then
    assert (deal.pipeline, deal.currency) == (other, "EUR")


def test_create_with_lines_sets_the_amount(rep, customer):
    # given
    product = ProductFactory(unit_price=Decimal("40.00"))

    # when
    deal = new_deal(
        rep,
        customer,
        amount=Decimal("1.00"),
        lines=[{"product": product, "quantity": 3, "discount_percent": Decimal("50")}],
    )

    # then
    assert deal.amount == Decimal("60.00")
    assert deal.lines.get().unit_price == Decimal("40.00")


def test_fixed_rule_gives_the_deal_to_its_owner_and_is_recorded(
    rep, customer, django_capture_on_commit_callbacks
):
    # given a fixed rule for deals from Hangzhou
    chosen = UserFactory()
    rule = AssignmentRuleFactory(
        applies_to=AssignmentRule.AppliesTo.DEALS,
        match=AssignmentRule.Match.CITY,
        match_values="Beijing, hangzhou",
        strategy=AssignmentRule.Strategy.FIXED,
        owner=chosen,
    )

    # when
    with django_capture_on_commit_callbacks(execute=True):
        deal = new_deal(rep, customer)

    # then the rule's owner has the deal, is told so, and the assignment is on record
    assert deal.owner == chosen
    assignment = Assignment.objects.get()
    assert (assignment.content_type, assignment.object_id) == (
        ContentType.objects.get_for_model(Deal),
        deal.pk,
    )
    assert (assignment.rule, assignment.assigned_to) == (rule, chosen)
    assert Notification.objects.get(recipient=chosen).kind == Notification.Kind.RECORD_ASSIGNED


def test_a_rule_that_does_not_match_leaves_the_deal_to_the_actor(rep, customer):
    # given
    AssignmentRuleFactory(
        match=AssignmentRule.Match.CITY, match_values="Beijing", owner=UserFactory()
    )

    # when
    deal = new_deal(rep, customer)

    # then
    assert deal.owner == rep
    assert not Assignment.objects.exists()


def test_round_robin_deals_go_to_the_team_members_in_turn(rep, customer):
    # given a round-robin rule over a team of two
    squad = TeamFactory(name="Inbound")
    first = TeamMembershipFactory(team=squad, user=UserFactory(username="first")).user
    second = TeamMembershipFactory(team=squad, user=UserFactory(username="second")).user
    AssignmentRuleFactory(strategy=AssignmentRule.Strategy.ROUND_ROBIN, team=squad)

    # when
    deals = [new_deal(rep, customer) for _ in range(3)]

    # then
    assert [deal.owner for deal in deals] == [first, second, first]
    assert {deal.team for deal in deals} == {squad}
    assert [assignment.assigned_to for assignment in Assignment.objects.order_by("pk")] == [
        first,
        second,
        first,
    ]


def test_round_robin_with_an_empty_team_falls_back(rep, customer):
    # given
    fallback = UserFactory()
    AssignmentRuleFactory(
        strategy=AssignmentRule.Strategy.ROUND_ROBIN, team=TeamFactory(), fallback_owner=fallback
    )

    # when
    deal = new_deal(rep, customer)

    # then
    assert deal.owner == fallback
    assert Assignment.objects.get().assigned_to == fallback


def test_a_given_owner_skips_the_rules(rep, customer):
    # given
    AssignmentRuleFactory(owner=UserFactory())

    # when
    deal = new_deal(rep, customer, owner=rep)

    # then
    assert deal.owner == rep
    assert not Assignment.objects.exists()


def test_create_refuses_what_the_actor_may_not_do(rep, customer, other_team_rep, other_team):
    # given
    hidden = CustomerFactory(owner=other_team_rep, team=other_team)
    without_role = UserFactory()

    # when  # then
    with pytest.raises(ValidationError) as refused:
        new_deal(rep, hidden)
    assert "customer" in refused.value.message_dict
    with pytest.raises(PermissionDenied):
        new_deal(without_role, customer)
    with pytest.raises(ValidationError) as unknown:
        new_deal(rep, customer, version=5)
    assert "version" in unknown.value.message_dict
    assert not Deal.objects.exists()


# Stages and history ------------------------------------------------------------------------------


def test_history_starts_from_no_stage_and_counts_the_time_in_each(rep, customer):
    # given a deal that has been in its first stage for two days
    deal = new_deal(rep, customer)
    entered_days_ago(deal, 2)

    # when
    moved = deal_move_stage(actor=rep, deal=deal, stage=default_stage("Proposal"), version=1)

    # then
    changes = list(DealStageChange.objects.filter(deal=deal).order_by("changed_at", "pk"))
    assert [(change.from_stage, change.to_stage.name) for change in changes] == [
        (None, "Qualification"),
        (default_stage("Qualification"), "Proposal"),
    ]
    assert changes[0].seconds_in_from_stage is None
    assert abs(changes[1].seconds_in_from_stage - 2 * 86400) < 60
    assert changes[1].changed_by == rep
    assert moved.version == 2
    assert moved.stage_entered_at == changes[1].changed_at


def test_closed_at_is_set_on_won_or_lost_and_cleared_on_reopening(rep, customer):
    # given
    deal = new_deal(rep, customer)

    # when  # then
    won = deal_move_stage(actor=rep, deal=deal, stage=default_stage("Won"), version=1)
    assert won.closed_at is not None
    lost = deal_move_stage(
        actor=rep, deal=won, stage=default_stage("Lost"), version=2, lost_reason="price"
    )
    assert lost.closed_at is not None
    assert lost.closed_at >= won.closed_at
    assert lost.lost_reason == Deal.LostReason.PRICE
    reopened = deal_move_stage(actor=rep, deal=lost, stage=default_stage("Proposal"), version=3)
    assert (reopened.closed_at, reopened.lost_reason) == (None, "")
    assert deal.stage_changes.count() == 4


def test_lost_needs_a_reason(rep, customer):
    # given
    deal = new_deal(rep, customer)

    # when
    with pytest.raises(ValidationError) as refused:
        deal_move_stage(actor=rep, deal=deal, stage=default_stage("Lost"), version=1)

    # then
    assert "lost_reason" in refused.value.message_dict
    deal.refresh_from_db()
    assert (deal.stage.name, deal.version, deal.closed_at) == ("Qualification", 1, None)
    with pytest.raises(ValidationError):
        new_deal(rep, customer, stage=default_stage("Lost"))


def test_a_stage_of_another_pipeline_is_refused(rep, customer):
    # given
    deal = new_deal(rep, customer)
    foreign = stage_named(pipeline_with_stages(name="Renewals"), "Proposal")

    # when  # then
    with pytest.raises(ValidationError) as by_move:
        deal_move_stage(actor=rep, deal=deal, stage=foreign, version=1)
    assert "stage" in by_move.value.message_dict
    with pytest.raises(ValidationError) as by_update:
        deal_update(
            actor=rep,
            deal=deal,
            version=1,
            pipeline=foreign.pipeline,
            stage=default_stage("Proposal"),
        )
    assert "stage" in by_update.value.message_dict
    with pytest.raises(ValidationError):
        new_deal(rep, customer, pipeline=Pipeline.objects.get(is_default=True), stage=foreign)
    deal.refresh_from_db()
    assert (deal.stage.name, deal.version) == ("Qualification", 1)


def test_changing_the_pipeline_puts_the_deal_in_its_first_open_stage(rep, customer):
    # given
    deal = new_deal(rep, customer)
    renewals = pipeline_with_stages(name="Renewals")

    # when
    moved = deal_update(actor=rep, deal=deal, version=1, pipeline=renewals)

    # then
    assert moved.stage == stage_named(renewals, "Lead")
    assert deal.stage_changes.count() == 2


def test_winning_makes_a_lead_a_customer(rep, customer):
    # given a lead, and a churned customer
    churned = CustomerFactory(owner=rep, status=Customer.Status.CHURNED)
    deal = new_deal(rep, customer)
    churned_deal = new_deal(rep, churned)

    # when
    deal_move_stage(actor=rep, deal=deal, stage=default_stage("Won"), version=1)
    deal_move_stage(actor=rep, deal=churned_deal, stage=default_stage("Won"), version=1)

    # then the lead is a customer; a churned customer is left to people
    customer.refresh_from_db()
    churned.refresh_from_db()
    assert customer.status == Customer.Status.CUSTOMER
    assert churned.status == Customer.Status.CHURNED


# Optimistic locking, permissions, delete ---------------------------------------------------------


def test_a_stale_version_is_refused_and_nothing_changes(rep, rep_teammate, customer):
    # given the rep and a teammate opened version 1; the teammate saved first
    deal = new_deal(rep, customer)
    deal_update(actor=rep_teammate, deal=deal, version=1, next_step="Call Monday")

    # when the rep saves from version 1
    with pytest.raises(StaleRecordError) as refused:
        deal_update(actor=rep, deal=deal, version=1, name="Renamed", stage=default_stage("Won"))
    with pytest.raises(StaleRecordError):
        deal_move_stage(actor=rep, deal=deal, stage=default_stage("Proposal"), version="1")

    # then
    assert refused.value.current_version == 2
    deal.refresh_from_db()
    assert (deal.name, deal.next_step, deal.version, deal.stage.name) == (
        "Tea for the office",
        "Call Monday",
        2,
        "Qualification",
    )
    assert deal.stage_changes.count() == 1


def test_only_those_who_may_see_and_change_a_deal_change_it(rep, customer, other_team_rep):
    # given
    deal = new_deal(rep, customer)

    # when  # then
    with pytest.raises(PermissionDenied):
        deal_update(actor=other_team_rep, deal=deal, version=1, name="Mine")
    with pytest.raises(PermissionDenied):
        deal_delete(actor=rep, deal=deal)
    deal.refresh_from_db()
    assert (deal.name, deal.version) == ("Tea for the office", 1)


def test_delete_removes_the_deal_with_its_lines_and_history(manager, rep, customer):
    # given
    deal = new_deal(rep, customer, lines=[{"product": ProductFactory()}])

    # when
    deal_delete(actor=manager, deal=deal)

    # then
    assert not Deal.objects.exists()
    assert not DealStageChange.objects.exists()


# Stale deals -------------------------------------------------------------------------------------


def stale_notices(user) -> int:
    return Notification.objects.filter(recipient=user, kind=Notification.Kind.DEAL_STALE).count()


def test_stale_deals_notify_their_owner_once_until_moved(rep, customer):
    # given a deal 15 days in Qualification (limit 14 days) and a fresh one
    stale = new_deal(rep, customer, owner=rep)
    entered_days_ago(stale, 15)
    new_deal(rep, customer, owner=rep, name="Fresh")

    # when  # then the first run tells the owner, the second tells nobody
    assert deals_notify_stale() == 1
    notice = Notification.objects.get(recipient=rep, kind=Notification.Kind.DEAL_STALE)
    assert "15 days" in notice.title
    assert notice.related_id == stale.pk
    assert deals_notify_stale() == 0
    assert stale_notices(rep) == 1

    # when the deal moves on and overstays its next stage too, the notice is re-armed
    moved = deal_move_stage(actor=rep, deal=stale, stage=default_stage("Needs analysis"), version=1)
    assert moved.stale_notified_at is None
    assert deals_notify_stale() == 0
    assert deals_notify_stale(now=timezone.now() + timedelta(days=15)) == 2
    assert stale_notices(rep) == 3


def test_closed_deals_are_never_stale(rep, customer):
    # given a deal won long ago
    deal = new_deal(rep, customer, owner=rep, stage=default_stage("Won"))
    entered_days_ago(deal, 400)

    # when  # then
    assert deals_notify_stale() == 0


def test_the_celery_task_sends_the_stale_notices(rep, customer):
    # given
    deal = new_deal(rep, customer, owner=rep)
    entered_days_ago(deal, 20)

    # when  # then (Celery runs eagerly in the tests)
    assert deals_notify_stale_task.delay().get() == 1
    assert deals_notify_stale_task.delay().get() == 0
    assert stale_notices(rep) == 1
