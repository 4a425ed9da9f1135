"""Uploaded files in a shared S3 bucket (AWS_STORAGE_BUCKET_NAME), so that any web or worker host
sees what another stored: attachments, CSV imports and their reports, exports, email attachments
and model artifacts go to the bucket and come back from it byte for byte, and nothing is written
to the local MEDIA_ROOT. The bucket is moto's, in process."""

import csv
import hashlib
import io
import json
from pathlib import Path

import boto3
import pytest
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import override_settings
from django.urls import reverse
from moto import mock_aws
from storages.backends.s3 import S3Storage

from analytics.ml.artifacts import ArtifactTampered
from analytics.models import ModelVersion
from analytics.services import training as training_services
from collaboration.models import Attachment
from crm.accounts import roles
from customers.models import Customer, ExportJob, ImportJob
from mail.models import EmailAttachment
from tests.accounts.factories import UserFactory
from tests.analytics.models_toy import TOY_SIGNAL_DEFAULTS, toy_model_make, toy_signal
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

BUCKET = "crm-test-media"
REGION = "us-east-1"
# A PDF by its signature, then bytes of every value, so a download that changed any byte (a text
# decode, a newline translation, a truncated last chunk) differs.
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + bytes(range(256)) * 400
IMPORT_CSV = (
    b"Name,Email,City\r\nAnn Lee,ann@example.com,Shanghai\r\nBo Wang,bo@example.com,Beijing\r\n"
)


class SharedBucket:
    """The mocked bucket, read straight through boto3, past the project's storage."""

    def __init__(self, client):
        self.client = client

    def names(self) -> set[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
        return {entry["Key"] for page in pages for entry in page.get("Contents", ())}

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=BUCKET, Key=key)["Body"].read()

    def write(self, key: str, content: bytes) -> None:
        self.client.put_object(Bucket=BUCKET, Key=key, Body=content)

    def remove(self, key: str) -> None:
        self.client.delete_object(Bucket=BUCKET, Key=key)


@pytest.fixture
def media_root(tmp_path) -> Path:
    return tmp_path / "media"


@pytest.fixture
def bucket(monkeypatch, media_root, eager_tasks):
    """The default storage is S3Storage on a moto bucket, as production's settings make it when
    AWS_STORAGE_BUCKET_NAME is set; MEDIA_ROOT is an empty folder of this test's own, so any file
    that went to the local disk instead is found there. Tasks run in this process, whose storage
    is the mocked bucket, even with a real broker configured."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    storages = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "region_name": REGION,
                "default_acl": None,
                "querystring_auth": True,
                "file_overwrite": False,
            },
        },
    }
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET)
        # The models' FileFields use default_storage, which the settings change resets.
        with override_settings(STORAGES=storages, MEDIA_ROOT=str(media_root)):
            assert isinstance(default_storage, S3Storage)
            yield SharedBucket(client)
    assert not media_root.exists() or not any(media_root.rglob("*")), "a file went to MEDIA_ROOT"


@pytest.fixture
def marketer(team):
    """Marketing may import and export customers."""
    user = UserFactory(username="marketer", roles=[roles.MARKETING])
    team.memberships.create(user=user)
    return user


def streamed(response) -> bytes:
    assert response.status_code == 200, response
    return b"".join(response.streaming_content)


def csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_every_file_field_stores_through_the_configured_default_storage():
    # A storage bound to a field when its model is imported would ignore STORAGES: that field's
    # files would stay on the host that wrote them.
    fields = {
        f"{model._meta.label}.{field.name}": field.storage
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.FileField)
    }
    assert "collaboration.Attachment.file" in fields and "customers.ImportJob.file" in fields
    assert [name for name, storage in fields.items() if storage is not default_storage] == []


# Attachments -------------------------------------------------------------------------------------


def test_an_attachment_uploaded_through_the_api_is_in_the_bucket_and_downloads_whole(
    bucket, rep, rep_client, team
):
    # given a customer of the rep
    customer = CustomerFactory(owner=rep, team=team)

    # when the rep uploads a file to it through the API
    response = rep_client.post(
        "/api/v1/attachments/",
        {"type": "customers.customer", "id": customer.pk, "file": SimpleUploadedFile("q.pdf", PDF)},
    )

    # then the file is an object in the bucket, with the same bytes
    assert response.status_code == 201, response.content
    attachment = Attachment.objects.get(pk=response.json()["id"])
    assert attachment.file.name in bucket.names()
    assert bucket.read(attachment.file.name) == PDF
    # and the browser's download and the API's give those bytes back, as a download
    page_download = rep_client.get(response.json()["download"])
    api_download = rep_client.get(f"/api/v1/attachments/{attachment.pk}/download/")
    assert streamed(page_download) == streamed(api_download) == PDF
    assert page_download["Content-Length"] == str(len(PDF))
    assert 'filename="q.pdf"' in page_download["Content-Disposition"]


def test_an_attachment_uploaded_on_the_files_page_is_served_from_the_bucket_not_a_copy(
    bucket, rep, rep_client, team
):
    # given a file stored from the record's files page
    customer = CustomerFactory(owner=rep, team=team)
    page = reverse("collaboration:record_files", args=["customers.customer", customer.pk])
    assert rep_client.post(page, {"files": [SimpleUploadedFile("q.pdf", PDF)]}).status_code == 302
    attachment = Attachment.objects.get()
    download = reverse("collaboration:attachment_download", args=[attachment.pk])

    # when another host changes the object in the bucket
    bucket.write(attachment.file.name, PDF + b"% signed\n")

    # then the download is what the bucket holds now
    assert streamed(rep_client.get(download)) == PDF + b"% signed\n"

    # when the object is gone from the bucket
    bucket.remove(attachment.file.name)

    # then the download is not found, rather than an error
    assert rep_client.get(download).status_code == 404


def test_deleting_an_attachment_removes_its_object_from_the_bucket(
    bucket, rep, rep_client, team, django_capture_on_commit_callbacks
):
    # given
    customer = CustomerFactory(owner=rep, team=team)
    created = rep_client.post(
        "/api/v1/attachments/",
        {"type": "customers.customer", "id": customer.pk, "file": SimpleUploadedFile("q.pdf", PDF)},
    ).json()
    key = Attachment.objects.get(pk=created["id"]).file.name
    assert key in bucket.names()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        deleted = rep_client.delete(f"/api/v1/attachments/{created['id']}/")

    # then
    assert deleted.status_code == 204
    assert key not in bucket.names()


# CSV imports -------------------------------------------------------------------------------------


def test_a_csv_import_uploaded_through_the_api_is_read_back_from_the_bucket_by_its_run(
    bucket, client_for, marketer, django_capture_on_commit_callbacks
):
    # given the web host stores the upload; the run is queued for a worker
    client = client_for(marketer)
    with django_capture_on_commit_callbacks() as queued:
        created = client.post(
            "/api/v1/customer-imports/",
            {
                "file": SimpleUploadedFile("people.csv", IMPORT_CSV, content_type="text/csv"),
                "mapping": json.dumps({"Name": "name", "Email": "email", "City": "city"}),
            },
        )
    assert created.status_code == 201, created.content
    job = ImportJob.objects.get(pk=created.json()["id"])
    assert job.status == ImportJob.Status.PENDING
    assert bucket.read(job.file.name) == IMPORT_CSV
    # and before the worker starts, the file in the bucket gains a row
    bucket.write(job.file.name, IMPORT_CSV + b"Chen Jie,chen@example.com,Xi'an\r\n")

    # when the worker runs the import (eagerly, here)
    for callback in queued:
        callback()

    # then it imported what the bucket held: every row of it
    job.refresh_from_db()
    assert job.status == ImportJob.Status.COMPLETED, job.error
    assert (job.total_rows, job.created_count, job.rejected_count) == (3, 3, 0)
    assert set(Customer.objects.values_list("email", "city")) == {
        ("ann@example.com", "Shanghai"),
        ("bo@example.com", "Beijing"),
        ("chen@example.com", "Xi'an"),
    }
    # and its report is in the bucket, one line per row, downloaded whole through the API
    assert job.report.name in bucket.names()
    report = streamed(client.get(f"/api/v1/customer-imports/{job.pk}/report/"))
    assert report == bucket.read(job.report.name)
    assert [(row["row"], row["outcome"]) for row in csv_rows(report)] == [
        ("2", "created"),
        ("3", "created"),
        ("4", "created"),
    ]
    # and the report's parts, one per batch, are gone
    assert not [key for key in bucket.names() if key.startswith("imports/reports/parts/")]


# Exports -----------------------------------------------------------------------------------------


def test_an_export_file_is_written_to_the_bucket_and_downloaded_from_it(
    bucket, client_for, marketer, rep, team, django_capture_on_commit_callbacks
):
    # given
    CustomerFactory(name="Bo", owner=rep, team=team, status="customer")
    client = client_for(marketer)

    # when the marketer exports through the API; the worker writes the file
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            "/api/v1/customer-exports/",
            {"file_format": "csv", "filters": {"status": ["customer"]}},
            content_type="application/json",
        )

    # then the file is in the bucket, and the download is its bytes
    assert created.status_code == 201, created.content
    job = ExportJob.objects.get(pk=created.json()["id"])
    assert job.status == ExportJob.Status.DONE, job.error
    assert job.file.name in bucket.names()
    download = streamed(client.get(f"/api/v1/customer-exports/{job.pk}/download/"))
    assert download == bucket.read(job.file.name)
    assert [row[1] for row in csv.reader(io.StringIO(download.decode("utf-8-sig")))] == [
        "Name",
        "Bo",
    ]


# Email attachments -------------------------------------------------------------------------------


def test_an_email_attachment_is_sent_and_downloaded_from_the_bucket(
    bucket, rep, rep_client, team, django_capture_on_commit_callbacks
):
    # given a customer of the rep
    customer = CustomerFactory(owner=rep, team=team, email="li.na@example.com")

    # when the rep sends them mail with a file, from the compose page
    with django_capture_on_commit_callbacks(execute=True):
        response = rep_client.post(
            f"/mail/compose/?customer={customer.pk}",
            {
                "to": customer.email,
                "subject": "Quote",
                "body": "Attached.",
                "attachments": [SimpleUploadedFile("q.pdf", PDF, "application/pdf")],
            },
        )

    # then the file is in the bucket, the mail carried its bytes and the download gives them back
    assert response.status_code == 302, response.content
    attachment = EmailAttachment.objects.get()
    assert bucket.read(attachment.file.name) == PDF
    [sent] = mail.outbox
    assert sent.attachments == [("q.pdf", PDF, "application/pdf")]
    download = rep_client.get(reverse("mail:attachment_download", args=[attachment.pk]))
    assert streamed(download) == PDF


# Model artifacts ---------------------------------------------------------------------------------


def test_a_model_artifact_is_stored_in_the_bucket_and_loaded_from_it_by_another_host(
    bucket, monkeypatch
):
    # given a model trained on one host
    toy_signal.update(TOY_SIGNAL_DEFAULTS)
    model = toy_model_make(name="toy")
    version = training_services.model_retrain_request(
        model=model, trigger=ModelVersion.Trigger.COMMAND
    )
    version = training_services.model_train_run(version_id=version.pk)
    assert version.status == ModelVersion.Status.DONE, version.error

    # then its artifact is in the bucket, with the hash recorded at training time
    content = bucket.read(version.artifact.name)
    assert hashlib.sha256(content).hexdigest() == version.artifact_sha256

    # when a host that has loaded no model yet loads it, it reads it from the bucket
    monkeypatch.setattr(training_services, "_bundles", {})
    bundle = training_services.bundle_load(version=version)
    assert bundle.columns == version.features

    # and when the object in the bucket is changed, another fresh host refuses it
    monkeypatch.setattr(training_services, "_bundles", {})
    bucket.write(version.artifact.name, content + b"tampered")
    with pytest.raises(ArtifactTampered):
        training_services.bundle_load(version=version)
