"""Saved segments: created from the list's filters, edited, shared, deleted; their members are
worked out again each time, among the customers the viewer may see; pages and API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from customers.models import Customer, Segment, Tag
from customers.selectors.customers import CustomerFilter, segment_customers_visible
from customers.services.segments import segment_create, segment_update
from tests.customers.factories import CustomerFactory, SegmentFactory

pytestmark = pytest.mark.django_db


def names_on(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [customer.name for customer in response.context["page"].object_list]


def names_in(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["results"]]


@pytest.fixture
def vips(rep, rep_teammate, other_team_rep, other_team):
    CustomerFactory(name="Rep's VIP", owner=rep, tier="vip")
    CustomerFactory(name="Teammate's VIP", owner=rep_teammate, tier="vip")
    CustomerFactory(name="Other team's VIP", owner=other_team_rep, team=other_team, tier="vip")
    CustomerFactory(name="Rep's normal", owner=rep)


def test_save_the_lists_filters_as_a_segment(rep, team, rep_client, vips):
    # given the rep's list filtered to VIPs, whose "Save as segment" opens the form with them
    form = rep_client.get("/customers/segments/new/", {"tier": "vip", "q": "VIP"})
    assert form.status_code == 200
    assert form.context["form"]["tier"].value() == ["vip"]
    assert 'value="vip" class="form-check-input" id="id_tier_1" checked' in form.content.decode()

    # when the rep names it, shares it with the team and saves
    response = rep_client.post(
        "/customers/segments/new/",
        {
            "segment-name": "  Key   VIPs ",
            "segment-description": "Our best customers",
            "segment-team": team.pk,
            "tier": "vip",
            "q": "VIP",
        },
    )

    # then the segment keeps the filters, not the members, and opens on its members
    segment = Segment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/customers/segments/{segment.pk}/"
    assert (segment.name, segment.owner, segment.team) == ("Key VIPs", rep, team)
    assert segment.filters == {"q": "VIP", "tier": ["vip"]}
    assert names_on(rep_client.get(response["Location"])) == ["Rep's VIP", "Teammate's VIP"]


def test_a_segment_needs_a_name_and_valid_filters(rep_client):
    # given  # when
    response = rep_client.post(
        "/customers/segments/new/", {"segment-name": "", "age_min": 50, "age_max": 20}
    )

    # then nothing is saved and both mistakes are shown
    assert response.status_code == 200
    assert not Segment.objects.exists()
    body = response.content.decode()
    assert "This field is required." in body
    assert "The upper age is below the lower one." in body


def test_a_segment_cannot_be_shared_with_a_team_of_others(rep, other_team, rep_client):
    # given  # when
    response = rep_client.post(
        "/customers/segments/new/", {"segment-name": "Mine", "segment-team": other_team.pk}
    )

    # then
    assert response.status_code == 200
    assert not Segment.objects.exists()
    assert "Select a valid choice." in response.content.decode()


def test_membership_is_recomputed_every_time(rep, rep_client):
    # given a segment of VIPs with one member
    segment = segment_create(actor=rep, name="VIPs", filters=CustomerFilter(tiers=("vip",)))
    CustomerFactory(name="First VIP", owner=rep, tier="vip")
    assert names_on(rep_client.get(f"/customers/segments/{segment.pk}/")) == ["First VIP"]

    # when a new customer is a VIP and the first one stops being one
    CustomerFactory(name="New VIP", owner=rep, tier="vip")
    Customer.objects.filter(name="First VIP").update(tier="normal")

    # then the segment follows
    assert names_on(rep_client.get(f"/customers/segments/{segment.pk}/")) == ["New VIP"]


def test_members_are_only_those_the_viewer_may_see(rep, other_team_rep, admin_user, vips):
    # given one segment of VIPs, shared by an admin with nobody
    segment = segment_create(
        actor=admin_user, name="All VIPs", filters=CustomerFilter(tiers=("vip",))
    )

    # when each asks for its members  # then each gets the VIPs they may see
    def members(user):
        return sorted(c.name for c in segment_customers_visible(user=user, segment=segment))

    assert members(admin_user) == ["Other team's VIP", "Rep's VIP", "Teammate's VIP"]
    assert members(rep) == ["Rep's VIP", "Teammate's VIP"]
    assert members(other_team_rep) == ["Other team's VIP"]


def test_segments_follow_the_visibility_rule(
    rep, rep_teammate, team, other_team_rep, other_team, manager, client_for
):
    # given segments of the rep, of a teammate, shared with the team, and of another team
    SegmentFactory(name="Rep's", owner=rep)
    SegmentFactory(name="Teammate's", owner=rep_teammate)
    SegmentFactory(name="Shared with the team", owner=other_team_rep, team=team)
    theirs = SegmentFactory(name="Other team's", owner=other_team_rep, team=other_team)

    # when  # then
    listed = client_for(rep).get("/customers/segments/").context["page"].object_list
    assert [segment.name for segment in listed] == ["Rep's", "Shared with the team", "Teammate's"]
    manager_listed = client_for(manager).get("/customers/segments/").context["page"]
    assert [segment.name for segment in manager_listed] == [
        "Rep's",
        "Shared with the team",
        "Teammate's",
    ]
    for url in ("", "edit/"):
        assert client_for(rep).get(f"/customers/segments/{theirs.pk}/{url}").status_code == 404
    assert client_for(manager).get(f"/customers/segments/{theirs.pk}/delete/").status_code == 404


def test_edit_a_segments_name_sharing_and_filters(rep, team, rep_client, vips):
    # given
    segment = segment_create(actor=rep, name="VIPs", filters=CustomerFilter(tiers=("vip",)))
    form = rep_client.get(f"/customers/segments/{segment.pk}/edit/").content.decode()
    assert 'value="VIPs"' in form

    # when
    response = rep_client.post(
        f"/customers/segments/{segment.pk}/edit/",
        {"segment-name": "Normal ones", "segment-team": team.pk, "tier": "normal"},
    )

    # then
    segment.refresh_from_db()
    assert response.status_code == 302
    assert (segment.name, segment.team, segment.filters) == (
        "Normal ones",
        team,
        {"tier": ["normal"]},
    )
    assert names_on(rep_client.get(f"/customers/segments/{segment.pk}/")) == ["Rep's normal"]


def test_delete_needs_the_permission_and_a_post(rep, manager, rep_client, client_for):
    # given a segment of the rep, whose role may not delete
    segment = SegmentFactory(owner=rep)

    # when  # then
    assert rep_client.post(f"/customers/segments/{segment.pk}/delete/").status_code == 403
    manager_client = client_for(manager)
    assert manager_client.get(f"/customers/segments/{segment.pk}/delete/").status_code == 200
    assert Segment.objects.exists()
    response = manager_client.post(f"/customers/segments/{segment.pk}/delete/")
    assert response.status_code == 302
    assert not Segment.objects.exists()


def test_segment_page_describes_the_filters_and_links_to_list_and_exports(
    rep, team, manager, client_for
):
    # given a segment with several filters, seen by a manager (who may export)
    tag = Tag.objects.create(name="wechat")
    segment = segment_create(
        actor=manager,
        name="Engaged",
        filters=CustomerFilter(
            tiers=("vip", "premium"),
            tags=(tag.name,),
            age_min=30,
            never_contacted=True,
            team_id=team.pk,
        ),
    )

    # when
    body = client_for(manager).get(f"/customers/segments/{segment.pk}/").content.decode()

    # then
    for text in ("VIP, Premium", "wechat", "Sales East", "Never contacted", "Age from"):
        assert text in body, text
    query = (
        f"age_min=30&amp;never_contacted=True&amp;tag=wechat&amp;team={team.pk}"
        "&amp;tier=vip&amp;tier=premium"
    )
    assert f'href="/customers/?{query}"' in body
    assert f'formaction="/customers/export/csv/?{query}"' in body


def test_a_segment_whose_saved_filters_were_broken_says_so(rep, rep_client):
    # given filters changed by hand into nonsense
    segment = SegmentFactory(owner=rep, filters={"tier": "vip", "colour": "blue"})

    # when
    response = rep_client.get(f"/customers/segments/{segment.pk}/")

    # then
    assert response.status_code == 200
    assert "cannot be read any more" in response.content.decode()
    api = rep_client.get(f"/api/v1/segments/{segment.pk}/customers/")
    assert api.status_code == 400
    assert "filters" in api.json()["error"]["fields"]


def test_segment_members_page_queries_are_bounded(rep, rep_client, django_assert_max_num_queries):
    # given a segment with sixty members
    segment = segment_create(actor=rep, name="VIPs", filters=CustomerFilter(tiers=("vip",)))
    for index in range(60):
        CustomerFactory(name=f"VIP {index:02d}", owner=rep, tier="vip")

    # when
    with django_assert_max_num_queries(14):
        response = rep_client.get(f"/customers/segments/{segment.pk}/", {"ordering": "-name"})

    # then
    assert names_on(response)[:2] == ["VIP 59", "VIP 58"]
    assert response.context["page"].paginator.count == 60


def test_api_create_update_and_delete_a_segment(rep, team, manager, rep_client, client_for, vips):
    # given  # when the rep creates a segment through the API
    created = rep_client.post(
        "/api/v1/segments/",
        {"name": "VIPs", "filters": {"tier": ["vip"], "q": "VIP"}, "team": team.pk},
        content_type="application/json",
    )

    # then
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["name"], body["owner"], body["team"]) == ("VIPs", rep.pk, team.pk)
    assert body["filters"] == {"q": "VIP", "tier": ["vip"]}
    segment_id = body["id"]

    # when it is renamed and unshared
    patched = rep_client.patch(
        f"/api/v1/segments/{segment_id}/",
        {"name": "VIP customers", "team": None},
        content_type="application/json",
    )

    # then
    assert patched.status_code == 200, patched.content
    assert (patched.json()["name"], patched.json()["team"]) == ("VIP customers", None)
    assert patched.json()["filters"] == {"q": "VIP", "tier": ["vip"]}

    # and a manager, who may delete, deletes it
    assert rep_client.delete(f"/api/v1/segments/{segment_id}/").status_code == 403
    assert client_for(manager).delete(f"/api/v1/segments/{segment_id}/").status_code == 204
    assert not Segment.objects.exists()


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"tier": ["royalty"]}, "tier: Select a valid choice."),
        ({"colour": "blue"}, "Unknown filters: colour."),
        ({"age_min": 50, "age_max": 20}, "age_max: The upper age is below the lower one."),
        (["vip"], "Expected an object of filters."),
    ],
)
def test_api_refuses_bad_filters_in_the_error_shape(rep_client, filters, message):
    # given  # when
    response = rep_client.post(
        "/api/v1/segments/",
        {"name": "Bad", "filters": filters},
        content_type="application/json",
    )

    # then
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert any(message in text for text in error["fields"]["filters"]), error


def test_api_refuses_sharing_with_a_team_of_others(rep_client, other_team):
    # given  # when
    response = rep_client.post(
        "/api/v1/segments/",
        {"name": "Mine", "team": other_team.pk},
        content_type="application/json",
    )

    # then
    assert response.status_code == 400
    assert "team" in response.json()["error"]["fields"]


def test_api_segment_members_are_visible_paginated_and_bounded(
    rep, rep_client, vips, django_assert_max_num_queries
):
    # given the rep's segment of VIPs, sixty of them tagged, and VIPs of others
    segment = SegmentFactory(owner=rep, filters={"tier": ["vip"]})
    tag = Tag.objects.create(name="wechat")
    for index in range(60):
        CustomerFactory(name=f"VIP {index:02d}", owner=rep, tier="vip").tags.add(tag)

    # when
    with django_assert_max_num_queries(12):
        response = rep_client.get(
            f"/api/v1/segments/{segment.pk}/customers/", {"ordering": "-name"}
        )

    # then
    body = response.json()
    assert len(body["results"]) == 50
    assert "cursor=" in body["next"]
    assert names_in(response)[:3] == ["VIP 59", "VIP 58", "VIP 57"]
    assert "Other team's VIP" not in [row["name"] for row in body["results"]]
    assert body["results"][0]["tags"] == ["wechat"]


def test_api_segments_of_others_are_404(rep_client, other_team_rep, other_team):
    # given
    segment = SegmentFactory(owner=other_team_rep, team=other_team)

    # when  # then
    assert rep_client.get(f"/api/v1/segments/{segment.pk}/").status_code == 404
    assert rep_client.get(f"/api/v1/segments/{segment.pk}/customers/").status_code == 404
    listed = rep_client.get("/api/v1/segments/").json()
    assert listed["count"] == 0


def test_segment_update_changes_the_timestamp(rep):
    # given a segment saved a while ago
    segment = segment_create(actor=rep, name="VIPs", filters=CustomerFilter(tiers=("vip",)))
    Segment.objects.filter(pk=segment.pk).update(updated_at=timezone.now() - timedelta(days=3))
    segment.refresh_from_db()
    before = segment.updated_at

    # when
    segment_update(actor=rep, segment=segment, filters=CustomerFilter(tiers=("premium",)))

    # then
    segment.refresh_from_db()
    assert segment.filters == {"tier": ["premium"]}
    assert segment.updated_at > before
