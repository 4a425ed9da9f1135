"""The customer list page: every filter, sorting, the capped count and paging, the links that
carry the filters (save as segment, export), and the visibility rule."""

import html
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.accounts import roles
from customers.models import Tag
from tests.accounts.factories import UserFactory
from tests.customers.factories import CompanyFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def names_on(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [customer.name for customer in response.context["page"].object_list]


def years_ago(years: int, days: int = 0) -> date:
    today = timezone.localdate()
    return today.replace(year=today.year - years) - timedelta(days=days)


@pytest.fixture
def tagged(rep):
    vip_event, newsletter = (Tag.objects.create(name=name) for name in ("vip-event", "newsletter"))
    CustomerFactory(name="Both", owner=rep).tags.set([vip_event, newsletter])
    CustomerFactory(name="Event only", owner=rep).tags.set([vip_event])
    CustomerFactory(name="Newsletter only", owner=rep).tags.set([newsletter])
    CustomerFactory(name="No tags", owner=rep)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"tag": "vip-event"}, ["Both", "Event only"]),
        ({"tag": ["vip-event", "newsletter"]}, ["Both", "Event only", "Newsletter only"]),
        ({}, ["Both", "Event only", "Newsletter only", "No tags"]),
    ],
)
def test_tag_filter_keeps_customers_with_any_of_the_tags(rep_client, tagged, params, expected):
    # given customers with tags  # when  # then each appears once
    assert names_on(rep_client.get("/customers/", params)) == expected


def test_status_and_tier_filters_take_several_values(rep, rep_client):
    # given
    CustomerFactory(name="Lead", owner=rep)
    CustomerFactory(name="Prospect VIP", owner=rep, status="prospect", tier="vip")
    CustomerFactory(name="Customer premium", owner=rep, status="customer", tier="premium")

    # when  # then
    both = rep_client.get("/customers/", {"status": ["prospect", "customer"]})
    assert names_on(both) == ["Customer premium", "Prospect VIP"]
    tiers = rep_client.get("/customers/", {"tier": ["vip", "premium"], "status": "prospect"})
    assert names_on(tiers) == ["Prospect VIP"]


def test_owner_team_city_and_company_filters(rep, rep_teammate, team, rep_client):
    # given
    company = CompanyFactory(name="Blue Summit Labs", owner=rep)
    CustomerFactory(name="Mine in Beijing", owner=rep, city="Beijing", company=company)
    CustomerFactory(name="Mine in Shanghai", owner=rep, city="Shanghai")
    CustomerFactory(name="Teammate's", owner=rep_teammate, team=team, city="Beijing")

    # when  # then
    assert names_on(rep_client.get("/customers/", {"owner": rep.pk})) == [
        "Mine in Beijing",
        "Mine in Shanghai",
    ]
    assert names_on(rep_client.get("/customers/", {"team": team.pk})) == ["Teammate's"]
    assert names_on(rep_client.get("/customers/", {"city": " Beijing "})) == [
        "Mine in Beijing",
        "Teammate's",
    ]
    by_company = rep_client.get("/customers/", {"company": company.pk})
    assert names_on(by_company) == ["Mine in Beijing"]
    assert "Company: Blue Summit Labs" in by_company.content.decode()


def test_company_filter_works_for_a_company_the_user_cannot_see_without_naming_it(
    rep, other_team_rep, other_team, rep_client
):
    # given the rep's customer at a company of another team
    company = CompanyFactory(name="Secret Corp", owner=other_team_rep, team=other_team)
    CustomerFactory(name="Mine there", owner=rep, company=company)
    CustomerFactory(name="Mine elsewhere", owner=rep)

    # when
    response = rep_client.get("/customers/", {"company": company.pk})

    # then the filter applies but the page does not reveal the company's name in the filter
    assert names_on(response) == ["Mine there"]
    assert "Company: Secret Corp" not in response.content.decode()
    assert "One company" in response.content.decode()


def test_age_range_is_computed_from_birthdays(rep, rep_client):
    # given customers of 29, 30, 40 and 41 (a birthday tomorrow keeps them a year younger)
    CustomerFactory(name="Turns 30 tomorrow", owner=rep, birthday=years_ago(30, days=-1))
    CustomerFactory(name="Just 30", owner=rep, birthday=years_ago(30))
    CustomerFactory(name="Forty", owner=rep, birthday=years_ago(41, days=-1))
    CustomerFactory(name="Forty-one", owner=rep, birthday=years_ago(41))
    CustomerFactory(name="No birthday", owner=rep, birthday=None)

    # when  # then
    thirties = rep_client.get("/customers/", {"age_min": 30, "age_max": 40})
    assert names_on(thirties) == ["Forty", "Just 30"]
    assert names_on(rep_client.get("/customers/", {"age_max": 29})) == ["Turns 30 tomorrow"]
    assert names_on(rep_client.get("/customers/", {"age_min": 41})) == ["Forty-one"]


def test_spend_range(rep, rep_client):
    # given
    for name, spend in (("Small", "10"), ("Middle", "500"), ("Big", "5000.50")):
        CustomerFactory(name=name, owner=rep, total_spend=Decimal(spend))

    # when  # then
    assert names_on(rep_client.get("/customers/", {"spend_min": "500"})) == ["Big", "Middle"]
    assert names_on(rep_client.get("/customers/", {"spend_max": "500"})) == ["Middle", "Small"]
    assert names_on(rep_client.get("/customers/", {"spend_min": 11, "spend_max": 499})) == []


def test_last_contact_before_after_and_never(rep, rep_client):
    # given
    now = timezone.now()
    CustomerFactory(name="Last week", owner=rep, last_contact_at=now - timedelta(days=7))
    CustomerFactory(name="Last year", owner=rep, last_contact_at=now - timedelta(days=365))
    CustomerFactory(name="Never", owner=rep, last_contact_at=None)
    month_ago = (timezone.localdate() - timedelta(days=30)).isoformat()

    # when  # then
    assert names_on(rep_client.get("/customers/", {"contacted_after": month_ago})) == ["Last week"]
    assert names_on(rep_client.get("/customers/", {"contacted_before": month_ago})) == ["Last year"]
    assert names_on(rep_client.get("/customers/", {"never_contacted": "on"})) == ["Never"]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"age_min": 40, "age_max": 30}, "age_max", "The upper age is below the lower one."),
        ({"spend_min": 9, "spend_max": 1}, "spend_max", "The upper amount is below the lower"),
        (
            {"contacted_after": "2026-02-01", "contacted_before": "2026-01-01"},
            "contacted_before",
            "This date must come after the other one.",
        ),
        (
            {"never_contacted": "on", "contacted_after": "2026-01-01"},
            "never_contacted",
            "A customer never contacted has no date",
        ),
        ({"status": "royalty"}, "status", "Select a valid choice."),
        ({"age_min": "old"}, "age_min", "Enter a whole number."),
        ({"tag": "no-such-tag"}, "tag", "Select a valid choice."),
    ],
)
def test_invalid_filters_are_explained_and_list_nothing(rep, rep_client, params, field, message):
    # given a customer the rep sees
    CustomerFactory(owner=rep)

    # when
    response = rep_client.get("/customers/", params)

    # then the page says what is wrong, beside the field, and shows no rows
    assert names_on(response) == []
    assert message in " ".join(response.context["form"].errors[field])
    assert html.escape(message) in response.content.decode()


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("total_spend", ["Small", "Never", "Recent", "Big"]),
        ("-total_spend", ["Big", "Recent", "Never", "Small"]),
        ("last_contact_at", ["Big", "Small", "Recent", "Never"]),
        ("-last_contact_at", ["Recent", "Small", "Big", "Never"]),
    ],
)
def test_sorting_by_spend_and_last_contact(rep, rep_client, ordering, expected):
    # given (ties are broken by id; a customer never contacted sorts last both ways)
    now = timezone.now()
    rows = [
        ("Never", "50", None),
        ("Small", "10", now - timedelta(days=3)),
        ("Big", "900", now - timedelta(days=300)),
        ("Recent", "50", now - timedelta(days=1)),
    ]
    for name, spend, contacted in rows:
        CustomerFactory(name=name, owner=rep, total_spend=Decimal(spend), last_contact_at=contacted)

    # when  # then
    assert names_on(rep_client.get("/customers/", {"ordering": ordering})) == expected


def test_column_headings_sort_and_keep_the_filters(rep, rep_client):
    # given
    CustomerFactory(owner=rep, status="customer")

    # when the list is filtered and sorted by name
    body = rep_client.get("/customers/", {"status": "customer", "page": 1}).content.decode()

    # then the Name heading sorts the other way, the others start descending, filters kept
    assert 'aria-sort="ascending"' in body
    assert 'href="?status=customer&amp;ordering=-name"' in body
    assert 'href="?status=customer&amp;ordering=-total_spend"' in body


def test_save_as_segment_and_export_links_carry_the_filters(rep, manager, client_for):
    # given a manager (who may export) filtering the list
    client = client_for(manager)

    # when
    body = client.get(
        "/customers/", {"status": "customer", "q": "wang", "ordering": "-name", "page": 1}
    ).content.decode()

    # then
    assert 'href="/customers/segments/new/?status=customer&amp;q=wang"' in body
    assert (
        'formaction="/customers/export/csv/?status=customer&amp;q=wang&amp;ordering=-name"' in body
    )
    assert (
        'formaction="/customers/export/xlsx/?status=customer&amp;q=wang&amp;ordering=-name"' in body
    )
    assert 'href="/customers/exports/"' in body


def test_export_links_are_only_offered_with_the_permission(rep_client):
    # given a rep, whose role may not export  # when
    body = rep_client.get("/customers/").content.decode()

    # then
    assert "Export CSV" not in body
    assert "Save as segment" in body


def test_the_count_stops_at_the_cap_and_says_so(rep, rep_client, monkeypatch):
    # given more customers than the cap (lowered for the test)
    monkeypatch.setattr("customers.selectors.customers.COUNT_CAP", 5)
    for index in range(8):
        CustomerFactory(name=f"Customer {index}", owner=rep)

    # when
    response = rep_client.get("/customers/")

    # then the count reads "more than 5" and the list holds the first five in order
    paginator = response.context["page"].paginator
    assert (paginator.count, paginator.count_is_exact) == (5, False)
    assert names_on(response) == [f"Customer {index}" for index in range(5)]
    assert 'data-result-count="5+"' in response.content.decode()
    assert "More than 5 customers." in response.content.decode()


def test_an_exact_count_under_the_cap(rep, rep_client):
    # given
    CustomerFactory.create_batch(3, owner=rep)

    # when
    response = rep_client.get("/customers/")

    # then
    assert 'data-result-count="3"' in response.content.decode()
    assert "3 customers" in response.content.decode()


def test_the_list_shows_only_what_the_user_may_see(
    rep, rep_teammate, team, other_team_rep, other_team, manager, admin_user, client_for
):
    # given customers of the rep, a teammate, the team, another team and nobody
    CustomerFactory(name="Rep's", owner=rep)
    CustomerFactory(name="Teammate's", owner=rep_teammate)
    CustomerFactory(name="Team's", team=team)
    CustomerFactory(name="Other team's", owner=other_team_rep, team=other_team)
    CustomerFactory(name="Nobody's")
    marketer = UserFactory(username="marketer", roles=[roles.MARKETING])

    # when  # then
    visible_to = {
        rep: ["Rep's", "Team's", "Teammate's"],
        manager: ["Rep's", "Team's", "Teammate's"],
        other_team_rep: ["Other team's"],
        marketer: [],
        admin_user: ["Nobody's", "Other team's", "Rep's", "Team's", "Teammate's"],
    }
    for user, expected in visible_to.items():
        assert names_on(client_for(user).get("/customers/")) == expected, user.username


def test_filtered_list_queries_do_not_grow_with_rows(
    rep, team, rep_client, django_assert_max_num_queries
):
    # given sixty tagged customers at companies, matching every filter
    tag = Tag.objects.create(name="wechat")
    for index in range(60):
        customer = CustomerFactory(
            name=f"Customer {index:02d}",
            owner=rep,
            team=team,
            status="customer",
            company=CompanyFactory(),
            birthday=years_ago(35),
        )
        customer.tags.add(tag)
    filters = {
        "q": "customer",
        "status": "customer",
        "tag": "wechat",
        "age_min": 30,
        "owner": rep.pk,
        "team": team.pk,
        "ordering": "-name",
    }

    # when
    with django_assert_max_num_queries(17):
        response = rep_client.get("/customers/", filters)

    # then
    assert names_on(response)[:2] == ["Customer 59", "Customer 58"]
    assert response.context["page"].paginator.count == 60
