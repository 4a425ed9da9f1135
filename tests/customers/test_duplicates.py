"""The likely duplicates: each rule, the visibility rule, paging, the page and the API."""

import pytest
from django.utils import timezone

from customers.selectors import duplicates
from customers.views import duplicates as duplicate_views
from tests.accounts.factories import TeamFactory
from tests.customers.factories import CompanyFactory, CustomerFactory

pytestmark = pytest.mark.django_db

PAGE = "/customers/duplicates/"
API = "/api/v1/customers/duplicates/"


def groups_on(response) -> list[tuple[str, list[str]]]:
    """(rule, [names of the customers]) of each group on a page."""
    assert response.status_code == 200, response.content
    return [
        (entry["group"].rule, [customer.name for customer in entry["group"].customers])
        for entry in response.context["groups"]
    ]


def all_groups(client, **params) -> list[tuple[str, list[str]]]:
    """Every group, following the pages to the end."""
    found, cursor = [], ""
    while True:
        response = client.get(PAGE, {**params, "cursor": cursor})
        found += groups_on(response)
        cursor = response.context["next_cursor"]
        if not cursor:
            return found


def test_customers_with_the_same_email_are_a_group(rep, rep_client):
    # given two records with the same email, and a third with another
    CustomerFactory(name="Ada Lovelace", email="ada@example.com", owner=rep)
    CustomerFactory(name="A. Lovelace", email="ada@example.com", owner=rep)
    CustomerFactory(name="Grace Hopper", email="grace@example.com", owner=rep)

    # when  # then
    assert groups_on(rep_client.get(PAGE)) == [("email", ["Ada Lovelace", "A. Lovelace"])]


def test_customers_with_the_same_phone_are_a_group(rep, rep_client):
    # given two records of one number (stored in E.164) and blank phones, which never match
    CustomerFactory(name="Li Lei", phone="+8613800138000", owner=rep)
    CustomerFactory(name="Lei Li", phone="+8613800138000", owner=rep)
    CustomerFactory(name="Han Meimei", phone="", owner=rep)
    CustomerFactory(name="Meimei Han", phone="", owner=rep)

    # when  # then
    assert groups_on(rep_client.get(PAGE)) == [("phone", ["Li Lei", "Lei Li"])]


def test_similar_names_in_the_same_company_are_a_group(rep, rep_client):
    # given names that differ by a letter, by case and order, or not at all, in one company
    acme = CompanyFactory(name="Acme")
    for name in ("John Smith", "Jon Smith", "SMITH, John", "Wang Fang", "王芳", "王芳", "Li Na"):
        CustomerFactory(name=name, company=acme, owner=rep)
    CustomerFactory(name="Li Ni", company=acme, owner=rep)

    # when
    found = groups_on(rep_client.get(PAGE, {"rule": "name"}))

    # then "Li Na" and "Li Ni" are too far apart; the rest pair up
    assert sorted(sorted(names) for _rule, names in found) == [
        ["John Smith", "Jon Smith", "SMITH, John"],
        ["王芳", "王芳"],
    ]


def test_similar_names_in_different_companies_or_none_are_not_a_group(rep, rep_client):
    # given the same name at two companies, and twice without a company
    CustomerFactory(name="Zhang Wei", company=CompanyFactory(), owner=rep)
    CustomerFactory(name="Zhang Wei", company=CompanyFactory(), owner=rep)
    CustomerFactory(name="Liu Yang", company=None, owner=rep)
    CustomerFactory(name="Liu Yang", company=None, owner=rep)

    # when  # then
    assert groups_on(rep_client.get(PAGE)) == []
    assert "No likely duplicates" in rep_client.get(PAGE).content.decode()


def test_only_customers_the_user_can_see_take_part(rep, other_team_rep, other_team, rep_client):
    # given a shared email across two teams and a shared phone seen twice by the rep
    CustomerFactory(name="Mine", email="shared@example.com", owner=rep)
    CustomerFactory(name="Theirs", email="shared@example.com", team=other_team)
    CustomerFactory(name="Mine A", phone="+8613900139000", owner=rep)
    CustomerFactory(name="Mine B", phone="+8613900139000", owner=rep)
    CustomerFactory(name="Theirs C", phone="+8613900139000", owner=other_team_rep)

    # when
    found = groups_on(rep_client.get(PAGE))

    # then the email is no group for the rep (one visible), the phone group has two members
    assert found == [("phone", ["Mine A", "Mine B"])]
    assert rep_client.get(PAGE).context["groups"][0]["group"].size == 2


def test_erased_customers_take_part_in_no_rule(rep, rep_client):
    # given two erased customers with similar names at one company, an email and a phone
    acme = CompanyFactory()
    for index in (1, 2):
        CustomerFactory(
            name=f"Erased customer #{index}",
            email="gone@example.com",
            phone="+8613600136000",
            company=acme,
            owner=rep,
            erased_at=timezone.now(),
        )

    # when  # then
    assert groups_on(rep_client.get(PAGE)) == []


def test_groups_page_by_position_across_the_rules(rep, rep_client):
    # given 25 email groups and one phone group
    for index in range(25):
        for copy in ("a", "b"):
            CustomerFactory(
                name=f"E{index:02d}{copy}", email=f"p{index:02d}@example.com", owner=rep
            )
    CustomerFactory(name="Phone a", phone="+8613700137000", owner=rep)
    CustomerFactory(name="Phone b", phone="+8613700137000", owner=rep)

    # when
    first = rep_client.get(PAGE)
    second = rep_client.get(PAGE, {"cursor": first.context["next_cursor"]})

    # then twenty a page, email groups first, then the phone group
    assert [names[0] for _rule, names in groups_on(first)] == [f"E{i:02d}a" for i in range(20)]
    assert groups_on(second)[:5] == [("email", [f"E{i:02d}a", f"E{i:02d}b"]) for i in range(20, 25)]
    assert groups_on(second)[5:] == [("phone", ["Phone a", "Phone b"])]
    assert second.context["next_cursor"] == ""
    assert "First page" in second.content.decode()


def test_a_rule_tab_lists_only_that_rule(rep, rep_client):
    # given an email group and a phone group
    CustomerFactory(name="Email a", email="same@example.com", owner=rep)
    CustomerFactory(name="Email b", email="same@example.com", owner=rep)
    CustomerFactory(name="Phone a", phone="+8613700137000", owner=rep)
    CustomerFactory(name="Phone b", phone="+8613700137000", owner=rep)

    # when  # then
    assert groups_on(rep_client.get(PAGE, {"rule": "phone"})) == [("phone", ["Phone a", "Phone b"])]
    assert groups_on(rep_client.get(PAGE, {"rule": "unknown"})) == [
        ("email", ["Email a", "Email b"]),
        ("phone", ["Phone a", "Phone b"]),
    ]


def test_a_broken_position_shows_the_first_page(rep, rep_client):
    # given
    CustomerFactory(name="Email a", email="same@example.com", owner=rep)
    CustomerFactory(name="Email b", email="same@example.com", owner=rep)

    # when  # then
    assert groups_on(rep_client.get(PAGE, {"cursor": "not-a-cursor"})) == [
        ("email", ["Email a", "Email b"])
    ]


def test_name_groups_are_complete_across_chunks_and_pages(rep, rep_client, monkeypatch):
    # given tiny chunks, budget and pages, a company larger than a chunk and many companies
    monkeypatch.setattr(duplicates, "NAME_CHUNK", 3)
    monkeypatch.setattr(duplicates, "NAME_SCAN_BUDGET", 4)
    monkeypatch.setattr(duplicate_views, "GROUPS_PER_PAGE", 2)
    big = CompanyFactory(name="Big")
    for name in ("Anna Berg", "Ana Berg", "Carl Dahl", "Karl Dahl", "Eve Fox"):
        CustomerFactory(name=name, company=big, owner=rep)
    expected = [["Ana Berg", "Anna Berg"], ["Carl Dahl", "Karl Dahl"]]
    for index in range(4):
        company = CompanyFactory()
        CustomerFactory(name=f"Person {index}", company=company, owner=rep)
        CustomerFactory(name=f"Person {index}", company=company, owner=rep)
        CustomerFactory(name="Someone Else", company=company, owner=rep)
        expected.append([f"Person {index}", f"Person {index}"])

    # when every page is followed
    found = all_groups(rep_client, rule="name")

    # then each group appears once, none is lost at a chunk's or a page's edge
    assert sorted(sorted(names) for _rule, names in found) == sorted(expected)


def test_a_group_shows_its_first_customers_and_counts_them_all(rep, rep_client, monkeypatch):
    # given twelve records with one email
    monkeypatch.setattr(duplicates, "MEMBERS_SHOWN", 10)
    for index in range(12):
        CustomerFactory(name=f"Copy {index:02d}", email="many@example.com", owner=rep)

    # when
    response = rep_client.get(PAGE)

    # then
    group = response.context["groups"][0]["group"]
    assert group.size == 12
    assert [customer.name for customer in group.customers] == [f"Copy {i:02d}" for i in range(10)]
    assert "12 customers" in response.content.decode()


def test_the_page_compares_side_by_side_and_offers_merges_to_managers(
    manager, rep, team, client_for
):
    # given a group in the manager's team
    first = CustomerFactory(name="Ada", email="ada@example.com", city="Beijing", team=team)
    second = CustomerFactory(name="Ada L.", email="ada@example.com", city="Tianjin", team=team)

    # when
    as_manager = client_for(manager).get(PAGE)
    as_rep = client_for(rep).get(PAGE)

    # then differing rows are marked; only the manager may start a merge
    rows = {row["label"]: row for row in as_manager.context["groups"][0]["rows"]}
    assert rows["City"]["values"] == ["Beijing", "Tianjin"]
    assert rows["City"]["differs"] is True
    assert rows["Email"]["differs"] is False
    merge_link = f"/customers/{first.pk}/merge/?merged={second.pk}"
    assert merge_link in as_manager.content.decode()
    assert merge_link not in as_rep.content.decode()


def test_the_page_needs_the_view_permission(user_without_role, client_for):
    # when  # then
    assert client_for(user_without_role).get(PAGE).status_code == 403


@pytest.mark.parametrize("per_rule", [2, 6])
def test_the_page_queries_are_bounded(rep, rep_client, django_assert_max_num_queries, per_rule):
    # given groups of each rule, with companies, owners and teams to show
    for index in range(per_rule):
        company = CompanyFactory()
        for _copy in ("a", "b"):
            team = TeamFactory()
            CustomerFactory(email=f"e{index}@example.com", phone="", owner=rep, team=team)
            CustomerFactory(phone=f"+86137{index:08d}", email="", owner=rep, team=team)
            CustomerFactory(name=f"Name {index}", email="", phone="", company=company, owner=rep)

    # when  # then the number of queries does not grow with the groups shown
    with django_assert_max_num_queries(20):
        everything = rep_client.get(PAGE)
    assert len(everything.context["groups"]) == 3 * per_rule
    for rule in ("email", "phone", "name"):
        with django_assert_max_num_queries(12):
            response = rep_client.get(PAGE, {"rule": rule})
        assert len(response.context["groups"]) == per_rule


# --- the API -------------------------------------------------------------------------------


def test_api_lists_groups_page_by_page(rep, rep_client, django_assert_max_num_queries):
    # given three email groups and a phone group
    for index in range(3):
        CustomerFactory(name=f"E{index}a", email=f"e{index}@example.com", owner=rep)
        CustomerFactory(name=f"E{index}b", email=f"e{index}@example.com", owner=rep)
    CustomerFactory(name="Pa", phone="+8613700137000", owner=rep)
    CustomerFactory(name="Pb", phone="+8613700137000", owner=rep)

    # when
    with django_assert_max_num_queries(13):
        first = rep_client.get(API, {"page_size": 2})
    second = rep_client.get(first.json()["next"])

    # then
    assert first.status_code == 200
    body = first.json()
    assert [group["key"] for group in body["results"]] == ["e0@example.com", "e1@example.com"]
    assert body["results"][0]["rule"] == "email"
    assert body["results"][0]["size"] == 2
    assert [customer["name"] for customer in body["results"][0]["customers"]] == ["E0a", "E0b"]
    assert [(group["rule"], group["key"]) for group in second.json()["results"]] == [
        ("email", "e2@example.com"),
        ("phone", "+8613700137000"),
    ]
    # a page that ends with a rule may lead to an empty last one: the next rule is not read ahead
    last = rep_client.get(second.json()["next"]).json()
    assert last == {"next": None, "results": []}


def test_api_duplicates_is_not_taken_for_a_customer_detail(rep, rep_client):
    # when  # then the path reaches the duplicates endpoint, not the customers/{pk}/ route
    body = rep_client.get(API).json()
    assert body == {"next": None, "results": []}


@pytest.mark.parametrize(
    ("params", "field"),
    [({"cursor": "garbage"}, "cursor"), ({"rule": "age"}, "rule"), ({"page_size": 0}, "page_size")],
)
def test_api_bad_parameters_are_400_in_the_error_shape(rep, rep_client, params, field):
    # when
    response = rep_client.get(API, params)

    # then
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["fields"]


def test_api_needs_the_view_permission(user_without_role, client_for):
    # when
    response = client_for(user_without_role).get(API)

    # then
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
