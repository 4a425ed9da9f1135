"""Sending a Celery task once the current transaction commits, and saying so when it cannot be.

Celery retries a publish a few times (CELERY_TASK_PUBLISH_RETRY_POLICY). When the broker still
does not answer, the error would otherwise escape from the on-commit hook after the job's row is
stored: the person sees a server error and the job waits for a worker that will never hear of it.
Instead the caller's `on_unsent` marks the job failed with a message saying to try again.
"""

import logging
from collections.abc import Callable

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

BROKER_UNREACHABLE_MESSAGE = _(
    "The background workers could not be reached (the task queue is down), so this did not "
    "start. Try again in a few minutes."
)


def task_send_on_commit(
    *, task, args: tuple = (), on_unsent: Callable[[], None] | None = None, **options
) -> None:
    """Send `task` with `args` (and apply_async `options`) after the commit; when the broker
    cannot be reached, log it and call `on_unsent`."""

    def send() -> None:
        try:
            task.apply_async(args=args, **options)
        except OperationalError:
            logger.error("task %s%r not sent: the broker is unreachable", task.name, args)
            if on_unsent is not None:
                on_unsent()

    transaction.on_commit(send)
