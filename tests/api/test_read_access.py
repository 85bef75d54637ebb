"""Every read the API makes runs in a READ transaction (what a cluster routes to secondaries),
and a write in a WRITE one: observed on the wire, in the BEGIN and RUN messages Neo4j gets."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from neo4j import Driver

from mllineage.client import LineageClient
from mllineage.local import LocalApi
from mllineage.settings import Settings
from mllineage.store.queries.schema import AWAIT_INDEXES, SHOW_INDEXES, read_schema
from mllineage.store.queries.writes import SPLIT_DATASETS
from tests.boltwire import BoltRecorder
from tests.events import feature_store_events

FG = "FeatureGroup:default:customers"
SOURCE = "DataSource:default:s3://acme/raw/customers/"
MODEL = "Model:default:churn-xgb@3"


@pytest.fixture(scope="module")
def recorder(settings: Settings) -> Iterator[BoltRecorder]:
    target = urlsplit(settings.neo4j_uri)
    assert target.scheme == "bolt" and target.hostname and target.port
    with BoltRecorder((target.hostname, target.port)) as recorder:
        yield recorder


@pytest.fixture(scope="module")
def recorded_server(settings: Settings, recorder: BoltRecorder) -> Iterator[LocalApi]:
    with LocalApi(settings.model_copy(update={"neo4j_uri": recorder.uri})) as server:
        yield server


def reads(client: LineageClient) -> None:
    """Every kind of read the API has: entities, walks, questions, runs, reports, readiness."""
    client.entity(FG)
    client.entities(q="cust")
    client.lineage_graph(SOURCE, direction="both", depth=10)
    client.impact_report(SOURCE, live=True)
    client.get_models_from_feature_group("customers")
    runs = client.runs()
    client.run(runs["id"].iloc[0])
    client.experiments()
    for report in ("orphans", "deprecated-in-use", "duplicate-features", "skew"):
        client.report_items(report)
    client.what_if_report([MODEL])
    client._call("GET", "/v1/notifications")
    client._call("GET", "/readyz")


def test_reads_run_in_read_transactions_and_writes_in_write_ones(
    empty_graph: Driver, recorder: BoltRecorder, recorded_server: LocalApi
) -> None:
    # Start-up: the schema check and the migrations' search read; only schema commands (on a
    # new database) write.
    started = recorder.take()
    schema = {*read_schema(), AWAIT_INDEXES}
    assert {s.query for s in started} >= {SHOW_INDEXES, SPLIT_DATASETS}
    assert [s.query for s in started if s.query not in schema and s.mode != "r"] == []
    assert {s.mode for s in started if s.query in schema} <= {"w"}
    with LineageClient(recorded_server.url) as client:
        client.post_batch(feature_store_events())
        writes = recorder.take()
        assert writes and {s.mode for s in writes} == {"w"}
        reads(client)
    read = recorder.take()
    assert len(read) >= 14
    assert [s.query for s in read if s.mode != "r"] == []


def test_the_bookmarks_of_the_header_go_to_neo4j_with_the_read(
    empty_graph: Driver, recorder: BoltRecorder, recorded_server: LocalApi
) -> None:
    """A bookmark this API process never saw (another replica's write) reaches Neo4j only
    with the read that carries it in ``Neo4j-Bookmarks``."""
    with empty_graph.session() as session:
        session.run("CREATE (:BookmarkProbe)").consume()
        foreign = ",".join(session.last_bookmarks().raw_values)
    recorder.take()
    with httpx.Client(base_url=recorded_server.url) as http:
        assert http.get(f"/v1/entities/{FG}").status_code == 404
        plain = recorder.take()
        answer = http.get(f"/v1/entities/{FG}", headers={"Neo4j-Bookmarks": foreign})
        assert answer.status_code == 404, answer.text
        waited = recorder.take()
    assert plain and not any(foreign.encode() in s.opening for s in plain)
    assert waited and all(foreign.encode() in s.opening for s in waited)
