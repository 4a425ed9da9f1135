"""The workflow rule pages: building a rule step by step in the browser, errors shown on the
input they are about, who may see and change which rules, and the run pages."""

import pytest

from automation.models import Rule, RuleAction, RuleCondition, RuleRun
from collaboration.models import Task
from crm.accounts import roles
from tests.accounts.factories import UserFactory
from tests.automation.factories import (
    RuleActionFactory,
    RuleConditionFactory,
    RuleFactory,
    RuleRunFactory,
)
from tests.customers.factories import CustomerFactory
from tests.sales.factories import CampaignFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_manager(other_team):
    user = UserFactory(username="other_manager", roles=[roles.MANAGER], is_staff=True)
    other_team.manager = user
    other_team.save(update_fields=["manager"])
    return user


@pytest.fixture
def customer(rep, team):
    return CustomerFactory(name="Ada Wong", owner=rep, team=team, tier="normal")


def _errors_of(response, field: str) -> list[str]:
    form = response.context["form"]
    return [str(error) for error in form.errors.get(field, [])]


# Building a rule ---------------------------------------------------------------------------------


def test_manager_builds_a_rule_entirely_through_the_pages(client_for, manager, customer, rep):
    client = client_for(manager)

    # given: the first step asks what the rule is about
    response = client.get("/automation/rules/new/")
    assert response.status_code == 200
    assert b'name="record_type"' in response.content

    # when: the rule is created with a field-change trigger
    response = client.get("/automation/rules/new/?record_type=customer")
    assert response.status_code == 200
    assert b'data-show-when="trigger=field_changed"' in response.content
    response = client.post(
        "/automation/rules/new/",
        {
            "record_type": "customer",
            "name": "Welcome VIPs",
            "trigger": "field_changed",
            "changed_field": "tier",
            "changed_choice": "tier:vip",
            "match": "all",
            "is_enabled": "on",
        },
    )

    # then
    rule = Rule.objects.get(name="Welcome VIPs")
    assert response.status_code == 302
    assert response.url == f"/automation/rules/{rule.pk}/"
    assert rule.owner == manager
    assert rule.trigger_config == {"field": "tier", "value": ["vip"]}

    # when: a condition is added in two steps (the second swapped in, or a page without JS)
    assert client.get(f"/automation/rules/{rule.pk}/conditions/new/?field=city").status_code == 200
    step2 = client.get(
        f"/automation/rules/{rule.pk}/conditions/new/?field=city", HTTP_HX_REQUEST="true"
    )
    assert step2.status_code == 200
    assert b'name="operator"' in step2.content
    response = client.post(
        f"/automation/rules/{rule.pk}/conditions/new/",
        {"field": "city", "operator": "eq", "value": "Shanghai"},
    )
    assert response.status_code == 302
    assert list(rule.conditions.values_list("field", "operator", "value")) == [
        ("city", "eq", "Shanghai")
    ]

    # when: two actions are added
    response = client.get(f"/automation/rules/{rule.pk}/actions/new/?type=create_task")
    assert b"record.name" in response.content  # the placeholders beside the texts
    client.post(
        f"/automation/rules/{rule.pk}/actions/new/",
        {
            "type": "create_task",
            "title": "Call {{ record.name }}",
            "assignee": "owner",
            "due_in_days": "2",
            "priority": "high",
        },
    )
    client.post(
        f"/automation/rules/{rule.pk}/actions/new/",
        {"type": "notify", "to": "owner", "message": "{{ record.name }} is VIP now"},
    )
    first, second = rule.actions.order_by("position")
    assert (first.action_type, second.action_type) == ("create_task", "notify")
    assert first.params["due_in_days"] == 2

    # when: the second is moved up
    response = client.post(f"/automation/actions/{second.pk}/move/", {"direction": "up"})
    assert response.status_code == 302
    assert list(rule.actions.order_by("position").values_list("action_type", flat=True)) == [
        "notify",
        "create_task",
    ]

    # when: the rule is tested on a record
    response = client.get(
        f"/automation/rules/{rule.pk}/test/?record={customer.pk}", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    result = response.context["result"]
    assert [item["met"] for item in result.conditions] == [True, False]  # city; tier is normal
    assert not result.conditions_met
    assert result.actions[0]["would"].startswith("Notify")
    assert "Call Ada Wong" in result.actions[1]["would"]
    assert not Task.objects.exists()

    # when: it is switched off and on again
    client.post(f"/automation/rules/{rule.pk}/toggle/", {"enabled": "0"})
    rule.refresh_from_db()
    assert not rule.is_enabled
    client.post(f"/automation/rules/{rule.pk}/toggle/", {"enabled": "1", "next": "list"})
    rule.refresh_from_db()
    assert rule.is_enabled

    # when: the page is shown
    response = client.get(f"/automation/rules/{rule.pk}/")
    assert response.status_code == 200
    assert "tier changes to VIP" in response.content.decode()
    assert b"data-record-history" in response.content

    # when: it is deleted, after the confirmation page
    assert client.get(f"/automation/rules/{rule.pk}/delete/").status_code == 200
    response = client.post(f"/automation/rules/{rule.pk}/delete/")
    assert response.status_code == 302
    assert not Rule.objects.filter(pk=rule.pk).exists()
    assert not RuleAction.objects.exists()
    assert not RuleCondition.objects.exists()


def test_editing_a_rule_keeps_its_record_type_and_shows_its_settings(client_for, manager):
    # given
    rule = RuleFactory(
        owner=manager,
        trigger="date_reached",
        trigger_config={"field": "birthday", "days": 3, "direction": "before", "time": "09:00"},
    )
    client = client_for(manager)

    # when
    page = client.get(f"/automation/rules/{rule.pk}/edit/")
    response = client.post(
        f"/automation/rules/{rule.pk}/edit/",
        {
            "record_type": "deal",
            "name": "Birthday",
            "trigger": "schedule",
            "frequency": "weekly",
            "weekday": "2",
            "time": "07:30",
            "match": "any",
        },
    )

    # then
    assert page.context["form"]["days"].value() == 3
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.record_type == "customer"
    assert rule.trigger_config == {"frequency": "weekly", "time": "07:30", "weekday": 2}
    assert not rule.is_enabled
    assert rule.next_run_at is None


# Errors on the right input -----------------------------------------------------------------------


def test_a_wrong_trigger_setting_is_shown_on_its_input_and_nothing_is_saved(client_for, manager):
    # when
    response = client_for(manager).post(
        "/automation/rules/new/",
        {
            "record_type": "customer",
            "name": "Renewal",
            "trigger": "date_reached",
            "date_field": "birthday",
            "days": "99999",
            "time": "8 o'clock",
            "direction": "before",
            "match": "all",
        },
    )

    # then
    assert response.status_code == 200
    assert _errors_of(response, "days") == ["Give a number from 0 to 3660."]
    assert not Rule.objects.exists()


def test_a_missing_date_field_is_shown_on_the_date_input(client_for, manager):
    response = client_for(manager).post(
        "/automation/rules/new/",
        {"record_type": "customer", "name": "R", "trigger": "date_reached", "match": "all"},
    )

    assert _errors_of(response, "date_field") == ["Choose the date the rule waits for."]
    assert not Rule.objects.exists()


def test_a_changed_to_value_that_is_not_a_choice_is_shown_on_its_input(client_for, manager):
    response = client_for(manager).post(
        "/automation/rules/new/",
        {
            "record_type": "customer",
            "name": "R",
            "trigger": "field_changed",
            "changed_field": "tier",
            "changed_text": "platinum",
            "match": "all",
        },
    )

    assert response.status_code == 200
    assert _errors_of(response, "changed_choice")
    assert not Rule.objects.exists()


def test_a_wrong_condition_value_is_shown_on_the_value_input(client_for, manager):
    # given
    rule = RuleFactory(owner=manager)
    client = client_for(manager)

    # when
    number = client.post(
        f"/automation/rules/{rule.pk}/conditions/new/",
        {"field": "total_spend", "operator": "gt", "value": "lots"},
    )
    days = client.post(
        f"/automation/rules/{rule.pk}/conditions/new/",
        {"field": "last_contact_at", "operator": "within_last_days", "days": "x"},
    )

    # then
    assert _errors_of(number, "value") == ["Give a number, like 1000 or 12.5."]
    assert _errors_of(days, "days") == ["Give a whole number of days."]
    assert not rule.conditions.exists()


def test_a_condition_without_a_value_needs_none(client_for, manager):
    rule = RuleFactory(owner=manager)

    client_for(manager).post(
        f"/automation/rules/{rule.pk}/conditions/new/",
        {"field": "email", "operator": "empty"},
    )

    assert list(rule.conditions.values_list("operator", "value")) == [("empty", None)]


def test_a_wrong_action_setting_is_shown_on_its_input(client_for, manager):
    # given
    rule = RuleFactory(owner=manager)
    client = client_for(manager)

    # when
    response = client.post(
        f"/automation/rules/{rule.pk}/actions/new/",
        {"type": "notify", "to": "users", "message": "Hi {{ nonsense }}"},
    )

    # then
    assert response.status_code == 200
    assert _errors_of(response, "users") == ["Choose whom to notify."]
    assert not rule.actions.exists()

    # when: the users are given, the message's placeholder is refused
    response = client.post(
        f"/automation/rules/{rule.pk}/actions/new/",
        {"type": "notify", "to": "users", "users": [str(manager.pk)], "message": "{{ nonsense }}"},
    )
    assert _errors_of(response, "message") == ["Unknown placeholder: nonsense."]
    assert not rule.actions.exists()


def test_update_field_offers_the_chosen_fields_values(client_for, manager):
    rule = RuleFactory(owner=manager)

    response = client_for(manager).get(
        f"/automation/rules/{rule.pk}/actions/new/?type=update_field&field=tier",
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    choices = dict(response.context["form"].fields["value"].choices)
    assert "vip" in choices


def test_an_action_is_edited(client_for, manager):
    # given
    rule = RuleFactory(owner=manager)
    action = RuleActionFactory(
        rule=rule, action_type="notify", params={"to": "owner", "message": "a"}
    )
    client = client_for(manager)

    # when
    page = client.get(f"/automation/actions/{action.pk}/edit/")
    client.post(f"/automation/actions/{action.pk}/edit/", {"to": "owner", "message": "Look"})

    # then
    assert page.status_code == 200
    action.refresh_from_db()
    assert action.params == {"to": "owner", "message": "Look"}


def test_campaign_actions_offer_the_users_campaigns(client_for, manager):
    rule = RuleFactory(owner=manager)
    campaign = CampaignFactory(owner=manager)

    response = client_for(manager).get(
        f"/automation/rules/{rule.pk}/actions/new/?type=campaign_add"
    )

    assert str(campaign.pk) in dict(response.context["form"].fields["campaign"].choices)


def test_a_condition_and_an_action_are_removed(client_for, manager):
    rule = RuleFactory(owner=manager)
    condition = RuleConditionFactory(rule=rule)
    action = RuleActionFactory(rule=rule)
    client = client_for(manager)

    client.post(f"/automation/conditions/{condition.pk}/delete/")
    client.post(f"/automation/actions/{action.pk}/delete/")

    assert not rule.conditions.exists()
    assert not rule.actions.exists()


# Who may do what ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/automation/",
        "/automation/rules/new/",
        "/automation/rules/{pk}/",
        "/automation/rules/{pk}/edit/",
        "/automation/rules/{pk}/runs/",
    ],
)
def test_a_rep_is_refused(client_for, rep, manager, url):
    rule = RuleFactory(owner=manager)

    response = client_for(rep).get(url.format(pk=rule.pk))

    assert response.status_code == 403


def test_a_rep_may_not_switch_a_rule_off(client_for, rep, manager):
    rule = RuleFactory(owner=manager)

    response = client_for(rep).post(f"/automation/rules/{rule.pk}/toggle/", {"enabled": "0"})

    assert response.status_code == 403
    rule.refresh_from_db()
    assert rule.is_enabled


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/automation/rules/{rule}/"),
        ("get", "/automation/rules/{rule}/edit/"),
        ("get", "/automation/rules/{rule}/runs/"),
        ("get", "/automation/rules/{rule}/conditions/new/"),
        ("get", "/automation/rules/{rule}/actions/new/"),
        ("get", "/automation/rules/{rule}/test/?record=1"),
        ("get", "/automation/actions/{action}/edit/"),
        ("get", "/automation/runs/{run}/"),
        ("post", "/automation/rules/{rule}/toggle/"),
        ("post", "/automation/rules/{rule}/delete/"),
        ("post", "/automation/conditions/{condition}/delete/"),
        ("post", "/automation/actions/{action}/delete/"),
        ("post", "/automation/actions/{action}/move/"),
    ],
)
def test_another_manager_gets_404_on_someone_elses_rule(
    client_for, manager, other_manager, method, url
):
    # given
    rule = RuleFactory(owner=manager)
    ids = {
        "rule": rule.pk,
        "action": RuleActionFactory(rule=rule).pk,
        "condition": RuleConditionFactory(rule=rule).pk,
        "run": RuleRunFactory(rule=rule).pk,
    }

    # when
    response = getattr(client_for(other_manager), method)(url.format(**ids))

    # then
    assert response.status_code == 404
    assert Rule.objects.filter(pk=rule.pk, is_enabled=True).exists()


def test_the_list_shows_only_the_users_rules_and_an_admin_sees_all(
    client_for, manager, other_manager, admin_user
):
    RuleFactory(owner=manager, name="Mine")
    RuleFactory(owner=other_manager, name="Theirs")

    mine = client_for(manager).get("/automation/")
    every = client_for(admin_user).get("/automation/")

    assert [rule.name for rule in mine.context["page"]] == ["Mine"]
    assert [rule.name for rule in every.context["page"]] == ["Mine", "Theirs"]
    assert b"New rule" in mine.content


def test_an_admin_opens_and_edits_another_users_rule(client_for, manager, admin_user):
    rule = RuleFactory(owner=manager, name="Old")
    client = client_for(admin_user)

    assert client.get(f"/automation/rules/{rule.pk}/").status_code == 200
    client.post(
        f"/automation/rules/{rule.pk}/edit/",
        {"name": "New", "trigger": "created", "match": "all", "is_enabled": "on"},
    )

    rule.refresh_from_db()
    assert rule.name == "New"
    assert rule.owner == manager


def test_testing_a_record_the_user_may_not_see_says_so(client_for, manager, other_team_rep):
    rule = RuleFactory(owner=manager)
    hidden = CustomerFactory(owner=other_team_rep)

    response = client_for(manager).get(f"/automation/rules/{rule.pk}/test/?record={hidden.pk}")

    assert response.status_code == 200
    assert response.context["result"] is None
    assert b"No Customer number" in response.content


def test_the_navigation_offers_the_rules_to_managers_only(client_for, manager, rep):
    assert b"/automation/" in client_for(manager).get("/").content
    assert b'href="/automation/"' not in client_for(rep).get("/").content


def test_the_rules_history_is_readable(client_for, manager):
    rule = RuleFactory(owner=manager)

    response = client_for(manager).get(f"/audit/history/automation.rule/{rule.pk}/")

    assert response.status_code == 200


# Runs --------------------------------------------------------------------------------------------


def test_run_pages_show_what_the_run_found_and_did(client_for, manager, customer):
    # given
    rule = RuleFactory(owner=manager, name="VIP")
    run = RuleRunFactory(
        rule=rule,
        record_id=customer.pk,
        record_label="Ada Wong",
        status=RuleRun.Status.FAILED,
        conditions_met=True,
        condition_results=[{"condition": "Tier is one of VIP", "met": True}],
        action_results=[
            {"position": 0, "action": "Notify the owner", "status": "done", "detail": "Notified"},
            {"position": 1, "action": "Email", "status": "failed", "detail": "No address"},
        ],
        error="No address",
        chain=[[rule.pk, "deal:7"]],
        attempts=1,
    )
    RuleRunFactory(rule=rule, status=RuleRun.Status.SUCCEEDED)
    client = client_for(manager)

    # when
    detail = client.get(f"/automation/runs/{run.pk}/")
    failed = client.get(f"/automation/rules/{rule.pk}/runs/?status=failed")

    # then
    content = detail.content.decode()
    assert detail.status_code == 200
    assert f'href="/customers/{customer.pk}/"' in content
    assert "Tier is one of VIP" in content
    assert "No address" in content
    assert "Notified" in content
    assert [item.pk for item in failed.context["page"]] == [run.pk]


def test_a_run_on_a_record_the_viewer_may_not_see_has_no_link(client_for, manager, other_team_rep):
    rule = RuleFactory(owner=manager)
    hidden = CustomerFactory(owner=other_team_rep)
    run = RuleRunFactory(rule=rule, record_id=hidden.pk)

    response = client_for(manager).get(f"/automation/runs/{run.pk}/")

    assert response.context["record_url"] == ""


# Bounded queries ---------------------------------------------------------------------------------


def test_the_rule_list_has_a_fixed_number_of_queries(
    client_for, manager, django_assert_max_num_queries
):
    client = client_for(manager)
    client.get("/automation/")  # warm the session and permission caches
    for _ in range(3):
        rule = RuleFactory(owner=manager, trigger="field_changed", trigger_config={"field": "tier"})
        RuleActionFactory(rule=rule)
        RuleRunFactory(rule=rule, status=RuleRun.Status.FAILED)
    with django_assert_max_num_queries(12) as few:
        client.get("/automation/")
    for _ in range(10):
        RuleFactory(owner=manager, trigger="created")

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/automation/")

    assert response.status_code == 200
    assert len(response.context["page"]) == 13


def test_the_rule_page_and_run_list_have_bounded_queries(
    client_for, manager, django_assert_max_num_queries
):
    rule = RuleFactory(owner=manager)
    for _ in range(5):
        RuleConditionFactory(rule=rule, field="city", operator="eq", value="Shanghai")
        RuleActionFactory(rule=rule, params={"to": "owner", "message": "x"})
    for _ in range(25):
        RuleRunFactory(rule=rule)
    client = client_for(manager)

    with django_assert_max_num_queries(25):
        assert client.get(f"/automation/rules/{rule.pk}/").status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(f"/automation/rules/{rule.pk}/runs/").status_code == 200


@pytest.mark.parametrize("record_type", ["customer", "deal", "ticket"])
def test_every_form_step_opens_for_every_record_type(client_for, manager, record_type):
    # given
    rule = RuleFactory(owner=manager, record_type=record_type)
    client = client_for(manager)
    kind_form = client.get(f"/automation/rules/new/?record_type={record_type}")
    fields = [key for key, _ in kind_form.context["form"].fields["changed_field"].choices if key]
    condition_fields = client.get(f"/automation/rules/{rule.pk}/").context["condition_field_form"]
    types = client.get(f"/automation/rules/{rule.pk}/actions/new/").context["type_form"]

    # when
    condition_pages = [
        client.get(f"/automation/rules/{rule.pk}/conditions/new/?field={key}")
        for key, _ in condition_fields.fields["field"].choices
        if key
    ]
    action_pages = [
        client.get(f"/automation/rules/{rule.pk}/actions/new/?type={key}")
        for key, _ in types.fields["type"].choices
        if key
    ]

    # then
    assert fields
    assert all(page.status_code == 200 for page in condition_pages + action_pages)
    assert all(page.context["form"] is not None for page in condition_pages + action_pages)
