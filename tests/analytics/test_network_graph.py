"""The social graph job on a hand-built graph: its measures against networkx computed here by
hand, its communities, the shortest path search, the job's progress and the one-at-a-time rule."""

import itertools
from datetime import timedelta

import networkx as nx
import pytest
from django.utils import timezone

from analytics.ml.graph import (
    SearchTooWide,
    graph_build,
    graph_communities,
    graph_measures,
    graph_neighbour_lookup,
    path_search,
)
from analytics.models import AnalyticsJob, Community, CustomerInfluence, GraphEdge, ModelVersion
from analytics.services.network import GraphBusy, graph_build_request, graph_build_run
from tests.analytics.factories import SocialGraphWorld


@pytest.fixture
def world(rep, rep_teammate, other_team_rep):
    return SocialGraphWorld(rep=rep, rep_teammate=rep_teammate, other_team_rep=other_team_rep)


def _expected_graph(world) -> nx.Graph:
    """The graph the job should read from `world`, written out tie by tie."""
    c = {name: f"c{getattr(world, name).pk}" for name in "abcdefg"}
    acme = f"o{world.acme.pk}"
    rep, teammate, other = (
        f"u{user.pk}" for user in (world.rep, world.rep_teammate, world.other_team_rep)
    )
    graph = nx.Graph()
    graph.add_nodes_from(c.values())
    graph.add_weighted_edges_from(
        [
            (c["a"], c["b"], 5.0),
            (c["b"], c["c"], 5.0),
            (c["a"], c["c"], 5.0),
            (c["d"], c["e"], 5.0),
            (c["e"], c["f"], 5.0),
            (c["d"], c["f"], 5.0),
            (c["c"], c["d"], 1.0),
            (c["a"], acme, 1.0),
            (c["b"], acme, 1.0),
            (c["a"], rep, 1.0),
            (c["b"], rep, 1.0),
            (c["c"], rep, 3.0),  # owner, and two interactions handled
            (c["d"], other, 1.0),
            (c["e"], other, 1.0),
            (c["f"], teammate, 1.0),
        ]
    )
    return graph


def _build(django_capture_on_commit_callbacks) -> AnalyticsJob:
    with django_capture_on_commit_callbacks(execute=True):
        job = graph_build_request(trigger=ModelVersion.Trigger.COMMAND)
    job.refresh_from_db()
    return job


def test_measures_match_networkx_on_the_hand_built_graph(world, django_capture_on_commit_callbacks):
    # Given the hand-built world, and networkx's own answers on the same graph written by hand
    expected = _expected_graph(world)
    pagerank = nx.pagerank(expected, weight="weight")

    # When the job builds the graph
    job = _build(django_capture_on_commit_callbacks)

    # Then every customer's PageRank, degree centrality and connections are networkx's
    assert job.status == AnalyticsJob.Status.DONE
    assert job.progress == 100
    assert job.stats["nodes"] == 11 and job.stats["edges"] == 15 and job.stats["customers"] == 7
    stored = {f"c{row.customer_id}": row for row in CustomerInfluence.objects.all()}
    assert len(stored) == 7
    for node, row in stored.items():
        assert row.pagerank == pytest.approx(pagerank[node], rel=1e-6)
    # 11 nodes: degree centrality is ties / 10.
    assert stored[world.node(world.a)].degree == pytest.approx(0.4)
    assert stored[world.node(world.c)].degree == pytest.approx(0.4)
    assert stored[world.node(world.f)].degree == pytest.approx(0.3)
    assert stored[world.node(world.g)].degree == 0
    assert stored[world.node(world.c)].connections == 4
    # C, tied to both cliques and to the rep most strongly, ranks first; isolated G last.
    ranking = list(CustomerInfluence.objects.values_list("customer_id", flat=True))
    assert ranking[0] == world.c.pk
    assert ranking[-1] == world.g.pk


def test_edges_are_stored_both_ways_with_their_kinds(world, django_capture_on_commit_callbacks):
    _build(django_capture_on_commit_callbacks)

    assert GraphEdge.objects.count() == 30
    ties = {(row.source, row.target): (row.weight, row.kinds) for row in GraphEdge.objects.all()}
    rep_node = f"u{world.rep.pk}"
    assert ties[(world.node(world.c), rep_node)] == (3.0, "interaction,owner")
    assert ties[(rep_node, world.node(world.c))] == (3.0, "interaction,owner")
    assert ties[(world.node(world.d), world.node(world.c))] == (1.0, "referral")
    assert ties[(world.node(world.a), world.node(world.acme))] == (1.0, "company")


def test_the_two_cliques_are_the_communities(world, django_capture_on_commit_callbacks):
    _build(django_capture_on_commit_callbacks)

    members = {}
    for customer_id, number in CustomerInfluence.objects.values_list("customer_id", "community"):
        members.setdefault(number, set()).add(customer_id)
    assert members.pop(None) == {world.g.pk}
    assert sorted(members.values(), key=min) == [
        {world.a.pk, world.b.pk, world.c.pk},
        {world.d.pk, world.e.pk, world.f.pk},
    ]
    communities = {community.number: community for community in Community.objects.all()}
    assert {community.size for community in communities.values()} == {3}
    west = communities[CustomerInfluence.objects.get(customer=world.e).community]
    assert west.label == "Xi'an"
    assert west.summary["city"] == ["Xi'an", 3]


def test_a_second_build_replaces_the_first(world, django_capture_on_commit_callbacks):
    _build(django_capture_on_commit_callbacks)
    world.g.delete()

    _build(django_capture_on_commit_callbacks)

    assert CustomerInfluence.objects.count() == 6
    assert GraphEdge.objects.count() == 30
    assert Community.objects.count() == 2


def test_communities_leave_staff_out_and_small_groups_unnumbered():
    # Given two triangles whose members all share one rep
    edges = [("c1", "c2", 5, "x"), ("c2", "c3", 5, "x"), ("c1", "c3", 5, "x")]
    edges += [
        ("c4", "c5", 5, "x"),
        ("c5", "c6", 5, "x"),
        ("c4", "c6", 5, "x"),
        ("c7", "c8", 1, "x"),
    ]
    edges += [(f"c{index}", "u1", 9, "owner") for index in range(1, 9)]
    graph = graph_build(edges=edges)

    communities = graph_communities(graph, min_size=3)

    assert communities == [{"c1", "c2", "c3"}, {"c4", "c5", "c6"}]


def test_graph_build_adds_up_repeated_ties():
    graph = graph_build(edges=[("c1", "c2", 2.0, "colleague"), ("c2", "c1", 1.0, "family")])

    assert graph["c1"]["c2"] == {"weight": 3.0, "kinds": {"colleague", "family"}}
    measures = graph_measures(graph)
    assert measures["c1"].degree == 1.0 and measures["c1"].connections == 1


def _chain_graph() -> nx.Graph:
    # c1 - c2 - c3 - c4 - c5 - c6 - c7, with a detour c2 - c8 - c9 - c4, and c10 alone.
    edges = [(f"c{index}", f"c{index + 1}", 1.0, "x") for index in range(1, 7)]
    edges += [("c2", "c8", 1.0, "x"), ("c8", "c9", 1.0, "x"), ("c9", "c4", 1.0, "x")]
    return graph_build(nodes=["c10"], edges=edges)


@pytest.mark.parametrize(
    ("source", "target"), [("c1", "c7"), ("c7", "c1"), ("c2", "c4"), ("c1", "c9"), ("c8", "c6")]
)
def test_path_search_finds_the_shortest_chain(source, target):
    graph = _chain_graph()

    path = path_search(
        source=source,
        target=target,
        neighbours_of=graph_neighbour_lookup(graph),
        max_hops=6,
        max_frontier=100,
    )

    assert path[0] == source and path[-1] == target
    assert len(path) == len(nx.shortest_path(graph, source, target))
    assert all(graph.has_edge(first, second) for first, second in itertools.pairwise(path))


def test_path_search_gives_none_when_disconnected_or_too_far():
    graph = _chain_graph()
    lookup = graph_neighbour_lookup(graph)

    assert (
        path_search(source="c1", target="c10", neighbours_of=lookup, max_hops=6, max_frontier=9)
        is None
    )
    assert (
        path_search(source="c1", target="c7", neighbours_of=lookup, max_hops=5, max_frontier=9)
        is None
    )
    assert path_search(
        source="c1", target="c1", neighbours_of=lookup, max_hops=0, max_frontier=9
    ) == ["c1"]


def test_path_search_gives_up_when_a_level_grows_too_wide():
    graph = graph_build(
        edges=[("c0", f"c{index}", 1.0, "x") for index in range(1, 50)] + [("c99", "c98", 1.0, "x")]
    )

    with pytest.raises(SearchTooWide):
        path_search(
            source="c0",
            target="c99",
            neighbours_of=graph_neighbour_lookup(graph),
            max_hops=6,
            max_frontier=10,
        )


def test_only_one_build_at_a_time(db, manager):
    # Given a build waiting for its worker
    first = graph_build_request(trigger=ModelVersion.Trigger.BUTTON, user=manager)

    # When another is asked for, it is refused
    with pytest.raises(GraphBusy):
        graph_build_request(trigger=ModelVersion.Trigger.BUTTON, user=manager)

    # And once the first has not moved for the worker's time limit, it is given up for dead
    AnalyticsJob.objects.filter(pk=first.pk).update(updated_at=timezone.now() - timedelta(hours=2))
    second = graph_build_request(trigger=ModelVersion.Trigger.BUTTON, user=manager)
    first.refresh_from_db()
    assert first.status == AnalyticsJob.Status.FAILED
    assert second.status == AnalyticsJob.Status.QUEUED


def test_a_job_runs_once_even_when_delivered_twice(world, django_capture_on_commit_callbacks):
    job = _build(django_capture_on_commit_callbacks)
    finished_at = job.finished_at

    again = graph_build_run(job_id=job.pk)

    assert again.status == AnalyticsJob.Status.DONE
    assert again.finished_at == finished_at


def test_the_nightly_beat_builds_the_graph():
    from crm.celery import app

    entries = [entry["task"] for entry in app.conf.beat_schedule.values()]
    assert "analytics.graph_build_nightly_task" in entries
    assert "analytics.graph_build_nightly_task" in app.tasks
