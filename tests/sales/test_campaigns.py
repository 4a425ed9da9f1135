"""Campaigns and their members through the services and the pages: validation, visibility,
permissions, adding members by hand and from the target segment (consent, no duplicates, only
customers the actor may see), responses, the list, the detail page, the report and its CSV."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from crm.accounts import roles
from customers.models import Customer
from customers.services.merge import customer_merge
from sales.models import Campaign, CampaignMember, Deal, Stage
from sales.services import campaigns as services
from tests.accounts.factories import TeamMembershipFactory, UserFactory
from tests.customers.factories import CustomerFactory, SegmentFactory
from tests.sales.factories import CampaignFactory, CampaignMemberFactory, DealFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]


def consenting(**values) -> Customer:
    return CustomerFactory(marketing_consent=True, marketing_consent_at=timezone.now(), **values)


@pytest.fixture
def marketer(team):
    user = UserFactory(username="marketer", roles=[roles.MARKETING])
    TeamMembershipFactory(team=team, user=user)
    return user


@pytest.fixture
def marketer_client(client_for, marketer):
    return client_for(marketer)


# Services: the campaign ---------------------------------------------------------------------------


def test_a_new_campaign_is_owned_by_its_creator_in_their_team_and_default_currency(marketer, team):
    campaign = services.campaign_create(
        actor=marketer, name="  Spring   launch ", type=Campaign.Type.EVENT
    )

    assert (campaign.name, campaign.owner, campaign.team) == ("Spring launch", marketer, team)
    assert campaign.currency == "CNY"
    assert campaign.status == Campaign.Status.PLANNED


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"start_date": date(2026, 5, 2), "end_date": date(2026, 5, 1)}, "end_date"),
        ({"budget": Decimal("-1")}, "budget"),
        ({"actual_cost": Decimal("-0.01")}, "actual_cost"),
        ({"name": "   "}, "name"),
        ({"currency": "yuan"}, "currency"),
        ({"version": 3}, "version"),
    ],
)
def test_bad_campaign_values_are_refused_naming_the_field(marketer, values, field):
    with pytest.raises(ValidationError) as refused:
        services.campaign_create(actor=marketer, **{"name": "Launch", "type": "email", **values})

    assert field in refused.value.message_dict
    assert not Campaign.objects.exists()


def test_a_campaign_may_not_target_a_segment_the_actor_cannot_see(marketer, other_team_rep):
    hidden = SegmentFactory(owner=other_team_rep)

    with pytest.raises(ValidationError) as refused:
        services.campaign_create(actor=marketer, name="Launch", type="email", segment=hidden)

    assert "segment" in refused.value.message_dict


def test_update_validates_and_saves_only_what_changed(marketer):
    campaign = CampaignFactory(owner=marketer, start_date=date(2026, 1, 1))

    with pytest.raises(ValidationError) as refused:
        services.campaign_update(actor=marketer, campaign=campaign, end_date=date(2025, 12, 31))
    assert "end_date" in refused.value.message_dict
    campaign.refresh_from_db()
    assert campaign.end_date is None

    services.campaign_update(
        actor=marketer,
        campaign=campaign,
        status=Campaign.Status.COMPLETED,
        actual_cost=Decimal("5"),
    )
    campaign.refresh_from_db()
    assert (campaign.status, campaign.actual_cost) == ("completed", Decimal("5.00"))


def test_only_those_allowed_may_change_or_delete_a_campaign(marketer, other_team_rep, manager):
    campaign = CampaignFactory(owner=marketer)
    DealFactory(campaign=campaign)

    with pytest.raises(PermissionDenied):
        services.campaign_update(actor=other_team_rep, campaign=campaign, name="Mine now")
    with pytest.raises(PermissionDenied):
        services.campaign_delete(actor=marketer, campaign=campaign)  # marketing may not delete

    services.campaign_delete(actor=manager, campaign=campaign)
    assert not Campaign.objects.exists()
    assert Deal.objects.get().campaign is None


# Services: members --------------------------------------------------------------------------------


def test_a_member_added_by_hand_must_be_visible_consenting_for_email_and_new(
    marketer, other_team_rep
):
    email = CampaignFactory(owner=marketer, type=Campaign.Type.EMAIL)
    willing, unwilling = consenting(owner=marketer), CustomerFactory(owner=marketer)
    hidden = consenting(owner=other_team_rep)

    services.campaign_member_add(actor=marketer, campaign=email, customer=willing)
    for customer, message in [
        (unwilling, "has not agreed"),
        (hidden, "No such customer"),
        (willing, "already a member"),
    ]:
        with pytest.raises(ValidationError) as refused:
            services.campaign_member_add(actor=marketer, campaign=email, customer=customer)
        assert message in refused.value.message_dict["customer"][0]

    # an event needs no marketing consent
    event = CampaignFactory(owner=marketer, type=Campaign.Type.EVENT)
    services.campaign_member_add(actor=marketer, campaign=event, customer=unwilling)
    assert CampaignMember.objects.count() == 2


@pytest.fixture
def vip_segment(marketer):
    return SegmentFactory(owner=marketer, filters={"tier": ["vip"]})


def test_adding_the_segment_skips_customers_without_consent_for_email_and_hidden_ones(
    marketer, rep_teammate, other_team_rep, other_team, vip_segment
):
    # given VIPs the marketer may see (with and without consent), one they may not, and a non-VIP
    consenting(name="Ada", owner=marketer, tier="vip")
    consenting(name="Bo", owner=rep_teammate, tier="vip")
    CustomerFactory(name="Cy", owner=marketer, tier="vip")
    consenting(name="Di", owner=other_team_rep, team=other_team, tier="vip")
    consenting(name="Ed", owner=marketer)
    email = CampaignFactory(owner=marketer, type=Campaign.Type.EMAIL, segment=vip_segment)

    added = services.campaign_members_add_from_segment(actor=marketer, campaign=email)

    assert added == 2
    names = set(email.members.values_list("customer__name", flat=True))
    assert names == {"Ada", "Bo"}


def test_adding_the_segment_again_adds_only_the_new_customers(marketer, vip_segment, monkeypatch):
    monkeypatch.setattr(services, "SEGMENT_CHUNK_SIZE", 2)
    for index in range(5):
        CustomerFactory(name=f"VIP {index}", owner=marketer, tier="vip")
    event = CampaignFactory(owner=marketer, type=Campaign.Type.EVENT, segment=vip_segment)
    CampaignMemberFactory(campaign=event, customer=Customer.objects.get(name="VIP 3"))

    assert services.campaign_members_add_from_segment(actor=marketer, campaign=event) == 4
    assert services.campaign_members_add_from_segment(actor=marketer, campaign=event) == 0
    CustomerFactory(name="VIP 5", owner=marketer, tier="vip")
    assert services.campaign_members_add_from_segment(actor=marketer, campaign=event) == 1
    assert event.members.count() == 6


def test_adding_the_segment_of_a_campaign_without_one_says_so(marketer):
    campaign = CampaignFactory(owner=marketer)

    with pytest.raises(ValidationError) as refused:
        services.campaign_members_add_from_segment(actor=marketer, campaign=campaign)

    assert "segment" in refused.value.message_dict


def test_a_reply_stamps_responded_at_once_and_going_back_clears_it(marketer):
    member = CampaignMemberFactory(campaign=CampaignFactory(owner=marketer))

    services.campaign_member_set_response(actor=marketer, member=member, response="opened")
    assert member.responded_at is None
    services.campaign_member_set_response(actor=marketer, member=member, response="responded")
    first_reply = member.responded_at
    assert first_reply is not None
    services.campaign_member_set_response(actor=marketer, member=member, response="converted")
    member.refresh_from_db()
    assert (member.response, member.responded_at) == ("converted", first_reply)
    services.campaign_member_set_response(actor=marketer, member=member, response="sent")
    member.refresh_from_db()
    assert member.responded_at is None

    with pytest.raises(ValidationError) as refused:
        services.campaign_member_set_response(actor=marketer, member=member, response="bounced")
    assert "response" in refused.value.message_dict


def test_merging_customers_keeps_their_memberships_and_the_earliest_touch(manager):
    shared, only_merged = CampaignFactory(), CampaignFactory()
    kept, merged = CustomerFactory(owner=manager), CustomerFactory(owner=manager)
    kept_member = CampaignMemberFactory(campaign=shared, customer=kept)
    early = CampaignMemberFactory(
        campaign=shared, customer=merged, response=CampaignMember.Response.CONVERTED
    )
    CampaignMember.objects.filter(pk=early.pk).update(created_at=timezone.now().replace(year=2020))
    CampaignMemberFactory(campaign=only_merged, customer=merged)

    customer_merge(actor=manager, kept=kept, merged=merged)

    kept_member.refresh_from_db()
    assert kept_member.created_at.year == 2020
    assert kept_member.response == CampaignMember.Response.CONVERTED
    assert set(CampaignMember.objects.values_list("campaign", "customer")) == {
        (shared.pk, kept.pk),
        (only_merged.pk, kept.pk),
    }


# Pages -------------------------------------------------------------------------------------------


def test_the_list_shows_visible_campaigns_filtered_and_paged(
    marketer, marketer_client, other_team_rep, other_team
):
    for index in range(27):
        CampaignFactory(name=f"Email {index:02d}", owner=marketer, type=Campaign.Type.EMAIL)
    CampaignFactory(name="Expo", owner=marketer, type=Campaign.Type.EVENT)
    CampaignFactory(name="Their expo", owner=other_team_rep, team=other_team, type="event")

    first = marketer_client.get("/sales/campaigns/")
    events = marketer_client.get("/sales/campaigns/", {"type": "event"})

    assert first.status_code == 200
    assert first.context["page"].paginator.count == 28
    assert len(first.context["page"].object_list) == 25
    assert [campaign.name for campaign in events.context["page"]] == ["Expo"]


def test_the_detail_page_shows_figures_members_and_the_consent_rule(
    marketer, marketer_client, vip_segment, django_assert_max_num_queries
):
    campaign = CampaignFactory(
        owner=marketer, type=Campaign.Type.EMAIL, segment=vip_segment, actual_cost=Decimal("100.00")
    )
    for _ in range(3):
        CampaignMemberFactory(campaign=campaign, customer=consenting(owner=marketer))

    with django_assert_max_num_queries(15):
        response = marketer_client.get(f"/sales/campaigns/{campaign.pk}/")

    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["figures"].members == 3
    assert response.context["figures"].cost_per_lead == Decimal("33.33")
    assert "customers without marketing consent are skipped" in body
    assert f'hx-post="/sales/campaigns/members/{campaign.members.first().pk}/response/"' in body


def test_someone_elses_campaign_is_not_found(marketer_client, other_team_rep, other_team):
    theirs = CampaignFactory(owner=other_team_rep, team=other_team)

    assert marketer_client.get(f"/sales/campaigns/{theirs.pk}/").status_code == 404
    assert marketer_client.get(f"/sales/campaigns/{theirs.pk}/edit/").status_code == 404


def test_create_edit_and_delete_through_the_pages(marketer, marketer_client, manager, client_for):
    created = marketer_client.post(
        "/sales/campaigns/new/",
        {
            "name": "Autumn fair",
            "type": "event",
            "status": "planned",
            "start_date": "2026-10-01",
            "end_date": "2026-09-30",
            "budget": "1000",
            "actual_cost": "0",
        },
    )
    assert created.status_code == 200
    assert "The end date cannot be before the start date." in created.content.decode()

    created = marketer_client.post(
        "/sales/campaigns/new/",
        {
            "name": "Autumn fair",
            "type": "event",
            "status": "planned",
            "start_date": "2026-10-01",
            "end_date": "2026-10-03",
            "budget": "1000",
            "actual_cost": "0",
        },
    )
    campaign = Campaign.objects.get()
    assert created["Location"] == f"/sales/campaigns/{campaign.pk}/"
    assert (campaign.owner, campaign.currency) == (marketer, "CNY")

    edit_page = marketer_client.get(f"/sales/campaigns/{campaign.pk}/edit/")
    assert edit_page.context["form"]["name"].value() == "Autumn fair"
    marketer_client.post(
        f"/sales/campaigns/{campaign.pk}/edit/",
        {
            "name": "Autumn fair",
            "type": "event",
            "status": "active",
            "start_date": "2026-10-01",
            "end_date": "2026-10-03",
            "budget": "1000",
            "actual_cost": "850.50",
            "currency": "CNY",
            "owner": marketer.pk,
        },
    )
    campaign.refresh_from_db()
    assert (campaign.status, campaign.actual_cost) == ("active", Decimal("850.50"))

    assert marketer_client.post(f"/sales/campaigns/{campaign.pk}/delete/").status_code == 403
    manager_client = client_for(manager)
    assert manager_client.get(f"/sales/campaigns/{campaign.pk}/delete/").status_code == 200
    deleted = manager_client.post(f"/sales/campaigns/{campaign.pk}/delete/")
    assert deleted["Location"] == "/sales/campaigns/"
    assert not Campaign.objects.exists()


def test_add_a_member_by_hand_and_from_the_segment_on_the_page(
    marketer, marketer_client, vip_segment
):
    campaign = CampaignFactory(owner=marketer, type=Campaign.Type.EVENT, segment=vip_segment)
    picked = CustomerFactory(owner=marketer)
    CustomerFactory(owner=marketer, tier="vip")
    CustomerFactory(owner=marketer, tier="vip")

    added = marketer_client.post(
        f"/sales/campaigns/{campaign.pk}/members/add/", {"customer": picked.pk}, follow=True
    )
    again = marketer_client.post(
        f"/sales/campaigns/{campaign.pk}/members/add/", {"customer": picked.pk}, follow=True
    )
    from_segment = marketer_client.post(
        f"/sales/campaigns/{campaign.pk}/members/add-segment/", follow=True
    )

    assert f"{picked.name} added." in added.content.decode()
    assert "already a member" in again.content.decode()
    assert "2 members added from the segment." in from_segment.content.decode()
    assert campaign.members.count() == 3


def test_a_response_changed_through_htmx_comes_back_as_the_row(marketer, marketer_client):
    member = CampaignMemberFactory(campaign=CampaignFactory(owner=marketer))

    response = marketer_client.post(
        f"/sales/campaigns/members/{member.pk}/response/",
        {"response": "responded"},
        headers={"HX-Request": "true"},
    )
    refused = marketer_client.post(
        f"/sales/campaigns/members/{member.pk}/response/",
        {"response": "nonsense"},
        headers={"HX-Request": "true"},
    )

    member.refresh_from_db()
    assert response.status_code == 200
    assert response.content.decode().startswith(f'<tr id="campaign-member-{member.pk}">')
    assert (member.response, member.responded_at is not None) == ("responded", True)
    assert refused.status_code == 400


def test_reps_read_campaigns_but_only_marketing_changes_them(
    marketer, marketer_client, rep, client_for
):
    campaign = CampaignFactory(owner=marketer)
    member = CampaignMemberFactory(campaign=campaign)
    rep_client = client_for(rep)

    assert rep_client.get(f"/sales/campaigns/{campaign.pk}/").status_code == 200
    assert rep_client.get("/sales/campaigns/new/").status_code == 403
    assert rep_client.get(f"/sales/campaigns/{campaign.pk}/edit/").status_code == 403
    assert (
        rep_client.post(
            f"/sales/campaigns/{campaign.pk}/members/add/", {"customer": member.customer_id}
        ).status_code
        == 403
    )
    assert rep_client.post(f"/sales/campaigns/members/{member.pk}/remove/").status_code == 403

    removed = marketer_client.post(f"/sales/campaigns/members/{member.pk}/remove/")
    assert removed.status_code == 302
    assert not CampaignMember.objects.exists()


def test_the_report_filters_by_type_status_and_period(marketer, marketer_client, rep, client_for):
    CampaignFactory(name="Spring mail", owner=marketer, start_date=date(2026, 3, 1))
    CampaignFactory(
        name="Summer fair",
        owner=marketer,
        type=Campaign.Type.EVENT,
        start_date=date(2026, 6, 1),
        end_date=date(2026, 6, 3),
    )
    CampaignFactory(
        name="Winter ads",
        owner=marketer,
        type="ads",
        status="completed",
        start_date=date(2026, 12, 1),
    )

    def names(params) -> list[str]:
        response = marketer_client.get("/sales/campaigns/report/", params)
        assert response.status_code == 200
        return [campaign.name for campaign, _figures in response.context["rows"]]

    assert names({}) == ["Winter ads", "Summer fair", "Spring mail"]
    assert names({"type": "event"}) == ["Summer fair"]
    assert names({"status": "completed"}) == ["Winter ads"]
    assert names({"period_from": "2026-06-04", "period_to": "2026-11-30"}) == ["Spring mail"]
    assert client_for(rep).get("/sales/campaigns/report/").status_code == 200


def test_the_report_downloads_as_csv_with_its_figures(marketer, marketer_client):
    campaign = CampaignFactory(
        name="=cmd Spring", owner=marketer, actual_cost=Decimal("0"), type=Campaign.Type.SOCIAL
    )
    CampaignMemberFactory(campaign=campaign, response=CampaignMember.Response.CONVERTED)
    CampaignMemberFactory(campaign=campaign)
    won = Stage.objects.get(pipeline__is_default=True, kind=Stage.Kind.WON)
    DealFactory(campaign=campaign, stage=won, amount=Decimal("250.00"))

    response = marketer_client.get("/sales/campaigns/report.csv", {"type": "social"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 1
    row = rows[0]
    assert row["Campaign"] == "'=cmd Spring"
    assert (row["Members"], row["Converted"], row["Deals attributed"]) == ("2", "1", "1")
    assert (row["Revenue"], row["Cost per lead"], row["Conversion rate"], row["ROI"]) == (
        "250.00",
        "0.00",
        "0.5000",
        "",
    )


def test_pages_need_the_campaign_permissions(user_without_role, client_for):
    client = client_for(user_without_role)

    assert client.get("/sales/campaigns/").status_code == 403
    assert client.get("/sales/campaigns/report/").status_code == 403
    assert client.get("/sales/campaigns/new/").status_code == 403
