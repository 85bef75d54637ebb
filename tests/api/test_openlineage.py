"""OpenLineage ingestion: the real openlineage-python client, and hand-written events."""

from __future__ import annotations

import copy
import gzip
import json
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import attr
import httpx
import pytest
import requests
from neo4j import Driver
from openlineage.client import OpenLineageClient, facet_v2
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import job_type_job, ownership_dataset, schema_dataset
from openlineage.client.transport.http import (
    ApiKeyTokenProvider,
    HttpCompression,
    HttpConfig,
    HttpTransport,
    TokenProvider,
)

from mllineage.local import LocalApi
from mllineage.settings import Settings
from tests.helpers import EMPTY_GRAPH, WRITER, dump_graph, openlineage_fixture


def nodes_by_uid(driver: Driver) -> dict[str, dict[str, Any]]:
    return {props["uid"]: props for _, props in dump_graph(driver)["nodes"]}


def edges(driver: Driver) -> set[tuple[str, str, str]]:
    return {(s, t, d) for s, t, d, _ in dump_graph(driver)["edges"]}


@attr.define
class MllineageFacet(facet_v2.DatasetFacet):
    """Our facet, as a producer using the openlineage-python client declares it."""

    kind: str


def test_the_openlineage_client_builds_the_ml_graph(
    live_server: LocalApi, api: httpx.Client
) -> None:
    client = OpenLineageClient(transport=HttpTransport(HttpConfig(url=live_server.url)))
    producer = "https://github.com/acme/ml-platform"

    def job_type(kind: str) -> dict[str, Any]:
        return {"jobType": job_type_job.JobTypeJobFacet("BATCH", "PYTHON", jobType=kind)}

    def run(name: str, kind: str, inputs: list[InputDataset], outputs: list[OutputDataset]) -> None:
        run_id = str(uuid4())
        for state in (RunState.START, RunState.COMPLETE):
            client.emit(
                RunEvent(
                    eventType=state,
                    eventTime=datetime.now(UTC).isoformat(),
                    run=Run(runId=run_id),
                    job=Job(namespace="ml", name=name, facets=job_type(kind)),
                    producer=producer,
                    inputs=inputs,
                    outputs=outputs if state == RunState.COMPLETE else [],
                )
            )

    def declared(kind: str) -> MllineageFacet:
        return MllineageFacet(kind=kind)

    features = schema_dataset.SchemaDatasetFacet(
        fields=[schema_dataset.SchemaDatasetFacetFields(name="age", type="INT")]
    )
    owners = ownership_dataset.OwnershipDatasetFacet(
        owners=[ownership_dataset.Owner(name="team-growth")]
    )
    run(
        "customer_features", "FEATURE_PIPELINE",
        [InputDataset(namespace="s3://acme", name="raw/customers")],
        [OutputDataset(namespace="feast", name="customers",
                       facets={"schema": features, "ownership": owners,
                               "mllineage": declared("FeatureGroup")})],
    )  # fmt: skip
    run(  # the reader need not declare what the writer declared
        "churn_training_set", "FEATURE_QUERY",
        [InputDataset(namespace="feast", name="customers")],
        [OutputDataset(namespace="s3://acme", name="datasets/churn",
                       facets={"mllineage": declared("Dataset")})],
    )  # fmt: skip
    run(
        "churn_train", "TRAINING",
        [InputDataset(namespace="s3://acme", name="datasets/churn")],
        [OutputDataset(namespace="models", name="churn-xgb@3",
                       facets={"mllineage": declared("Model")})],
    )  # fmt: skip

    reply = api.get(
        "/v1/lineage",
        params={"uid": "DataSource:default:s3://acme/raw/customers", "depth": 20},
    )
    assert reply.status_code == 200, reply.text
    assert [(n["uid"], n["depth"]) for n in reply.json()["nodes"]] == [
        ("FeaturePipeline:default:ml/customer_features", 1),
        ("FeatureGroup:default:feast/customers", 2),
        ("Feature:default:feast/customers.age", 3),
        ("FeatureQuery:default:ml/churn_training_set", 3),
        ("Dataset:default:s3://acme/datasets/churn", 4),
        ("TrainingJob:default:ml/churn_train", 5),
        ("Model:default:models/churn-xgb@3", 6),
    ]
    group = api.get("/v1/entities/FeatureGroup:default:feast/customers").json()
    assert group["owner"] == "team-growth"
    assert group["properties"] == {
        "openlineage.namespace": "feast",
        "openlineage.name": "customers",
    }
    job = api.get("/v1/entities/TrainingJob:default:ml/churn_train").json()
    assert job["run"]["status"] == "COMPLETE"


def test_the_client_authenticates_with_an_api_key(secured: LocalApi, empty_graph: Driver) -> None:
    event = RunEvent(
        eventType=RunState.COMPLETE,
        eventTime=datetime.now(UTC).isoformat(),
        run=Run(runId=str(uuid4())),
        job=Job(namespace="ml", name="nightly"),
        producer="https://github.com/acme/ml-platform",
        inputs=[InputDataset(namespace="s3://acme", name="raw/events")],
    )
    for provider, accepted in ((ApiKeyTokenProvider({"apiKey": WRITER}), True),
                               (TokenProvider({}), False)):  # fmt: skip
        transport = HttpTransport(HttpConfig(url=secured.url, auth=provider, retry={"total": 0}))
        try:
            OpenLineageClient(transport=transport).emit(event)
            sent = True
        except requests.HTTPError as exc:
            assert exc.response is not None and exc.response.status_code == 401
            sent = False
        assert sent is accepted
    assert "FeaturePipeline:default:ml/nightly" in nodes_by_uid(empty_graph)


def post(api: httpx.Client, body: Any, batch: bool = False) -> httpx.Response:
    return api.post("/api/v1/lineage/batch" if batch else "/api/v1/lineage", json=body)


def test_mapping_of_a_feature_pipeline_run(api: httpx.Client, empty_graph: Driver) -> None:
    reply = post(api, openlineage_fixture("pipeline_complete"))
    assert reply.status_code == 201, reply.text
    nodes = nodes_by_uid(empty_graph)
    pipeline = nodes["FeaturePipeline:default:feature-jobs/customer_features"]
    assert pipeline["owner"] == "team-growth"
    assert pipeline["run.id"] == "0192f3a0-7c1e-7c1e-9a2b-3c4d5e6f7a8b"
    assert pipeline["run.status"] == "COMPLETE"
    assert pipeline["run.nominal_start_time"].iso_format().startswith("2026-11-02T10:00:00")
    assert pipeline["run.parent_job"] == "airflow/daily_features"
    assert pipeline["run.parent_run_id"] == "0192f3a0-0000-7000-8000-000000000001"
    group = nodes["FeatureGroup:default:feast/customers"]
    assert group["description"] == "Customer features" and group["owner"] == "team-growth"
    assert nodes["Feature:default:feast/customers.age"]["dtype"] == "INT"
    assert nodes["Feature:default:feast/customers.age"]["description"] == "years"
    # The input's schema describes the table, not what was read: no features for inputs.
    assert set(nodes) == {
        "FeaturePipeline:default:feature-jobs/customer_features",
        "DataSource:default:s3://acme/raw/customers",
        "FeatureGroup:default:feast/customers",
        "Feature:default:feast/customers.age",
        "Feature:default:feast/customers.tenure",
    }
    assert ("FeaturePipeline:default:feature-jobs/customer_features", "Produced",
            "FeatureGroup:default:feast/customers") in edges(empty_graph)  # fmt: skip


def test_default_kinds_follow_the_process(api: httpx.Client, empty_graph: Driver) -> None:
    assert post(api, openlineage_fixture("query_complete")).status_code == 201
    assert edges(empty_graph) == {
        ("FeatureGroup:default:feast/customers", "ContributedTo",
         "FeatureQuery:default:feature-jobs/churn_training_set"),
        ("FeatureQuery:default:feature-jobs/churn_training_set", "Produced",
         "Dataset:default:s3://acme/datasets/churn/2026-11-02"),
    }  # fmt: skip


def test_declared_kinds_win_and_unknown_facets_are_ignored(
    api: httpx.Client, empty_graph: Driver
) -> None:
    assert post(api, openlineage_fixture("endpoint_declared_kinds")).status_code == 201
    assert edges(empty_graph) == {
        ("Model:default:models/churn-xgb@3", "ContributedTo",
         "Endpoint:default:serving/churn-prod"),
        ("FeatureGroup:default:feast/customers", "ContributedTo",
         "Endpoint:default:serving/churn-prod"),
        ("Endpoint:default:serving/churn-prod", "Produced",
         "DataSource:default:s3://acme/logs/churn-predictions"),
    }  # fmt: skip


@pytest.mark.parametrize("status", ["FAIL", "ABORT"])
def test_failed_runs_record_status_but_produce_nothing(
    status: str, api: httpx.Client, empty_graph: Driver
) -> None:
    event = openlineage_fixture("training_fail")
    event["eventType"] = status
    assert post(api, event).status_code == 201
    job = nodes_by_uid(empty_graph)["TrainingJob:default:ml/churn_train"]
    assert job["run.status"] == status
    assert job["run.error_message"] == "CUDA out of memory"
    assert edges(empty_graph) == {
        ("Dataset:default:s3://acme/datasets/churn/2026-11-02", "ContributedTo",
         "TrainingJob:default:ml/churn_train"),
    }  # fmt: skip


def test_start_records_inputs_and_complete_adds_outputs(
    api: httpx.Client, empty_graph: Driver
) -> None:
    complete = openlineage_fixture("query_complete")
    start = {**copy.deepcopy(complete), "eventType": "START", "eventTime": "2026-11-02T11:59:00Z"}
    assert post(api, start).status_code == 201
    assert {t for _, t, _ in edges(empty_graph)} == {"ContributedTo"}
    assert post(api, complete).status_code == 201
    assert {t for _, t, _ in edges(empty_graph)} == {"ContributedTo", "Produced"}
    query = nodes_by_uid(empty_graph)["FeatureQuery:default:feature-jobs/churn_training_set"]
    assert query["run.status"] == "COMPLETE"


def test_job_and_dataset_events(api: httpx.Client, empty_graph: Driver) -> None:
    assert post(api, openlineage_fixture("job_event")).status_code == 201
    assert post(api, openlineage_fixture("dataset_event")).status_code == 201
    nodes = nodes_by_uid(empty_graph)
    assert nodes["DataSource:default:s3://acme/raw/payments"]["owner"] == "team-risk"
    assert "run.status" not in nodes["FeaturePipeline:default:feature-jobs/orders_features"]
    assert edges(empty_graph) == {
        ("DataSource:default:s3://acme/raw/orders", "ContributedTo",
         "FeaturePipeline:default:feature-jobs/orders_features"),
        ("FeaturePipeline:default:feature-jobs/orders_features", "Produced",
         "DataSource:default:feast/orders"),
    }  # fmt: skip


def test_batches_land_together_and_idempotently(api: httpx.Client, empty_graph: Driver) -> None:
    corpus = [
        openlineage_fixture(name)
        for name in ("pipeline_complete", "query_complete", "training_fail")
    ]
    reply = post(api, corpus, batch=True)
    assert reply.status_code == 201
    assert reply.json()["status"] == "success"
    assert reply.json()["summary"] == {
        "received": 3, "successful": 3, "failed": 0, "retriable": 0, "non_retriable": 0
    }  # fmt: skip
    once = dump_graph(empty_graph)
    assert post(api, corpus, batch=True).status_code == 201
    for event in corpus:
        assert post(api, event).status_code == 201
    assert dump_graph(empty_graph) == once


def test_a_batch_answers_per_item_and_lands_the_valid_events(
    api: httpx.Client, empty_graph: Driver
) -> None:
    """As the spec's /lineage/batch: which failed and why; the rest lands."""
    good = [openlineage_fixture(name) for name in ("pipeline_complete", "query_complete")]
    broken = copy.deepcopy(openlineage_fixture("training_fail"))
    del broken["run"]["runId"]
    reply = post(api, [good[0], broken, "not an event", good[1]], batch=True)
    assert reply.status_code == 200, reply.text
    answer = reply.json()
    assert answer["status"] == "partial_success"
    assert answer["summary"] == {
        "received": 4, "successful": 2, "failed": 2, "retriable": 0, "non_retriable": 2
    }  # fmt: skip
    assert [(f["index"], f["retriable"]) for f in answer["failed_events"]] == [
        (1, False),
        (2, False),
    ]
    assert "[1].run.runId: Field required" in answer["failed_events"][0]["reason"]
    landed = dump_graph(empty_graph)
    empty_graph.execute_query("MATCH (n) DETACH DELETE n")
    assert post(api, good, batch=True).status_code == 201
    assert dump_graph(empty_graph) == landed, "the good events did not land, or more did"


def test_a_batch_with_no_valid_event_is_refused(api: httpx.Client, empty_graph: Driver) -> None:
    broken = copy.deepcopy(openlineage_fixture("training_fail"))
    del broken["run"]["runId"]
    reply = post(api, [broken, {"eventTime": "yesterday"}], batch=True)
    assert reply.status_code == 422
    assert "[0].run.runId" in reply.json()["message"]
    assert [d["loc"][1] for d in reply.json()["detail"]][0] == 0
    assert dump_graph(empty_graph) == EMPTY_GRAPH


def _without(path: list[str]) -> dict[str, Any]:
    event = openlineage_fixture("query_complete")
    target = event
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return event


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (_without(["eventTime"]), "eventTime"),
        (_without(["producer"]), "producer"),
        (_without(["job", "name"]), "job.name"),
        (_without(["inputs", 0, "namespace"]), "inputs[0].namespace"),  # type: ignore[list-item]
        ({**openlineage_fixture("query_complete"), "eventTime": "yesterday"}, "eventTime"),
        ({**openlineage_fixture("query_complete"), "eventType": "DONE"}, "eventType"),
        ({**openlineage_fixture("endpoint_declared_kinds"), "outputs": [
            {"namespace": "x", "name": "y",
             "facets": {"mllineage": {"kind": "TrainingJob"}}}]}, "outputs[0]"),
    ],
)  # fmt: skip
def test_invalid_events_are_refused_and_write_nothing(
    body: dict[str, Any], fragment: str, api: httpx.Client, empty_graph: Driver
) -> None:
    reply = post(api, body)
    assert reply.status_code == 422, reply.text
    assert fragment in reply.json()["message"]
    assert dump_graph(empty_graph) == EMPTY_GRAPH


# --- compressed bodies ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_bodies(settings: Settings) -> Iterator[LocalApi]:
    """The API with a 100 kB body limit."""
    with LocalApi(settings.model_copy(update={"max_body_bytes": 100_000})) as server:
        yield server


def test_the_openlineage_client_may_gzip_its_events(
    live_server: LocalApi, api: httpx.Client, empty_graph: Driver
) -> None:
    """openlineage-python's HTTP transport with `compression: gzip`."""
    config = HttpConfig.from_dict({"url": live_server.url, "compression": "gzip"})
    assert config.compression is HttpCompression.GZIP
    event = RunEvent(
        eventType=RunState.COMPLETE,
        eventTime=datetime.now(UTC).isoformat(),
        run=Run(runId=str(uuid4())),
        job=Job(namespace="ml", name="zipped"),
        producer="https://github.com/acme/ml-platform",
        inputs=[InputDataset(namespace="s3://acme", name="raw/events")],
    )
    OpenLineageClient(transport=HttpTransport(config)).emit(event)
    assert "DataSource:default:s3://acme/raw/events" in nodes_by_uid(empty_graph)


def bomb(size: int) -> bytes:
    """A gzip stream of ``size`` zero bytes (about 1000:1)."""
    packer = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    return b"".join(packer.compress(block) for _ in range(size >> 20)) + packer.flush()


BOMB = bomb(256 << 20)


def test_a_zip_bomb_gets_413_fast(small_bodies: LocalApi) -> None:
    """The limit counts inflated bytes: 256 MiB of zeros in ~1 MB of gzip stop at 100 kB."""
    started = time.monotonic()
    reply = httpx.post(
        small_bodies.url + "/api/v1/lineage",
        content=BOMB,
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        timeout=30,
    )
    assert reply.status_code == 413, reply.text
    assert "larger than 100000 bytes" in reply.json()["message"]
    assert time.monotonic() - started < 3


def test_a_gzip_body_within_the_limit_lands_and_the_limit_counts_inflated_bytes(
    small_bodies: LocalApi, empty_graph: Driver
) -> None:
    event = openlineage_fixture("query_complete")
    zipped = gzip.compress(json.dumps(event).encode())
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    reply = httpx.post(small_bodies.url + "/api/v1/lineage", content=zipped, headers=headers)
    assert reply.status_code == 201, reply.text
    padded = {**event, "padding": "x" * 200_000}  # compresses to far less than the limit
    zipped = gzip.compress(json.dumps(padded).encode())
    assert len(zipped) < 100_000
    reply = httpx.post(small_bodies.url + "/api/v1/lineage", content=zipped, headers=headers)
    assert reply.status_code == 413


@pytest.mark.parametrize(
    ("body", "encoding", "status", "fragment"),
    [
        (b"not gzip at all", "gzip", 400, "not valid gzip"),
        (gzip.compress(b'{"eventTime": "2026-01-01T00:00:00Z"}')[:-12], "gzip", 400, "ends early"),
        (b"{}", "br", 415, "Content-Encoding 'br' is not supported"),
    ],
    ids=["garbage", "truncated", "brotli"],
)
def test_bodies_that_cannot_be_inflated_are_refused(
    api: httpx.Client, body: bytes, encoding: str, status: int, fragment: str
) -> None:
    reply = api.post(
        "/api/v1/lineage",
        content=body,
        headers={"Content-Encoding": encoding, "Content-Type": "application/json"},
    )
    assert reply.status_code == status, reply.text
    assert fragment in reply.json()["message"]


def test_a_gzip_body_without_a_token_is_not_inflated(secured: LocalApi) -> None:
    """Authentication still comes first: 401 before a byte of the bomb is inflated."""
    started = time.monotonic()
    reply = httpx.post(
        secured.url + "/api/v1/lineage",
        content=BOMB,
        headers={"Content-Encoding": "gzip"},
        timeout=30,
    )
    assert reply.status_code == 401
    assert time.monotonic() - started < 5
