"""The pure walk logic, without Neo4j: networkx is the oracle for distances and paths."""

from __future__ import annotations

from collections import Counter

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from mllineage.analysis.traversal import (
    Downstream,
    Reached,
    impact_report,
    path_to,
    select,
    shortest_path_parents,
)
from mllineage.model.domain import Kind
from mllineage.model.views import EntityOut

ROLES = {
    "models": Kind.Model,
    "endpoints": Kind.Endpoint,
    "training_jobs": Kind.TrainingJob,
    "feature_groups": Kind.FeatureGroup,
    "features": Kind.Feature,
    "feature_queries": Kind.FeatureQuery,
}


def uid(kind: Kind, i: int) -> str:
    return f"{kind}:default:n{i:03d}"


@st.composite
def graphs(draw: st.DrawFn) -> tuple[nx.DiGraph, str, dict[str, str | None]]:
    """A random directed graph (cycles, diamonds, edges back to the root), its root, owners."""
    size = draw(st.integers(1, 25))
    kinds = draw(st.lists(st.sampled_from(list(Kind)), min_size=size, max_size=size))
    nodes = [uid(kind, i) for i, kind in enumerate(kinds)]
    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    pairs = st.tuples(st.integers(0, size - 1), st.integers(0, size - 1))
    for a, b in draw(st.lists(pairs, min_size=size, max_size=3 * size)):
        if a != b:
            graph.add_edge(nodes[a], nodes[b])
    owner = st.sampled_from([None, "team-a", "team-b", "team-c"])
    owners = {n: draw(owner) for n in nodes}
    return graph, nodes[0], owners


def walk(
    graph: nx.DiGraph, root: str, depth: int, owners: dict[str, str | None]
) -> tuple[list[Downstream], list[tuple[str, str]]]:
    """What the store's impact query returns: the nodes within ``depth`` (root excluded) at
    their shortest distance, and the edges among the root and them."""
    distance = nx.single_source_shortest_path_length(graph, root, cutoff=depth)
    reached = [
        Downstream(n, kind_of(n), d, "default", n.split(":", 2)[2], owners[n])
        for n, d in distance.items()
        if n != root
    ]
    edges = [(a, b) for a, b in graph.edges if a in distance and b in distance]
    return reached, edges


def kind_of(node: str) -> Kind:
    return Kind(node.split(":", 1)[0])


def root_entity(root: str) -> EntityOut:
    return EntityOut(uid=root, kind=kind_of(root), namespace="default", name=root)


@settings(max_examples=300, deadline=None)
@given(graphs(), st.integers(1, 6), st.integers(1, 5))
def test_impact_report_matches_networkx(
    drawn: tuple[nx.DiGraph, str, dict[str, str | None]], depth: int, limit: int
) -> None:
    graph, root, owners = drawn
    reached, edges = walk(graph, root, depth, owners)
    report = impact_report(root_entity(root), reached, edges, limit)
    distance = nx.single_source_shortest_path_length(graph, root, cutoff=depth)
    downstream = {n: d for n, d in distance.items() if n != root}

    assert report.root.uid == root
    assert report.total == len(downstream)
    assert report.counts == Counter(kind_of(n) for n in downstream)
    assert report.owners == sorted({owners[n] for n in downstream if owners[n]})
    cut = False
    for role, kind in ROLES.items():
        of_kind = sorted((d, n) for n, d in downstream.items() if kind_of(n) == kind)
        items = getattr(report, role)
        assert [(i.depth, i.uid) for i in items] == of_kind[:limit]
        cut = cut or len(of_kind) > limit
        for item in items:
            assert item.kind == kind and item.owner == owners[item.uid]
            assert item.name == item.uid.split(":", 2)[2] and item.namespace == "default"
            assert item.path[0] == root and item.path[-1] == item.uid
            assert (
                len(item.path) - 1 == item.depth == nx.shortest_path_length(graph, root, item.uid)
            )
            assert all(graph.has_edge(a, b) for a, b in zip(item.path, item.path[1:], strict=False))
            for step, node in enumerate(item.path[1:], start=1):  # the smallest uid first
                before = [p for p in graph.predecessors(node) if distance.get(p) == step - 1]
                assert item.path[step - 1] == min(before)
    assert report.truncated == cut


def test_impact_report_on_a_ladder_of_diamonds() -> None:
    """2^40 paths, 121 nodes: the report is about nodes, never about paths."""
    graph = nx.DiGraph()
    previous = uid(Kind.DataSource, 0)
    for rung in range(40):
        left, right = uid(Kind.FeaturePipeline, 2 * rung + 1), uid(Kind.TrainingJob, 2 * rung + 2)
        bottom = uid(Kind.Model, 100 + rung)
        graph.add_edges_from([(previous, left), (previous, right), (left, bottom), (right, bottom)])
        previous = bottom
    root = uid(Kind.DataSource, 0)
    reached, edges = walk(graph, root, 100, dict.fromkeys(graph.nodes, "team-a"))
    report = impact_report(root_entity(root), reached, edges, 1000)
    assert report.total == 120 and report.counts[Kind.Model] == 40
    last = report.models[-1]
    assert last.depth == 80 and last.path == nx.shortest_path(graph, root, last.uid)
    assert report.owners == ["team-a"] and not report.truncated


def test_impact_report_of_a_leaf_is_empty() -> None:
    root = uid(Kind.Endpoint, 0)
    report = impact_report(root_entity(root), [], [], 10)
    assert report.total == 0 and report.counts == {} and report.owners == []
    assert all(getattr(report, role) == [] for role in ROLES)
    assert not report.truncated


def test_select_keeps_the_nearest_of_the_kinds_and_says_when_it_cut() -> None:
    reached = {
        "root": Reached(0, Kind.DataSource),
        "b": Reached(2, Kind.Model),
        "a": Reached(2, Kind.Model),
        "c": Reached(1, Kind.Endpoint),
        "d": Reached(3, Kind.Model),
    }
    assert select(reached, "root", None, 10) == (["c", "a", "b", "d"], False)
    assert select(reached, "root", frozenset({Kind.Model}), 2) == (["a", "b"], True)
    assert select(reached, "root", frozenset({Kind.Model}), 3) == (["a", "b", "d"], False)
    assert select(reached, "root", frozenset({Kind.DataSource}), 5) == ([], False)  # root never


def test_shortest_path_parents_takes_one_level_steps_and_the_smallest_uid() -> None:
    reached = {
        "r": Reached(0, Kind.DataSource),
        "x": Reached(1, Kind.FeaturePipeline),
        "w": Reached(1, Kind.FeaturePipeline),
        "m": Reached(2, Kind.Model),
    }
    edges = [("r", "x"), ("r", "w"), ("x", "m"), ("w", "m"), ("r", "m"), ("m", "r"), ("q", "m")]
    parents = shortest_path_parents(reached, edges)
    # r -> m skips a level and m -> r climbs down; q was not reached.
    assert parents == {"x": "r", "w": "r", "m": "w"}
    assert path_to("m", parents) == ["r", "w", "m"]
    assert path_to("r", parents) == ["r"]
