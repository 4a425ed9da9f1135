from celery import shared_task

from analytics.services.rollups import order_daily_totals_refresh, order_daily_totals_refresh_recent


@shared_task(name="analytics.order_daily_totals_refresh_recent_task")
def order_daily_totals_refresh_recent_task() -> int:
    return order_daily_totals_refresh_recent()


@shared_task(name="analytics.order_daily_totals_refresh_task")
def order_daily_totals_refresh_task() -> int:
    return order_daily_totals_refresh()
