"""Export of a customer list to CSV and Excel: the list's filters and order, the visibility rule,
the export permission, formula injection, the row limit; from the page (a background job, see
also test_export_jobs) and the API's streamed CSV."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from openpyxl import load_workbook

from crm.accounts import roles
from tests.accounts.factories import UserFactory
from tests.customers.export_downloads import export_download
from tests.customers.factories import CompanyFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def column(rows: list[list[str]], heading: str) -> list[str]:
    index = rows[0].index(heading)
    return [row[index] for row in rows[1:]]


@pytest.fixture
def exporter(team):
    """A marketer in the rep's team: Marketing may export."""
    user = UserFactory(username="marketer", roles=[roles.MARKETING])
    team.memberships.create(user=user)
    return user


@pytest.fixture
def book(rep, team, other_team_rep, other_team):
    company = CompanyFactory(name="Blue Summit Labs")
    CustomerFactory(
        name="Ada",
        owner=rep,
        team=team,
        status="customer",
        company=company,
        birthday=date(1985, 3, 2),
        total_spend=Decimal("1234.50"),
        phone="+8613800138000",
    ).tags.create(name="wechat")
    CustomerFactory(name="Bo", owner=rep, team=team, status="customer", job_title="@SUM(A1)")
    CustomerFactory(name='=HYPERLINK("http://evil")', owner=rep, team=team, status="lead")
    CustomerFactory(name="Theirs", owner=other_team_rep, team=other_team, status="customer")


def test_csv_export_has_the_lists_filters_order_and_visibility(exporter, client_for, book):
    # given a marketer of the rep's team  # when they export the customers, Z to A
    response = export_download(
        client_for(exporter), "csv", {"status": "customer", "ordering": "-name"}
    )

    # then a download of what their list shows, in that order, with headings
    assert response["Content-Disposition"].startswith('attachment; filename="customers-')
    rows = csv_rows(response)
    assert rows[0][:3] == ["ID", "Name", "Gender"]
    assert column(rows, "Name") == ["Bo", "Ada"]
    assert column(rows, "Company") == ["", "Blue Summit Labs"]
    assert column(rows, "Tags") == ["", "wechat"]
    assert column(rows, "Total spend") == ["0.00", "1234.50"]
    assert column(rows, "Birthday") == ["", "1985-03-02"]
    assert column(rows, "Lifecycle status") == ["Customer", "Customer"]


def test_cells_that_would_be_formulas_are_escaped(exporter, client_for, book):
    # given customers whose name, job title and phone start with =, @ and +  # when
    rows = csv_rows(export_download(client_for(exporter), "csv"))

    # then a spreadsheet shows them as text
    assert column(rows, "Name") == ['\'=HYPERLINK("http://evil")', "Ada", "Bo"]
    assert column(rows, "Job title") == ["", "", "'@SUM(A1)"]
    assert column(rows, "Phone")[1] == "'+8613800138000"


def test_excel_export_is_a_workbook_with_typed_and_escaped_cells(exporter, client_for, book):
    # given  # when
    response = export_download(client_for(exporter), "xlsx", {"ordering": "name"})

    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    headings = rows[0]
    ada = dict(zip(headings, rows[2], strict=True))
    assert [row[1] for row in rows[1:]] == ['\'=HYPERLINK("http://evil")', "Ada", "Bo"]
    assert ada["Total spend"] == 1234.5
    assert ada["Birthday"].date() == date(1985, 3, 2)
    assert ada["Phone"] == "'+8613800138000"
    assert all(sheet.cell(row=2, column=index).data_type != "f" for index in range(1, 27))


def test_export_needs_the_export_permission(rep_client, book):
    # given a rep, whose role may see customers but not export them  # when  # then
    assert rep_client.post("/customers/export/csv/").status_code == 403
    assert rep_client.get("/api/v1/customers/export/").status_code == 403


def test_an_unknown_format_is_404(exporter, client_for):
    # given  # when  # then
    assert client_for(exporter).post("/customers/export/pdf/").status_code == 404


def test_invalid_filters_send_the_user_back_to_the_list(exporter, client_for):
    # given  # when
    response = client_for(exporter).post("/customers/export/csv/?status=royalty", follow=True)

    # then
    assert response.redirect_chain == [("/customers/?status=royalty", 302)]
    assert "Correct the filters before exporting." in response.content.decode()
    assert "Select a valid choice." in response.content.decode()


def test_a_list_over_the_row_limit_is_refused_with_a_message(
    exporter, client_for, book, monkeypatch
):
    # given a row limit below the list's size
    monkeypatch.setattr("customers.services.export.EXPORT_ROW_LIMIT", 2)
    client = client_for(exporter)

    # when
    page = client.post("/customers/export/xlsx/?ordering=name", follow=True)
    api = client.get("/api/v1/customers/export/")

    # then the page goes back to the list and says why; the API answers in its error shape
    assert page.redirect_chain == [("/customers/?ordering=name", 302)]
    assert "more than 2 customers" in page.content.decode()
    assert api.status_code == 400
    assert api.json()["error"]["code"] == "export_too_large"
    assert "Narrow it with the filters" in api.json()["error"]["message"]


def test_api_export_is_csv_with_the_api_filters_whatever_the_accept_header(
    exporter, client_for, book
):
    # given  # when
    response = client_for(exporter).get(
        "/api/v1/customers/export/",
        {"search": "blue summit", "status": "customer"},
        headers={"Accept": "text/csv"},
    )

    # then
    assert column(csv_rows(response), "Name") == ["Ada"]


def test_api_export_refuses_bad_filters_in_the_error_shape(exporter, client_for):
    # given  # when
    response = client_for(exporter).get("/api/v1/customers/export/", {"age_min": "old"})

    # then
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"age_min": ["Enter a whole number."]}


@pytest.mark.django_db(transaction=True)
async def test_under_asgi_the_csv_streams_from_an_asynchronous_iterator(async_client):
    # given a manager with customers, served over ASGI
    manager = await sync_to_async(UserFactory)(username="boss", roles=[roles.MANAGER])
    for name in ("Ada", "Bo"):
        await sync_to_async(CustomerFactory)(name=name, owner=manager)
    await async_client.aforce_login(manager)

    # when
    response = await async_client.get("/api/v1/customers/export/")
    text = b"".join([chunk async for chunk in response.streaming_content]).decode()
    # The request's queries ran on the thread that sync_to_async keeps for them.
    await sync_to_async(connections.close_all)()

    # then
    assert response.status_code == 200
    assert response.is_async
    assert [row[1] for row in csv.reader(io.StringIO(text.removeprefix("\ufeff")))] == [
        "Name",
        "Ada",
        "Bo",
    ]
