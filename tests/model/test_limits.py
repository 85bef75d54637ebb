"""The property rules reach run parameters and metrics; times and facet kinds are strict (pure)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from mllineage.ingest.openlineage import OpenLineageEvent
from mllineage.model.domain import EventsRequest, LineageEvent
from mllineage.model.properties import MAX_PROPERTY_DEPTH
from tests.events import changed, entity, event

EVENTS: TypeAdapter[Any] = TypeAdapter(EventsRequest)
OPENLINEAGE: TypeAdapter[Any] = TypeAdapter(OpenLineageEvent)


def nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def base() -> dict[str, Any]:
    return event(entity("TrainingJob", "t"), [entity("Dataset", "d")], [entity("Model", "m")])


def refused(body: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError) as caught:
        EVENTS.validate_python(body)
    assert fragment in str(caught.value)


@pytest.mark.parametrize("field", ["parameters", "metrics"])
@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (nested(255), f"deeper than {MAX_PROPERTY_DEPTH} levels"),
        ({"p": "x" * 10_000_000}, "longer than 16384"),
        ({f"p{i}": i for i in range(101)}, "at most 100 properties"),
        ({"p": math.nan}, "send a finite number"),
        ({"p": -math.inf}, "send a finite number"),
        ({"p": [1, "a"]}, "one type"),
    ],
    ids=["deep", "huge", "many", "nan", "-inf", "mixed"],
)
def test_run_maps_obey_the_property_rules(field: str, value: Any, fragment: str) -> None:
    refused(changed(base(), ["run", field], value), fragment)


def test_run_maps_within_the_rules_are_kept_flattened() -> None:
    body = changed(base(), ["run", "parameters"], {"opt": {"lr": 0.1}, "uid": "free for runs"})
    parsed = EVENTS.validate_python(body)
    assert parsed.run.params == {"opt.lr": 0.1, "uid": "free for runs"}
    deepest = EVENTS.validate_python(changed(base(), ["run", "metrics"], nested(16)))
    assert len(next(iter(deepest.run.metrics))) == 2 * 15 + 4


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, [1.0, math.nan]])
def test_properties_refuse_nan_and_infinity(value: Any) -> None:
    refused(changed(base(), ["inputs", 0, "properties"], {"p": value}), "send a finite number")


@pytest.mark.parametrize("value", [123, 1.7e9, "1700000000", True, "02/11/2026 10:00"])
def test_times_are_iso_8601_strings_only(value: Any) -> None:
    refused(changed(base(), ["event_time"], value), "ISO 8601")
    refused(changed(base(), ["run", "started_at"], value), "ISO 8601")


def test_iso_times_are_accepted_and_normalised_to_utc() -> None:
    parsed = LineageEvent.model_validate(
        changed(base(), ["event_time"], "2026-11-02T12:00:00+02:00")
    )
    assert parsed.event_time.isoformat() == "2026-11-02T10:00:00+00:00"


def openlineage_event(job_facets: dict[str, Any], dataset_facets: dict[str, Any]) -> dict[str, Any]:
    return {
        "eventTime": "2026-11-02T10:00:00Z", "producer": "p", "schemaURL": "s",
        "eventType": "COMPLETE", "run": {"runId": "r"},
        "job": {"namespace": "ns", "name": "j", "facets": job_facets},
        "outputs": [{"namespace": "ns", "name": "d", "facets": dataset_facets}],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("job", "dataset", "fragment"),
    [
        ({"mllineage": {"kind": "Trainingjob"}}, {}, "FeaturePipeline, FeatureQuery"),
        ({"mllineage": {"kind": "Model"}}, {}, "TrainingJob"),
        ({}, {"mllineage": {"kind": "Table"}}, "DataSource, Dataset, Feature"),
        ({}, {"mllineage": {"kind": ["Model"]}}, "DataSource"),
    ],
)
def test_an_unknown_kind_in_our_facet_is_refused_naming_the_allowed_kinds(
    job: dict[str, Any], dataset: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        OPENLINEAGE.validate_python(openlineage_event(job, dataset))
    assert fragment in str(caught.value) and "mllineage facet" in str(caught.value)


def test_openlineage_event_times_are_iso_8601_only() -> None:
    with pytest.raises(ValidationError, match="ISO 8601"):
        OPENLINEAGE.validate_python({**openlineage_event({}, {}), "eventTime": 1_700_000_000})
