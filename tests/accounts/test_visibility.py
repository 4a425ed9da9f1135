"""The visibility rule (crm.accounts.selectors), on customers, and on every surface that lists them.

Given a rep in a team, a teammate, a manager of that team and a rep in another team, each record
below is visible to exactly the people the rule names.
"""

import pytest
from django.contrib.auth.models import AnonymousUser

from crm.accounts.models import User
from crm.accounts.selectors import record_is_visible_to, records_visible_to
from crm.accounts.services import record_share
from customers.models import Customer
from tests.accounts.factories import UserFactory
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(rep, rep_teammate, other_team_rep, team, other_team):
    return {
        "own": CustomerFactory(name="Own Alpha", owner=rep),
        "teammate": CustomerFactory(name="Teammate Alpha", owner=rep_teammate),
        # Owned outside the team but assigned to it: the team assignment alone makes it visible.
        "team": CustomerFactory(name="Team Alpha", owner=other_team_rep, team=team),
        "other_team": CustomerFactory(name="Other Alpha", owner=other_team_rep, team=other_team),
        "unowned": CustomerFactory(name="Nobody Alpha"),
    }


def fresh(user: User) -> User:
    """The selectors cache a user's teams on the instance; a request always has a fresh one."""
    return User.objects.get(pk=user.pk)


def visible_keys(user, records) -> set[str]:
    visible = set(records_visible_to(user=fresh(user), queryset=Customer.objects.all()))
    return {key for key, record in records.items() if record in visible}


def test_owner_teammate_and_team_records_are_visible_to_a_rep(rep, records):
    # given a rep in a team  # when  # then
    assert visible_keys(rep, records) == {"own", "teammate", "team"}


def test_other_teams_records_are_invisible(other_team_rep, records):
    # given the rep of the other team
    # when / then they see their own team's records, which include the ones they own
    assert visible_keys(other_team_rep, records) == {"team", "other_team"}


def test_manager_sees_the_teams_they_manage_but_not_other_teams(manager, records):
    # given a manager of the rep's team who is not a member of it
    # when / then
    assert visible_keys(manager, records) == {"own", "teammate", "team"}


def test_manager_of_no_team_sees_only_their_own(records):
    # given a manager without teams
    lonely_manager = UserFactory(roles=["Manager"])
    mine = CustomerFactory(owner=lonely_manager)

    # when
    visible = records_visible_to(user=fresh(lonely_manager), queryset=Customer.objects.all())

    # then
    assert list(visible) == [mine]


@pytest.mark.parametrize("who", ["admin_user", "superuser"])
def test_admins_see_every_record(request, who, records):
    # given an Admin-role user or a superuser
    user = request.getfixturevalue(who)

    # when / then
    assert visible_keys(user, records) == set(records)


def test_a_record_shared_with_a_user_becomes_visible_to_them(
    rep, rep_teammate, other_team_rep, records
):
    # given a record of another team, invisible to the rep
    record = records["other_team"]
    assert not record_is_visible_to(user=fresh(rep), record=record)

    # when it is shared with the rep
    record_share(record=record, shared_by=other_team_rep, user=rep)

    # then the rep sees it, and their teammate still does not
    assert record_is_visible_to(user=fresh(rep), record=record)
    assert visible_keys(rep, records) == {"own", "teammate", "team", "other_team"}
    assert not record_is_visible_to(user=fresh(rep_teammate), record=record)


def test_a_record_shared_with_a_team_becomes_visible_to_its_members_and_manager(
    rep, rep_teammate, manager, other_team_rep, team, records
):
    # given a record of another team
    record = records["unowned"]
    stranger = UserFactory(roles=["Sales rep"])

    # when it is shared with the rep's team
    record_share(record=record, shared_by=other_team_rep, team=team)

    # then every member and the manager of the team see it; a stranger does not
    for user in (rep, rep_teammate, manager):
        assert record_is_visible_to(user=fresh(user), record=record), user
    assert not record_is_visible_to(user=fresh(stranger), record=record)


def test_inactive_and_anonymous_users_see_nothing(rep, records):
    # given a rep who has left, and someone not signed in
    rep.is_active = False
    rep.save(update_fields=["is_active"])
    anonymous = AnonymousUser()

    # when / then
    for user in (fresh(rep), anonymous):
        assert not records_visible_to(user=user, queryset=Customer.objects.all()).exists()
        assert not record_is_visible_to(user=user, record=records["own"])


def test_record_is_visible_to_agrees_with_records_visible_to(rep, records):
    # given the rep  # when  # then each record's answer matches the queryset's
    for key, record in records.items():
        expected = key in {"own", "teammate", "team"}
        assert record_is_visible_to(user=fresh(rep), record=record) is expected, key


# The same rule on every surface: pages, API, search.

VIEWERS = ["rep", "rep_teammate", "other_team_rep", "manager", "admin_user", "superuser"]


def names_of(customers) -> set[str]:
    return {customer.name for customer in customers}


@pytest.mark.parametrize("who", VIEWERS)
def test_list_page_and_api_list_show_exactly_the_visible_records(request, who, records, client_for):
    # given a viewer and what the selector says they may see
    user = request.getfixturevalue(who)
    expected = names_of(records_visible_to(user=fresh(user), queryset=Customer.objects.all()))
    client = client_for(user)

    # when they open the list page and call the list endpoint
    page = client.get("/customers/")
    api = client.get("/api/v1/customers/")

    # then both show exactly those records
    assert page.status_code == 200
    assert names_of(page.context["page"].object_list) == expected
    assert api.status_code == 200
    assert {row["name"] for row in api.json()["results"]} == expected


@pytest.mark.parametrize("who", VIEWERS)
def test_detail_page_and_api_detail_404_for_invisible_records(request, who, records, client_for):
    # given a viewer
    user = request.getfixturevalue(who)
    client = client_for(user)

    for key, record in records.items():
        # when they open each record's page and endpoint
        visible = record_is_visible_to(user=fresh(user), record=record)
        page = client.get(f"/customers/{record.pk}/")
        api = client.get(f"/api/v1/customers/{record.pk}/")

        # then both answer 200 exactly when the record is visible, and 404 otherwise
        expected_status = 200 if visible else 404
        assert page.status_code == expected_status, (who, key)
        assert api.status_code == expected_status, (who, key)
        if not visible:
            assert api.json()["error"]["code"] == "not_found"


def test_search_never_finds_invisible_records(rep, records, client_for):
    # given records named "... Alpha" of which the rep may see three
    client = client_for(rep)

    # when the rep searches for "Alpha" on the page and through the API
    page = client.get("/customers/", {"q": "Alpha"})
    api = client.get("/api/v1/customers/", {"search": "Alpha"})

    # then only the visible matches come back
    expected = {"Own Alpha", "Teammate Alpha", "Team Alpha"}
    assert names_of(page.context["page"].object_list) == expected
    assert {row["name"] for row in api.json()["results"]} == expected


def test_search_by_exact_email_of_an_invisible_record_finds_nothing(rep, records, client_for):
    # given the email of another team's record
    email = records["other_team"].email

    # when the rep searches for it
    page = client_for(rep).get("/customers/", {"q": email})

    # then nothing is found
    assert list(page.context["page"].object_list) == []
    assert "No customers match these filters." in page.content.decode()
