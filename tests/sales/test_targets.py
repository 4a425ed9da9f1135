"""Sales targets: the services' rules and permissions, attainment on hand-built deals, the pages
and /api/v1/targets/."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from crm.accounts import roles
from sales.models import Pipeline, SalesTarget
from sales.selectors.forecasts import period_current, target_list_visible
from sales.services.targets import target_create, target_delete, target_update
from tests.accounts.factories import UserFactory
from tests.sales.factories import DealFactory, SalesTargetFactory

pytestmark = pytest.mark.django_db

NOVEMBER = date(2026, 11, 1)


def at(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
def won_stage():
    return Pipeline.objects.get(is_default=True).stages.get(name="Won")


@pytest.fixture
def lost_stage():
    return Pipeline.objects.get(is_default=True).stages.get(name="Lost")


def won(stage, amount: str, closed_at: datetime, **values):
    return DealFactory(stage=stage, amount=Decimal(amount), closed_at=closed_at, **values)


def create(actor, **values) -> SalesTarget:
    defaults = {"period": "month", "period_start": NOVEMBER, "amount": Decimal("5000.00")}
    return target_create(actor=actor, **{**defaults, **values})


def field_errors(excinfo) -> dict:
    return excinfo.value.message_dict


# Services ----------------------------------------------------------------------------------------


def test_a_manager_sets_a_target_for_a_member_of_their_team(manager, rep):
    target = create(manager, owner=rep, currency="")

    assert (target.owner, target.team, target.period, target.period_start) == (
        rep,
        None,
        "month",
        NOVEMBER,
    )
    assert target.amount == Decimal("5000.00")
    assert target.currency == "CNY"


def test_a_manager_sets_a_quarter_target_for_their_team(manager, team):
    target = create(manager, team=team, period="quarter", period_start=date(2026, 10, 1))

    assert (target.team, target.period) == (team, "quarter")


def test_a_second_target_for_the_same_rep_and_period_is_a_clear_error(manager, rep):
    create(manager, owner=rep)

    with pytest.raises(ValidationError) as excinfo:
        create(manager, owner=rep, amount=Decimal("1.00"))

    assert "already has a target for" in field_errors(excinfo)["period_start"][0]
    assert SalesTarget.objects.count() == 1


def test_the_same_period_as_a_quarter_is_another_target(manager, rep):
    create(manager, owner=rep, period="month", period_start=date(2026, 10, 1))

    create(manager, owner=rep, period="quarter", period_start=date(2026, 10, 1))

    assert SalesTarget.objects.count() == 2


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"period_start": date(2026, 11, 2)}, "period_start", "first day of the month"),
        (
            {"period": "quarter", "period_start": NOVEMBER},
            "period_start",
            "1 January, 1 April, 1 July or 1 October",
        ),
        ({"period": "week"}, "period", "month or a quarter"),
        ({"amount": Decimal("-1")}, "amount", "cannot be negative"),
        ({"amount": "lots"}, "amount", "Enter a number"),
        ({"amount": None}, "amount", "Enter the target amount"),
        ({"currency": "EURO"}, "currency", "at most 3"),
    ],
)
def test_bad_values_are_refused_under_their_field(manager, rep, values, field, message):
    with pytest.raises(ValidationError) as excinfo:
        create(manager, owner=rep, **values)

    assert message in " ".join(field_errors(excinfo)[field])
    assert not SalesTarget.objects.exists()


@pytest.mark.parametrize("subject", ["both", "neither"])
def test_a_target_is_for_a_rep_or_a_team(manager, rep, team, subject):
    values = {"owner": rep, "team": team} if subject == "both" else {}

    with pytest.raises(ValidationError) as excinfo:
        create(manager, **values)

    assert "one rep or for one team" in field_errors(excinfo)["owner"][0]


def test_a_rep_cannot_set_targets_not_even_their_own(rep, team):
    with pytest.raises(PermissionDenied):
        create(rep, owner=rep)
    with pytest.raises(PermissionDenied):
        create(rep, team=team)
    assert not SalesTarget.objects.exists()


def test_a_manager_who_manages_no_team_sets_no_target(rep):
    unattached = UserFactory(username="floating_manager", roles=[roles.MANAGER])

    with pytest.raises(PermissionDenied):
        create(unattached, owner=rep)


def test_a_manager_cannot_set_targets_outside_their_teams(manager, other_team, other_team_rep):
    with pytest.raises(PermissionDenied):
        create(manager, owner=other_team_rep)
    with pytest.raises(PermissionDenied):
        create(manager, team=other_team)


def test_an_admin_sets_any_target(admin_user, other_team_rep, other_team):
    create(admin_user, owner=other_team_rep)
    create(admin_user, team=other_team)

    assert SalesTarget.objects.count() == 2


def test_an_update_changes_the_amount_and_keeps_the_rules(manager, rep):
    november = create(manager, owner=rep)
    create(manager, owner=rep, period_start=date(2026, 12, 1))

    changed = target_update(actor=manager, target=november, amount=Decimal("6000.00"))
    assert changed.amount == Decimal("6000.00")

    with pytest.raises(ValidationError) as excinfo:
        target_update(actor=manager, target=changed, period_start=date(2026, 12, 1))
    assert "already has a target" in field_errors(excinfo)["period_start"][0]
    november.refresh_from_db()
    assert november.period_start == NOVEMBER


def test_an_update_cannot_move_a_target_out_of_the_managers_reach(manager, rep, other_team_rep):
    target = create(manager, owner=rep)

    with pytest.raises(PermissionDenied):
        target_update(actor=manager, target=target, owner=other_team_rep)
    target.refresh_from_db()
    assert target.owner == rep


def test_an_update_refuses_fields_it_does_not_set(manager, rep):
    target = create(manager, owner=rep)

    with pytest.raises(ValidationError) as excinfo:
        target_update(actor=manager, target=target, created_at=at(1, 1))

    assert "created_at" in field_errors(excinfo)


def test_only_a_manager_of_the_team_deletes_a_target(manager, rep):
    target = create(manager, owner=rep)

    with pytest.raises(PermissionDenied):
        target_delete(actor=rep, target=target)
    target_delete(actor=manager, target=target)

    assert not SalesTarget.objects.exists()


# Attainment --------------------------------------------------------------------------------------


@pytest.fixture
def november_deals(won_stage, lost_stage, rep, rep_teammate, team, other_team_rep, other_team):
    won(won_stage, "1200.00", at(11, 10), owner=rep, team=team)
    won(won_stage, "800.25", at(11, 30, 23), owner=rep, team=team)
    won(won_stage, "300.00", at(10, 31, 23), owner=rep, team=team)
    won(won_stage, "999.00", at(12, 1, 0), owner=rep, team=team)
    DealFactory(stage=lost_stage, amount=Decimal("700.00"), closed_at=at(11, 3), owner=rep)
    won(won_stage, "500.00", at(11, 2), owner=rep_teammate, team=team)
    won(won_stage, "10000.00", at(11, 2), owner=other_team_rep, team=other_team)


def by_subject(targets):
    return {str(target.owner or target.team): target for target in targets}


def test_attainment_sums_the_won_deals_of_the_period(november_deals, rep, team):
    SalesTargetFactory(owner=rep, period_start=NOVEMBER, amount=Decimal("4000.00"))
    SalesTargetFactory(team=team, period_start=NOVEMBER, amount=Decimal("5000.00"))
    SalesTargetFactory(
        owner=rep, period="quarter", period_start=date(2026, 10, 1), amount=Decimal("9000.00")
    )

    targets = list(target_list_visible(user=rep))

    month = [target for target in targets if target.period == "month"]
    assert by_subject(month)["Riley Chen"].attained == Decimal("2000.25")
    assert by_subject(month)["Sales East"].attained == Decimal("2500.25")
    (quarter,) = [target for target in targets if target.period == "quarter"]
    assert quarter.attained == Decimal("3299.25")


def test_attainment_counts_only_deals_the_user_may_see(
    november_deals, rep, other_team, other_team_rep, admin_user
):
    SalesTargetFactory(team=other_team, period_start=NOVEMBER, amount=Decimal("1.00"))
    # The other team's target, shared with nobody, is not in the rep's list at all.
    assert "Sales West" not in by_subject(target_list_visible(user=rep))

    assert by_subject(target_list_visible(user=admin_user))["Sales West"].attained == Decimal(
        "10000.00"
    )


def test_a_target_without_won_deals_is_at_zero(rep):
    SalesTargetFactory(owner=rep, period_start=NOVEMBER)

    (target,) = target_list_visible(user=rep)

    assert target.attained == Decimal("0.00")


# Pages -------------------------------------------------------------------------------------------


def test_the_target_list_shows_attainment_without_forms_for_a_rep(november_deals, rep, rep_client):
    SalesTargetFactory(owner=rep, period_start=NOVEMBER, amount=Decimal("4000.00"))

    response = rep_client.get(reverse("sales:target_list"), {"period": "2026-11"})

    assert response.status_code == 200
    content = response.content.decode()
    assert "2,000.25" in content
    assert "50.0%" in content
    assert '<progress class="attainment-bar" max="100" value="50.0"' in content
    assert reverse("sales:target_create") not in content
    assert "no conversion between currencies" in content


def test_the_target_list_is_of_the_chosen_period(rep, rep_client):
    SalesTargetFactory(owner=rep, period_start=NOVEMBER, amount=Decimal("4321.00"))
    SalesTargetFactory(owner=rep, period_start=date(2026, 12, 1), amount=Decimal("1234.00"))

    response = rep_client.get(reverse("sales:target_list"), {"period": "2026-12"})

    content = response.content.decode()
    assert "1,234.00" in content
    assert "4,321.00" not in content


def test_a_rep_cannot_open_the_target_forms(rep, rep_client):
    target = SalesTargetFactory(owner=rep, period_start=NOVEMBER)

    assert rep_client.get(reverse("sales:target_create")).status_code == 403
    assert rep_client.post(reverse("sales:target_create"), {}).status_code == 403
    assert rep_client.get(reverse("sales:target_edit", args=[target.pk])).status_code == 403
    assert rep_client.post(reverse("sales:target_delete", args=[target.pk])).status_code == 403
    assert SalesTarget.objects.count() == 1


def test_a_manager_adds_a_target_through_the_form(manager, rep, client_for):
    client = client_for(manager)

    response = client.post(
        reverse("sales:target_create"),
        {"owner": rep.pk, "period": "2026-Q4", "amount": "15000", "currency": "cny"},
    )

    assert response.status_code == 302
    assert response["Location"].endswith("?period=2026-Q4")
    target = SalesTarget.objects.get()
    assert (target.owner, target.period, target.period_start) == (rep, "quarter", date(2026, 10, 1))
    assert (target.amount, target.currency) == (Decimal("15000.00"), "CNY")


def test_the_form_shows_a_duplicate_on_the_period_field(manager, rep, client_for):
    SalesTargetFactory(owner=rep, period_start=NOVEMBER)

    response = client_for(manager).post(
        reverse("sales:target_create"), {"owner": rep.pk, "period": "2026-11", "amount": "1"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["period"][0].startswith("Riley Chen already has")
    assert SalesTarget.objects.count() == 1


def test_the_form_offers_only_the_managers_reps_and_teams(
    manager, rep, other_team_rep, other_team, client_for
):
    response = client_for(manager).post(
        reverse("sales:target_create"),
        {"owner": other_team_rep.pk, "period": "2026-11", "amount": "1"},
    )

    assert "owner" in response.context["form"].errors
    assert not SalesTarget.objects.exists()


def test_a_manager_edits_and_deletes_a_target(manager, rep, client_for):
    target = SalesTargetFactory(owner=rep, period_start=NOVEMBER)
    client = client_for(manager)

    form = client.get(reverse("sales:target_edit", args=[target.pk]))
    assert 'value="2026-11"' in form.content.decode()
    client.post(
        reverse("sales:target_edit", args=[target.pk]),
        {"owner": rep.pk, "period": "2026-11", "amount": "7777.77", "currency": "CNY"},
    )
    target.refresh_from_db()
    assert target.amount == Decimal("7777.77")

    assert client.get(reverse("sales:target_delete", args=[target.pk])).status_code == 200
    client.post(reverse("sales:target_delete", args=[target.pk]))
    assert not SalesTarget.objects.exists()


def test_another_teams_target_is_not_found(manager, other_team_rep, client_for):
    target = SalesTargetFactory(owner=other_team_rep, period_start=NOVEMBER)

    response = client_for(manager).get(reverse("sales:target_edit", args=[target.pk]))

    assert response.status_code == 404


def test_the_list_costs_the_same_with_more_targets_and_deals(
    won_stage, admin_user, client_for, django_assert_max_num_queries
):
    client = client_for(admin_user)
    for index in range(25):
        owner = UserFactory()
        SalesTargetFactory(owner=owner, period_start=NOVEMBER)
        won(won_stage, "10.00", at(11, 1 + index), owner=owner)

    with django_assert_max_num_queries(10):
        response = client.get(reverse("sales:target_list"), {"period": "2026-11"})

    assert response.status_code == 200
    assert response.content.decode().count("attainment-bar") == 25


def test_the_home_page_shows_the_reps_own_target(rep, rep_client, won_stage, team):
    period = period_current()
    SalesTargetFactory(owner=rep, period_start=period.start, amount=Decimal("1000.00"))
    won(won_stage, "250.00", period.start_at, owner=rep, team=team)

    response = rep_client.get(reverse("home"))

    content = response.content.decode()
    assert "My target" in content
    assert "25.0%" in content


# API ---------------------------------------------------------------------------------------------


def post(client, data):
    return client.post("/api/v1/targets/", data, content_type="application/json")


def test_the_api_lists_targets_with_attainment(november_deals, rep, team, client_for):
    SalesTargetFactory(owner=rep, period_start=NOVEMBER, amount=Decimal("4000.00"))
    SalesTargetFactory(team=team, period_start=NOVEMBER, amount=Decimal("0.00"))
    SalesTargetFactory(owner=rep, period_start=date(2026, 12, 1), amount=Decimal("1.00"))

    response = client_for(rep).get("/api/v1/targets/", {"period": "2026-11", "owner": rep.pk})

    assert response.status_code == 200, response.content
    (target,) = response.json()["results"]
    assert (target["amount"], target["attained"], target["attainment_percent"]) == (
        "4000.00",
        "2000.25",
        "50.0",
    )

    team_target = client_for(rep).get("/api/v1/targets/", {"team": team.pk}).json()["results"]
    assert team_target[0]["attained"] == "2500.25"
    assert team_target[0]["attainment_percent"] is None


def test_the_api_filters_by_kind_and_start(rep, client_for):
    SalesTargetFactory(owner=rep, period_start=NOVEMBER)
    SalesTargetFactory(owner=rep, period="quarter", period_start=date(2026, 10, 1))
    client = client_for(rep)

    quarters = client.get("/api/v1/targets/", {"period": "quarter"}).json()["results"]
    starting = client.get("/api/v1/targets/", {"period_start": "2026-10-01"}).json()["results"]
    bad = client.get("/api/v1/targets/", {"period": "someday"})

    assert [target["period"] for target in quarters] == ["quarter"]
    assert [target["period_start"] for target in starting] == ["2026-10-01"]
    assert bad.status_code == 400


def test_the_api_list_costs_a_bounded_number_of_queries(
    won_stage, rep, team, client_for, django_assert_max_num_queries
):
    for month in range(1, 13):
        SalesTargetFactory(owner=rep, period_start=date(2026, month, 1))
        won(won_stage, "10.00", at(month, 5), owner=rep, team=team)
    client = client_for(rep)

    # Session, user, roles, teams, content types and permissions, then the count and the page.
    with django_assert_max_num_queries(12):
        response = client.get("/api/v1/targets/")

    assert response.status_code == 200
    assert {target["attained"] for target in response.json()["results"]} == {"10.00"}


def test_a_manager_creates_a_target_through_the_api(november_deals, manager, rep, client_for):
    response = post(
        client_for(manager),
        {"owner": rep.pk, "period": "month", "period_start": "2026-11-01", "amount": "4000.00"},
    )

    assert response.status_code == 201, response.content
    assert response.json()["attained"] == "2000.25"
    assert response.json()["currency"] == "CNY"


def test_the_api_explains_a_duplicate(manager, rep, client_for):
    SalesTargetFactory(owner=rep, period_start=NOVEMBER)

    response = post(
        client_for(manager),
        {"owner": rep.pk, "period": "month", "period_start": "2026-11-01", "amount": "1"},
    )

    assert response.status_code == 400
    assert "already has a target" in response.json()["error"]["fields"]["period_start"][0]


def test_the_api_explains_a_bad_start(manager, rep, client_for):
    response = post(
        client_for(manager),
        {"owner": rep.pk, "period": "month", "period_start": "2026-11-15", "amount": "1"},
    )

    assert response.status_code == 400
    assert "period_start" in response.json()["error"]["fields"]


def test_a_rep_cannot_create_change_or_delete_a_target_through_the_api(rep, client_for):
    client = client_for(rep)
    target = SalesTargetFactory(owner=rep, period_start=NOVEMBER)

    created = post(
        client, {"owner": rep.pk, "period": "month", "period_start": "2026-12-01", "amount": "1"}
    )
    changed = client.patch(
        f"/api/v1/targets/{target.pk}/", {"amount": "999999"}, content_type="application/json"
    )
    deleted = client.delete(f"/api/v1/targets/{target.pk}/")

    assert (created.status_code, changed.status_code, deleted.status_code) == (403, 403, 403)
    target.refresh_from_db()
    assert target.amount == Decimal("10000.00")
    assert SalesTarget.objects.count() == 1


def test_a_manager_changes_and_deletes_through_the_api(manager, rep, client_for):
    client = client_for(manager)
    target = SalesTargetFactory(owner=rep, period_start=NOVEMBER)

    changed = client.patch(
        f"/api/v1/targets/{target.pk}/", {"amount": "42.00"}, content_type="application/json"
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["amount"] == "42.00"
    assert changed.json()["attained"] == "0.00"

    assert client.delete(f"/api/v1/targets/{target.pk}/").status_code == 204
    assert not SalesTarget.objects.exists()
