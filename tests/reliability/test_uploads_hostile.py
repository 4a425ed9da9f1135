"""Hostile uploads: malformed and mis-encoded CSV, files over the limits, zip and image bombs,
spreadsheet formulas in exports, and markup in every text field a page shows."""

import csv
import io
import os
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import override_settings

from analytics.charts import Chart, Series, chart_csv_response
from collaboration.models import Attachment
from crm.accounts import roles
from customers.models import Customer, ImportJob
from customers.services import importing
from sales.models import Stage
from service.models import TicketAttachment
from service.services.tickets import ticket_reply
from tests.accounts.factories import UserFactory
from tests.collaboration.factories import ChatMembershipFactory, ChatMessageFactory, TaskFactory
from tests.customers.factories import CompanyFactory, CustomerFactory, InteractionFactory
from tests.sales.factories import DealFactory
from tests.service.factories import TicketFactory, TicketMessageFactory

pytestmark = pytest.mark.django_db

HEADER = b"Name,Email,City\n"
SCRIPT = "<script>alert(1)</script><img src=x onerror=alert(1)>"
RAW_TAGS = ("<script>alert(1)", "<img src=x onerror")


@pytest.fixture(autouse=True)
def own_media_root(settings, tmp_path):
    """Each test looks for files it must not have left behind: in a folder of its own, not the
    suite's shared one, which other tests' imports fill."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def marketer(team):
    user = UserFactory(username="marketer", roles=[roles.MARKETING])
    user.team_memberships.create(team=team)
    return user


@pytest.fixture
def marketer_client(client_for, marketer):
    return client_for(marketer)


def media_files() -> set[Path]:
    return {path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()}


def import_through_page(client, content: bytes, name: str = "people.csv"):
    return client.post("/customers/imports/new/", {"file": SimpleUploadedFile(name, content)})


def import_through_api(client, content: bytes, capture, name: str = "people.csv"):
    with capture(execute=True):
        return client.post(
            "/api/v1/customer-imports/",
            {"file": SimpleUploadedFile(name, content, content_type="text/csv")},
        )


def png(width: int, height: int, *, bit_depth: int = 8, colour_type: int = 2) -> bytes:
    """A PNG whose pixels are all zero: tiny on disk, `width` × `height` once decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    channels = {0: 1, 2: 3}[colour_type]
    row = b"\x00" * (1 + (width * channels * bit_depth + 7) // 8)
    compressor = zlib.compressobj(9)
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def zip_bomb(inner_name: str, *, megabytes: int) -> bytes:
    """A zip whose `inner_name` member expands to `megabytes` of zeros; a few KB on disk."""
    buffer = io.BytesIO()
    block = b"\x00" * (1024 * 1024)
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open(inner_name, "w", force_zip64=True) as member:
            for _ in range(megabytes):
                member.write(block)
    return buffer.getvalue()


# 1. Malformed CSV --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"Name,Email\x00\x01\x02\nAnn,ann@example.com\n", "This is a binary file"),
        (png(2, 2), "This is a binary file"),
        (b"PK\x03\x04\x14\x00\x06\x00rest-of-a-workbook", "Excel workbook"),
        (b"\n\n\n", "The file is empty."),
        (b",,\nAnn,ann@example.com,\n", "The first line of the file must name the columns."),
    ],
)
def test_a_file_that_is_not_csv_is_refused_at_upload_on_the_page_and_the_api(
    marketer_client, django_capture_on_commit_callbacks, content, message
):
    # when the file is uploaded through the page and through the API
    page = import_through_page(marketer_client, content)
    api = import_through_api(marketer_client, content, django_capture_on_commit_callbacks)

    # then both say why, and neither keeps a job, a file or a customer
    assert page.status_code == 200
    assert message in page.content.decode()
    assert api.status_code == 400
    assert message in api.content.decode()
    assert not ImportJob.objects.exists()
    assert not Customer.objects.exists()
    assert not list(Path(settings.MEDIA_ROOT).glob("imports/**/people*"))


def test_an_empty_file_is_refused_on_the_page_and_the_api(
    marketer_client, django_capture_on_commit_callbacks
):
    page = import_through_page(marketer_client, b"")
    api = import_through_api(marketer_client, b"", django_capture_on_commit_callbacks)

    assert "The submitted file is empty." in page.content.decode()
    assert api.status_code == 400
    assert "empty" in api.content.decode()
    assert not ImportJob.objects.exists()


def test_an_unbalanced_quote_fails_the_whole_import_naming_the_line(
    marketer_client, django_capture_on_commit_callbacks, eager_tasks
):
    # given a file whose third record opens a quote that never closes
    content = HEADER + b"Ann Lee,ann@example.com,Shanghai\n" + b'"Bo Li,bo@example.com,Beijing\n'
    content += b"Cy Wu,cy@example.com,Tianjin\n"

    # when
    response = import_through_api(marketer_client, content, django_capture_on_commit_callbacks)

    # then the import fails, says where, and not even the good first row was stored
    assert response.status_code == 201, response.content
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED
    assert "not valid CSV near line" in job.error
    assert "Nothing was imported" in job.error
    assert not Customer.objects.exists()
    assert not job.report


def test_ragged_rows_are_rejected_alone_and_named_in_the_report(
    marketer_client, django_capture_on_commit_callbacks, eager_tasks
):
    # given rows with too many values between good ones
    content = (
        HEADER
        + b"Ann Lee,ann@example.com,Shanghai\n"
        + b"Bo Li,bo@example.com,Beijing,extra,more\n"
        + b"Cy Wu,cy@example.com,Tianjin\n"
    )

    # when
    import_through_api(marketer_client, content, django_capture_on_commit_callbacks)

    # then the ragged row alone is rejected, with its row number and the reason
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.COMPLETED
    with job.report.open("rb") as report:
        rows = list(csv.DictReader(io.TextIOWrapper(report, encoding="utf-8-sig")))
    rejected = [row for row in rows if row["outcome"] == "rejected"]
    assert [(row["row"], row["reason"]) for row in rejected] == [
        ("3", "the row has 5 values but the header has 3 columns")
    ]
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["Ann Lee", "Cy Wu"]


def test_a_header_only_file_imports_nothing_and_says_so(
    marketer_client, django_capture_on_commit_callbacks, eager_tasks
):
    import_through_api(marketer_client, HEADER, django_capture_on_commit_callbacks)

    job = ImportJob.objects.get()
    assert job.total_rows == 0
    assert job.created_count == 0
    assert not Customer.objects.exists()


# 2. Encodings ------------------------------------------------------------------------------------

NAMES = {
    "western": "Zoë Müller,zoe@example.de,München\nJosé Núñez,jose@example.es,Málaga\n",
    "chinese": "王芳,wang.fang@example.cn,上海\n李娜,li.na@example.cn,北京\n",
}


def import_text(content: bytes) -> ImportJob:
    job = importing.import_job_create(
        actor=None, file=SimpleUploadedFile("people.csv", content), options={}
    )
    importing.import_job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (NAMES["western"], "utf-8"),
        (NAMES["western"], "utf-8-sig"),
        (NAMES["western"], "utf-16"),
        (NAMES["western"], "cp1252"),
        (NAMES["western"], "latin-1"),
        (NAMES["chinese"], "utf-8"),
        (NAMES["chinese"], "utf-8-sig"),
        (NAMES["chinese"], "utf-16"),
        (NAMES["chinese"], "gbk"),
        (NAMES["chinese"], "gb18030"),
    ],
)
def test_names_arrive_intact_in_every_encoding_excel_writes(text, encoding):
    # when
    job = import_text(("Name,Email,City\n" + text).encode(encoding))

    # then
    assert job.status == ImportJob.Status.COMPLETED, job.error
    expected = {tuple(line.split(",")[::2]) for line in text.splitlines()}
    assert set(Customer.objects.values_list("name", "city")) == expected


def test_a_latin1_name_with_a_letter_after_each_accent_is_not_read_as_chinese():
    # given bytes that GB18030 would also decode ("Crème" as "Cr鑝e")
    job = import_text("Name,City\nCrème Brûlée,Kåre Øster\n".encode("latin-1"))

    assert job.status == ImportJob.Status.COMPLETED, job.error
    assert Customer.objects.get().name == "Crème Brûlée"


def test_a_western_file_whose_accents_come_late_is_still_read_as_western(monkeypatch):
    # given a cp1252 file whose first part, used to guess, is plain ASCII
    monkeypatch.setattr("customers.importing.reading.SAMPLE_BYTES", 40)
    text = "Name,Email,City\nAnn Lee,ann@example.com,Leeds\nFrançoise Müller,fm@example.fr,Nîmes\n"

    job = import_text(text.encode("cp1252"))

    assert job.status == ImportJob.Status.COMPLETED, job.error
    assert Customer.objects.filter(name="Françoise Müller", city="Nîmes").exists()


def test_bytes_that_read_as_no_known_encoding_are_refused_naming_the_encodings(marketer_client):
    # given UTF-8 Chinese with stray bytes: not UTF-8, and gibberish in the legacy encodings
    content = b"Name,Email\n" + "王芳".encode() + b"\xff\xfe\xfa,x@example.cn\n"

    response = import_through_page(marketer_client, content)

    assert "neither UTF-8, GB18030/GBK nor Windows-1252" in response.content.decode()
    assert not ImportJob.objects.exists()


# 3. Files over the limits ------------------------------------------------------------------------


def test_an_import_over_its_limit_is_refused_before_anything_is_stored(
    marketer_client, monkeypatch
):
    monkeypatch.setattr(importing, "MAX_IMPORT_BYTES", 100)
    before = media_files()

    response = import_through_page(marketer_client, HEADER + b"Ann Lee,ann@example.com,Leeds\n" * 9)

    assert "The file is larger than" in response.content.decode()
    assert not ImportJob.objects.exists()
    assert media_files() == before


@override_settings(CRM_UPLOAD_MAX_BYTES=1024)
def test_a_record_attachment_over_the_limit_is_refused_and_not_stored(rep, rep_client):
    customer = CustomerFactory(owner=rep, team=rep.teams.first())
    before = media_files()

    response = rep_client.post(
        f"/collaboration/records/customers.customer/{customer.pk}/files/",
        {"files": SimpleUploadedFile("notes.txt", b"a" * 2048)},
    )

    assert response.status_code == 400
    assert "is too big: a file may be at most" in response.content.decode()
    assert not Attachment.objects.exists()
    assert media_files() == before


@override_settings(CRM_UPLOAD_MAX_BYTES=1024)
def test_a_ticket_attachment_over_the_limit_is_refused_and_not_stored(team):
    agent = UserFactory(username="agent", roles=[roles.SERVICE_AGENT])
    agent.team_memberships.create(team=team)
    ticket = TicketFactory(customer=CustomerFactory(team=team), team=team, assignee=agent)
    before = media_files()

    with pytest.raises(ValidationError) as refused:
        ticket_reply(
            actor=agent,
            ticket=ticket,
            body="See attached",
            attachments=[SimpleUploadedFile("log.txt", b"a" * 2048)],
        )

    assert "is too big: a file may be at most" in " ".join(refused.value.messages)
    assert not TicketAttachment.objects.exists()
    assert media_files() == before


@override_settings(CRM_UPLOAD_MAX_BYTES=1024)
def test_an_avatar_over_the_limit_is_refused_and_not_stored(rep, rep_client):
    before = media_files()

    response = rep_client.post(
        "/accounts/profile/",
        {"avatar": SimpleUploadedFile("me.png", png(200, 200) + b"\x00" * 2048)},
    )

    assert "is too big: a file may be at most" in response.content.decode()
    rep.refresh_from_db()
    assert not rep.avatar
    assert media_files() == before


# 4. Zip and image bombs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "inner"),
    [("report.xlsx", "xl/workbook.xml"), ("contract.docx", "word/document.xml")],
)
def test_a_zip_bomb_is_stored_as_it_came_and_only_ever_downloaded(rep, rep_client, name, inner):
    # given an Office file whose part expands to a gigabyte
    bomb = zip_bomb(inner, megabytes=1024)
    assert len(bomb) < 2 * 1024 * 1024
    customer = CustomerFactory(owner=rep, team=rep.teams.first())

    # when it is attached
    response = rep_client.post(
        f"/collaboration/records/customers.customer/{customer.pk}/files/",
        {"files": SimpleUploadedFile(name, bomb)},
    )

    # then it is stored byte for byte, never expanded, and comes back as a download even when
    # asked to be shown inline
    assert response.status_code == 302, response.content
    attachment = Attachment.objects.get()
    assert attachment.size == len(bomb)
    with attachment.file.open("rb") as stored:
        assert stored.read() == bomb
    download = rep_client.get(f"/collaboration/files/{attachment.pk}/download/?inline=1")
    assert download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content) == bomb


def test_a_decompression_bomb_avatar_is_refused_with_a_reason(rep, rep_client):
    # given a PNG of a few KB that decodes to 30 000 × 30 000 pixels
    bomb = png(30_000, 30_000, bit_depth=1, colour_type=0)
    assert len(bomb) < 1024 * 1024
    before = media_files()

    # when
    response = rep_client.post("/accounts/profile/", {"avatar": SimpleUploadedFile("me.png", bomb)})

    # then
    assert "This picture has too many pixels" in response.content.decode()
    rep.refresh_from_db()
    assert not rep.avatar
    assert media_files() == before


def test_an_avatar_just_over_the_pixel_limit_is_refused_where_pillow_only_warns(rep, rep_client):
    response = rep_client.post(
        "/accounts/profile/",
        {"avatar": SimpleUploadedFile("me.png", png(4097, 4096, bit_depth=1, colour_type=0))},
    )

    assert "This picture has too many pixels" in response.content.decode()
    rep.refresh_from_db()
    assert not rep.avatar


def test_an_avatar_that_is_not_a_picture_is_refused(rep, rep_client):
    response = rep_client.post(
        "/accounts/profile/",
        {"avatar": SimpleUploadedFile("me.pdf", b"%PDF-1.4\n1 0 obj\n<< >>\nendobj\n")},
    )

    assert "An avatar must be a picture" in response.content.decode()


def test_a_reasonable_avatar_is_stored(rep, rep_client):
    response = rep_client.post(
        "/accounts/profile/", {"avatar": SimpleUploadedFile("me.png", png(64, 64))}
    )

    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.avatar.name.startswith("avatars/")
    assert os.path.exists(rep.avatar.path)


# 5. Formula injection in exports -----------------------------------------------------------------

FORMULA = '=HYPERLINK("http://evil.example","click")'


def csv_cells(response) -> list[str]:
    body = (
        b"".join(response.streaming_content) if response.streaming else response.content
    ).decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(body)) for cell in row]


def assert_no_formula(cells: list[str]) -> None:
    dangerous = [cell for cell in cells if cell[:1] in ("=", "+", "@", "\t", "\r")]
    assert not dangerous
    assert any(cell.startswith("'=HYPERLINK") for cell in cells)


def test_the_sales_report_csv_escapes_a_rep_name_that_is_a_formula(manager, client_for, team):
    # given a lost deal whose owner's name is a formula, with the report grouped by rep
    manager.display_name = FORMULA
    manager.save(update_fields=["display_name"])
    deal = DealFactory(owner=manager, team=team)
    deal.stage = deal.pipeline.stages.get(kind=Stage.Kind.LOST)
    deal.closed_at = deal.stage_entered_at
    deal.save()

    # when
    response = client_for(manager).get(
        "/sales/reports/csv/", {"report": "lost_reasons", "group": "rep"}
    )

    # then
    assert response.status_code == 200, response.content
    assert_no_formula(csv_cells(response))


def test_a_chart_csv_escapes_labels_that_are_formulas():
    chart = Chart(
        key="by-city",
        title="By city",
        kind="bar",
        labels=[FORMULA],
        series=[Series(label="@SUM(A1:A9)", data=[1])],
    )

    cells = csv_cells(chart_csv_response(chart))

    assert_no_formula(cells)
    assert "'@SUM(A1:A9)" in cells


# 6. Markup in every text field -------------------------------------------------------------------


def hostile(instance: models.Model, *, skip: tuple[str, ...] = ()) -> models.Model:
    """`instance` with SCRIPT (cut to fit) in every free-text field."""
    for field in instance._meta.concrete_fields:
        if (
            isinstance(field, models.CharField | models.TextField)
            and not field.choices
            and field.name not in skip
            and (field.max_length or 999) >= len("<script>")
        ):
            setattr(instance, field.attname, SCRIPT[: field.max_length or len(SCRIPT)])
    instance.save()
    return instance


def assert_escaped(response) -> None:
    assert response.status_code == 200, response.status_code
    page = response.content.decode()
    for tag in RAW_TAGS:
        assert tag not in page, page[max(0, page.find(tag) - 300) : page.find(tag) + 100]


def test_markup_in_every_text_field_is_shown_as_text_on_every_page(admin_user, client_for, team):
    # given records whose every free-text field holds a script
    company = hostile(CompanyFactory(team=team, owner=admin_user))
    customer = hostile(
        CustomerFactory(team=team, owner=admin_user, company=company),
        skip=("email", "phone"),
    )
    hostile(InteractionFactory(customer=customer))
    deal = hostile(DealFactory(customer=customer, team=team, owner=admin_user))
    ticket = hostile(
        TicketFactory(customer=customer, team=team, assignee=admin_user), skip=("number",)
    )
    hostile(TicketMessageFactory(ticket=ticket, author=admin_user))
    task = hostile(TaskFactory(team=team, assignee=admin_user))
    membership = ChatMembershipFactory(user=admin_user)
    hostile(membership.room)
    hostile(ChatMessageFactory(room=membership.room, author=admin_user))
    client = client_for(admin_user)

    # when each page that shows them is rendered, then the markup is escaped
    for url in [
        f"/customers/{customer.pk}/",
        f"/customers/{customer.pk}/timeline/",
        "/customers/",
        "/customers/interactions/",
        f"/customers/companies/{company.pk}/",
        "/customers/companies/",
        f"/sales/deals/{deal.pk}/",
        "/sales/board/",
        f"/service/tickets/{ticket.pk}/",
        "/service/tickets/",
        f"/collaboration/tasks/{task.pk}/",
        "/collaboration/tasks/",
        "/collaboration/tasks/board/",
        f"/collaboration/chat/{membership.room.pk}/",
        f"/collaboration/chat/{membership.room.pk}/history/",
    ]:
        assert_escaped(client.get(url))
