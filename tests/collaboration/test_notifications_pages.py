"""The notification pages: the list with its filters, marking read (plain and htmx), opening one,
the bell on every page with its menu, and the preferences page."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from collaboration.models import Notification, NotificationPreference
from tests.collaboration.factories import NotificationFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
LIST_URL = "/collaboration/notifications/"
MENU_URL = "/collaboration/notifications/menu/"
PREFERENCES_URL = "/collaboration/notifications/preferences/"


def unread_of(user):
    return Notification.objects.filter(recipient=user, read_at__isnull=True)


# The list ----------------------------------------------------------------------------------------


def test_the_notification_list_shows_only_ones_own_newest_first_unread_marked(
    rep_client, rep, rep_teammate
):
    now = timezone.now()
    old = NotificationFactory(recipient=rep, title="Old and read", read_at=now)
    new = NotificationFactory(recipient=rep, title="New and unread")
    Notification.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=1))
    NotificationFactory(recipient=rep_teammate, title="Someone else's")

    response = rep_client.get(LIST_URL)

    assert response.status_code == 200
    assert [n.title for n in response.context["notifications"]] == [new.title, old.title]
    body = response.content.decode()
    assert "Someone else's" not in body
    assert body.count('data-unread="true"') == 1
    assert response.context["unread_count"] == 1


def test_the_unread_filter_leaves_out_read_ones(rep_client, rep):
    NotificationFactory(recipient=rep, title="Seen", read_at=timezone.now())
    NotificationFactory(recipient=rep, title="Fresh")

    response = rep_client.get(LIST_URL, {"filter": "unread"})

    assert [n.title for n in response.context["notifications"]] == ["Fresh"]
    assert response.context["filter"] == "unread"


def test_email_only_notifications_are_not_listed(rep_client, rep):
    NotificationFactory(recipient=rep, title="Digest only", in_app=False, email_pending=True)

    response = rep_client.get(LIST_URL)

    assert "Digest only" not in response.content.decode()


def test_the_list_pages_and_its_queries_are_bounded(rep_client, rep, django_assert_max_num_queries):
    NotificationFactory.create_batch(60, recipient=rep)

    with django_assert_max_num_queries(12):
        response = rep_client.get(LIST_URL)

    assert len(response.context["notifications"]) == 50
    assert response.context["page"].has_next()


def test_mark_all_read(rep_client, rep, rep_teammate):
    NotificationFactory.create_batch(3, recipient=rep)
    NotificationFactory(recipient=rep_teammate)

    response = rep_client.post("/collaboration/notifications/read/")

    assert response.status_code == 302
    assert not unread_of(rep).exists()
    assert unread_of(rep_teammate).count() == 1


def test_mark_all_read_with_htmx_returns_the_list_and_the_badge(rep_client, rep):
    NotificationFactory.create_batch(2, recipient=rep, title="Ping")

    response = rep_client.post("/collaboration/notifications/read/", **HTMX)

    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="notification-items"' in body
    assert 'data-unread="true"' not in body
    assert 'id="notification-badge"' in body and 'hx-swap-oob="true"' in body
    assert not unread_of(rep).exists()


def test_mark_one_read_with_htmx_returns_its_row(rep_client, rep, rep_teammate):
    mine, other = NotificationFactory.create_batch(2, recipient=rep)
    theirs = NotificationFactory(recipient=rep_teammate)

    response = rep_client.post(f"{LIST_URL}{mine.pk}/read/", **HTMX)

    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="notification-{mine.pk}"' in body
    assert 'data-unread="false"' in body
    assert list(unread_of(rep)) == [other]
    assert rep_client.post(f"{LIST_URL}{theirs.pk}/read/").status_code == 404


def test_mark_one_read_without_htmx_goes_back_to_the_list(rep_client, rep):
    mine = NotificationFactory(recipient=rep)

    response = rep_client.post(f"{LIST_URL}{mine.pk}/read/")

    assert response.status_code == 302
    assert response["Location"] == LIST_URL


def test_opening_a_notification_marks_it_read_and_follows_its_link(rep_client, rep, rep_teammate):
    mine = NotificationFactory(recipient=rep, url="/collaboration/tasks/")
    theirs = NotificationFactory(recipient=rep_teammate, url="/collaboration/tasks/")

    response = rep_client.post(f"{LIST_URL}{mine.pk}/open/")

    assert response.status_code == 302
    assert response["Location"] == "/collaboration/tasks/"
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert rep_client.post(f"{LIST_URL}{theirs.pk}/open/").status_code == 404


def test_opening_never_redirects_off_the_site(rep_client, rep):
    mine = NotificationFactory(recipient=rep, url="https://evil.example/")

    response = rep_client.post(f"{LIST_URL}{mine.pk}/open/")

    assert response["Location"] == LIST_URL


# The bell ----------------------------------------------------------------------------------------


def test_every_page_shows_the_bell_with_the_unread_count(
    rep_client, rep, django_assert_max_num_queries
):
    NotificationFactory.create_batch(3, recipient=rep)
    NotificationFactory(recipient=rep, read_at=timezone.now())
    NotificationFactory(recipient=rep, in_app=False, email_pending=True)

    with django_assert_max_num_queries(8):
        response = rep_client.get(PREFERENCES_URL)

    body = response.content.decode()
    assert 'id="notification-bell"' in body
    assert "<span data-notification-count>3</span>" in body
    assert "unread notifications" in body


def test_the_badge_is_hidden_without_unread_ones(rep_client):
    body = rep_client.get(LIST_URL).content.decode()

    assert '<span id="notification-badge"' in body
    assert 'text-bg-danger" hidden>' in body


def test_the_bell_and_the_page_share_one_unread_count_query(
    rep_client, rep, django_assert_max_num_queries
):
    NotificationFactory(recipient=rep)

    with django_assert_max_num_queries(20) as captured:
        response = rep_client.get(LIST_URL)

    assert response.context["unread_count"] == 1
    unread_counts = [
        query
        for query in captured.captured_queries
        if "COUNT(*)" in query["sql"] and '"read_at" IS NULL' in query["sql"]
    ]
    assert len(unread_counts) == 1


def test_an_anonymous_visitor_has_no_bell_and_no_count_query(db):
    response = Client().get(reverse("login"))

    assert "notification_unread_count" not in response.context
    assert 'id="notification-bell"' not in response.content.decode()


def test_the_menu_shows_the_latest_eight_and_the_links(rep_client, rep, rep_teammate):
    NotificationFactory.create_batch(10, recipient=rep)
    NotificationFactory(recipient=rep_teammate, title="Someone else's")

    response = rep_client.get(MENU_URL, **HTMX)

    assert response.status_code == 200
    assert len(response.context["notifications"]) == 8
    body = response.content.decode()
    assert "Someone else's" not in body
    assert LIST_URL in body and PREFERENCES_URL in body
    assert "Mark all read" in body


def test_mark_all_read_from_the_menu_returns_the_menu(rep_client, rep):
    NotificationFactory.create_batch(2, recipient=rep)

    response = rep_client.post("/collaboration/notifications/read/", {"part": "menu"}, **HTMX)

    body = response.content.decode()
    assert "Mark all read" not in body
    assert "See all notifications" in body
    assert not unread_of(rep).exists()


def test_the_pages_need_a_role(client_for, user_without_role):
    client = client_for(user_without_role)

    assert client.get(LIST_URL).status_code == 403
    assert client.get(MENU_URL).status_code == 403
    assert client.get(PREFERENCES_URL).status_code == 403


# Preferences -------------------------------------------------------------------------------------


def test_the_preferences_page_lists_every_kind_with_defaults(rep_client, rep):
    NotificationPreference.objects.create(user=rep, kind="mention", in_app=False, email_digest=True)

    response = rep_client.get(PREFERENCES_URL)

    assert response.status_code == 200
    rows = {row.kind: row for row in response.context["form"].rows()}
    assert set(rows) == set(Notification.Kind.values)
    assert rows["mention"].in_app.value() is False
    assert rows["mention"].email_digest.value() is True
    assert rows["sla_warning"].in_app.value() is True
    assert rows["sla_warning"].email_digest.value() is False
    body = response.content.decode()
    assert 'name="mention-in_app"' in body and 'name="mention-email_digest"' in body


def test_saving_preferences(rep_client, rep):
    # Checked boxes come in the POST; unchecked ones are missing from it.
    response = rep_client.post(
        PREFERENCES_URL,
        {"sla_warning-in_app": "on", "sla_warning-email_digest": "on", "mention-in_app": "on"},
    )

    assert response.status_code == 302
    stored = {
        p.kind: (p.in_app, p.email_digest) for p in NotificationPreference.objects.filter(user=rep)
    }
    assert stored["sla_warning"] == (True, True)
    assert stored["mention"] == (True, False)
    assert stored["task_assigned"] == (False, False)
    assert len(stored) == len(Notification.Kind.values)
