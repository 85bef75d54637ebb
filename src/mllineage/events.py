"""Translate lineage events and graph upserts into a graph delta (pure, no I/O).

A delta names each node and edge once: repeated mentions within a batch are folded here, so
the store writes each uid once and the result does not depend on how events were batched.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from mllineage.datasets import fold_datasets
from mllineage.domain import (
    RUN_MAPS,
    STATUS_RANK,
    DatasetKindOrigin,
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
    parse_uid,
)
from mllineage.errors import InvalidInput
from mllineage.properties import COMMON_PROPERTIES

# Statuses whose outputs exist: only a completed run Produced anything.
PRODUCING_STATUSES = frozenset({"COMPLETE"})


@dataclass
class NodeDelta:
    """One node to upsert. ``props`` are the user-facing properties from the newest mention."""

    uid: str
    kind: Kind
    namespace: str
    name: str
    first_seen: datetime
    last_seen: datetime
    props: dict[str, Any] = field(default_factory=dict)
    run: dict[str, Any] | None = None  # latest run, for process nodes
    # For an OpenLineage dataset: whether its kind was declared or is the default.
    openlineage: DatasetKindOrigin | None = None

    @property
    def dataset_key(self) -> tuple[str, str]:
        return self.namespace, self.name


@dataclass
class EdgeDelta:
    source: str
    target: str
    type: EdgeType
    first_seen: datetime
    last_seen: datetime
    producer: str


@dataclass
class RunDelta:
    """One run as the delta's events tell it (DESIGN §6): they merge in any order, the same
    way the store merges them with what it has (the runs part of WRITE, in
    ``store/queries/writes.py``)."""

    id: str
    process: str
    producer: str
    last_time: datetime  # the newest event's time: its values win
    status: str
    status_time: datetime
    started_at: datetime  # the earliest of the events' times and their started_at
    ended_at: datetime | None  # the latest end a terminal event or an ended_at told
    completed_at: datetime | None  # the earliest COMPLETE: from then on it wrote its outputs
    props: dict[str, Any]  # experiment, error, params.*, metrics.*, env.*, code.*
    times: dict[str, datetime]  # nominal times
    parent: str | None
    inputs: set[str] = field(default_factory=set)
    outputs: list[EntityIn] = field(default_factory=list)  # named by the delta's events
    wrote: set[str] = field(default_factory=set)  # uids of the outputs written, once completed
    written: bool = False  # whether ``outputs`` are in the delta as nodes (complete_runs)

    def add(self, other: RunDelta) -> None:
        if other.process != self.process:
            raise InvalidInput(reused_run_id(self.id, self.process, other.process))
        newer = other.last_time >= self.last_time
        self.props = {**self.props, **other.props} if newer else {**other.props, **self.props}
        self.times = {**self.times, **other.times} if newer else {**other.times, **self.times}
        if newer:
            self.last_time, self.producer = other.last_time, other.producer
            self.parent = other.parent or self.parent
        else:
            self.parent = self.parent or other.parent
        rank, other_rank = STATUS_RANK[self.status], STATUS_RANK[other.status]
        if (other_rank, other.status_time) >= (rank, self.status_time):
            self.status, self.status_time = other.status, other.status_time
        self.started_at = min(self.started_at, other.started_at)
        self.ended_at = max((t for t in (self.ended_at, other.ended_at) if t), default=None)
        self.completed_at = min(
            (t for t in (self.completed_at, other.completed_at) if t), default=None
        )
        self.inputs |= other.inputs
        self.outputs += other.outputs
        self.wrote |= other.wrote
        self.written = self.written and other.written  # else complete_runs adds the rest

    def copy(self) -> RunDelta:
        """A copy whose collections ``add`` may grow without touching this one's."""
        return replace(
            self,
            props=dict(self.props),
            times=dict(self.times),
            inputs=set(self.inputs),
            outputs=list(self.outputs),
            wrote=set(self.wrote),
        )


def reused_run_id(run_id: str, process: str, other: str) -> str:
    return (
        f"run.id {run_id!r} is a run of {process}, so it cannot be a run of {other}; "
        "a run id is unique in the service: send a new one (e.g. a UUID) for each run"
    )


EdgeKey = tuple[str, str, EdgeType]  # source, target, type


@dataclass
class GraphDelta:
    nodes: dict[str, NodeDelta] = field(default_factory=dict)
    edges: dict[EdgeKey, EdgeDelta] = field(default_factory=dict)
    runs: dict[str, RunDelta] = field(default_factory=dict)

    def add_run(self, run: RunDelta) -> None:
        if (same := self.runs.get(run.id)) is None:
            self.runs[run.id] = run
        else:
            same.add(run)

    def add_node(
        self,
        kind: Kind,
        namespace: str,
        name: str,
        at: datetime,
        props: dict[str, Any],
        run: dict[str, Any] | None = None,
        openlineage: DatasetKindOrigin | None = None,
    ) -> str:
        uid = make_uid(kind, namespace, name)
        node = self.nodes.get(uid)
        if node is None:
            self.nodes[uid] = NodeDelta(
                uid, kind, namespace, name, at, at, dict(props), run, openlineage
            )
            return uid
        if openlineage is not None and node.openlineage != "declared":
            node.openlineage = openlineage
        # Newer mentions win property by property; older ones only fill gaps.
        if at >= node.last_seen:
            node.props.update(props)
            node.last_seen = at
        else:
            node.props = {**props, **node.props}
        node.first_seen = min(node.first_seen, at)
        if run is not None and (
            node.run is None or run["run.event_time"] >= node.run["run.event_time"]
        ):
            node.run = run
        return uid

    def add_edge(
        self, source: str, target: str, edge_type: EdgeType, at: datetime, producer: str
    ) -> None:
        key = (source, target, edge_type)
        edge = self.edges.get(key)
        if edge is None:
            self.edges[key] = EdgeDelta(source, target, edge_type, at, at, producer)
            return
        edge.first_seen = min(edge.first_seen, at)
        if at >= edge.last_seen:
            edge.last_seen, edge.producer = at, producer

    def absorb(self, other: GraphDelta) -> None:
        """Fold ``other`` in, as if its events had come in the same request (group commit);
        ``other`` is left as it was. InvalidInput when the two tell a run of two processes."""
        for node in other.nodes.values():
            uid = self.add_node(
                node.kind,
                node.namespace,
                node.name,
                node.last_seen,
                node.props,
                node.run,
                node.openlineage,
            )
            self.nodes[uid].first_seen = min(self.nodes[uid].first_seen, node.first_seen)
        for (source, target, edge_type), edge in other.edges.items():
            self.add_edge(source, target, edge_type, edge.last_seen, edge.producer)
            mine = self.edges[(source, target, edge_type)]
            mine.first_seen = min(mine.first_seen, edge.first_seen)
        for run in other.runs.values():
            self.add_run(run.copy())

    def merged(self, renames: dict[str, str]) -> GraphDelta:
        """A copy with each node ``old`` of ``renames`` folded into node ``new`` (which must
        be in the delta too): the times widened, the newer mention's properties winning, edges
        moved. A HasFeature edge that would no longer start at a FeatureGroup is dropped."""
        nodes = dict(self.nodes)
        for old, new in renames.items():
            gone, kept = nodes.pop(old), nodes.get(new)
            if kept is None:  # joining a stored node: this mention takes its kind
                nodes[new] = replace(gone, uid=new, kind=parse_uid(new)[0])
                continue
            newer, older = (gone, kept) if gone.last_seen > kept.last_seen else (kept, gone)
            nodes[new] = replace(
                kept,
                first_seen=min(gone.first_seen, kept.first_seen),
                last_seen=newer.last_seen,
                props={**older.props, **newer.props},
            )
        edges: dict[EdgeKey, EdgeDelta] = {}
        for edge in self.edges.values():
            source = renames.get(edge.source, edge.source)
            target = renames.get(edge.target, edge.target)
            stays_valid = source not in nodes or nodes[source].kind is Kind.FeatureGroup
            if edge.type is EdgeType.HasFeature and not stays_valid:
                continue
            moved = replace(edge, source=source, target=target)
            if (key := (source, target, edge.type)) in edges:
                same = edges[key]
                moved.first_seen = min(moved.first_seen, same.first_seen)
                if same.last_seen > moved.last_seen:
                    moved.last_seen, moved.producer = same.last_seen, same.producer
            edges[key] = moved
        runs = {id_: replace(run) for id_, run in self.runs.items()}
        for run in runs.values():
            run.process = renames.get(run.process, run.process)
            run.inputs = {renames.get(uid, uid) for uid in run.inputs}
            run.wrote = {renames.get(uid, uid) for uid in run.wrote}
        return GraphDelta(nodes, edges, runs)


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


def combine(deltas: Iterable[GraphDelta]) -> GraphDelta:
    """One delta for several requests' deltas (group commit), as if they were one request."""
    group = GraphDelta()
    for delta in deltas:
        group.absorb(delta)
    return fold_datasets(group)


def events_to_delta(events: Iterable[LineageEvent]) -> GraphDelta:
    return to_delta(events, received_at=datetime.now(UTC))


def missing_edge_ends(delta: GraphDelta) -> set[str]:
    """Edge ends the delta does not create itself: these must exist in the graph already."""
    ends = {uid for key in delta.edges for uid in key[:2]}
    return ends - delta.nodes.keys()
