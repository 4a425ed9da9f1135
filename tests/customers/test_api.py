"""/api/v1/customers/ and /api/v1/companies/: filters, search, ordering, paging, writes through
the services, the visibility rule and permissions."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import Company, Customer, Tag
from customers.selectors import customers as customer_selectors
from tests.customers.factories import CompanyFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def names_in(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["results"]]


def test_customer_list_queries_are_bounded(rep, team, rep_client, django_assert_max_num_queries):
    # given sixty customers with companies and tags
    tags = [Tag.objects.create(name=name) for name in ("vip-event", "newsletter")]
    for index in range(60):
        customer = CustomerFactory(
            name=f"Customer {index:02d}", owner=rep, team=team, company=CompanyFactory()
        )
        customer.tags.set(tags)

    # when
    with django_assert_max_num_queries(12):
        response = rep_client.get("/api/v1/customers/")

    # then the first page of fifty is listed, with a cursor to the next and no count
    body = response.json()
    assert "count" not in body
    assert len(body["results"]) == 50
    assert "cursor=" in body["next"]
    assert body["results"][0]["tags"] == ["newsletter", "vip-event"]


def test_customer_list_page_size(rep, rep_client):
    # given
    CustomerFactory.create_batch(12, owner=rep)

    # when the caller follows the cursor to the third page of five
    response = rep_client.get("/api/v1/customers/", {"page_size": 5})
    for _page in range(2):
        response = rep_client.get(response.json()["next"])

    # then
    assert len(names_in(response)) == 2
    assert response.json()["next"] is None


def test_customer_detail(rep, team, rep_client):
    # given
    company = CompanyFactory(name="Blue Summit Labs")
    customer = CustomerFactory(
        name="王芳",
        owner=rep,
        team=team,
        company=company,
        birthday=timezone.localdate() - timedelta(days=365 * 30 + 10),
    )
    customer.tags.create(name="key-account")

    # when
    response = rep_client.get(f"/api/v1/customers/{customer.pk}/")

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "王芳"
    assert body["owner"] == rep.pk
    assert body["team"] == team.pk
    assert body["company"] == company.pk
    assert body["tags"] == ["key-account"]
    assert body["age"] == 30
    assert body["status"] == "lead"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "customer"}, ["Ada", "Cy"]),
        ({"tier": "vip"}, ["Cy"]),
        ({"status": "customer", "tier": "normal"}, ["Ada"]),
        ({"city": "Beijing"}, ["Bo"]),
        ({"search": "ada@"}, ["Ada"]),
        ({"search": "Blue Summit"}, ["Bo"]),
        ({"search": "13900000003"}, ["Cy"]),
        ({"ordering": "-name"}, ["Cy", "Bo", "Ada"]),
        ({"ordering": "created_at"}, ["Bo", "Cy", "Ada"]),
        ({"ordering": "-created_at"}, ["Ada", "Cy", "Bo"]),
    ],
)
def test_customer_list_filters_search_and_ordering(rep, rep_client, params, expected):
    # given three customers created on different days
    now = timezone.now()
    rows = [
        ("Bo", {"city": "Beijing", "company": CompanyFactory(name="Blue Summit Labs")}, 3),
        ("Cy", {"status": "customer", "tier": "vip", "phone": "+8613900000003"}, 2),
        ("Ada", {"status": "customer", "email": "ada@example.com"}, 1),
    ]
    for name, fields, days_ago in rows:
        customer = CustomerFactory(name=name, owner=rep, **fields)
        Customer.objects.filter(pk=customer.pk).update(created_at=now - timedelta(days=days_ago))

    # when  # then
    assert names_in(rep_client.get("/api/v1/customers/", params)) == expected


def test_customer_list_filters_by_owner_team_and_company(rep, rep_teammate, team, rep_client):
    # given
    company = CompanyFactory()
    CustomerFactory(name="Mine", owner=rep, company=company)
    CustomerFactory(name="Teammate's", owner=rep_teammate, team=team)

    # when  # then
    assert names_in(rep_client.get("/api/v1/customers/", {"owner": rep.pk})) == ["Mine"]
    assert names_in(rep_client.get("/api/v1/customers/", {"team": team.pk})) == ["Teammate's"]
    assert names_in(rep_client.get("/api/v1/customers/", {"company": company.pk})) == ["Mine"]


def test_an_invalid_filter_value_is_a_400_in_the_error_shape(rep, rep_client):
    # given  # when
    response = rep_client.get("/api/v1/customers/", {"status": "royalty"})

    # then
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "status" in error["fields"]


def test_create_a_customer_through_the_service(rep, team, rep_client):
    # given a rep, whose role may add customers, and a company they see
    company = CompanyFactory(name="Blue Summit Labs", owner=rep)

    # when they create one with loosely typed values
    response = rep_client.post(
        "/api/v1/customers/",
        {
            "name": "  王   芳 ",
            "email": " Fang@QQ.com ",
            "phone": "138 0013 8000",
            "company": company.pk,
            "tier": "vip",
            "tags": ["Key-Account", "newsletter"],
            "marketing_consent": True,
        },
        content_type="application/json",
    )

    # then the service cleaned them, and made the rep and their team the owners
    assert response.status_code == 201, response.content
    body = response.json()
    customer = Customer.objects.get(pk=body["id"])
    assert (customer.name, customer.email, customer.phone) == (
        "王 芳",
        "fang@qq.com",
        "+8613800138000",
    )
    assert (customer.owner, customer.team, customer.company) == (rep, team, company)
    assert body["tags"] == ["key-account", "newsletter"]
    assert body["marketing_consent_at"] is not None


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"name": "Ada", "phone": "12"}, "phone", "is not a possible phone number"),
        ({"name": "Ada", "email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"name": "Ada", "birthday": "2999-01-01"}, "birthday", "cannot be in the future"),
        ({"name": "Ada", "status": "royalty"}, "status", "is not a valid choice"),
        ({"name": "Ada", "total_spend": "5"}, "total_spend", "This field is read-only."),
        ({"name": "Ada", "colour": "blue"}, "colour", "Unknown field."),
        ({"email": "ada@example.com"}, "name", "This field is required."),
    ],
)
def test_create_refuses_bad_values_in_the_error_shape(rep_client, payload, field, message):
    # given  # when
    response = rep_client.post("/api/v1/customers/", payload, content_type="application/json")

    # then
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert any(message in text for text in error["fields"][field]), error
    assert not Customer.objects.exists()


def test_the_company_of_a_new_customer_must_be_one_the_user_sees(
    rep_client, other_team_rep, other_team
):
    # given a company of another team
    company = CompanyFactory(owner=other_team_rep, team=other_team)

    # when  # then
    response = rep_client.post(
        "/api/v1/customers/",
        {"name": "Ada", "company": company.pk},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "company" in response.json()["error"]["fields"]


def test_update_and_partial_update_go_through_the_service(rep, rep_client):
    # given
    customer = CustomerFactory(name="Ada", owner=rep, email="ada@example.com")
    customer.tags.create(name="old")

    # when a field is patched, then the whole record is put
    patched = rep_client.patch(
        f"/api/v1/customers/{customer.pk}/",
        {"phone": "+86 139-0000-0001", "tags": ["new"]},
        content_type="application/json",
    )
    put = rep_client.put(
        f"/api/v1/customers/{customer.pk}/",
        {"name": "Ada Lovelace", "tier": "premium"},
        content_type="application/json",
    )

    # then
    assert patched.status_code == 200, patched.content
    assert (patched.json()["phone"], patched.json()["tags"]) == ("+8613900000001", ["new"])
    assert put.status_code == 200, put.content
    customer.refresh_from_db()
    assert (customer.name, customer.tier, customer.email) == (
        "Ada Lovelace",
        "premium",
        "ada@example.com",
    )


def test_an_invalid_update_changes_nothing(rep, rep_client):
    # given
    customer = CustomerFactory(name="Ada", owner=rep)

    # when
    response = rep_client.patch(
        f"/api/v1/customers/{customer.pk}/", {"email": "nope"}, content_type="application/json"
    )

    # then
    assert response.status_code == 400
    customer.refresh_from_db()
    assert customer.email.endswith("@example.com")


def test_delete_needs_the_delete_permission(rep, manager, rep_client, client_for):
    # given a customer of the rep's team
    customer = CustomerFactory(owner=rep)

    # when  # then a rep may not delete; their manager may
    assert rep_client.delete(f"/api/v1/customers/{customer.pk}/").status_code == 403
    assert client_for(manager).delete(f"/api/v1/customers/{customer.pk}/").status_code == 204
    assert not Customer.objects.exists()


def test_invisible_customers_are_404_for_every_verb(rep_client, other_team_rep, other_team):
    # given a customer of another team
    customer = CustomerFactory(owner=other_team_rep, team=other_team)
    url = f"/api/v1/customers/{customer.pk}/"

    # when  # then
    assert rep_client.get(url).status_code == 404
    assert rep_client.get(url).json()["error"]["code"] == "not_found"
    assert (
        rep_client.patch(url, {"name": "Mine"}, content_type="application/json").status_code == 404
    )
    customer.refresh_from_db()
    assert customer.name != "Mine"


def test_api_list_shows_only_what_the_user_may_see(
    rep, rep_teammate, team, other_team_rep, other_team, rep_client
):
    # given
    CustomerFactory(name="Rep's", owner=rep)
    CustomerFactory(name="Teammate's", owner=rep_teammate)
    CustomerFactory(name="Team's", team=team)
    CustomerFactory(name="Other team's", owner=other_team_rep, team=other_team)

    # when  # then
    assert names_in(rep_client.get("/api/v1/customers/")) == ["Rep's", "Team's", "Teammate's"]
    assert names_in(rep_client.get("/api/v1/customers/", {"search": "'s"})) == [
        "Rep's",
        "Team's",
        "Teammate's",
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": ["customer", "churned"]}, ["Ada", "Cy"]),
        ({"tag": "wechat"}, ["Bo"]),
        ({"age_min": 30, "age_max": 50}, ["Ada"]),
        ({"spend_min": "100"}, ["Cy"]),
        ({"never_contacted": "true"}, ["Bo", "Cy"]),
        ({"contacted_after": "2000-01-01"}, ["Ada"]),
        ({"ordering": "-total_spend"}, ["Cy", "Bo", "Ada"]),
        ({"ordering": "no-such-order"}, ["Ada", "Bo", "Cy"]),
    ],
)
def test_every_list_page_filter_works_in_the_api(rep, rep_client, params, expected):
    # given
    today = timezone.localdate()
    CustomerFactory(
        name="Ada",
        owner=rep,
        status="customer",
        birthday=today.replace(year=today.year - 40),
        last_contact_at=timezone.now(),
    )
    CustomerFactory(name="Bo", owner=rep).tags.create(name="wechat")
    CustomerFactory(name="Cy", owner=rep, status="churned", total_spend=Decimal("150"))

    # when  # then
    assert names_in(rep_client.get("/api/v1/customers/", params)) == expected


def test_the_api_does_not_count_the_customers(rep, rep_client):
    # given
    CustomerFactory.create_batch(5, owner=rep)

    # when
    with CaptureQueriesContext(connection) as captured:
        body = rep_client.get("/api/v1/customers/", {"page_size": 2}).json()

    # then no query counts the list: pages follow a cursor
    assert set(body) == {"next", "previous", "results"}
    assert not [query for query in captured.captured_queries if "COUNT(" in query["sql"]]


def test_company_list_queries_are_bounded(rep, team, rep_client, django_assert_max_num_queries):
    # given sixty companies
    for index in range(60):
        CompanyFactory(name=f"Company {index:02d}", owner=rep, team=team)

    # when
    with django_assert_max_num_queries(11):
        response = rep_client.get("/api/v1/companies/")

    # then
    assert "count" not in response.json()
    assert names_in(response) == [f"Company {index:02d}" for index in range(50)]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"industry": "Retail"}, ["Harbor Group"]),
        ({"size": "250+"}, ["Blue Summit Labs"]),
        ({"city": "Shanghai"}, ["Harbor Group"]),
        ({"country": "US"}, ["Blue Summit Labs"]),
        ({"search": "summit"}, ["Blue Summit Labs"]),
        ({"search": "shanghai"}, ["Harbor Group"]),
        ({"ordering": "-name"}, ["Harbor Group", "Blue Summit Labs"]),
    ],
)
def test_company_list_filters_search_and_ordering(rep, rep_client, params, expected):
    # given
    CompanyFactory(name="Blue Summit Labs", size="250+", city="Austin", country="US", owner=rep)
    CompanyFactory(name="Harbor Group", industry="Retail", city="Shanghai", owner=rep)

    # when  # then
    assert names_in(rep_client.get("/api/v1/companies/", params)) == expected


def test_company_detail_and_invisible_company(rep, other_team_rep, other_team, rep_client):
    # given a company of the rep and one of another team
    mine = CompanyFactory(name="Blue Summit Labs", website="https://blue.example.com", owner=rep)
    theirs = CompanyFactory(owner=other_team_rep, team=other_team)

    # when
    response = rep_client.get(f"/api/v1/companies/{mine.pk}/")
    hidden = rep_client.get(f"/api/v1/companies/{theirs.pk}/")

    # then
    assert response.status_code == 200
    assert response.json()["website"] == "https://blue.example.com"
    assert response.json()["owner"] == rep.pk
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("url", ["/api/v1/customers/", "/api/v1/companies/"])
def test_a_user_without_the_view_permission_gets_403(user_without_role, client_for, url):
    # given a user without any role, who owns a customer
    CustomerFactory(owner=user_without_role)

    # when
    response = client_for(user_without_role).get(url)

    # then
    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "code": "permission_denied",
            "message": "You do not have permission to perform this action.",
            "fields": {},
        }
    }


def test_the_view_permission_is_checked_on_every_request_and_the_list_built_once(
    rep, rep_client, user_without_role, client_for, monkeypatch
):
    # given a rep's list request, after which the permission check knows the view's model
    CustomerFactory(owner=rep)
    assert rep_client.get("/api/v1/customers/").status_code == 200
    built = []
    visible = customer_selectors.customer_list_visible

    def counted(**kwargs):
        built.append(1)
        return visible(**kwargs)

    monkeypatch.setattr(customer_selectors, "customer_list_visible", counted)

    # when the rep and then a user without a role ask again
    mine = rep_client.get("/api/v1/customers/")
    refused = client_for(user_without_role).get("/api/v1/customers/")

    # then the rep's visible customers were built once for the rep's list, not again for the
    # permission check, and the user without a role is still refused
    assert mine.status_code == 200 and len(mine.json()["results"]) == 1
    assert built == [1]
    assert refused.status_code == 403


def test_a_user_without_the_view_permission_cannot_read_a_single_customer(
    user_without_role, client_for
):
    # given
    customer = CustomerFactory(owner=user_without_role)

    # when
    response = client_for(user_without_role).get(f"/api/v1/customers/{customer.pk}/")

    # then
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_create_and_update_a_company_through_the_service(rep, team, rep_client):
    # given  # when
    created = rep_client.post(
        "/api/v1/companies/",
        {"name": "  Blue   Summit ", "website": "https://blue.example.com", "size": "10-49"},
        content_type="application/json",
    )
    company_id = created.json()["id"]
    patched = rep_client.patch(
        f"/api/v1/companies/{company_id}/", {"city": "Hangzhou"}, content_type="application/json"
    )

    # then
    assert created.status_code == 201, created.content
    assert (created.json()["name"], created.json()["owner"], created.json()["team"]) == (
        "Blue Summit",
        rep.pk,
        team.pk,
    )
    assert patched.status_code == 200
    assert Company.objects.get().city == "Hangzhou"


def test_company_writes_refuse_bad_values_and_invisible_companies(
    rep_client, other_team_rep, other_team
):
    # given
    theirs = CompanyFactory(owner=other_team_rep, team=other_team)

    # when
    bad = rep_client.post(
        "/api/v1/companies/", {"name": "X", "size": "huge"}, content_type="application/json"
    )
    hidden = rep_client.patch(
        f"/api/v1/companies/{theirs.pk}/", {"name": "Mine"}, content_type="application/json"
    )

    # then
    assert bad.status_code == 400
    assert "size" in bad.json()["error"]["fields"]
    assert hidden.status_code == 404
