"""``mllineage sync feast``: a Feast repository's registry, read with Feast's SDK, as lineage.

Feast's emitter tells what an apply or a materialization did, but not which source each view
reads (its apply event wires every source to every view) and nothing of removals. The
registry knows both, so after each ``feast apply`` a team syncs it (docs/feast.md):

- each view (label and on-demand views too) becomes an event shaped like those of Feast's
  own ``emit_registry_lineage``: job ``feature_view_<view>``, its sources (for an on-demand
  view the views and request sources it reads) -> the view; each service its
  ``feature_service_<service>`` event, each source a dataset event, all with Feast's facets,
  so they go through the same mapping (``mllineage.ingest.feast``) as the emitter's events
  and land on the same nodes;
- inputs a view's pipeline or a service's query no longer reads are ended, and what the
  graph holds of the project and the registry no longer has is retired, at the time the
  sync noticed (never purged: ``as_of`` still shows it).

Each object's event is dated by the registry (its last update), so a second sync of an
unchanged registry writes nothing new, and a sync that stopped half-way is finished by the
next. See docs/architecture.md for how an integration reaches the intake.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mllineage import __version__
from mllineage.ingest import feast as mapping
from mllineage.ingest import intake
from mllineage.ingest.intake import Item
from mllineage.model.domain import Kind, LineageEvent, make_uid
from mllineage.settings import Settings

if TYPE_CHECKING:
    from mllineage.client import LineageClient

PRODUCER = f"https://github.com/mllineage/mllineage/sync-feast/{__version__}"
BATCH = 500  # events per request
RETIRED_BECAUSE = "removed from the Feast registry"
# The jobs the sync itself names, one per view and per service: the only jobs it retires.
OBJECT_JOBS = (mapping.VIEW_JOB_PREFIX, mapping.SERVICE_JOB_PREFIX)


class FeastError(RuntimeError):
    """Feast is not installed, or the repository cannot be read, or its lineage not sent."""


@dataclass
class SyncReport:
    """What a sync sent and retired, by what it was."""

    project: str
    objects: dict[str, int] = field(default_factory=dict)  # "feature views" -> count
    events: int = 0
    retired: list[str] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)  # "<source> -> <process>"


# Importing Feast sets these for the whole process (feast/metrics.py), which would switch a
# host's own Prometheus /metrics to multiprocess mode: import_feast undoes it.
PROMETHEUS_VARIABLES = ("PROMETHEUS_MULTIPROC_DIR", "PROMETHEUS_MULTIPROCESS_DIR")


def import_feast() -> Any:
    """Feast's SDK, imported without leaving its Prometheus settings in the environment."""
    before = {name: os.environ.get(name) for name in PROMETHEUS_VARIABLES}
    try:
        import feast
    except ModuleNotFoundError as exc:
        raise FeastError(
            f"`mllineage sync feast` reads the registry with Feast's SDK, which is not "
            f"installed (no {exc.name}): pip install 'mllineage[feast]'"
        ) from None
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return feast


def _registry(repo_path: str) -> _Registry:
    feast = import_feast()
    try:
        return _Registry(feast.FeatureStore(repo_path=repo_path))
    except Exception as exc:  # Feast raises many kinds: say which repository, and why
        raise FeastError(f"cannot read the Feast repository at {repo_path}: {exc}") from None


def _time(at: datetime | None) -> str:
    """A registry time (Feast's are naive UTC) as ISO 8601, never ahead of this clock."""
    now = datetime.now(UTC)
    if at is None:
        return now.isoformat()
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    return min(at, now).isoformat()


def _facet(**fields: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": "https://feast.dev/spec/facets/1-0-0", **fields}


def _schema(fields: Iterable[Any]) -> dict[str, Any]:
    return _facet(
        fields=[
            {"name": f.name, "type": str(f.dtype), "description": f.description or None}
            for f in fields
        ]
    )


def _absolute(path: str | None, repo_path: str) -> str | None:
    """A file source's path as Feast reads it: relative ones are the repository's."""
    if not path or "://" in path or os.path.isabs(path):
        return path
    return os.path.normpath(os.path.join(repo_path, path))


class _Registry:
    """One project's registry, and its objects as Feast-shaped OpenLineage events."""

    def __init__(self, store: Any) -> None:
        self.project: str = store.project
        self.repo_path = str(store.repo_path.resolve())
        self.views = {v.name: v for v in store.list_all_feature_views()}
        self.services = store.list_feature_services()
        self.sources = store.list_data_sources()
        self.entities = {e.name: e for e in store.list_entities()}

    def _job(self, name: str) -> dict[str, Any]:
        kind = _facet(kind="definition", feast_project=self.project)
        return {"namespace": self.project, "name": name, "facets": {mapping.JOB_FACET: kind}}

    def _source(self, source: Any) -> dict[str, Any]:
        facet = _facet(
            name=source.name,
            source_type=type(source).__name__,
            path=_absolute(getattr(source, "path", None), self.repo_path),
            table=getattr(source, "table", None) or None,
            timestamp_field=getattr(source, "timestamp_field", None) or None,
            description=getattr(source, "description", "") or "",
            owner=getattr(source, "owner", "") or "",
            tags=getattr(source, "tags", {}) or {},
        )
        return {
            "namespace": self.project,
            "name": source.name,
            "facets": {mapping.SOURCE_FACET: facet},
        }

    def _entity(self, name: str) -> dict[str, Any]:
        entity = self.entities.get(name)
        join_keys = [entity.join_key] if entity is not None else []
        facet = _facet(name=name, join_keys=join_keys)
        return {"namespace": self.project, "name": name, "facets": {mapping.ENTITY_FACET: facet}}

    def _view_dataset(self, view: Any) -> dict[str, Any]:
        ttl = getattr(view, "ttl", None)
        facet = _facet(
            name=view.name,
            features=[f.name for f in view.features],
            entities=list(view.entities or []),
            ttl_seconds=int(ttl.total_seconds()) if ttl else 0,
            online_enabled=bool(getattr(view, "online", False)),
            offline_enabled=bool(getattr(view, "offline", False)),
            description=view.description or "",
            owner=view.owner or "",
            tags=view.tags or {},
        )
        facets = {mapping.VIEW_FACET: facet, "schema": _schema(view.features)}
        return {"namespace": self.project, "name": view.name, "facets": facets}

    def _read(self, name: str, features: Iterable[Any]) -> dict[str, Any]:
        """A view as read by a service or an on-demand view: the features it reads."""
        return {"namespace": self.project, "name": name, "facets": {"schema": _schema(features)}}

    def _event(
        self, job: str, at: datetime | None, inputs: list[Any], outputs: list[Any]
    ) -> dict[str, Any]:
        return {
            "eventTime": _time(at),
            "producer": PRODUCER,
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent",
            "job": self._job(job),
            "inputs": inputs,
            "outputs": outputs,
        }

    def view_event(self, view: Any) -> dict[str, Any]:
        """``feature_view_<view>``: what the view reads -> the view."""
        inputs: list[dict[str, Any]] = []
        for attribute in ("batch_source", "stream_source"):
            source = getattr(view, attribute, None)
            if source is not None and source.name not in {i["name"] for i in inputs}:
                inputs.append(self._source(source))
        projections = getattr(view, "source_feature_view_projections", None) or {}
        inputs += [self._read(name, p.features) for name, p in projections.items()]
        for source in (getattr(view, "source_request_sources", None) or {}).values():
            inputs.append(self._source(source))
        inputs += [self._entity(name) for name in view.entities or () if name != mapping.NO_ENTITY]
        at = view.last_updated_timestamp or view.created_timestamp
        return self._event(
            f"{mapping.VIEW_JOB_PREFIX}{view.name}", at, inputs, [self._view_dataset(view)]
        )

    def service_event(self, service: Any) -> dict[str, Any]:
        """``feature_service_<service>``: the features it selects of each view -> the service."""
        inputs, count = [], 0
        for projection in service.feature_view_projections:
            view = self.views.get(projection.name)
            features = projection.features or (view.features if view is not None else [])
            count += len(features)
            inputs.append(self._read(projection.name, features))
        facet = _facet(
            name=service.name,
            feature_views=[p.name for p in service.feature_view_projections],
            feature_count=count,
            description=service.description or "",
            owner=service.owner or "",
            tags=service.tags or {},
        )
        output = {
            "namespace": self.project,
            "name": service.name,
            "facets": {mapping.SERVICE_FACET: facet},
        }
        at = service.last_updated_timestamp or service.created_timestamp
        return self._event(f"{mapping.SERVICE_JOB_PREFIX}{service.name}", at, inputs, [output])

    def source_event(self, source: Any) -> dict[str, Any]:
        return {
            "eventTime": _time(getattr(source, "last_updated_timestamp", None)),
            "producer": PRODUCER,
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
            "dataset": self._source(source),
        }

    def events(self) -> Iterator[dict[str, Any]]:
        yield from (self.source_event(s) for s in self.sources)
        yield from (self.view_event(v) for v in self.views.values())
        yield from (self.service_event(s) for s in self.services)


def _taken(events: list[dict[str, Any]]) -> list[list[Item]]:
    """Each event as the intake takes it, here, before anything is sent: an object the
    service would refuse stops the sync with its name."""
    settings = Settings()
    taken = []
    for event in events:
        try:
            taken.append(intake.take(event, settings, form="openlineage"))
        except intake.Rejected as exc:
            what = event.get("job", event.get("dataset", {})).get("name")
            raise FeastError(f"the registry's {what!r} cannot be sent: {exc}") from None
    return taken


def _uids(items: list[Item], project: str) -> set[str]:
    """The uids in the project's namespace that these items name."""
    uids = set()
    for item in items:
        nodes = (
            [item.process, *item.inputs, *item.outputs]
            if isinstance(item, LineageEvent)
            else item.nodes
        )
        for node in nodes:
            uids.add(node.uid)
            uids.update(
                make_uid(Kind.Feature, node.namespace, f"{node.name}.{f.name}")
                for f in node.features or ()
            )
    return {uid for uid in uids if uid.split(":", 2)[1] == project}


def _inputs(items: list[Item]) -> dict[str, set[str]]:
    """Each view's pipeline and each service's query -> the uids that feed it."""
    fed: dict[str, set[str]] = {}
    for item in items:
        if isinstance(item, LineageEvent) and item.process.name.startswith(OBJECT_JOBS):
            inputs = fed.setdefault(item.process.uid, set())
            for node in item.inputs:
                inputs.add(node.uid)
                inputs.update(
                    make_uid(Kind.Feature, node.namespace, f"{node.name}.{f.name}")
                    for f in node.features or ()
                )
    return fed


def _end_dropped_inputs(
    client: LineageClient, fed: dict[str, set[str]], now: str, report: SyncReport
) -> None:
    """A view that reads another source now, a service that no longer selects a feature:
    the edges the registry no longer has are ended."""
    for process, inputs in fed.items():
        graph = client.lineage_graph(process, direction="upstream", depth=1)
        dropped = [
            {"source": e["source"], "target": process, "type": e["type"]}
            for e in graph["edges"]
            if e["target"] == process and e["source"] not in inputs
        ]
        if dropped:
            client.end_edges(dropped, event_time=now)
            report.ended += [f"{e['source']} -> {process}" for e in dropped]


def _kept(row: dict[str, Any], project: str, wanted: set[str], groups: set[str]) -> bool:
    """Whether a live node of the project's namespace stays: the registry still has it, or
    it is not the registry's (no ``feast.project``, a project-wide job, a feature of a group
    that is not a Feast view's). ``groups``: the names of the stored Feast views."""
    properties = row.get("properties") or {}
    if row["uid"] in wanted:
        return True
    if row["kind"] == Kind.Feature:
        return properties.get("feature_group") not in groups
    if properties.get("feast.project") != project:
        return True
    if properties.get("feast.type") == "job":
        return not str(row["name"]).startswith(OBJECT_JOBS)
    if properties.get("feast.type") == "online_table":
        return (
            make_uid(Kind.FeatureGroup, project, properties.get("feast.feature_view", "")) in wanted
        )
    return False


def sync(client: LineageClient, repo_path: str) -> SyncReport:
    """Send the registry of the Feast repository at ``repo_path``, end the inputs its views
    and services no longer read, and retire what it no longer has. Raises FeastError when
    Feast is missing, the repository cannot be read, or the service refuses an object."""
    registry = _registry(repo_path)
    project = registry.project
    events = list(registry.events())
    taken = _taken(events)
    items = [item for event_items in taken for item in event_items]
    report = SyncReport(
        project=project,
        objects={
            "data sources": len(registry.sources),
            "feature views": len(registry.views),
            "feature services": len(registry.services),
            "features": sum(len(v.features) for v in registry.views.values()),
        },
        events=len(events),
    )
    for start in range(0, len(events), BATCH):
        answer = client.post_batch(events[start : start + BATCH], openlineage=True)
        if failed := answer.get("failed_events"):
            raise FeastError(
                f"the service refused {len(failed)} of the registry's events: {failed}"
            )
    wanted = _uids(items, project)
    now = datetime.now(UTC).isoformat()
    _end_dropped_inputs(client, _inputs(items), now, report)
    rows = list(client.iter_entities(namespace=project))
    groups = {
        row["name"]
        for row in rows
        if (row.get("properties") or {}).get("feast.type") == "feature_view"
    }
    for row in rows:
        if not _kept(row, project, wanted, groups):
            client.retire(row["uid"], reason=RETIRED_BECAUSE, event_time=now)
            report.retired.append(row["uid"])
    return report
