"""The graph delta: the nodes, edges and runs a request writes, each named once (pure, no I/O).

Repeated mentions fold into one as they are added (the newer mention's values win, the times
widen), so the store writes each uid once and the result does not depend on how events were
batched; ``events`` builds a delta from events, ``store.writes`` writes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from mllineage.model.domain import (
    STATUS_RANK,
    DatasetKindOrigin,
    EdgeType,
    EntityIn,
    Kind,
    make_uid,
    parse_uid,
)
from mllineage.model.errors import InvalidInput


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
    """One run as the delta's events tell it (docs/runs.md): they merge in any order, the same
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


def combine(deltas: Iterable[GraphDelta]) -> GraphDelta:
    """One delta for several requests' deltas (group commit), as if they were one request;
    the store folds its datasets (``datasets.fold_datasets``) as it folds any delta's."""
    group = GraphDelta()
    for delta in deltas:
        group.absorb(delta)
    return group


def missing_edge_ends(delta: GraphDelta) -> set[str]:
    """Edge ends the delta does not create itself: these must exist in the graph already."""
    ends = {uid for key in delta.edges for uid in key[:2]}
    return ends - delta.nodes.keys()
