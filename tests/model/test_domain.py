"""The pure domain: identity, edge rules, property rules, request models, times (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from mllineage.model.domain import (
    ARTIFACT_KINDS,
    PROCESS_KINDS,
    EdgeRuleError,
    EdgeType,
    EventBatch,
    EventsRequest,
    Kind,
    LineageEvent,
    check_edge,
    make_uid,
    parse_uid,
)
from mllineage.model.properties import flatten_properties, validate_properties
from tests.events import entity, event

namespaces = st.from_regex(r"[A-Za-z0-9._-]+", fullmatch=True)
names = st.text(min_size=1)


@given(st.sampled_from(list(Kind)), namespaces, names)
def test_uid_round_trips_even_when_the_name_has_colons(kind: Kind, ns: str, name: str) -> None:
    assert parse_uid(make_uid(kind, ns, name)) == (kind, ns, name)


@pytest.mark.parametrize(
    "bad", ["Model:default", "Table:default:x", "Model:a b:x", "Model:default:", "nocolons"]
)
def test_bad_uids_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_uid(bad)


def test_edge_rules_allow_exactly_the_documented_pairs() -> None:
    allowed = set()
    for edge_type in EdgeType:
        for source in Kind:
            for target in Kind:
                try:
                    check_edge(edge_type, source, target)
                    allowed.add((edge_type, source, target))
                except EdgeRuleError as exc:
                    assert "allowed pairs" in str(exc)
    expected = (
        {(EdgeType.ContributedTo, a, p) for a in ARTIFACT_KINDS for p in PROCESS_KINDS}
        | {(EdgeType.Produced, p, a) for a in ARTIFACT_KINDS for p in PROCESS_KINDS}
        | {(EdgeType.HasFeature, Kind.FeatureGroup, Kind.Feature)}
    )
    assert allowed == expected
    assert len(ARTIFACT_KINDS) == 5 and len(PROCESS_KINDS) == 4


def test_nested_properties_flatten_to_dotted_keys() -> None:
    nested = {"a": {"b": 1, "c": {"d": [1, 2]}}, "e": "x"}
    assert flatten_properties(nested) == {"a.b": 1, "a.c.d": [1, 2], "e": "x"}
    assert validate_properties(nested) == {"a.b": 1, "a.c.d": [1, 2], "e": "x"}


@pytest.mark.parametrize(
    "props",
    [{"uid": "x"}, {"deleted": True}, {"run": {"status": "x"}}, {"1x": 1}, {"a b": 1},
     {"xs": [True, 1]}, {"xs": [[1]]}, {"x": None}, {"big": 2**63}],
)  # fmt: skip
def test_invalid_properties_are_refused(props: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        validate_properties(props)


def test_one_event_or_a_batch_is_told_apart() -> None:
    single = event(entity("TrainingJob", "t"), [entity("Dataset", "d")], [])
    adapter = TypeAdapter(EventsRequest)
    assert isinstance(adapter.validate_python(single), LineageEvent)
    assert isinstance(adapter.validate_python({"events": [single]}), EventBatch)
    with pytest.raises(ValidationError):
        adapter.validate_python({"events": [single], "extra": 1})


@pytest.mark.parametrize(
    "when", ["0001-01-01T00:00:00+05:00", "1492-10-12T00:00:00Z", "9999-12-31T23:00:00-05:00"]
)
def test_times_out_of_range_are_refused(when: str) -> None:
    body = event(entity("TrainingJob", "t"), [entity("Dataset", "d")], [], time=when)
    with pytest.raises(ValidationError, match="out of range|between the years"):
        LineageEvent.model_validate(body)


def test_times_are_kept_in_utc() -> None:
    """Offsets with seconds (legal in ISO 8601) cannot be sent to Neo4j; UTC always can."""
    odd = timezone(timedelta(hours=5, minutes=30, seconds=30, microseconds=600_000))
    body = event(entity("TrainingJob", "t"), [], [])
    body["event_time"] = datetime(2026, 11, 2, 10, 0, tzinfo=odd)
    stored = LineageEvent.model_validate(body).event_time
    assert stored.utcoffset() is not None and stored.utcoffset().total_seconds() == 0
    assert stored == datetime(2026, 11, 2, 4, 29, 29, 400000, tzinfo=UTC)
