"""The admin for notifications (shown, never written) and notification preferences (saved through
the service)."""

import pytest

from collaboration.models import NotificationPreference
from tests.collaboration.factories import NotificationFactory

pytestmark = pytest.mark.django_db


def test_notifications_are_listed_and_filtered_by_read(client_for, superuser, rep):
    NotificationFactory(recipient=rep, title="Unread one")
    client = client_for(superuser)

    listed = client.get("/admin/collaboration/notification/", {"read": "no"})

    assert listed.status_code == 200
    assert "Unread one" in listed.content.decode()
    assert client.get("/admin/collaboration/notification/add/").status_code == 403


def test_a_preference_is_added_and_changed_through_the_admin(client_for, superuser, rep):
    client = client_for(superuser)

    added = client.post(
        "/admin/collaboration/notificationpreference/add/",
        {"user": rep.pk, "kind": "mention", "email_digest": "on"},
    )

    assert added.status_code == 302
    preference = NotificationPreference.objects.get(user=rep, kind="mention")
    assert (preference.in_app, preference.email_digest) == (False, True)

    changed = client.post(
        f"/admin/collaboration/notificationpreference/{preference.pk}/change/",
        {"in_app": "on"},
    )

    assert changed.status_code == 302
    preference.refresh_from_db()
    assert (preference.in_app, preference.email_digest) == (True, False)


def test_deleting_a_preference_puts_the_default_back(client_for, superuser, rep):
    preference = NotificationPreference.objects.create(
        user=rep, kind="mention", in_app=False, email_digest=False
    )

    response = client_for(superuser).post(
        f"/admin/collaboration/notificationpreference/{preference.pk}/delete/", {"post": "yes"}
    )

    assert response.status_code == 302
    assert not NotificationPreference.objects.exists()
