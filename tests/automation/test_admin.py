"""Workflow rules in the admin: saved with their conditions and actions through the rule
services (a refusal is shown and nothing is written); runs are shown, never written."""

import json

import pytest
from django.urls import reverse

from automation.models import Rule, RuleRun
from automation.services.rules import rule_create
from tests.automation.factories import RuleRunFactory

pytestmark = pytest.mark.django_db


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def form_data(response) -> dict:
    """The POST body of an admin page as it was rendered, inlines included."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{name}"] = value
        forms.extend(formset.forms)
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            data[form.add_prefix(name)] = "" if value is None else value
    return data


def new_rule_data(client, **extra) -> dict:
    data = form_data(client.get(admin_url(Rule, "add")))
    data.update(
        {
            "name": "VIP  welcome",
            "record_type": "customer",
            "trigger": "created",
            "trigger_config": "{}",
            "match": "all",
            "is_enabled": "on",
            "conditions-TOTAL_FORMS": 1,
            "conditions-0-position": 0,
            "conditions-0-field": "tier",
            "conditions-0-operator": "in",
            "conditions-0-value": json.dumps("vip"),
            "actions-TOTAL_FORMS": 2,
            "actions-0-position": 1,
            "actions-0-action_type": "notify",
            "actions-0-params": json.dumps({"message": "Hello {{ record.name }}"}),
            "actions-1-position": 0,
            "actions-1-action_type": "create_task",
            "actions-1-params": json.dumps({"title": "Call"}),
        }
    )
    data.update(extra)
    return data


def test_a_rule_added_in_the_admin_goes_through_the_service(admin_user, client_for):
    # Given the add page
    client = client_for(admin_user)

    # When an admin adds a rule with a condition and two actions, the second placed first
    response = client.post(admin_url(Rule, "add"), new_rule_data(client))

    # Then it is stored in the service's form, owned by the admin, actions in position order
    assert response.status_code == 302, response.content
    rule = Rule.objects.get()
    assert (rule.name, rule.owner) == ("VIP welcome", admin_user)
    assert list(rule.conditions.values_list("field", "operator", "value")) == [
        ("tier", "in", ["vip"])
    ]
    assert [action.action_type for action in rule.actions.all()] == ["create_task", "notify"]
    assert rule.actions.get(action_type="notify").params == {
        "to": "owner",
        "message": "Hello {{ record.name }}",
    }
    assert rule.history.count() == 1


def test_a_rule_the_service_refuses_is_not_written(admin_user, client_for):
    # Given a condition on a field that does not exist
    client = client_for(admin_user)
    data = new_rule_data(client, **{"conditions-0-field": "no_such"})

    # When it is saved
    response = client.post(admin_url(Rule, "add"), data, follow=True)

    # Then the page names the condition, and nothing is stored
    assert response.status_code == 200
    messages = [str(message) for message in response.context["messages"]]
    assert any("conditions.0.field" in message for message in messages), messages
    assert not Rule.objects.exists()


def test_a_changed_trigger_is_checked(admin_user, client_for):
    # Given a rule
    rule = rule_create(
        actor=None, owner=admin_user, name="R", record_type="ticket", trigger="created"
    )
    client = client_for(admin_user)
    url = admin_url(Rule, "change", rule.pk)
    data = form_data(client.get(url))

    # When its trigger becomes a schedule without a frequency, then a weekly one
    refused = client.post(url, data | {"trigger": "schedule"}, follow=True)
    rule.refresh_from_db()
    assert rule.trigger == "created"
    assert any("trigger_config.frequency" in str(m) for m in refused.context["messages"])
    config = json.dumps({"frequency": "weekly", "weekday": 2, "time": "07:30:00"})
    response = client.post(url, data | {"trigger": "schedule", "trigger_config": config})

    # Then the second is stored in the service's form, and scheduled
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.trigger_config == {"frequency": "weekly", "weekday": 2, "time": "07:30"}
    assert rule.next_run_at is not None


def test_the_rule_pages_render(admin_user, client_for):
    rule = rule_create(
        actor=None,
        owner=admin_user,
        name="R",
        record_type="customer",
        trigger="created",
        conditions=[{"field": "tier", "operator": "in", "value": ["vip"]}],
        actions=[{"action_type": "notify", "params": {"message": "x"}}],
    )
    client = client_for(admin_user)

    for url in (
        admin_url(Rule, "changelist"),
        admin_url(Rule, "change", rule.pk),
        admin_url(Rule, "history", rule.pk),
        admin_url(Rule, "changelist") + "?q=R&is_enabled__exact=1",
    ):
        assert client.get(url).status_code == 200, url


def test_runs_are_shown_and_never_written(admin_user, client_for):
    # Given a run
    run = RuleRunFactory(status=RuleRun.Status.FAILED, error="No address")
    client = client_for(admin_user)

    # When an admin opens the run pages
    listing = client.get(admin_url(RuleRun, "changelist") + "?status__exact=failed")
    page = client.get(admin_url(RuleRun, "change", run.pk))

    # Then they read it, and may neither add, change nor delete runs
    assert listing.status_code == page.status_code == 200
    assert b"No address" in page.content
    assert client.get(admin_url(RuleRun, "add")).status_code == 403
    client.post(admin_url(RuleRun, "change", run.pk), {"status": "succeeded"})
    assert client.post(admin_url(RuleRun, "delete", run.pk), {"post": "yes"}).status_code == 403
    run.refresh_from_db()
    assert run.status == RuleRun.Status.FAILED


def test_a_manager_may_not_open_the_admin(manager, client_for):
    response = client_for(manager).get(admin_url(Rule, "changelist"))

    assert response.status_code == 302
