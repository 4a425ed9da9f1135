"""Customer exports as background jobs: starting one from the list, its file (only what the
requester may see), following its progress, its failure, its privacy, the API and the admin."""

import csv
import datetime
import io

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType

from crm.accounts import roles
from crm.accounts.models import FieldRule
from crm.audit.models import AuditEvent
from customers.models import Customer, ExportJob
from customers.services import export
from tests.accounts.factories import UserFactory
from tests.customers.export_downloads import export_start
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def exporter(team):
    """A marketer in the rep's team: Marketing may export."""
    user = UserFactory(username="marketer", roles=[roles.MARKETING])
    team.memberships.create(user=user)
    return user


@pytest.fixture
def book(rep, team, other_team_rep, other_team):
    CustomerFactory(name="王芳", owner=rep, team=team, status="customer", email="wf@example.com")
    CustomerFactory(name="Bo", owner=rep, team=team, status="customer", email="bo@example.com")
    CustomerFactory(name="Lead", owner=rep, team=team, status="lead")
    CustomerFactory(name="Theirs", owner=other_team_rep, team=other_team, status="customer")


def hide_from_marketing(field_name: str) -> None:
    FieldRule.objects.update_or_create(
        content_type=ContentType.objects.get_for_model(Customer),
        field_name=field_name,
        role=Group.objects.get(name=roles.MARKETING),
        defaults={"access": FieldRule.Access.HIDDEN},
    )


def downloaded_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def test_an_export_runs_as_a_job_and_its_file_holds_what_the_requester_may_see(
    exporter, client_for, book
):
    # given a marketer from whom the email is hidden
    hide_from_marketing("email")
    client = client_for(exporter)

    # when they export the customers, name A to Z
    started = export_start(client, "csv", {"status": "customer", "ordering": "name"})

    # then they land on the job's page, which has finished, and the file is theirs to download
    job = ExportJob.objects.get()
    assert started.url == f"/customers/exports/{job.pk}/"
    assert (job.status, job.progress, job.rows_total, job.rows_done) == ("done", 100, 2, 2)
    assert job.filters == {"status": ["customer"]}
    page = client.get(started.url).content.decode()
    assert 'role="progressbar"' in page and 'aria-valuenow="100"' in page
    assert f'href="/customers/exports/{job.pk}/download/"' in page
    assert "/media/" not in page
    response = client.get(f"/customers/exports/{job.pk}/download/")
    assert response["Content-Disposition"].startswith('attachment; filename="customers-')
    rows = downloaded_rows(response)
    assert "Email" not in rows[0] and "Phone" in rows[0]
    assert [row[1] for row in rows[1:]] == ["Bo", "王芳"]
    assert "wf@example.com" not in str(rows)
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.EXPORT)
    assert event.actor == exporter
    assert event.details == {
        "what": "customers",
        "format": "csv",
        "rows": 2,
        "filters": {"status": ["customer"]},
    }


def test_progress_is_recorded_while_the_file_is_written(client_for, manager, rep, monkeypatch):
    # given more customers than one progress step
    monkeypatch.setattr(export, "PROGRESS_EVERY", 2)
    for index in range(5):
        CustomerFactory(name=f"C{index}", owner=rep)
    recorded = []
    record = export._record_progress
    monkeypatch.setattr(
        export, "_record_progress", lambda job, done: (recorded.append(done), record(job, done))
    )

    # when
    export_start(client_for(manager), "xlsx")

    # then
    assert recorded == [2, 4]
    assert ExportJob.objects.get().progress == 100


def test_the_progress_partial_polls_until_the_job_finishes(exporter, client_for):
    # given a job waiting for a worker
    job = ExportJob.objects.create(requested_by=exporter, file_format="csv")

    # when
    partial = client_for(exporter).get(f"/customers/exports/{job.pk}/progress/").content.decode()

    # then
    assert f'hx-get="/customers/exports/{job.pk}/progress/"' in partial
    assert 'aria-valuenow="0"' in partial
    assert "Waiting for a worker" in partial
    assert "/download/" not in partial


def test_another_user_can_neither_see_nor_download_an_export(exporter, client_for, book):
    # given a finished export by the marketer
    export_start(client_for(exporter), "csv")
    job = ExportJob.objects.get()
    manager = UserFactory(username="boss", roles=[roles.MANAGER])
    other = client_for(manager)

    # when  # then
    for suffix in ("", "progress/", "download/"):
        assert other.get(f"/customers/exports/{job.pk}/{suffix}").status_code == 404
    assert other.get(f"/api/v1/customer-exports/{job.pk}/").status_code == 404
    assert other.get(f"/api/v1/customer-exports/{job.pk}/download/").status_code == 404
    assert f"/customers/exports/{job.pk}/" not in other.get("/customers/exports/").content.decode()


def test_a_failed_export_shows_its_error(exporter, client_for, book, monkeypatch):
    # given a writer that breaks down
    def broken(rows, file):
        raise OSError("disk full")

    monkeypatch.setattr(export, "customer_export_xlsx", broken)
    client = client_for(exporter)

    # when
    started = export_start(client, "xlsx")

    # then
    job = ExportJob.objects.get()
    assert job.status == "failed"
    assert not job.file
    page = client.get(started.url).content.decode()
    assert "The export stopped: disk full." in page
    assert 'role="alert"' in page
    assert f'hx-get="/customers/exports/{job.pk}/progress/"' not in page
    assert client.get(f"/customers/exports/{job.pk}/download/").status_code == 404


def test_running_a_finished_job_again_does_nothing(exporter, client_for, book):
    # given
    export_start(client_for(exporter), "csv")
    job = ExportJob.objects.get()

    # when  # then
    assert export.customer_export_job_run(job_id=job.pk) is None
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.EXPORT).count() == 1


def test_starting_needs_a_post_and_the_permission(exporter, rep_client, client_for):
    # given  # when  # then
    assert client_for(exporter).get("/customers/export/csv/").status_code == 405
    assert rep_client.post("/customers/export/csv/").status_code == 403
    assert rep_client.get("/customers/exports/").status_code == 403
    assert not ExportJob.objects.exists()


def test_my_exports_lists_ones_own_exports_in_bounded_queries(
    exporter, client_for, django_assert_max_num_queries
):
    # given
    for file_format in ("csv", "xlsx", "csv"):
        ExportJob.objects.create(requested_by=exporter, file_format=file_format, status="done")
    ExportJob.objects.create(requested_by=UserFactory(), file_format="csv")
    client = client_for(exporter)
    client.get("/customers/exports/")

    # when
    with django_assert_max_num_queries(8):
        response = client.get("/customers/exports/")

    # then
    assert len(response.context["page"]) == 3
    assert response.content.decode().count("/download/") == 3


def test_the_api_starts_an_export_and_reports_its_progress(
    exporter, client_for, book, django_capture_on_commit_callbacks, eager_tasks
):
    # given
    client = client_for(exporter)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            "/api/v1/customer-exports/",
            {"file_format": "csv", "filters": {"search": "bo", "status": ["customer"]}},
            content_type="application/json",
        )
    job_url = f"/api/v1/customer-exports/{created.json()['id']}/"
    followed = client.get(job_url).json()

    # then
    assert created.status_code == 201, created.content
    assert created.json()["status"] == "queued"
    assert followed["status"] == "done"
    assert followed["progress"] == 100
    assert followed["rows_total"] == 1
    assert followed["download_url"] == f"http://testserver{job_url}download/"
    rows = downloaded_rows(client.get(f"{job_url}download/"))
    assert [row[1] for row in rows[1:]] == ["Bo"]


def test_the_api_refuses_bad_filters_and_lists_only_ones_own_jobs(exporter, client_for, rep):
    # given
    ExportJob.objects.create(requested_by=rep, file_format="csv")
    client = client_for(exporter)

    # when
    refused = client.post(
        "/api/v1/customer-exports/",
        {"filters": {"age_min": "old"}},
        content_type="application/json",
    )
    listed = client.get("/api/v1/customer-exports/").json()

    # then
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"] == {"age_min": ["Enter a whole number."]}
    assert listed["results"] == []


def test_the_api_refuses_a_list_over_the_row_limit(exporter, client_for, book, monkeypatch):
    # given
    monkeypatch.setattr(export, "EXPORT_ROW_LIMIT", 1)

    # when
    response = client_for(exporter).post(
        "/api/v1/customer-exports/", {}, content_type="application/json"
    )

    # then
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "export_too_large"
    assert not ExportJob.objects.exists()


def test_the_export_endpoints_are_in_the_schema(client_for, superuser):
    # given  # when
    schema = client_for(superuser).get("/api/v1/schema/", {"format": "json"}).json()

    # then
    assert "post" in schema["paths"]["/api/v1/customer-exports/"]
    assert "get" in schema["paths"]["/api/v1/customer-exports/{id}/"]
    assert "get" in schema["paths"]["/api/v1/customer-exports/{id}/download/"]


def test_the_admin_shows_export_jobs_read_only(client_for, superuser, exporter):
    # given
    job = ExportJob.objects.create(requested_by=exporter, file_format="csv")
    client = client_for(superuser)

    # when
    listed = client.get("/admin/customers/exportjob/")
    shown = client.get(f"/admin/customers/exportjob/{job.pk}/change/")

    # then
    assert listed.status_code == 200
    assert shown.status_code == 200
    assert "/admin/customers/exportjob/add/" not in listed.content.decode()
    assert 'name="_save"' not in shown.content.decode()


def test_the_file_shows_times_in_the_requesters_time_zone(exporter, client_for, rep, team):
    # given a marketer in Shanghai and a customer created at 18:30 UTC
    exporter.time_zone = "Asia/Shanghai"
    exporter.save()
    customer = CustomerFactory(name="Late", owner=rep, team=team)
    Customer.objects.filter(pk=customer.pk).update(
        created_at=datetime.datetime(2026, 3, 1, 18, 30, tzinfo=datetime.UTC)
    )
    client = client_for(exporter)

    # when the worker writes their export, outside any request of theirs
    started = export_start(client, "csv")

    # then the creation time is the next morning in Shanghai, as the pages show it
    rows = downloaded_rows(client.get(f"{started.url}download/"))
    created = rows[1][rows[0].index("Created")]
    assert created.startswith("2026-03-02 02:30"), created
