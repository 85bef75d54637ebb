"""`as_of` and the live graph against an oracle: random histories of mentions, retirements,
restores and edge ends, sent in a random order, replayed in Python and compared with the
service's answer at random times.

``Remembered`` is the rule docs/lifecycle.md states (what the store keeps of a history); when a
history arrives in time order it must equal ``ideal`` (the latest event at or before a time
decides, a live one winning a tie), which the test checks too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import networkx as nx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neo4j import Driver

from mllineage.model.lifecycle import FOREVER

NODES = {
    "s": "DataSource", "p": "FeaturePipeline", "p2": "FeaturePipeline", "g": "FeatureGroup",
    "q": "FeatureQuery", "d": "Dataset", "j": "TrainingJob", "m": "Model", "e": "Endpoint",
}  # fmt: skip
EDGES = [
    ("s", "p", "ContributedTo"), ("s", "p2", "ContributedTo"), ("p", "g", "Produced"),
    ("p2", "g", "Produced"), ("g", "q", "ContributedTo"), ("q", "d", "Produced"),
    ("d", "j", "ContributedTo"), ("j", "m", "Produced"), ("m", "e", "ContributedTo"),
]  # fmt: skip
BASE = datetime(2026, 1, 1, tzinfo=UTC)


def uid(name: str) -> str:
    return f"{NODES[name]}:default:{name}"


def day(n: float) -> datetime:
    return BASE + timedelta(days=n)


@dataclass
class Remembered:
    """A node or an edge as the store keeps it (docs/lifecycle.md, "Lifecycle and time")."""

    first: datetime
    last: datetime
    spans: list[list[datetime]] = field(default_factory=list)
    restores: list[datetime] = field(default_factory=list)

    def revive(self, times: list[datetime]) -> None:
        for span in self.spans:
            for t in times:
                if span[0] <= t < span[1]:
                    span[1] = t

    def mention(self, t: datetime) -> None:
        self.first, self.last = min(self.first, t), max(self.last, t)
        self.revive([t])

    def restore(self, t: datetime) -> None:
        if t not in self.restores:
            self.restores.append(t)
        self.revive([t])

    def close(self, at: datetime) -> None:
        if any(f <= at < u for f, u in self.spans):
            return
        later = [self.first, self.last, *self.restores, *(u for _, u in self.spans)]
        until = min([t for t in later if t >= at], default=FOREVER)
        if until != at:
            self.spans.append([at, until])

    def alive(self, at: datetime | None) -> bool:
        if at is None:
            return all(u != FOREVER for _, u in self.spans)
        return self.first <= at and not any(f <= at < u for f, u in self.spans)


Step = tuple[str, str, float]  # (action, node name or edge index, day)

steps = st.one_of(
    st.tuples(st.just("mention"), st.sampled_from(sorted(NODES)), st.integers(2, 8)),
    st.tuples(st.just("retire"), st.sampled_from(sorted(NODES)), st.integers(2, 8)),
    st.tuples(st.just("restore"), st.sampled_from(sorted(NODES)), st.integers(2, 8)),
    st.tuples(st.just("mention_edge"), st.sampled_from(range(len(EDGES))), st.integers(2, 8)),
    st.tuples(st.just("end"), st.sampled_from(range(len(EDGES))), st.integers(2, 8)),
)


def replay(history: list[Any]) -> tuple[dict[str, Remembered], dict[int, Remembered]]:
    nodes = {name: Remembered(day(0), day(0)) for name in NODES}
    edges = {i: Remembered(day(0), day(0)) for i in range(len(EDGES))}
    for action, target, d in history:
        at = day(d)
        if action == "mention":
            nodes[target].mention(at)
        elif action == "retire":
            nodes[target].close(at)
        elif action == "restore":
            nodes[target].restore(at)
        elif action == "end":
            edges[target].close(at)
        else:
            source, dest, _ = EDGES[target]
            nodes[source].mention(at)
            nodes[dest].mention(at)
            edges[target].mention(at)
    return nodes, edges


def ideal(history: list[Any], kind: str, target: Any, at: datetime) -> bool:
    """Alive at ``at``: the latest event about it at or before ``at`` is not an end."""
    events = [(day(0), 1)]
    for action, other, d in history:
        touches = (
            (kind == "node" and other == target and action in ("mention", "retire", "restore"))
            or (kind == "edge" and other == target and action in ("mention_edge", "end"))
            or (kind == "node" and action == "mention_edge" and target in EDGES[other][:2])
        )
        if touches:
            events.append((day(d), 0 if action in ("retire", "end") else 1))
    before = [e for e in events if e[0] <= at]
    return bool(before) and max(before)[1] == 1


def send(api: httpx.Client, step: Any) -> None:
    action, target, d = step
    at = day(d).isoformat()
    if action == "mention":
        body = {"event_time": at, "nodes": [{"kind": NODES[target], "name": target}]}
        reply = api.post("/v1/graph", json=body)
    elif action in ("retire", "restore"):
        reply = api.post(f"/v1/entities/{uid(target)}/{action}", json={"event_time": at})
    else:
        source, dest, edge_type = EDGES[target]
        edge = {"source": uid(source), "target": uid(dest), "type": edge_type}
        if action == "end":
            reply = api.post("/v1/edges/end", json={"edges": [edge], "event_time": at})
        else:
            ends = [{"kind": NODES[n], "name": n} for n in (source, dest)]
            body = {"event_time": at, "nodes": ends, "edges": [edge]}
            reply = api.post("/v1/graph", json=body)
    assert reply.status_code == 200, reply.text


def expected_graph(
    nodes: dict[str, Remembered], edges: dict[int, Remembered], at: datetime | None
) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(uid(n) for n, item in nodes.items() if item.alive(at))
    for i, (source, dest, _) in enumerate(EDGES):
        if edges[i].alive(at) and uid(source) in graph and uid(dest) in graph:
            graph.add_edge(uid(source), uid(dest))
    return graph


def answered_graph(api: httpx.Client, at: datetime | None) -> nx.DiGraph:
    params = {"as_of": at.isoformat()} if at else {}
    listed = api.get("/v1/entities", params=params)
    assert listed.status_code == 200, listed.text
    graph = nx.DiGraph()
    graph.add_nodes_from(item["uid"] for item in listed.json()["items"])
    for node in list(graph.nodes):
        walk = api.get("/v1/lineage", params={"uid": node, "depth": 1, **params})
        assert walk.status_code == 200, walk.text
        graph.add_edges_from((e["source"], e["target"]) for e in walk.json()["edges"])
    return graph


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    history=st.lists(steps, min_size=1, max_size=10),
    order=st.randoms(use_true_random=False),
    times=st.lists(st.integers(0, 18), min_size=1, max_size=2),
)
def test_as_of_matches_the_replayed_history(
    api: httpx.Client, empty_graph: Driver, history: list[Any], order: Any, times: list[int]
) -> None:
    arrival = list(history)
    order.shuffle(arrival)
    reset(api, empty_graph)
    for step in arrival:
        send(api, step)
    nodes, edges = replay(arrival)
    for at in [None, *(day(t / 2) for t in times)]:
        expected, answered = expected_graph(nodes, edges, at), answered_graph(api, at)
        assert sorted(answered.nodes) == sorted(expected.nodes), at
        assert sorted(answered.edges) == sorted(expected.edges), at


@settings(max_examples=500, deadline=None)
@given(history=st.lists(steps, max_size=12))
def test_in_time_order_what_is_remembered_is_the_whole_truth(history: list[Any]) -> None:
    in_time = sorted(history, key=lambda step: step[2])
    nodes, edges = replay(in_time)
    for t in range(0, 19):
        at = day(t / 2)
        for name, item in nodes.items():
            assert item.alive(at) == ideal(in_time, "node", name, at), (name, at)
        for i, item in edges.items():
            assert item.alive(at) == ideal(in_time, "edge", i, at), (EDGES[i], at)


def reset(api: httpx.Client, driver: Driver) -> None:
    """A graph of every node and edge, created at day 0 (fixtures run once per test, not
    once per example)."""
    driver.execute_query("MATCH (n) DETACH DELETE n")
    nodes = [{"kind": kind, "name": name} for name, kind in NODES.items()]
    edges = [{"source": uid(s), "target": uid(t), "type": kind} for s, t, kind in EDGES]
    body = {"event_time": day(0).isoformat(), "nodes": nodes, "edges": edges}
    assert api.post("/v1/graph", json=body).status_code == 200
