"""Browser sessions: the list of them, logging them out, and the end of an idle session."""

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from crm.accounts.models import UserSession
from crm.accounts.selectors import SESSION_LAST_SEEN_KEY
from crm.accounts.tasks import user_sessions_purge_task
from crm.audit.models import AuditEvent
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def last_seen(client, minutes_ago: float) -> None:
    session = client.session
    session[SESSION_LAST_SEEN_KEY] = timezone.now().timestamp() - minutes_ago * 60
    session.save()


def test_logging_in_lists_the_session_with_where_it_came_from(client, rep):
    # given  # when the rep logs in through the form
    client.post(
        "/accounts/login/",
        {"username": "rep", "password": DEFAULT_PASSWORD},
        REMOTE_ADDR="10.1.2.3",
        HTTP_USER_AGENT="Firefox/140.0",
    )

    # then the session is listed, marked as this one
    row = UserSession.objects.get(user=rep)
    assert row.session_key == client.session.session_key
    assert (row.ip_address, row.user_agent) == ("10.1.2.3", "Firefox/140.0")
    page = client.get("/accounts/profile/sessions/").content.decode()
    assert "Firefox/140.0" in page and "10.1.2.3" in page and "This session" in page
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.LOGIN, ip_address="10.1.2.3").exists()


def test_activity_is_written_at_most_once_a_minute(rep, rep_client):
    # given a session used a moment ago
    rep_client.get("/")
    row = UserSession.objects.get(user=rep)

    # when it is used again within the minute
    rep_client.get("/")

    # then nothing was written
    assert UserSession.objects.get(user=rep).last_seen_at == row.last_seen_at

    # when it is used two minutes later
    last_seen(rep_client, 2)
    rep_client.get("/", HTTP_USER_AGENT="Safari/18")

    # then the row is up to date
    row = UserSession.objects.get(user=rep)
    assert row.last_seen_at > timezone.now() - timezone.timedelta(seconds=30)
    assert row.user_agent == "Safari/18"


def test_an_idle_session_ends_with_a_message(rep, rep_client, settings):
    # given a session unused for longer than the limit
    settings.CRM_SESSION_IDLE_MINUTES = 30
    last_seen(rep_client, 31)

    # when the rep comes back
    response = rep_client.get("/customers/", follow=True)

    # then they are signed out and told why
    assert response.redirect_chain[0] == ("/accounts/login/?next=/customers/", 302)
    assert "signed out after 30 minutes of inactivity" in response.content.decode()
    assert "_auth_user_id" not in rep_client.session
    assert not UserSession.objects.filter(user=rep).exists()


def test_an_idle_session_answers_htmx_with_401(rep_client):
    # given  # when
    last_seen(rep_client, 61)
    response = rep_client.get("/customers/", HTTP_HX_REQUEST="true")

    # then
    assert response.status_code == 401
    assert "inactivity" in response.json()["error"]["message"]


def test_a_session_used_within_the_limit_stays(rep_client):
    # given  # when
    last_seen(rep_client, 59)

    # then
    assert rep_client.get("/customers/").status_code == 200


def test_logging_out_one_other_session(rep, client_for):
    # given the rep in two browsers
    here, there = client_for(rep), client_for(rep)
    other = UserSession.objects.get(session_key=there.session.session_key)

    # when one logs the other out
    response = here.post(f"/accounts/profile/sessions/{other.pk}/end/")

    # then the other browser is signed out, its session gone from the store, and it is recorded
    assert response.status_code == 302
    assert there.get("/customers/").status_code == 302
    assert here.get("/customers/").status_code == 200
    assert not Session.objects.filter(session_key=other.session_key).exists()
    assert not UserSession.objects.filter(pk=other.pk).exists()
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.SESSIONS_REVOKED)
    assert event.details == {"count": 1}


def test_someone_elses_session_cannot_be_ended(rep_client, client_for, rep_teammate):
    # given  # when
    client_for(rep_teammate)
    theirs = UserSession.objects.get(user=rep_teammate)
    response = rep_client.post(f"/accounts/profile/sessions/{theirs.pk}/end/")

    # then
    assert response.status_code == 404
    assert UserSession.objects.filter(pk=theirs.pk).exists()


def test_log_out_all_other_sessions_and_everywhere(rep, client_for):
    # given the rep in three browsers
    first, second, third = client_for(rep), client_for(rep), client_for(rep)

    # when the first logs out all the others
    first.post("/accounts/profile/sessions/end-others/")

    # then only the first is still signed in
    assert first.get("/customers/").status_code == 200
    assert second.get("/customers/").status_code == 302
    assert third.get("/customers/").status_code == 302
    assert UserSession.objects.filter(user=rep).count() == 1

    # when the rep logs out everywhere
    response = first.post("/accounts/profile/sessions/end-all/")

    # then no session is left
    assert response["Location"] == "/accounts/login/"
    assert first.get("/customers/").status_code == 302
    assert not UserSession.objects.filter(user=rep).exists()


def test_logging_out_removes_the_row_and_is_recorded(rep, rep_client):
    # given  # when
    rep_client.post("/accounts/logout/")

    # then
    assert not UserSession.objects.filter(user=rep).exists()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.LOGOUT, actor=rep).exists()


def test_the_api_lists_and_ends_ones_own_sessions(rep, client_for):
    # given the rep in two browsers
    here, there = client_for(rep), client_for(rep)
    other = UserSession.objects.get(session_key=there.session.session_key)

    # when they list their sessions and delete the other
    listing = here.get("/api/v1/sessions/")
    deleted = here.delete(f"/api/v1/sessions/{other.pk}/")

    # then both were listed, the current one marked, and the other is signed out
    rows = listing.json()["results"]
    assert listing.status_code == 200
    assert sorted(row["current"] for row in rows) == [False, True]
    assert deleted.status_code == 204
    assert there.get("/customers/").status_code == 302


def test_idle_sessions_are_purged(rep, client_for, settings, eager_tasks):
    # given a session idle for longer than the limit, and a recent one
    settings.CRM_SESSION_IDLE_MINUTES = 60
    stale, fresh = client_for(rep), client_for(rep)
    stale_row = UserSession.objects.get(session_key=stale.session.session_key)
    UserSession.objects.filter(pk=stale_row.pk).update(
        last_seen_at=timezone.now() - timezone.timedelta(hours=2)
    )

    # when the beat job runs
    purged = user_sessions_purge_task.delay().get()

    # then the stale one is gone, store entry and row
    assert purged == 1
    assert not Session.objects.filter(session_key=stale_row.session_key).exists()
    assert list(UserSession.objects.values_list("session_key", flat=True)) == [
        fresh.session.session_key
    ]


def test_an_admin_logs_sessions_out_from_the_admin(rep, client_for):
    # given the rep signed in, and an admin
    rep_browser = client_for(rep)
    root = client_for(UserFactory(username="root", is_staff=True, is_superuser=True))
    row = UserSession.objects.get(user=rep)

    # when the admin lists the sessions and logs the rep's out
    listing = root.get("/admin/accounts/usersession/")
    response = root.post(
        "/admin/accounts/usersession/",
        {"action": "log_out_selected", "_selected_action": [row.pk]},
    )

    # then the rep is signed out
    assert listing.status_code == 200
    assert response.status_code == 302
    assert rep_browser.get("/customers/").status_code == 302
    assert not UserSession.objects.filter(user=rep).exists()
