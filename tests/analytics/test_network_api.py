"""The social graph's API on the hand-built graph: influence, introduction paths, communities
and graph builds, through the visibility rule."""

import pytest

from analytics.models import AnalyticsJob, CustomerInfluence, GraphEdge, ModelVersion
from analytics.services.network import graph_build_request
from tests.analytics.factories import SocialGraphWorld
from tests.customers.factories import CustomerFactory


@pytest.fixture
def world(rep, rep_teammate, other_team_rep, django_capture_on_commit_callbacks):
    world = SocialGraphWorld(rep=rep, rep_teammate=rep_teammate, other_team_rep=other_team_rep)
    with django_capture_on_commit_callbacks(execute=True):
        graph_build_request(trigger=ModelVersion.Trigger.COMMAND)
    return world


def test_influence_lists_visible_customers_by_pagerank(
    world, client_for, django_assert_max_num_queries
):
    client = client_for(world.rep)

    with django_assert_max_num_queries(12):
        response = client.get("/api/v1/influence-scores/")

    body = response.json()
    assert response.status_code == 200
    assert body["count"] == 4 and body["count_is_exact"] is True
    ids = [row["customer"] for row in body["results"]]
    assert set(ids) == {world.a.pk, world.b.pk, world.c.pk, world.f.pk}
    pageranks = [row["pagerank"] for row in body["results"]]
    assert pageranks == sorted(pageranks, reverse=True)
    assert body["results"][0]["degree"] == pytest.approx(0.4)


def test_the_influence_count_stops_at_the_cap(world, client_for, monkeypatch):
    # Given a count cap below the four customers the rep sees
    monkeypatch.setattr("customers.selectors.customers.COUNT_CAP", 3)

    body = client_for(world.rep).get("/api/v1/influence-scores/", {"page_size": 2}).json()

    # Then the count reads the cap, says so, and the pages are still the strongest first
    assert body["count"] == 3 and body["count_is_exact"] is False
    assert len(body["results"]) == 2 and body["next"]
    assert body["results"][0]["customer"] == world.c.pk


def test_influence_of_a_hidden_customer_is_404(world, client_for):
    client = client_for(world.rep)

    assert client.get(f"/api/v1/influence-scores/{world.c.pk}/").status_code == 200
    assert client.get(f"/api/v1/influence-scores/{world.d.pk}/").status_code == 404


def test_the_introduction_path_hides_what_the_caller_may_not_see(world, client_for):
    response = client_for(world.rep).get(
        "/api/v1/introduction-path/",
        {"target": world.f.pk, "source": f"customer:{world.a.pk}"},
    )

    body = response.json()
    assert body["found"] is True and body["too_wide"] is False
    assert body["steps"] == [
        {"kind": "customer", "id": world.a.pk, "label": "Ada", "hidden": False, "tie": ""},
        {"kind": "customer", "id": world.c.pk, "label": "Cy", "hidden": False, "tie": "family"},
        {
            "kind": "customer",
            "id": None,
            "label": "a customer you cannot see",
            "hidden": True,
            "tie": "referral",
        },
        {"kind": "customer", "id": world.f.pk, "label": "Fei", "hidden": False, "tie": "family"},
    ]


def test_the_introduction_path_from_me_starts_at_the_rep(world, client_for):
    response = client_for(world.rep).get("/api/v1/introduction-path/", {"target": world.b.pk})

    steps = response.json()["steps"]
    assert [(step["kind"], step["id"]) for step in steps] == [
        ("staff", world.rep.pk),
        ("customer", world.b.pk),
    ]


def test_the_path_from_a_rep_with_more_ties_than_the_search_may_hold(
    world, client_for, monkeypatch, django_capture_on_commit_callbacks
):
    # Given a rep who owns more customers than one level of the search may hold
    CustomerFactory.create_batch(3, owner=world.rep)
    with django_capture_on_commit_callbacks(execute=True):
        graph_build_request(trigger=ModelVersion.Trigger.COMMAND)
    monkeypatch.setattr("analytics.selectors.network.INTRODUCTION_MAX_FRONTIER", 3)
    assert GraphEdge.objects.filter(source=f"u{world.rep.pk}").count() == 6

    # When the rep asks for their own way to Fei
    response = client_for(world.rep).get("/api/v1/introduction-path/", {"target": world.f.pk})

    # Then the search, from Fei's side, finds the one shortest chain: rep - Cy - Dagny - Fei
    body = response.json()
    assert body["found"] is True and body["too_wide"] is False
    assert [(step["kind"], step["id"], step["tie"]) for step in body["steps"]] == [
        ("staff", world.rep.pk, ""),
        ("customer", world.c.pk, "interaction,owner"),
        ("customer", None, "referral"),
        ("customer", world.f.pk, "family"),
    ]


def test_the_path_from_a_rep_gives_up_when_the_target_side_grows_too_wide(
    world, client_for, monkeypatch
):
    # Fei's side holds Dagny, Emil and Fei's owner at the first level: more than two.
    monkeypatch.setattr("analytics.selectors.network.INTRODUCTION_MAX_FRONTIER", 2)

    body = client_for(world.rep).get("/api/v1/introduction-path/", {"target": world.f.pk}).json()

    assert body == {"found": False, "too_wide": True, "steps": []}


@pytest.mark.parametrize(
    ("params", "status"),
    [({"target": "x"}, 400), ({"target": "0"}, 404), ({"source": "somebody"}, 400)],
)
def test_the_introduction_path_refuses_bad_input(world, client_for, params, status):
    query = {"target": world.f.pk, **params}

    response = client_for(world.rep).get("/api/v1/introduction-path/", query)

    assert response.status_code == status


def test_a_hidden_target_is_404(world, client_for):
    response = client_for(world.rep).get("/api/v1/introduction-path/", {"target": world.d.pk})

    assert response.status_code == 404


def test_communities_and_their_segment(world, manager, client_for):
    client = client_for(manager)

    listed = client.get("/api/v1/communities/").json()
    number = CustomerInfluence.objects.get(customer=world.a).community
    made = client.post(f"/api/v1/communities/{number}/segment/")

    assert listed["count"] == 2
    east = next(row for row in listed["results"] if row["number"] == number)
    assert {member["name"] for member in east["sample"]} == {"Ada", "Bo", "Cy"}
    assert made.status_code == 201
    assert client.get(f"/api/v1/communities/{number}/").json()["segment"] == made.json()["segment"]


def test_a_rep_may_not_make_a_segment_of_a_community(world, client_for):
    number = CustomerInfluence.objects.get(customer=world.a).community

    response = client_for(world.rep).post(f"/api/v1/communities/{number}/segment/")

    assert response.status_code == 403


def test_graph_builds_one_at_a_time(db, manager, rep, client_for):
    client = client_for(manager)

    first = client.post("/api/v1/graph-jobs/")
    second = client.post("/api/v1/graph-jobs/")

    assert first.status_code == 202
    assert first.json()["status"] == AnalyticsJob.Status.QUEUED
    assert second.status_code == 409
    assert client_for(rep).post("/api/v1/graph-jobs/").status_code == 403
    listed = client_for(rep).get("/api/v1/graph-jobs/").json()
    assert [job["id"] for job in listed["results"]] == [first.json()["id"]]


def test_the_schema_documents_the_graph_endpoints(db, admin_user, client_for):
    schema = client_for(admin_user).get("/api/v1/schema/?format=json").json()

    for path in [
        "/api/v1/influence-scores/",
        "/api/v1/introduction-path/",
        "/api/v1/communities/{number}/segment/",
        "/api/v1/graph-jobs/",
    ]:
        assert path in schema["paths"]
