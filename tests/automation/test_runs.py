"""Carrying out runs: what a run records, failures that pass and failures that do not, retries
from the failed action, lost workers, rules switched off meanwhile, the loop guard and the chain
cap, and the owner told when a run fails or is stopped."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from automation.models import Rule, RuleRun
from automation.services.rules import rule_create, rule_set_enabled
from automation.services.runs import rule_run_execute, runs_queue_due
from collaboration.models import Notification, Task
from customers.models import Customer
from customers.services.customers import customer_create, customer_update
from tests.automation.factories import RuleRunFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]

TAG_SEEN = {"action_type": "update_field", "params": {"field": "add_tag", "value": "seen"}}
TASK = {"action_type": "create_task", "params": {"title": "Call {{ record.name }}"}}
NOTIFY = {
    "action_type": "notify",
    "params": {"to": "owner", "message": "Look at {{ record.name }}"},
}


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def make_rule(admin_user):
    def make(name="Rule", trigger="updated", **values) -> Rule:
        return rule_create(
            actor=admin_user, name=name, record_type="customer", trigger=trigger, **values
        )

    return make


@pytest.fixture
def customer(admin_user, committed):
    with committed():
        return customer_create(actor=admin_user, name="Ada", email="ada@example.com")


def automation_notices(user) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, kind=Notification.Kind.AUTOMATION))


# What a run records ------------------------------------------------------------------------------


def test_a_run_records_its_conditions_and_what_each_action_did(
    make_rule, admin_user, customer, committed
):
    # given
    rule = make_rule(
        trigger="field_changed",
        trigger_config={"field": "city"},
        conditions=[{"field": "city", "operator": "eq", "value": "Paris"}],
        actions=[TAG_SEEN, TASK],
    )

    # when
    with committed():
        customer_update(actor=admin_user, customer=customer, city="Paris")

    # then
    run = rule.runs.get()
    assert run.status == RuleRun.Status.SUCCEEDED
    assert run.conditions_met is True
    assert run.condition_results == [{"condition": "city is Paris", "met": True}]
    assert [(item["position"], item["status"]) for item in run.action_results] == [
        (0, "done"),
        (1, "done"),
    ]
    assert run.action_results[0]["detail"] == "Add the tag “seen”"
    assert run.action_results[1]["detail"].startswith("Create the task “Call Ada” for Admin")
    assert (run.attempts, run.next_action, run.error) == (1, 2, "")
    assert run.started_at and run.finished_at and run.next_attempt_at is None
    assert list(customer.tags.values_list("name", flat=True)) == ["seen"]
    assert Task.objects.get().title == "Call Ada"


def test_a_refused_action_fails_the_run_at_once_and_the_users_change_stays(
    make_rule, admin_user, committed
):
    # given a customer nobody owns, and a rule that notifies the owner
    rule = make_rule(actions=[NOTIFY, TAG_SEEN])
    with committed():
        customer = customer_create(actor=admin_user, name="Ada", owner=None)

    # when
    with committed():
        customer_update(actor=admin_user, customer=customer, city="Paris")

    # then the change is stored, the run failed without a retry, and the owner is told
    assert Customer.objects.get(pk=customer.pk).city == "Paris"
    run = rule.runs.get()
    assert run.status == RuleRun.Status.FAILED
    assert run.attempts == 1
    assert run.error == "Nobody to notify."
    assert [item["status"] for item in run.action_results] == ["failed", "not_run"]
    [notice] = automation_notices(admin_user)
    assert notice.title == "Rule “Rule” failed on Ada"
    assert notice.body == "Nobody to notify."
    assert str(run.pk) in notice.url


def test_a_validation_error_in_an_action_is_permanent(
    make_rule, admin_user, customer, committed, monkeypatch
):
    # given
    rule = make_rule(actions=[NOTIFY])

    def refuse(**kwargs):
        raise ValidationError("The recipient refuses notifications.")

    monkeypatch.setattr("automation.actions.work.notification_send", refuse)

    # when
    with committed():
        customer_update(actor=admin_user, customer=customer, city="Paris")

    # then
    run = rule.runs.get()
    assert (run.status, run.attempts) == (RuleRun.Status.FAILED, 1)
    assert run.error == "The recipient refuses notifications."


# Retries -----------------------------------------------------------------------------------------


@pytest.fixture
def flaky_notifications(monkeypatch):
    """notification_send for the notify action fails with a network error while `down`."""
    from collaboration.services.notifications import notification_send

    state = {"down": True}

    def send(**kwargs):
        if state["down"]:
            raise OSError("Connection reset by peer")
        return notification_send(**kwargs)

    monkeypatch.setattr("automation.actions.work.notification_send", send)
    return state


def test_a_transient_failure_is_retried_from_the_failed_action(
    make_rule, admin_user, customer, committed, flaky_notifications
):
    # given a rule that creates a task, then notifies
    rule = make_rule(actions=[TASK, NOTIFY])

    # when the notification fails
    before = timezone.now()
    with committed():
        customer_update(actor=admin_user, customer=customer, city="Paris")

    # then the run waits to retry, with the task done once
    run = rule.runs.get()
    assert run.status == RuleRun.Status.RETRYING
    assert run.error == "Connection reset by peer"
    assert run.next_action == 1
    assert (
        before + timedelta(seconds=59)
        < run.next_attempt_at
        < timezone.now() + timedelta(seconds=61)
    )
    assert [item["status"] for item in run.action_results] == ["done", "failed"]
    assert Task.objects.count() == 1
    assert automation_notices(admin_user) == []

    # when it is not yet due, nothing is sent
    assert runs_queue_due(now=timezone.now()) == 0

    # when the network is back and the retry is due
    flaky_notifications["down"] = False
    assert runs_queue_due(now=timezone.now() + timedelta(minutes=2)) == 1

    # then it goes on from the notification, without a second task
    run.refresh_from_db()
    assert run.status == RuleRun.Status.SUCCEEDED
    assert run.attempts == 2
    assert [item["status"] for item in run.action_results] == ["done", "done"]
    assert Task.objects.count() == 1
    assert [notice.title for notice in automation_notices(admin_user)] == ["Rule: Ada"]


def test_after_the_last_attempt_the_run_fails_and_the_owner_is_told(
    make_rule, admin_user, customer, committed, flaky_notifications, settings
):
    # given
    settings.CRM_AUTOMATION_ACTION_ATTEMPTS = 2
    rule = make_rule(actions=[NOTIFY])
    with committed():
        customer_update(actor=admin_user, customer=customer, city="Paris")
    run = rule.runs.get()
    first_retry_at = run.next_attempt_at

    # when the retry fails too
    runs_queue_due(now=timezone.now() + timedelta(minutes=2))

    # then
    run.refresh_from_db()
    assert run.status == RuleRun.Status.FAILED
    assert run.attempts == 2
    assert run.error == "Connection reset by peer (gave up after 2 attempts)"
    assert run.next_attempt_at is None
    [notice] = automation_notices(admin_user)
    assert notice.title == "Rule “Rule” failed on Ada"
    assert first_retry_at is not None
    assert runs_queue_due(now=timezone.now() + timedelta(days=1)) == 0


def test_the_wait_between_attempts_doubles(
    make_rule, admin_user, customer, committed, flaky_notifications
):
    # given a run that failed once
    rule = make_rule(actions=[NOTIFY])
    with committed():
        customer_update(actor=admin_user, customer=customer, city="Paris")

    # when it fails again
    runs_queue_due(now=timezone.now() + timedelta(minutes=2))

    # then the next wait is two minutes
    run = rule.runs.get()
    wait = run.next_attempt_at - timezone.now()
    assert run.status == RuleRun.Status.RETRYING
    assert timedelta(seconds=115) < wait <= timedelta(seconds=120)


# Lost workers, switched-off rules, gone records --------------------------------------------------


def test_a_run_whose_worker_died_is_taken_again_after_its_lease(make_rule, customer):
    # given two runs left running, one past its lease
    rule = make_rule(actions=[TAG_SEEN])
    lost = RuleRunFactory(
        rule=rule,
        record_id=customer.pk,
        status=RuleRun.Status.RUNNING,
        attempts=1,
        next_attempt_at=timezone.now() - timedelta(minutes=11),
    )
    busy = RuleRunFactory(
        rule=rule,
        record_id=customer.pk,
        status=RuleRun.Status.RUNNING,
        attempts=1,
        next_attempt_at=timezone.now() - timedelta(minutes=1),
    )

    # when
    requeued = runs_queue_due(now=timezone.now())

    # then
    assert requeued == 1
    lost.refresh_from_db()
    busy.refresh_from_db()
    assert (lost.status, lost.attempts) == (RuleRun.Status.SUCCEEDED, 2)
    assert busy.status == RuleRun.Status.RUNNING
    assert rule_run_execute(run_id=busy.pk) is None
    assert list(customer.tags.values_list("name", flat=True)) == ["seen"]


def test_a_run_done_twice_does_nothing_the_second_time(make_rule, admin_user, customer, committed):
    # given a finished run
    rule = make_rule(actions=[TASK])
    with committed():
        customer_update(actor=admin_user, customer=customer, city="Paris")
    run = rule.runs.get()

    # when its task is delivered again  # then
    assert rule_run_execute(run_id=run.pk) is None
    assert Task.objects.count() == 1


def test_a_rule_switched_off_after_its_run_was_queued_is_skipped(
    make_rule, admin_user, customer, django_capture_on_commit_callbacks
):
    # given a run stored but not yet carried out
    rule = make_rule(actions=[TASK])
    with django_capture_on_commit_callbacks() as announced:
        customer_update(actor=admin_user, customer=customer, city="Paris")
    with django_capture_on_commit_callbacks() as queued:
        for callback in announced:
            callback()
    assert rule.runs.get().status == RuleRun.Status.QUEUED

    # when the rule is switched off, then the task arrives
    rule_set_enabled(actor=admin_user, rule=rule, enabled=False)
    for callback in queued:
        callback()

    # then
    run = rule.runs.get()
    assert run.status == RuleRun.Status.SKIPPED
    assert run.error == "The rule was switched off."
    assert not Task.objects.exists()


def test_a_record_deleted_before_its_run_is_skipped(make_rule, admin_user, customer):
    # given
    rule = make_rule(actions=[TASK])
    run = RuleRunFactory(rule=rule, record_id=customer.pk + 1000)

    # when
    status = rule_run_execute(run_id=run.pk)

    # then
    assert status == RuleRun.Status.SKIPPED
    run.refresh_from_db()
    assert run.error == "The record no longer exists."


# The loop guard ----------------------------------------------------------------------------------


def test_two_rules_undoing_each_other_are_stopped_and_reported(
    make_rule, admin_user, customer, committed
):
    # given a rule that makes every updated customer VIP, and one that makes them normal
    to_vip = make_rule(
        name="Make VIP",
        actions=[{"action_type": "update_field", "params": {"field": "tier", "value": "vip"}}],
    )
    to_normal = make_rule(
        name="Make normal",
        actions=[{"action_type": "update_field", "params": {"field": "tier", "value": "normal"}}],
    )

    # when
    with committed():
        customer_update(actor=admin_user, customer=customer, city="Paris")

    # then the ping-pong ends, each stop naming the chain that led to it
    stopped = list(RuleRun.objects.filter(status=RuleRun.Status.STOPPED).order_by("pk"))
    assert stopped
    assert RuleRun.objects.exclude(status__in=["succeeded", "stopped"]).count() == 0
    assert RuleRun.objects.count() < 12
    longest = max(stopped, key=lambda run: len(run.chain))
    key = f"customer:{customer.pk}"
    assert len(longest.chain) == 2
    assert {rule_id for rule_id, _record in longest.chain} == {to_vip.pk, to_normal.pk}
    assert longest.error.startswith("Loop stopped: ")
    assert "“Make VIP”" in longest.error and "“Make normal”" in longest.error
    assert longest.error.endswith(f"on {key} again.")
    assert all(run.finished_at and not run.action_results for run in stopped)
    notices = automation_notices(admin_user)
    assert len(notices) == len(stopped)
    assert all(notice.title.startswith("Rule “Make") for notice in notices)
    assert "was stopped on Ada" in notices[0].title


def test_a_rule_setting_a_value_already_there_does_not_set_itself_off(
    make_rule, admin_user, committed
):
    # given a VIP and a rule that makes every updated customer VIP
    with committed():
        customer = customer_create(actor=admin_user, name="Ada", tier="vip")
    rule = make_rule(
        actions=[{"action_type": "update_field", "params": {"field": "tier", "value": "vip"}}]
    )

    # when
    with committed():
        customer_update(actor=admin_user, customer=customer, city="Paris")

    # then one run, with nothing to do
    run = rule.runs.get()
    assert run.status == RuleRun.Status.SUCCEEDED
    assert run.action_results[0]["detail"] == "Set tier to VIP: already so"
    assert automation_notices(admin_user) == []


def test_a_rule_changing_the_record_it_acts_on_does_not_run_again_on_its_own_change(
    make_rule, admin_user, customer, committed
):
    # given a rule on "updated" whose action updates the same customer
    rule = make_rule(actions=[TAG_SEEN])

    # when
    with committed():
        customer_update(actor=admin_user, customer=customer, city="Paris")

    # then it ran once, and its own tag change neither ran it again nor reported a loop
    assert [run.status for run in rule.runs.all()] == [RuleRun.Status.SUCCEEDED]
    assert "seen" in customer.tags.values_list("name", flat=True)
    assert automation_notices(admin_user) == []


def test_what_a_rule_changes_is_in_the_history_as_its_owners_with_the_rule_named(
    make_rule, admin_user, customer, committed
):
    # given
    make_rule(
        trigger="field_changed",
        trigger_config={"field": "city"},
        actions=[{"action_type": "update_field", "params": {"field": "tier", "value": "vip"}}],
    )

    # when a change outside any request sets the rule off
    with committed():
        customer_update(actor=None, customer=customer, city="Paris")

    # then the rule's change is the owner's, with the rule's name as the reason
    latest = customer.history.order_by("-history_id").first()
    assert latest.tier == "vip"
    assert latest.history_user == admin_user
    assert latest.history_change_reason == "Workflow rule: Rule"


def test_a_chain_longer_than_allowed_is_cut(make_rule, admin_user, customer, committed, settings):
    # given three rules, each set off by the one before
    settings.CRM_AUTOMATION_MAX_CHAIN = 2
    first = make_rule(
        name="City → tier",
        trigger="field_changed",
        trigger_config={"field": "city"},
        actions=[{"action_type": "update_field", "params": {"field": "tier", "value": "vip"}}],
    )
    second = make_rule(
        name="Tier → status",
        trigger="field_changed",
        trigger_config={"field": "tier"},
        actions=[
            {"action_type": "update_field", "params": {"field": "status", "value": "customer"}}
        ],
    )
    third = make_rule(
        name="Status → source",
        trigger="field_changed",
        trigger_config={"field": "status"},
        actions=[
            {"action_type": "update_field", "params": {"field": "source", "value": "referral"}}
        ],
    )

    # when
    with committed():
        customer_update(actor=admin_user, customer=customer, city="Paris")

    # then the first two ran and the third was stopped
    assert first.runs.get().status == RuleRun.Status.SUCCEEDED
    assert second.runs.get().chain == [[first.pk, f"customer:{customer.pk}"]]
    assert second.runs.get().status == RuleRun.Status.SUCCEEDED
    cut = third.runs.get()
    assert cut.status == RuleRun.Status.STOPPED
    assert len(cut.chain) == 2
    assert cut.error == "Stopped: 2 rules in a row set one another off, the most allowed."
    customer.refresh_from_db()
    assert (customer.tier, customer.status, customer.source) == ("vip", "customer", "")
    [notice] = automation_notices(admin_user)
    assert notice.title == "Rule “Status → source” was stopped on Ada"
