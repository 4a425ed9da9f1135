"""seed_demo's workflow rules: five enabled rules of the demo manager's, built through the rule
service, seeded once however often seeding runs."""

import io
import random

import pytest
from django.core.management import call_command
from django.utils import timezone

from automation.demo import seed_automation
from automation.models import Rule
from automation.selectors import rule_test
from crm.accounts.demo import seed_users_and_teams
from crm.demo import DemoContext, demo_seeders
from mail.demo import seed_mail
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def demo_context() -> DemoContext:
    return DemoContext(
        rng=random.Random(1),
        customers=0,
        today=timezone.localdate(),
        users_by_role=seed_users_and_teams(password="demo"),
        log=lambda message: None,
    )


def test_the_automation_seeder_runs_after_every_other():
    # Given the registered seeders, then the rules come last, after the records
    assert demo_seeders()[-1].name == "automation"


def test_the_demo_manager_gets_five_enabled_rules_once():
    # Given the demo users and mail templates
    context = demo_context()
    seed_mail(context)

    # When the rules are seeded twice
    seed_automation(context)
    seed_automation(context)

    # Then there are five, all the manager's and enabled, each with actions
    rules = Rule.objects.order_by("name")
    assert rules.count() == 5
    assert {rule.owner.username for rule in rules} == {"manager"}
    assert all(rule.is_enabled and rule.actions.exists() for rule in rules)
    by_name = {rule.name: rule for rule in rules}
    renewal = by_name["Renewal reminder"]
    assert [action.action_type for action in renewal.actions.all()] == [
        "create_task",
        "send_email",
    ]
    assert renewal.next_run_at is not None
    assert by_name["Weekly check of big open deals"].conditions.count() == 2
    sla = by_name["Missed SLA: tell the team"].actions.first()
    assert sla.params["to"] == "team"


def test_without_templates_the_renewal_rule_only_makes_a_task():
    context = demo_context()

    seed_automation(context)

    renewal = Rule.objects.get(name="Renewal reminder")
    assert [action.action_type for action in renewal.actions.all()] == ["create_task"]


def test_a_demo_rule_tries_out_on_a_demo_customer():
    # Given the seeded rules and a VIP customer of the manager's
    context = demo_context()
    seed_automation(context)
    rule = Rule.objects.get(name="Welcome new VIP customers")
    customer = CustomerFactory(owner=rule.owner, tier="vip", name="Lantern")

    # When the welcome rule is tried on them
    result = rule_test(rule=rule, record=customer)

    # Then its conditions are met and both actions would be done
    assert result.problem == ""
    assert result.conditions_met is True
    assert [action["problem"] for action in result.actions] == ["", ""]


def test_seed_demo_seeds_the_rules():
    # When the whole demo is seeded, with no customers
    out = io.StringIO()
    call_command("seed_demo", customers=0, stdout=out)

    # Then the rules are there
    assert "workflow rules: 5" in out.getvalue()
    assert Rule.objects.filter(owner__username="manager", is_enabled=True).count() == 5
