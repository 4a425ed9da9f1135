"""Building rules through the services: every part checked, errors named after the part that is
wrong, nothing stored when anything is, and every change kept in the history."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from automation.models import Rule, RuleAction, RuleCondition
from automation.services.rules import (
    rule_action_add,
    rule_action_delete,
    rule_action_move,
    rule_action_update,
    rule_condition_add,
    rule_condition_delete,
    rule_create,
    rule_delete,
    rule_update,
)
from tests.automation.factories import RuleFactory

pytestmark = pytest.mark.django_db

NOTIFY = {
    "action_type": "notify",
    "params": {"to": "owner", "message": "Look at {{ record.name }}"},
}
TAG = {"action_type": "update_field", "params": {"field": "add_tag", "value": "Hot"}}
VIP = {"field": "tier", "operator": "in", "value": "vip"}


def errors_of(call) -> dict:
    with pytest.raises(ValidationError) as error:
        call()
    return error.value.message_dict


def nothing_stored() -> bool:
    return not (
        Rule.objects.exists()
        or RuleCondition.objects.exists()
        or RuleAction.objects.exists()
        or Rule.history.exists()
        or RuleCondition.history.exists()
        or RuleAction.history.exists()
    )


@pytest.fixture
def create(admin_user):
    def make(**values):
        values.setdefault("name", "Hot VIPs")
        values.setdefault("record_type", "customer")
        values.setdefault("trigger", "created")
        return rule_create(actor=admin_user, **values)

    return make


# Creating ----------------------------------------------------------------------------------------


def test_a_rule_is_stored_with_its_conditions_and_actions_in_clean_form(create, admin_user):
    # given  # when
    rule = create(
        name="  Hot   VIPs ",
        trigger="field_changed",
        trigger_config={"field": "tier", "value": "vip", "unknown": 1},
        conditions=[VIP, {"field": "tags", "operator": "has_any", "value": "Gold, gold ,b2b"}],
        actions=[TAG, NOTIFY],
    )

    # then
    rule.refresh_from_db()
    assert rule.name == "Hot VIPs"
    assert rule.owner == admin_user
    assert rule.trigger_config == {"field": "tier", "value": ["vip"]}
    assert rule.next_run_at is None
    assert [(c.position, c.field, c.operator, c.value) for c in rule.conditions.all()] == [
        (0, "tier", "in", ["vip"]),
        (1, "tags", "has_any", ["b2b", "gold"]),
    ]
    assert [(a.position, a.action_type, a.params) for a in rule.actions.all()] == [
        (0, "update_field", {"field": "add_tag", "value": "hot"}),
        (1, "notify", {"to": "owner", "message": "Look at {{ record.name }}"}),
    ]


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"name": "  "}, "name"),
        ({"record_type": "invoice"}, "record_type"),
        ({"trigger": "whenever"}, "trigger"),
        ({"match": "most"}, "match"),
        ({"record_type": "deal", "trigger": "sla_breached"}, "trigger"),
        ({"trigger": "field_changed", "trigger_config": {}}, "trigger_config.field"),
        (
            {"trigger": "field_changed", "trigger_config": {"field": "customer.tier"}},
            "trigger_config.field",
        ),
        (
            {"trigger": "field_changed", "trigger_config": {"field": "tier", "value": "gold"}},
            "trigger_config.value",
        ),
        (
            {"record_type": "deal", "trigger": "stage_changed", "trigger_config": {"stage": "x"}},
            "trigger_config.stage",
        ),
        (
            {"record_type": "ticket", "trigger": "sla_breached", "trigger_config": {"target": "x"}},
            "trigger_config.target",
        ),
        ({"trigger": "date_reached", "trigger_config": {"field": "name"}}, "trigger_config.field"),
        (
            {"trigger": "date_reached", "trigger_config": {"field": "birthday", "days": -1}},
            "trigger_config.days",
        ),
        (
            {"trigger": "date_reached", "trigger_config": {"field": "birthday", "direction": "x"}},
            "trigger_config.direction",
        ),
        (
            {"trigger": "date_reached", "trigger_config": {"field": "birthday", "time": "25:00"}},
            "trigger_config.time",
        ),
        (
            {"trigger": "date_reached", "trigger_config": {"field": "custom_attribute"}},
            "trigger_config.attribute",
        ),
        (
            {"trigger": "schedule", "trigger_config": {"frequency": "monthly"}},
            "trigger_config.frequency",
        ),
        (
            {"trigger": "schedule", "trigger_config": {"frequency": "weekly", "weekday": 7}},
            "trigger_config.weekday",
        ),
    ],
)
def test_a_wrong_rule_or_trigger_setting_is_named_and_nothing_is_stored(create, values, key):
    assert key in errors_of(lambda: create(**values))
    assert nothing_stored()


@pytest.mark.parametrize(
    ("condition", "key"),
    [
        ({"field": "salary", "operator": "eq", "value": "1"}, "conditions.1.field"),
        ({"field": "tier", "operator": "gt", "value": "1"}, "conditions.1.operator"),
        ({"field": "tier", "operator": "in", "value": "gold"}, "conditions.1.value"),
        ({"field": "tier", "operator": "in", "value": []}, "conditions.1.value"),
        ({"field": "total_spend", "operator": "gt", "value": "lots"}, "conditions.1.value"),
        ({"field": "total_spend", "operator": "gt", "value": "NaN"}, "conditions.1.value"),
        ({"field": "birthday", "operator": "before", "value": "10/03/1990"}, "conditions.1.value"),
        ({"field": "birthday", "operator": "within_next_days", "value": -2}, "conditions.1.value"),
        ({"field": "name", "operator": "contains", "value": "x" * 201}, "conditions.1.value"),
        ({"field": "name", "operator": "contains", "value": " "}, "conditions.1.value"),
        ({"field": "tags", "operator": "has_any", "value": ", ,"}, "conditions.1.value"),
        ("not an object", "conditions.1.field"),
    ],
)
def test_a_wrong_condition_is_named_by_its_place_and_part(create, condition, key):
    assert key in errors_of(lambda: create(conditions=[VIP, condition]))
    assert nothing_stored()


@pytest.mark.parametrize(
    ("action", "key"),
    [
        ({"action_type": "launch_rocket", "params": {}}, "actions.0.action_type"),
        ({"action_type": "update_field", "params": {"field": "name"}}, "actions.0.field"),
        (
            {"action_type": "update_field", "params": {"field": "tier", "value": "gold"}},
            "actions.0.value",
        ),
        ({"action_type": "update_field", "params": {"field": "add_tag"}}, "actions.0.value"),
        ({"action_type": "notify", "params": {"to": "users", "users": []}}, "actions.0.users"),
        ({"action_type": "notify", "params": {"to": "team", "team": "x"}}, "actions.0.team"),
        ({"action_type": "notify", "params": {"to": "everyone"}}, "actions.0.to"),
        ({"action_type": "notify", "params": {"to": "owner"}}, "actions.0.message"),
        (
            {"action_type": "create_task", "params": {"title": "Hi", "due_in_days": "soon"}},
            "actions.0.due_in_days",
        ),
        ({"action_type": "send_email", "params": {"template": "nope"}}, "actions.0.template"),
        ({"action_type": "campaign_add", "params": {"campaign": "0"}}, "actions.0.campaign"),
        (
            {"action_type": "call_webhook", "params": {"subscription": "1"}},
            "actions.0.subscription",
        ),
        ({"action_type": "notify", "params": "owner"}, "actions.0.params"),
    ],
)
def test_a_wrong_action_is_named_by_its_place_and_setting(create, action, key):
    assert key in errors_of(lambda: create(actions=[action, NOTIFY]))
    assert nothing_stored()


def test_fields_that_are_not_the_rules_are_refused(create):
    assert "next_run_at" in errors_of(lambda: create(next_run_at=None))
    assert nothing_stored()


def test_a_rule_on_a_date_or_schedule_is_scheduled(create):
    rule = create(trigger="schedule", trigger_config={"frequency": "weekly", "weekday": "2"})
    assert rule.trigger_config == {"frequency": "weekly", "time": "08:00", "weekday": 2}
    assert rule.next_run_at is not None


# Who may ----------------------------------------------------------------------------------------


def test_only_holders_of_the_permission_make_rules(rep):
    with pytest.raises(PermissionDenied):
        rule_create(actor=rep, name="Mine", record_type="customer", trigger="created")
    assert nothing_stored()


def test_a_manager_changes_only_their_own_rules_and_an_admin_any(manager, admin_user):
    # given
    others = RuleFactory(owner=admin_user)
    own = rule_create(actor=manager, name="Mine", record_type="customer", trigger="created")

    # when  # then
    with pytest.raises(PermissionDenied):
        rule_update(actor=manager, rule=others, name="Taken")
    with pytest.raises(PermissionDenied):
        rule_delete(actor=manager, rule=others)
    rule_update(actor=admin_user, rule=own, name="Checked by the admin")
    assert Rule.objects.get(pk=own.pk).name == "Checked by the admin"


# Updating ----------------------------------------------------------------------------------------


def test_a_wrong_update_changes_nothing(create, admin_user):
    # given
    rule = create(conditions=[VIP], actions=[NOTIFY])
    history = (Rule.history.count(), RuleCondition.history.count(), RuleAction.history.count())

    # when
    errors = errors_of(
        lambda: rule_update(
            actor=admin_user,
            rule=rule,
            name="Renamed",
            conditions=[{"field": "city", "operator": "eq", "value": "Paris"}],
            actions=[NOTIFY, {"action_type": "notify", "params": {"to": "nobody"}}],
        )
    )

    # then
    assert "actions.1.to" in errors
    stored = Rule.objects.get(pk=rule.pk)
    assert stored.name == "Hot VIPs"
    assert [c.field for c in stored.conditions.all()] == ["tier"]
    assert stored.actions.count() == 1
    assert (
        Rule.history.count(),
        RuleCondition.history.count(),
        RuleAction.history.count(),
    ) == history


def test_the_record_type_changes_only_with_new_conditions_and_actions(create, admin_user):
    # given
    rule = create(conditions=[VIP])

    # when  # then
    assert "record_type" in errors_of(
        lambda: rule_update(actor=admin_user, rule=rule, record_type="ticket")
    )
    rule_update(
        actor=admin_user,
        rule=rule,
        record_type="ticket",
        conditions=[{"field": "priority", "operator": "in", "value": ["high"]}],
        actions=[],
    )
    assert Rule.objects.get(pk=rule.pk).record_type == "ticket"


# History -----------------------------------------------------------------------------------------


def history_types(model) -> list[str]:
    return list(model.history.order_by("history_id").values_list("history_type", flat=True))


def test_every_change_to_a_rule_its_conditions_and_actions_is_kept(create, admin_user):
    # given a rule with a condition and an action
    rule = create(conditions=[VIP], actions=[NOTIFY])
    assert history_types(Rule) == ["+"]
    assert history_types(RuleCondition) == ["+"]
    assert history_types(RuleAction) == ["+"]

    # when its conditions are replaced
    rule_update(actor=admin_user, rule=rule, name="Renamed", conditions=[VIP, VIP])
    # then
    assert history_types(Rule) == ["+", "~"]
    assert history_types(RuleCondition) == ["+", "-", "+", "+"]
    assert history_types(RuleAction) == ["+"]

    # when a condition and an action are added, changed, moved and deleted one by one
    condition = rule_condition_add(
        actor=admin_user, rule=rule, field="city", operator="eq", value="Paris"
    )
    rule_condition_delete(actor=admin_user, condition=condition)
    action = rule_action_add(
        actor=admin_user, rule=rule, action_type="update_field", params=TAG["params"]
    )
    rule_action_update(
        actor=admin_user, action=action, params={"field": "add_tag", "value": "warm"}
    )
    rule_action_move(actor=admin_user, action=action, offset=-1)
    rule_action_delete(actor=admin_user, action=action)

    # then each is in the history
    assert history_types(RuleCondition)[-2:] == ["+", "-"]
    assert history_types(RuleAction)[1:] == ["+", "~", "~", "~", "-"]
    assert RuleAction.history.order_by("history_id")[2].params == {
        "field": "add_tag",
        "value": "warm",
    }
    assert Rule.history.latest("history_id").history_type == "~"

    # when the rule is deleted
    rule_delete(actor=admin_user, rule=rule)
    # then
    assert history_types(Rule)[-1] == "-"
    assert not Rule.objects.exists()


def test_a_condition_added_alone_is_checked(create, admin_user):
    # given
    rule = create()
    # when  # then
    errors = errors_of(
        lambda: rule_condition_add(
            actor=admin_user, rule=rule, field="tier", operator="has_any", value="x"
        )
    )
    assert list(errors) == ["operator"]
    assert not RuleCondition.objects.exists()
