"""The governance reports through the real API, against an independent computation: networkx
over the same graph (nodes, edges, retirements, ends and deprecations at known times), read
at the same time, by the definitions in reports.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neo4j import Driver

from mllineage.model.domain import Kind
from tests.api.test_lineage import uid as default_uid

T1, DEPRECATED, RETIRED, T3 = (f"2026-01-0{d}T00:00:00Z" for d in (2, 3, 4, 5))
AS_OF = [None, "2026-01-01T00:00:00Z", "2026-01-03T12:00:00Z", "2026-01-04T12:00:00Z"]
ARTIFACTS = [Kind.DataSource, Kind.FeatureGroup, Kind.Dataset, Kind.Model]
PROCESSES = [Kind.FeaturePipeline, Kind.FeatureQuery, Kind.TrainingJob, Kind.Endpoint]
OWNERS = [None, "alice", "bob"]
COLUMNS = ["raw.a", "raw.b", "raw.c"]
CONSUMERS = {Kind.Model, Kind.Endpoint}


@dataclass
class History:
    """A graph and its lifecycle, as the test sent it."""

    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)  # uid -> attributes
    edges: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def view(self, as_of: str | None) -> nx.DiGraph:
        """The graph a read sees at ``as_of`` (None: now)."""
        at = as_of or "9999"
        graph = nx.DiGraph()
        for n, a in self.nodes.items():
            if a["created"] <= at and not (a.get("retired") and a["retired"] <= at):
                deprecated = a.get("deprecated") is not None and a["deprecated"] <= at
                graph.add_node(n, **a, is_deprecated=deprecated)
        for (s, t), a in self.edges.items():
            ended = a.get("ended") and a["ended"] <= at
            if a["created"] <= at and not ended and s in graph and t in graph:
                graph.add_edge(s, t, type=a["type"])
        return graph


def kind(node: str) -> Kind:
    return Kind(node.split(":", 1)[0])


@st.composite
def histories(draw: st.DrawFn) -> History:
    history = History()

    def add(k: Kind, name: str, created: str) -> str:
        namespace = draw(st.sampled_from(["default", "team"]))
        node = f"{k}:{namespace}:{name}"
        history.nodes[node] = {"created": created, "owner": draw(st.sampled_from(OWNERS))}
        if k is Kind.Feature and draw(st.booleans()):
            history.nodes[node]["columns"] = draw(st.lists(st.sampled_from(COLUMNS), unique=True))
        return node

    def graph(tag: str, created: str) -> None:
        more_artifacts = draw(st.lists(st.sampled_from(ARTIFACTS), max_size=4))
        more_processes = draw(st.lists(st.sampled_from(PROCESSES), max_size=4))
        artifacts = [
            add(k, f"{tag}a{i}", created) for i, k in enumerate(ARTIFACTS + more_artifacts)
        ]
        processes = [
            add(k, f"{tag}p{i}", created)
            for i, k in enumerate([Kind.FeatureQuery, Kind.Endpoint, *more_processes])
        ]
        groups = [n for n in history.nodes if kind(n) is Kind.FeatureGroup]
        features = [
            add(Kind.Feature, f"{tag}f{i}", created) for i in range(draw(st.integers(1, 5)))
        ]
        known_artifacts = [n for n in history.nodes if kind(n) in ARTIFACTS]
        known_processes = [n for n in history.nodes if kind(n) in PROCESSES]

        def edge(source: str, target: str, edge_type: str) -> None:
            history.edges.setdefault((source, target), {"created": created, "type": edge_type})

        for f in features:
            edge(draw(st.sampled_from(groups)), f, "HasFeature")
        inputs = st.tuples(
            st.sampled_from(known_artifacts + features), st.sampled_from(known_processes)
        )
        for a, p in draw(st.lists(inputs, max_size=14)):
            edge(a, p, "ContributedTo")
        for p, a in draw(st.lists(st.tuples(st.sampled_from(processes),
                                            st.sampled_from(artifacts)), max_size=10)):  # fmt: skip
            edge(p, a, "Produced")

    graph("x", T1)
    first = sorted(history.nodes)
    for node in draw(st.lists(st.sampled_from(first), max_size=3, unique=True)):
        history.nodes[node]["deprecated"] = DEPRECATED
    for node in draw(st.lists(st.sampled_from(first), max_size=2, unique=True)):
        history.nodes[node]["retired"] = RETIRED
    ends = sorted(history.edges)
    for pair in draw(st.lists(st.sampled_from(ends), max_size=3, unique=True)):
        history.edges[pair]["ended"] = RETIRED
    graph("y", T3)
    return history


def send(api: httpx.Client, history: History) -> None:
    for created in (T1, T3):
        nodes = []
        for n, a in history.nodes.items():
            if a["created"] != created:
                continue
            k, namespace, name = n.split(":", 2)
            node: dict[str, Any] = {"kind": k, "namespace": namespace, "name": name}
            if a["owner"]:
                node["owner"] = a["owner"]
            if "columns" in a:
                node["properties"] = {"source_columns": a["columns"]}
            nodes.append(node)
        edges = [
            {"source": s, "target": t, "type": a["type"]}
            for (s, t), a in history.edges.items()
            if a["created"] == created
        ]
        body = {"event_time": created, "nodes": nodes, "edges": edges}
        assert (reply := api.post("/v1/graph", json=body)).status_code == 200, reply.text
        if created == T3:
            break
        for n, a in history.nodes.items():
            if a.get("deprecated"):
                body = {"reason": "old", "event_time": DEPRECATED}
                assert api.post(f"/v1/entities/{n}/deprecate", json=body).status_code == 200
        for n, a in history.nodes.items():
            if a.get("retired"):
                body = {"event_time": RETIRED}
                assert api.post(f"/v1/entities/{n}/retire", json=body).status_code == 200
        ended = [
            {"source": s, "target": t, "type": a["type"]}
            for (s, t), a in history.edges.items()
            if a.get("ended")
        ]
        if ended:
            body = {"edges": ended, "event_time": RETIRED}
            assert api.post("/v1/edges/end", json=body).status_code == 200


# --- the oracle: each report by its definition, over the view's networkx graph -----------


def groups_of(g: nx.DiGraph, node: str) -> list[str]:
    return sorted(p for p in g.predecessors(node) if g.edges[p, node]["type"] == "HasFeature")


def owner_of(g: nx.DiGraph, node: str) -> str | None:
    owners = [g.nodes[p]["owner"] for p in groups_of(g, node) if g.nodes[p]["owner"]]
    return g.nodes[node]["owner"] or (owners[0] if owners else None)


def features_of(g: nx.DiGraph, group: str) -> set[str]:
    return {f for f in g.successors(group) if g.edges[group, f]["type"] == "HasFeature"}


def whole_readers(g: nx.DiGraph, feature: str) -> set[str]:
    """The processes that read a group of ``feature`` without listing any of its features."""
    return {
        reader
        for group in groups_of(g, feature)
        for reader in g.successors(group)
        if g.edges[group, reader]["type"] == "ContributedTo"
        and not any(g.has_edge(f, reader) for f in features_of(g, group))
    }


def reads(g: nx.DiGraph, process: str) -> set[str]:
    found = {f for f in g.predecessors(process) if kind(f) is Kind.Feature}
    for group in g.predecessors(process):
        if kind(group) is Kind.FeatureGroup and not any(
            g.has_edge(f, process) for f in features_of(g, group)
        ):
            found |= features_of(g, group)
    return found


def through(g: nx.DiGraph, start: str, avoid: set[Kind]) -> nx.DiGraph:
    """``g`` without the nodes of kinds ``avoid`` (``start`` kept)."""
    return g.subgraph([n for n in g if n == start or kind(n) not in avoid])


def data_sources(g: nx.DiGraph, feature: str) -> set[str]:
    h = through(g, feature, {Kind.DataSource, Kind.Model, Kind.Endpoint})
    reached = nx.ancestors(h, feature) | {feature}
    return {s for y in reached for s in g.predecessors(y) if kind(s) is Kind.DataSource}


def trained_on(g: nx.DiGraph, model: str) -> set[str]:
    h = through(g, model, CONSUMERS)
    jobs = {q for q in nx.ancestors(h, model) if kind(q) in (Kind.FeatureQuery, Kind.TrainingJob)}
    return set().union(*(reads(g, q) for q in jobs))


def orphans(g: nx.DiGraph) -> list[dict[str, Any]]:
    found = []
    for x in sorted(g):
        if kind(x) not in (Kind.FeatureGroup, Kind.Feature, Kind.Dataset, Kind.Model):
            continue
        readers = whole_readers(g, x) if kind(x) is Kind.Feature else set()
        reach = nx.descendants(g, x).union(readers, *(nx.descendants(g, r) for r in readers))
        if not any(kind(c) in CONSUMERS and c != x for c in reach):
            found.append({"uid": x, "owner": owner_of(g, x)})
    return found


def deprecated_in_use(g: nx.DiGraph) -> list[dict[str, Any]]:
    found = []
    for x in sorted(g):
        if not g.nodes[x]["is_deprecated"]:
            continue
        depth = nx.single_source_shortest_path_length(g, x)
        consumers = sorted((d, c) for c, d in depth.items() if kind(c) in CONSUMERS and c != x)
        if consumers:
            found.append(
                {"uid": x, "owner": owner_of(g, x), "consumers": [[c, d] for d, c in consumers]}
            )
    return found


def duplicate_features(g: nx.DiGraph) -> list[dict[str, Any]]:
    features = [f for f in sorted(g) if kind(f) is Kind.Feature and groups_of(g, f)]
    found = []
    for x in features:
        duplicates = []
        for f in features:
            shared = data_sources(g, x) & data_sources(g, f)
            mine, theirs = g.nodes[x].get("columns", []), g.nodes[f].get("columns", [])
            columns = sorted(set(mine) & set(theirs))
            if (
                f != x
                and shared
                and not set(groups_of(g, x)) & set(groups_of(g, f))
                and (not mine or not theirs or columns)
            ):
                duplicates.append([f, owner_of(g, f), sorted(shared), columns])
        if duplicates:
            found.append({"uid": x, "owner": owner_of(g, x), "duplicates": duplicates})
    return found


def skew(g: nx.DiGraph) -> list[dict[str, Any]]:
    found = []
    for e in sorted(g):
        online = reads(g, e) if kind(e) is Kind.Endpoint else set()
        models = []
        for m in sorted(g.predecessors(e) if online else ()):
            trained = trained_on(g, m) if kind(m) is Kind.Model else set()
            if trained and online ^ trained:
                models.append([m, sorted(online - trained), sorted(trained - online)])
        if models:
            found.append({"uid": e, "owner": owner_of(g, e), "models": models})
    return found


ORACLES = {
    "orphans": orphans,
    "deprecated-in-use": deprecated_in_use,
    "duplicate-features": duplicate_features,
    "skew": skew,
}


def summary(report: str, item: dict[str, Any]) -> dict[str, Any]:
    """What the test compares of an API item (the oracle's shape)."""
    common = {"uid": item["uid"], "owner": item["owner"]}
    if report == "deprecated-in-use":
        return {**common, "consumers": [[c["uid"], c["depth"]] for c in item["consumers"]]}
    if report == "duplicate-features":
        duplicates = [
            [d["uid"], d["owner"], d["data_sources"], d["columns"]] for d in item["duplicates"]
        ]
        return {**common, "duplicates": duplicates}
    if report == "skew":
        models = [[m["uid"], m["online_only"], m["training_only"]] for m in item["models"]]
        return {**common, "models": models}
    return common


def pages(api: httpx.Client, report: str, limit: int, **params: Any) -> list[dict[str, Any]]:
    """Every item of the report, page by page (``limit`` each)."""
    query = {k: v for k, v in params.items() if v is not None} | {"limit": limit}
    items: list[dict[str, Any]] = []
    while True:
        reply = api.get(f"/v1/reports/{report}", params=query)
        assert reply.status_code == 200, reply.text
        page = reply.json()
        assert len(page["items"]) <= limit and page["as_of"] == params.get("as_of")
        items += page["items"]
        if not page["next_cursor"]:
            return items
        assert len(page["items"]) == limit
        query["cursor"] = page["next_cursor"]


# Each example plans the report queries again (the graph's statistics changed), which takes
# seconds on a loaded machine: few examples, each with all four reports at four times.
@pytest.mark.timeout(900)
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories(), data=st.data())
def test_reports_match_networkx(
    api: httpx.Client, empty_graph: Driver, history: History, data: st.DataObject
) -> None:
    empty_graph.execute_query("MATCH (n) DETACH DELETE n")
    send(api, history)
    for as_of in AS_OF:
        graph = history.view(as_of)
        for report, oracle in ORACLES.items():
            namespace = data.draw(st.sampled_from([None, None, "team"]))
            owner = data.draw(st.sampled_from([None, None, "alice"]))
            expected = [
                item
                for item in oracle(graph)
                if (namespace is None or item["uid"].split(":")[1] == namespace)
                and (owner is None or item["owner"] == owner)
            ]
            limit = data.draw(st.sampled_from([1, 2, 1000]))
            found = pages(api, report, limit, as_of=as_of, namespace=namespace, owner=owner)
            assert [summary(report, item) for item in found] == expected, (report, as_of)


def test_the_demo_s_skew_and_orphans(api: httpx.Client) -> None:
    """The demo's churn-prod reads customers and engagement online, while churn-xgb@4's
    training job also read transactions (its older training set read that group whole)."""
    from mllineage.client import LineageClient
    from mllineage.client.demo import load_demo

    with LineageClient(str(api.base_url)) as client:
        load_demo(client)
    skewed = {item["name"]: item["models"] for item in pages(api, "skew", 100)}
    churn = skewed["churn-prod"][0]
    assert churn["uid"] == default_uid("Model", "churn-xgb@4") and churn["online_only"] == []
    assert churn["training_only"] == [
        default_uid("Feature", f"transactions.{f}")
        for f in ("orders_30d", "refund_rate", "spend_30d")
    ]
    fraud = skewed["fraud-realtime"][0]
    assert fraud["online_only"] == [default_uid("Feature", "transactions.orders_30d")]
    assert fraud["training_only"] == [
        default_uid("Feature", f"customers.{f}") for f in ("age", "region")
    ]
    assert [item["name"] for item in pages(api, "orphans", 100)] == ["ltv-regressor@1"]
    # As of before @3 was superseded, nothing deprecated was in the graph yet; after, @3 was
    # deprecated and retired at once, so it is not in use either.
    assert pages(api, "deprecated-in-use", 100, as_of="2026-11-06T13:00:00Z") == []


def test_bad_input_is_a_clear_4xx(api: httpx.Client) -> None:
    reply = api.get("/v1/reports/unused-things")
    assert reply.status_code == 404
    assert "orphans, deprecated-in-use, duplicate-features, skew" in reply.json()["message"]
    reply = api.get("/v1/reports/orphans", params={"as_of": "last tuesday"})
    assert reply.status_code == 422 and "as_of" in reply.json()["message"]
    reply = api.get("/v1/reports/skew", params={"cursor": "not-a-cursor"})
    assert reply.status_code == 422 and "cursor" in reply.json()["message"]
    reply = api.get("/v1/reports/orphans", params={"namespace": "a b"})
    assert reply.status_code == 422 and "namespace" in reply.json()["message"]
    assert set(api.get("/v1/reports").json()) == set(ORACLES)
