"""Search by name, email, phone in any format and company name: the page (and the global search
box that leads to it), the API, the visibility rule, and on PostgreSQL the trigram indexes."""

import pytest
from django.db import connection

from customers.selectors.customers import CustomerFilter, customer_list_visible
from tests.conftest import database_is_postgresql
from tests.customers.factories import CompanyFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def names_on(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [customer.name for customer in response.context["page"].object_list]


@pytest.fixture
def people(rep):
    company = CompanyFactory(name="Blue Summit Labs")
    CustomerFactory(name="Wang Fang", email="fang.wang@qq.com", owner=rep, company=company)
    CustomerFactory(name="王芳", email="wf@163.com", phone="+8613800138000", owner=rep)
    CustomerFactory(name="周秀英", email="xy@163.com", phone="+8613912345678", owner=rep)
    CustomerFactory(name="John Smith", email="john@example.com", phone="+14155550100", owner=rep)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("wang fang", ["Wang Fang"]),
        ("王芳", ["王芳"]),
        ("秀英", ["周秀英"]),
        ("FANG.WANG@qq", ["Wang Fang"]),
        ("@163.com", ["周秀英", "王芳"]),
        ("138 0013 8000", ["王芳"]),
        ("+86 138-0013-8000", ["王芳"]),
        ("13800138000", ["王芳"]),
        ("0013 8000", ["王芳"]),
        ("1234 5678", ["周秀英"]),
        ("(415) 555-0100", ["John Smith"]),
        ("summit lab", ["Wang Fang"]),
        ("  Blue   Summit ", ["Wang Fang"]),
        ("nobody", []),
    ],
)
def test_search_by_name_email_phone_and_company(rep_client, people, query, expected):
    # given people with names, emails, phones and a company  # when
    response = rep_client.get("/customers/", {"q": query})

    # then
    assert sorted(names_on(response)) == sorted(expected)


def test_the_global_search_box_submits_to_the_customer_list(rep_client, people):
    # given any page  # when
    home = rep_client.get("/").content.decode()

    # then its search box sends q to the list, which searches
    assert 'action="/customers/"' in home
    assert 'name="q"' in home
    response = rep_client.get("/customers/", {"q": "138 0013 8000"})
    assert names_on(response) == ["王芳"]
    assert 'value="138 0013 8000"' in response.content.decode()


def test_search_never_finds_what_the_user_may_not_see(
    rep, other_team_rep, other_team, rep_client, client_for
):
    # given two customers with the same name, phone and company, one of another team
    company = CompanyFactory(name="Harbor Group")
    CustomerFactory(name="李娜", phone="+8613700000001", owner=rep, company=company)
    CustomerFactory(
        name="李娜", phone="+8613700000002", owner=other_team_rep, team=other_team, company=company
    )

    # when  # then each sees only their own
    for query in ("李娜", "137 0000 000", "Harbor"):
        assert [c.owner for c in rep_client.get("/customers/", {"q": query}).context["page"]] == [
            rep
        ]
        other = client_for(other_team_rep).get("/customers/", {"q": query})
        assert [c.owner for c in other.context["page"]] == [other_team_rep]


def test_search_combines_with_filters_and_ordering(rep, rep_client):
    # given
    for name, tier in (("Wang A", "vip"), ("Wang B", "normal"), ("Wang C", "vip"), ("Li", "vip")):
        CustomerFactory(name=name, tier=tier, owner=rep)

    # when
    response = rep_client.get("/customers/", {"q": "wang", "tier": "vip", "ordering": "-name"})

    # then
    assert names_on(response) == ["Wang C", "Wang A"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [("138-0013-8000", ["王芳"]), ("blue summit", ["Wang Fang"]), ("fang.wang", ["Wang Fang"])],
)
def test_api_search_is_the_same_search(rep_client, people, query, expected):
    # given  # when
    response = rep_client.get("/api/v1/customers/", {"search": query})

    # then
    assert [row["name"] for row in response.json()["results"]] == expected


def plan_of(queryset) -> str:
    # Tables this small are read whole; with sequential scans off, the plan shows whether the
    # indexes can serve the query at all.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    return queryset.explain()


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("query", "indexes"),
    [
        ("wang fang", ["customer_name_trgm", "customer_email_trgm"]),
        ("138 0013 8000", ["customer_phone_trgm", "customer_name_trgm"]),
        ("秀英", ["customer_name_trgm"]),
    ],
)
def test_search_uses_the_trigram_indexes_despite_the_visibility_rule(rep, people, query, indexes):
    # given the list as the rep sees it, searched
    customers = customer_list_visible(user=rep, filters=CustomerFilter(search=query))

    # when
    plan = plan_of(customers.order_by().values("pk"))

    # then every arm of the search is an index scan, OR-ed together, the company's through
    # the customer table's company index (the companies matching the name are found first;
    # on a table this small PostgreSQL reads them without company_name_trgm)
    for index in indexes:
        assert index in plan, plan
    assert "BitmapOr" in plan
    assert "customers_customer_company_id" in plan
    assert "Seq Scan on customers_customer" not in plan


@pytest.mark.postgres
def test_a_short_term_matches_the_start_or_end_of_a_name_on_postgresql(rep, rep_client):
    # given names with 王芳 at the start, at the end and in the middle
    for name in ("王芳", "王芳芳", "李王芳", "李王芳华"):
        CustomerFactory(name=name, owner=rep)

    # when a two-character term is searched  # then the middle one is not found: a trigram
    # index cannot serve a two-character "contains", and the others are what people type
    assert sorted(names_on(rep_client.get("/customers/", {"q": "王芳"}))) == [
        "李王芳",
        "王芳",
        "王芳芳",
    ]


@pytest.mark.skipif(database_is_postgresql(), reason="the embedded default's simpler search")
def test_a_short_term_matches_anywhere_on_the_embedded_default(rep, rep_client):
    # given
    for name in ("王芳", "李王芳华"):
        CustomerFactory(name=name, owner=rep)

    # when  # then
    assert sorted(names_on(rep_client.get("/customers/", {"q": "王芳"}))) == ["李王芳华", "王芳"]


def test_search_pages_are_sorted_over_every_match(rep, rep_client, django_assert_max_num_queries):
    # given more matches than a page holds, created out of name order
    for number in reversed(range(60)):
        CustomerFactory(name=f"Zhao {number:02d}", owner=rep)
    CustomerFactory(name="Qian 00", owner=rep)

    # when both pages are asked for
    with django_assert_max_num_queries(SEARCH_PAGE_QUERIES):
        first = rep_client.get("/customers/", {"q": "zhao"})
    second = rep_client.get("/customers/", {"q": "zhao", "page": 2})

    # then each holds its slice of all the matches in name order, and the count is exact
    assert names_on(first) == [f"Zhao {number:02d}" for number in range(50)]
    assert names_on(second) == [f"Zhao {number:02d}" for number in range(50, 60)]
    assert first.context["page"].paginator.count == 60


# The session, permissions and menus, the matching ids, then one query for the page's rows.
SEARCH_PAGE_QUERIES = 20
