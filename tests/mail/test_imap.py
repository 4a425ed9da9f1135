"""Polling a mailbox over IMAP, against an IMAP server run by the test on loopback: new mail in
UID order, where the poll stands kept after each message, a renumbered folder, failures recorded
on the mailbox, and the beat's tasks."""

import socket

import pytest

from mail.models import EmailMessage, Mailbox
from mail.services.imap import mailbox_poll
from mail.tasks import mailbox_poll_task, mailboxes_poll_task
from service.models import Ticket
from tests.imap_server import LocalImapServer
from tests.mail.factories import MailboxFactory, raw_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def imap_server():
    server = LocalImapServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(imap_server):
    return MailboxFactory(
        address="support@crm.example.com",
        imap_host="127.0.0.1",
        imap_port=imap_server.port,
        imap_security=Mailbox.Security.NONE,
        imap_username=imap_server.store.username,
        imap_password=imap_server.store.password,
    )


def _mail(number: int) -> bytes:
    return raw_email(
        sender=f"customer{number}@example.com",
        subject=f"Question {number}",
        message_id=f"<q-{number}@mail.example.com>",
    )


def test_a_poll_takes_in_new_mail_in_uid_order_and_remembers_where_it_stopped(imap_server, mailbox):
    imap_server.add(_mail(1))
    imap_server.add(_mail(2))

    assert mailbox_poll(mailbox=mailbox) == 2

    mailbox.refresh_from_db()
    assert mailbox.imap_uidvalidity == 1
    assert mailbox.imap_last_uid == 2
    assert mailbox.last_polled_at is not None
    assert mailbox.last_error == ""
    assert list(Ticket.objects.order_by("pk").values_list("subject", flat=True)) == [
        "Question 1",
        "Question 2",
    ]
    assert set(EmailMessage.objects.values_list("source", flat=True)) == {"imap"}
    # Fetched without marking the messages read for people who read the mailbox too.
    assert any("BODY.PEEK[]" in command for command in imap_server.store.commands)

    imap_server.add(_mail(3))
    assert mailbox_poll(mailbox=mailbox) == 1
    assert mailbox_poll(mailbox=mailbox) == 0
    mailbox.refresh_from_db()
    assert mailbox.imap_last_uid == 3
    assert EmailMessage.objects.count() == 3


def test_a_poll_that_starts_again_stores_nothing_twice(imap_server, mailbox):
    imap_server.add(_mail(1))
    imap_server.add(_mail(2))
    mailbox_poll(mailbox=mailbox)
    # As after a crash before the last UID was saved.
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_last_uid=0)
    mailbox.refresh_from_db()

    assert mailbox_poll(mailbox=mailbox) == 2

    assert EmailMessage.objects.count() == 2
    assert Ticket.objects.count() == 2


def test_a_changed_uidvalidity_starts_from_the_beginning(imap_server, mailbox):
    imap_server.add(_mail(1))
    imap_server.add(_mail(2))
    mailbox_poll(mailbox=mailbox)
    imap_server.add(_mail(3))
    imap_server.store.renumber(uidvalidity=77)

    assert mailbox_poll(mailbox=mailbox) == 3

    mailbox.refresh_from_db()
    assert mailbox.imap_uidvalidity == 77
    assert mailbox.imap_last_uid == 3
    assert EmailMessage.objects.count() == 3


def test_a_failing_login_is_recorded_not_raised(imap_server, mailbox):
    imap_server.add(_mail(1))
    mailbox.imap_password = "wrong"
    mailbox.save()

    assert mailbox_poll(mailbox=mailbox) == 0

    mailbox.refresh_from_db()
    assert "Invalid credentials" in mailbox.last_error
    assert mailbox.last_polled_at is not None
    assert mailbox.imap_last_uid == 0
    assert not EmailMessage.objects.exists()


def test_a_server_that_does_not_answer_is_recorded_and_cleared_once_it_does(imap_server, mailbox):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    working_port = mailbox.imap_port
    mailbox.imap_port = closed_port
    mailbox.save()

    mailbox_poll(mailbox=mailbox)
    mailbox.refresh_from_db()
    assert "ConnectionRefusedError" in mailbox.last_error

    mailbox.imap_port = working_port
    mailbox.save()
    mailbox_poll(mailbox=mailbox)
    mailbox.refresh_from_db()
    assert mailbox.last_error == ""


def test_the_beat_polls_every_active_mailbox_with_a_server(
    imap_server, mailbox, eager_tasks, django_capture_on_commit_callbacks
):
    MailboxFactory(is_active=False, imap_host="127.0.0.1", imap_port=imap_server.port)
    MailboxFactory(imap_host="")
    imap_server.add(_mail(1))

    with django_capture_on_commit_callbacks(execute=True):
        queued = mailboxes_poll_task.delay().get()

    assert queued == 1
    mailbox.refresh_from_db()
    assert mailbox.imap_last_uid == 1
    assert EmailMessage.objects.count() == 1


def test_the_poll_task_skips_a_mailbox_switched_off(imap_server, mailbox, eager_tasks):
    imap_server.add(_mail(1))
    Mailbox.objects.filter(pk=mailbox.pk).update(is_active=False)

    assert mailbox_poll_task.delay(mailbox.pk).get() is None
    assert not EmailMessage.objects.exists()
