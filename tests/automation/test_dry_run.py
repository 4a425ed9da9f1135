"""Testing a rule on a record: each condition's result, what each action would do or why it
could not, and nothing written anywhere."""

from datetime import timedelta

import pytest
from django.utils import timezone

from automation.models import Rule, RuleRun
from automation.selectors import rule_test
from automation.services.rules import rule_create
from collaboration.models import Notification, Task
from customers.models import Customer
from customers.services.customers import tag_list_get_or_create
from tests.customers.factories import CustomerFactory
from tests.service.factories import TicketFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]


@pytest.fixture
def ada(rep, team):
    customer = CustomerFactory(name="Ada", tier="vip", city="Paris", owner=rep, team=team)
    customer.tags.set(tag_list_get_or_create(names=["gold"]))
    return customer


def written() -> dict[str, int]:
    return {
        "tasks": Task.objects.count(),
        "notifications": Notification.objects.count(),
        "runs": RuleRun.objects.count(),
        "customer history": Customer.history.count(),
        "rule history": Rule.history.count(),
    }


def test_a_dry_run_reports_each_condition_and_action_and_writes_nothing(
    admin_user, ada, rep, other_team_rep, django_capture_on_commit_callbacks
):
    # given
    rule = rule_create(
        actor=admin_user,
        name="VIP care",
        record_type="customer",
        trigger="updated",
        match="any",
        conditions=[
            {"field": "tier", "operator": "in", "value": ["vip"]},
            {"field": "city", "operator": "eq", "value": "London"},
        ],
        actions=[
            {"action_type": "update_field", "params": {"field": "tier", "value": "normal"}},
            {"action_type": "update_field", "params": {"field": "add_tag", "value": "gold"}},
            {"action_type": "create_task", "params": {"title": "Call {{ record.name }}"}},
            {
                "action_type": "notify",
                "params": {"to": "users", "users": [other_team_rep.pk], "message": "Hi"},
            },
            {
                "action_type": "notify",
                "params": {"to": "users", "users": [rep.pk, other_team_rep.pk], "message": "Hi"},
            },
        ],
    )
    before = written()

    # when
    with django_capture_on_commit_callbacks() as callbacks:
        result = rule_test(rule=rule, record=ada)

    # then the conditions
    assert result.problem == ""
    assert result.record == ada
    assert result.conditions_met is True
    assert result.conditions == [
        {"condition": "tier is one of VIP", "met": True},
        {"condition": "city is London", "met": False},
    ]
    # and the actions
    tier, tag, task, blind, partly = result.actions
    assert tier == {
        "action": "Set tier to Normal",
        "would": "Set tier to Normal (now VIP)",
        "problem": "",
        "nothing_to_do": False,
    }
    assert tag["would"] == "Add the tag “gold”: already so"
    assert tag["nothing_to_do"] is True
    due = timezone.localdate() + timedelta(days=1)
    assert task["would"] == f"Create the task “Call Ada” for Riley Chen, due {due.isoformat()}"
    assert blind["would"] == ""
    assert blind["problem"] == "Nobody to notify: Other_Rep may not see this record."
    assert partly["would"] == (
        "Notify Riley Chen (left out, as they may not see this record: Other_Rep)"
    )
    # and nothing written
    assert written() == before
    assert callbacks == []
    ada.refresh_from_db()
    assert ada.tier == "vip"


def test_a_dry_run_shows_the_conditions_not_met(admin_user, ada):
    # given
    rule = rule_create(
        actor=admin_user,
        name="Londoners",
        record_type="customer",
        trigger="created",
        conditions=[{"field": "city", "operator": "eq", "value": "London"}],
    )

    # when
    result = rule_test(rule=rule, record=ada)

    # then
    assert result.conditions_met is False
    assert result.conditions == [{"condition": "city is London", "met": False}]
    assert result.actions == []


def test_a_dry_run_on_a_record_the_owner_may_not_see_says_so(manager, other_team):
    # given a manager's rule and a customer of another team
    rule = rule_create(actor=manager, name="Mine", record_type="customer", trigger="created")
    stranger = CustomerFactory(team=other_team)

    # when
    result = rule_test(rule=rule, record=stranger)

    # then
    assert result.problem == "The rule's owner may not see this record."
    assert result.conditions == []
    assert result.actions == []


def test_a_dry_run_of_a_rule_without_an_active_owner_says_so(admin_user, ada, rep):
    # given
    rule = rule_create(
        actor=admin_user, name="Orphan", record_type="customer", trigger="created", owner=rep
    )
    rep.is_active = False
    rep.save(update_fields=["is_active"])
    rule.refresh_from_db()

    # when
    result = rule_test(rule=rule, record=ada)

    # then
    assert result.problem == "The rule has no active owner to act as."


def test_a_dry_run_on_a_ticket_judges_its_customers_fields(admin_user, ada):
    # given
    ticket = TicketFactory(customer=ada, priority="normal")
    rule = rule_create(
        actor=admin_user,
        name="VIP tickets first",
        record_type="ticket",
        trigger="created",
        conditions=[{"field": "customer.tier", "operator": "in", "value": ["vip"]}],
        actions=[{"action_type": "update_field", "params": {"field": "priority", "value": "high"}}],
    )
    before = written()

    # when
    result = rule_test(rule=rule, record=ticket)

    # then
    assert result.conditions == [{"condition": "Customer tier is one of VIP", "met": True}]
    assert result.actions[0]["would"] == "Set priority to High (now Normal)"
    assert written() == before
    ticket.refresh_from_db()
    assert ticket.priority == "normal"
