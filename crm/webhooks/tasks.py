from celery import shared_task

from crm.webhooks import selectors, services

# A send waits at most CRM_WEBHOOK_TIMEOUT_SECONDS per step (connect, send, read); these limits
# only stop a worker stuck beyond any of that.
SEND_SOFT_TIME_LIMIT = 5 * 60
SEND_TIME_LIMIT = SEND_SOFT_TIME_LIMIT + 30


@shared_task(
    name="webhooks.webhook_delivery_send_task",
    acks_late=True,
    soft_time_limit=SEND_SOFT_TIME_LIMIT,
    time_limit=SEND_TIME_LIMIT,
)
def webhook_delivery_send_task(delivery_id: int) -> str | None:
    """Make the delivery's next attempt; a delivery already sent, failed, gone or not yet due is
    left alone, so running this twice sends once."""
    delivery = selectors.webhook_delivery_get(pk=delivery_id)
    if delivery is None:
        return None
    return services.webhook_delivery_send(delivery=delivery).status


@shared_task(name="webhooks.webhook_deliveries_due_task")
def webhook_deliveries_due_task() -> int:
    """Queue the deliveries whose send was lost (a worker died, the broker was down)."""
    return services.webhook_deliveries_queue_due()


@shared_task(name="webhooks.webhook_deliveries_purge_task")
def webhook_deliveries_purge_task() -> int:
    """Forget the deliveries older than the log keeps (CRM_WEBHOOK_LOG_DAYS)."""
    return services.webhook_deliveries_purge()
