"""Walks, questions and impact through the real API, checked against networkx as the oracle."""

from __future__ import annotations

from typing import Any

import httpx
import networkx as nx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neo4j import Driver

from mllineage.model.domain import ARTIFACT_KINDS, PROCESS_KINDS, Kind
from mllineage.model.views import LineageGraph
from tests.events import entity, event, feature_store_events

ARTIFACTS = sorted(ARTIFACT_KINDS - {Kind.Feature})
PROCESSES = sorted(PROCESS_KINDS)


def uid(kind: str, name: str) -> str:
    return f"{kind}:default:{name}"


@st.composite
def lineage_graphs(draw: st.DrawFn) -> nx.DiGraph:
    """Graphs that obey the edge rules; cycles, diamonds and dead ends come naturally."""
    artifacts = [
        uid(draw(st.sampled_from(ARTIFACTS)), f"a{i}") for i in range(draw(st.integers(1, 7)))
    ]
    processes = [
        uid(draw(st.sampled_from(PROCESSES)), f"p{i}") for i in range(draw(st.integers(1, 4)))
    ]
    graph = nx.DiGraph()
    graph.add_nodes_from(artifacts + processes)
    pairs = st.tuples(st.sampled_from(artifacts), st.sampled_from(processes))
    for artifact, process in draw(st.lists(pairs, max_size=20)):
        graph.add_edge(artifact, process, type="ContributedTo")
    for artifact, process in draw(st.lists(pairs, max_size=20)):
        graph.add_edge(process, artifact, type="Produced")
    groups = [a for a in artifacts if a.startswith("FeatureGroup:")]
    if groups:
        for i in range(draw(st.integers(0, 3))):
            feature = uid("Feature", f"f{i}")
            graph.add_edge(draw(st.sampled_from(groups)), feature, type="HasFeature")
            if processes and draw(st.booleans()):
                graph.add_edge(feature, draw(st.sampled_from(processes)), type="ContributedTo")
    return graph


def upsert(api: httpx.Client, graph: nx.DiGraph) -> None:
    nodes = [
        {"kind": n.split(":")[0], "name": n.split(":", 2)[2], "owner": f"owner-{n[-1]}"}
        for n in graph.nodes
    ]
    edges = [{"source": s, "target": t, "type": d["type"]} for s, t, d in graph.edges(data=True)]
    reply = api.post("/v1/graph", json={"nodes": nodes, "edges": edges})
    assert reply.status_code == 200, reply.text


def expected_walk(graph: nx.DiGraph, root: str, direction: str, depth: int) -> dict[str, int]:
    """Shortest distances by networkx: downstream, upstream, or the smaller of the two."""
    down = nx.single_source_shortest_path_length(graph, root, cutoff=depth)
    up = nx.single_source_shortest_path_length(graph.reverse(), root, cutoff=depth)
    walks = {"downstream": [down], "upstream": [up], "both": [down, up]}[direction]
    found: dict[str, int] = {}
    for distances in walks:
        for node, distance in distances.items():
            if node != root:
                found[node] = min(distance, found.get(node, distance))
    return found


def check_walk(
    api: httpx.Client, graph: nx.DiGraph, root: str, direction: str, depth: int,
    kinds: list[str] | None, limit: int,
) -> None:  # fmt: skip
    params: dict[str, Any] = {"uid": root, "direction": direction, "depth": depth, "limit": limit}
    if kinds:
        params["kinds"] = ",".join(kinds)
    reply = api.get("/v1/lineage", params=params)
    assert reply.status_code == 200, reply.text
    body = reply.json()

    found = expected_walk(graph, root, direction, depth)
    if kinds:
        found = {n: d for n, d in found.items() if n.split(":")[0] in kinds}
    ordered = sorted(found, key=lambda n: (found[n], n))
    assert body["root"]["uid"] == root and body["root"]["depth"] == 0
    assert [(n["uid"], n["depth"]) for n in body["nodes"]] == [
        (n, found[n]) for n in ordered[:limit]
    ]
    assert body["truncated"] == (len(ordered) > limit)
    members = {root, *ordered[:limit]}
    assert sorted((e["source"], e["type"], e["target"]) for e in body["edges"]) == sorted(
        (s, d["type"], t) for s, t, d in graph.edges(data=True) if s in members and t in members
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(graph=lineage_graphs(), data=st.data())
def test_walks_match_networkx(
    api: httpx.Client, empty_graph: Driver, graph: nx.DiGraph, data: st.DataObject
) -> None:
    empty_graph.execute_query("MATCH (n) DETACH DELETE n")
    upsert(api, graph)
    kinds_present = sorted({n.split(":")[0] for n in graph.nodes})
    for root in data.draw(st.lists(st.sampled_from(sorted(graph.nodes)), min_size=1, max_size=2)):
        for direction in ("downstream", "upstream", "both"):
            for depth in (1, 2, 3, 20):
                kinds = data.draw(st.none() | st.lists(st.sampled_from(kinds_present), min_size=1))
                limit = data.draw(st.sampled_from([1, 3, 1000]))
                check_walk(api, graph, root, direction, depth, kinds, limit)


def test_both_keeps_the_shorter_way_round_a_cycle(api: httpx.Client) -> None:
    """a0 -> p0 -> a1 -> p1 -> a2 -> p2 -> a0: a2 is 4 hops down but 2 hops up from a0."""
    graph = nx.DiGraph()
    for i in range(3):
        graph.add_edge(uid("Dataset", f"a{i}"), uid("TrainingJob", f"p{i}"), type="ContributedTo")
        graph.add_edge(
            uid("TrainingJob", f"p{i}"), uid("Dataset", f"a{(i + 1) % 3}"), type="Produced"
        )
    upsert(api, graph)
    assert expected_walk(graph, uid("Dataset", "a0"), "both", 10)[uid("Dataset", "a2")] == 2
    for direction in ("downstream", "upstream", "both"):
        for depth in (1, 3, 10):
            check_walk(api, graph, uid("Dataset", "a0"), direction, depth, None, 100)


def test_a_ladder_of_40_diamonds_walks_like_any_121_nodes(api: httpx.Client) -> None:
    """2^40 source-to-sink paths: a path-enumerating walk would never return."""
    graph = nx.DiGraph()
    for i in range(40):
        for side in "ab":
            process = uid("FeatureQuery", f"q{i}{side}")
            graph.add_edge(uid("Dataset", f"d{i}"), process, type="ContributedTo")
            graph.add_edge(process, uid("Dataset", f"d{i + 1}"), type="Produced")
    graph.add_edge(uid("Dataset", "d40"), uid("FeatureQuery", "q0a"), type="ContributedTo")  # cycle
    assert graph.number_of_nodes() == 121
    upsert(api, graph)
    check_walk(api, graph, uid("Dataset", "d0"), "downstream", 100, None, 10_000)
    check_walk(api, graph, uid("Dataset", "d40"), "both", 100, ["Dataset"], 10_000)
    impact = api.get("/v1/impact", params={"uid": uid("Dataset", "d0")}).json()
    assert impact["total"] == 120 and impact["counts"] == {"Dataset": 40, "FeatureQuery": 80}


def scenario() -> list[dict[str, Any]]:
    """The feature-store events plus a second model, a retired one, and a feedback loop."""
    customers_age = entity("FeatureGroup", "customers", features=[{"name": "age"}])
    return [
        *feature_store_events(),
        event(
            entity("FeatureQuery", "fraud-training-set", owner="team-risk"),
            [customers_age, entity("DataSource", "s3://acme/raw/payments/")],
            [entity("Dataset", "fraud-2026-11")],
            time="2026-11-03T10:00:00Z",
        ),
        event(
            entity("TrainingJob", "fraud-train", owner="team-risk"),
            [entity("Dataset", "fraud-2026-11")],
            [entity("Model", "fraud-gbm@1", owner="team-risk")],
            time="2026-11-03T11:00:00Z",
        ),
        event(
            entity("TrainingJob", "churn-train-old", owner="team-ml"),
            [entity("Dataset", "s3://acme/datasets/churn/2026-11-02/")],
            [entity("Model", "churn-xgb@2", owner="team-ml", properties={"retired": True})],
            time="2026-11-02T12:30:00Z",
        ),
        event(  # the endpoint's prediction log becomes a new data source
            entity("Endpoint", "churn-prod", owner="team-ml"),
            [entity("Model", "churn-xgb@3")],
            [entity("DataSource", "s3://acme/logs/churn-predictions/")],
            time="2026-11-04T00:00:00Z",
        ),
        event(
            entity("FeaturePipeline", "prediction-features", owner="team-ml"),
            [entity("DataSource", "s3://acme/logs/churn-predictions/")],
            [entity("FeatureGroup", "customers")],
            time="2026-11-04T01:00:00Z",
        ),
    ]


def ask(api: httpx.Client, question: str, root: str) -> list[str]:
    reply = api.get(f"/v1/questions/{question}", params={"uid": root})
    assert reply.status_code == 200, reply.text
    return sorted(n["name"] for n in reply.json()["nodes"])


def test_feature_owner_questions(api: httpx.Client) -> None:
    assert api.post("/v1/events", json={"events": scenario()}).status_code == 200
    customers = uid("FeatureGroup", "customers")
    assert ask(api, "data-sources-of-feature-group", customers) == [
        "s3://acme/logs/churn-predictions/", "s3://acme/raw/customers/", "s3://acme/raw/orders/",
    ]  # fmt: skip
    assert ask(api, "models-of-feature-group", customers) == [
        "churn-xgb@2", "churn-xgb@3", "fraud-gbm@1",
    ]  # fmt: skip
    assert ask(api, "endpoints-of-feature-group", customers) == ["churn-prod"]
    # The feedback loop: churn-prod's prediction log feeds customers, so orders is upstream too.
    assert ask(api, "feature-groups-of-model", uid("Model", "fraud-gbm@1")) == [
        "customers", "orders",
    ]  # fmt: skip
    assert ask(api, "feature-groups-of-model", uid("Model", "churn-xgb@3")) == [
        "customers", "orders",
    ]  # fmt: skip
    orders = uid("DataSource", "s3://acme/raw/orders/")
    assert ask(api, "feature-groups-of-data-source", orders) == ["customers", "orders"]
    assert ask(api, "features-of-data-source", orders) == [
        "customers.age", "customers.tenure",
    ]  # fmt: skip
    # Only the fraud query listed the feature it read; the churn query read whole groups.
    assert ask(api, "models-using-feature", uid("Feature", "customers.age")) == ["fraud-gbm@1"]
    assert ask(api, "models-using-feature", uid("Feature", "customers.tenure")) == []

    wrong = api.get("/v1/questions/models-of-feature-group", params={"uid": uid("Model", "x")})
    assert wrong.status_code == 422 and "starts from a FeatureGroup" in wrong.json()["message"]
    unknown = api.get("/v1/questions/who-knows", params={"uid": customers})
    assert unknown.status_code == 422


def test_walked_nodes_show_what_their_entity_shows(api: httpx.Client) -> None:
    """A walk projects each node's properties in its own query (queries.walks), apart
    from the entity read: both must show the same fields, times and latest run."""
    assert api.post("/v1/events", json={"events": scenario()}).status_code == 200
    root = uid("Dataset", "s3://acme/datasets/churn/2026-11-02/")
    body = api.get("/v1/lineage", params={"uid": root, "direction": "both"}).json()
    walked = [body["root"], *body["nodes"]]
    assert any(n["run"] for n in walked) and any(n["properties"] for n in walked)
    for node in walked:
        shown = api.get(f"/v1/entities/{node['uid']}").json()
        del shown["upstream"], shown["downstream"]
        assert {k: v for k, v in node.items() if k != "depth"} == shown
    report = api.get("/v1/impact", params={"uid": root}).json()
    assert report["root"] == {k: v for k, v in body["root"].items() if k != "depth"}


def test_a_walk_is_sent_as_its_model_would_send_it(api: httpx.Client) -> None:
    """The store writes a walk's JSON itself, unvalidated (views.Serialized): it must be
    LineageGraph's own JSON byte for byte, runs, deprecation and retirement times included,
    and the question routes that share it too."""
    assert api.post("/v1/events", json={"events": scenario()}).status_code == 200
    old, new = uid("Model", "churn-xgb@2"), uid("Model", "churn-xgb@3")
    deprecated = {"reason": "superseded", "replaced_by": new}
    assert api.post(f"/v1/entities/{old}/deprecate", json=deprecated).status_code == 200
    assert api.post(f"/v1/entities/{old}/retire", json={"reason": "gone"}).status_code == 200
    root = uid("DataSource", "s3://acme/raw/customers/")
    for params in ({"direction": "both"}, {"direction": "both", "include_retired": "true"}):
        reply = api.get("/v1/lineage", params={"uid": root, **params})
        assert reply.status_code == 200 and reply.headers["content-type"] == "application/json"
        walked = LineageGraph.model_validate_json(reply.content)
        assert reply.content == walked.model_dump_json().encode()
    assert any(n.retired_at and n.deprecated_at for n in walked.nodes)
    assert any(n.run for n in walked.nodes)
    asked = api.get(
        "/v1/questions/models-of-feature-group", params={"uid": uid("FeatureGroup", "customers")}
    )
    assert (
        asked.content == LineageGraph.model_validate_json(asked.content).model_dump_json().encode()
    )


def test_impact_report(api: httpx.Client) -> None:
    assert api.post("/v1/events", json={"events": scenario()}).status_code == 200
    reply = api.get("/v1/impact", params={"uid": uid("FeatureGroup", "orders")})
    assert reply.status_code == 200, reply.text
    report = reply.json()
    assert report["root"]["uid"] == uid("FeatureGroup", "orders")
    # orders -> churn query -> churn dataset -> {churn-train, churn-train-old} -> {@3, @2};
    # @3 -> churn-prod -> prediction log -> prediction-features -> customers -> features and
    # the fraud query -> fraud dataset -> fraud-train -> fraud-gbm@1 (the feedback loop).
    assert [(m["name"], m["depth"]) for m in report["models"]] == [
        ("churn-xgb@2", 4), ("churn-xgb@3", 4), ("fraud-gbm@1", 12),
    ]  # fmt: skip
    assert [(e["name"], e["owner"], e["depth"]) for e in report["endpoints"]] == [
        ("churn-prod", "team-ml", 5)
    ]
    assert [(t["name"], t["depth"]) for t in report["training_jobs"]] == [
        ("churn-train", 3), ("churn-train-old", 3), ("fraud-train", 11),
    ]  # fmt: skip
    assert report["endpoints"][0]["path"] == [
        uid("FeatureGroup", "orders"),
        uid("FeatureQuery", "churn-training-set"),
        uid("Dataset", "s3://acme/datasets/churn/2026-11-02/"),
        uid("TrainingJob", "churn-train"),
        uid("Model", "churn-xgb@3"),
        uid("Endpoint", "churn-prod"),
    ]
    assert report["counts"] == {
        "FeatureQuery": 2, "Dataset": 2, "TrainingJob": 3, "Model": 3, "Endpoint": 1,
        "DataSource": 1, "FeaturePipeline": 1, "FeatureGroup": 1, "Feature": 2,
    }  # fmt: skip
    assert report["total"] == 16
    assert report["owners"] == ["team-growth", "team-ml", "team-risk"]
    assert report["truncated"] is False

    missing = api.get("/v1/impact", params={"uid": uid("FeatureGroup", "nope")})
    assert missing.status_code == 404 and "FeatureGroup:default:nope" in missing.json()["message"]
    assert api.get("/v1/lineage", params={"uid": "nope"}).status_code == 422
    assert api.get("/v1/lineage", params={"uid": uid("Model", "m"), "depth": 0}).status_code == 422
    bad_kind = api.get("/v1/lineage", params={"uid": uid("Model", "m"), "kinds": "Model,Tabel"})
    assert bad_kind.status_code == 422 and "kinds" in bad_kind.json()["message"]
