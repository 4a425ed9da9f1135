"""/api/v1/customer-imports/: upload, status with progress, report; permission, visibility,
error shape."""

import csv
import io
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.accounts import roles
from customers.models import Customer, ImportJob
from customers.services import importing
from tests.accounts.factories import UserFactory
from tests.customers.factories import ImportJobFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]

URL = "/api/v1/customer-imports/"
FILE = b"Name,Email,City\nAnn Lee,ann@example.com,Shanghai\nAnn Lee,ann@example.com,\nBo,x@\n"


@pytest.fixture
def marketer(team):
    user = UserFactory(username="marketer", roles=[roles.MARKETING])
    user.team_memberships.create(team=team)
    return user


def csv_upload(content: bytes = FILE, name: str = "customers.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def post(client, data, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(URL, data)


def test_upload_runs_the_import_then_status_and_report(
    client_for, marketer, team, django_capture_on_commit_callbacks
):
    # given
    client = client_for(marketer)

    # when the marketer uploads a file with a mapping and options
    created = post(
        client,
        {
            "file": csv_upload(),
            "mapping": json.dumps({"Name": "name", "Email": "email", "City": "custom"}),
            "options": json.dumps({"overwrite": False}),
        },
        django_capture_on_commit_callbacks,
    )

    # then the job exists and (eager on the embedded default) has run
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["original_name"] == "customers.csv"
    assert body["mapping"] == {"Name": "name", "Email": "email", "City": "custom"}
    assert body["options"] == {
        "keep_extra_columns": False,
        "overwrite": False,
        "date_order": "dmy",
        "dry_run": False,
    }

    # when the status is polled
    status = client.get(f"{URL}{body['id']}/").json()

    # then it shows the progress and the counts
    assert status["status"] == "completed"
    assert (status["total_rows"], status["processed_rows"], status["progress_percent"]) == (
        3,
        3,
        100,
    )
    assert (status["created_count"], status["merged_count"], status["rejected_count"]) == (1, 1, 1)
    assert status["report_url"].endswith(f"/api/v1/customer-imports/{body['id']}/report/")

    # and the report downloads as CSV
    report = client.get(status["report_url"])
    assert report.status_code == 200
    assert report["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(report.streaming_content).decode("utf-8-sig"))))
    assert [row["outcome"] for row in rows] == ["created", "merged", "rejected"]
    customer = Customer.objects.get()
    assert (customer.owner, customer.team) == (marketer, team)
    assert customer.custom_attributes == {"City": "Shanghai"}


def test_upload_without_a_mapping_guesses_it(
    client_for, marketer, django_capture_on_commit_callbacks
):
    created = post(client_for(marketer), {"file": csv_upload()}, django_capture_on_commit_callbacks)
    assert created.status_code == 201
    assert created.json()["mapping"] == {"Name": "name", "Email": "email", "City": "city"}
    assert Customer.objects.get().city == "Shanghai"


def test_without_the_import_permission_everything_is_forbidden(rep_client, rep):
    # given an import on record for a rep who lost the permission
    job = ImportJobFactory(owner=rep)

    # when  # then
    for response in (
        rep_client.post(URL, {"file": csv_upload()}),
        rep_client.get(URL),
        rep_client.get(f"{URL}{job.pk}/"),
        rep_client.get(f"{URL}{job.pk}/report/"),
    ):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
    assert ImportJob.objects.count() == 1


def test_the_service_itself_refuses_an_import_without_the_permission(rep):
    # given a rep without the import permission
    # when they reach the service directly, then it refuses and stores nothing
    with pytest.raises(PermissionDenied):
        importing.import_job_create(actor=rep, file=ContentFile(FILE, name="a.csv"))
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"file": csv_upload(b"PK\x03\x04zip")}, "file", "Excel workbook"),
        ({"file": csv_upload(b"")}, "file", "The submitted file is empty."),
        ({"file": csv_upload(), "mapping": '{"Name": "shoe"}'}, "mapping", "not a field"),
        ({"file": csv_upload(), "mapping": '{"Nope": "name"}'}, "mapping", "no column “Nope”"),
        ({"file": csv_upload(), "mapping": "{not json"}, "mapping", "Value must be valid JSON."),
        ({"file": csv_upload(), "options": '{"dry": true}'}, "options", "not an import option"),
        ({"file": csv_upload(), "options": '{"date_order": "ymd"}'}, "options", "“dmy” or “mdy”"),
        ({"file": csv_upload(), "status": "completed"}, "status", "Unknown field."),
    ],
)
def test_bad_uploads_answer_the_one_error_shape(client_for, marketer, data, field, message):
    # when
    response = client_for(marketer).post(URL, data)

    # then
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert message in " ".join(error["fields"][field])
    assert not ImportJob.objects.exists()


def test_people_see_their_own_imports_and_admins_see_all(client_for, marketer, manager, admin_user):
    # given an import by each of two people
    mine = importing.import_job_create(
        actor=marketer, file=ContentFile(FILE, name="mine.csv"), await_mapping=True
    )
    theirs = importing.import_job_create(
        actor=manager, file=ContentFile(FILE, name="theirs.csv"), await_mapping=True
    )

    # when  # then
    client = client_for(marketer)
    assert [job["id"] for job in client.get(URL).json()["results"]] == [mine.pk]
    assert client.get(f"{URL}{theirs.pk}/").status_code == 404
    listed = client_for(admin_user).get(URL).json()["results"]
    assert {job["id"] for job in listed} == {mine.pk, theirs.pk}


def test_report_of_an_unfinished_import_is_a_conflict(client_for, marketer):
    job = importing.import_job_create(
        actor=marketer, file=ContentFile(FILE, name="a.csv"), await_mapping=True
    )
    response = client_for(marketer).get(f"{URL}{job.pk}/report/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "report_not_ready"


def test_list_queries_are_bounded(client_for, marketer, django_assert_max_num_queries):
    for index in range(30):
        importing.import_job_create(
            actor=marketer, file=ContentFile(FILE, name=f"{index}.csv"), await_mapping=True
        )
    client = client_for(marketer)
    with django_assert_max_num_queries(8):
        response = client.get(URL)
    assert response.json()["count"] == 30
