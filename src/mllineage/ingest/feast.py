"""Feast's OpenLineage events -> native items (pure, no I/O). The mapping, also in docs/feast.md.

Feast (``feast[openlineage]``) says what it knows in facets of its own and names its objects in
its project's namespace; it sends no ``jobType``. A Feast event is one whose job carries the
``feast_jobKind`` facet (``feast apply``, feature services, materialization, and per-view
jobs like those of ``emit_registry_lineage``, which ``mllineage sync feast`` sends):

- Feast's objects live in the namespace named after the Feast project (``feast_jobKind``'s
  ``feast_project``, else the last part of the job's namespace): a feature view is a
  ``FeatureGroup`` with one ``Feature`` per field; a feature service is a ``FeatureQuery``
  process (``feature_service_<name>``) that the features it selects ContributedTo and that
  Produced a ``Dataset`` named after the service, which training runs read; an online-store
  table is a ``Dataset``; entities are keys, kept on the views, never nodes;
- a data source whose location is known (a path, or a BigQuery table) is the
  OpenLineage dataset of that location in the OpenLineage namespace (``file`` + absolute path,
  ``s3://bucket`` + key, ``bigquery`` + ``project.dataset.table``), so it is the node that an
  upstream Spark, dbt or Airflow job wrote; a relative path is resolved against the project's
  repository (``MLLINEAGE_FEAST_REPO_PATHS``); other sources (push, request, streams) are
  ``DataSource`` nodes named after the Feast source;
- a view's owner is its ``owner``, else its ``team`` tag (a service's the same);
- the apply job (``feast_feature_views_<project>``) keeps its run and the views it wrote, but
  not its inputs: Feast lists every source and entity of the apply as an input of every view
  (Feast issue #6852), which is not lineage. The true source -> view edges come from the
  registry, as the ``feature_view_<view>`` jobs: source -ContributedTo-> that pipeline
  -Produced-> the view;
- definition jobs are facts (no run); transform jobs (materialization) are runs, the
  materialization window their nominal times.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from mllineage.ingest.datasets import location
from mllineage.ingest.openlineage import (
    DatasetEvent,
    JobEvent,
    OLDataset,
    RunEvent,
    dataset_entity,
    facet_of,
    nonempty_text,
    run_in,
    schema_features,
)
from mllineage.model.domain import (
    EntityIn,
    FeatureIn,
    GraphUpsert,
    Kind,
    LineageEvent,
    RunIn,
)

JOB_FACET = "feast_jobKind"
VIEW_FACET = "feast_featureView"
SERVICE_FACET = "feast_featureService"
SOURCE_FACET = "feast_dataSource"
ENTITY_FACET = "feast_entity"
ONLINE_FACET = "feast_onlineStore"
MATERIALIZATION_FACET = "feast_materialization"
APPLY_JOB_PREFIX = "feast_feature_views_"
SERVICE_JOB_PREFIX = "feature_service_"
VIEW_JOB_PREFIX = "feature_view_"
# Feast's placeholder entity of views without one (on-demand views).
NO_ENTITY = "__dummy"

Item = LineageEvent | GraphUpsert


def _names(facet: Mapping[str, Any], key: str) -> list[str]:
    """The non-empty strings a facet lists under ``key`` (nothing when it lists none)."""
    listed = facet.get(key)
    return [name for name in listed if nonempty_text(name)] if isinstance(listed, list) else []


def is_feast(event: RunEvent | JobEvent | DatasetEvent) -> bool:
    """An event of Feast's emitter (or of ``sync feast``): its job has ``feast_jobKind``, or,
    for a dataset event, the dataset has a Feast facet."""
    if isinstance(event, DatasetEvent):
        return any(name.startswith("feast_") for name in event.dataset.facets)
    return JOB_FACET in event.job.facets


def project_of(event: RunEvent | JobEvent | DatasetEvent) -> str:
    """The Feast project: the job's ``feast_jobKind`` or ``feast_project`` facet, the
    materialization's, else the last part of the namespace (Feast names it
    ``<configured>/<project>`` or ``<project>``)."""
    if isinstance(event, DatasetEvent):
        return event.dataset.namespace.rsplit("/", 1)[-1]
    facets = event.job.facets
    run_facets = event.run.facets if isinstance(event, RunEvent) else {}
    return (
        nonempty_text(facet_of(facets, JOB_FACET).get("feast_project"))
        or nonempty_text(facet_of(facets, "feast_project").get("project_name"))
        or nonempty_text(facet_of(run_facets, MATERIALIZATION_FACET).get("project"))
        or event.job.namespace.rsplit("/", 1)[-1]
    )


# --- where a data source is ---------------------------------------------------------------


def source_location(facet: Mapping[str, Any], repo_path: str | None) -> tuple[str, str] | None:
    """The OpenLineage (namespace, name) of a Feast data source's data, when the facet says
    where it is: a path (a URL, an absolute path, or one relative to ``repo_path``) or a
    BigQuery table. None when it does not (push, request and stream sources, a query, a
    warehouse table without its host)."""
    if path := nonempty_text(facet.get("path")):
        return location(path, repo_path)
    table = nonempty_text(facet.get("table"))
    if table and facet.get("source_type") == "BigQuerySource":
        return "bigquery", table.replace(":", ".")
    return None


# --- Feast objects as entities ------------------------------------------------------------


def _owner_and_tags(facet: Mapping[str, Any]) -> dict[str, Any]:
    """Owner: the object's ``owner``, else its ``team`` tag; tags as ``key=value``."""
    tags = facet_of(facet, "tags")
    fields: dict[str, Any] = {}
    owner = nonempty_text(facet.get("owner")) or nonempty_text(tags.get("team"))
    if owner:
        fields["owner"] = owner
    if tags:
        fields["tags"] = [f"{k}={v}"[:256] for k, v in sorted(tags.items()) if k][:100]
    if description := nonempty_text(facet.get("description")):
        fields["description"] = description
    return fields


def _features(dataset: OLDataset, fallback: list[str]) -> list[FeatureIn]:
    """The fields of the ``schema`` facet (type, description), else the names Feast lists."""
    features = schema_features(dataset)
    for name in fallback:
        features.setdefault(name, FeatureIn(name=name))
    return list(features.values())


def _view(
    dataset: OLDataset,
    project: str,
    facet: Mapping[str, Any],
    read: bool,
    join_keys: Mapping[str, list[str]],
) -> EntityIn:
    """A feature view: a FeatureGroup with its features (an input lists those it was read
    for), its entities and their join keys, ttl and online/offline kept as properties."""
    names = _names(facet, "features")
    entities = [e for e in _names(facet, "entities") if e != NO_ENTITY]
    keys = sorted({key for entity in entities for key in join_keys.get(entity, ())})
    properties: dict[str, Any] = {"feast": {"project": project, "type": "feature_view"}}
    if facet:
        properties["feast"] |= {
            "entities": entities or None,
            "join_keys": keys or None,
            "ttl_seconds": facet.get("ttl_seconds"),
            "online": facet.get("online_enabled"),
            "offline": facet.get("offline_enabled"),
        }
    properties["feast"] = {k: v for k, v in properties["feast"].items() if v is not None}
    return EntityIn(
        kind=Kind.FeatureGroup,
        namespace=project,
        name=dataset.name,
        properties=properties,
        features=_features(dataset, [] if read else names) or None,
        **_owner_and_tags(facet),
    )


def _service(dataset: OLDataset, project: str, facet: Mapping[str, Any]) -> EntityIn:
    """A feature service's dataset: what the features it selects become for a training run."""
    views = _names(facet, "feature_views")
    feast = {"project": project, "type": "feature_service", "feature_views": views or None}
    if isinstance(facet.get("feature_count"), int):
        feast["feature_count"] = facet["feature_count"]
    return EntityIn(
        kind=Kind.Dataset,
        namespace=project,
        name=dataset.name,
        properties={"feast": {k: v for k, v in feast.items() if v is not None}},
        **_owner_and_tags(facet),
    )


def _source(dataset: OLDataset, project: str, namespace: str, repo_path: str | None) -> EntityIn:
    """A data source: the OpenLineage dataset of its location (so it joins what wrote it),
    else a DataSource named after it in the project's namespace."""
    facet = facet_of(dataset.facets, SOURCE_FACET)
    feast = {
        "project": project,
        "type": "data_source",
        "source": dataset.name,
        "source_type": nonempty_text(facet.get("source_type")),
        "timestamp_field": nonempty_text(facet.get("timestamp_field")),
        "table": nonempty_text(facet.get("table")),
    }
    properties = {"feast": {k: v for k, v in feast.items() if v is not None}}
    location = source_location(facet, repo_path)
    if location is None:
        return EntityIn(
            kind=Kind.DataSource,
            namespace=project,
            name=dataset.name,
            properties=properties,
            **_owner_and_tags(facet),
        )
    physical = OLDataset(namespace=location[0], name=location[1])
    return dataset_entity(physical, namespace, output=False, properties=properties)


def _online_table(dataset: OLDataset, project: str) -> EntityIn:
    facet = facet_of(dataset.facets, ONLINE_FACET)
    feast = {
        "project": project,
        "type": "online_table",
        "feature_view": nonempty_text(facet.get("feature_view")),
        "store_type": nonempty_text(facet.get("store_type")),
        "uri": nonempty_text(facet_of(dataset.facets, "dataSource").get("uri")),
    }
    return EntityIn(
        kind=Kind.Dataset,
        namespace=project,
        name=dataset.name,
        properties={"feast": {k: v for k, v in feast.items() if v is not None}},
    )


class _Mapper:
    """One Feast event's datasets as entities, knowing the event's views and the job's facets
    (the per-view and per-service jobs of ``emit_registry_lineage`` put the view's or the
    service's facet on the job, not on its output)."""

    def __init__(
        self, event: RunEvent | JobEvent, project: str, namespace: str, repo_path: str | None
    ) -> None:
        self.event, self.project = event, project
        self.namespace, self.repo_path = namespace, repo_path
        job = event.job.facets
        self.job_view = facet_of(job, VIEW_FACET)
        self.job_service = facet_of(job, SERVICE_FACET)
        run = event.run.facets if isinstance(event, RunEvent) else {}
        self.views = {
            *_names(self.job_service, "feature_views"),
            *_names(facet_of(run, MATERIALIZATION_FACET), "feature_views"),
        }
        for dataset in (*event.inputs, *event.outputs):
            self.views.update(_names(facet_of(dataset.facets, SERVICE_FACET), "feature_views"))
            if VIEW_FACET in dataset.facets:
                self.views.add(dataset.name)
        if nonempty_text(self.job_view.get("name")):
            self.views.add(self.job_view["name"])
        self.join_keys = {
            d.name: _names(facet_of(d.facets, ENTITY_FACET), "join_keys") for d in event.inputs
        }

    def entity(self, dataset: OLDataset, output: bool) -> EntityIn | None:
        """The entity of one dataset; None for what is not lineage (an entity, a Feast object
        this mapping does not know)."""
        facets = dataset.facets
        if VIEW_FACET in facets or dataset.name == self.job_view.get("name"):
            facet = facet_of(facets, VIEW_FACET) or self.job_view
            return _view(dataset, self.project, facet, not output, self.join_keys)
        if SERVICE_FACET in facets or (output and dataset.name == self.job_service.get("name")):
            facet = facet_of(facets, SERVICE_FACET) or self.job_service
            return _service(dataset, self.project, facet)
        if SOURCE_FACET in facets:
            return _source(dataset, self.project, self.namespace, self.repo_path)
        if ONLINE_FACET in facets:
            return _online_table(dataset, self.project)
        if ENTITY_FACET in facets:
            return None  # an entity: a key, kept on its views
        if dataset.namespace != self.event.job.namespace:
            return dataset_entity(dataset, self.namespace, output=output)  # outside Feast
        if dataset.name in self.views or "schema" in facets:  # a view, as a job reads it
            return _view(dataset, self.project, {}, not output, self.join_keys)
        return None  # a Feast object that is not lineage

    def entities(self, datasets: list[OLDataset], output: bool) -> list[EntityIn]:
        return [e for d in datasets if (e := self.entity(d, output)) is not None]


def _utc(value: Any) -> Any:
    """A window bound as Feast sends it: from its Python API a naive time, which Feast means
    as UTC (its ``make_tzaware``); anything else is left for the run's validation."""
    if isinstance(value, str) and value:
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            return value
        return (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat()
    return None


def _materialization_times(event: RunEvent) -> dict[str, Any]:
    facet = facet_of(event.run.facets, MATERIALIZATION_FACET)
    return {
        "nominal_start_time": _utc(facet.get("start_date")),
        "nominal_end_time": _utc(facet.get("end_date")),
    }


def to_native(
    event: RunEvent | JobEvent | DatasetEvent,
    *,
    namespace: str,
    repo_paths: Mapping[str, str],
) -> list[Item]:
    """A Feast event's items (see the module's docstring); raises pydantic's ValidationError
    on what cannot be stored."""
    project = project_of(event)
    repo_path = repo_paths.get(project)
    if isinstance(event, DatasetEvent):
        if SOURCE_FACET not in event.dataset.facets:
            return []  # an entity, or a Feast object that is not lineage
        node = _source(event.dataset, project, namespace, repo_path)
        return [GraphUpsert(event_time=event.eventTime, producer=event.producer, nodes=[node])]
    mapper = _Mapper(event, project, namespace, repo_path)
    name = event.job.name
    apply = name.startswith(APPLY_JOB_PREFIX)
    serves = name.startswith(SERVICE_JOB_PREFIX) or bool(mapper.job_service)
    kind = nonempty_text(facet_of(event.job.facets, JOB_FACET).get("kind"))
    keeps_run = isinstance(event, RunEvent) and (apply or kind != "definition")
    inputs = mapper.entities(event.inputs, output=False)
    outputs = mapper.entities(event.outputs, output=True)
    owner = next((o.owner for o in outputs if serves and o.owner), None)
    process = EntityIn(
        kind=Kind.FeatureQuery if serves else Kind.FeaturePipeline,
        namespace=project,
        name=name,
        owner=owner,  # a service's query is its owner's
        properties={"feast": {"project": project, "type": "job"}},
    )
    run = None
    if keeps_run:
        assert isinstance(event, RunEvent)
        times = _materialization_times(event) if kind == "transform" else {}
        times = {key: value for key, value in times.items() if value}
        run = RunIn.model_validate(run_in(event).model_dump(exclude_none=True) | times)
    items: list[Item] = [
        LineageEvent(
            event_time=event.eventTime,
            producer=event.producer,
            process=process,
            run=run,
            inputs=[] if apply else inputs,
            outputs=outputs,
        )
    ]
    if apply and inputs:  # the sources are known; which view reads which, the registry says
        items.append(GraphUpsert(event_time=event.eventTime, producer=event.producer, nodes=inputs))
    return items
