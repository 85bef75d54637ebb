"""OpenLineage -> native events (``openlineage.to_native``), without I/O.

Each expected native event is written out from the mapping table in docs/openlineage.md, not
computed by the code under test.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter

from mllineage.client.builders import entity, event
from mllineage.ingest.datasets import join_stored_datasets
from mllineage.ingest.events import to_delta
from mllineage.ingest.intake import to_write
from mllineage.ingest.openlineage import OpenLineageEvent, to_native
from mllineage.model.domain import PROCESS_KINDS, EdgeType, GraphUpsert, Kind, LineageEvent
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
            code={"type": "git", "url": "https://github.com/acme/features"},  # the job's facet
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
    assert [e.model_dump() for e in translated.inputs] == [e.model_dump() for e in expected.inputs]
    delta = to_write([translated])
    assert {edge_type for _, _, edge_type in delta.edges} == {EdgeType.ContributedTo}
    assert "Model:default:models/churn-xgb@4" not in delta.nodes
    run = delta.runs["0192f3a0-7c1e-7c1e-9a2b-000000000003"]
    assert not run.wrote and run.status == "FAIL"


def test_a_job_event_records_inputs_and_outputs_without_a_run() -> None:
    expected = event(
        entity("FeaturePipeline", "feature-jobs/orders_features",
               properties=named("feature-jobs", "orders_features")),
        [entity("DataSource", "s3://acme/raw/orders", properties=named("s3://acme", "raw/orders"))],
        [entity("DataSource", "feast/orders", properties=named("feast", "orders"))],
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
        [entity("DataSource", "s3://acme/raw/orders", namespace="prod",
                properties=named("s3://acme", "raw/orders"))],
        [entity("DataSource", "feast/orders", namespace="prod",
                properties=named("feast", "orders"))],
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
    # ML job types, whatever runs them
    ("FEATURE_PIPELINE", "SPARK", Kind.FeaturePipeline),
    ("FEATURE_ENGINEERING", None, Kind.FeaturePipeline),
    ("FEATURE_QUERY", None, Kind.FeatureQuery), ("FEATURE_RETRIEVAL", None, Kind.FeatureQuery),
    ("TRAINING", "SAGEMAKER", Kind.TrainingJob), ("TRAINING_JOB", None, Kind.TrainingJob),
    ("TRAIN", None, Kind.TrainingJob), ("ENDPOINT", None, Kind.Endpoint),
    ("SERVING", None, Kind.Endpoint), ("INFERENCE", None, Kind.Endpoint),
    ("PREDICTION", None, Kind.Endpoint),
    # a feature store's generic job types
    ("QUERY", "FEAST", Kind.FeatureQuery), ("RETRIEVAL", "TECTON", Kind.FeatureQuery),
    ("MATERIALIZATION", "FEAST", Kind.FeaturePipeline),
    # the same generic types from data tools are not feature work: the default kind
    ("QUERY", "HIVE", Kind.FeaturePipeline), ("QUERY", "FLINK", Kind.FeaturePipeline),
    ("QUERY", "SPARK", Kind.FeaturePipeline), ("QUERY", None, Kind.FeaturePipeline),
    ("MODEL", "DBT", Kind.FeaturePipeline), ("MATERIALIZATION", "DBT", Kind.FeaturePipeline),
    ("STREAMING_JOB", None, Kind.FeaturePipeline),
]  # fmt: skip


@pytest.mark.parametrize(("job_type", "integration", "kind"), JOB_TYPES)
def test_the_job_type_and_integration_name_the_process_kind(
    job_type: str, integration: str | None, kind: Kind
) -> None:
    fields = {"processingType": "BATCH", "jobType": job_type}
    if integration:
        fields["integration"] = integration
    body = run_event({"jobType": facet(**fields)})
    assert kinds(native(body))[0] is kind


def test_a_query_from_a_data_tool_makes_no_feature_groups() -> None:
    """Spark SQL, Hive or Flink queries read tables: their datasets stay data sources."""
    body = run_event(
        {"jobType": facet(processingType="STREAMING", integration="FLINK", jobType="QUERY")},
        [dataset("kafka://broker", "orders")],
        [dataset("hive://metastore", "db.orders_agg")],
    )
    assert kinds(native(body)) == (Kind.FeaturePipeline, [Kind.DataSource], [Kind.DataSource])


def test_our_facet_wins_over_the_job_type() -> None:
    body = run_event({"jobType": facet(jobType="TRAINING"), "mllineage": facet(kind="Endpoint")})
    assert kinds(native(body))[0] is Kind.Endpoint


@pytest.mark.parametrize("process", sorted(PROCESS_KINDS))
def test_a_dataset_kind_never_depends_on_the_process(process: Kind) -> None:
    """The identity rule: undeclared datasets are DataSource in any role, for any process."""
    body = run_event(
        {"mllineage": facet(kind=process.value)},
        [dataset("s3://acme", "in")],
        [dataset("s3://acme", "out")],
    )
    assert kinds(native(body)) == (process, [Kind.DataSource], [Kind.DataSource])


def test_a_dataset_declaring_its_kind_keeps_it() -> None:
    body = run_event(
        {"jobType": facet(jobType="TRAINING")},
        [dataset("models", "base@1", mllineage=facet(kind="Model"))],  # fine-tuning
        [dataset("models", "tuned@1")],
    )
    assert kinds(native(body)) == (Kind.TrainingJob, [Kind.Model], [Kind.DataSource])


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
    group, dataset_kind = facet(kind="FeatureGroup"), facet(kind="Dataset")
    body = run_event(
        {"jobType": facet(jobType="FEATURE_QUERY")},
        [dataset("feast", "g", schema=schema, mllineage=group)],
        [dataset("s3://acme", "set", schema=schema, mllineage=dataset_kind)],
    )
    translated = native(body)
    assert isinstance(translated, LineageEvent)
    assert translated.inputs[0].kind is Kind.FeatureGroup and translated.inputs[0].features is None
    assert translated.outputs[0].kind is Kind.Dataset and translated.outputs[0].features is None


@pytest.mark.parametrize("status", ["START", "RUNNING", "FAIL", "ABORT", "OTHER"])
def test_a_run_that_is_not_complete_records_its_status_and_inputs_only(status: str) -> None:
    body = run_event(
        {"jobType": facet(jobType="FEATURE_QUERY")},
        [dataset("feast", "g", mllineage=facet(kind="FeatureGroup"))],
        [dataset("s3://acme", "set")],
        event_type=status,
    )
    translated = native(body)
    assert isinstance(translated, LineageEvent) and translated.run is not None
    assert translated.run.status == status
    delta = to_write([translated])
    assert set(delta.edges) == {
        ("FeatureGroup:default:feast/g", "FeatureQuery:default:jobs/j", EdgeType.ContributedTo)
    }


def test_masked_owners_are_not_owners() -> None:
    """Airflow masks secrets as ***: the first owner that is not masked is the owner."""
    masked = facet(owners=[{"name": "***"}, {"name": "team-b"}])
    body = run_event({"ownership": masked}, outputs=[dataset("s", "t", ownership=masked)])
    translated = native(body)
    assert isinstance(translated, LineageEvent)
    assert (translated.process.owner, translated.outputs[0].owner) == ("team-b", "team-b")
    only_masked = run_event({"ownership": facet(owners=[{"name": "***"}])})
    assert native(only_masked).process.owner is None  # type: ignore[union-attr]


def test_events_without_a_schema_url_are_accepted() -> None:
    """Marquez accepts them, and several producers send none."""
    body = run_event()
    del body["schemaURL"]
    assert kinds(native(body))[0] is Kind.FeaturePipeline


# --- identity: one node per dataset, whatever its role and the order of events ----------------


def writer_and_reader(declared: str | None = None) -> list[dict[str, Any]]:
    """Job ``w`` writes ``wh/x`` (declaring ``declared``, if given); job ``r`` reads it."""
    kind = {"mllineage": facet(kind=declared)} if declared else {}
    writer = run_event(outputs=[dataset("wh", "x", **kind)])
    writer["job"]["name"] = "w"
    reader = run_event(inputs=[dataset("wh", "x")])
    reader["job"]["name"] = "r"
    reader["run"]["runId"] = "0192f3a0-7c1e-7c1e-9a2b-0000000000ff"
    return [writer, reader]


@pytest.mark.parametrize("declared", [None, "FeatureGroup"])
@pytest.mark.parametrize("order", [1, -1])
def test_a_written_then_read_dataset_is_one_node_in_one_request(
    declared: str | None, order: int
) -> None:
    events = [native(body) for body in writer_and_reader(declared)[::order]]
    delta = to_delta(events, received_at=datetime.now(UTC))
    uid = f"{declared or 'DataSource'}:default:wh/x"
    assert [n.uid for n in delta.nodes.values() if n.openlineage] == [uid]
    assert set(delta.edges) == {
        ("FeaturePipeline:default:jobs/w", uid, EdgeType.Produced),
        (uid, "FeaturePipeline:default:jobs/r", EdgeType.ContributedTo),
    }


def test_a_mention_without_a_kind_joins_the_stored_kind() -> None:
    reader = to_delta([native(writer_and_reader()[1])], received_at=datetime.now(UTC))
    joined, merges = join_stored_datasets(reader, {"FeatureGroup:default:wh/x"})
    assert merges == []
    assert set(joined.edges) == {
        ("FeatureGroup:default:wh/x", "FeaturePipeline:default:jobs/r", EdgeType.ContributedTo)
    }
    # already stored with the default kind (and a kind of an older version): stays there
    assert join_stored_datasets(reader, {"DataSource:default:wh/x", "Model:default:wh/x"}) == (
        reader,
        [],
    )


def test_a_declared_kind_takes_over_the_stored_nodes() -> None:
    writer = to_delta([native(writer_and_reader("Model")[0])], received_at=datetime.now(UTC))
    joined, merges = join_stored_datasets(writer, {"DataSource:default:wh/x"})
    assert joined is writer
    assert merges == [("DataSource:default:wh/x", "Model:default:wh/x")]


def test_column_lineage_into_a_feature_group() -> None:
    """Output fields become features keeping their source columns; the input feature
    group's fields they derive from are features that ContributedTo the job."""
    group = facet(kind="FeatureGroup")
    lineage = facet(
        fields={
            "age_bucket": {"inputFields": [{"namespace": "feast", "name": "customers",
                                            "field": "age"}]},
            "orders_30d": {"inputFields": [
                {"namespace": "pg", "name": "public.orders", "field": "id"},
                {"namespace": "pg", "name": "public.orders", "field": "created_at"},
            ]},
        }
    )  # fmt: skip
    body = run_event(
        {"jobType": facet(jobType="FEATURE_PIPELINE")},
        [dataset("feast", "customers", mllineage=group), dataset("pg", "public.orders")],
        [dataset("feast", "segments", mllineage=group, columnLineage=lineage,
                 schema=facet(fields=[{"name": "age_bucket", "type": "STRING"}]))],
    )  # fmt: skip
    translated = native(body)
    assert isinstance(translated, LineageEvent)
    features = {f.name: f for f in translated.outputs[0].features or []}
    assert features["age_bucket"].dtype == "STRING"
    assert features["age_bucket"].properties == {"source_columns": ["feast/customers.age"]}
    assert features["orders_30d"].properties == {
        "source_columns": ["pg/public.orders.created_at", "pg/public.orders.id"]
    }
    assert [f.name for f in translated.inputs[0].features or []] == ["age"]
    assert translated.inputs[1].features is None  # a data source has no features
    delta = to_write([translated])
    job = "FeaturePipeline:default:jobs/j"
    assert ("Feature:default:feast/customers.age", job, EdgeType.ContributedTo) in delta.edges
    assert delta.nodes["Feature:default:feast/segments.orders_30d"].props["source_columns"] == [
        "pg/public.orders.created_at",
        "pg/public.orders.id",
    ]


def test_column_lineage_into_a_data_source_makes_no_features() -> None:
    lineage = facet(fields={"a": {"inputFields": [{"namespace": "n", "name": "t", "field": "a"}]}})
    body = run_event(outputs=[dataset("n", "u", columnLineage=lineage)], inputs=[dataset("n", "t")])
    translated = native(body)
    assert isinstance(translated, LineageEvent)
    assert translated.outputs[0].features is None and translated.inputs[0].features is None
