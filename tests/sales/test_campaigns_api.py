"""/api/v1/campaigns/ and /api/v1/campaign-members/: create, read (with figures), update,
delete, adding the segment's customers, members' responses; visibility, permissions, queries."""

from decimal import Decimal

import pytest
from django.utils import timezone

from crm.accounts import roles
from sales.models import Campaign, CampaignMember, Stage
from tests.accounts.factories import TeamMembershipFactory, UserFactory
from tests.customers.factories import CustomerFactory, SegmentFactory
from tests.sales.factories import CampaignFactory, CampaignMemberFactory, DealFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]

CAMPAIGNS = "/api/v1/campaigns/"
MEMBERS = "/api/v1/campaign-members/"


@pytest.fixture
def marketer(team):
    user = UserFactory(username="marketer", roles=[roles.MARKETING])
    TeamMembershipFactory(team=team, user=user)
    return user


@pytest.fixture
def api(client_for, marketer):
    return client_for(marketer)


def test_create_read_update_and_delete_a_campaign(api, marketer, team, manager, client_for):
    created = api.post(
        CAMPAIGNS,
        {
            "name": "Spring mail",
            "type": "email",
            "start_date": "2026-03-01",
            "end_date": "2026-03-31",
            "budget": "1000.00",
            "actual_cost": "400.00",
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["owner"], body["team"], body["currency"]) == (marketer.pk, team.pk, "CNY")
    assert body["figures"]["members"] == 0
    assert body["figures"]["roi"] == "-1.0000"

    campaign_url = f"{CAMPAIGNS}{body['id']}/"
    changed = api.patch(
        campaign_url, {"status": "active", "actual_cost": "0"}, content_type="application/json"
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["status"], changed.json()["figures"]["roi"]) == ("active", None)

    assert api.delete(campaign_url).status_code == 403  # marketing may not delete
    assert client_for(manager).delete(campaign_url).status_code == 204
    assert not Campaign.objects.exists()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"start_date": "2026-03-02", "end_date": "2026-03-01"}, "end_date"),
        ({"budget": "-5"}, "budget"),
        ({"currency": "12"}, "currency"),
        ({"figures": {}}, "figures"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_values_are_refused_naming_the_field(api, values, field):
    response = api.post(
        CAMPAIGNS, {"name": "X", "type": "email", **values}, content_type="application/json"
    )

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Campaign.objects.exists()


def test_the_list_has_figures_and_only_visible_campaigns(api, marketer, other_team_rep, other_team):
    campaign = CampaignFactory(name="Ours", owner=marketer, actual_cost=Decimal("100.00"))
    CampaignFactory(name="Theirs", owner=other_team_rep, team=other_team)
    CampaignMemberFactory(campaign=campaign, response=CampaignMember.Response.CONVERTED)
    won = Stage.objects.get(pipeline__is_default=True, kind=Stage.Kind.WON)
    DealFactory(campaign=campaign, stage=won, amount=Decimal("250.00"))

    response = api.get(CAMPAIGNS)

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["name"] == "Ours"
    assert row["figures"] == {
        "members": 1,
        "leads": 1,
        "sent": 0,
        "opened": 0,
        "responded": 0,
        "converted": 1,
        "deals": 1,
        "won_deals": 1,
        "won_revenue": "250.00",
        "order_revenue": "0.00",
        "revenue": "250.00",
        "cost_per_lead": "100.00",
        "conversion_rate": "1.0000",
        "roi": "1.5000",
    }
    other = Campaign.objects.get(name="Theirs")
    assert api.get(f"{CAMPAIGNS}{other.pk}/").status_code == 404


def test_filters_by_type_and_status(api, marketer):
    CampaignFactory(name="Mail", owner=marketer, type="email", status="active")
    CampaignFactory(name="Fair", owner=marketer, type="event", status="planned")

    by_type = api.get(CAMPAIGNS, {"type": "event"}).json()["results"]
    by_status = api.get(CAMPAIGNS, {"status": "active"}).json()["results"]

    assert [row["name"] for row in by_type] == ["Fair"]
    assert [row["name"] for row in by_status] == ["Mail"]


def test_a_segment_the_caller_cannot_see_is_unknown(api, other_team_rep):
    hidden = SegmentFactory(owner=other_team_rep)

    response = api.post(
        CAMPAIGNS,
        {"name": "X", "type": "event", "segment": hidden.pk},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "segment" in response.json()["error"]["fields"]


def test_reps_read_but_may_not_write_campaigns(rep, client_for, marketer):
    campaign = CampaignFactory(owner=marketer)
    client = client_for(rep)

    assert client.get(f"{CAMPAIGNS}{campaign.pk}/").status_code == 200
    assert (
        client.post(CAMPAIGNS, {"name": "X", "type": "email"}, content_type="application/json")
    ).status_code == 403
    assert client.post(f"{CAMPAIGNS}{campaign.pk}/add-segment-members/").status_code == 403


def test_add_segment_members_returns_the_count_and_respects_consent(api, marketer):
    segment = SegmentFactory(owner=marketer, filters={"tier": ["vip"]})
    now = timezone.now()
    CustomerFactory(owner=marketer, tier="vip", marketing_consent=True, marketing_consent_at=now)
    CustomerFactory(owner=marketer, tier="vip")
    email = CampaignFactory(owner=marketer, type=Campaign.Type.EMAIL, segment=segment)
    no_segment = CampaignFactory(owner=marketer)

    first = api.post(f"{CAMPAIGNS}{email.pk}/add-segment-members/")
    again = api.post(f"{CAMPAIGNS}{email.pk}/add-segment-members/")
    refused = api.post(f"{CAMPAIGNS}{no_segment.pk}/add-segment-members/")

    assert (first.status_code, first.json()) == (200, {"added": 1})
    assert again.json() == {"added": 0}
    assert refused.status_code == 400
    assert "segment" in refused.json()["error"]["fields"]


def test_members_are_added_listed_updated_and_removed(api, marketer, rep, client_for):
    campaign = CampaignFactory(owner=marketer, type=Campaign.Type.EVENT)
    other = CampaignFactory(owner=marketer, type=Campaign.Type.EVENT)
    customer = CustomerFactory(owner=marketer)
    CampaignMemberFactory(campaign=other)

    created = api.post(
        MEMBERS, {"campaign": campaign.pk, "customer": customer.pk}, content_type="application/json"
    )
    assert created.status_code == 201, created.content
    member_url = f"{MEMBERS}{created.json()['id']}/"
    duplicate = api.post(
        MEMBERS, {"campaign": campaign.pk, "customer": customer.pk}, content_type="application/json"
    )
    assert duplicate.status_code == 400
    assert "customer" in duplicate.json()["error"]["fields"]

    listed = api.get(MEMBERS, {"campaign": campaign.pk}).json()["results"]
    assert [row["customer"] for row in listed] == [customer.pk]

    updated = api.patch(member_url, {"response": "converted"}, content_type="application/json")
    assert updated.status_code == 200
    assert updated.json()["response"] == "converted"
    assert updated.json()["responded_at"] is not None
    moved = api.patch(member_url, {"campaign": other.pk}, content_type="application/json")
    assert moved.status_code == 400
    assert api.get(MEMBERS, {"response": "converted"}).json()["results"][0]["id"] == int(
        created.json()["id"]
    )

    assert client_for(rep).delete(member_url).status_code == 403
    assert api.delete(member_url).status_code == 204
    assert not CampaignMember.objects.filter(campaign=campaign).exists()


def test_members_of_campaigns_the_caller_cannot_see_are_hidden(
    api, other_team_rep, other_team, marketer
):
    theirs = CampaignFactory(owner=other_team_rep, team=other_team)
    hidden = CampaignMemberFactory(campaign=theirs)
    customer = CustomerFactory(owner=marketer)

    assert api.get(MEMBERS).json()["results"] == []
    assert api.get(f"{MEMBERS}{hidden.pk}/").status_code == 404
    response = api.post(
        MEMBERS, {"campaign": theirs.pk, "customer": customer.pk}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "campaign" in response.json()["error"]["fields"]


def test_the_member_list_reads_a_bounded_number_of_queries(
    api, marketer, django_assert_max_num_queries
):
    campaign = CampaignFactory(owner=marketer)
    for _ in range(20):
        CampaignMemberFactory(campaign=campaign)

    with django_assert_max_num_queries(8):
        response = api.get(MEMBERS, {"campaign": campaign.pk})

    assert len(response.json()["results"]) == 20


def test_roles_without_campaign_permissions_get_nothing(user_without_role, client_for):
    client = client_for(user_without_role)

    assert client.get(CAMPAIGNS).status_code == 403
    assert client.get(MEMBERS).status_code == 403
