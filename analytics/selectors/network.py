"""Reads of the social graph: influence lists, a customer's place in the graph and the picture of
their neighbours, warm-introduction paths and communities, always through the visibility rule.

Anyone the user may not see stays anonymous wherever the graph passes through them: a path or a
picture shows "a customer you cannot see", never their name or id.
"""

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils.translation import gettext as _

from analytics.ml.graph import (
    COMPANY,
    CUSTOMER,
    STAFF,
    SearchTooWide,
    node_name,
    node_split,
    path_search,
    radial_layout,
    spring_layout_fitted,
)
from analytics.models import AnalyticsJob, Community, CustomerInfluence, GraphEdge
from crm.accounts.models import User
from crm.accounts.selectors import records_visible_to
from customers.models import Company, Customer
from customers.selectors.network import customer_relationship_network

INTRODUCTION_MAX_HOPS = 6
# A level of the search holding more nodes than this gives up rather than read half the graph.
INTRODUCTION_MAX_FRONTIER = 5_000
# Nodes looked up per query (bounded IN lists).
LOOKUP_CHUNK = 1_000
EGO_MAX_NEIGHBOURS = 30
EGO_SIZE = 320
EGO_LABELLED_UP_TO = 12
RELATIONSHIP_PICTURE_WIDTH = 360
RELATIONSHIP_PICTURE_HEIGHT = 280
RELATIONSHIP_PICTURE_MARGIN = 28
# With more customers than this, only the customer and their direct contacts are labelled (the
# others name themselves on hover) so the labels do not pile up.
RELATIONSHIP_LABELLED_UP_TO = 15
COMMUNITY_SAMPLE_SIZE = 3
INFLUENCE_ORDERINGS = {
    "-pagerank": (F("influence__pagerank").desc(), F("pk").asc()),
    "-degree": (F("influence__degree").desc(), F("pk").asc()),
    "-connections": (F("influence__connections").desc(), F("pk").asc()),
}
DEFAULT_INFLUENCE_ORDERING = "-pagerank"


def graph_jobs() -> QuerySet[AnalyticsJob]:
    """The builds of the graph, newest first."""
    return AnalyticsJob.objects.filter(kind=AnalyticsJob.Kind.GRAPH)


def graph_job_latest() -> AnalyticsJob | None:
    return graph_jobs().first()


def influence_ordering(ordering: str | None) -> str:
    return ordering if ordering in INFLUENCE_ORDERINGS else DEFAULT_INFLUENCE_ORDERING


def influence_list_visible(
    *, user: User, community: int | None = None, ordering: str = DEFAULT_INFLUENCE_ORDERING
) -> QuerySet[Customer]:
    """The customers `user` may see that the latest graph measured, with `influence` joined,
    most influential first (by PageRank unless another of INFLUENCE_ORDERINGS is asked for)."""
    customers = records_visible_to(
        user=user, queryset=Customer.objects.filter(influence__isnull=False)
    )
    if community is not None:
        customers = customers.filter(influence__community=community)
    return customers.select_related("influence", "company").order_by(
        *INFLUENCE_ORDERINGS[influence_ordering(ordering)]
    )


@dataclass(frozen=True)
class InfluenceSummary:
    influence: CustomerInfluence
    # Share of measured customers with a lower PageRank, 0-100.
    percentile: int
    community: Community | None


PERCENTILE_POINTS = 100


def _pagerank_ladder(computed_at) -> tuple[list[float], int, int]:
    """Every `step`-th PageRank of the latest graph in ascending order, the step, and how many
    customers were measured: read once per build (the key changes with it) instead of counting
    the whole table on every 360 page."""
    key = f"analytics:pagerank-ladder:{computed_at.isoformat()}"
    ladder = cache.get(key)
    if ladder is None:
        measured = CustomerInfluence.objects.count()
        step = max(measured // PERCENTILE_POINTS, 1)
        positions = list(range(step, measured + 1, step))
        values = list(
            CustomerInfluence.objects.annotate(
                position=Window(RowNumber(), order_by=[F("pagerank").asc(), F("customer").asc()])
            )
            .filter(position__in=positions)
            .order_by("position")
            .values_list("pagerank", flat=True)
        )
        ladder = (values, step, measured)
        cache.set(key, ladder, timeout=24 * 60 * 60)
    return ladder


def customer_influence_summary(*, customer: Customer) -> InfluenceSummary | None:
    """Where the customer (already checked visible) stands in the latest graph, or None."""
    influence = CustomerInfluence.objects.filter(customer=customer).first()
    if influence is None:
        return None
    values, step, measured = _pagerank_ladder(influence.computed_at)
    below = bisect_left(values, influence.pagerank) * step
    community = (
        Community.objects.filter(number=influence.community).first()
        if influence.community is not None
        else None
    )
    return InfluenceSummary(
        influence=influence,
        percentile=min(int(100 * below / measured), 99) if measured else 0,
        community=community,
    )


@dataclass(frozen=True)
class GraphNode:
    node: str
    kind: str
    label: str
    url: str = ""
    hidden: bool = False


def graph_nodes_describe(*, user: User, nodes: Iterable[str]) -> dict[str, GraphNode]:
    """A label (and a link) for each node; customers and companies `user` may not see are only
    "a customer/company you cannot see". At most three queries, one per kind of node."""
    ids: dict[str, set[int]] = {CUSTOMER: set(), COMPANY: set(), STAFF: set()}
    for node in nodes:
        kind, pk = node_split(node)
        ids[kind].add(pk)
    described: dict[str, GraphNode] = {}
    records = (
        (CUSTOMER, Customer, "customers:customer_detail", _("a customer you cannot see")),
        (COMPANY, Company, "customers:company_detail", _("a company you cannot see")),
    )
    for kind, model, url_name, hidden_label in records:
        if not ids[kind]:
            continue
        visible = records_visible_to(user=user, queryset=model.objects.filter(pk__in=ids[kind]))
        names = dict(visible.values_list("pk", "name"))
        for pk in ids[kind]:
            node = node_name(kind, pk)
            if pk in names:
                url = reverse(url_name, args=[pk])
                described[node] = GraphNode(node=node, kind=kind, label=names[pk], url=url)
            else:
                described[node] = GraphNode(node=node, kind=kind, label=hidden_label, hidden=True)
    if ids[STAFF]:
        for staff in User.objects.filter(pk__in=ids[STAFF]):
            node = node_name(STAFF, staff.pk)
            described[node] = GraphNode(node=node, kind=STAFF, label=str(staff))
    return described


@dataclass(frozen=True)
class EgoPoint:
    x: float
    y: float
    node: GraphNode
    weight: float
    kinds: str
    label: str


@dataclass(frozen=True)
class EgoNetwork:
    size: int
    centre: float
    points: list[EgoPoint]
    # Ties between two neighbours, as ((x1, y1), (x2, y2)).
    ties: list[tuple[tuple[float, float], tuple[float, float]]]
    total: int
    show_labels: bool


def _short(label: str, length: int = 16) -> str:
    return label if len(label) <= length else f"{label[: length - 1]}…"


def customer_ego_network(
    *, user: User, customer: Customer, total: int, limit: int = EGO_MAX_NEIGHBOURS
) -> EgoNetwork:
    """The customer's strongest ties (at most `limit` of their `total`) round them on a circle,
    for an SVG."""
    edges = GraphEdge.objects.filter(source=node_name(CUSTOMER, customer.pk))
    strongest = list(
        edges.order_by("-weight", "target").values_list("target", "weight", "kinds")[:limit]
    )
    neighbours = [target for target, _weight, _kinds in strongest]
    described = graph_nodes_describe(user=user, nodes=neighbours)
    centre = EGO_SIZE / 2
    positions = radial_layout(len(neighbours), radius=centre - 40, centre=centre)
    position_of = dict(zip(neighbours, positions, strict=True))
    points = [
        EgoPoint(
            x=position_of[target][0],
            y=position_of[target][1],
            node=described[target],
            weight=weight,
            kinds=kinds,
            label=_short(described[target].label),
        )
        for target, weight, kinds in strongest
    ]
    ties = []
    if len(neighbours) > 1:
        between = GraphEdge.objects.filter(source__in=neighbours, target__in=neighbours)
        for source, target in between.values_list("source", "target"):
            if source < target:
                ties.append((position_of[source], position_of[target]))
    return EgoNetwork(
        size=EGO_SIZE,
        centre=centre,
        points=points,
        ties=ties,
        total=total,
        show_labels=len(points) <= EGO_LABELLED_UP_TO,
    )


@dataclass(frozen=True)
class RelationshipPoint:
    x: float
    y: float
    name: str
    label: str
    url: str
    hop: int
    show_label: bool


@dataclass(frozen=True)
class RelationshipLine:
    x1: float
    y1: float
    x2: float
    y2: float
    kind: str
    strength: int


@dataclass(frozen=True)
class RelationshipPicture:
    width: int
    height: int
    # The customer last, so the SVG draws them on top.
    points: list[RelationshipPoint]
    lines: list[RelationshipLine]
    truncated: bool


def customer_relationship_picture(*, user: User, customer: Customer) -> RelationshipPicture | None:
    """The customer's relationships two hops out, laid out by networkx for an SVG; None when they
    have no relationship the user may see."""
    network = customer_relationship_network(user=user, customer=customer)
    if not network.ties:
        return None
    names = [node_name(CUSTOMER, member.pk) for member in network.customers]
    positions = spring_layout_fitted(
        names,
        [
            (node_name(CUSTOMER, tie.first_pk), node_name(CUSTOMER, tie.second_pk), tie.strength)
            for tie in network.ties
        ],
        width=RELATIONSHIP_PICTURE_WIDTH,
        height=RELATIONSHIP_PICTURE_HEIGHT,
        margin=RELATIONSHIP_PICTURE_MARGIN,
    )
    labelled_all = len(names) <= RELATIONSHIP_LABELLED_UP_TO
    points = [
        RelationshipPoint(
            x=positions[name][0],
            y=positions[name][1],
            name=member.name,
            label=_short(member.name),
            url=reverse("customers:customer_detail", args=[member.pk]),
            hop=network.hops[member.pk],
            show_label=labelled_all or network.hops[member.pk] < 2,
        )
        for name, member in zip(names, network.customers, strict=True)
    ]
    points.reverse()
    by_pk = {member.pk: positions[node_name(CUSTOMER, member.pk)] for member in network.customers}
    lines = [
        RelationshipLine(
            x1=by_pk[tie.first_pk][0],
            y1=by_pk[tie.first_pk][1],
            x2=by_pk[tie.second_pk][0],
            y2=by_pk[tie.second_pk][1],
            kind=tie.kind,
            strength=tie.strength,
        )
        for tie in network.ties
    ]
    return RelationshipPicture(
        width=RELATIONSHIP_PICTURE_WIDTH,
        height=RELATIONSHIP_PICTURE_HEIGHT,
        points=points,
        lines=lines,
        truncated=network.truncated,
    )


def _neighbours_from_edges(nodes: set[str]) -> dict[str, list[str]]:
    adjacency: dict[str, list[str]] = {}
    ordered = sorted(nodes)
    for start in range(0, len(ordered), LOOKUP_CHUNK):
        chunk = ordered[start : start + LOOKUP_CHUNK]
        for source, target in GraphEdge.objects.filter(source__in=chunk).values_list(
            "source", "target"
        ):
            adjacency.setdefault(source, []).append(target)
    return adjacency


@dataclass(frozen=True)
class PathStep:
    node: GraphNode
    # Why this step is tied to the one before it ("colleague,company"); empty for the first.
    kinds: str


def _staff_tie_first(*, staff: str, nodes: set[str]) -> str | None:
    """The first (by name) of `nodes` that `staff` is tied to, or None: through the
    (source, target) index in bounded IN lists, in name order, stopping at the first list that
    holds one (any node of a level gives an equally short chain)."""
    ordered = sorted(nodes)
    for start in range(0, len(ordered), LOOKUP_CHUNK):
        chunk = ordered[start : start + LOOKUP_CHUNK]
        tied = GraphEdge.objects.filter(source=staff, target__in=chunk).order_by("target")
        first = tied.values_list("target", flat=True).first()
        if first is not None:
            return first
    return None


def _path_search_from_staff(
    *, staff: str, target: str, max_hops: int, max_frontier: int
) -> list[str] | None:
    """A shortest chain from the staff node `staff` to `target`, searched from the target's side
    only: a rep is tied to every customer they own or served (thousands), so their node is never
    expanded; each level of the target's side is instead checked against the rep's own ties."""
    parents: dict[str, str | None] = {target: None}
    level = {target}
    for hops in range(1, max_hops + 1):
        node = _staff_tie_first(staff=staff, nodes=level)
        if node is not None:
            path = [staff]
            while node is not None:
                path.append(node)
                node = parents[node]
            return path
        if hops == max_hops:
            return None
        if len(level) > max_frontier:
            raise SearchTooWide(len(level))
        adjacency = _neighbours_from_edges(level)
        reached: set[str] = set()
        for node in sorted(level):
            for neighbour in sorted(adjacency.get(node, ())):
                if neighbour not in parents:
                    parents[neighbour] = node
                    reached.add(neighbour)
        if not reached:
            return None
        level = reached
    return None


def introduction_path(
    *, user: User, source: str, target: Customer, max_hops: int = INTRODUCTION_MAX_HOPS
) -> list[PathStep] | None:
    """The shortest chain of known ties from `source` (a node: "u<id>" for a rep, "c<id>" for a
    customer the caller has checked visible) to `target` (visible), or None when there is none
    within `max_hops`. Walks GraphEdge level by level through indexed lookups, never loading
    the graph: from both ends between two customers, from the target's end only for a rep (see
    _path_search_from_staff). SearchTooWide when a level to expand grows past
    INTRODUCTION_MAX_FRONTIER."""
    target_node = node_name(CUSTOMER, target.pk)
    if node_split(source)[0] == STAFF:
        path = _path_search_from_staff(
            staff=source,
            target=target_node,
            max_hops=max_hops,
            max_frontier=INTRODUCTION_MAX_FRONTIER,
        )
    else:
        path = path_search(
            source=source,
            target=target_node,
            neighbours_of=_neighbours_from_edges,
            max_hops=max_hops,
            max_frontier=INTRODUCTION_MAX_FRONTIER,
        )
    if path is None:
        return None
    described = graph_nodes_describe(user=user, nodes=path)
    ties = GraphEdge.objects.filter(source__in=path[:-1], target__in=path[1:])
    kinds = {
        (source, target): kinds
        for source, target, kinds in ties.values_list("source", "target", "kinds")
    }
    return [
        PathStep(
            node=described[node], kinds=kinds.get((path[index - 1], node), "") if index else ""
        )
        for index, node in enumerate(path)
    ]


def community_list() -> QuerySet[Community]:
    return Community.objects.select_related("segment").order_by("-size", "number")


def community_get(*, number: int) -> Community:
    return Community.objects.select_related("segment").get(number=number)


def community_samples_visible(
    *, user: User, numbers: list[int], size: int = COMMUNITY_SAMPLE_SIZE
) -> dict[int, list[Customer]]:
    """The `size` most influential members of each community that `user` may see: one query per
    community (callers pass a page of them), each walking the influence_community
    (community, -pagerank) index only until `size` visible members are found, so the cost
    follows the page rather than the communities' sizes."""
    visible = records_visible_to(user=user, queryset=Customer.objects.all())
    samples: dict[int, list[Customer]] = {}
    for number in numbers:
        members = list(
            visible.filter(influence__community=number).order_by(
                F("influence__pagerank").desc(), "pk"
            )[:size]
        )
        if members:
            samples[number] = members
    return samples
