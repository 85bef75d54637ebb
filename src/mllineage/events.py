"""Translate lineage events and graph upserts into a graph delta (pure, no I/O).

A delta names each node and edge once: repeated mentions within a batch are folded here, so
the store writes each uid once and the result does not depend on how events were batched.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mllineage.domain import (
    COMMON_PROPERTIES,
    EdgeType,
    EntityIn,
    FeatureIn,
    GraphUpsert,
    Kind,
    LineageEvent,
    RunIn,
    make_uid,
)

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


@dataclass
class EdgeDelta:
    source: str
    target: str
    type: EdgeType
    first_seen: datetime
    last_seen: datetime
    producer: str


@dataclass
class GraphDelta:
    nodes: dict[str, NodeDelta] = field(default_factory=dict)
    edges: dict[tuple[str, str, EdgeType], EdgeDelta] = field(default_factory=dict)

    def add_node(
        self,
        kind: Kind,
        namespace: str,
        name: str,
        at: datetime,
        props: dict[str, Any],
        run: dict[str, Any] | None = None,
    ) -> str:
        uid = make_uid(kind, namespace, name)
        node = self.nodes.get(uid)
        if node is None:
            self.nodes[uid] = NodeDelta(uid, kind, namespace, name, at, at, dict(props), run)
            return uid
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
    uid = delta.add_node(entity.kind, entity.namespace, entity.name, at, entity_properties(entity))
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
# so they are never temporal). Reads return these as ISO strings; see store/queries.py.
TIME_PROPERTIES = (
    "created_at",
    "updated_at",
    "run.event_time",
    "run.started_at",
    "run.ended_at",
    "run.nominal_start_time",
    "run.nominal_end_time",
)


def run_properties(run: RunIn, at: datetime) -> dict[str, Any]:
    """The latest-run properties of a process node, all under the reserved ``run.`` prefix.

    Parameters and metrics are kept as JSON text: they are free-form maps, and keeping them
    whole means a newer run replaces an older one exactly, with no stale keys left behind.
    """
    return {
        "run.event_time": at,
        "run.id": run.id,
        "run.status": run.status,
        "run.started_at": run.started_at,
        "run.ended_at": run.ended_at,
        "run.nominal_start_time": run.nominal_start_time,
        "run.nominal_end_time": run.nominal_end_time,
        "run.parent_run_id": run.parent_run_id,
        "run.parent_job": run.parent_job,
        "run.error_message": run.error_message,
        "run.parameters": json.dumps(run.parameters, sort_keys=True, default=str),
        "run.metrics": json.dumps(run.metrics, sort_keys=True, default=str),
    }


def add_event(delta: GraphDelta, event: LineageEvent) -> None:
    at, producer = event.event_time, event.producer
    process = event.process
    process_uid = delta.add_node(
        process.kind,
        process.namespace,
        process.name,
        at,
        entity_properties(process),
        run_properties(event.run, at) if event.run else None,
    )
    for entity in event.inputs:
        # A process that lists the features it read of a group read exactly those, so each
        # one ContributedTo it too: that is what makes "models using a feature" work.
        uid, feature_uids = _add_entity(delta, entity, at, producer)
        for source in (uid, *feature_uids):
            delta.add_edge(source, process_uid, EdgeType.ContributedTo, at, producer)
    if event.run is None or event.run.status in PRODUCING_STATUSES:
        for entity in event.outputs:
            uid, _ = _add_entity(delta, entity, at, producer)
            delta.add_edge(process_uid, uid, EdgeType.Produced, at, producer)


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
    return delta


def events_to_delta(events: Iterable[LineageEvent]) -> GraphDelta:
    delta = GraphDelta()
    for event in events:
        add_event(delta, event)
    return delta


def missing_edge_ends(delta: GraphDelta) -> set[str]:
    """Edge ends the delta does not create itself: these must exist in the graph already."""
    ends = {uid for key in delta.edges for uid in key[:2]}
    return ends - delta.nodes.keys()
