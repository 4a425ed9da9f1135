"""Every change of a business record is kept with who, when and from where, and shown on the
record's page to those who may see the record (less the fields they may not see)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from crm.accounts import roles
from crm.accounts.services import api_token_create
from crm.audit.selectors import record_history_list
from customers.models import Company
from tests.accounts.factories import TeamMembershipFactory, UserFactory
from tests.customers.factories import CompanyFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def history_url(record) -> str:
    return reverse("audit:record_history", args=[record._meta.label_lower, record.pk])


def test_a_page_edit_keeps_who_when_and_from_where(rep, rep_client):
    # given a company of the rep's
    company = CompanyFactory(name="Blue Summit", owner=rep, city="Beijing")

    # when the rep renames it on its page
    response = rep_client.post(
        f"/customers/companies/{company.pk}/edit/",
        {"name": "Blue Summit Labs", "city": "Shanghai", "owner": rep.pk},
        REMOTE_ADDR="203.0.113.7",
        HTTP_USER_AGENT="Firefox/140",
    )

    # then the change is kept with the rep, their address and browser, and no token
    assert response.status_code == 302
    change = company.history.order_by("-history_id").first()
    assert change.history_type == "~"
    assert change.history_user == rep
    assert (change.history_ip_address, change.history_user_agent) == ("203.0.113.7", "Firefox/140")
    assert change.history_api_token == ""
    assert change.prev_record.name == "Blue Summit" and change.name == "Blue Summit Labs"


def test_an_api_edit_keeps_the_token_it_was_made_with(rep, client):
    # given a customer of the rep's and a token of theirs
    customer = CustomerFactory(name="Ada", owner=rep)
    token, plain = api_token_create(user=rep, name="Script")

    # when the token patches the customer
    response = client.patch(
        f"/api/v1/customers/{customer.pk}/",
        {"job_title": "Engineer"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {plain}",
        REMOTE_ADDR="198.51.100.2",
    )

    # then the change names the rep and the token's prefix
    assert response.status_code == 200, response.content
    change = customer.history.order_by("-history_id").first()
    assert (change.history_user, change.history_api_token) == (rep, token.prefix)
    assert change.history_ip_address == "198.51.100.2"


def test_the_history_tab_shows_old_and_new_values_newest_first(rep, rep_client):
    # given a customer created, then changed twice
    customer = CustomerFactory(name="Ada", owner=rep, job_title="Analyst")
    customer.job_title = "Engineer"
    customer.save()
    customer.name = "Ada Lovelace"
    customer.save()

    # when the rep opens the history
    response = rep_client.get(history_url(customer))

    # then the newest change comes first, with each field's old and new value
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Ada Lovelace") < html.index("Engineer")
    assert "<del>Analyst</del>" in html and "<ins>Engineer</ins>" in html
    assert "<del>Ada</del>" in html and "<ins>Ada Lovelace</ins>" in html


def test_fields_hidden_from_a_role_are_left_out_of_the_history(team):
    # given an agent (who may not see private notes or identity numbers, by default rules)
    agent = UserFactory(username="agent", roles=[roles.SERVICE_AGENT])
    TeamMembershipFactory(team=team, user=agent)
    customer = CustomerFactory(name="Ada", team=team, private_notes="Owes us a favour")
    customer.private_notes = "Secret plans"
    customer.save()

    # when the agent reads the history
    page = record_history_list(record=customer, user=agent)

    # then the hidden field's change is not there: the save shows with no visible change
    latest = page.object_list[0]
    assert latest.kind == "~" and latest.changes == []
    labels = {change.label for entry in page.object_list for change in entry.changes}
    assert "private notes" not in labels and "name" in labels


def test_someone_who_cannot_see_the_record_gets_404(rep, other_team_rep, client_for):
    # given a customer of another team's rep
    theirs = CustomerFactory(owner=other_team_rep)

    # when the rep asks for its history, or for a kind that shows none
    response = client_for(rep).get(history_url(theirs))
    unknown = client_for(rep).get(
        reverse("audit:record_history", args=["customers.tag", theirs.pk])
    )

    # then both are 404
    assert response.status_code == 404
    assert unknown.status_code == 404


def test_the_record_page_has_a_history_section(rep, rep_client):
    # given a company of the rep's
    company = CompanyFactory(owner=rep)

    # when the rep opens its page
    html = rep_client.get(f"/customers/companies/{company.pk}/").content.decode()

    # then the page loads its history section
    assert f'hx-get="{history_url(company)}"' in html


def test_the_history_tab_reads_a_page_in_a_fixed_number_of_queries(
    rep, rep_teammate, rep_client, django_assert_max_num_queries
):
    # given a customer changed many times, passed between two owners
    customer = CustomerFactory(name="Ada", owner=rep)
    for number in range(30):
        customer.name = f"Ada {number}"
        customer.owner = rep_teammate if number % 2 else rep
        customer.save()
    rep_client.get(history_url(customer))  # session and permission caches warmed

    # when a page is read, then the queries do not grow with the rows on it
    with django_assert_max_num_queries(14):
        response = rep_client.get(history_url(customer))
    assert response.status_code == 200
    assert response.content.decode().count("data-history-entry=") == 20


def test_the_oldest_change_on_a_page_is_compared_with_the_row_before_it(rep):
    # given a company changed 21 times (22 rows: a page of 20 and two more)
    company = CompanyFactory(name="v0", owner=rep)
    for number in range(1, 22):
        Company.objects.get(pk=company.pk)
        company.name = f"v{number}"
        company.save()

    # when the first page is read
    page = record_history_list(record=company, user=rep)

    # then its last entry still shows what it changed from
    oldest = page.object_list[-1]
    assert [(c.old, c.new) for c in oldest.changes if c.label == "name"] == [("v1", "v2")]


def test_dates_times_and_amounts_are_shown_as_the_viewer_writes_them(rep, rep_client):
    # given a rep in Shanghai, and a customer whose birthday, consent time and income changed
    rep.time_zone = "Asia/Shanghai"
    rep.save()
    customer = CustomerFactory(owner=rep, birthday=None, annual_income=None)
    customer.birthday = datetime.date(1963, 11, 21)
    customer.marketing_consent_at = datetime.datetime(2026, 3, 1, 18, 30, tzinfo=datetime.UTC)
    customer.annual_income = Decimal("43800.50")
    customer.save()

    # when the rep opens the history
    html = rep_client.get(history_url(customer)).content.decode()

    # then the date, the time (in Shanghai, the next morning) and the amount read naturally
    assert "<ins>11/21/1963</ins>" in html
    assert "<ins>03/02/2026 2:30 a.m.</ins>" in html
    assert "<ins>43,800.50</ins>" in html
    assert "2026-03-01 18:30" not in html
