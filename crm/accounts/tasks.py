from celery import shared_task
from django.core.management import call_command

from crm.accounts import services


@shared_task(name="accounts.clear_expired_sessions_task")
def clear_expired_sessions_task() -> None:
    call_command("clearsessions")


@shared_task(name="accounts.user_sessions_purge_task")
def user_sessions_purge_task() -> int:
    return services.user_sessions_purge_expired()
