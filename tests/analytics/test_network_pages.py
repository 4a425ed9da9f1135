"""The social graph's pages on the hand-built graph: the influence panel on the 360 page, the
influence list, warm introductions, communities and their segments, and the rebuild button."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from analytics.hooks.network import customer_influence_panel
from analytics.models import AnalyticsJob, Community, CustomerInfluence, ModelVersion
from analytics.services.network import graph_build_request
from customers.models import Segment
from customers.selectors.customers import segment_customers_visible
from tests.analytics.factories import SocialGraphWorld
from tests.customers.factories import CustomerFactory

HIDDEN = "a customer you cannot see"


@pytest.fixture
def world(rep, rep_teammate, other_team_rep, django_capture_on_commit_callbacks):
    world = SocialGraphWorld(rep=rep, rep_teammate=rep_teammate, other_team_rep=other_team_rep)
    with django_capture_on_commit_callbacks(execute=True):
        graph_build_request(trigger=ModelVersion.Trigger.COMMAND)
    return world


def test_the_360_page_shows_influence_and_the_ego_network(world, client_for):
    # When the rep opens Cy, who is tied to Ada, Bo, the hidden Dagny and the rep
    response = client_for(world.rep).get(reverse("customers:customer_detail", args=[world.c.pk]))

    # Then the panel gives Cy's standing and draws the neighbours, Dagny without her name
    page = response.content.decode()
    assert response.status_code == 200
    below = CustomerInfluence.objects.filter(
        pagerank__lt=CustomerInfluence.objects.get(customer=world.c).pagerank
    ).count()
    assert f"More connected than {int(100 * below / 7)}% of customers." in page
    assert "<svg" in page
    assert "<title>Ada (colleague,family)</title>" in page or "<title>Ada (family)</title>" in page
    assert f"<title>{HIDDEN} (referral)</title>" in page
    assert "Dagny" not in page
    assert f"{reverse('analytics:introductions')}?target={world.c.pk}" in page


def test_the_influence_panel_reads_a_bounded_number_of_queries(
    world, django_assert_max_num_queries
):
    with django_assert_max_num_queries(13):
        panel = customer_influence_panel(world.c, world.rep)

    assert panel.context["ego"].total == 4
    assert len(panel.context["ego"].points) == 4


def test_no_panel_before_the_first_build(rep, client_for):
    customer = CustomerFactory(owner=rep)

    response = client_for(rep).get(reverse("customers:customer_detail", args=[customer.pk]))

    assert "More connected than" not in response.content.decode()


def test_the_influence_list_shows_visible_customers_by_pagerank(
    world, client_for, django_assert_max_num_queries
):
    client = client_for(world.rep)

    with django_assert_max_num_queries(12):
        response = client.get(reverse("analytics:influence_list"))

    names = [customer.name for customer in response.context["page"]]
    expected = list(
        CustomerInfluence.objects.filter(
            customer__in=[world.a, world.b, world.c, world.f]
        ).values_list("customer__name", flat=True)
    )
    assert names == expected
    assert names[0] == "Cy"
    assert "Dagny" not in response.content.decode()


def test_the_influence_list_filters_by_community_and_sorts_by_connections(world, client_for):
    community = CustomerInfluence.objects.get(customer=world.a).community

    response = client_for(world.rep).get(
        reverse("analytics:influence_list"), {"community": community, "order": "-connections"}
    )

    names = [customer.name for customer in response.context["page"]]
    assert set(names) == {"Ada", "Bo", "Cy"}
    connections = [customer.influence.connections for customer in response.context["page"]]
    assert connections == sorted(connections, reverse=True)


def test_a_warm_introduction_from_a_customer_masks_hidden_steps(world, client_for):
    # When the rep asks how Ada can reach Fei (Ada - Cy - Dagny - Fei)
    response = client_for(world.rep).get(
        reverse("analytics:introductions"),
        {"target": world.f.pk, "from": f"customer:{world.a.pk}"},
    )

    # Then the chain is exact, and Dagny, whom the rep may not see, is neither named nor linked
    steps = response.context["steps"]
    assert [step.node.label for step in steps] == ["Ada", "Cy", HIDDEN, "Fei"]
    assert [step.kinds for step in steps] == ["", "family", "referral", "family"]
    page = response.content.decode()
    assert "Dagny" not in page
    assert reverse("customers:customer_detail", args=[world.d.pk]) not in page


def test_a_warm_introduction_from_the_rep(world, client_for):
    response = client_for(world.rep).get(
        reverse("analytics:introductions"), {"target": world.f.pk, "from": "me"}
    )

    labels = [step.node.label for step in response.context["steps"]]
    assert labels == ["Riley Chen", "Cy", HIDDEN, "Fei"]


def test_the_introductions_page_shows_the_latest_build(world, client_for):
    # When the rep opens the warm introductions page after a build
    response = client_for(world.rep).get(reverse("analytics:introductions"))

    # Then its header reports that build, as the other graph pages do
    page = response.content.decode()
    assert "The graph has not been built yet." not in page
    assert "Built " in page


def test_no_introduction_to_a_customer_with_no_ties(
    world, team, client_for, django_capture_on_commit_callbacks
):
    # Visible through the team, with no owner to tie them to a rep.
    loner = CustomerFactory(name="Lone", team=team)
    with django_capture_on_commit_callbacks(execute=True):
        graph_build_request(trigger=ModelVersion.Trigger.COMMAND)

    response = client_for(world.rep).get(
        reverse("analytics:introductions"), {"target": loner.pk, "from": f"customer:{world.a.pk}"}
    )

    assert response.context["steps"] is None
    assert "No chain of known ties" in response.content.decode()


@pytest.mark.parametrize("hidden", ["target", "source"])
def test_a_hidden_customer_answers_404_like_a_missing_one(world, client_for, hidden):
    target = world.d.pk if hidden == "target" else world.f.pk
    source = f"customer:{world.e.pk}" if hidden == "source" else "me"

    response = client_for(world.rep).get(
        reverse("analytics:introductions"), {"target": target, "from": source}
    )

    assert response.status_code == 404


def test_communities_show_only_visible_sample_members(
    world, client_for, django_assert_max_num_queries
):
    client = client_for(world.rep)

    with django_assert_max_num_queries(13):
        response = client.get(reverse("analytics:community_list"))

    page = response.content.decode()
    assert response.status_code == 200
    samples = {community.number: members for community, members in response.context["rows"]}
    west = CustomerInfluence.objects.get(customer=world.f).community
    assert [customer.name for customer in samples[west]] == ["Fei"]
    assert "Dagny" not in page and "Emil" not in page


def test_the_communities_page_reads_the_same_queries_however_many_communities(
    world, client_for, monkeypatch
):
    # Given pages of two communities, and a first page read while there are only two
    monkeypatch.setattr("analytics.views.network.COMMUNITY_PAGE_SIZE", 2)
    client = client_for(world.rep)
    client.get(reverse("analytics:community_list"))
    with CaptureQueriesContext(connection) as two_communities:
        client.get(reverse("analytics:community_list"))

    # When there are many more communities, each larger than the first two
    Community.objects.bulk_create(
        Community(number=100 + index, size=10 + index, computed_at=timezone.now())
        for index in range(10)
    )
    with CaptureQueriesContext(connection) as twelve_communities:
        response = client.get(reverse("analytics:community_list"))

    # Then the first page shows two of them and reads no more queries than before
    assert [community.number for community, _members in response.context["rows"]] == [109, 108]
    assert len(twelve_communities) == len(two_communities)


def test_a_manager_makes_a_segment_of_a_community(world, manager, client_for):
    community = Community.objects.get(
        number=CustomerInfluence.objects.get(customer=world.a).community
    )

    response = client_for(manager).post(
        reverse("analytics:community_segment", args=[community.number])
    )

    segment = Segment.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("customers:segment_detail", args=[segment.pk])
    (tag,) = segment.filters["tag"]
    assert set(world.a.tags.values_list("name", flat=True)) == {tag}
    assert set(segment_customers_visible(user=manager, segment=segment)) == {
        world.a,
        world.b,
        world.c,
    }
    community.refresh_from_db()
    assert community.segment == segment

    # Asking again gives the same segment
    client_for(manager).post(reverse("analytics:community_segment", args=[community.number]))
    assert Segment.objects.count() == 1


def test_a_rep_cannot_rebuild_the_graph(world, client_for):
    response = client_for(world.rep).post(reverse("analytics:graph_rebuild"))

    assert response.status_code == 403


def test_a_manager_rebuilds_the_graph_and_sees_its_progress(
    world, manager, client_for, django_capture_on_commit_callbacks
):
    client = client_for(manager)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("analytics:graph_rebuild"))

    assert response.status_code == 302
    job = AnalyticsJob.objects.first()
    assert job.started_by == manager and job.trigger == ModelVersion.Trigger.BUTTON
    assert job.status == AnalyticsJob.Status.DONE
    status = client.get(reverse("analytics:graph_job"), headers={"HX-Request": "true"})
    assert "Built" in status.content.decode()
    assert 'hx-trigger="every 3s"' not in status.content.decode()


def test_a_running_build_is_polled(world, manager, client_for):
    graph_build_request(trigger=ModelVersion.Trigger.BUTTON, user=manager)

    response = client_for(manager).get(reverse("analytics:influence_list"))

    page = response.content.decode()
    assert 'hx-trigger="every 3s"' in page
    assert "Building the graph" in page
