"""Events -> graph delta (``ingest.events``): folding, run rules, features, upserts (no I/O)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from mllineage.client.builders import entity, features
from mllineage.ingest.delta import missing_edge_ends
from mllineage.ingest.events import to_delta
from mllineage.ingest.intake import to_write
from mllineage.model.domain import EdgeType, EntityIn, GraphUpsert, Kind, LineageEvent
from tests.events import event


def _event(name_time: str, owner: str, status: str = "COMPLETE") -> LineageEvent:
    return LineageEvent.model_validate(
        event(
            entity("FeaturePipeline", "p", owner),
            [entity("DataSource", "s")],
            [entity("FeatureGroup", "g", features=features("f"))],
            time=name_time,
            status=status,
            run_id=owner,
        )
    )


def test_a_batch_folds_each_node_and_edge_once_newest_wins() -> None:
    older = _event("2026-11-01T00:00:00Z", "old")
    newer = _event("2026-11-02T00:00:00+02:00", "new")
    for order in ([older, newer], [newer, older]):
        delta = to_write(order)
        assert len(delta.nodes) == 4 and len(delta.edges) == 3
        process = delta.nodes["FeaturePipeline:default:p"]
        assert process.props["owner"] == "new" and process.run is not None
        assert process.run["run.id"] == "new"
        assert process.first_seen == datetime(2026, 11, 1, tzinfo=UTC)
        assert process.last_seen == datetime(2026, 11, 1, 22, tzinfo=UTC)


def test_an_older_mention_only_fills_gaps() -> None:
    described = entity("TrainingJob", "t", "team-a", description="trains")
    older = event(described, [], [], time="2026-11-01T00:00:00Z")
    newer = event(entity("TrainingJob", "t", "team-b"), [], [], time="2026-11-02T00:00:00Z")
    for order in ([older, newer], [newer, older]):
        delta = to_write(LineageEvent.model_validate(e) for e in order)
        props = delta.nodes["TrainingJob:default:t"].props
        assert props["owner"] == "team-b" and props["description"] == "trains"


def test_only_completed_runs_produce_but_the_run_keeps_what_it_named() -> None:
    for status in ("START", "RUNNING", "FAIL", "ABORT"):
        delta = to_write([_event("2026-11-01T00:00:00Z", "o", status)])
        assert set(delta.nodes) == {"FeaturePipeline:default:p", "DataSource:default:s"}
        assert {key[2] for key in delta.edges} == {EdgeType.ContributedTo}
        assert [e.uid for e in delta.runs["o"].outputs] == ["FeatureGroup:default:g"]
        assert not delta.runs["o"].wrote


def test_an_event_without_a_run_records_its_outputs_and_no_run() -> None:
    query, group, dataset = (
        entity("FeatureQuery", "q"),
        entity("FeatureGroup", "g"),
        entity("Dataset", "d"),
    )
    body = event(query, [group], [dataset])
    del body["run"]
    delta = to_write([LineageEvent.model_validate(body)])
    assert delta.nodes["FeatureQuery:default:q"].run is None
    assert set(delta.edges) == {
        ("FeatureGroup:default:g", "FeatureQuery:default:q", EdgeType.ContributedTo),
        ("FeatureQuery:default:q", "Dataset:default:d", EdgeType.Produced),
    }


def test_each_feature_a_reader_lists_contributes_to_it() -> None:
    group = entity("FeatureGroup", "g", features=features("age:int", "tenure"))
    body = event(entity("FeatureQuery", "q"), [group], [])
    delta = to_write([LineageEvent.model_validate(body)])
    assert set(delta.edges) == {
        ("FeatureGroup:default:g", "FeatureQuery:default:q", EdgeType.ContributedTo),
        ("Feature:default:g.age", "FeatureQuery:default:q", EdgeType.ContributedTo),
        ("Feature:default:g.tenure", "FeatureQuery:default:q", EdgeType.ContributedTo),
        ("FeatureGroup:default:g", "Feature:default:g.age", EdgeType.HasFeature),
        ("FeatureGroup:default:g", "Feature:default:g.tenure", EdgeType.HasFeature),
    }
    assert delta.nodes["Feature:default:g.age"].props == {"feature_group": "g", "dtype": "int"}
    assert delta.nodes["Feature:default:g.tenure"].props == {"feature_group": "g"}


def test_the_run_is_kept_under_run_with_its_maps_as_sorted_json() -> None:
    body = event(
        entity("TrainingJob", "t"), [], [], time="2026-11-02T10:00:00Z", run_id="r7",
        status="FAIL", error_message="OOM", parameters={"b": 1, "a": 2}, metrics={"auc": 0.5},
    )  # fmt: skip
    run = to_write([LineageEvent.model_validate(body)]).nodes["TrainingJob:default:t"].run
    assert run is not None
    assert run["run.id"] == "r7" and run["run.status"] == "FAIL"
    assert run["run.error_message"] == "OOM"
    assert run["run.event_time"] == datetime(2026, 11, 2, 10, tzinfo=UTC)
    assert run["run.parameters"] == '{"a": 2, "b": 1}'
    assert json.loads(run["run.metrics"]) == {"auc": 0.5}


def test_an_upsert_is_dated_by_its_time_else_by_its_receipt_and_names_the_ends_it_needs() -> None:
    edge = {"source": "Model:default:m", "target": "Endpoint:default:e", "type": "ContributedTo"}
    body = {"nodes": [entity("Endpoint", "e")], "edges": [edge]}
    received, stated = datetime(2026, 11, 3, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
    for time, dated in ((None, received), (stated.isoformat(), stated)):
        upsert = GraphUpsert.model_validate({**body, "event_time": time})
        delta = to_delta([upsert], received)
        assert delta.nodes["Endpoint:default:e"].first_seen == dated
        key = ("Model:default:m", "Endpoint:default:e", EdgeType.ContributedTo)
        assert delta.edges[key].first_seen == delta.edges[key].last_seen == dated
        assert missing_edge_ends(delta) == {"Model:default:m"}


def test_a_pending_output_not_written_by_the_service_is_skipped() -> None:
    from mllineage.ingest.events import from_pending, pending_output

    kept = pending_output(EntityIn(kind=Kind.Model, name="m@1"))
    entity = from_pending(kept)
    assert entity is not None and entity.uid == "Model:default:m@1"
    for edited in ("not json", "[1, 2, 3]", '[{"kind": "Modle", "name": "m"}, null]', "null"):
        assert from_pending(edited) is None
