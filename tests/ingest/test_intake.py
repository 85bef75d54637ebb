"""The one intake (``ingest.intake``): every form it takes, and one error type for what it
refuses, located in the input (no I/O)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from mllineage.ingest.intake import Rejected, form_of, parse, take, to_write
from mllineage.model.domain import GraphUpsert, LineageEvent
from mllineage.settings import Settings
from tests.events import entity, event

SETTINGS = Settings(openlineage_namespace="acme")
OPENLINEAGE = {
    "eventType": "COMPLETE",
    "eventTime": "2026-11-02T10:00:00Z",
    "producer": "https://example.com/producer",
    "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
    "run": {"runId": "0193d5c8-0000-7000-8000-000000000001"},
    "job": {"namespace": "spark", "name": "clean"},
    "inputs": [{"namespace": "s3://lake", "name": "raw/orders"}],
    "outputs": [],
}


def job(name: str) -> dict[str, object]:
    """A native event of one training job reading one data source."""
    return event(entity("TrainingJob", name), [entity("DataSource", "s3://lake/orders")], [])


UPSERT = {
    "event_time": "2026-11-02T10:00:00Z",
    "nodes": [{"kind": "Endpoint", "name": "churn-prod"}],
    "edges": [],
}


def test_each_form_is_told_apart_by_its_keys() -> None:
    assert form_of(OPENLINEAGE) == "openlineage"
    assert form_of({"schemaURL": "x"}) == "openlineage"
    assert form_of(UPSERT) == "graph"
    assert form_of({"edges": []}) == "graph"
    assert form_of(job("p")) == "native"
    assert form_of({"events": [job("p")]}) == "native"
    assert form_of([1, 2]) == "native"  # not an object: the native model says what is wrong


def test_every_form_becomes_native_items() -> None:
    [ol] = take(OPENLINEAGE, SETTINGS)
    assert isinstance(ol, LineageEvent)
    assert ol.process.namespace == "acme" and ol.process.name == "spark/clean"
    [upsert] = take(UPSERT, SETTINGS)
    assert isinstance(upsert, GraphUpsert)
    batch = take({"events": [job("a"), job("b")]}, SETTINGS)
    assert [e.process.name for e in batch] == ["a", "b"]  # type: ignore[union-attr]
    delta = to_write([*batch, upsert, ol])
    assert "Endpoint:default:churn-prod" in delta.nodes
    assert "FeaturePipeline:acme:spark/clean" in delta.nodes


def test_models_validated_already_pass_through_unchanged() -> None:
    [first] = take(job("a"), SETTINGS)
    assert take(first, SETTINGS, "native") == [first]


def test_a_form_given_is_not_guessed() -> None:
    with pytest.raises(Rejected) as refused:
        take(OPENLINEAGE, SETTINGS, "native")
    assert any(p["loc"][:2] == ("event", "event_time") for p in refused.value.problems)


def test_problems_are_located_in_the_input_and_named_in_the_message() -> None:
    bad = job("a")
    del bad["process"]
    with pytest.raises(Rejected) as refused:
        take({"events": [job("ok"), bad]}, SETTINGS)
    assert [p["loc"] for p in refused.value.problems] == [("batch", "events", 1, "process")]
    assert str(refused.value) == "events[1].process: Field required"


def test_times_ahead_of_the_clock_are_refused_whatever_the_form() -> None:
    ahead = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    cases = [
        ({**OPENLINEAGE, "eventTime": ahead}, ("eventTime",)),
        ({**UPSERT, "event_time": ahead}, ("event_time",)),
        ({"events": [job("a"), {**job("b"), "event_time": ahead}]},
         ("batch", "events", 1, "event_time")),
    ]  # fmt: skip
    for data, where in cases:
        with pytest.raises(Rejected) as refused:
            take(data, SETTINGS)
        [problem] = refused.value.problems
        assert problem["loc"] == where and "ahead of the server's clock" in problem["msg"]
    assert take({**UPSERT, "event_time": ahead}, Settings(max_clock_skew_seconds=2 * 86400))


@pytest.mark.parametrize(
    "raw, says",
    [
        (b'{"a": NaN}', "not JSON"),
        (b'{"a": "\\ud800"}', "not JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[" * 100_000, "not JSON"),
    ],
)
def test_bytes_that_are_not_strict_json_are_one_problem(raw: bytes, says: str) -> None:
    with pytest.raises(Rejected) as refused:
        parse(raw)
    [problem] = refused.value.problems
    assert problem["type"] == "json_invalid" and str(refused.value).startswith(says)


def test_parse_reads_what_take_takes() -> None:
    assert take(parse(json.dumps(OPENLINEAGE).encode()), SETTINGS)
