"""/api/v1/notifications/: the caller's own notifications, marking read, the unread count and
the caller's notification preferences."""

from datetime import timedelta

import pytest
import yaml
from django.utils import timezone

from collaboration.models import Notification, NotificationPreference
from tests.collaboration.factories import NotificationFactory

pytestmark = pytest.mark.django_db

NOTIFICATIONS = "/api/v1/notifications/"
PREFERENCES = f"{NOTIFICATIONS}preferences/"
UNREAD_COUNT = f"{NOTIFICATIONS}unread-count/"


def test_notifications_are_the_callers_own_newest_first(rep_client, rep, rep_teammate):
    now = timezone.now()
    old = NotificationFactory(recipient=rep, read_at=now)
    Notification.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=1))
    new = NotificationFactory(recipient=rep)
    theirs = NotificationFactory(recipient=rep_teammate)

    listed = rep_client.get(NOTIFICATIONS).json()["results"]
    unread = rep_client.get(NOTIFICATIONS, {"unread": "true"}).json()["results"]

    assert [row["id"] for row in listed] == [new.pk, old.pk]
    assert [row["id"] for row in unread] == [new.pk]
    assert rep_client.get(f"{NOTIFICATIONS}{theirs.pk}/").status_code == 404


def test_the_list_leaves_out_email_only_ones_and_its_queries_are_bounded(
    rep_client, rep, django_assert_max_num_queries
):
    NotificationFactory.create_batch(30, recipient=rep)
    digest_only = NotificationFactory(recipient=rep, in_app=False, email_pending=True)

    with django_assert_max_num_queries(6):
        response = rep_client.get(NOTIFICATIONS)

    ids = [row["id"] for row in response.json()["results"]]
    assert len(ids) == 30
    assert digest_only.pk not in ids


def test_mark_read_some_or_all(rep_client, rep, rep_teammate):
    first, *_others = NotificationFactory.create_batch(3, recipient=rep)
    theirs = NotificationFactory(recipient=rep_teammate)

    some = rep_client.post(
        f"{NOTIFICATIONS}mark-read/",
        {"ids": [first.pk, theirs.pk]},
        content_type="application/json",
    )
    assert some.json() == {"marked": 1}

    rest = rep_client.post(f"{NOTIFICATIONS}mark-read/", {}, content_type="application/json")
    assert rest.json() == {"marked": 2}
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_unread_count(rep_client, rep, rep_teammate, django_assert_max_num_queries):
    NotificationFactory.create_batch(2, recipient=rep)
    NotificationFactory(recipient=rep, read_at=timezone.now())
    NotificationFactory(recipient=rep, in_app=False, email_pending=True)
    NotificationFactory(recipient=rep_teammate)

    with django_assert_max_num_queries(5):
        response = rep_client.get(UNREAD_COUNT)

    assert response.status_code == 200
    assert response.json() == {"unread": 2}


def test_the_preferences_list_every_kind(rep_client, rep, django_assert_max_num_queries):
    NotificationPreference.objects.create(user=rep, kind="mention", in_app=False, email_digest=True)

    with django_assert_max_num_queries(5):
        response = rep_client.get(PREFERENCES)

    assert response.status_code == 200
    rows = {row["kind"]: row for row in response.json()}
    assert set(rows) == set(Notification.Kind.values)
    assert rows["mention"] == {
        "kind": "mention",
        "label": "Mention",
        "in_app": False,
        "email_digest": True,
    }
    assert rows["sla_warning"]["in_app"] is True
    assert rows["sla_warning"]["email_digest"] is False


def test_put_preferences_changes_the_kinds_given(rep_client, rep):
    NotificationPreference.objects.create(user=rep, kind="mention", in_app=False, email_digest=True)

    response = rep_client.put(
        PREFERENCES,
        [{"kind": "sla_warning", "in_app": False, "email_digest": True}],
        content_type="application/json",
    )

    assert response.status_code == 200
    rows = {row["kind"]: row for row in response.json()}
    assert rows["sla_warning"]["in_app"] is False
    assert rows["sla_warning"]["email_digest"] is True
    assert rows["mention"]["in_app"] is False
    assert NotificationPreference.objects.filter(user=rep).count() == 2


def test_put_preferences_refuses_an_unknown_kind_clearly(rep_client, rep):
    response = rep_client.put(
        PREFERENCES,
        [
            {"kind": "mention", "in_app": False, "email_digest": False},
            {"kind": "gossip", "in_app": True, "email_digest": False},
        ],
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "“gossip” is not a kind of notification." in response.content.decode()
    assert not NotificationPreference.objects.exists()


def test_the_endpoints_need_a_role(client_for, user_without_role):
    client = client_for(user_without_role)

    assert client.get(UNREAD_COUNT).status_code == 403
    assert client.get(PREFERENCES).status_code == 403
    assert client.put(PREFERENCES, [], content_type="application/json").status_code == 403


def test_the_schema_documents_the_endpoints(rep_client):
    response = rep_client.get("/api/v1/schema/")

    schema = yaml.safe_load(response.content)
    for path in (NOTIFICATIONS, f"{NOTIFICATIONS}mark-read/", UNREAD_COUNT, PREFERENCES):
        assert path in schema["paths"], path
    assert {"get", "put"} <= set(schema["paths"][PREFERENCES])
