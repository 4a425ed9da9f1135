"""/api/v1/automation-rules/ and /api/v1/automation-runs/: rules written through the rule
services (their errors named by place), visible to their owner and admins only, tried on a record
without doing anything, and the catalogue integrators build rules from."""

import pytest
from django.contrib.auth.models import Permission

from automation.models import Rule, RuleRun
from automation.services.rules import rule_create
from crm.accounts import roles
from tests.accounts.factories import UserFactory
from tests.automation.factories import RuleActionFactory, RuleConditionFactory, RuleRunFactory
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

RULES = "/api/v1/automation-rules/"
RUNS = "/api/v1/automation-runs/"

VIP_RULE = {
    "name": "Welcome VIPs",
    "record_type": "customer",
    "trigger": "field_changed",
    "trigger_config": {"field": "tier", "value": ["vip"]},
    "conditions": [
        {"field": "country", "operator": "eq", "value": "CN"},
        {"field": "total_spend", "operator": "gte", "value": 1000},
    ],
    "actions": [
        {
            "action_type": "create_task",
            "params": {"title": "Call {{ record.name }}", "due_in_days": 2},
        },
        {"action_type": "notify", "params": {"to": "owner", "message": "New VIP"}},
    ],
}


def post(client, url, payload=None):
    return client.post(url, payload or {}, content_type="application/json")


def patch(client, url, payload):
    return client.patch(url, payload, content_type="application/json")


def a_rule(owner, **values) -> Rule:
    return rule_create(actor=None, owner=owner, **(VIP_RULE | values))


@pytest.fixture
def other_manager(other_team):
    user = UserFactory(username="manager_b", roles=[roles.MANAGER])
    other_team.manager = user
    other_team.save(update_fields=["manager"])
    return user


# Writing -----------------------------------------------------------------------------------------


def test_a_manager_creates_a_rule_with_its_conditions_and_actions_in_order(manager, client_for):
    # Given a manager
    client = client_for(manager)

    # When they create a rule with two conditions and two actions
    response = post(client, RULES, VIP_RULE)

    # Then it is theirs, stored in the services' form, and described in words
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner"] == manager.pk
    assert body["trigger_config"] == {"field": "tier", "value": ["vip"]}
    assert body["trigger_description"] == "tier changes to VIP"
    assert [item["field"] for item in body["conditions"]] == ["country", "total_spend"]
    assert body["conditions"][1]["value"] == "1000"
    assert [item["action_type"] for item in body["actions"]] == ["create_task", "notify"]
    assert body["actions"][0]["params"]["assignee"] == "owner"
    assert body["actions"][1]["description"] == "Notify the record's owner"
    rule = Rule.objects.get(pk=body["id"])
    assert rule.owner == manager
    assert rule.conditions.count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"conditions": [{"field": "total_spend", "operator": "gte", "value": "lots"}]},
            "conditions.0.value",
        ),
        (
            {"conditions": [{"field": "no_such", "operator": "eq", "value": 1}]},
            "conditions.0.field",
        ),
        (
            {"trigger": "date_reached", "trigger_config": {"field": "birthday", "days": -3}},
            "trigger_config.days",
        ),
        ({"actions": [{"action_type": "notify", "params": {"to": "owner"}}]}, "actions.0.message"),
        ({"trigger": "sla_breached", "trigger_config": {}}, "trigger"),
    ],
)
def test_a_refused_rule_names_the_part_that_is_wrong(manager, client_for, change, field):
    # Given a rule with one wrong part
    payload = VIP_RULE | change

    # When a manager sends it
    response = post(client_for(manager), RULES, payload)

    # Then it is refused in the API's error shape, naming the part, and nothing is made
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["fields"]) == [field]
    assert not Rule.objects.exists()


def test_a_condition_value_error_is_named_by_its_place(manager, client_for):
    # Given a rule whose second condition's number is not a number
    conditions = [
        VIP_RULE["conditions"][0],
        {"field": "total_spend", "operator": "gt", "value": "x"},
    ]

    # When it is sent
    response = post(client_for(manager), RULES, VIP_RULE | {"conditions": conditions})

    # Then the error names that condition's value
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "conditions.1.value": ["Give a number, like 1000 or 12.5."]
    }


def test_a_patch_with_actions_replaces_them_and_keeps_the_conditions(manager, client_for):
    # Given a manager's rule
    rule = a_rule(manager)

    # When they send only new actions
    response = patch(
        client_for(manager),
        f"{RULES}{rule.pk}/",
        {"actions": [{"action_type": "notify", "params": {"to": "owner", "message": "Hi"}}]},
    )

    # Then the actions are replaced and the conditions stay
    assert response.status_code == 200, response.content
    body = response.json()
    assert [item["action_type"] for item in body["actions"]] == ["notify"]
    assert len(body["conditions"]) == 2
    assert rule.actions.count() == 1


def test_a_patch_of_the_name_leaves_the_rest(manager, client_for):
    rule = a_rule(manager)

    response = patch(client_for(manager), f"{RULES}{rule.pk}/", {"name": "  VIP   welcome "})

    assert response.status_code == 200, response.content
    assert response.json()["name"] == "VIP welcome"
    assert len(response.json()["actions"]) == 2


def test_changing_the_record_type_without_new_conditions_is_refused(manager, client_for):
    rule = a_rule(manager)

    response = patch(client_for(manager), f"{RULES}{rule.pk}/", {"record_type": "deal"})

    assert response.status_code == 400
    assert "record_type" in response.json()["error"]["fields"]


def test_the_owner_and_description_cannot_be_written(manager, client_for, rep):
    response = post(
        client_for(manager),
        RULES,
        VIP_RULE
        | {
            "owner": rep.pk,
            "actions": [{"action_type": "notify", "params": {"message": "x"}, "description": "y"}],
        },
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["owner"] == ["This field is read-only."]


def test_a_manager_deletes_their_rule(manager, client_for):
    rule = a_rule(manager)

    response = client_for(manager).delete(f"{RULES}{rule.pk}/")

    assert response.status_code == 204
    assert not Rule.objects.filter(pk=rule.pk).exists()


def test_enable_and_disable(manager, client_for):
    # Given an enabled schedule rule
    rule = a_rule(
        manager,
        trigger="schedule",
        trigger_config={"frequency": "daily", "time": "09:00"},
        conditions=[],
    )
    client = client_for(manager)
    assert rule.next_run_at is not None

    # When it is switched off, then on
    off = post(client, f"{RULES}{rule.pk}/disable/")
    rule.refresh_from_db()
    assert (off.status_code, off.json()["is_enabled"], rule.next_run_at) == (200, False, None)
    on = post(client, f"{RULES}{rule.pk}/enable/")

    # Then it is scheduled again
    rule.refresh_from_db()
    assert (on.status_code, on.json()["is_enabled"]) == (200, True)
    assert rule.next_run_at is not None


# Who sees what -----------------------------------------------------------------------------------


def test_a_manager_sees_only_their_own_rules_and_an_admin_all(
    manager, other_manager, admin_user, client_for
):
    # Given a rule of each manager
    mine, theirs = a_rule(manager, name="Mine"), a_rule(other_manager, name="Theirs")

    # When each lists the rules
    names = [item["name"] for item in client_for(manager).get(RULES).json()["results"]]
    admin_names = [item["name"] for item in client_for(admin_user).get(RULES).json()["results"]]

    # Then a manager sees their own, an admin both; another's is a 404 for every verb
    assert names == ["Mine"]
    assert admin_names == ["Mine", "Theirs"]
    client = client_for(manager)
    assert client.get(f"{RULES}{theirs.pk}/").status_code == 404
    assert patch(client, f"{RULES}{theirs.pk}/", {"name": "x"}).status_code == 404
    assert post(client, f"{RULES}{theirs.pk}/disable/").status_code == 404
    assert post(client, f"{RULES}{theirs.pk}/test/", {"record": 1}).status_code == 404
    assert client.delete(f"{RULES}{theirs.pk}/").status_code == 404
    assert Rule.objects.get(pk=theirs.pk).name == "Theirs"
    assert mine.pk != theirs.pk


def test_an_admin_may_change_a_managers_rule(manager, admin_user, client_for):
    rule = a_rule(manager)

    response = patch(client_for(admin_user), f"{RULES}{rule.pk}/", {"is_enabled": False})

    assert response.status_code == 200
    assert response.json()["owner"] == manager.pk


@pytest.mark.parametrize("url", [RULES, RUNS, f"{RULES}catalogue/"])
def test_a_rep_may_not_use_the_automation_api(rep, client_for, url):
    assert client_for(rep).get(url).status_code == 403
    assert post(client_for(rep), RULES, VIP_RULE).status_code == 403


def test_the_rule_list_has_a_fixed_number_of_queries(
    manager, client_for, django_assert_max_num_queries
):
    # Given a few rules with conditions and actions that name no other record
    for index in range(2):
        a_rule(manager, name=f"Rule {index}")
    client = client_for(manager)
    with django_assert_max_num_queries(50) as few:
        client.get(RULES)

    # When there are many more
    for index in range(2, 8):
        a_rule(manager, name=f"Rule {index}")

    # Then the list costs the same
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(RULES)
    assert response.json()["count"] == 8


# Trying a rule -----------------------------------------------------------------------------------


def test_a_dry_run_says_what_the_rule_would_do_to_a_record(manager, rep, team, client_for):
    # Given a manager's rule and a customer of their team's rep, who is in China
    rule = a_rule(manager)
    customer = CustomerFactory(owner=rep, team=team, country="CN", name="Lantern")

    # When the manager tries the rule on the customer
    response = post(client_for(manager), f"{RULES}{rule.pk}/test/", {"record": customer.pk})

    # Then each condition's result and each action's plan is given, and nothing was done
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["record"] == {"id": customer.pk, "label": "Lantern"}
    assert [item["met"] for item in body["conditions"]] == [True, False, False]
    assert body["conditions_met"] is False
    assert len(body["actions"]) == 2
    assert "Call Lantern" in body["actions"][0]["would"]
    assert body["actions"][0]["problem"] == ""
    assert body["problem"] == ""
    assert not RuleRun.objects.exists()


def test_a_dry_run_on_a_record_out_of_sight_names_the_record(
    manager, other_team_rep, other_team, client_for
):
    # Given a customer of another team
    rule = a_rule(manager)
    theirs = CustomerFactory(owner=other_team_rep, team=other_team)

    # When the manager tries the rule on it, or on a record that does not exist
    client = client_for(manager)
    hidden = post(client, f"{RULES}{rule.pk}/test/", {"record": theirs.pk})
    absent = post(client, f"{RULES}{rule.pk}/test/", {"record": theirs.pk + 1000})

    # Then both are refused alike, naming the record
    assert hidden.status_code == absent.status_code == 400
    assert hidden.json() == absent.json()
    assert list(hidden.json()["error"]["fields"]) == ["record"]


def test_trying_a_rule_takes_the_test_permission(manager, client_for):
    # Given someone who may read and change rules but not test them
    user = UserFactory(username="no_tester")
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="automation", codename__in=["view_rule", "change_rule"]
        )
    )
    rule = a_rule(user)

    # When they try it, then they are refused
    response = post(client_for(user), f"{RULES}{rule.pk}/test/", {"record": 1})
    assert response.status_code == 403


# The catalogue -----------------------------------------------------------------------------------


def test_the_catalogue_lists_what_rules_are_built_from(manager, client_for):
    # When a manager reads the catalogue
    response = client_for(manager).get(f"{RULES}catalogue/")

    # Then it covers each record type, with triggers fit for it, fields and their operators
    assert response.status_code == 200
    by_key = {item["key"]: item for item in response.json()}
    assert set(by_key) == {"customer", "deal", "ticket"}
    customer = by_key["customer"]
    triggers = {item["key"] for item in customer["triggers"]}
    assert "sla_breached" not in triggers and "field_changed" in triggers
    assert "sla_breached" in {item["key"] for item in by_key["ticket"]["triggers"]}
    tier = next(item for item in customer["condition_fields"] if item["key"] == "tier")
    assert {"key": "in", "label": "is one of"} in tier["operators"]
    assert {"value": "vip", "label": "VIP"} in tier["choices"]
    assert "custom_attribute" in customer["date_fields"]
    assert "tier" in customer["changeable_fields"]
    assert {item["key"] for item in customer["settable_fields"]} >= {"tier", "add_tag"}
    assert "campaign_add" in {item["key"] for item in customer["action_types"]}
    assert "record.name" in {item["name"] for item in customer["placeholders"]}


# Runs --------------------------------------------------------------------------------------------


def test_runs_are_listed_newest_first_and_filtered(
    manager, other_manager, client_for, django_assert_max_num_queries
):
    # Given runs of two of the manager's rules and one of another manager's
    rule, other_rule = a_rule(manager, name="One"), a_rule(manager, name="Two")
    first = RuleRunFactory(rule=rule, status=RuleRun.Status.SUCCEEDED, record_id=5)
    second = RuleRunFactory(rule=rule, status=RuleRun.Status.FAILED, record_id=6)
    third = RuleRunFactory(rule=other_rule, status=RuleRun.Status.FAILED, record_id=5)
    RuleRunFactory(rule=a_rule(other_manager, name="Theirs"))
    client = client_for(manager)

    # When the manager lists them, all and filtered
    with django_assert_max_num_queries(12):
        everything = client.get(RUNS).json()["results"]
    failed = client.get(f"{RUNS}?status=failed&rule={rule.pk}").json()["results"]
    on_record = client.get(f"{RUNS}?record_type=customer&record_id=5").json()["results"]

    # Then they see their own rules' runs, newest first
    assert [run["id"] for run in everything] == [third.pk, second.pk, first.pk]
    assert everything[0]["rule_name"] == "Two"
    assert [run["id"] for run in failed] == [second.pk]
    assert [run["id"] for run in on_record] == [third.pk, first.pk]


def test_the_run_list_has_a_fixed_number_of_queries(
    manager, client_for, django_assert_max_num_queries
):
    rule = a_rule(manager)
    RuleRunFactory(rule=rule)
    client = client_for(manager)
    with django_assert_max_num_queries(50) as few:
        client.get(RUNS)
    for _index in range(8):
        RuleRunFactory(rule=a_rule(manager, name=f"R{_index}"))

    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(RUNS).json()["results"]) == 9


def test_another_managers_run_is_a_404(manager, other_manager, client_for):
    run = RuleRunFactory(rule=a_rule(other_manager))

    assert client_for(manager).get(f"{RUNS}{run.pk}/").status_code == 404


def test_a_rule_read_shows_stored_conditions_and_actions(manager, client_for):
    # Given a rule stored by the factories (no checks)
    rule = a_rule(manager, conditions=[], actions=[])
    RuleConditionFactory(rule=rule, position=1, field="tier", value=["vip"])
    RuleActionFactory(rule=rule, position=0)

    body = client_for(manager).get(f"{RULES}{rule.pk}/").json()

    assert body["conditions"] == [{"field": "tier", "operator": "in", "value": ["vip"]}]
    assert body["actions"][0]["description"] == "Notify the record's owner"
