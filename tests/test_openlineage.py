"""OpenLineage -> native events (``openlineage.to_native``), without I/O.

Each expected native event is written out from the mapping table in the README ("Point your
OpenLineage integration here"), not computed by the code under test.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

from mllineage.builders import entity, event
from mllineage.domain import EdgeType, GraphUpsert, Kind, LineageEvent
from mllineage.events import events_to_delta
from mllineage.openlineage import OpenLineageEvent, to_native
from tests.helpers import openlineage_fixture

SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"


def native(body: dict[str, Any], **options: Any) -> LineageEvent | GraphUpsert:
    return to_native(TypeAdapter(OpenLineageEvent).validate_python(body), **options)


def assert_native(body: dict[str, Any], expected: dict[str, Any], **options: Any) -> None:
    """``body`` translates to the native event (or graph upsert) ``expected``."""
    actual = native(body, **options)
    model = LineageEvent if "process" in expected else GraphUpsert
    assert actual.model_dump(mode="json") == model.model_validate(expected).model_dump(mode="json")


def named(namespace: str, name: str) -> dict[str, str]:
    """The properties keeping an OpenLineage job's or dataset's original names."""
    return {"openlineage.namespace": namespace, "openlineage.name": name}


def facet(**fields: Any) -> dict[str, Any]:
    return {"_producer": "https://example.com/p", "_schemaURL": "https://example.com/s", **fields}


def dataset(namespace: str, name: str, **facets: dict[str, Any]) -> dict[str, Any]:
    return {"namespace": namespace, "name": name, "facets": facets}


def run_event(
    job_facets: dict[str, Any] | None = None,
    inputs: list[dict[str, Any]] | None = None,
    outputs: list[dict[str, Any]] | None = None,
    event_type: str = "COMPLETE",
) -> dict[str, Any]:
    """A RunEvent of job ``jobs/j``, run ``r1``, with what the test varies."""
    return {
        "eventType": event_type,
        "eventTime": "2026-11-02T10:00:00Z",
        "producer": "https://example.com/p",
        "schemaURL": SCHEMA_URL,
        "run": {"runId": "r1"},
        "job": {"namespace": "jobs", "name": "j", "facets": job_facets or {}},
        "inputs": inputs or [],
        "outputs": outputs or [],
    }


def kinds(translated: LineageEvent | GraphUpsert) -> tuple[Kind, list[Kind], list[Kind]]:
    assert isinstance(translated, LineageEvent)
    return (
        translated.process.kind,
        [e.kind for e in translated.inputs],
        [e.kind for e in translated.outputs],
    )


# --- the corpus of fixtures -----------------------------------------------------------------


def test_a_feature_pipeline_run_with_its_facets() -> None:
    """jobType, ownership, documentation, schema on the output, run facets; the rest ignored."""
    assert_native(
        openlineage_fixture("pipeline_complete"),
        event(
            entity(
                "FeaturePipeline", "feature-jobs/customer_features", "team-growth",
                properties=named("feature-jobs", "customer_features"),
            ),
            # The input's schema describes the table, not what was read: no features.
            [entity("DataSource", "s3://acme/raw/customers",
                    properties=named("s3://acme", "raw/customers"))],
            [
                entity(
                    "FeatureGroup", "feast/customers", "team-growth",
                    description="Customer features",
                    properties=named("feast", "customers"),
                    features=[
                        {"name": "age", "dtype": "INT", "description": "years"},
                        {"name": "tenure", "dtype": "INT"},
                    ],
                )
            ],
            time="2026-11-02T10:05:00Z",
            run_id="0192f3a0-7c1e-7c1e-9a2b-3c4d5e6f7a8b",
            producer="https://github.com/OpenLineage/OpenLineage/tree/1.54.0/integration/spark",
            nominal_start_time="2026-11-02T10:00:00Z",
            nominal_end_time="2026-11-02T11:00:00Z",
            parent_job="airflow/daily_features",
            parent_run_id="0192f3a0-0000-7000-8000-000000000001",
        ),
    )  # fmt: skip


def test_a_query_reads_feature_groups_and_writes_a_dataset() -> None:
    assert_native(
        openlineage_fixture("query_complete"),
        event(
            entity("FeatureQuery", "feature-jobs/churn_training_set",
                   properties=named("feature-jobs", "churn_training_set")),
            [entity("FeatureGroup", "feast/customers", properties=named("feast", "customers"))],
            [entity("Dataset", "s3://acme/datasets/churn/2026-11-02",
                    properties=named("s3://acme", "datasets/churn/2026-11-02"))],
            time="2026-11-02T12:00:00Z",
            run_id="0192f3a0-7c1e-7c1e-9a2b-000000000002",
            producer="https://example.com/feature-store",
        ),
    )  # fmt: skip


def test_declared_kinds_win_over_the_process_defaults() -> None:
    assert_native(
        openlineage_fixture("endpoint_declared_kinds"),
        event(
            entity("Endpoint", "serving/churn-prod", properties=named("serving", "churn-prod")),
            [
                entity("Model", "models/churn-xgb@3", properties=named("models", "churn-xgb@3")),
                entity("FeatureGroup", "feast/customers", properties=named("feast", "customers")),
            ],
            [entity("DataSource", "s3://acme/logs/churn-predictions",
                    properties=named("s3://acme", "logs/churn-predictions"))],
            time="2026-11-02T14:00:00Z",
            run_id="0192f3a0-7c1e-7c1e-9a2b-000000000004",
            producer="https://example.com/serving",
        ),
    )  # fmt: skip


def test_a_failed_training_keeps_its_error_and_produces_nothing() -> None:
    translated = native(openlineage_fixture("training_fail"))
    assert isinstance(translated, LineageEvent)
    expected = LineageEvent.model_validate(
        event(
            entity("TrainingJob", "ml/churn_train", properties=named("ml", "churn_train")),
            [entity("Dataset", "s3://acme/datasets/churn/2026-11-02",
                    properties=named("s3://acme", "datasets/churn/2026-11-02"))],
            [],
            time="2026-11-02T13:00:00Z",
            run_id="0192f3a0-7c1e-7c1e-9a2b-000000000003",
            producer="https://example.com/trainer",
            status="FAIL",
            error_message="CUDA out of memory",
        )
    )  # fmt: skip
    assert translated.process == expected.process
    assert translated.run == expected.run
    assert translated.inputs == expected.inputs
    delta = events_to_delta([translated])
    assert {edge_type for _, _, edge_type in delta.edges} == {EdgeType.ContributedTo}
    assert "Model:default:models/churn-xgb@4" not in delta.nodes


def test_a_job_event_records_inputs_and_outputs_without_a_run() -> None:
    expected = event(
        entity("FeaturePipeline", "feature-jobs/orders_features",
               properties=named("feature-jobs", "orders_features")),
        [entity("DataSource", "s3://acme/raw/orders", properties=named("s3://acme", "raw/orders"))],
        [entity("FeatureGroup", "feast/orders", properties=named("feast", "orders"))],
        time="2026-11-01T00:00:00Z",
        run_id="unused",
        producer="https://example.com/catalog",
    )  # fmt: skip
    del expected["run"]
    assert_native(openlineage_fixture("job_event"), expected)


def test_a_dataset_event_is_the_dataset_alone() -> None:
    assert_native(
        openlineage_fixture("dataset_event"),
        {
            "event_time": "2026-11-01T00:00:00Z",
            "producer": "https://example.com/catalog",
            "nodes": [
                entity("DataSource", "s3://acme/raw/payments", "team-risk",
                       properties=named("s3://acme", "raw/payments"))
            ],
            "edges": [],
        },
    )  # fmt: skip


def test_the_namespace_and_default_process_kind_are_settings() -> None:
    expected = event(
        entity("TrainingJob", "feature-jobs/orders_features", namespace="prod",
               properties=named("feature-jobs", "orders_features")),
        [entity("Dataset", "s3://acme/raw/orders", namespace="prod",
                properties=named("s3://acme", "raw/orders"))],
        [entity("Model", "feast/orders", namespace="prod", properties=named("feast", "orders"))],
        time="2026-11-01T00:00:00Z",
        run_id="unused",
        producer="https://example.com/catalog",
    )  # fmt: skip
    del expected["run"]
    assert_native(
        openlineage_fixture("job_event"),
        expected,
        namespace="prod",
        default_process=Kind.TrainingJob,
    )


# --- the mapping table, row by row ----------------------------------------------------------

JOB_TYPES = [
    ("FEATURE_PIPELINE", Kind.FeaturePipeline), ("FEATURE_ENGINEERING", Kind.FeaturePipeline),
    ("MATERIALIZATION", Kind.FeaturePipeline), ("FEATURE_QUERY", Kind.FeatureQuery),
    ("QUERY", Kind.FeatureQuery), ("RETRIEVAL", Kind.FeatureQuery),
    ("TRAINING", Kind.TrainingJob), ("TRAINING_JOB", Kind.TrainingJob),
    ("TRAIN", Kind.TrainingJob), ("ENDPOINT", Kind.Endpoint), ("SERVING", Kind.Endpoint),
    ("INFERENCE", Kind.Endpoint), ("PREDICTION", Kind.Endpoint),
    ("STREAMING_JOB", Kind.FeaturePipeline),  # not in the list: the default kind
]  # fmt: skip


@pytest.mark.parametrize(("job_type", "kind"), JOB_TYPES)
def test_the_job_type_names_the_process_kind(job_type: str, kind: Kind) -> None:
    body = run_event({"jobType": facet(processingType="BATCH", jobType=job_type)})
    assert kinds(native(body))[0] is kind


def test_our_facet_wins_over_the_job_type() -> None:
    body = run_event({"jobType": facet(jobType="TRAINING"), "mllineage": facet(kind="Endpoint")})
    assert kinds(native(body))[0] is Kind.Endpoint


@pytest.mark.parametrize(
    ("process", "input_kind", "output_kind"),
    [
        (Kind.FeaturePipeline, Kind.DataSource, Kind.FeatureGroup),
        (Kind.FeatureQuery, Kind.FeatureGroup, Kind.Dataset),
        (Kind.TrainingJob, Kind.Dataset, Kind.Model),
        (Kind.Endpoint, Kind.Model, Kind.DataSource),
    ],
)
def test_dataset_kinds_follow_the_process(
    process: Kind, input_kind: Kind, output_kind: Kind
) -> None:
    body = run_event(
        {"mllineage": facet(kind=process.value)},
        [dataset("s3://acme", "in")],
        [dataset("s3://acme", "out")],
    )
    assert kinds(native(body)) == (process, [input_kind], [output_kind])


def test_a_dataset_declaring_its_kind_keeps_it() -> None:
    body = run_event(
        {"jobType": facet(jobType="TRAINING")},
        [dataset("models", "base@1", mllineage=facet(kind="Model"))],  # fine-tuning
        [dataset("models", "tuned@1")],
    )
    assert kinds(native(body)) == (Kind.TrainingJob, [Kind.Model], [Kind.Model])


def test_the_first_owner_is_the_owner_and_documentation_the_description() -> None:
    owners = facet(owners=[{"name": "team-a", "type": "TEAM"}, {"name": "team-b"}])
    body = run_event(
        {"ownership": owners, "documentation": facet(description="builds features")},
        outputs=[dataset("feast", "g", ownership=owners, documentation=facet(description="g"))],
    )
    translated = native(body)
    assert isinstance(translated, LineageEvent)
    assert translated.process.owner == "team-a"
    assert translated.process.description == "builds features"
    assert (translated.outputs[0].owner, translated.outputs[0].description) == ("team-a", "g")


def test_only_a_feature_group_output_takes_its_schema_as_features() -> None:
    """On an input the schema describes the table, not the features that were read."""
    schema = facet(fields=[{"name": "age", "type": "INT"}])
    body = run_event(
        {"jobType": facet(jobType="QUERY")},
        [dataset("feast", "g", schema=schema)],
        [dataset("s3://acme", "set", schema=schema)],
    )
    translated = native(body)
    assert isinstance(translated, LineageEvent)
    assert translated.inputs[0].kind is Kind.FeatureGroup and translated.inputs[0].features is None
    assert translated.outputs[0].kind is Kind.Dataset and translated.outputs[0].features is None


@pytest.mark.parametrize("status", ["START", "RUNNING", "FAIL", "ABORT", "OTHER"])
def test_a_run_that_is_not_complete_records_its_status_and_inputs_only(status: str) -> None:
    body = run_event(
        {"jobType": facet(jobType="QUERY")},
        [dataset("feast", "g")],
        [dataset("s3://acme", "set")],
        event_type=status,
    )
    translated = native(body)
    assert isinstance(translated, LineageEvent) and translated.run is not None
    assert translated.run.status == status
    delta = events_to_delta([translated])
    assert set(delta.edges) == {
        ("FeatureGroup:default:feast/g", "FeatureQuery:default:jobs/j", EdgeType.ContributedTo)
    }
