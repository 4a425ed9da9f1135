from celery import shared_task

from analytics.services.customer_values import customer_values_refresh


@shared_task(name="analytics.customer_values_refresh_task")
def customer_values_refresh_task() -> int:
    return customer_values_refresh()
