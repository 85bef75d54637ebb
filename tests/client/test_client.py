"""The Python client and the Browser queries, against a running server and Neo4j."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from neo4j import Driver

from mllineage.client import LineageAPIError, LineageClient, Problem
from mllineage.client.demo import load_demo
from mllineage.local import LocalApi
from tests.events import entity, event

CYPHER = Path(__file__).parents[2] / "cypher" / "queries"
OPENLINEAGE = Path(__file__).parents[1] / "fixtures" / "openlineage"


@pytest.fixture
def empty(live_server: LocalApi, empty_graph: Driver) -> Iterator[LineageClient]:
    """A client of the live service over an empty graph."""
    with LineageClient(live_server.url) as lineage:
        yield lineage


@pytest.fixture
def client(empty: LineageClient) -> LineageClient:
    """A client of the live service over the demo lineage."""
    load_demo(empty)
    return empty


def ol_event(name: str = "query_complete.json") -> dict[str, Any]:
    return json.loads((OPENLINEAGE / name).read_text())


def test_feature_owner_questions_as_dataframes(client: LineageClient) -> None:
    models = client.get_models_from_feature_group("customers")
    assert list(models.columns) == ["uid", "kind", "namespace", "name", "owner", "depth", "state"]
    # The live graph: churn-xgb@2 and @3 and the churn-prod-old endpoint are retired.
    assert sorted(models["name"]) == ["churn-xgb@4", "fraud-gbm@1", "ltv-regressor@1"]
    assert set(models["state"]) == {"live"}
    assert sorted(client.get_endpoints_from_feature_group("customers")["name"]) == [
        "churn-prod", "fraud-realtime",
    ]  # fmt: skip
    # A feature without an owner of its own is its group's to answer for.
    features = client.lineage("customers", kinds=["Feature"], depth=1)
    assert len(features) >= 3 and set(features["owner"]) == {"team-growth"}
    assert client.entity(features["uid"][0])["owner"] == "team-growth"
    everything = client.get_models_from_feature_group("customers", include_retired=True)
    states = dict(zip(everything["name"], everything["state"], strict=True))
    assert states["churn-xgb@2"] == "retired 2026-11-03" and states["churn-xgb@3"] == (
        "retired 2026-11-06"
    )
    assert sorted(client.get_feature_groups_from_model("fraud-gbm@1")["name"]) == [
        "customers", "payment-risk", "transactions",
    ]  # fmt: skip
    assert sorted(client.get_data_sources_from_feature_group("payment-risk")["name"]) == [
        "s3://acme-lake/raw/payments/"
    ]
    # engagement too: through churn-prod's prediction log (the feedback loop).
    assert sorted(
        client.get_feature_groups_from_data_source("postgres://orders-db/public.orders")["name"]
    ) == ["customers", "engagement", "transactions"]
    features = client.get_features_from_data_source("s3://acme-lake/raw/payments/")
    assert sorted(features["name"]) == [  # engagement's again through the feedback loop
        "engagement.churn_score_prev", "engagement.sessions_7d",
        "payment-risk.card_age_days", "payment-risk.chargebacks_90d",
        "transactions.orders_30d", "transactions.refund_rate", "transactions.spend_30d",
    ]  # fmt: skip
    assert sorted(client.get_models_from_feature("customers.region")["name"]) == ["fraud-gbm@1"]


def test_lineage_impact_and_networkx(client: LineageClient) -> None:
    upstream = client.lineage("Model:default:fraud-gbm@1", direction="upstream", depth=2)
    assert list(zip(upstream["name"], upstream["depth"], strict=True)) == [
        ("fraud-gbm-train", 1), ("s3://acme-lake/datasets/fraud/2026-11-04/", 2),
    ]  # fmt: skip
    graph = client.to_networkx("Model:default:fraud-gbm@1", direction="upstream", depth=3)
    assert isinstance(graph, nx.DiGraph) and graph.graph["truncated"] is False
    assert graph.nodes["Model:default:fraud-gbm@1"]["depth"] == 0
    assert (
        graph.edges["TrainingJob:default:fraud-gbm-train", "Model:default:fraud-gbm@1"]["type"]
        == "Produced"
    )
    assert nx.is_directed_acyclic_graph(graph) and graph.number_of_nodes() == 4

    impact = client.impact("FeatureGroup:default:payment-risk")
    assert sorted(zip(impact["role"], impact["name"], strict=True)) == [
        ("endpoints", "fraud-realtime"), ("feature_queries", "fraud-training-set"),
        ("features", "payment-risk.card_age_days"), ("features", "payment-risk.chargebacks_90d"),
        ("models", "fraud-gbm@1"), ("training_jobs", "fraud-gbm-train"),
    ]  # fmt: skip
    assert impact.attrs["owners"] == ["team-risk"]


def test_errors_carry_status_and_message(client: LineageClient) -> None:
    with pytest.raises(LineageAPIError) as missing:
        client.entity("Model:default:nope@1")
    assert missing.value.status == 404 and "Model:default:nope@1" in missing.value.message
    with pytest.raises(LineageAPIError) as bad:
        client.post_event({"event_time": "2026-11-01T00:00:00Z"})
    assert bad.value.status == 422 and "process" in bad.value.message
    with pytest.raises(LineageAPIError) as down:
        LineageClient("http://127.0.0.1:9", retry_seconds=0).entity("Model:default:m")
    assert down.value.status == 0 and "cannot reach" in down.value.message


def _reads(name: str, inputs: list[str], outputs: list[str]) -> dict[str, Any]:
    """A query reading feature groups ``inputs`` and writing datasets ``outputs``."""
    return event(
        entity("FeatureQuery", name),
        [entity("FeatureGroup", n) for n in inputs],
        [entity("Dataset", n) for n in outputs],
    )


def test_errors_keep_the_servers_problems(empty: LineageClient) -> None:
    good = _reads("q", ["g"], ["d"])
    bad = event(entity("FeatureQuery", "q-bad"), [entity("Endpoint", "e")], [])
    with pytest.raises(LineageAPIError) as native:
        empty.post_batch([good, good, bad])
    [problem] = native.value.problems
    assert (native.value.status, problem.index, problem.field) == (422, 2, "inputs[0]")
    assert "is a process" in problem.message and native.value.index == 2

    no_time = {k: v for k, v in ol_event().items() if k != "eventTime"}
    with pytest.raises(LineageAPIError) as openlineage:  # no valid event: refused
        empty.post_batch([no_time, no_time], openlineage=True)
    assert openlineage.value.problems == [
        Problem("eventTime", "Field required", 0),
        Problem("eventTime", "Field required", 1),
    ]
    partly = empty.post_batch([ol_event(), no_time], openlineage=True)  # answered per item
    assert partly["status"] == "partial_success"
    assert [f["index"] for f in partly["failed_events"]] == [1]

    with pytest.raises(LineageAPIError) as single:
        empty.post_event(bad)
    assert [(p.index, p.field) for p in single.value.problems] == [(None, "inputs[0]")]

    with pytest.raises(LineageAPIError) as missing_end:  # refused by the store: no detail
        empty.upsert(edges=[{"source": "Model:default:m", "target": "Endpoint:default:e",
                             "type": "ContributedTo"}])  # fmt: skip
    assert missing_end.value.status == 422 and missing_end.value.problems == []
    assert missing_end.value.index is None


def test_post_events_tells_native_from_openlineage_and_stops_at_a_rejected_batch(
    empty: LineageClient,
) -> None:
    totals = empty.post_events([_reads("q0", ["g"], ["d0"]), ol_event(), _reads("q1", ["g"], [])])
    # three batches (native, OpenLineage, native); g is touched by two of them
    assert totals == {"events": 3, "nodes": 8, "edges": 5, "nodes_created": 7, "edges_created": 5}
    assert "FeatureQuery:default:feature-jobs/churn_training_set" in set(empty.entities()["uid"])

    bad = event(entity("FeatureQuery", "q-bad"), [entity("Endpoint", "e")], [])
    with pytest.raises(LineageAPIError) as rejected:
        empty.post_events([_reads("q2", ["g"], []), bad, _reads("q3", ["g"], [])], batch_size=1)
    assert rejected.value.status == 422 and rejected.value.index == 0
    uids = set(empty.entities(kind="FeatureQuery")["name"])
    assert "q2" in uids and "q3" not in uids  # written before the bad batch; not after it


def test_ingest_lands_every_valid_event_and_lists_each_failed_one(
    empty: LineageClient, tmp_path: Path
) -> None:
    bad = event(entity("FeatureQuery", "q-bad"), [entity("Endpoint", "e")], [])
    path = tmp_path / "events.json"
    events = [
        _reads("q0", ["g"], ["d0"]),
        _reads("q1", ["g"], ["d1"]),
        bad,
        _reads("q3", ["g"], []),
    ]
    path.write_text(json.dumps({"events": events}))
    iterable = [_reads("q4", ["g"], ["d4"]), _reads("q5", ["g"], ["d5"]), 7]

    report = empty.ingest(path, iterable, batch_size=2)

    assert report.events == 5  # q3 lands though it shares a batch with the bad event
    assert report.nodes_created == len(empty.entities())
    assert "FeatureQuery:default:q3" in set(empty.entities()["uid"])
    in_file, in_iterable = report.failed
    assert (in_file.source, in_file.line) == (str(path), 3)
    assert in_file.reason.startswith("inputs[0]: Endpoint is a process")
    assert in_file.error is not None and in_file.error.status == 422
    assert str(in_iterable) == "events:3: not a JSON object" and in_iterable.error is None


def test_ingest_reports_the_openlineage_events_a_batch_refused(
    empty: LineageClient, tmp_path: Path
) -> None:
    """The server answers an OpenLineage batch per item: the client reports those lines."""
    broken = {**ol_event(), "eventTime": "yesterday"}
    path = tmp_path / "ol.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in [ol_event(), broken, ol_event()]))
    report = empty.ingest(path)
    assert report.events == 2
    [failed] = report.failed
    assert (failed.line, failed.source) == (2, str(path))
    assert "eventTime" in failed.reason
    with pytest.raises(LineageAPIError) as refused:
        empty.post_events([ol_event(), broken])
    assert refused.value.status == 422 and refused.value.index == 1


def test_names_resolve_to_uids_and_unknown_ones_get_the_closest(client: LineageClient) -> None:
    assert client.resolve("Model:default:nope@1") == "Model:default:nope@1"  # a uid as it is
    assert client.resolve("customers") == "FeatureGroup:default:customers"
    assert (
        client.resolve("s3://acme-lake/raw/payments/")
        == "DataSource:default:s3://acme-lake/raw/payments/"
    )

    with pytest.raises(LineageAPIError) as typo:
        client.resolve("custmers")
    assert typo.value.status == 404 and typo.value.candidates[0] == "FeatureGroup:default:customers"

    for call in (
        lambda: client.lineage("Model:default:churn-xgb"),
        lambda: client.impact("Model:default:churn-xgb"),
        lambda: client.entity("Model:default:churn-xgb"),
        lambda: client.get_feature_groups_from_model("churn-xgb"),
    ):
        with pytest.raises(LineageAPIError) as missing:
            call()
        assert missing.value.status == 404
        assert missing.value.candidates[0] == "Model:default:churn-xgb@4"
        assert "Model:default:churn-xgb@2" not in missing.value.candidates  # retired

    namesakes = [
        {"kind": "Dataset", "name": "customers"},
        {"kind": "FeatureGroup", "name": "customers", "namespace": "risk"},
    ]
    client.upsert(nodes=namesakes)
    with pytest.raises(LineageAPIError) as ambiguous:
        client.resolve("customers")
    assert ambiguous.value.status == 409 and ambiguous.value.candidates == [
        "Dataset:default:customers", "FeatureGroup:default:customers",
        "FeatureGroup:risk:customers",
    ]  # fmt: skip


def test_a_missing_owner_is_none_in_every_frame(empty: LineageClient) -> None:
    owned = {"owner": "team-a"}
    empty.post_events([
        event(entity("FeaturePipeline", "p", **owned), [entity("DataSource", "raw")],
              [entity("FeatureGroup", "g", **owned), entity("FeatureGroup", "h")]),
        event(entity("FeatureQuery", "q"),
              [entity("FeatureGroup", "g"), entity("FeatureGroup", "h")],
              [entity("Dataset", "d", **owned)]),
        event(entity("TrainingJob", "t", **owned), [entity("Dataset", "d")],
              [entity("Model", "m1", **owned), entity("Model", "m2")]),
        event(entity("Endpoint", "e1", **owned), [entity("Model", "m1")], []),
        event(entity("Endpoint", "e2"), [entity("Model", "m2")], []),
    ])  # fmt: skip
    frames = {
        "entities": empty.entities(),
        "lineage": empty.lineage("DataSource:default:raw"),
        "impact": empty.impact("DataSource:default:raw"),
        "groups of a source": empty.get_feature_groups_from_data_source("raw"),
        "models of a group": empty.get_models_from_feature_group("g"),
        "endpoints of a group": empty.get_endpoints_from_feature_group("h"),
    }
    for what, frame in frames.items():
        owners = dict(zip(frame["name"], frame["owner"], strict=True))
        assert len(set(owners.values())) == 2, what  # some rows owned, some not
        for name, owner in owners.items():
            expected = "team-a" if name in {"p", "g", "d", "t", "m1", "e1"} else None
            assert owner is expected or owner == expected, (what, name, owner)


@pytest.mark.parametrize("query", sorted(p.name for p in CYPHER.glob("*.cypher")))
def test_browser_queries_answer_on_the_demo(
    query: str, live_server: LocalApi, empty_graph: Driver
) -> None:
    with LineageClient(live_server.url) as lineage:
        load_demo(lineage)
    text = (CYPHER / query).read_text()
    assert text.startswith("//"), "each query opens with the question it answers"
    records, _, _ = empty_graph.execute_query(text)
    assert records, f"{query} returned no rows on the demo"


def test_browser_style_covers_every_kind_and_edge() -> None:
    style = (CYPHER.parent / "style.grass").read_text()
    from mllineage.model.domain import EdgeType, Kind

    for kind in Kind:
        assert f"node.{kind} {{" in style
    for edge in EdgeType:
        assert f"relationship.{edge} {{" in style


def test_client_finds_the_service_from_the_environment(
    client: LineageClient, live_server: LocalApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLLINEAGE_URL", live_server.url)
    with LineageClient() as lineage:
        assert lineage.url == live_server.url
        endpoints = lineage.entities(kind="Endpoint")
    assert sorted(endpoints["name"]) == ["churn-prod", "fraud-realtime"]  # old one retired
