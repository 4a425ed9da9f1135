"""Which events set a rule off: records created and updated, a field's change (to a value), a
deal's stage, an SLA breach, a survey's answer; and the cost of an event nobody waits for."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from automation.models import Rule, RuleRun
from automation.services.rules import rule_create, rule_set_enabled
from automation.services.runs import runs_create_for_event
from customers.services.customers import customer_create, customer_update
from sales.models import Stage
from sales.services.deals import deal_create, deal_move_stage, deal_update
from service.models import SlaPolicy
from service.services.escalation import tickets_check_sla
from service.services.surveys import survey_answer
from service.services.tickets import ticket_change_status, ticket_create, ticket_update
from tests.customers.factories import CustomerFactory
from tests.service.factories import SatisfactionSurveyFactory, SlaPolicyFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """What waits for the commit (the event listener, then each run's task) runs as it would
    after a real commit."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def make_rule(admin_user):
    def make(record_type, trigger, trigger_config=None, **values) -> Rule:
        return rule_create(
            actor=admin_user,
            name=values.pop("name", f"{record_type} {trigger}"),
            record_type=record_type,
            trigger=trigger,
            trigger_config=trigger_config or {},
            **values,
        )

    return make


@pytest.fixture
def customer(admin_user, committed):
    with committed():
        return customer_create(actor=admin_user, name="Ada Lovelace", email="ada@example.com")


def runs_of(rule: Rule) -> list[tuple[str, str]]:
    return [(run.cause, run.status) for run in rule.runs.order_by("pk")]


def stage(name: str) -> Stage:
    return Stage.objects.get(pipeline__is_default=True, name=name)


# Created and updated -----------------------------------------------------------------------------


def test_a_new_customer_sets_off_the_customer_created_rules_only(make_rule, admin_user, committed):
    # given
    on_customers = make_rule("customer", "created")
    on_deals = make_rule("deal", "created")
    switched_off = make_rule("customer", "created", is_enabled=False)

    # when
    with committed():
        customer = customer_create(actor=admin_user, name="Ada")

    # then
    assert runs_of(on_customers) == [("customer.created", "succeeded")]
    run = on_customers.runs.get()
    assert (run.record_type, run.record_id, run.record_label) == ("customer", customer.pk, "Ada")
    assert runs_of(on_deals) == []
    assert runs_of(switched_off) == []


def test_a_new_deal_and_a_new_ticket_set_off_their_rules(
    make_rule, admin_user, customer, committed
):
    # given
    on_deals = make_rule("deal", "created")
    on_tickets = make_rule("ticket", "created")

    # when
    with committed():
        deal = deal_create(actor=admin_user, customer=customer, name="Tea")
        ticket = ticket_create(actor=admin_user, customer=customer, subject="Broken kettle")

    # then
    assert runs_of(on_deals) == [("deal.created", "succeeded")]
    assert on_deals.runs.get().record_id == deal.pk
    assert runs_of(on_tickets) == [("ticket.created", "succeeded")]
    assert on_tickets.runs.get().record_id == ticket.pk


def test_an_update_sets_off_the_updated_rules_and_a_save_without_change_does_not(
    make_rule, admin_user, customer, committed
):
    # given
    rule = make_rule("customer", "updated")

    # when
    with committed():
        customer_update(actor=admin_user, customer=customer, city="Paris")
        customer_update(actor=admin_user, customer=customer, city="Paris")

    # then
    assert runs_of(rule) == [("customer.updated", "succeeded")]
    assert rule.runs.get().cause_data == {"changed_fields": ["city"]}


def test_ticket_and_deal_updates_set_off_their_rules(make_rule, admin_user, customer, committed):
    # given
    with committed():
        deal = deal_create(actor=admin_user, customer=customer, name="Tea")
        ticket = ticket_create(actor=admin_user, customer=customer, subject="Broken kettle")
    on_deals = make_rule("deal", "updated")
    on_tickets = make_rule("ticket", "updated")

    # when
    with committed():
        deal_update(actor=admin_user, deal=deal, version=deal.version, next_step="Call back")
        ticket_update(actor=admin_user, ticket=ticket, version=ticket.version, priority="high")

    # then
    assert runs_of(on_deals) == [("deal.updated", "succeeded")]
    assert runs_of(on_tickets) == [("ticket.updated", "succeeded")]


# A field changes ---------------------------------------------------------------------------------


def test_a_field_change_sets_off_the_rule_and_a_change_of_another_field_does_not(
    make_rule, admin_user, customer, committed
):
    # given
    rule = make_rule("customer", "field_changed", {"field": "tier"})

    # when
    with committed():
        customer_update(actor=admin_user, customer=customer, city="Paris")
    # then
    assert runs_of(rule) == []

    # when
    with committed():
        customer_update(actor=admin_user, customer=customer, tier="vip")
    # then
    assert runs_of(rule) == [("customer.updated", "succeeded")]


def test_a_change_to_a_value_runs_only_when_the_field_has_that_value(
    make_rule, admin_user, customer, committed
):
    # given
    rule = make_rule("customer", "field_changed", {"field": "tier", "value": "vip"})
    assert rule.trigger_config == {"field": "tier", "value": ["vip"]}

    # when the tier becomes VIP, then goes back to normal
    with committed():
        customer_update(actor=admin_user, customer=customer, tier="vip")
    with committed():
        customer_update(actor=admin_user, customer=customer, tier="normal")

    # then the second change is judged and skipped on the implied condition
    to_vip, to_normal = rule.runs.order_by("pk")
    assert to_vip.status == RuleRun.Status.SUCCEEDED
    assert to_vip.condition_results == [{"condition": "tier is one of VIP", "met": True}]
    assert to_normal.status == RuleRun.Status.SKIPPED
    assert to_normal.condition_results == [{"condition": "tier is one of VIP", "met": False}]


def test_a_foreign_key_change_is_seen_under_the_fields_name(
    make_rule, admin_user, customer, committed, rep
):
    # given a rule waiting for the ticket's assignee to change
    with committed():
        ticket = ticket_create(actor=admin_user, customer=customer, subject="Broken kettle")
    rule = make_rule("ticket", "field_changed", {"field": "assignee"})

    # when
    with committed():
        ticket_update(actor=admin_user, ticket=ticket, version=ticket.version, assignee=rep)

    # then
    assert runs_of(rule) == [("ticket.updated", "succeeded")]


def test_a_ticket_status_change_sets_off_a_status_rule(make_rule, admin_user, customer, committed):
    # given
    with committed():
        ticket = ticket_create(actor=admin_user, customer=customer, subject="Broken kettle")
    rule = make_rule("ticket", "field_changed", {"field": "status", "value": ["pending"]})

    # when
    with committed():
        ticket_change_status(
            actor=admin_user, ticket=ticket, status="pending", version=ticket.version
        )

    # then
    assert runs_of(rule) == [("ticket.updated", "succeeded")]


# Stages ------------------------------------------------------------------------------------------


def test_stage_rules_run_on_any_move_or_on_a_move_to_their_stage(
    make_rule, admin_user, customer, committed
):
    # given
    with committed():
        deal = deal_create(actor=admin_user, customer=customer, name="Tea")
    any_stage = make_rule("deal", "stage_changed")
    to_won = make_rule("deal", "stage_changed", {"stage": str(stage("Won").pk)})

    # when the deal moves on, then is won
    with committed():
        deal = deal_move_stage(
            actor=admin_user, deal=deal, stage=stage("Proposal"), version=deal.version
        )
    with committed():
        deal_move_stage(actor=admin_user, deal=deal, stage=stage("Won"), version=deal.version)

    # then
    assert runs_of(any_stage) == [
        ("deal.stage_changed", "succeeded"),
        ("deal.stage_changed", "succeeded"),
    ]
    assert runs_of(to_won) == [("deal.stage_changed", "succeeded")]
    assert to_won.runs.get().cause_data["to_stage"]["name"] == "Won"


# SLA breaches ------------------------------------------------------------------------------------


def test_sla_rules_run_on_any_breach_or_on_their_targets(make_rule, admin_user, committed):
    # given a ticket under a policy, and rules on any breach and on the resolution target
    SlaPolicy.objects.update(is_active=False)
    SlaPolicyFactory(is_active=True, first_response_minutes=60, resolution_minutes=120)
    customer = CustomerFactory()
    with committed():
        ticket_create(actor=admin_user, customer=customer, subject="Down")
    any_breach = make_rule("ticket", "sla_breached")
    resolution = make_rule("ticket", "sla_breached", {"target": "resolution"})

    # when both targets are missed
    with committed():
        tickets_check_sla(now=timezone.now() + timedelta(days=30))

    # then
    assert runs_of(any_breach) == [
        ("ticket.sla_breached", "succeeded"),
        ("ticket.sla_breached", "succeeded"),
    ]
    assert {run.cause_data["target"] for run in any_breach.runs.all()} == {
        "first_response",
        "resolution",
    }
    assert runs_of(resolution) == [("ticket.sla_breached", "succeeded")]


# Surveys -----------------------------------------------------------------------------------------


def test_an_unhappy_answer_tags_the_ticket_and_a_happy_one_is_skipped(
    make_rule, admin_user, committed
):
    # given a rule on tickets: an answer of 2 or less tags the ticket
    rule = make_rule(
        "ticket",
        "survey_answered",
        conditions=[{"field": "satisfaction_rating", "operator": "lte", "value": "2"}],
        actions=[
            {"action_type": "update_field", "params": {"field": "add_tag", "value": "Unhappy"}}
        ],
    )
    customer = CustomerFactory()
    with committed():
        unhappy = ticket_create(actor=admin_user, customer=customer, subject="Late")
        happy = ticket_create(actor=admin_user, customer=customer, subject="Fine")

    # when
    with committed():
        survey_answer(survey=SatisfactionSurveyFactory(ticket=unhappy), rating=1)
        survey_answer(survey=SatisfactionSurveyFactory(ticket=happy), rating=5)

    # then
    by_ticket = {run.record_id: run for run in rule.runs.all()}
    assert by_ticket[unhappy.pk].status == RuleRun.Status.SUCCEEDED
    assert by_ticket[unhappy.pk].cause == "survey.answered"
    assert by_ticket[happy.pk].status == RuleRun.Status.SKIPPED
    assert list(unhappy.tags.values_list("name", flat=True)) == ["unhappy"]
    assert not happy.tags.exists()


def test_survey_rules_are_for_tickets_only(make_rule):
    # given  # when  # then
    with pytest.raises(ValidationError) as error:
        make_rule("customer", "survey_answered")
    assert list(error.value.message_dict) == ["trigger"]


# Switching off -----------------------------------------------------------------------------------


def test_a_switched_off_rule_is_not_set_off(make_rule, admin_user, customer, committed):
    # given
    rule = make_rule("customer", "updated")
    rule_set_enabled(actor=admin_user, rule=rule, enabled=False)

    # when
    with committed():
        customer_update(actor=admin_user, customer=customer, city="Paris")

    # then
    assert runs_of(rule) == []


# The listener's cost ----------------------------------------------------------------------------


def test_an_event_with_no_enabled_rule_costs_the_listener_one_query(
    make_rule, admin_user, customer, django_capture_on_commit_callbacks, django_assert_num_queries
):
    # given only a switched-off rule, and the commit's callbacks held back
    make_rule("customer", "updated", is_enabled=False)
    with django_capture_on_commit_callbacks() as callbacks:
        customer_update(actor=admin_user, customer=customer, city="Paris")

    # when the commit's callbacks run: one query for the webhook subscriptions, one for the rules
    with django_assert_num_queries(2):
        for callback in callbacks:
            callback()

    # then
    assert not RuleRun.objects.exists()


def test_the_listener_alone_asks_for_the_rules_once(customer, django_assert_num_queries):
    # given no rules  # when  # then
    with django_assert_num_queries(1):
        runs_create_for_event(
            event="customer.updated",
            announcements=[(customer, {"changed_fields": ["city"]})],
            cause=(),
        )


def test_an_event_no_rule_can_wait_for_costs_nothing(customer, django_assert_num_queries):
    # given  # when  # then
    with django_assert_num_queries(0):
        runs_create_for_event(event="email.sent", announcements=[(customer, {})], cause=())
