"""Assignment rules: who gets new leads (from web forms) and deals, the rule pages and API, and
who may change them."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache

from crm.accounts import roles
from customers.models import Customer
from sales.models import Assignment, AssignmentRule, Deal
from sales.services.deals import deal_create
from tests.accounts.factories import TeamFactory, TeamMembershipFactory, UserFactory
from tests.customers.factories import CustomerFactory
from tests.sales.factories import (
    AssignmentFactory,
    AssignmentRuleFactory,
    DealFactory,
    WebFormFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def webform(manager, team):
    return WebFormFactory(
        slug="contact", fields=["name", "email", "city"], owner=manager, team=team
    )


def send_lead(client, *, email: str, city: str = "Shanghai", address: str = "127.0.0.1"):
    response = client.post(
        "/sales/f/contact/", {"name": email, "email": email, "city": city}, REMOTE_ADDR=address
    )
    assert response.status_code == 200, response.content
    return Customer.objects.get(email=email)


# Choosing the owner ------------------------------------------------------------------------------


def test_round_robin_gives_leads_to_team_members_in_turn(client, webform, rep, rep_teammate, team):
    # given
    rule = AssignmentRuleFactory(
        name="Everyone", applies_to="leads", strategy="round_robin", team=team
    )

    # when (from several addresses, so the rate limit stays out of the way)
    owners = [
        send_lead(client, email=f"lead{n}@example.com", address=f"10.0.0.{n}").owner
        for n in range(5)
    ]

    # then
    first, second = sorted([rep, rep_teammate], key=lambda user: user.pk)
    assert owners == [first, second, first, second, first]
    assignments = Assignment.objects.filter(rule=rule)
    assert assignments.count() == 5
    assert {a.content_type for a in assignments} == {ContentType.objects.get_for_model(Customer)}
    assert {a.assigned_to for a in assignments} == {rep, rep_teammate}
    customers = Customer.objects.filter(pk__in=assignments.values("object_id"))
    assert set(customers.values_list("team", flat=True)) == {team.pk}


def test_round_robin_skips_inactive_members(client, webform, rep, rep_teammate, team):
    # given
    rep_teammate.is_active = False
    rep_teammate.save()
    AssignmentRuleFactory(applies_to="leads", strategy="round_robin", team=team)

    # when
    owners = {
        send_lead(client, email=f"l{n}@example.com", address=f"10.0.1.{n}").owner for n in range(3)
    }

    # then
    assert owners == {rep}


def test_city_rule_matches_without_regard_to_case(client, webform, rep, other_team_rep):
    # given
    AssignmentRuleFactory(
        name="Beijing",
        applies_to="leads",
        match="city",
        match_values=" beijing , Tianjin",
        owner=other_team_rep,
        position=0,
    )
    AssignmentRuleFactory(
        name="Beijing too",
        applies_to="leads",
        match="city",
        match_values="BEIJING",
        owner=rep,
        position=1,
    )

    # when
    beijing = send_lead(client, email="b@example.com", city="BeiJing")
    shanghai = send_lead(client, email="s@example.com", city="Shanghai")

    # then the first matching rule, by position, decides
    assert beijing.owner == other_team_rep
    assert Assignment.objects.get(object_id=beijing.pk).rule.name == "Beijing"
    # and an unmatched lead goes to the form's target, with no assignment recorded
    assert shanghai.owner == webform.owner
    assert not Assignment.objects.filter(object_id=shanghai.pk).exists()


def test_source_and_province_rules_and_inactive_rules(client, webform, rep, rep_teammate):
    # given
    AssignmentRuleFactory(
        applies_to="leads", match="source", match_values="website", owner=rep, is_active=False
    )
    AssignmentRuleFactory(
        applies_to="both", match="source", match_values="Website", owner=rep_teammate
    )

    # when
    lead = send_lead(client, email="w@example.com")

    # then
    assert lead.owner == rep_teammate


def test_rules_for_deals_only_leave_leads_alone(client, webform, rep):
    # given
    AssignmentRuleFactory(applies_to="deals", owner=rep)

    # when
    lead = send_lead(client, email="d@example.com")

    # then
    assert lead.owner == webform.owner


def test_fallback_owner_when_the_team_has_nobody(client, webform, other_team_rep):
    # given an empty team
    empty = TeamFactory(name="Nobody yet")
    rule = AssignmentRuleFactory(
        applies_to="leads", strategy="round_robin", team=empty, fallback_owner=other_team_rep
    )

    # when
    lead = send_lead(client, email="f@example.com")

    # then
    assert lead.owner == other_team_rep
    assert lead.team == empty
    assignment = Assignment.objects.get()
    assert (assignment.rule, assignment.assigned_to) == (rule, other_team_rep)


def test_fallback_owner_when_the_fixed_owner_has_left(client, webform, rep, rep_teammate):
    # given
    rep.is_active = False
    rep.save()
    AssignmentRuleFactory(applies_to="leads", owner=rep, fallback_owner=rep_teammate)

    # when
    lead = send_lead(client, email="g@example.com")

    # then
    assert lead.owner == rep_teammate


def test_no_member_and_no_fallback_leaves_the_lead_to_the_form_target(client, webform):
    # given
    AssignmentRuleFactory(applies_to="leads", strategy="round_robin", team=TeamFactory())

    # when
    lead = send_lead(client, email="h@example.com")

    # then
    assert lead.owner == webform.owner
    assert Assignment.objects.get().assigned_to == webform.owner


def test_deal_rules_assign_new_deals(rep, rep_teammate, team, manager):
    # given
    AssignmentRuleFactory(applies_to="deals", strategy="round_robin", team=team)
    customer = CustomerFactory(owner=manager, team=team)

    # when
    deals = [deal_create(actor=manager, name=f"D{n}", customer=customer) for n in range(2)]

    # then
    assert {deal.owner for deal in deals} == {rep, rep_teammate}
    assert (
        Assignment.objects.filter(content_type=ContentType.objects.get_for_model(Deal)).count() == 2
    )


# The pages ---------------------------------------------------------------------------------------


def rule_data(**overrides):
    data = {
        "name": "North",
        "is_active": "on",
        "applies_to": "both",
        "match": "province",
        "match_values": "Hebei,  Shanxi ,",
        "strategy": "round_robin",
        "team": "",
        "owner": "",
        "fallback_owner": "",
    }
    data.update(overrides)
    return data


def test_manager_creates_edits_and_deletes_a_rule(client_for, manager, team, rep):
    # given
    client = client_for(manager)

    # when
    created = client.post("/sales/assignment-rules/new/", rule_data(team=team.pk))
    rule = AssignmentRule.objects.get()
    edited = client.post(
        f"/sales/assignment-rules/{rule.pk}/edit/",
        rule_data(name="North fixed", strategy="fixed", owner=rep.pk),
    )
    deleted = client.post(f"/sales/assignment-rules/{rule.pk}/delete/")

    # then
    assert created.status_code == edited.status_code == deleted.status_code == 302
    assert created["Location"] == "/sales/assignment-rules/"
    assert not AssignmentRule.objects.exists()


def test_rule_values_are_tidied(client_for, manager, team):
    # when
    client_for(manager).post("/sales/assignment-rules/new/", rule_data(team=team.pk))

    # then
    assert AssignmentRule.objects.get().match_values == "Hebei, Shanxi"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"strategy": "round_robin"}, "Round robin shares records among a team"),
        ({"strategy": "fixed"}, "Choose who always gets the records of this rule."),
        ({"match_values": " , "}, "List the values to match, separated by commas."),
    ],
)
def test_rule_form_explains_what_is_missing(client_for, manager, overrides, message):
    # when
    response = client_for(manager).post("/sales/assignment-rules/new/", rule_data(**overrides))

    # then
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not AssignmentRule.objects.exists()


def test_list_shows_rules_in_order_with_their_assignment_counts(
    client_for, manager, rep, django_assert_max_num_queries
):
    # given
    second = AssignmentRuleFactory(name="Second rule", owner=rep, position=2)
    first = AssignmentRuleFactory(name="First rule", owner=rep, position=1)
    AssignmentFactory.create_batch(3, rule=second)
    AssignmentFactory(rule=first)
    for n in range(10):
        AssignmentRuleFactory(name=f"Extra {n}", owner=rep, position=10 + n)

    client = client_for(manager)

    # when
    with django_assert_max_num_queries(10):
        response = client.get("/sales/assignment-rules/")

    # then
    body = response.content.decode()
    assert body.index("First rule") < body.index("Second rule")
    rules = {rule.name: rule for rule in response.context["page"]}
    assert rules["Second rule"].assignment_count == 3
    assert rules["First rule"].assignment_count == 1


def test_move_a_rule_up_and_down(client_for, manager, rep):
    # given (two rules share a position, as rules made elsewhere may)
    a = AssignmentRuleFactory(name="A", owner=rep, position=0)
    b = AssignmentRuleFactory(name="B", owner=rep, position=0)
    c = AssignmentRuleFactory(name="C", owner=rep, position=5)
    client = client_for(manager)

    def order():
        return list(
            AssignmentRule.objects.order_by("position", "pk").values_list("name", flat=True)
        )

    # when  # then
    client.post(f"/sales/assignment-rules/{c.pk}/move/", {"direction": "up"})
    assert order() == ["A", "C", "B"]
    client.post(f"/sales/assignment-rules/{a.pk}/move/", {"direction": "down"})
    assert order() == ["C", "A", "B"]
    client.post(f"/sales/assignment-rules/{c.pk}/move/", {"direction": "up"})
    assert order() == ["C", "A", "B"]
    assert list(AssignmentRule.objects.order_by("position").values_list("position", flat=True)) == [
        0,
        1,
        2,
    ]
    assert b.pk


def test_a_new_rule_goes_last(client_for, manager, rep, team):
    # given
    AssignmentRuleFactory(owner=rep, position=7)

    # when
    client_for(manager).post("/sales/assignment-rules/new/", rule_data(team=team.pk))

    # then
    assert AssignmentRule.objects.get(name="North").position == 8


def test_rep_reads_rules_but_cannot_change_them(rep_client, rep):
    # given
    rule = AssignmentRuleFactory(name="Fixed", owner=rep)

    # when  # then
    assert rep_client.get("/sales/assignment-rules/").status_code == 200
    assert rep_client.get("/sales/assignment-rules/new/").status_code == 403
    assert rep_client.post("/sales/assignment-rules/new/", rule_data()).status_code == 403
    assert rep_client.get(f"/sales/assignment-rules/{rule.pk}/edit/").status_code == 403
    assert rep_client.post(f"/sales/assignment-rules/{rule.pk}/delete/").status_code == 403
    moved = rep_client.post(f"/sales/assignment-rules/{rule.pk}/move/", {"direction": "up"})
    assert moved.status_code == 403
    assert AssignmentRule.objects.filter(pk=rule.pk, name="Fixed").exists()


# The API -----------------------------------------------------------------------------------------


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def test_api_rule_crud_and_move(client_for, admin_user, team, rep):
    # given
    client = client_for(admin_user)

    # when
    first = post(
        client,
        "/api/v1/assignment-rules/",
        {"name": "Round", "strategy": "round_robin", "team": team.pk, "applies_to": "leads"},
    )
    second = post(
        client, "/api/v1/assignment-rules/", {"name": "Fixed", "owner": rep.pk, "strategy": "fixed"}
    )
    moved = post(
        client, f"/api/v1/assignment-rules/{second.json()['id']}/move/", {"direction": "up"}
    )
    patched = client.patch(
        f"/api/v1/assignment-rules/{first.json()['id']}/",
        {"is_active": False},
        content_type="application/json",
    )
    listed = client.get("/api/v1/assignment-rules/")
    deleted = client.delete(f"/api/v1/assignment-rules/{first.json()['id']}/")

    # then
    assert first.status_code == 201, first.content
    assert (first.json()["position"], second.json()["position"]) == (0, 1)
    assert moved.status_code == 200
    assert moved.json()["position"] == 0
    assert patched.json()["is_active"] is False
    assert [row["name"] for row in listed.json()["results"]] == ["Fixed", "Round"]
    assert deleted.status_code == 204


def test_api_rule_errors_name_the_field(client_for, admin_user):
    # when
    response = post(
        client_for(admin_user),
        "/api/v1/assignment-rules/",
        {"name": "No team", "strategy": "round_robin"},
    )
    unknown = post(
        client_for(admin_user),
        "/api/v1/assignment-rules/",
        {"name": "X", "strategy": "fixed", "last_assigned": 1},
    )

    # then
    assert response.status_code == 400
    assert "team" in response.json()["error"]["fields"]
    assert unknown.status_code == 400
    assert "last_assigned" in unknown.json()["error"]["fields"]


def test_api_rep_cannot_write_rules(rep_client, rep):
    # given
    rule = AssignmentRuleFactory(owner=rep)

    # when  # then
    assert rep_client.get("/api/v1/assignment-rules/").status_code == 200
    assert post(rep_client, "/api/v1/assignment-rules/", {"name": "X"}).status_code == 403
    assert (
        post(
            rep_client, f"/api/v1/assignment-rules/{rule.pk}/move/", {"direction": "up"}
        ).status_code
        == 403
    )
    assert rep_client.delete(f"/api/v1/assignment-rules/{rule.pk}/").status_code == 403


def test_api_assignments_filter_by_record_and_follow_visibility(
    client_for, rep, team, other_team_rep, other_team, django_assert_max_num_queries
):
    # given
    mine = CustomerFactory(owner=rep, team=team)
    theirs = CustomerFactory(owner=other_team_rep, team=other_team)
    customer_type = ContentType.objects.get_for_model(Customer)
    rule = AssignmentRuleFactory(owner=rep)
    on_mine = AssignmentFactory(content_type=customer_type, object_id=mine.pk, rule=rule)
    AssignmentFactory(content_type=customer_type, object_id=theirs.pk, rule=rule)
    deal_assignment = AssignmentFactory(
        object_id=DealFactory(customer=mine, owner=rep, team=team).pk, rule=rule
    )
    AssignmentFactory(object_id=DealFactory(customer=theirs, owner=other_team_rep).pk)
    client = client_for(rep)

    # when
    with django_assert_max_num_queries(10):
        everything = client.get("/api/v1/assignments/")
    of_customer = client.get(
        "/api/v1/assignments/", {"record_type": "customers.customer", "record_id": mine.pk}
    )
    bad_type = client.get("/api/v1/assignments/", {"record_type": "nope.nothing"})

    # then
    ids = {row["id"] for row in everything.json()["results"]}
    assert ids == {on_mine.pk, deal_assignment.pk}
    rows = of_customer.json()["results"]
    assert [(row["record_type"], row["record_id"]) for row in rows] == [
        ("customers.customer", mine.pk)
    ]
    assert bad_type.status_code == 400
    assert "record_type" in bad_type.json()["error"]["fields"]


def test_marketing_user_can_read_but_not_write_rules(client_for, team):
    # given
    marketer = UserFactory(username="mk", roles=[roles.MARKETING])
    TeamMembershipFactory(team=team, user=marketer)

    # when  # then
    client = client_for(marketer)
    assert client.get("/sales/assignment-rules/").status_code == 200
    assert client.get("/sales/assignment-rules/new/").status_code == 403


def test_rule_pages_render(client_for, manager, rep):
    # given
    rule = AssignmentRuleFactory(name="Fixed for Riley", owner=rep)
    client = client_for(manager)

    # when  # then
    assert "No rules yet" not in client.get("/sales/assignment-rules/").content.decode()
    assert client.get("/sales/assignment-rules/new/").status_code == 200
    edit = client.get(f"/sales/assignment-rules/{rule.pk}/edit/")
    assert 'value="Fixed for Riley"' in edit.content.decode()
    assert client.get(f"/sales/assignment-rules/{rule.pk}/delete/").status_code == 200
