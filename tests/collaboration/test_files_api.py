"""/api/v1/attachments/: the files on one record, uploads checked like the pages', downloads and
deletion by the same rules."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile

from collaboration.models import Attachment
from collaboration.services.files import attachment_add
from crm.accounts.models import RecordShare
from tests.collaboration.factories import ChatMembershipFactory, ChatMessageFactory, ChatRoomFactory
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/attachments/"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48


def pdf(name="quote.pdf"):
    return SimpleUploadedFile(name, PDF)


def detail_url(attachment):
    return f"{URL}{attachment.pk}/"


@pytest.fixture
def customer(rep, team):
    return CustomerFactory(owner=rep, team=team)


@pytest.fixture
def attachment(rep, customer):
    return attachment_add(actor=rep, record=customer, upload=pdf())


def files_of(customer):
    return {"type": "customers.customer", "id": customer.pk}


# Reading -----------------------------------------------------------------------------------------


def test_the_files_of_a_record_are_listed_with_their_download_address(
    rep, rep_client, customer, django_assert_max_num_queries
):
    for number in range(5):
        attachment_add(actor=rep, record=customer, upload=pdf(f"q{number}.pdf"))

    with django_assert_max_num_queries(13):
        response = rep_client.get(URL, files_of(customer))

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["name"] for row in rows] == ["q4.pdf", "q3.pdf", "q2.pdf", "q1.pdf", "q0.pdf"]
    first = rows[0]
    assert first["type"] == "customers.customer"
    assert first["record_id"] == customer.pk
    assert first["content_type"] == "application/pdf"
    assert first["size"] == len(PDF)
    assert first["uploaded_by"] == {"id": rep.pk, "name": rep.label}
    assert first["download"] == f"/collaboration/files/{first['id']}/download/"


def test_the_record_must_be_named(rep_client):
    response = rep_client.get(URL)

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"type", "id"}


def test_a_record_one_cannot_see_is_not_found(client_for, other_team_rep, customer, attachment):
    response = client_for(other_team_rep).get(URL, files_of(customer))

    assert response.status_code == 404


def test_an_unknown_kind_of_record_is_not_found(rep_client):
    assert rep_client.get(URL, {"type": "auth.user", "id": 1}).status_code == 404


def test_one_file_is_read_when_its_record_is_visible(client_for, rep, other_team_rep, attachment):
    assert client_for(rep).get(detail_url(attachment)).json()["name"] == "quote.pdf"
    assert client_for(other_team_rep).get(detail_url(attachment)).status_code == 404


def test_a_chat_messages_files_are_listed_for_the_room(rep, rep_client):
    room = ChatRoomFactory()
    ChatMembershipFactory(room=room, user=rep)
    message = ChatMessageFactory(room=room, author=rep)
    attachment_add(actor=rep, record=message, upload=pdf())

    response = rep_client.get(URL, {"type": "collaboration.chatmessage", "id": message.pk})

    assert [row["name"] for row in response.json()["results"]] == ["quote.pdf"]


# Uploading ---------------------------------------------------------------------------------------


def test_a_file_is_uploaded_as_multipart(rep, rep_client, customer):
    response = rep_client.post(
        URL, {"type": "customers.customer", "id": customer.pk, "file": pdf("offer.pdf")}
    )

    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "offer.pdf"
    assert body["content_type"] == "application/pdf"
    assert Attachment.objects.get().uploaded_by == rep


def test_a_refused_file_answers_400_with_the_reason_under_file(rep_client, customer):
    response = rep_client.post(
        URL,
        {
            "type": "customers.customer",
            "id": customer.pk,
            "file": SimpleUploadedFile("invoice.pdf", EXE),
        },
    )

    assert response.status_code == 400
    assert "invoice.pdf" in response.json()["error"]["fields"]["file"][0]
    assert not Attachment.objects.exists()


def test_uploading_to_a_record_one_cannot_see_is_not_found(client_for, other_team_rep, customer):
    response = client_for(other_team_rep).post(
        URL, {"type": "customers.customer", "id": customer.pk, "file": pdf()}
    )

    assert response.status_code == 404
    assert not Attachment.objects.exists()


def test_uploading_to_someone_elses_chat_message_is_forbidden(client_for, rep, rep_teammate):
    room = ChatRoomFactory()
    ChatMembershipFactory(room=room, user=rep)
    ChatMembershipFactory(room=room, user=rep_teammate)
    message = ChatMessageFactory(room=room, author=rep)

    response = client_for(rep_teammate).post(
        URL, {"type": "collaboration.chatmessage", "id": message.pk, "file": pdf()}
    )

    assert response.status_code == 403


def test_an_unknown_kind_of_record_is_refused(rep_client):
    response = rep_client.post(URL, {"type": "auth.user", "id": 1, "file": pdf()})

    assert response.status_code == 400
    assert "type" in response.json()["error"]["fields"]


# Downloading and deleting ------------------------------------------------------------------------


def test_a_token_client_downloads_the_file_through_the_api(rep_client, attachment):
    response = rep_client.get(f"{detail_url(attachment)}download/", HTTP_ACCEPT="application/pdf")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_downloading_a_file_one_cannot_see_is_not_found(client_for, other_team_rep, attachment):
    response = client_for(other_team_rep).get(f"{detail_url(attachment)}download/")

    assert response.status_code == 404


def test_the_uploader_deletes_their_file(rep_client, attachment):
    assert rep_client.delete(detail_url(attachment)).status_code == 204
    assert not Attachment.objects.exists()


def test_a_reader_of_a_shared_record_may_not_delete_others_files(
    client_for, other_team_rep, customer, attachment
):
    RecordShare.objects.create(
        content_type=ContentType.objects.get_for_model(customer),
        object_id=customer.pk,
        user=other_team_rep,
        access=RecordShare.Access.READ,
    )

    response = client_for(other_team_rep).delete(detail_url(attachment))

    assert response.status_code == 403
    assert Attachment.objects.exists()


def test_deleting_a_file_one_cannot_see_is_not_found(client_for, other_team_rep, attachment):
    assert client_for(other_team_rep).delete(detail_url(attachment)).status_code == 404


def test_the_schema_documents_the_endpoints(rep_client):
    schema = rep_client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()

    assert "/api/v1/attachments/" in schema["paths"]
    upload = schema["paths"]["/api/v1/attachments/"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert "/api/v1/attachments/{id}/download/" in schema["paths"]
