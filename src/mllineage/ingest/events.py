"""Translate lineage events and graph upserts into a graph delta (``delta``; pure, no I/O):
each event's nodes, edges and run, and a run's outputs once it has completed."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mllineage.ingest.datasets import fold_datasets
from mllineage.ingest.delta import GraphDelta, RunDelta, reused_run_id
from mllineage.model.domain import (
    RUN_MAPS,
    STATUS_RANK,
    EdgeType,
    EntityIn,
    FeatureIn,
    GraphUpsert,
    Kind,
    LineageEvent,
    OpenLineageEntity,
    RunIn,
    make_uid,
    openlineage_kind,
)
from mllineage.model.errors import InvalidInput
from mllineage.model.properties import COMMON_PROPERTIES

# Statuses whose outputs exist: only a completed run Produced anything.
PRODUCING_STATUSES = frozenset({"COMPLETE"})


def entity_properties(entity: EntityIn | FeatureIn) -> dict[str, Any]:
    """The stored properties of an entity: its user properties plus the common optional ones."""
    props = dict(entity.properties)
    for key in COMMON_PROPERTIES:
        value = getattr(entity, key)
        if value is not None:
            props[key] = value
    if isinstance(entity, FeatureIn) and entity.dtype is not None:
        props["dtype"] = entity.dtype
    return props


def _add_entity(
    delta: GraphDelta, entity: EntityIn, at: datetime, producer: str
) -> tuple[str, list[str]]:
    """Add an entity and its listed features; returns its uid and the features' uids."""
    uid = delta.add_node(
        entity.kind,
        entity.namespace,
        entity.name,
        at,
        entity_properties(entity),
        openlineage=openlineage_kind(entity),
    )
    feature_uids = []
    for feature in entity.features or ():
        feature_uid = delta.add_node(
            Kind.Feature,
            entity.namespace,
            f"{entity.name}.{feature.name}",
            at,
            {"feature_group": entity.name, **entity_properties(feature)},
        )
        delta.add_edge(uid, feature_uid, EdgeType.HasFeature, at, producer)
        feature_uids.append(feature_uid)
    return uid, feature_uids


# Every temporal property the service writes on a node (users' properties come from JSON,
# so they are never temporal). Reads return these as ISO strings; see store/queries/common.py.
TIME_PROPERTIES = (
    "created_at",
    "updated_at",
    "run.event_time",
    "run.started_at",
    "run.ended_at",
    "run.nominal_start_time",
    "run.nominal_end_time",
)


def run_properties(run: RunIn, run_id: str, at: datetime) -> dict[str, Any]:
    """The latest-run properties of a process node, all under the reserved ``run.`` prefix.

    Parameters and metrics are kept as JSON text: they are free-form maps, and keeping them
    whole means a newer run replaces an older one exactly, with no stale keys left behind.
    """
    return {
        "run.event_time": at,
        "run.id": run_id,
        "run.status": run.status,
        "run.started_at": run.started_at,
        "run.ended_at": run.ended_at,
        "run.nominal_start_time": run.nominal_start_time,
        "run.nominal_end_time": run.nominal_end_time,
        "run.parent_run_id": run.parent_run_id,
        "run.parent_job": run.parent_job,
        "run.error_message": run.error_message,
        "run.parameters": json.dumps(run.params, sort_keys=True, default=str),
        "run.metrics": json.dumps(run.metrics, sort_keys=True, default=str),
    }


def run_delta(event: LineageEvent, process_uid: str) -> RunDelta:
    """The run one event tells of (its inputs and outputs are added by ``add_event``)."""
    assert event.run is not None
    run, at = event.run, event.event_time
    props: dict[str, Any] = {
        f"{name}.{key}": value for name in RUN_MAPS for key, value in getattr(run, name).items()
    }
    for key in ("experiment", "error_message", "parent_job"):
        if (value := getattr(run, key)) is not None:
            props[key] = value
    times = {k: v for k, v in run.times().items() if k.startswith("nominal_")}
    terminal = STATUS_RANK[run.status] == STATUS_RANK["COMPLETE"]
    ended = [t for t in (run.ended_at, at if terminal else None) if t]
    return RunDelta(
        id=run.run_id(process_uid, at),
        process=process_uid,
        producer=event.producer,
        last_time=at,
        status=run.status,
        status_time=at,
        started_at=min(t for t in (run.started_at, at) if t),
        ended_at=max(ended, default=None),
        completed_at=at if run.status in PRODUCING_STATUSES else None,
        props=props,
        times=times,
        parent=run.parent_run_id,
    )


def add_event(delta: GraphDelta, event: LineageEvent) -> None:
    """An event's nodes and edges, and its run. A run's outputs join the graph when it has
    completed, whichever of its events named them (``complete_runs``)."""
    at, producer = event.event_time, event.producer
    process = event.process
    process_uid = make_uid(process.kind, process.namespace, process.name)
    run = run_delta(event, process_uid) if event.run else None
    delta.add_node(
        process.kind,
        process.namespace,
        process.name,
        at,
        entity_properties(process),
        run_properties(event.run, run.id, at) if event.run and run else None,
    )
    for entity in event.inputs:
        # A process that lists the features it read of a group read exactly those, so each
        # one ContributedTo it too: that is what makes "models using a feature" work.
        uid, feature_uids = _add_entity(delta, entity, at, producer)
        for source in (uid, *feature_uids):
            delta.add_edge(source, process_uid, EdgeType.ContributedTo, at, producer)
            if run:
                run.inputs.add(source)
    for entity in event.outputs:
        if run:
            run.outputs.append(entity)
        else:
            uid, _ = _add_entity(delta, entity, at, producer)
            delta.add_edge(process_uid, uid, EdgeType.Produced, at, producer)
    if run:
        delta.add_run(run)


def pending_output(entity: EntityIn) -> str:
    """How a run that has not completed keeps an output it named: the entity as JSON (and
    how an OpenLineage dataset got its kind), to join the graph when the run completes."""
    return json.dumps(
        [entity.model_dump(mode="json", exclude_defaults=True), openlineage_kind(entity)],
        sort_keys=True,
    )


def from_pending(text: str) -> EntityIn | None:
    """The entity ``pending_output`` kept; None for a value it did not write (one edited by
    hand in Neo4j Browser, say), which must not break a later write or read."""
    try:
        fields, origin = json.loads(text)
        if origin in ("declared", "default"):
            return OpenLineageEntity.model_validate({**fields, "openlineage_kind": origin})
        return EntityIn.model_validate(fields)
    except (TypeError, ValueError):  # pydantic's ValidationError is a ValueError
        return None


@dataclass(frozen=True)
class StoredRun:
    """What the store holds of a run that the delta's merge needs."""

    process: str | None  # None for a parent named by a child before its own events came
    completed_at: datetime | None
    pending: tuple[str, ...]  # outputs named while it had not completed (``pending_output``)


def complete_runs(delta: GraphDelta, stored: dict[str, StoredRun]) -> None:
    """Each completed run (in the delta or the store) wrote every output any of its events
    named: the outputs join the delta with Produced edges from the process (Wrote edges from
    the run follow ``wrote``). InvalidInput when a run id is another process's run. Applying
    it again, with what the store holds, adds only what that brings."""
    for run in delta.runs.values():
        was = stored.get(run.id)
        if was and was.process is not None and was.process != run.process:
            raise InvalidInput(reused_run_id(run.id, was.process, run.process))
        completed_at = min(
            (t for t in (run.completed_at, was and was.completed_at) if t), default=None
        )
        if completed_at is None:
            continue
        outputs = [] if run.written else list(run.outputs)
        outputs += [e for text in (was.pending if was else ()) if (e := from_pending(text))]
        for entity in outputs:  # written when it completed, whenever the event came
            uid, _ = _add_entity(delta, entity, completed_at, run.producer)
            delta.add_edge(run.process, uid, EdgeType.Produced, completed_at, run.producer)
            run.wrote.add(uid)
        run.written = True


def add_upsert(delta: GraphDelta, upsert: GraphUpsert, received_at: datetime) -> None:
    """Edge ends not among the upsert's nodes must already exist (the store checks)."""
    at = upsert.event_time or received_at
    for entity in upsert.nodes:
        _add_entity(delta, entity, at, upsert.producer)
    for edge in upsert.edges:
        delta.add_edge(edge.source, edge.target, edge.type, at, upsert.producer)


def to_delta(items: Iterable[LineageEvent | GraphUpsert], received_at: datetime) -> GraphDelta:
    """One delta for a request's events and upserts, so they land in one transaction."""
    delta = GraphDelta()
    for item in items:
        if isinstance(item, LineageEvent):
            add_event(delta, item)
        else:
            add_upsert(delta, item, received_at)
    complete_runs(delta, {})
    return fold_datasets(delta)
