"""notification_send with the recipient's preferences and the live push, marking read, saving
preferences, and the daily email digest."""

from datetime import datetime, time, timedelta
from unittest.mock import patch
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from collaboration.live import user_group
from collaboration.models import Notification, NotificationPreference
from collaboration.services.notifications import (
    notification_preferences_save,
    notification_send,
    notifications_mark_read,
    notifications_send_digests,
)
from collaboration.tasks import notifications_send_digests_task
from crm.accounts import roles
from tests.accounts.factories import UserFactory
from tests.collaboration.factories import NotificationFactory

pytestmark = pytest.mark.django_db

Kind = Notification.Kind


def prefer(user, kind, *, in_app, email_digest):
    NotificationPreference.objects.create(
        user=user, kind=kind, in_app=in_app, email_digest=email_digest
    )


@pytest.fixture
def listening():
    """A channel in `user`'s group of the in-memory layer; receive() gives the next frame."""
    layer = get_channel_layer()

    def listen(user):
        channel = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(user_group(user.pk), channel)

        def receive():
            return async_to_sync(layer.receive)(channel)["payload"]

        return receive

    return listen


# Preferences honoured ----------------------------------------------------------------------------


def test_without_a_preference_a_notification_is_in_the_app_only(rep):
    notification = notification_send(recipient=rep, kind=Kind.MENTION, title="Hi")

    assert notification.in_app
    assert not notification.email_pending


def test_in_app_off_and_email_off_stores_nothing(rep):
    prefer(rep, Kind.MENTION, in_app=False, email_digest=False)

    assert notification_send(recipient=rep, kind=Kind.MENTION, title="Hi") is None
    assert not Notification.objects.exists()


def test_email_only_waits_for_the_digest_and_stays_out_of_the_bell(rep, rep_client):
    prefer(rep, Kind.MENTION, in_app=False, email_digest=True)

    notification = notification_send(recipient=rep, kind=Kind.MENTION, title="Email me")

    assert notification.email_pending and not notification.in_app
    page = rep_client.get("/collaboration/notifications/")
    assert "Email me" not in page.content.decode()
    assert rep_client.get("/api/v1/notifications/unread-count/").json() == {"unread": 0}


def test_preferences_are_per_kind(rep):
    prefer(rep, Kind.MENTION, in_app=False, email_digest=False)

    assert notification_send(recipient=rep, kind=Kind.TASK_ASSIGNED, title="Task") is not None


# Live push ---------------------------------------------------------------------------------------


def test_a_new_notification_is_pushed_to_its_recipient_after_commit(
    rep, rep_teammate, listening, django_capture_on_commit_callbacks
):
    receive = listening(rep)
    NotificationFactory(recipient=rep)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notification = notification_send(
            recipient=rep, kind=Kind.MENTION, title="You were mentioned", url="/x/"
        )

    assert len(callbacks) == 1
    frame = receive()
    assert frame == {
        "type": "notification",
        "notification": {
            "id": notification.pk,
            "kind": "mention",
            "title": "You were mentioned",
            "body": "",
            "url": "/x/",
            "created_at": notification.created_at.isoformat(),
        },
        "unread": 2,
    }


def test_an_email_only_notification_is_not_pushed(rep, django_capture_on_commit_callbacks):
    prefer(rep, Kind.MENTION, in_app=False, email_digest=True)

    with django_capture_on_commit_callbacks() as callbacks:
        notification_send(recipient=rep, kind=Kind.MENTION, title="Quiet")

    assert callbacks == []


def test_marking_read_pushes_the_new_unread_count(
    rep, listening, django_capture_on_commit_callbacks
):
    first, _second, _third = NotificationFactory.create_batch(3, recipient=rep)
    receive = listening(rep)

    with django_capture_on_commit_callbacks(execute=True):
        marked = notifications_mark_read(recipient=rep, notification_ids=[first.pk])

    assert marked == 1
    assert receive() == {"type": "notification.read", "unread": 2}


def test_marking_nothing_read_pushes_nothing(rep, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        assert notifications_mark_read(recipient=rep) == 0

    assert callbacks == []


# Saving preferences ------------------------------------------------------------------------------


def test_saving_preferences_creates_and_updates_rows(rep):
    prefer(rep, Kind.MENTION, in_app=True, email_digest=False)

    notification_preferences_save(
        user=rep,
        values={
            "mention": {"in_app": False, "email_digest": True},
            "sla_warning": {"in_app": True, "email_digest": True},
        },
    )

    stored = {
        p.kind: (p.in_app, p.email_digest) for p in NotificationPreference.objects.filter(user=rep)
    }
    assert stored == {"mention": (False, True), "sla_warning": (True, True)}


def test_an_unknown_kind_refuses_the_whole_change(rep):
    with pytest.raises(ValidationError) as error:
        notification_preferences_save(
            user=rep,
            values={
                "mention": {"in_app": False, "email_digest": False},
                "gossip": {"in_app": True, "email_digest": False},
            },
        )

    assert "gossip" in str(error.value)
    assert not NotificationPreference.objects.exists()


# Email digest ------------------------------------------------------------------------------------


def pending(user, **values):
    return NotificationFactory(recipient=user, email_pending=True, **values)


def test_the_digest_sends_one_email_per_user_and_clears_the_flags(rep, rep_teammate, settings):
    settings.CRM_SITE_URL = "https://crm.example"
    rep.email, rep_teammate.email = "rep@example.com", "mate@example.com"
    rep.save()
    rep_teammate.save()
    pending(rep, title="Deal won", url="/sales/deals/1/")
    pending(rep, title="Ticket late")
    pending(rep_teammate, title="Meeting")
    NotificationFactory(recipient=rep, title="Not for email")

    sent = notifications_send_digests()

    assert sent == 2
    assert not Notification.objects.filter(email_pending=True).exists()
    by_recipient = {message.to[0]: message for message in mail.outbox}
    email = by_recipient["rep@example.com"]
    assert "2 new notifications" in email.subject
    assert "Deal won" in email.body and "Ticket late" in email.body
    assert "Not for email" not in email.body
    assert "https://crm.example/sales/deals/1/" in email.body
    # A notification without a link points at the list.
    assert "https://crm.example/collaboration/notifications/" in email.body
    assert "https://crm.example/collaboration/notifications/preferences/" in email.body
    html, _mime = email.alternatives[0]
    assert 'href="https://crm.example/sales/deals/1/"' in html
    assert "1 new notification" in by_recipient["mate@example.com"].subject


def test_the_digest_is_in_the_users_language(rep):
    rep.email, rep.language = "rep@example.com", "zh-hans"
    rep.save()
    pending(rep)

    notifications_send_digests()

    (email,) = mail.outbox
    assert email.extra_headers["Content-Language"] == "zh-hans"
    assert '<html lang="zh-hans">' in email.alternatives[0][0]


def test_the_digest_falls_back_to_the_sites_language(rep, settings):
    settings.LANGUAGE_CODE = "en"
    rep.email, rep.language = "rep@example.com", ""
    rep.save()
    pending(rep)

    notifications_send_digests()

    assert mail.outbox[0].extra_headers["Content-Language"] == "en"


def test_a_user_without_an_email_address_is_skipped_and_their_flags_cleared(rep):
    rep.email = ""
    rep.save()
    pending(rep)

    assert notifications_send_digests() == 0
    assert mail.outbox == []
    assert not Notification.objects.filter(email_pending=True).exists()


def test_nothing_pending_sends_nothing(rep):
    rep.email = "rep@example.com"
    rep.save()
    NotificationFactory(recipient=rep)

    assert notifications_send_digests() == 0
    assert mail.outbox == []


def test_notifications_after_now_wait_for_the_next_digest(rep):
    rep.email = "rep@example.com"
    rep.save()
    later = pending(rep, title="Later")
    Notification.objects.filter(pk=later.pk).update(created_at=timezone.now() + timedelta(hours=1))
    pending(rep, title="Now")

    notifications_send_digests(now=timezone.now())

    assert "Later" not in mail.outbox[0].body
    assert Notification.objects.get(pk=later.pk).email_pending


def test_a_refused_email_keeps_that_users_notifications_waiting(rep, rep_teammate):
    rep.email, rep_teammate.email = "rep@example.com", "mate@example.com"
    rep.save()
    rep_teammate.save()
    pending(rep)
    pending(rep_teammate)

    with patch("django.core.mail.EmailMultiAlternatives.send", side_effect=[OSError("refused"), 1]):
        sent = notifications_send_digests()

    assert sent == 1
    assert Notification.objects.filter(email_pending=True).count() == 1


def test_the_digest_reads_users_in_chunks_without_a_query_per_user(
    django_assert_max_num_queries,
):
    users = UserFactory.create_batch(6, roles=[roles.SALES_REP])
    for user in users:
        user.email = f"{user.username}@example.com"
        user.save()
        pending(user)
        pending(user)

    # Per chunk: the recipients, their users, their notifications, clearing; one more to stop.
    with (
        patch("collaboration.services.notifications.DIGEST_CHUNK_SIZE", 4),
        django_assert_max_num_queries(9),
    ):
        sent = notifications_send_digests()

    assert sent == 6
    assert len(mail.outbox) == 6


def test_the_digest_task_runs_the_digest(rep, eager_tasks):
    rep.email = "rep@example.com"
    rep.save()
    pending(rep)

    assert notifications_send_digests_task.delay().get() == 1
    assert notifications_send_digests_task.delay().get() == 0


def test_the_digest_runs_daily_at_seven():
    from crm.celery import app

    (entry,) = [
        entry
        for entry in app.conf.beat_schedule.values()
        if entry["task"] == "collaboration.notifications_send_digests_task"
    ]
    assert entry["schedule"].hour == {7}
    assert entry["schedule"].minute == {0}


# SLA warnings ------------------------------------------------------------------------------------


def test_sla_warnings_use_their_own_kind(team, eager_tasks):
    from service.models import SlaPolicy
    from service.services import tickets
    from service.services.escalation import tickets_check_sla
    from tests.customers.factories import CustomerFactory
    from tests.service.factories import BusinessCalendarFactory, SlaPolicyFactory

    shanghai = ZoneInfo("Asia/Shanghai")
    agent = UserFactory(username="agent", roles=[roles.SERVICE_AGENT])
    agent.team_memberships.create(team=team)
    SlaPolicy.objects.update(is_active=False)
    SlaPolicyFactory(
        is_active=True,
        first_response_minutes=120,
        resolution_minutes=480,
        warn_before_minutes=60,
        calendar=BusinessCalendarFactory(
            time_zone="Asia/Shanghai", day_starts_at=time(9), day_ends_at=time(18)
        ),
    )
    opened = datetime(2026, 3, 2, 10, tzinfo=shanghai)
    with patch("django.utils.timezone.now", return_value=opened):
        tickets.ticket_create(actor=agent, customer=CustomerFactory(team=team), subject="Down")

    tickets_check_sla(now=datetime(2026, 3, 2, 11, 10, tzinfo=shanghai))

    assert list(Notification.objects.filter(recipient=agent).values_list("kind", flat=True)) == [
        "sla_warning"
    ]
