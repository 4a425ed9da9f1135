from celery import shared_task

from mail.services import imap, outbound

# A send waits on the mail server's own timeouts; these limits only stop a stuck worker.
SEND_SOFT_TIME_LIMIT = 5 * 60
SEND_TIME_LIMIT = SEND_SOFT_TIME_LIMIT + 30


@shared_task(
    name="mail.email_deliver_task",
    acks_late=True,
    soft_time_limit=SEND_SOFT_TIME_LIMIT,
    time_limit=SEND_TIME_LIMIT,
)
def email_deliver_task(message_id: int) -> str | None:
    """Hand one queued email to the backend; one already sent or failed is left alone."""
    return outbound.email_deliver(message_id=message_id)


@shared_task(name="mail.emails_queue_due_task")
def emails_queue_due_task() -> int:
    return outbound.emails_queue_due()


# A poll waits on the IMAP server's own timeouts; these limits only stop a stuck worker.
POLL_SOFT_TIME_LIMIT = 10 * 60
POLL_TIME_LIMIT = POLL_SOFT_TIME_LIMIT + 30


@shared_task(name="mail.mailboxes_poll_task")
def mailboxes_poll_task() -> int:
    """Queue a poll of each active mailbox with an IMAP host."""
    return imap.mailboxes_poll_queue()


@shared_task(
    name="mail.mailbox_poll_task", soft_time_limit=POLL_SOFT_TIME_LIMIT, time_limit=POLL_TIME_LIMIT
)
def mailbox_poll_task(mailbox_id: int) -> int | None:
    """Take in one mailbox's new mail; skipped while another worker is polling it."""
    return imap.mailbox_poll_run(mailbox_id=mailbox_id)
