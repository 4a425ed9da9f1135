"""The social graph job and the segments made from its communities.

A build is an AnalyticsJob of kind "graph" that goes queued -> running -> done (or failed):
- One at a time: a request fails with GraphBusy while another build is queued or running, and a
  job older than the Celery hard time limit belonged to a worker that died (marked failed).
  On PostgreSQL the check runs under an advisory lock, so two clicks cannot both pass it.
- Reading: customers, relationships and companies in key-ordered chunks, and staff ties from one
  grouped query over interactions, streamed; nothing else is held but the graph itself.
- Writing: the edges (both ways), the measures and the communities replace the previous ones in
  one transaction, so a page reads either the old graph or the new one, never half of each.
"""

import time
from collections.abc import Iterator
from itertools import islice

import networkx as nx
from django.db import connection, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.ml.graph import (
    COMPANY,
    CUSTOMER,
    STAFF,
    graph_add_edge,
    graph_communities,
    graph_measures,
    node_name,
    node_split,
)
from analytics.models import AnalyticsJob, Community, CustomerInfluence, GraphEdge, ModelVersion
from analytics.services.jobs import (
    JobBusy,
    analytics_job_queue,
    analytics_job_run,
    analytics_job_start,
    progress_save,
)
from crm.accounts.models import User
from crm.accounts.selectors import records_editable_by
from crm.copying import copy_rows
from customers.importing.writing import customer_tags_add
from customers.models import Customer, Interaction, Relationship, Segment
from customers.selectors.customers import CustomerFilter
from customers.services.customers import tag_list_get_or_create
from customers.services.segments import segment_create

READ_CHUNK = 50_000
WRITE_BATCH = 5_000
COMMUNITY_MIN_SIZE = 3
COMMUNITY_SEED = 7

# Why two people are tied, as stored in GraphEdge.kinds.
KIND_COMPANY = "company"
KIND_OWNER = "owner"
KIND_INTERACTION = "interaction"
KIND_REFERRAL = "referral"
RELATIONSHIP_KINDS = {
    Relationship.Kind.REFERRED_BY: KIND_REFERRAL,
    Relationship.Kind.COLLEAGUE: "colleague",
    Relationship.Kind.FAMILY: "family",
    Relationship.Kind.PARTNER: "partner",
}


class GraphBusy(JobBusy):
    """A build of the graph is already queued or running."""


def graph_build_request(*, trigger: str, user: User | None = None) -> AnalyticsJob:
    """Queue a build of the graph and return its job; GraphBusy while another one is active."""
    job = analytics_job_start(
        kind=AnalyticsJob.Kind.GRAPH,
        trigger=trigger,
        user=user,
        busy=GraphBusy(_("The graph is already being built.")),
    )

    from analytics.tasks.network import graph_build_task

    analytics_job_queue(job=job, task=graph_build_task)
    return job


def graph_build_nightly() -> int | None:
    """Queue the nightly build unless one is active; the job id, or None."""
    try:
        return graph_build_request(trigger=ModelVersion.Trigger.SCHEDULE).pk
    except GraphBusy:
        return None


def _rows_by_key(queryset: QuerySet, *fields: str) -> Iterator[tuple]:
    """(pk, *fields) of every row, read READ_CHUNK rows at a time in primary key order."""
    last = 0
    while True:
        rows = list(
            queryset.filter(pk__gt=last).order_by("pk").values_list("pk", *fields)[:READ_CHUNK]
        )
        yield from rows
        if len(rows) < READ_CHUNK:
            return
        last = rows[-1][0]


def _graph_read() -> nx.Graph:
    graph = nx.Graph()
    staff = set(User.objects.filter(is_active=True).values_list("pk", flat=True))
    customers = set()
    # Erased customers are left out: their ties are personal data too.
    living = Customer.objects.filter(erased_at__isnull=True)
    for pk, company_id, owner_id in _rows_by_key(living, "company_id", "owner_id"):
        customers.add(pk)
        node = node_name(CUSTOMER, pk)
        graph.add_node(node)
        if company_id is not None:
            graph_add_edge(
                graph, node, node_name(COMPANY, company_id), weight=1.0, kind=KIND_COMPANY
            )
        if owner_id in staff:
            graph_add_edge(graph, node, node_name(STAFF, owner_id), weight=1.0, kind=KIND_OWNER)
    for _pk, source, target, kind, strength in _rows_by_key(
        Relationship.objects.all(), "from_customer_id", "to_customer_id", "kind", "strength"
    ):
        if source in customers and target in customers:
            graph_add_edge(
                graph,
                node_name(CUSTOMER, source),
                node_name(CUSTOMER, target),
                weight=float(strength),
                kind=RELATIONSHIP_KINDS.get(kind, kind),
            )
    handled = (
        Interaction.objects.filter(handled_by__isnull=False)
        .order_by()
        .values_list("handled_by_id", "customer_id")
        .annotate(count=Count("pk"))
    )
    for user_id, customer_id, count in handled.iterator(chunk_size=READ_CHUNK):
        if user_id in staff and customer_id in customers:
            graph_add_edge(
                graph,
                node_name(CUSTOMER, customer_id),
                node_name(STAFF, user_id),
                weight=float(count),
                kind=KIND_INTERACTION,
            )
    return graph


def _edge_rows(graph: nx.Graph) -> Iterator[tuple[str, str, float, str]]:
    for source, target, data in graph.edges(data=True):
        kinds = ",".join(sorted(data["kinds"]))
        yield source, target, data["weight"], kinds
        yield target, source, data["weight"], kinds


def _edges_write(graph: nx.Graph) -> None:
    rows = _edge_rows(graph)
    if connection.vendor == "postgresql":
        # COPY: a million edge rows in seconds rather than minutes of INSERTs.
        table = GraphEdge._meta.db_table
        with connection.cursor() as cursor:
            while chunk := list(islice(rows, READ_CHUNK)):
                copy_rows(
                    cursor, table=table, columns=["source", "target", "weight", "kinds"], rows=chunk
                )
    else:
        batch = []
        for source, target, weight, kinds in rows:
            batch.append(GraphEdge(source=source, target=target, weight=weight, kinds=kinds))
            if len(batch) == WRITE_BATCH:
                GraphEdge.objects.bulk_create(batch)
                batch = []
        GraphEdge.objects.bulk_create(batch)


def _top_values(rows) -> dict[int, tuple[str, int]]:
    """{community: (most common value, its count)} from (community, value, count) rows."""
    best: dict[int, tuple[str, int]] = {}
    for number, value, count in rows:
        if value and (number not in best or (count, value) > (best[number][1], best[number][0])):
            best[number] = (str(value), count)
    return best


def _community_summaries() -> dict[int, dict]:
    """The most common city, company and tag of each community's members (grouped in SQL)."""
    members = CustomerInfluence.objects.filter(community__isnull=False).order_by()
    tops = {
        "city": _top_values(
            members.values_list("community", "customer__city").annotate(count=Count("pk"))
        ),
        "company": _top_values(
            members.values_list("community", "customer__company__name").annotate(count=Count("pk"))
        ),
        "tag": _top_values(
            members.values_list("community", "customer__tags__name").annotate(count=Count("pk"))
        ),
    }
    summaries: dict[int, dict] = {}
    for field, top in tops.items():
        for number, (value, count) in top.items():
            summaries.setdefault(number, {})[field] = [value, count]
    return summaries


def _community_label(summary: dict) -> str:
    if not summary:
        return ""
    _field, (value, _count) = max(summary.items(), key=lambda item: item[1][1])
    return value


def _graph_store(graph: nx.Graph, measures: dict, communities: list[set[str]]) -> dict:
    computed_at = timezone.now()
    community_of = {
        node: number for number, members in enumerate(communities, start=1) for node in members
    }
    with transaction.atomic():
        GraphEdge.objects.all().delete()
        CustomerInfluence.objects.all().delete()
        Community.objects.all().delete()
        _edges_write(graph)
        batch = []
        for node, measure in measures.items():
            kind, pk = node_split(node)
            if kind != CUSTOMER:
                continue
            batch.append(
                CustomerInfluence(
                    customer_id=pk,
                    pagerank=measure.pagerank,
                    degree=measure.degree,
                    connections=measure.connections,
                    community=community_of.get(node),
                    computed_at=computed_at,
                )
            )
            if len(batch) == WRITE_BATCH:
                CustomerInfluence.objects.bulk_create(batch)
                batch = []
        CustomerInfluence.objects.bulk_create(batch)
        summaries = _community_summaries()
        Community.objects.bulk_create(
            [
                Community(
                    number=number,
                    size=len(members),
                    label=_community_label(summaries.get(number, {}))[:200],
                    summary=summaries.get(number, {}),
                    computed_at=computed_at,
                )
                for number, members in enumerate(communities, start=1)
            ],
            batch_size=WRITE_BATCH,
        )
    if connection.vendor == "postgresql":
        # Fresh planner statistics for tables whose every row just changed.
        with connection.cursor() as cursor:
            for model in (GraphEdge, CustomerInfluence, Community):
                cursor.execute(f'ANALYZE "{model._meta.db_table}"')
    return {"computed_at": computed_at.isoformat()}


def graph_build_run(*, job_id: int) -> AnalyticsJob:
    """Build the graph for a queued job. Safe to run twice: a job no longer queued is left alone."""
    return analytics_job_run(job_id=job_id, kind=AnalyticsJob.Kind.GRAPH, work=_graph_build)


def _graph_build(job: AnalyticsJob) -> dict:
    seconds = {}
    clock = time.monotonic()
    graph = _graph_read()
    seconds["read"] = round(time.monotonic() - clock, 2)
    progress_save(job, progress=35, stage=_("Measuring influence"))
    clock = time.monotonic()
    measures = graph_measures(graph)
    seconds["measure"] = round(time.monotonic() - clock, 2)
    progress_save(job, progress=55, stage=_("Finding communities"))
    clock = time.monotonic()
    communities = graph_communities(
        graph, min_size=COMMUNITY_MIN_SIZE, seed=COMMUNITY_SEED, leave_out=STAFF
    )
    seconds["communities"] = round(time.monotonic() - clock, 2)
    progress_save(job, progress=75, stage=_("Saving the graph"))
    clock = time.monotonic()
    _graph_store(graph, measures, communities)
    seconds["write"] = round(time.monotonic() - clock, 2)
    return {
        "nodes": graph.number_of_nodes(),
        "customers": sum(1 for node in graph.nodes if node.startswith(CUSTOMER)),
        "edges": graph.number_of_edges(),
        "communities": len(communities),
        "seconds": seconds,
    }


def community_segment_create(*, actor: User, community: Community) -> Segment:
    """A customers segment of the community: its members the actor may edit get a tag naming the
    community and this build, and the segment filters on that tag (a segment holds filters, not
    members). Made once per community; asking again returns the same segment."""
    if community.segment is not None:
        return community.segment
    tag_name = f"community-{community.number}-{community.computed_at:%Y%m%d%H%M}"
    with transaction.atomic():
        (tag,) = tag_list_get_or_create(names=[tag_name])
        members = records_editable_by(
            user=actor, queryset=Customer.objects.filter(influence__community=community.number)
        )
        customer_tags_add({(pk, tag.pk) for pk in members.values_list("pk", flat=True)})
        segment = segment_create(
            actor=actor,
            name=_("Community: %(label)s") % {"label": community.label or community.number},
            description=_("Customers of community %(number)s of the social graph of %(date)s.")
            % {"number": community.number, "date": f"{community.computed_at:%Y-%m-%d}"},
            filters=CustomerFilter(tags=(tag.name,)),
        )
        Community.objects.filter(pk=community.pk).update(segment=segment)
        community.segment = segment
    return segment
