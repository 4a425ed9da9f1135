"""The social graph in plain networkx: build it from weighted edges, measure every node
(PageRank, degree centrality), find communities, and search a shortest path level by level
through a neighbour lookup the caller supplies (the database, or a graph in memory).

Nodes are strings: "c<id>" a customer, "o<id>" a company, "u<id>" a staff user.
"""

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import networkx as nx

CUSTOMER = "c"
COMPANY = "o"
STAFF = "u"


def node_name(kind: str, pk: int) -> str:
    return f"{kind}{pk}"


def node_split(node: str) -> tuple[str, int]:
    """("c", 12) for "c12"."""
    return node[0], int(node[1:])


def graph_add_edge(graph: nx.Graph, source: str, target: str, *, weight: float, kind: str):
    """Add a tie, or strengthen the one already there: weights add up, kinds are collected."""
    if source == target:
        return
    data = graph.get_edge_data(source, target)
    if data is None:
        graph.add_edge(source, target, weight=weight, kinds={kind})
    else:
        data["weight"] += weight
        data["kinds"].add(kind)


def graph_build(
    *, nodes: Iterable[str] = (), edges: Iterable[tuple[str, str, float, str]] = ()
) -> nx.Graph:
    """A graph of `nodes` (isolated ones included) and (source, target, weight, kind) ties."""
    graph = nx.Graph()
    graph.add_nodes_from(nodes)
    for source, target, weight, kind in edges:
        graph_add_edge(graph, source, target, weight=weight, kind=kind)
    return graph


@dataclass(frozen=True)
class NodeMeasures:
    pagerank: float
    degree: float
    connections: int


def graph_measures(graph: nx.Graph) -> dict[str, NodeMeasures]:
    """PageRank over the weighted ties and degree centrality (ties / (nodes - 1)) of each node."""
    if graph.number_of_nodes() == 0:
        return {}
    pagerank = nx.pagerank(graph, weight="weight")
    degree = nx.degree_centrality(graph)
    return {
        node: NodeMeasures(
            pagerank=pagerank[node], degree=degree[node], connections=graph.degree(node)
        )
        for node in graph.nodes
    }


def graph_communities(
    graph: nx.Graph, *, min_size: int = 3, seed: int = 7, leave_out: str = STAFF
) -> list[set[str]]:
    """Louvain communities of at least `min_size` customers, largest first.

    Staff nodes are left out: a rep is tied to every customer they serve, so with them the
    communities would be the reps' portfolios rather than groups of customers who know each
    other. Companies stay, as a shared employer is a real tie between its people.
    """
    social = graph.subgraph(node for node in graph.nodes if not node.startswith(leave_out))
    found = nx.community.louvain_communities(social, weight="weight", seed=seed)
    communities = []
    for members in found:
        customers = {node for node in members if node.startswith(CUSTOMER)}
        if len(customers) >= min_size:
            communities.append(customers)
    communities.sort(key=lambda members: (-len(members), min(members)))
    return communities


# neighbours_of(nodes) -> {node: [its neighbours]} for every node of `nodes` that has any.
NeighbourLookup = Callable[[set[str]], Mapping[str, Iterable[str]]]


class SearchTooWide(Exception):
    """The search reached more nodes than it may look at before meeting the target."""


def path_search(
    *,
    source: str,
    target: str,
    neighbours_of: NeighbourLookup,
    max_hops: int,
    max_frontier: int,
) -> list[str] | None:
    """A shortest chain from `source` to `target` of at most `max_hops` ties, or None.

    Bidirectional breadth-first search: each step expands the smaller side by one whole level
    (one neighbour lookup), and the first level at which the sides meet holds a shortest path,
    the one through the meeting node with the least total depth. SearchTooWide when a level
    would hold more than `max_frontier` nodes.
    """
    if source == target:
        return [source]
    forward = {source: (None, 0)}
    backward = {target: (None, 0)}
    forward_frontier, backward_frontier = {source}, {target}
    hops = 0
    while forward_frontier and backward_frontier and hops < max_hops:
        expand_forward = len(forward_frontier) <= len(backward_frontier)
        if expand_forward:
            frontier, seen, other = forward_frontier, forward, backward
        else:
            frontier, seen, other = backward_frontier, backward, forward
        adjacency = neighbours_of(frontier)
        reached: set[str] = set()
        meetings: list[tuple[int, str]] = []
        for node in sorted(frontier):
            depth = seen[node][1] + 1
            for neighbour in sorted(adjacency.get(node, ())):
                if neighbour in seen:
                    continue
                seen[neighbour] = (node, depth)
                reached.add(neighbour)
                if neighbour in other:
                    meetings.append((depth + other[neighbour][1], neighbour))
        hops += 1
        if meetings:
            _length, meeting = min(meetings)
            return _path_join(meeting, forward, backward)
        if len(reached) > max_frontier:
            raise SearchTooWide(len(reached))
        if expand_forward:
            forward_frontier = reached
        else:
            backward_frontier = reached
    return None


def _path_join(meeting: str, forward: dict, backward: dict) -> list[str]:
    path = []
    node = meeting
    while node is not None:
        path.append(node)
        node = forward[node][0]
    path.reverse()
    node = backward[meeting][0]
    while node is not None:
        path.append(node)
        node = backward[node][0]
    return path


def graph_neighbour_lookup(graph: nx.Graph) -> NeighbourLookup:
    """The neighbour lookup of a graph in memory, for path_search."""
    return lambda nodes: {node: list(graph.neighbors(node)) for node in nodes if node in graph}


def radial_layout(count: int, *, radius: float, centre: float) -> list[tuple[float, float]]:
    """`count` points evenly round a circle, the first at the top, clockwise."""
    return [
        (
            round(centre + radius * math.sin(2 * math.pi * index / count), 1),
            round(centre - radius * math.cos(2 * math.pi * index / count), 1),
        )
        for index in range(count)
    ]


def spring_layout_fitted(
    nodes: list[str],
    ties: Iterable[tuple[str, str, float]],
    *,
    width: float,
    height: float,
    margin: float,
    seed: int = 7,
) -> dict[str, tuple[float, float]]:
    """A force-directed layout of `nodes` joined by weighted (a, b, weight) `ties`, scaled to fit
    a `width` x `height` box less `margin` on every side and centred in it. The fixed seed draws
    the same picture every time."""
    if len(nodes) == 1:
        return {nodes[0]: (round(width / 2, 1), round(height / 2, 1))}
    graph = graph_build(nodes=nodes, edges=((a, b, weight, "") for a, b, weight in ties))
    positions = nx.spring_layout(graph, weight="weight", seed=seed)
    xs = [x for x, _y in positions.values()]
    ys = [y for _x, y in positions.values()]
    mid_x, mid_y = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    scale = min(
        (width - 2 * margin) / ((max(xs) - min(xs)) or 1.0),
        (height - 2 * margin) / ((max(ys) - min(ys)) or 1.0),
    )
    return {
        node: (
            round(width / 2 + (x - mid_x) * scale, 1),
            round(height / 2 + (y - mid_y) * scale, 1),
        )
        for node, (x, y) in positions.items()
    }
