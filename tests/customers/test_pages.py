"""The customer and company pages, and the home page's customer panel."""

import html
from datetime import timedelta

import pytest
from django.utils import timezone

from customers.models import Company, Customer
from tests.customers.factories import CompanyFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def names_on(response) -> list[str]:
    return [customer.name for customer in response.context["page"].object_list]


def test_customer_list_paginates_fifty_a_page_with_bounded_queries(
    rep, rep_client, django_assert_max_num_queries
):
    # given sixty customers the rep owns, with companies
    for index in range(60):
        CustomerFactory(name=f"Customer {index:02d}", owner=rep, company=CompanyFactory())

    # when the rep opens both pages
    with django_assert_max_num_queries(15):
        first = rep_client.get("/customers/")
    with django_assert_max_num_queries(15):
        second = rep_client.get("/customers/", {"page": 2})

    # then fifty are on the first page and ten on the second, in name order
    assert first.status_code == 200
    assert names_on(first) == [f"Customer {index:02d}" for index in range(50)]
    assert names_on(second) == [f"Customer {index:02d}" for index in range(50, 60)]
    assert "Page 1 of 2" in first.content.decode()
    assert "Company " in first.content.decode()


def test_customer_list_out_of_range_page_shows_the_last(rep, rep_client):
    # given
    CustomerFactory.create_batch(3, owner=rep)

    # when  # then
    response = rep_client.get("/customers/", {"page": 99})
    assert response.status_code == 200
    assert len(names_on(response)) == 3


def test_customer_list_filters_by_status_and_tier(rep, rep_client):
    # given customers of every status and tier
    CustomerFactory(name="Lead normal", owner=rep)
    CustomerFactory(name="Customer vip", owner=rep, status="customer", tier="vip")
    CustomerFactory(name="Customer normal", owner=rep, status="customer")
    CustomerFactory(name="Churned premium", owner=rep, status="churned", tier="premium")

    # when  # then
    assert names_on(rep_client.get("/customers/", {"status": "customer"})) == [
        "Customer normal",
        "Customer vip",
    ]
    assert names_on(rep_client.get("/customers/", {"tier": "premium"})) == ["Churned premium"]
    assert names_on(rep_client.get("/customers/", {"status": "customer", "tier": "vip"})) == [
        "Customer vip"
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("wang", ["Wang Fang"]),
        ("王芳", ["王芳"]),
        ("fang@qq.COM", ["Wang Fang"]),
        ("138 0013 8000", ["王芳"]),
        ("138-0013-8000", ["王芳"]),
        ("blue summit", ["Wang Fang"]),
        ("nobody", []),
    ],
)
def test_customer_list_search(rep, rep_client, query, expected):
    # given customers with names, emails, phones and a company
    company = CompanyFactory(name="Blue Summit Labs")
    CustomerFactory(name="Wang Fang", email="fang@qq.com", owner=rep, company=company)
    CustomerFactory(name="王芳", email="wf@163.com", phone="+8613800138000", owner=rep)
    CustomerFactory(name="John Smith", email="john@example.com", owner=rep)

    # when
    response = rep_client.get("/customers/", {"q": query})

    # then
    assert names_on(response) == expected
    assert f'value="{html.escape(query)}"' in response.content.decode()


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("name", ["Ada", "Bo", "Cy"]),
        ("-name", ["Cy", "Bo", "Ada"]),
        ("created_at", ["Bo", "Cy", "Ada"]),
        ("-created_at", ["Ada", "Cy", "Bo"]),
        ("no-such-order", ["Ada", "Bo", "Cy"]),
    ],
)
def test_customer_list_ordering(rep, rep_client, ordering, expected):
    # given three customers created on different days
    now = timezone.now()
    for name, days_ago in (("Bo", 3), ("Cy", 2), ("Ada", 1)):
        customer = CustomerFactory(name=name, owner=rep)
        Customer.objects.filter(pk=customer.pk).update(created_at=now - timedelta(days=days_ago))

    # when  # then
    assert names_on(rep_client.get("/customers/", {"ordering": ordering})) == expected


def test_customer_detail_page(rep, rep_client):
    # given
    company = CompanyFactory(name="Blue Summit Labs")
    customer = CustomerFactory(
        name="王芳", owner=rep, company=company, status="customer", tier="vip"
    )
    customer.tags.create(name="key-account")

    # when
    response = rep_client.get(f"/customers/{customer.pk}/")

    # then
    body = response.content.decode()
    assert response.status_code == 200
    for text in ("王芳", "Blue Summit Labs", "VIP", "key-account", customer.email, "Riley Chen"):
        assert text in body, text


def test_customer_pages_need_the_view_permission(user_without_role, client_for):
    # given a user without a role
    customer = CustomerFactory(owner=user_without_role)
    client = client_for(user_without_role)

    # when  # then even their own record is out of reach until they have a role
    assert client.get("/customers/").status_code == 403
    assert client.get(f"/customers/{customer.pk}/").status_code == 403
    assert client.get("/customers/companies/").status_code == 403


def test_company_list_shows_visible_companies(
    rep, other_team_rep, other_team, rep_client, django_assert_max_num_queries
):
    # given companies of the rep, and one of another team
    for index in range(30):
        CompanyFactory(name=f"Ours {index:02d}", owner=rep)
    CompanyFactory(name="Theirs", owner=other_team_rep, team=other_team)

    # when
    with django_assert_max_num_queries(12):
        response = rep_client.get("/customers/companies/")

    # then
    assert response.status_code == 200
    assert names_on(response) == [f"Ours {index:02d}" for index in range(30)]


def test_company_list_search(rep, rep_client):
    # given
    CompanyFactory(name="Blue Summit Labs", city="Hangzhou", owner=rep)
    CompanyFactory(name="Harbor Group", city="Shanghai", owner=rep)

    # when  # then
    assert names_on(rep_client.get("/customers/companies/", {"q": "summit"})) == [
        "Blue Summit Labs"
    ]
    assert names_on(rep_client.get("/customers/companies/", {"q": "shanghai"})) == ["Harbor Group"]


def test_company_detail_shows_only_the_people_the_user_may_see(
    rep, other_team_rep, other_team, rep_client
):
    # given a company of the rep with people of the rep and of another team
    company = CompanyFactory(name="Blue Summit Labs", owner=rep)
    CustomerFactory(name="Mine", owner=rep, company=company)
    CustomerFactory(name="Not mine", owner=other_team_rep, team=other_team, company=company)

    # when
    response = rep_client.get(f"/customers/companies/{company.pk}/")

    # then
    assert response.status_code == 200
    assert names_on(response) == ["Mine"]
    assert "Not mine" not in response.content.decode()


def test_company_detail_of_an_invisible_company_is_404(other_team_rep, other_team, rep_client):
    # given
    company = CompanyFactory(owner=other_team_rep, team=other_team)

    # when  # then
    assert rep_client.get(f"/customers/companies/{company.pk}/").status_code == 404


def test_company_list_filters_and_sorts(rep, rep_client):
    # given
    CompanyFactory(name="Blue Summit Labs", industry="Software", city="Hangzhou", owner=rep)
    CompanyFactory(name="Harbor Group", industry="Retail", city="Shanghai", owner=rep)
    CompanyFactory(name="Cedar Labs", industry="Software", city="Shanghai", owner=rep)

    # when  # then
    assert names_on(rep_client.get("/customers/companies/", {"industry": "Software"})) == [
        "Blue Summit Labs",
        "Cedar Labs",
    ]
    assert names_on(
        rep_client.get("/customers/companies/", {"city": "Shanghai", "ordering": "-name"})
    ) == ["Harbor Group", "Cedar Labs"]


def test_create_a_company_in_the_browser(rep, team, rep_client):
    # given the form  # when the rep fills it in, leaving owner and team blank
    assert rep_client.get("/customers/companies/new/").status_code == 200
    response = rep_client.post(
        "/customers/companies/new/",
        {
            "name": "  Blue   Summit ",
            "website": "blue.example.com",
            "size": "10-49",
            "country": "CN",
        },
    )

    # then the service made it the rep's and their team's
    company = Company.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/customers/companies/{company.pk}/"
    assert (company.name, company.website) == ("Blue Summit", "https://blue.example.com")
    assert (company.owner, company.team) == (rep, team)


def test_a_company_form_with_mistakes_is_shown_again(rep_client):
    # given  # when
    response = rep_client.post("/customers/companies/new/", {"name": "", "size": "huge"})

    # then
    assert response.status_code == 200
    assert not Company.objects.exists()
    assert "This field is required." in response.content.decode()


def test_edit_a_company_in_the_browser(rep, other_team_rep, other_team, rep_client):
    # given a company of the rep and one of another team
    company = CompanyFactory(name="Blue Summit", owner=rep, city="Hangzhou")
    theirs = CompanyFactory(owner=other_team_rep, team=other_team)
    assert (
        'value="Blue Summit"'
        in rep_client.get(f"/customers/companies/{company.pk}/edit/").content.decode()
    )

    # when
    response = rep_client.post(
        f"/customers/companies/{company.pk}/edit/",
        {"name": "Blue Summit Labs", "city": "Shanghai", "owner": rep.pk},
    )

    # then
    company.refresh_from_db()
    assert response.status_code == 302
    assert (company.name, company.city, company.owner) == ("Blue Summit Labs", "Shanghai", rep)
    assert rep_client.get(f"/customers/companies/{theirs.pk}/edit/").status_code == 404


def test_company_pages_need_their_permissions(user_without_role, client_for):
    # given a user without a role
    client = client_for(user_without_role)
    company = CompanyFactory(owner=user_without_role)

    # when  # then
    assert client.get("/customers/companies/new/").status_code == 403
    assert client.get(f"/customers/companies/{company.pk}/edit/").status_code == 403


def test_home_shows_my_customers_panel_with_the_count(rep, rep_teammate, rep_client):
    # given three customers of the rep and two of a teammate
    CustomerFactory.create_batch(3, owner=rep)
    CustomerFactory.create_batch(2, owner=rep_teammate)

    # when
    response = rep_client.get("/")

    # then the panel counts only the rep's own
    assert response.status_code == 200
    panels = response.context["panels"]
    my_customers = next(panel for panel in panels if panel.title == "My customers")
    assert my_customers.figure == "3"
    assert my_customers.url == "/customers/"
    body = response.content.decode()
    assert "My customers" in body
    assert '<div class="figure-value">3</div>' in body


def test_home_without_a_role_shows_no_customer_panel(user_without_role, client_for):
    # given  # when
    response = client_for(user_without_role).get("/")

    # then
    assert response.context["panels"] == []
    assert "Ask an administrator to give you a role." in response.content.decode()


def test_navigation_lists_what_the_role_may_see(rep_client, user_without_role, client_for):
    # given  # when
    rep_page = rep_client.get("/").content.decode()
    bare_page = client_for(user_without_role).get("/").content.decode()

    # then
    assert 'href="/customers/"' in rep_page
    assert 'href="/customers/companies/"' in rep_page
    assert 'href="/accounts/teams/"' in rep_page
    assert 'class="nav-link" href="/customers/"' not in bare_page
    assert 'href="/accounts/teams/"' not in bare_page
