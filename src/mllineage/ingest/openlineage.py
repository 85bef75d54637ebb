"""OpenLineage events (spec 2-0-x) -> native lineage events and graph upserts (pure, no I/O).

Only the fields the spec requires are enforced (``schemaURL`` excepted, as Marquez does);
unknown facets and fields are ignored. The mapping, also in docs/openlineage.md:

- a job ``(namespace, name)`` is a process named ``<namespace>/<name>``; its kind comes from
  our ``mllineage`` facet (``{"kind": ...}``), else the ``jobType`` facet (``process_kind``:
  ML job types, or a feature store's generic ones), else the configured default;
- a dataset is an artifact named ``<namespace>/<name>`` (its usual URI form), the originals
  kept as ``openlineage.namespace`` and ``openlineage.name``. **Identity**: a dataset is one
  node whatever role it plays and whatever the order of its events. Its kind never depends on
  its role: our ``mllineage`` facet declares it, else it is ``DEFAULT_DATASET_KIND``
  (DataSource). A dataset's mentions meet on one node even when only some declare the kind:
  a declared kind takes over the node (the newest declaration wins), and a mention without
  one joins whatever kind the dataset already has (``datasets.fold_datasets`` within a
  request, ``datasets.join_stored_datasets`` against the graph);
- ``ownership`` -> owner (the first owner's name that is not masked as ``***``),
  ``documentation`` -> description, a ``schema`` facet on a feature-group output -> its
  features;
- ``columnLineage`` on a feature-group output: each output field is a feature keeping its
  ``source_columns`` (``<namespace>/<name>.<field>``); the input fields of a declared
  feature-group input are its features that ContributedTo the job;
- a run is a run (docs/runs.md): facets ``nominalTime``, ``errorMessage``, ``parent`` (its
  parent run), ``processing_engine`` and ``environmentVariables`` (-> ``env``), the job's
  ``sourceCodeLocation`` (-> ``code``), and our ``mllineage`` run facet:
  ``{"experiment": ..., "params": {...}, "metrics": {...}, "env": {...}, "code": {...}}``;
- a run's events merge in any order; its outputs, named by any of them, are written (Produced)
  once it has COMPLETEd; a JobEvent records the job's inputs and outputs; a DatasetEvent the
  dataset alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag

from mllineage.model.domain import (
    ARTIFACT_KINDS,
    DEFAULT_NAMESPACE,
    MAX_ENTITIES_PER_EVENT,
    PROCESS_KINDS,
    EntityIn,
    FeatureIn,
    GraphUpsert,
    Kind,
    LineageEvent,
    OpenLineageEntity,
    RunIn,
    Timestamp,
)
from mllineage.model.properties import MAX_LIST_LENGTH

# jobType.jobType values that are ML work whatever tool runs them.
ML_JOB_TYPES: dict[str, Kind] = {
    **dict.fromkeys(
        ("FEATURE_PIPELINE", "FEATURE_ENGINEERING", "FEATURE_MATERIALIZATION"),
        Kind.FeaturePipeline,
    ),
    **dict.fromkeys(("FEATURE_QUERY", "FEATURE_RETRIEVAL"), Kind.FeatureQuery),
    **dict.fromkeys(("TRAINING", "TRAINING_JOB", "TRAIN", "FINE_TUNING"), Kind.TrainingJob),
    **dict.fromkeys(("ENDPOINT", "SERVING", "INFERENCE", "PREDICTION"), Kind.Endpoint),
}
# jobType.integration values that are feature stores: there a generic jobType is feature work.
FEATURE_STORES = frozenset(
    {"FEAST", "TECTON", "HOPSWORKS", "FEATHR", "FEATUREFORM", "FEATURE_STORE"}
)
FEATURE_STORE_JOB_TYPES: dict[str, Kind] = {
    **dict.fromkeys(("QUERY", "RETRIEVAL", "GET_HISTORICAL_FEATURES"), Kind.FeatureQuery),
    **dict.fromkeys(("MATERIALIZATION", "MATERIALIZE", "INGESTION", "JOB"), Kind.FeaturePipeline),
    **dict.fromkeys(("GET_ONLINE_FEATURES", "ONLINE_SERVING"), Kind.Endpoint),
}
# An OpenLineage dataset whose kind is not declared: one fixed kind, never its role.
DEFAULT_DATASET_KIND = Kind.DataSource
OUR_FACET = "mllineage"


class _Open(BaseModel):
    """Spec objects: required fields enforced, anything else allowed and ignored."""

    model_config = ConfigDict(extra="allow")


def facet_of(facets: Mapping[str, Any], name: str) -> dict[str, Any]:
    """One facet (or any object's member) that is an object; else an empty one."""
    value = facets.get(name)
    return value if isinstance(value, dict) else {}


def _declares_one_of(allowed: frozenset[Kind]) -> Any:
    """A kind declared in our facet must be one we know: a typo must not become the default."""

    def check(facets: dict[str, Any]) -> dict[str, Any]:
        kind = facet_of(facets, OUR_FACET).get("kind")
        if kind is not None and not (isinstance(kind, str) and kind in allowed):
            raise ValueError(
                f"the {OUR_FACET} facet's kind {str(kind)[:100]!r} is not one of "
                f"{', '.join(sorted(allowed))}"
            )
        return facets

    return AfterValidator(check)


class OLDataset(_Open):
    namespace: str = Field(min_length=1)
    name: str = Field(min_length=1)
    facets: Annotated[dict[str, Any], _declares_one_of(ARTIFACT_KINDS)] = Field(
        default_factory=dict
    )


class OLJob(_Open):
    namespace: str = Field(min_length=1)
    name: str = Field(min_length=1)
    facets: Annotated[dict[str, Any], _declares_one_of(PROCESS_KINDS)] = Field(default_factory=dict)


class OLRun(_Open):
    runId: str = Field(min_length=1)
    facets: dict[str, Any] = Field(default_factory=dict)


class _Event(_Open):
    eventTime: Timestamp
    producer: str = Field(min_length=1)
    # Required by the spec, but Marquez and several producers go without: accepted, unused.
    schemaURL: str | None = None


Datasets = Annotated[list[OLDataset], Field(max_length=MAX_ENTITIES_PER_EVENT)]


class RunEvent(_Event):
    eventType: Literal["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"] = "OTHER"
    run: OLRun
    job: OLJob
    inputs: Datasets = Field(default_factory=list)
    outputs: Datasets = Field(default_factory=list)


class JobEvent(_Event):
    job: OLJob
    inputs: Datasets = Field(default_factory=list)
    outputs: Datasets = Field(default_factory=list)


class DatasetEvent(_Event):
    dataset: OLDataset


def _event_type(value: Any) -> str:
    if isinstance(value, dict):
        return "run" if "run" in value else "dataset" if "dataset" in value else "job"
    return "run"


OpenLineageEvent = Annotated[
    Annotated[RunEvent, Tag("run")]
    | Annotated[JobEvent, Tag("job")]
    | Annotated[DatasetEvent, Tag("dataset")],
    Discriminator(_event_type),
]


def nonempty_text(value: Any) -> str | None:
    """A string that is not empty; else None."""
    return value if isinstance(value, str) and value else None


def _masked(value: str) -> bool:
    """Airflow masks secrets as ``***``: such a value is not one."""
    return set(value) == {"*"}


def _owner(facets: dict[str, Any]) -> str | None:
    """The first owner's name that is not masked."""
    owners = facet_of(facets, "ownership").get("owners")
    for owner in owners if isinstance(owners, list) else ():
        name = nonempty_text(owner.get("name")) if isinstance(owner, dict) else None
        if name and not _masked(name):
            return name
    return None


def _common(facets: dict[str, Any]) -> dict[str, Any]:
    common = {
        "owner": _owner(facets),
        "description": nonempty_text(facet_of(facets, "documentation").get("description")),
    }
    return {key: value for key, value in common.items() if value is not None}


def _declared_kind(facets: dict[str, Any]) -> Kind | None:
    """The kind our facet declares (the models checked it is a known one), if any."""
    kind = facet_of(facets, OUR_FACET).get("kind")
    return Kind(kind) if kind is not None else None


def process_kind(job: OLJob, default: Kind) -> Kind:
    """Our facet's kind; else an ML jobType (any integration), or a feature store's generic
    one; else ``default``. A QUERY from Spark, Hive, Flink or dbt is a data pipeline's step,
    not a feature query. (processingType, batch or streaming, does not change the kind.)"""
    if declared := _declared_kind(job.facets):
        return declared
    facet = facet_of(job.facets, "jobType")
    job_type = str(facet.get("jobType") or "").upper()
    if job_type in ML_JOB_TYPES:
        return ML_JOB_TYPES[job_type]
    if str(facet.get("integration") or "").upper() in FEATURE_STORES:
        return FEATURE_STORE_JOB_TYPES.get(job_type, default)
    return default


def _column_lineage(dataset: OLDataset) -> dict[str, set[tuple[str, str, str]]]:
    """The ``columnLineage`` facet: each output field -> its source columns, each as
    (namespace, name, field) of the dataset it comes from."""
    fields = facet_of(dataset.facets, "columnLineage").get("fields")
    lineage: dict[str, set[tuple[str, str, str]]] = {}
    for field, spec in (fields if isinstance(fields, dict) else {}).items():
        inputs = spec.get("inputFields") if isinstance(spec, dict) else None
        sources = {
            (column["namespace"], column["name"], column["field"])
            for column in (inputs if isinstance(inputs, list) else ())
            if isinstance(column, dict)
            and all(nonempty_text(column.get(key)) for key in ("namespace", "name", "field"))
        }
        if nonempty_text(field) and sources:
            lineage[field] = sources
    return lineage


def schema_features(dataset: OLDataset) -> dict[str, FeatureIn]:
    """The fields of the dataset's ``schema`` facet, by name, with their type and description."""
    fields = facet_of(dataset.facets, "schema").get("fields")
    return {
        field["name"]: FeatureIn(
            name=field["name"],
            dtype=nonempty_text(field.get("type")),
            description=nonempty_text(field.get("description")),
        )
        for field in (fields if isinstance(fields, list) else ())
        if isinstance(field, dict) and nonempty_text(field.get("name"))
    }


def _features(dataset: OLDataset) -> list[FeatureIn]:
    """A feature-group output's features: its ``schema`` fields and the fields its column
    lineage names, each with the ``source_columns`` it derives from, each named
    ``<namespace>/<name>.<field>`` (a feature's own naming, so a column of a feature group is
    that feature's name)."""
    lineage = {
        field: sorted(f"{namespace}/{name}.{column}" for namespace, name, column in sources)
        for field, sources in _column_lineage(dataset).items()
    }
    features = schema_features(dataset)
    for name, sources in lineage.items():
        feature = features.setdefault(name, FeatureIn(name=name))
        feature.properties = {"source_columns": sources[:MAX_LIST_LENGTH]}
    return list(features.values())


def dataset_entity(
    dataset: OLDataset,
    namespace: str,
    output: bool,
    read: Iterable[str] = (),
    properties: dict[str, Any] | None = None,
) -> EntityIn:
    """The artifact of a dataset: its declared kind, else ``DEFAULT_DATASET_KIND``. A
    feature-group output lists its features; a feature-group input lists the features
    ``read`` (the columns the outputs' column lineage names), so each ContributedTo the job.
    ``properties`` are added to the dataset's own."""
    declared = _declared_kind(dataset.facets)
    kind = declared or DEFAULT_DATASET_KIND
    features = None
    if kind is Kind.FeatureGroup and output:
        features = _features(dataset) or None
    elif kind is Kind.FeatureGroup and (read := sorted(read)):
        features = [FeatureIn(name=field) for field in read]
    return OpenLineageEntity(
        kind=kind,
        namespace=namespace,
        name=f"{dataset.namespace}/{dataset.name}",
        properties={
            "openlineage": {"namespace": dataset.namespace, "name": dataset.name},
            **(properties or {}),
        },
        features=features,
        openlineage_kind="declared" if declared else "default",
        **_common(dataset.facets),
    )


def _columns_read(outputs: list[OLDataset]) -> dict[tuple[str, str], set[str]]:
    """(namespace, name) of each input -> its fields that feature-group outputs derive from."""
    read: dict[tuple[str, str], set[str]] = {}
    for output in outputs:
        if _declared_kind(output.facets) is Kind.FeatureGroup:
            for sources in _column_lineage(output).values():
                for namespace, name, column in sources:
                    read.setdefault((namespace, name), set()).add(column)
    return read


def _texts(facet: dict[str, Any], keys: dict[str, str]) -> dict[str, str]:
    """The facet's string values under ``keys`` (facet key -> our key)."""
    return {
        ours: text for theirs, ours in keys.items() if (text := nonempty_text(facet.get(theirs)))
    }


_ENGINE = {"name": "engine", "version": "engine_version", "openlineageAdapterVersion": "adapter"}
_CODE = {
    "type": "type", "url": "url", "repoUrl": "repo_url", "path": "path", "version": "commit",
    "tag": "tag", "branch": "branch",
}  # fmt: skip
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,100}$")


def _environment(facets: dict[str, Any]) -> dict[str, Any]:
    """``processing_engine`` and ``environmentVariables`` (masked values left out)."""
    env: dict[str, Any] = _texts(facet_of(facets, "processing_engine"), _ENGINE)
    variables = facet_of(facets, "environmentVariables").get("environmentVariables")
    for variable in variables if isinstance(variables, list) else ():
        name = variable.get("name") if isinstance(variable, dict) else None
        value = nonempty_text(variable.get("value")) if isinstance(variable, dict) else None
        if isinstance(name, str) and _ENV_NAME.match(name) and value and not _masked(value):
            env[f"vars.{name}"] = value
    return env


def run_in(event: RunEvent) -> RunIn:
    """The run facets, the job's ``sourceCodeLocation`` as ``code``, and our facet's
    ``params``, ``metrics``, ``experiment``, ``env`` and ``code`` (which win)."""
    facets = event.run.facets
    nominal = facet_of(facets, "nominalTime")
    parent = facet_of(facets, "parent")
    parent_job = facet_of(parent, "job")
    ours = facet_of(facets, OUR_FACET)
    # Our facet's maps are checked as RunIn's (a map that is not one is a 422, not dropped).
    env, code = ours.get("env", {}), ours.get("code", {})
    if isinstance(env, dict):
        env = {**_environment(facets), **env}
    if isinstance(code, dict):
        code = {**_texts(facet_of(event.job.facets, "sourceCodeLocation"), _CODE), **code}
    return RunIn(
        id=event.run.runId,
        status=event.eventType,
        nominal_start_time=nominal.get("nominalStartTime"),
        nominal_end_time=nominal.get("nominalEndTime"),
        error_message=nonempty_text(facet_of(facets, "errorMessage").get("message")),
        parent_run_id=nonempty_text(facet_of(parent, "run").get("runId")),
        parent_job=f"{parent_job.get('namespace')}/{parent_job.get('name')}"
        if parent_job
        else None,
        experiment=ours.get("experiment"),
        params=ours.get("params", {}),
        metrics=ours.get("metrics", {}),
        env=env,
        code=code,
    )


def to_native(
    event: RunEvent | JobEvent | DatasetEvent,
    *,
    namespace: str = DEFAULT_NAMESPACE,
    default_process: Kind = Kind.FeaturePipeline,
) -> LineageEvent | GraphUpsert:
    """Translate one OpenLineage event; raises pydantic's ValidationError on unusable input."""
    if isinstance(event, DatasetEvent):
        return GraphUpsert(
            event_time=event.eventTime,
            producer=event.producer,
            nodes=[dataset_entity(event.dataset, namespace, output=True)],
        )
    kind = process_kind(event.job, default_process)
    read = _columns_read(event.outputs)
    process = EntityIn(
        kind=kind,
        namespace=namespace,
        name=f"{event.job.namespace}/{event.job.name}",
        properties={"openlineage": {"namespace": event.job.namespace, "name": event.job.name}},
        **_common(event.job.facets),
    )
    return LineageEvent(
        event_time=event.eventTime,
        producer=event.producer,
        process=process,
        run=run_in(event) if isinstance(event, RunEvent) else None,
        inputs=[
            dataset_entity(d, namespace, output=False, read=read.get((d.namespace, d.name), ()))
            for d in event.inputs
        ],
        outputs=[dataset_entity(d, namespace, output=True) for d in event.outputs],
    )
