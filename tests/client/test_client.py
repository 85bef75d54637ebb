"""The Python client, the CLI and the Browser queries, against a running server and Neo4j."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest
from neo4j import Driver

from mllineage.client import LineageAPIError, LineageClient
from mllineage.demo import demo_events
from tests.events import entity, event
from tests.helpers import LiveServer, dump_graph

CYPHER = Path(__file__).parents[2] / "cypher" / "queries"


@pytest.fixture
def client(live_server: LiveServer, empty_graph: Driver) -> Iterator[LineageClient]:
    with LineageClient(live_server.url) as lineage:
        lineage.post_events(demo_events())
        yield lineage


def cli(*args: str, url: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mllineage.cli", *args],
        env={**os.environ, "MLLINEAGE_URL": url},
        capture_output=True, text=True, timeout=120, input=stdin,
    )  # fmt: skip


def test_feature_owner_questions_as_dataframes(client: LineageClient) -> None:
    models = client.get_models_from_feature_group("customers")
    assert list(models.columns) == ["uid", "kind", "namespace", "name", "owner", "depth"]
    assert sorted(models["name"]) == [
        "churn-xgb@2",
        "churn-xgb@3",
        "fraud-gbm@1",
        "ltv-regressor@1",
    ]
    assert sorted(client.get_endpoints_from_feature_group("customers")["name"]) == [
        "churn-prod", "churn-prod-old", "fraud-realtime",
    ]  # fmt: skip
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
        ("endpoints", "fraud-realtime"), ("models", "fraud-gbm@1"),
        ("training_jobs", "fraud-gbm-train"),
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
        LineageClient("http://127.0.0.1:9").entity("Model:default:m")
    assert down.value.status == 0 and "cannot reach" in down.value.message


def test_demo_is_idempotent_and_impact_prints_models_and_endpoints(
    live_server: LiveServer, empty_graph: Driver
) -> None:
    first = cli("demo", url=live_server.url)
    assert first.returncode == 0, first.stderr
    once = dump_graph(empty_graph)
    again = cli("demo", url=live_server.url)
    assert "(0 new)" in again.stdout and dump_graph(empty_graph) == once

    impact = cli("impact", "FeatureGroup:default:customers", url=live_server.url)
    assert impact.returncode == 0, impact.stderr
    for name in ("churn-xgb@3", "fraud-gbm@1", "churn-prod", "fraud-realtime", "team-risk"):
        assert name in impact.stdout
    as_json = cli("impact", "FeatureGroup:default:customers", "--json", url=live_server.url)
    assert json.loads(as_json.stdout)["counts"]["Endpoint"] == 3

    walk = cli("lineage", "Model:default:churn-xgb@3", "--direction", "upstream",
               "--kinds", "FeatureGroup", "--depth", "4", url=live_server.url)  # fmt: skip
    assert walk.returncode == 0 and "customers" in walk.stdout and "engagement" in walk.stdout
    missing = cli("impact", "FeatureGroup:default:nope", url=live_server.url)
    assert missing.returncode == 1 and "404" in missing.stderr


def test_ingest_reports_the_bad_line_and_skips_only_its_batch(
    live_server: LiveServer, empty_graph: Driver, tmp_path: Path
) -> None:
    good = [
        event(entity("FeatureQuery", f"q{i}"), [entity("FeatureGroup", "g")],
              [entity("Dataset", f"d{i}")])
        for i in range(4)
    ]  # fmt: skip
    bad = event(entity("FeatureQuery", "q-bad"), [entity("Endpoint", "e")], [])
    openlineage = json.loads(
        (Path(__file__).parents[1] / "fixtures" / "openlineage" / "query_complete.json").read_text()
    )
    lines = [good[0], good[1], good[2], bad, openlineage]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in lines) + "\n{not json\n")

    done = cli("ingest", str(path), "--batch-size", "2", url=live_server.url)
    assert done.returncode == 1
    assert f"{path}:line 4:" in done.stderr  # the bad event, second item of batch [3, 4]
    assert f"{path}:line 6: invalid JSON" in done.stderr
    assert "ingested 3 events" in done.stdout and "2 batches rejected" in done.stdout
    uids = {p["uid"] for _, p in dump_graph(empty_graph)["nodes"]}
    assert "FeatureQuery:default:q2" not in uids  # in the rejected batch
    assert {"FeatureQuery:default:q0", "FeatureQuery:default:q1"} <= uids
    assert "FeatureQuery:default:feature-jobs/churn_training_set" in uids  # OpenLineage line


@pytest.mark.parametrize("query", sorted(p.name for p in CYPHER.glob("*.cypher")))
def test_browser_queries_answer_on_the_demo(
    query: str, live_server: LiveServer, empty_graph: Driver
) -> None:
    with LineageClient(live_server.url) as lineage:
        lineage.post_events(demo_events())
    text = (CYPHER / query).read_text()
    assert text.startswith("//"), "each query opens with the question it answers"
    records, _, _ = empty_graph.execute_query(text)
    assert records, f"{query} returned no rows on the demo"


def test_browser_style_covers_every_kind_and_edge() -> None:
    style = (CYPHER.parent / "style.grass").read_text()
    from mllineage.domain import EdgeType, Kind

    for kind in Kind:
        assert f"node.{kind} {{" in style
    for edge in EdgeType:
        assert f"relationship.{edge} {{" in style


def test_client_finds_the_service_from_the_environment(
    client: LineageClient, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLLINEAGE_URL", live_server.url)
    with LineageClient() as lineage:
        assert lineage.url == live_server.url
        endpoints = lineage.entities(kind="Endpoint")
    assert sorted(endpoints["name"]) == ["churn-prod", "churn-prod-old", "fraud-realtime"]
