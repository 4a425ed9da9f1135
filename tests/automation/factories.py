import factory

from automation.models import Rule, RuleAction, RuleCondition, RuleRun
from automation.services.rules import rule_create
from automation.services.runs import rule_run_execute
from tests.accounts.factories import UserFactory


class RuleFactory(factory.django.DjangoModelFactory):
    """A rule stored as is (no checks); build rules through `rule_create` to test the checks."""

    class Meta:
        model = Rule

    name = factory.Sequence(lambda n: f"Rule {n}")
    record_type = Rule.RecordType.CUSTOMER
    trigger = Rule.Trigger.CREATED
    trigger_config = factory.LazyFunction(dict)
    match = Rule.Match.ALL
    is_enabled = True
    owner = factory.SubFactory(UserFactory)


class RuleConditionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RuleCondition

    rule = factory.SubFactory(RuleFactory)
    position = factory.Sequence(lambda n: n)
    field = "tier"
    operator = "in"
    value = factory.LazyFunction(lambda: ["vip"])


class RuleActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RuleAction

    rule = factory.SubFactory(RuleFactory)
    position = factory.Sequence(lambda n: n)
    action_type = RuleAction.Type.NOTIFY
    params = factory.LazyFunction(lambda: {"to": "owner", "message": "Look at {{ record.name }}"})


class RuleRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RuleRun

    rule = factory.SubFactory(RuleFactory)
    record_type = factory.LazyAttribute(lambda run: run.rule.record_type)
    record_id = 1
    record_label = "A record"
    cause = "customer.created"


def rule_doing(owner, record_type: str, action_type: str, params: dict, **values) -> Rule:
    """A rule of `owner`'s, built through the service, with one action (on "updated" unless
    told otherwise)."""
    return rule_create(
        actor=owner,
        name=values.pop("name", f"{action_type} rule"),
        record_type=record_type,
        trigger=values.pop("trigger", Rule.Trigger.UPDATED),
        actions=[{"action_type": action_type, "params": params}],
        **values,
    )


def run_on(rule: Rule, record) -> RuleRun:
    """Carry out the rule on `record` as a worker would, and the run as stored after."""
    run = RuleRun.objects.create(
        rule=rule,
        record_type=rule.record_type,
        record_id=record.pk,
        record_label=str(record),
        cause="test",
    )
    rule_run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run
