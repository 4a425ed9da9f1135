"""The attachment admin: files are added through the service (so the content check holds) and
never linked to in the storage directly."""

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile

from collaboration.models import Attachment
from collaboration.services.files import attachment_add
from customers.models import Customer
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

URL = "/admin/collaboration/attachment/"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48


@pytest.fixture
def admin_client(client_for, superuser):
    return client_for(superuser)


def add_form(customer, upload):
    return {
        "related_type": ContentType.objects.get_for_model(Customer).pk,
        "related_id": customer.pk,
        "file": upload,
    }


def test_the_list_shows_each_file_with_its_record(
    admin_client, superuser, django_assert_max_num_queries
):
    for number in range(5):
        customer = CustomerFactory(name=f"Customer number {number}")
        attachment_add(
            actor=superuser, record=customer, upload=SimpleUploadedFile(f"f{number}.pdf", PDF)
        )

    with django_assert_max_num_queries(12):
        response = admin_client.get(URL)

    page = response.content.decode()
    assert response.status_code == 200
    assert "f4.pdf" in page and "Customer number 4" in page


def test_a_file_added_in_the_admin_passes_the_content_check(admin_client, superuser):
    customer = CustomerFactory()

    response = admin_client.post(
        f"{URL}add/", add_form(customer, SimpleUploadedFile("q.pdf", PDF, "text/html"))
    )

    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.related_record == customer
    assert attachment.content_type == "application/pdf"
    assert attachment.uploaded_by == superuser


def test_a_refused_file_is_reported_and_not_stored(admin_client):
    customer = CustomerFactory()

    response = admin_client.post(
        f"{URL}add/", add_form(customer, SimpleUploadedFile("invoice.pdf", EXE)), follow=True
    )

    assert "invoice.pdf" in response.content.decode()
    assert not Attachment.objects.exists()


def test_a_missing_record_is_refused(admin_client):
    customer = CustomerFactory()
    form = add_form(customer, SimpleUploadedFile("q.pdf", PDF))
    form["related_id"] = customer.pk + 1000

    response = admin_client.post(f"{URL}add/", form)

    assert response.status_code == 200
    assert not Attachment.objects.exists()


def test_the_detail_links_to_the_checked_download_only(admin_client, superuser):
    attachment = attachment_add(
        actor=superuser, record=CustomerFactory(), upload=SimpleUploadedFile("q.pdf", PDF)
    )

    page = admin_client.get(f"{URL}{attachment.pk}/change/").content.decode()

    assert f"/collaboration/files/{attachment.pk}/download/" in page
    assert settings.MEDIA_URL + "attachments" not in page


def test_deleting_in_the_admin_goes_through_the_service(admin_client, superuser):
    attachment = attachment_add(
        actor=superuser, record=CustomerFactory(), upload=SimpleUploadedFile("q.pdf", PDF)
    )

    response = admin_client.post(f"{URL}{attachment.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Attachment.objects.exists()
