"""The files pages as a signed-in user sees them: a record's files, uploading several at once,
the checked download, deleting, and the files panel other pages include."""

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.test import RequestFactory

from collaboration.models import Attachment
from collaboration.services.files import attachment_add
from crm.accounts.models import RecordShare
from tests.collaboration.factories import (
    ChatMembershipFactory,
    ChatMessageFactory,
    ChatRoomFactory,
    TaskFactory,
)
from tests.customers.factories import CustomerFactory
from tests.sales.factories import DealFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01"
    b"\x08\x02\x00\x00\x00\x90wS\xde"
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48


def pdf(name="quote.pdf"):
    return SimpleUploadedFile(name, PDF)


def files_url(record):
    label = f"{record._meta.app_label}.{record._meta.model_name}"
    return f"/collaboration/records/{label}/{record.pk}/files/"


def download_url(attachment):
    return f"/collaboration/files/{attachment.pk}/download/"


def delete_url(attachment):
    return f"/collaboration/files/{attachment.pk}/delete/"


@pytest.fixture
def customer(rep, team):
    return CustomerFactory(owner=rep, team=team, name="Ada Lovelace")


@pytest.fixture
def attachment(rep, customer):
    return attachment_add(actor=rep, record=customer, upload=pdf())


# The files page ----------------------------------------------------------------------------------


def test_the_files_page_lists_the_records_files_newest_first(
    rep, rep_client, customer, django_assert_max_num_queries
):
    for number in range(3):
        attachment_add(actor=rep, record=customer, upload=pdf(f"quote-{number}.pdf"))

    with django_assert_max_num_queries(14):
        response = rep_client.get(files_url(customer))

    assert response.status_code == 200
    assert [a.name for a in response.context["attachments"]] == [
        "quote-2.pdf",
        "quote-1.pdf",
        "quote-0.pdf",
    ]
    page = response.content.decode()
    assert "Ada Lovelace" in page
    assert download_url(response.context["attachments"][0]) in page
    # No address of the storage itself is ever put on a page.
    assert settings.MEDIA_URL not in page


def test_the_query_count_does_not_grow_with_the_files(
    rep, rep_client, customer, django_assert_max_num_queries
):
    for number in range(20):
        attachment_add(actor=rep, record=customer, upload=pdf(f"quote-{number}.pdf"))

    with django_assert_max_num_queries(14):
        rep_client.get(files_url(customer))


def test_another_teams_rep_finds_no_files_page(client_for, other_team_rep, customer):
    response = client_for(other_team_rep).get(files_url(customer))

    assert response.status_code == 404


def test_an_unknown_kind_of_record_has_no_files_page(rep_client):
    assert rep_client.get("/collaboration/records/auth.user/1/files/").status_code == 404


def test_a_chat_messages_files_are_not_shown_on_a_page_of_their_own(rep, rep_client):
    room = ChatRoomFactory()
    ChatMembershipFactory(room=room, user=rep)
    message = ChatMessageFactory(room=room, author=rep)

    assert rep_client.get(files_url(message)).status_code == 404


def test_uploading_several_files_stores_them_and_goes_back(rep_client, customer):
    response = rep_client.post(
        files_url(customer),
        {"files": [pdf("a.pdf"), SimpleUploadedFile("b.png", PNG)], "next": "/customers/"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/customers/"
    stored = Attachment.objects.order_by("name")
    assert [(a.name, a.content_type) for a in stored] == [
        ("a.pdf", "application/pdf"),
        ("b.png", "image/png"),
    ]


def test_a_refused_file_is_named_with_its_reason_and_the_others_are_stored(rep_client, customer):
    response = rep_client.post(
        files_url(customer),
        {"files": [pdf("good.pdf"), SimpleUploadedFile("invoice.pdf", EXE)]},
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "good.pdf" in page
    assert "invoice.pdf" in page
    assert response.context["refused"]
    assert [a.name for a in response.context["stored"]] == ["good.pdf"]
    assert list(Attachment.objects.values_list("name", flat=True)) == ["good.pdf"]


def test_when_every_file_is_refused_the_page_says_so(rep_client, customer):
    response = rep_client.post(files_url(customer), {"files": [SimpleUploadedFile("x.pdf", b"")]})

    assert response.status_code == 400
    assert "x.pdf" in response.context["refused"][0]
    assert not Attachment.objects.exists()


def test_uploading_nothing_is_refused(rep_client, customer):
    response = rep_client.post(files_url(customer), {})

    assert response.status_code == 400


# Downloads ---------------------------------------------------------------------------------------


def test_a_download_is_an_attachment_under_its_name_and_sniffed_type(rep_client, attachment):
    response = rep_client.get(download_url(attachment))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert 'filename="quote.pdf"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert "private" in response["Cache-Control"]


def test_an_image_may_be_shown_inline(rep, rep_client, customer):
    image = attachment_add(actor=rep, record=customer, upload=SimpleUploadedFile("s.png", PNG))

    response = rep_client.get(download_url(image) + "?inline=1")

    assert response["Content-Disposition"].startswith("inline")
    assert response["Content-Type"] == "image/png"


def test_anything_else_is_always_a_download(rep_client, attachment):
    response = rep_client.get(download_url(attachment) + "?inline=1")

    assert response["Content-Disposition"].startswith("attachment")


def test_a_file_on_a_record_one_cannot_see_is_not_found(client_for, other_team_rep, attachment):
    response = client_for(other_team_rep).get(download_url(attachment))

    assert response.status_code == 404


def test_a_missing_file_is_not_found(rep_client):
    assert rep_client.get("/collaboration/files/999999/download/").status_code == 404


def test_a_download_needs_a_sign_in(client, attachment):
    response = client.get(download_url(attachment))

    assert response.status_code == 302


# Deleting ----------------------------------------------------------------------------------------


def test_deleting_asks_first_then_removes_the_file(rep_client, customer, attachment):
    confirm = rep_client.get(delete_url(attachment))
    assert confirm.status_code == 200
    assert "quote.pdf" in confirm.content.decode()

    response = rep_client.post(delete_url(attachment))

    assert response.status_code == 302
    assert response["Location"] == files_url(customer)
    assert not Attachment.objects.exists()


def test_deleting_from_the_list_with_htmx_removes_the_row(rep_client, attachment):
    response = rep_client.post(delete_url(attachment), **HTMX)

    assert response.status_code == 200
    assert response.content == b""
    assert not Attachment.objects.exists()


def test_the_delete_button_shows_only_where_one_may_delete(
    client_for, rep, other_team_rep, customer, attachment
):
    RecordShare.objects.create(
        content_type=ContentType.objects.get_for_model(customer),
        object_id=customer.pk,
        user=other_team_rep,
        access=RecordShare.Access.READ,
    )
    reader = client_for(other_team_rep)

    page = reader.get(files_url(customer))
    assert page.status_code == 200
    assert delete_url(attachment) not in page.content.decode()
    assert reader.get(delete_url(attachment)).status_code == 403
    assert reader.post(delete_url(attachment)).status_code == 403
    assert delete_url(attachment) in client_for(rep).get(files_url(customer)).content.decode()


def test_another_teams_rep_cannot_delete_a_file_they_cannot_see(
    client_for, other_team_rep, attachment
):
    assert client_for(other_team_rep).post(delete_url(attachment)).status_code == 404
    assert Attachment.objects.exists()


# The files panel ---------------------------------------------------------------------------------


def render_panel(record, user):
    request = RequestFactory().get("/sales/deals/1/")
    request.user = user
    template = Template("{% load collaboration_files %}{% record_files_panel record %}")
    return template.render(Context({"record": record, "request": request}))


def test_the_panel_shows_the_latest_five_files_and_the_upload_form(
    rep, team, django_assert_max_num_queries
):
    deal = DealFactory(owner=rep, team=team)
    for number in range(7):
        attachment_add(actor=rep, record=deal, upload=pdf(f"file-{number}.pdf"))

    with django_assert_max_num_queries(6):
        html = render_panel(deal, rep)

    assert "file-6.pdf" in html and "file-2.pdf" in html
    assert "file-1.pdf" not in html
    assert ">7<" in html
    assert files_url(deal) in html
    assert 'type="file"' in html
    assert 'name="next" value="/sales/deals/1/"' in html


def test_the_panel_works_on_a_task(rep, team):
    task = TaskFactory(assignee=rep, team=team)

    html = render_panel(task, rep)

    assert files_url(task) in html


def test_the_panel_shows_nothing_to_someone_who_cannot_see_the_record(rep, other_team_rep, team):
    deal = DealFactory(owner=rep, team=team)
    attachment_add(actor=rep, record=deal, upload=pdf())

    assert render_panel(deal, other_team_rep).strip() == ""
