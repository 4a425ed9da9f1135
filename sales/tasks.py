from celery import shared_task

from sales.services.deals import deals_notify_stale


@shared_task(name="sales.deals_notify_stale_task")
def deals_notify_stale_task() -> int:
    return deals_notify_stale()
