"""/api/v1/customers/ and /api/v1/companies/: filters, search, ordering, paging and permissions."""

from datetime import timedelta

import pytest
from django.utils import timezone

from customers.models import Customer, Tag
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

    # then the first page of fifty is listed, with a link to the next
    body = response.json()
    assert body["count"] == 60
    assert len(body["results"]) == 50
    assert body["next"].endswith("/api/v1/customers/?page=2")
    assert body["results"][0]["tags"] == ["newsletter", "vip-event"]


def test_customer_list_page_size(rep, rep_client):
    # given
    CustomerFactory.create_batch(12, owner=rep)

    # when
    response = rep_client.get("/api/v1/customers/", {"page_size": 5, "page": 3})

    # then
    assert len(names_in(response)) == 2
    assert response.json()["count"] == 12


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


def test_customers_api_is_read_only_for_now(rep, rep_client):
    # given a rep, whose role may add customers
    # when they try to create one through the API
    response = rep_client.post(
        "/api/v1/customers/", {"name": "New"}, content_type="application/json"
    )

    # then writes are not offered yet
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert not Customer.objects.exists()


def test_company_list_queries_are_bounded(rep, team, rep_client, django_assert_max_num_queries):
    # given sixty companies
    for index in range(60):
        CompanyFactory(name=f"Company {index:02d}", owner=rep, team=team)

    # when
    with django_assert_max_num_queries(11):
        response = rep_client.get("/api/v1/companies/")

    # then
    assert response.json()["count"] == 60
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
