from celery import shared_task

from crm.api.services import idempotency_keys_purge


@shared_task(name="api.idempotency_keys_purge_task")
def idempotency_keys_purge_task() -> int:
    return idempotency_keys_purge()
