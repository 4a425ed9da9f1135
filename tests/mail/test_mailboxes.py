"""Mailbox and set-aside mail pages and API, for administrators only: the IMAP password is
write-only everywhere, polling can be asked for, and set-aside mail can be read, downloaded,
retried and dismissed."""

import pytest

from mail.models import EmailMessage, InboundSetAside, Mailbox
from mail.services.inbound import inbound_accept
from tests.mail.factories import MailboxFactory, raw_email

pytestmark = pytest.mark.django_db

PASSWORD = "imap-pa55word-never-shown"


@pytest.fixture
def admin_client(client_for, admin_user):
    return client_for(admin_user)


@pytest.fixture
def mailbox(team):
    return MailboxFactory(
        name="Support",
        address="support@crm.example.com",
        team=team,
        imap_host="imap.example.com",
        imap_username="support",
        imap_password=PASSWORD,
    )


@pytest.fixture
def set_aside(mailbox, settings):
    settings.CRM_EMAIL_MAX_INBOUND_BYTES = 100
    item = inbound_accept(raw=raw_email(), source="imap", mailbox=mailbox).set_aside
    settings.CRM_EMAIL_MAX_INBOUND_BYTES = 10_000_000
    return item


def _form(**values) -> dict:
    return {
        "name": "Sales",
        "address": "Sales@CRM.example.com",
        "purpose": Mailbox.Purpose.SALES,
        "team": "",
        "is_active": "on",
        "imap_host": "imap.example.com",
        "imap_port": "993",
        "imap_security": Mailbox.Security.SSL,
        "imap_username": "sales",
        "imap_password": PASSWORD,
        "imap_folder": "INBOX",
        **values,
    }


def test_an_admin_creates_a_mailbox_and_its_password_is_never_shown_back(admin_client):
    response = admin_client.post("/mail/mailboxes/new/", _form())

    assert response.status_code == 302
    mailbox = Mailbox.objects.get()
    assert mailbox.address == "sales@crm.example.com"
    assert mailbox.imap_password == PASSWORD
    page = admin_client.get(f"/mail/mailboxes/{mailbox.pk}/edit/")
    assert page.status_code == 200
    assert PASSWORD not in page.content.decode()
    assert PASSWORD not in admin_client.get("/mail/mailboxes/").content.decode()


def test_an_edit_that_leaves_the_password_empty_keeps_it(admin_client, mailbox):
    response = admin_client.post(
        f"/mail/mailboxes/{mailbox.pk}/edit/",
        _form(name="Help desk", address=mailbox.address, imap_password=""),
    )

    assert response.status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.name == "Help desk"
    assert mailbox.imap_password == PASSWORD


def test_plain_imap_is_refused_to_a_remote_server(admin_client):
    response = admin_client.post("/mail/mailboxes/new/", _form(imap_security=Mailbox.Security.NONE))

    assert response.status_code == 200
    assert "in the clear" in response.content.decode()
    assert not Mailbox.objects.exists()


def test_poll_now_queues_the_poll(
    admin_client, mailbox, monkeypatch, django_capture_on_commit_callbacks
):
    from mail import tasks

    queued = []
    monkeypatch.setattr(
        tasks.mailbox_poll_task, "apply_async", lambda args, **options: queued.append(args)
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/mail/mailboxes/{mailbox.pk}/poll/")

    assert response.status_code == 302
    assert queued == [(mailbox.pk,)]


def test_the_mailbox_list_shows_where_polling_stands(
    admin_client, mailbox, django_assert_max_num_queries
):
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_last_uid=1841, last_error="LOGIN failed")
    MailboxFactory.create_batch(5, team=mailbox.team)

    with django_assert_max_num_queries(12):
        response = admin_client.get("/mail/mailboxes/")

    body = response.content.decode()
    assert "1841" in body
    assert "LOGIN failed" in body


def test_set_aside_mail_is_listed_open_first_and_shown_with_its_headers(
    admin_client, set_aside, mailbox, admin_user, django_assert_max_num_queries
):
    dealt_with = inbound_accept(raw=b"junk", source="imap", mailbox=mailbox).set_aside
    dealt_with.resolved_by = admin_user
    dealt_with.resolved_at = dealt_with.received_at
    dealt_with.save()

    with django_assert_max_num_queries(12):
        listing = admin_client.get("/mail/set-aside/")
    detail = admin_client.get(f"/mail/set-aside/{set_aside.pk}/")

    body = listing.content.decode()
    assert body.index(f"/mail/set-aside/{set_aside.pk}/") < body.index(
        f"/mail/set-aside/{dealt_with.pk}/"
    )
    assert "Too large" in detail.content.decode()
    assert "&lt;m-1@mail.example.com&gt;" in detail.content.decode()


def test_the_raw_message_downloads_as_an_eml_file(admin_client, set_aside):
    response = admin_client.get(f"/mail/set-aside/{set_aside.pk}/raw/")

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content) == raw_email()


def test_retry_and_dismiss_from_the_pages(admin_client, set_aside, mailbox):
    response = admin_client.post(f"/mail/set-aside/{set_aside.pk}/retry/")

    assert response.status_code == 302
    assert EmailMessage.objects.get().mailbox == mailbox
    set_aside.refresh_from_db()
    assert set_aside.resolved_at is not None

    other = inbound_accept(raw=b"junk", source="imap").set_aside
    admin_client.post(f"/mail/set-aside/{other.pk}/dismiss/")
    other.refresh_from_db()
    assert other.resolved_at is not None


@pytest.mark.parametrize("user_fixture", ["rep", "manager"])
def test_only_admins_reach_the_pages(client_for, request, user_fixture, mailbox, set_aside):
    client = client_for(request.getfixturevalue(user_fixture))

    for url in (
        "/mail/mailboxes/",
        "/mail/mailboxes/new/",
        f"/mail/mailboxes/{mailbox.pk}/edit/",
        "/mail/set-aside/",
        f"/mail/set-aside/{set_aside.pk}/",
        f"/mail/set-aside/{set_aside.pk}/raw/",
    ):
        assert client.get(url).status_code in (403, 404), url
    for url in (
        f"/mail/mailboxes/{mailbox.pk}/poll/",
        f"/mail/set-aside/{set_aside.pk}/retry/",
        f"/mail/set-aside/{set_aside.pk}/dismiss/",
    ):
        assert client.post(url).status_code in (403, 404), url
    set_aside.refresh_from_db()
    assert set_aside.resolved_at is None


def test_the_api_creates_mailboxes_with_a_write_only_password(admin_client):
    response = admin_client.post(
        "/api/v1/mailboxes/",
        {
            "name": "Support",
            "address": "help@crm.example.com",
            "purpose": "support",
            "imap_host": "imap.example.com",
            "imap_username": "help",
            "imap_password": PASSWORD,
        },
        content_type="application/json",
    )

    assert response.status_code == 201, response.content
    assert "imap_password" not in response.json()
    mailbox = Mailbox.objects.get()
    assert mailbox.imap_password == PASSWORD
    read = admin_client.get(f"/api/v1/mailboxes/{mailbox.pk}/")
    assert PASSWORD not in read.content.decode()

    changed = admin_client.patch(
        f"/api/v1/mailboxes/{mailbox.pk}/", {"name": "Help"}, content_type="application/json"
    )
    assert changed.status_code == 200
    mailbox.refresh_from_db()
    assert (mailbox.name, mailbox.imap_password) == ("Help", PASSWORD)


def test_the_api_lists_mailboxes_in_few_queries(
    admin_client, mailbox, django_assert_max_num_queries
):
    MailboxFactory.create_batch(5, team=mailbox.team)

    with django_assert_max_num_queries(8):
        response = admin_client.get("/api/v1/mailboxes/")

    assert response.status_code == 200
    assert len(response.json()["results"]) == 6


def test_the_api_retries_and_dismisses_set_aside_mail(admin_client, set_aside):
    listing = admin_client.get("/api/v1/set-aside-emails/?open=true")
    assert [item["id"] for item in listing.json()["results"]] == [set_aside.pk]

    retried = admin_client.post(f"/api/v1/set-aside-emails/{set_aside.pk}/retry/")
    assert retried.status_code == 200, retried.content
    assert retried.json()["status"] == "stored"
    assert retried.json()["email"] == EmailMessage.objects.get().pk
    assert retried.json()["set_aside"]["resolved_at"] is not None

    other = inbound_accept(raw=b"junk", source="imap").set_aside
    dismissed = admin_client.post(f"/api/v1/set-aside-emails/{other.pk}/dismiss/")
    assert dismissed.status_code == 200
    assert dismissed.json()["resolved_at"] is not None
    again = admin_client.post(f"/api/v1/set-aside-emails/{set_aside.pk}/retry/")
    assert again.status_code == 400


@pytest.mark.parametrize("user_fixture", ["rep", "manager"])
def test_the_api_is_closed_to_everyone_but_admins(
    client_for, request, user_fixture, mailbox, set_aside
):
    client = client_for(request.getfixturevalue(user_fixture))

    assert client.get("/api/v1/mailboxes/").status_code == 403
    assert client.get("/api/v1/set-aside-emails/").status_code == 403
    assert client.get(f"/api/v1/mailboxes/{mailbox.pk}/").status_code in (403, 404)
    assert client.post(f"/api/v1/set-aside-emails/{set_aside.pk}/retry/").status_code in (
        403,
        404,
    )
    assert (
        client.post("/api/v1/mailboxes/", {"name": "x"}, content_type="application/json")
    ).status_code == 403
    assert InboundSetAside.objects.filter(resolved_at__isnull=True).count() == 1


def test_the_admin_shows_mailboxes_without_their_password(admin_client, mailbox, set_aside):
    for url in (
        "/admin/mail/mailbox/",
        f"/admin/mail/mailbox/{mailbox.pk}/change/",
        "/admin/mail/inboundsetaside/",
        f"/admin/mail/inboundsetaside/{set_aside.pk}/change/",
    ):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert PASSWORD not in response.content.decode(), url
