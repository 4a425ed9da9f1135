"""The delivery log keeps finished deliveries for CRM_WEBHOOK_LOG_DAYS, and anything still being
tried however old it is."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.webhooks.models import WebhookAttempt, WebhookDelivery
from crm.webhooks.tasks import webhook_deliveries_purge_task
from tests.webhooks.factories import WebhookAttemptFactory, WebhookDeliveryFactory

Status = WebhookDelivery.Status


def aged(days: int, status: str) -> WebhookDelivery:
    delivery = WebhookDeliveryFactory(status=status)
    WebhookAttemptFactory(delivery=delivery)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        created_at=timezone.now() - timedelta(days=days)
    )
    return delivery


@pytest.mark.django_db
def test_old_finished_deliveries_go_and_the_rest_stay(settings):
    # Given a 30-day log with old and recent deliveries in every state
    settings.CRM_WEBHOOK_LOG_DAYS = 30
    old_sent, old_failed = aged(40, Status.SUCCEEDED), aged(40, Status.FAILED)
    old_retrying = aged(40, Status.RETRYING)
    recent = aged(5, Status.SUCCEEDED)

    # When the nightly purge runs
    webhook_deliveries_purge_task()

    # Then only the old finished ones are gone, with their attempts
    kept = set(WebhookDelivery.objects.values_list("pk", flat=True))
    assert kept == {old_retrying.pk, recent.pk}
    assert not WebhookAttempt.objects.filter(delivery_id__in=[old_sent.pk, old_failed.pk]).exists()
