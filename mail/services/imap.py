"""Polling mailboxes over IMAP.

Each poll reads the messages with a UID above the last one taken in, in UID order, and saves the
UID after each message, so a poll that dies half way resumes where it stopped; a message fetched
twice is a duplicate by its Message-ID and stored once. A change of the folder's UIDVALIDITY
(the server renumbered it) starts again from the beginning, which de-duplication makes harmless.
A failure to connect or log in is recorded on the mailbox for its administrators, not raised to
the beat. Messages are fetched with BODY.PEEK[], so they stay unread for people who read the
mailbox too.
"""

import contextlib
import imaplib
import logging
import re
import ssl

from django.db.models import QuerySet
from django.utils import timezone

from crm.queueing import task_send_on_commit
from crm.run_locks import MAILBOX_POLL, run_lock
from mail.models import Mailbox
from mail.services.inbound import inbound_accept

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30
# Messages taken in per poll; the next poll, a minute later, carries on.
MAX_MESSAGES_PER_POLL = 500
# Errors that end a poll but not the beat: the server is down, refuses us, or speaks nonsense.
POLL_ERRORS = (imaplib.IMAP4.error, OSError, EOFError, UnicodeError, ValueError)


class MailboxPollError(Exception):
    pass


def _connect(mailbox: Mailbox) -> imaplib.IMAP4:
    if mailbox.imap_security == Mailbox.Security.SSL:
        return imaplib.IMAP4_SSL(
            mailbox.imap_host,
            mailbox.imap_port,
            ssl_context=ssl.create_default_context(),
            timeout=TIMEOUT_SECONDS,
        )
    connection = imaplib.IMAP4(mailbox.imap_host, mailbox.imap_port, timeout=TIMEOUT_SECONDS)
    if mailbox.imap_security == Mailbox.Security.STARTTLS:
        connection.starttls(ssl_context=ssl.create_default_context())
    return connection


def _checked(response: tuple[str, list], what: str) -> list:
    status, data = response
    if status != "OK":
        detail = b" ".join(item for item in data if isinstance(item, bytes)).decode(
            "utf-8", "replace"
        )
        raise MailboxPollError(f"{what}: {status} {detail}".strip())
    return data


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _uidvalidity(connection: imaplib.IMAP4) -> int | None:
    _status, data = connection.response("UIDVALIDITY")
    value = next((item for item in data or () if item), None)
    return int(value) if value is not None else None


def _uids_after(connection: imaplib.IMAP4, last_uid: int) -> list[int]:
    data = _checked(connection.uid("SEARCH", f"UID {last_uid + 1}:*"), "UID SEARCH")
    uids = {int(uid) for chunk in data if chunk for uid in chunk.split()}
    # "n:*" always matches the highest UID, even one below n.
    return sorted(uid for uid in uids if uid > last_uid)


def _fetch(connection: imaplib.IMAP4, uid: int) -> bytes | None:
    data = _checked(connection.uid("FETCH", str(uid), "(BODY.PEEK[])"), "UID FETCH")
    for item in data:
        if isinstance(item, tuple) and re.search(rb"BODY\[\]", item[0]):
            return item[1]
    return None


def _take_in(connection: imaplib.IMAP4, mailbox: Mailbox) -> int:
    uidvalidity = _uidvalidity(connection)
    if uidvalidity != mailbox.imap_uidvalidity:
        mailbox.imap_uidvalidity = uidvalidity
        mailbox.imap_last_uid = 0
        mailbox.save(update_fields=["imap_uidvalidity", "imap_last_uid", "updated_at"])
    taken = 0
    for uid in _uids_after(connection, mailbox.imap_last_uid)[:MAX_MESSAGES_PER_POLL]:
        raw = _fetch(connection, uid)
        # A message deleted between the search and the fetch is simply gone.
        if raw is not None:
            inbound_accept(raw=raw, source="imap", mailbox=mailbox)
            taken += 1
        mailbox.imap_last_uid = uid
        mailbox.save(update_fields=["imap_last_uid", "updated_at"])
    return taken


def mailbox_poll(*, mailbox: Mailbox) -> int:
    """Take in the mailbox's new messages; returns how many were fetched. A connection, login
    or protocol failure is recorded in `last_error` and ends the poll."""
    taken = 0
    error = ""
    connection = None
    try:
        connection = _connect(mailbox)
        _checked(connection.login(mailbox.imap_username, mailbox.imap_password), "LOGIN")
        _checked(connection.select(_quoted(mailbox.imap_folder)), "SELECT")
        taken = _take_in(connection, mailbox)
    except (MailboxPollError, *POLL_ERRORS) as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        logger.warning("polling mailbox %s failed: %s", mailbox.pk, error)
    finally:
        if connection is not None:
            with contextlib.suppress(*POLL_ERRORS):
                connection.logout()
    mailbox.last_polled_at = timezone.now()
    mailbox.last_error = error
    mailbox.save(update_fields=["last_polled_at", "last_error", "updated_at"])
    return taken


def mailbox_poll_run(*, mailbox_id: int) -> int | None:
    """Poll the mailbox unless another worker is polling it already (None then) or it is no
    longer active or polled."""
    with run_lock(kind=MAILBOX_POLL, pk=mailbox_id, grace=0) as ours:
        if not ours:
            return None
        mailbox = mailboxes_polled().filter(pk=mailbox_id).first()
        if mailbox is None:
            return None
        return mailbox_poll(mailbox=mailbox)


def mailboxes_polled() -> QuerySet[Mailbox]:
    return Mailbox.objects.filter(is_active=True).exclude(imap_host="")


def mailbox_poll_queue(*, mailbox_id: int) -> None:
    from mail.tasks import mailbox_poll_task

    task_send_on_commit(task=mailbox_poll_task, args=(mailbox_id,))


def mailboxes_poll_queue() -> int:
    """Queue a poll of every active mailbox with an IMAP host (the beat job)."""
    ids = list(mailboxes_polled().order_by("pk").values_list("pk", flat=True))
    for mailbox_id in ids:
        mailbox_poll_queue(mailbox_id=mailbox_id)
    return len(ids)
