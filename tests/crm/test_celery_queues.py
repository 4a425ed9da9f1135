"""Every task has a queue by its kind of work, so each kind can have workers of its own."""

import pytest
from django.conf import settings

from crm.celery import app as celery_app

QUEUES = {"default", "imports", "ml", "email", "webhooks"}


def queue_of(task_name: str) -> str:
    return celery_app.amqp.router.route({}, task_name)["queue"].name


def project_tasks() -> list[str]:
    celery_app.loader.import_default_modules()
    return sorted(name for name in celery_app.tasks if not name.startswith("celery."))


def test_the_five_queues_are_declared():
    assert set(settings.CELERY_TASK_QUEUES) == QUEUES
    assert settings.CELERY_TASK_DEFAULT_QUEUE == "default"


@pytest.mark.parametrize(
    ("task_name", "queue"),
    [
        ("customers.import_customers_task", "imports"),
        ("customers.customer_export_task", "imports"),
        ("analytics.model_train_task", "ml"),
        ("analytics.ticket_text_predict_task", "ml"),
        ("mail.email_deliver_task", "email"),
        ("sales.campaign_mailing_send_batch_task", "email"),
        ("collaboration.notifications_send_digests_task", "email"),
        ("webhooks.webhook_delivery_send_task", "webhooks"),
        ("automation.rule_run_task", "default"),
        ("service.tickets_check_sla_task", "default"),
    ],
)
def test_a_task_goes_to_the_queue_of_its_kind(task_name, queue):
    assert task_name in project_tasks()
    assert queue_of(task_name) == queue


def test_every_project_task_lands_on_a_declared_queue():
    routed = {name: queue_of(name) for name in project_tasks()}

    assert len(routed) > 30
    assert set(routed.values()) <= QUEUES
    assert {name for name, queue in routed.items() if queue == "ml"} == {
        name for name in routed if name.startswith("analytics.")
    }


def test_a_worker_without_queues_takes_them_all():
    # celery's worker consumes every queue of task_queues unless told --queues
    assert {queue.name for queue in celery_app.amqp.queues.values()} >= QUEUES
