"""De-duplication: within the file and against the database, likely duplicates, and what a
person may learn about customers they cannot see."""

import csv
import io

import pytest
from django.core.files.base import ContentFile
from django.db import connection

from crm.accounts.services import record_share
from customers.importing import pipeline
from customers.models import Customer, ImportJob
from customers.services import importing
from tests.customers.factories import CompanyFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def import_text(text: str, *, actor=None, **options) -> tuple[ImportJob, list[dict]]:
    job = importing.import_job_create(
        actor=actor, file=ContentFile(text.encode(), name="customers.csv"), options=options
    )
    importing.import_job_run(job_id=job.pk)
    job.refresh_from_db()
    with job.report.open("rb") as report:
        return job, list(csv.DictReader(io.TextIOWrapper(report, encoding="utf-8-sig")))


def outcomes(report: list[dict]) -> list[tuple[str, str]]:
    return [(row["outcome"], row["merged_into_row"]) for row in report]


# Against the database -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("External Id", "SF-001"),
        ("Email", " ANN.Lee@Example.com"),
        ("Mobile", "138 0013 8000"),
    ],
)
def test_same_external_id_email_or_phone_is_the_same_customer(header, value):
    # given an existing customer, without a job title
    existing = CustomerFactory(
        name="Ann Lee", external_id="SF-001", email="ann.lee@example.com", phone="+8613800138000"
    )

    # when a row names them by one key only, with a job title
    _job, report = import_text(f"Name,{header},Job Title\nAnn Lee,{value},CTO\n")

    # then the existing customer is updated, not duplicated
    assert Customer.objects.count() == 1
    assert report[0]["outcome"] == "updated"
    assert report[0]["customer_id"] == str(existing.pk)
    assert report[0]["changed_fields"] == "job_title"
    existing.refresh_from_db()
    assert existing.job_title == "CTO"


def test_matching_rows_fill_blank_fields_and_never_overwrite_filled_ones():
    # given
    existing = CustomerFactory(email="ann@example.com", city="Shanghai", job_title="", gender="")

    # when
    _job, report = import_text("Email,City,Job Title,Gender\nann@example.com,Beijing,CTO,F\n")

    # then blanks are filled, the city stays, and the report says so
    existing.refresh_from_db()
    assert (existing.city, existing.job_title, existing.gender) == ("Shanghai", "CTO", "female")
    assert report[0]["changed_fields"] == "job_title gender"
    assert report[0]["notes"] == "kept the existing city"


def test_overwrite_replaces_filled_fields_when_asked():
    # given
    existing = CustomerFactory(email="ann@example.com", city="Shanghai", tier="normal")

    # when
    _job, report = import_text("Email,City,Tier\nann@example.com,Beijing,VIP\n", overwrite=True)

    # then
    existing.refresh_from_db()
    assert (existing.city, existing.tier) == ("Beijing", "vip")
    assert report[0]["outcome"] == "updated"


def test_a_row_that_changes_nothing_is_unchanged():
    CustomerFactory(email="ann@example.com", city="Shanghai")
    _job, report = import_text("Email,City\nann@example.com,Shanghai\n")
    assert report[0]["outcome"] == "unchanged"


def test_external_id_is_trusted_before_email_and_email_before_phone():
    # given two customers, one with the external id and one with the email the row carries
    by_id = CustomerFactory(external_id="SF-9", email="", phone="")
    by_email = CustomerFactory(email="ann@example.com", phone="+8613800138000")

    # when
    _job, report = import_text("External Id,Email,Phone\nSF-9,ann@example.com,13800138000\n")

    # then the external id wins; the email and phone of the other customer are not copied
    by_id.refresh_from_db()
    assert report[0]["customer_id"] == str(by_id.pk)
    assert (by_id.email, by_id.phone) == ("", "")
    assert report[0]["notes"] == (
        f"Email belongs to another customer (#{by_email.pk}); not copied; "
        f"Phone belongs to another customer (#{by_email.pk}); not copied"
    )


# Within the file ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "first", "second"),
    [
        ("External Id", "SF-1", "SF-1"),
        ("Email", "ann@example.com", "ANN@example.com "),
        ("Mobile", "13800138000", "+86 138-0013-8000"),
    ],
)
def test_later_rows_of_the_same_customer_merge_into_the_first(header, first, second):
    # when two rows share a key; the second has a job title the first lacks
    text = f"Name,{header},Job Title\nAnn Lee,{first},\nAnn L.,{second},CTO\n"
    _job, report = import_text(text)

    # then one customer, named by the first row, with the second row's blank-filling value
    assert outcomes(report) == [("created", ""), ("merged", "2")]
    customer = Customer.objects.get()
    assert (customer.name, customer.job_title) == ("Ann Lee", "CTO")
    assert report[1]["customer_id"] == str(customer.pk)


def test_rows_of_one_customer_merge_across_batches(monkeypatch):
    # given batches of two rows and a duplicate in the third batch
    monkeypatch.setattr(pipeline, "BATCH_ROWS", 2)
    text = (
        "Name,Email,Phone\n"
        "Ann Lee,ann@example.com,\n"
        "Bo Li,bo@example.com,\n"
        "Cy Wu,cy@example.com,\n"
        "Di Ma,di@example.com,\n"
        "Ann Lee,ann@example.com,13800138000\n"
    )

    # when
    _job, report = import_text(text)

    # then
    assert outcomes(report)[-1] == ("merged", "2")
    assert Customer.objects.count() == 4
    assert Customer.objects.get(email="ann@example.com").phone == "+8613800138000"


def test_a_row_matching_a_customer_claimed_by_another_key_merges_into_that_row():
    # given an existing customer with email and phone
    existing = CustomerFactory(email="ann@example.com", phone="+8613800138000", job_title="")

    # when one row finds them by email and a later one by phone
    _job, report = import_text("Email,Phone,Job Title\nann@example.com,,\n,13800138000,CTO\n")

    # then
    assert outcomes(report) == [("unchanged", ""), ("merged", "2")]
    existing.refresh_from_db()
    assert existing.job_title == "CTO"


def test_a_row_whose_keys_point_at_two_rows_merges_into_the_first_and_says_so():
    text = (
        "Name,Email,Mobile\n"
        "Ann Lee,ann@example.com,\n"
        "Bo Li,,13800138000\n"
        "Ann Lee,ann@example.com,13800138000\n"
    )
    _job, report = import_text(text)
    assert outcomes(report) == [("created", ""), ("created", ""), ("merged", "2")]
    assert report[2]["notes"] == "Mobile also matches row 3, which was not merged"
    assert Customer.objects.get(name="Ann Lee").phone == ""


# Likely duplicates --------------------------------------------------------------------------


def test_a_similar_name_in_the_same_company_or_city_is_reported_not_merged():
    # given existing customers at a company and in a city
    acme = CompanyFactory(name="Acme")
    at_acme = CustomerFactory(name="John Smith", company=acme, city="Austin")
    in_city = CustomerFactory(name="Zoe Martin", city="Chicago")
    CustomerFactory(name="Mary Jones", city="Boston")

    # when rows spell those names differently, with other emails
    text = (
        "Name,Email,Company,City\n"
        '"SMITH, John",js@example.com,acme,Dallas\n'
        "martin  zoë,zm@example.com,,chicago\n"
        "Mary Jones,mj@example.com,,Denver\n"
    )
    _job, report = import_text(text)

    # then all are created, the first two flagged as likely duplicates
    assert [row["outcome"] for row in report] == ["created", "created", "created"]
    assert (
        report[0]["notes"] == f"likely duplicate of customer #{at_acme.pk} (same name and company)"
    )
    assert report[1]["notes"] == f"likely duplicate of customer #{in_city.pk} (same name and city)"
    assert report[2]["notes"] == ""
    assert Customer.objects.count() == 6


@pytest.mark.postgres
def test_the_likely_duplicate_search_leaves_the_planner_settings_as_it_found_them():
    # given an existing customer, and a session whose planner settings are its own
    CustomerFactory(name="John Smith", city="Austin")
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = on; SET jit = on")

        # when a row with the same name and city is imported
        _job, report = import_text("Name,Email,City\nJohn Smith,js@example.com,Austin\n")

        # then it is flagged, and the session's settings are back after the batch
        cursor.execute("SELECT current_setting('enable_seqscan'), current_setting('jit')")
        settings_after = cursor.fetchone()
    assert report[0]["notes"].startswith("likely duplicate of customer #")
    assert settings_after == ("on", "on")


def test_similar_names_within_the_file_are_reported():
    text = "Name,Email,City\nAnn Lee,a1@example.com,Shanghai\nLEE Ann,a2@example.com,shanghai\n"
    _job, report = import_text(text)
    assert [row["outcome"] for row in report] == ["created", "created"]
    assert report[1]["notes"] == "likely duplicate of row 2 (same name and city)"


# Visibility -----------------------------------------------------------------------------------


def test_a_match_the_importer_cannot_see_is_rejected_untouched_and_unrevealed(
    manager, other_team_rep, other_team
):
    # given a customer of another team, which the manager cannot see
    hidden = CustomerFactory(
        name="Secret Person",
        email="secret@example.com",
        owner=other_team_rep,
        team=other_team,
        job_title="",
    )

    # when the manager imports a row with that email
    _job, report = import_text(
        "Name,Email,Job Title\nS. P.,secret@example.com,CTO\n", actor=manager
    )

    # then no duplicate is created, the customer is not changed, and nothing of them is shown
    assert Customer.objects.count() == 1
    hidden.refresh_from_db()
    assert hidden.job_title == ""
    assert report[0]["outcome"] == "rejected"
    assert report[0]["column"] == "Email"
    assert report[0]["customer_id"] == ""
    assert "matches an existing customer you cannot change" in report[0]["reason"]
    assert "Secret" not in str(report)
    assert str(hidden.pk) not in str(report)


def test_a_match_shared_view_only_is_rejected_untouched(manager, other_team_rep, other_team):
    # given another team's customer shared with the manager to view, not to edit
    shared = CustomerFactory(
        email="viewonly@example.com", owner=other_team_rep, team=other_team, job_title=""
    )
    record_share(record=shared, shared_by=other_team_rep, user=manager, access="read")

    # when the manager imports a row with that email
    _job, report = import_text(
        "Name,Email,Job Title\nV. O.,viewonly@example.com,CTO\n", actor=manager
    )

    # then the customer is not changed
    shared.refresh_from_db()
    assert shared.job_title == ""
    assert report[0]["outcome"] == "rejected"
    assert "you cannot change" in report[0]["reason"]


def test_a_match_the_importer_can_see_is_updated(manager, rep, team):
    visible = CustomerFactory(email="ann@example.com", owner=rep, team=team, job_title="")
    _job, report = import_text("Email,Job Title\nann@example.com,CTO\n", actor=manager)
    assert report[0]["outcome"] == "updated"
    visible.refresh_from_db()
    assert visible.job_title == "CTO"


def test_an_admin_sees_and_updates_every_match(admin_user, other_team_rep):
    hidden = CustomerFactory(email="secret@example.com", owner=other_team_rep, job_title="")
    _job, report = import_text("Email,Job Title\nsecret@example.com,CTO\n", actor=admin_user)
    assert report[0]["outcome"] == "updated"
    hidden.refresh_from_db()
    assert hidden.job_title == "CTO"


def test_likely_duplicates_the_importer_cannot_see_are_not_reported(manager, other_team_rep):
    # given a customer of another team with a similar name in the same city
    CustomerFactory(name="Ann Lee", city="Shanghai", owner=other_team_rep)

    # when
    _job, report = import_text("Name,Email,City\nAnn Lee,new@example.com,Shanghai\n", actor=manager)

    # then the new customer is created and nothing is said about the hidden one
    assert report[0]["outcome"] == "created"
    assert "likely duplicate" not in report[0]["notes"]


def test_a_key_of_a_customer_the_importer_cannot_see_is_not_copied_and_not_named(
    manager, rep, other_team_rep
):
    # given a visible customer matched by email and a hidden one holding the row's phone
    visible = CustomerFactory(email="ann@example.com", phone="", owner=rep)
    hidden = CustomerFactory(email="", phone="+8613800138000", owner=other_team_rep)

    # when
    _job, report = import_text("Email,Phone\nann@example.com,13800138000\n", actor=manager)

    # then the phone is not copied, and the note gives no id
    visible.refresh_from_db()
    assert visible.phone == ""
    assert report[0]["notes"] == "Phone belongs to another customer; not copied"
    assert str(hidden.pk) not in report[0]["notes"]
