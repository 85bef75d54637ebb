"""Ingestion through the real API into a real Neo4j: shape, idempotence, atomicity, errors."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import httpx
import pytest
from neo4j import Driver

from tests.events import entity, event, event_with, feature_store_events
from tests.helpers import EMPTY_GRAPH, dump_graph


def post_events(api: httpx.Client, body: Any) -> httpx.Response:
    return api.post("/v1/events", json=body)


def test_event_becomes_typed_nodes_and_edges(api: httpx.Client, empty_graph: Driver) -> None:
    first = feature_store_events()[0]
    reply = post_events(api, first)
    assert reply.status_code == 200, reply.text
    # 1 process + 2 sources + 2 groups + 2 features; 2 inputs + 2 outputs + 2 HasFeature
    assert reply.json() == {"nodes": 7, "edges": 6, "nodes_created": 7, "edges_created": 6}

    graph = dump_graph(empty_graph)
    by_uid = {props["uid"]: (labels, props) for labels, props in graph["nodes"]}
    labels, group = by_uid["FeatureGroup:default:customers"]
    assert labels == ["Entity", "FeatureGroup"]
    assert group["kind"] == "FeatureGroup" and group["namespace"] == "default"
    assert group["name"] == "customers" and group["owner"] == "team-growth"
    assert group["created_at"] == group["updated_at"]
    labels, feature = by_uid["Feature:default:customers.age"]
    assert labels == ["Entity", "Feature"] and feature["dtype"] == "int"
    _, pipeline = by_uid["FeaturePipeline:default:customer-features"]
    [run] = [r for r in graph["runs"] if r["process"] == pipeline["uid"]]
    assert pipeline["run.id"] == run["id"] and pipeline["run.status"] == "COMPLETE"
    assert run["params.lr"] == 0.1 and run["status"] == "COMPLETE"
    assert json.loads(pipeline["run.parameters"]) == {"lr": 0.1}

    edges = {(s, t, d) for s, t, d, _ in graph["edges"]}
    assert edges == {
        (
            "DataSource:default:s3://acme/raw/customers/",
            "ContributedTo",
            "FeaturePipeline:default:customer-features",
        ),
        (
            "DataSource:default:s3://acme/raw/orders/",
            "ContributedTo",
            "FeaturePipeline:default:customer-features",
        ),
        ("FeaturePipeline:default:customer-features", "Produced", "FeatureGroup:default:customers"),
        ("FeaturePipeline:default:customer-features", "Produced", "FeatureGroup:default:orders"),
        ("FeatureGroup:default:customers", "HasFeature", "Feature:default:customers.age"),
        ("FeatureGroup:default:customers", "HasFeature", "Feature:default:customers.tenure"),
    }
    for _, _, _, props in graph["edges"]:
        assert props["producer"] == "https://github.com/acme/feature-jobs"
        assert props["first_seen"] == props["last_seen"]


def test_posting_twice_equals_posting_once(api: httpx.Client, empty_graph: Driver) -> None:
    batch = {"events": feature_store_events()}
    assert post_events(api, batch).status_code == 200
    once = dump_graph(empty_graph)
    second = post_events(api, batch)
    assert second.status_code == 200
    assert second.json()["nodes_created"] == 0 and second.json()["edges_created"] == 0
    for single in feature_store_events():  # and again one by one
        assert post_events(api, single).status_code == 200
    assert dump_graph(empty_graph) == once


def test_event_times_not_arrival_order_decide(api: httpx.Client, empty_graph: Driver) -> None:
    process = entity("TrainingJob", "train", owner="new-owner")
    newer = event(process, [entity("Dataset", "d")], [], time="2026-11-05T00:00:00Z", run_id="r2")
    older = event(
        {**process, "owner": "old-owner"}, [entity("Dataset", "d")], [],
        time="2026-11-01T00:00:00Z", run_id="r1", status="FAIL",
    )  # fmt: skip
    assert post_events(api, newer).status_code == 200
    assert post_events(api, older).status_code == 200  # arrives late

    graph = dump_graph(empty_graph)
    job = next(p for _, p in graph["nodes"] if p["uid"] == "TrainingJob:default:train")
    assert job["owner"] == "new-owner" and job["run.id"] == "r2"
    assert job["created_at"].iso_format().startswith("2026-11-01")
    assert job["updated_at"].iso_format().startswith("2026-11-05")
    ((_, _, _, edge),) = graph["edges"]
    assert edge["first_seen"].iso_format().startswith("2026-11-01")
    assert edge["last_seen"].iso_format().startswith("2026-11-05")


def test_failed_run_records_inputs_but_produces_nothing(
    api: httpx.Client, empty_graph: Driver
) -> None:
    failed = event(
        entity("TrainingJob", "train"), [entity("Dataset", "d")], [entity("Model", "m@1")],
        status="FAIL",
    )  # fmt: skip
    assert post_events(api, failed).status_code == 200
    graph = dump_graph(empty_graph)
    assert {p["uid"] for _, p in graph["nodes"]} == {
        "TrainingJob:default:train",
        "Dataset:default:d",
    }
    assert [(s, t, d) for s, t, d, _ in graph["edges"]] == [
        ("Dataset:default:d", "ContributedTo", "TrainingJob:default:train")
    ]


def test_batch_with_one_bad_item_writes_nothing(api: httpx.Client, empty_graph: Driver) -> None:
    events = feature_store_events()
    events[2]["outputs"][0]["kind"] = "Modle"
    reply = post_events(api, {"events": events})
    assert reply.status_code == 422
    message = reply.json()["message"]
    assert "events[2].outputs[0].kind" in message and "Model" in message
    assert dump_graph(empty_graph) == EMPTY_GRAPH


BAD_BODIES = {
    "unknown kind": (event_with(["inputs", 0, "kind"], "Table"), "inputs[0].kind", "DataSource"),
    "forbidden pairing": (
        event_with(["inputs", 0, "kind"], "Endpoint"),
        "inputs[0]: Endpoint is a process",
        "allowed pairs",
    ),
    "process that is an artifact": (
        event_with(["process", "kind"], "Model"),
        "process: Model is an artifact",
        "allowed pairs",
    ),
    "reserved property": (
        event_with(["inputs", 0, "properties"], {"created_at": "x"}),
        "reserved",
        "created_at",
    ),
    "reserved run property": (
        event_with(["inputs", 0, "properties"], {"run": {"id": 1}}),
        "reserved",
        "run.id",
    ),
    "invalid property name": (
        event_with(["inputs", 0, "properties"], {"bad name`": 1}),
        "inputs[0].properties",
        "invalid",
    ),
    "mixed list": (event_with(["inputs", 0, "properties"], {"xs": [1, "a"]}), "xs", "one type"),
    "null property": (event_with(["inputs", 0, "properties"], {"x": None}), "'x'", "null"),
    "empty name": (event_with(["outputs", 0, "name"], ""), "outputs[0].name", "at least 1"),
    "bad namespace": (
        event_with(["outputs", 0, "namespace"], "s3://x"),
        "outputs[0].namespace",
        "pattern",
    ),
    "naive time": (event_with(["event_time"], "2026-11-02T10:00:00"), "event_time", "timezone"),
    "features on a model": (
        event_with(["inputs", 1, "features"], [{"name": "x"}]),
        "inputs[1]",
        "only allowed on a FeatureGroup",
    ),
    "unknown field": (event_with(["proces"], {}), "proces", "Extra inputs"),
    "empty batch": ({"events": []}, "events", "at least 1"),
}


@pytest.mark.parametrize("case", list(BAD_BODIES))
def test_bad_input_is_422_naming_the_field_and_writes_nothing(
    case: str, api: httpx.Client, empty_graph: Driver
) -> None:
    body, *fragments = BAD_BODIES[case]
    reply = post_events(api, body)
    assert reply.status_code == 422, reply.text
    message = reply.json()["message"]
    for fragment in fragments:
        assert fragment in message, message
    assert dump_graph(empty_graph) == EMPTY_GRAPH


def test_malformed_json_is_422(api: httpx.Client, empty_graph: Driver) -> None:
    reply = api.post(
        "/v1/events", content=b'{"event_time": ', headers={"content-type": "application/json"}
    )
    assert reply.status_code == 422
    assert "JSON" in reply.json()["message"]


def test_body_over_the_limit_is_413(api: httpx.Client, empty_graph: Driver) -> None:
    huge = event_with(["inputs", 0, "description"], "x" * 10)
    huge["padding"] = "y" * (17 * 1024 * 1024)
    reply = api.post("/v1/events", content=json.dumps(huge).encode())
    assert reply.status_code == 413
    assert "larger than" in reply.json()["message"]
    assert dump_graph(empty_graph) == EMPTY_GRAPH


def test_cypher_looking_input_is_stored_literally(api: httpx.Client, empty_graph: Driver) -> None:
    nasty = "x'}) MATCH (n) DETACH DELETE n //"
    body = event(
        entity("FeaturePipeline", nasty, owner="`); DROP CONSTRAINT entity_uid; //"),
        [entity("DataSource", 'a"} RETURN 1 //', properties={"q": "MATCH (n) DELETE n"})],
        [entity("FeatureGroup", "g", features=[{"name": "f' OR 1=1"}])],
    )
    assert post_events(api, body).status_code == 200
    graph = dump_graph(empty_graph)
    names = {p["name"] for _, p in graph["nodes"]}
    assert names == {nasty, 'a"} RETURN 1 //', "g", "g.f' OR 1=1"}
    assert len(graph["edges"]) == 3
    constraints, _, _ = empty_graph.execute_query("SHOW CONSTRAINTS YIELD name RETURN name")
    assert "entity_uid" in {c["name"] for c in constraints}


def test_concurrent_overlapping_writers_leave_no_duplicates(
    api: httpx.Client, empty_graph: Driver
) -> None:
    """Eight writers post events that share nodes and edges, all at once, several times."""

    def writer(seed: int) -> list[int]:
        statuses = []
        with httpx.Client(base_url=str(api.base_url), timeout=120) as client:
            for round_ in range(5):
                events = [
                    event(
                        entity("FeatureQuery", f"q{(seed + round_ + i) % 4}"),
                        [entity("FeatureGroup", f"g{j}") for j in range(6)],
                        [entity("Dataset", f"d{(seed + i) % 3}")],
                        time=f"2026-11-0{1 + (seed + i) % 9}T00:00:00Z",
                    )
                    for i in range(4)
                ]
                statuses.append(client.post("/v1/events", json={"events": events}).status_code)
        return statuses

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = [s for statuses in pool.map(writer, range(8)) for s in statuses]
    assert results == [200] * 40

    nodes, _, _ = empty_graph.execute_query(
        "MATCH (n:Entity) RETURN count(n) AS nodes, count(DISTINCT n.uid) AS uids"
    )
    assert nodes[0]["nodes"] == nodes[0]["uids"] == 4 + 6 + 3
    edges, _, _ = empty_graph.execute_query(
        "MATCH (a:Entity)-[r]->(b:Entity) WITH a, b, type(r) AS t, count(r) AS copies "
        "RETURN count(*) AS pairs, max(copies) AS most"
    )
    assert edges[0]["most"] == 1
    assert edges[0]["pairs"] == 4 * 6 + 4 * 3  # every query read every group, wrote every dataset


def test_graph_upsert_links_existing_and_new_nodes(api: httpx.Client, empty_graph: Driver) -> None:
    assert post_events(api, {"events": feature_store_events()}).status_code == 200
    body = {
        "event_time": "2026-11-03T00:00:00Z",
        "nodes": [{"kind": "Endpoint", "name": "churn-canary", "owner": "team-ml"}],
        "edges": [
            {"source": "Model:default:churn-xgb@3", "target": "Endpoint:default:churn-canary",
             "type": "ContributedTo"},
        ],
    }  # fmt: skip
    reply = api.post("/v1/graph", json=body)
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"nodes": 1, "edges": 1, "nodes_created": 1, "edges_created": 1}
    once = dump_graph(empty_graph)
    assert api.post("/v1/graph", json=body).status_code == 200
    assert dump_graph(empty_graph) == once


@pytest.mark.parametrize(
    ("edge", "fragment"),
    [
        ({"source": "Model:default:nope", "target": "Endpoint:default:e", "type": "ContributedTo"},
         "Model:default:nope"),
        ({"source": "Endpoint:default:e", "target": "Model:default:m", "type": "ContributedTo"},
         "allowed pairs"),
        ({"source": "Model:default:m", "target": "Endpoint:default:e", "type": "Feeds"},
         "edges[0].type"),
        ({"source": "Model-default-m", "target": "Endpoint:default:e", "type": "ContributedTo"},
         "'<kind>:<namespace>:<name>'"),
    ],
)  # fmt: skip
def test_graph_upsert_rejects_bad_edges_and_writes_nothing(
    edge: dict[str, str], fragment: str, api: httpx.Client, empty_graph: Driver
) -> None:
    body = {"nodes": [{"kind": "Endpoint", "name": "e"}], "edges": [edge]}
    reply = api.post("/v1/graph", json=body)
    assert reply.status_code == 422, reply.text
    assert fragment in reply.json()["message"]
    assert dump_graph(empty_graph) == EMPTY_GRAPH


def test_get_entity_with_neighbours(api: httpx.Client, empty_graph: Driver) -> None:
    assert post_events(api, {"events": feature_store_events()}).status_code == 200
    reply = api.get("/v1/entities/FeatureGroup:default:customers")
    assert reply.status_code == 200
    body = reply.json()
    assert body["owner"] == "team-growth" and body["kind"] == "FeatureGroup"
    assert {(n["uid"], n["type"]) for n in body["upstream"]} == {
        ("FeaturePipeline:default:customer-features", "Produced")
    }
    assert {(n["uid"], n["type"]) for n in body["downstream"]} == {
        ("FeatureQuery:default:churn-training-set", "ContributedTo"),
        ("Endpoint:default:churn-prod", "ContributedTo"),
        ("Feature:default:customers.age", "HasFeature"),
        ("Feature:default:customers.tenure", "HasFeature"),
    }
    job = api.get("/v1/entities/TrainingJob:default:churn-train").json()
    [run] = api.get("/v1/runs", params={"process": job["uid"]}).json()["items"]
    assert job["run"]["id"] == run["id"] and job["run"]["parameters"] == {"lr": 0.1}

    missing = api.get("/v1/entities/Model:default:nope@1")
    assert missing.status_code == 404
    assert "Model:default:nope@1" in missing.json()["message"]


def test_times_read_back_as_the_instants_written(api: httpx.Client, empty_graph: Driver) -> None:
    """Reads carry times as ISO text (see properties_of in store/queries/common.py): every one
    must come back as the same instant the driver itself decodes from Neo4j."""
    run = {
        "id": "r1",
        "status": "COMPLETE",
        "started_at": "2026-11-02T09:00:00.123456+02:00",
        "ended_at": "2026-11-02T07:30:00Z",
        "nominal_start_time": "2026-11-02T00:00:00Z",
        "nominal_end_time": "2026-11-02T23:59:59.5Z",
    }
    body = event(entity("TrainingJob", "train"), [], [], time="2026-11-02T10:00:00.000001Z")
    assert post_events(api, {**body, "run": run}).status_code == 200
    reply = api.get("/v1/entities/TrainingJob:default:train").json()
    assert reply["run"]["started_at"] == "2026-11-02T07:00:00.123456Z"
    assert reply["run"]["nominal_end_time"] == "2026-11-02T23:59:59.500000Z"
    [[_, stored]] = dump_graph(empty_graph)["nodes"]
    for key in ("created_at", "updated_at", "run.event_time", *(f"run.{k}" for k in run)):
        if key in ("run.id", "run.status"):
            continue
        shown = reply[key] if key in reply else reply["run"][key.removeprefix("run.")]
        assert datetime.fromisoformat(shown) == stored[key].to_native(), key


def test_listing_pages_cover_everything_once(api: httpx.Client, empty_graph: Driver) -> None:
    assert post_events(api, {"events": feature_store_events()}).status_code == 200
    expected, _, _ = empty_graph.execute_query("MATCH (n:Entity) RETURN n.uid AS uid")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.get("/v1/entities", params=params).json()
        seen += [item["uid"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(r["uid"] for r in expected)

    groups = api.get("/v1/entities", params={"kind": "FeatureGroup"}).json()["items"]
    assert [g["name"] for g in groups] == ["customers", "orders"]
    found = api.get("/v1/entities", params={"q": "CHURN"}).json()["items"]
    assert {f["uid"] for f in found} == {
        "FeatureQuery:default:churn-training-set",
        "Dataset:default:s3://acme/datasets/churn/2026-11-02/",
        "TrainingJob:default:churn-train",
        "Model:default:churn-xgb@3",
        "Endpoint:default:churn-prod",
    }
    assert api.get("/v1/entities", params={"cursor": "%%%"}).status_code == 422
