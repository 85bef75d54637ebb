"""Feast's own events (tests/fixtures/feast: what Feast 0.67's emitter sent for its `feast
init` template) through the intake: every expectation is read off the events' Feast facets,
never off our mapping."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mllineage.ingest import intake
from mllineage.ingest.delta import GraphDelta
from mllineage.ingest.feast import source_location
from mllineage.model.domain import EdgeType
from mllineage.settings import Settings

TEMPLATE = Path(__file__).parents[1] / "fixtures" / "feast" / "template"
EVENTS = {path.name.split("-", 1)[1]: json.loads(path.read_text()) for path in TEMPLATE.iterdir()}
APPLY = EVENTS["feast_feature_views_driver_repo.complete.json"]
MATERIALIZE = [EVENTS[f"materialize_driver_repo.{t}.json"] for t in ("start", "complete")]
SERVICES = [e for name, e in EVENTS.items() if name.startswith("feature_service_")]
REPO = "/srv/feature_repo"
SETTINGS = Settings(feast_repo_paths={"driver_repo": REPO})


def delta_of(*events: dict[str, Any], settings: Settings = SETTINGS) -> GraphDelta:
    return intake.to_write([item for e in events for item in intake.take(e, settings)])


def edges(delta: GraphDelta, type_: EdgeType) -> set[tuple[str, str]]:
    return {(s, t) for s, t, kind in delta.edges if kind is type_}


def facets(dataset: dict[str, Any], name: str) -> dict[str, Any]:
    facet: dict[str, Any] = dataset["facets"][name]
    return facet


def test_a_view_is_a_feature_group_with_its_features_and_its_owner() -> None:
    delta = delta_of(APPLY)
    views = [d for d in APPLY["outputs"] if "feast_featureView" in d["facets"]]
    assert views, "the fixture has views"
    for view in views:
        facet = facets(view, "feast_featureView")
        group = f"FeatureGroup:driver_repo:{view['name']}"
        node = delta.nodes[group]
        assert node.props.get("owner") == (facet["owner"] or facet["tags"].get("team"))
        assert node.props["feast.ttl_seconds"] == facet["ttl_seconds"]
        features = {t for s, t in edges(delta, EdgeType.HasFeature) if s == group}
        assert features == {f"Feature:driver_repo:{view['name']}.{f}" for f in facet["features"]}
        for field in facets(view, "schema")["fields"]:
            feature = delta.nodes[f"Feature:driver_repo:{view['name']}.{field['name']}"]
            assert feature.props["dtype"] == field["type"]
    assert not any(uid.startswith("DataSource:") and "driver_hourly" in uid for uid in delta.nodes)


def test_the_apply_jobs_all_to_all_inputs_are_not_lineage() -> None:
    delta = delta_of(APPLY)
    job = "FeaturePipeline:driver_repo:feast_feature_views_driver_repo"
    assert not [s for s, t in edges(delta, EdgeType.ContributedTo) if t == job]
    assert {t for s, t in edges(delta, EdgeType.Produced) if s == job} == {
        f"FeatureGroup:driver_repo:{d['name']}" for d in APPLY["outputs"]
    }
    assert list(delta.runs) == [APPLY["run"]["runId"]]
    # The sources are known (the registry says which view reads which), the entities are keys.
    sources = [d for d in APPLY["inputs"] if "feast_dataSource" in d["facets"]]
    file_source = next(d for d in sources if facets(d, "feast_dataSource").get("path"))
    path = facets(file_source, "feast_dataSource")["path"]
    assert f"DataSource:default:file/{REPO}/{path}" in delta.nodes
    for entity in (d for d in APPLY["inputs"] if "feast_entity" in d["facets"]):
        assert not [uid for uid in delta.nodes if uid.endswith(f":{entity['name']}")]
    view = delta.nodes["FeatureGroup:driver_repo:driver_hourly_stats"]
    assert view.props["feast.join_keys"] == ["driver_id"]


def test_a_service_is_read_feature_by_feature() -> None:
    delta = delta_of(*SERVICES)
    for event in SERVICES:
        [output] = event["outputs"]
        query = f"FeatureQuery:driver_repo:{event['job']['name']}"
        assert (query, f"Dataset:driver_repo:{output['name']}") in edges(delta, EdgeType.Produced)
        read = {
            f"Feature:driver_repo:{view['name']}.{field['name']}"
            for view in event["inputs"]
            for field in facets(view, "schema")["fields"]
        }
        fed = {s for s, t in edges(delta, EdgeType.ContributedTo) if t == query}
        assert {s for s in fed if s.startswith("Feature:")} == read
        facet = facets(output, "feast_featureService")
        assert set(delta.nodes[f"Dataset:driver_repo:{output['name']}"].props[
            "feast.feature_views"]) == set(facet["feature_views"])  # fmt: skip
    assert not delta.runs  # definitions are facts, not runs
    v1 = "FeatureQuery:driver_repo:feature_service_driver_activity_v1"
    assert ("Feature:driver_repo:driver_hourly_stats.acc_rate", v1) not in edges(
        delta, EdgeType.ContributedTo
    )


def test_a_materialization_is_a_run_over_its_window_into_the_online_tables() -> None:
    delta = delta_of(*MATERIALIZE)
    [run] = delta.runs.values()
    facet = MATERIALIZE[0]["run"]["facets"]["feast_materialization"]
    assert run.times["nominal_end_time"].isoformat() == facet["end_date"]
    assert run.status == "COMPLETE"
    tables = {
        f"Dataset:driver_repo:{d['name']}"
        for d in MATERIALIZE[0]["outputs"]
        if "feast_onlineStore" in d["facets"]
    }
    assert tables and run.wrote == tables
    assert {f"FeatureGroup:driver_repo:{v}" for v in facet["feature_views"]} <= run.inputs


def test_a_source_is_the_dataset_its_upstream_job_wrote() -> None:
    """A Spark job's output (OpenLineage naming: `file` + the absolute path) and the Feast
    source that reads it, by a path relative to the repository, are one node."""
    spark = {
        "eventType": "COMPLETE",
        "eventTime": "2026-12-01T10:00:00Z",
        "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.24.0/integration/spark",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": "0193a1b2-0000-7000-8000-000000000001"},
        "job": {"namespace": "spark", "name": "driver_stats_daily"},
        "outputs": [{"namespace": "file", "name": f"{REPO}/data/driver_stats.parquet"}],
    }
    delta = delta_of(spark, *MATERIALIZE)
    source = f"DataSource:default:file/{REPO}/data/driver_stats.parquet"
    assert ("FeaturePipeline:default:spark/driver_stats_daily", source) in edges(
        delta, EdgeType.Produced
    )
    assert delta.runs[MATERIALIZE[0]["run"]["runId"]].inputs >= {source}
    # Without the repository's path the relative source cannot be placed: it keeps its name.
    alone = delta_of(*MATERIALIZE, settings=Settings())
    assert "DataSource:driver_repo:driver_hourly_stats_source" in alone.nodes


@pytest.mark.parametrize(
    ("facet", "where"),
    [
        ({"path": "s3://acme-lake/raw/trips.parquet"}, ("s3://acme-lake", "raw/trips.parquet")),
        ({"path": "gs://bucket/a/b"}, ("gs://bucket", "a/b")),
        ({"path": "file:///data/x.parquet"}, ("file", "/data/x.parquet")),
        ({"path": "/data/../data/x.parquet"}, ("file", "/data/x.parquet")),
        ({"path": "data/x.parquet"}, ("file", "/repo/data/x.parquet")),
        (
            {"table": "acme:lake.trips", "source_type": "BigQuerySource"},
            ("bigquery", "acme.lake.trips"),
        ),
        ({"table": "LAKE.PUBLIC.TRIPS", "source_type": "SnowflakeSource"}, None),
        ({"source_type": "PushSource"}, None),
    ],
)
def test_where_a_source_is(facet: dict[str, Any], where: tuple[str, str] | None) -> None:
    assert source_location(facet, "/repo") == where


def test_what_feast_says_that_is_not_lineage_is_ignored() -> None:
    entity = {
        "eventTime": "2026-12-01T10:00:00Z",
        "producer": "feast",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
        "dataset": {
            "namespace": "driver_repo",
            "name": "driver",
            "facets": {"feast_entity": {"name": "driver", "join_keys": ["driver_id"]}},
        },
    }
    assert intake.take(entity, SETTINGS) == []
    odd = json.loads(json.dumps(APPLY))
    odd["job"]["facets"]["feast_somethingNew"] = {"x": [1, {"y": None}]}
    odd["outputs"][0]["facets"]["feast_featureView"]["tags"] = None
    odd["outputs"].append({"namespace": "driver_repo", "name": "saved_dataset_x", "facets": {}})
    assert delta_of(odd).nodes.keys() == delta_of(APPLY).nodes.keys()
