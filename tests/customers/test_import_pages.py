"""The browser flow: upload, map columns, preview, run, follow the progress, read the result."""

import html
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from crm.accounts import roles
from customers.models import Customer, ImportJob
from customers.services import importing
from tests.accounts.factories import UserFactory

FILE = (
    b"Full Name,Email Address,Mobile,Birthdate,Shoe size\n"
    b"Ann Lee,Ann@Example.com,138 0013 8000,2 Mar 1985,38\n"
    b"Bo Li,bo@,,,42\n"
    b"Ann Lee,ann@example.com,,,\n"
)
MAPPING_FORM = {
    "column_0": "name",
    "column_1": "email",
    "column_2": "phone",
    "column_3": "birthday",
    "column_4": "custom",
    "date_order": "dmy",
}


@pytest.fixture
def marketer(db, team):
    user = UserFactory(username="marketer", roles=[roles.MARKETING])
    user.team_memberships.create(team=team)
    return user


@pytest.fixture
def marketer_client(client_for, marketer):
    return client_for(marketer)


def upload(client) -> ImportJob:
    response = client.post(
        "/customers/imports/new/", {"file": SimpleUploadedFile("customers.csv", FILE)}
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/customers/imports/{job.pk}/mapping/"
    return job


@pytest.mark.django_db
def test_upload_map_preview_run_and_result(
    marketer_client, marketer, eager_tasks, django_capture_on_commit_callbacks
):
    # given the upload page
    assert marketer_client.get("/customers/imports/new/").status_code == 200

    # when a file is uploaded
    job = upload(marketer_client)

    # then the mapping page shows each column, its first values and the guessed field
    page = marketer_client.get(f"/customers/imports/{job.pk}/mapping/")
    assert page.status_code == 200
    content = html.unescape(page.content.decode())
    assert "Email Address" in content
    assert "Ann@Example.com" in content
    form = page.context["form"]
    assert [form[f"column_{n}"].initial for n in range(5)] == [
        "name",
        "email",
        "phone",
        "birthday",
        "",
    ]

    # when the first rows are previewed (htmx swaps the partial in)
    preview = marketer_client.post(
        f"/customers/imports/{job.pk}/preview/", MAPPING_FORM, headers={"HX-Request": "true"}
    )

    # then they appear cleaned, with their problems, and nothing is imported yet
    assert preview.status_code == 200
    content = html.unescape(preview.content.decode())
    assert "ann@example.com" in content
    assert "+8613800138000" in content
    assert "1985-03-02" in content
    assert "Shoe size: 38" in content
    assert "Email Address: “bo@” is not a valid email address." in content
    assert not Customer.objects.exists()

    # when the import is started
    with django_capture_on_commit_callbacks(execute=True):
        started = marketer_client.post(f"/customers/imports/{job.pk}/mapping/", MAPPING_FORM)

    # then it runs (eagerly here) and the result page shows the counts and the report link
    assert started.status_code == 302
    assert started["Location"] == f"/customers/imports/{job.pk}/"
    result = marketer_client.get(started["Location"])
    content = result.content.decode()
    assert result.context["job"].status == ImportJob.Status.COMPLETED
    assert '<dd class="col-sm-9" data-count="created">1</dd>' in content
    assert '<dd class="col-sm-9" data-count="merged">1</dd>' in content
    assert '<dd class="col-sm-9" data-count="rejected">1</dd>' in content
    assert 'hx-trigger="every 1s"' not in content
    assert f"/customers/imports/{job.pk}/report/" in content
    customer = Customer.objects.get()
    assert (customer.owner, customer.custom_attributes) == (marketer, {"Shoe size": "38"})

    # and the report downloads, and the import is in the list of my imports
    report = marketer_client.get(f"/customers/imports/{job.pk}/report/")
    assert b"".join(report.streaming_content).decode("utf-8-sig").startswith("row,outcome")
    listing = marketer_client.get("/customers/imports/")
    assert "customers.csv" in listing.content.decode()
    assert marketer_client.get(f"/customers/imports/{job.pk}/mapping/").status_code == 302


@pytest.mark.django_db
def test_progress_partial_polls_while_the_import_runs(marketer_client, marketer):
    # given a running import half way through
    job = importing.import_job_create(
        actor=marketer, file=ContentFile(FILE, name="a.csv"), mapping={"Full Name": "name"}
    )
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, total_rows=200, processed_rows=100, created_count=90
    )

    # when
    response = marketer_client.get(
        f"/customers/imports/{job.pk}/progress/", headers={"HX-Request": "true"}
    )

    # then the partial shows the progress and asks to be polled again
    content = response.content.decode()
    assert response.status_code == 200
    assert f'hx-get="/customers/imports/{job.pk}/progress/"' in content
    assert 'hx-trigger="every 1s"' in content
    assert 'aria-valuenow="50"' in content
    assert "100 of 200 rows processed" in content
    assert "<html" not in content


@pytest.mark.django_db
def test_mapping_errors_are_shown_and_nothing_starts(marketer_client):
    # given
    job = upload(marketer_client)

    # when two columns are sent to one field
    response = marketer_client.post(
        f"/customers/imports/{job.pk}/mapping/", {**MAPPING_FORM, "column_2": "email"}
    )

    # then
    assert response.status_code == 200
    assert "Only one column can go into each field: email." in response.content.decode()
    job.refresh_from_db()
    assert (job.status, job.mapping) == (ImportJob.Status.PENDING, {})


@pytest.mark.django_db
def test_an_unreadable_upload_is_refused_on_the_form(marketer_client):
    response = marketer_client.post(
        "/customers/imports/new/", {"file": SimpleUploadedFile("book.xlsx", b"PK\x03\x04...")}
    )
    assert response.status_code == 200
    assert "looks like an Excel workbook" in html.unescape(response.content.decode())
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_pages_need_the_import_permission_and_show_only_my_imports(
    rep_client, client_for, marketer, manager
):
    # given an import by the manager
    job = importing.import_job_create(
        actor=manager, file=ContentFile(FILE, name="a.csv"), await_mapping=True
    )

    # when  # then a rep without the permission is refused everywhere
    for url in ("/customers/imports/", "/customers/imports/new/", f"/customers/imports/{job.pk}/"):
        assert rep_client.get(url).status_code == 403

    # and another importer does not find the manager's import
    client = client_for(marketer)
    assert client.get(f"/customers/imports/{job.pk}/").status_code == 404
    assert client.get(f"/customers/imports/{job.pk}/progress/").status_code == 404
    assert "a.csv" not in client.get("/customers/imports/").content.decode()


@pytest.mark.django_db
def test_import_list_queries_are_bounded(marketer_client, marketer, django_assert_max_num_queries):
    for index in range(30):
        importing.import_job_create(
            actor=marketer, file=ContentFile(FILE, name=f"{index}.csv"), await_mapping=True
        )
    with django_assert_max_num_queries(10):
        response = marketer_client.get("/customers/imports/")
    assert len(response.context["page"]) == 25


@pytest.fixture
def celery_worker_process():
    """A real worker on Redis, sharing the test database and the uploaded files."""
    database_url = (
        os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"]
    )
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "DJANGO_SETTINGS_MODULE": "crm.settings.local",
        "DEBUG": "false",
        "SECRET_KEY": "worker-of-the-import-test-0123456789abcdefghijklmnopqrstuvwxyz",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "crm", "worker", "--pool=solo", "-l", "warning"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield worker
    worker.terminate()
    worker.wait(timeout=30)


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_import_and_the_page_follows_it(
    celery_worker_process, client_for, marketer
):
    # given the mapping page of an uploaded file
    client = client_for(marketer)
    job = upload(client)
    assert not settings.CELERY_TASK_ALWAYS_EAGER

    # when the import is started, it goes through the broker to the worker
    client.post(f"/customers/imports/{job.pk}/mapping/", MAPPING_FORM)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in (ImportJob.Status.COMPLETED, ImportJob.Status.FAILED):
            break
        time.sleep(0.5)

    # then the worker has imported the file, and the progress partial stops polling
    assert job.status == ImportJob.Status.COMPLETED, job.error
    assert (job.created_count, job.merged_count, job.rejected_count) == (1, 1, 1)
    partial = client.get(f"/customers/imports/{job.pk}/progress/").content.decode()
    assert "hx-trigger" not in partial
    assert Customer.objects.get().email == "ann@example.com"
