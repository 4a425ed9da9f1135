"""A rule run through a real Celery worker on Redis, as production runs it: the user's change
commits, the run is queued on the broker, a separate `celery worker` process carries out the
actions against the shared PostgreSQL test database."""

import pytest

from automation.models import RuleRun
from automation.services import runs
from automation.services.rules import rule_create
from collaboration.models import Task
from crm.celery import app as celery_app
from customers.services.customers import customer_create, customer_update
from tests.workers import wait_for, workers

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

WORKER_TIMEOUT_SECONDS = 60


def test_a_rule_set_off_by_a_change_runs_in_a_real_worker(admin_user, monkeypatch):
    # given a rule, and a worker on a queue of its own that takes the rule's runs
    assert not celery_app.conf.task_always_eager
    rule = rule_create(
        actor=admin_user,
        name="Welcome VIPs",
        record_type="customer",
        trigger="field_changed",
        trigger_config={"field": "tier", "value": ["vip"]},
        actions=[
            {"action_type": "update_field", "params": {"field": "add_tag", "value": "welcomed"}},
            {"action_type": "create_task", "params": {"title": "Call {{ record.name }}"}},
        ],
    )
    customer = customer_create(actor=admin_user, name="Ada Chen")
    with workers() as pool:
        # Sent to the worker's own queue (the app's routes are cached once a task was sent).
        send = runs.task_send_on_commit
        monkeypatch.setattr(
            runs, "task_send_on_commit", lambda **options: send(**options, queue=pool.queue)
        )
        worker = pool.start()

        # when the change commits
        customer_update(actor=admin_user, customer=customer, tier="vip")

        # then the worker carries out the run
        wait_for(
            lambda: RuleRun.objects.filter(rule=rule, status=RuleRun.Status.SUCCEEDED).exists(),
            timeout=WORKER_TIMEOUT_SECONDS,
            what="the rule's run succeeds",
            workers=[worker],
        )
    assert "welcomed" in customer.tags.values_list("name", flat=True)
    assert Task.objects.get(related_id=customer.pk).title == "Call Ada Chen"
