"""What the service answers: pydantic models of entities, walks, impact and write summaries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from mllineage.model.domain import EdgeType, Kind


class WriteSummary(BaseModel):
    """What a write touched, and how much of it was new."""

    nodes: int
    edges: int
    nodes_created: int
    edges_created: int


class EntityOut(BaseModel):
    uid: str
    kind: Kind
    namespace: str
    name: str
    owner: str | None = None
    description: str | None = None
    tags: list[str] | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    run: dict[str, Any] | None = Field(
        default=None, description="The latest run of a process (by event time)"
    )
    deprecated: bool = Field(default=False, description="Still live, but discouraged")
    deprecated_at: datetime | None = None
    deprecation_reason: str | None = None
    replaced_by: str | None = Field(default=None, description="uid of its successor")
    retired_at: datetime | None = Field(
        default=None, description="Set while retired: out of the live graph since then"
    )
    retirement_reason: str | None = None


class Neighbour(BaseModel):
    uid: str
    kind: Kind
    name: str
    type: EdgeType


class EntityDetail(EntityOut):
    upstream: list[Neighbour]
    downstream: list[Neighbour]


class EntityPage(BaseModel):
    items: list[EntityOut]
    next_cursor: str | None


class LineageNode(EntityOut):
    depth: int = Field(description="Hops from the root along the walk (the shortest distance)")


class LineageEdge(BaseModel):
    source: str
    target: str
    type: EdgeType
    ended_at: datetime | None = Field(
        default=None, description="Set while ended (only returned with include_retired)"
    )


class LineageGraph(BaseModel):
    """A walk from ``root``: the nodes reached (root excluded) and the edges among them."""

    root: LineageNode
    nodes: list[LineageNode]
    edges: list[LineageEdge]
    truncated: bool = Field(description="True when `limit` cut the answer")


class ImpactItem(BaseModel):
    uid: str
    kind: Kind
    namespace: str
    name: str
    owner: str | None
    depth: int
    path: list[str] = Field(description="uids of one shortest path from the root to this node")
    live: bool = Field(
        default=True, description="A live endpoint, or upstream of one: it serves now"
    )
    deprecated: bool = False
    replaced_by: str | None = None
    retired: bool = Field(default=False, description="Retired (only with include_retired)")
    retired_at: datetime | None = Field(
        default=None, description="When its current retirement began (only with include_retired)"
    )


class ImpactReport(BaseModel):
    """The downstream blast radius of changing or retiring ``root``."""

    root: EntityOut
    total: int = Field(description="Downstream entities reached (root excluded)")
    counts: dict[Kind, int]
    models: list[ImpactItem]
    endpoints: list[ImpactItem]
    training_jobs: list[ImpactItem]
    feature_groups: list[ImpactItem]
    features: list[ImpactItem]
    feature_queries: list[ImpactItem] = Field(
        description="The queries that read it, such as Feast's feature services"
    )
    owners: list[str] = Field(description="Distinct owners of every downstream entity")
    live_endpoints: int = Field(default=0, description="Live endpoints hit")
    truncated: bool = Field(description="True when `limit` cut one of the lists")


class WhatIfItem(ImpactItem):
    loses: str = Field(description="The uid to retire that it would lose (`path` starts there)")
    replacement: str | None = Field(description="`replaced_by` of what it loses, if any")


class WhatIfReport(BaseModel):
    """What retiring ``retire`` would take from the live endpoints and models."""

    retire: list[str]
    live_endpoints: int = Field(description="Live endpoints that would lose an input")
    endpoints: list[WhatIfItem]
    models: list[WhatIfItem]
    owners: list[str] = Field(description="Owners of the endpoints and models hit")


M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Serialized(Generic[M]):
    """A reply already in the JSON form of ``model`` (its schema is the contract), built by
    the store straight from what Neo4j returned: validating a big walk node by node, then
    serializing it, cost more than the query's own Python. ``parse`` gives the model."""

    model: type[M]
    json: bytes

    def parse(self) -> M:
        return self.model.model_validate_json(self.json)


class RunOut(BaseModel):
    """One run of a process (docs/runs.md). ``params``, ``metrics``, ``env`` and ``code`` are
    flat maps with dotted keys."""

    id: str
    process: str | None = Field(
        default=None, description="uid of its process (none for a parent known only by its id)"
    )
    status: str | None = Field(
        default=None, description="START, RUNNING, COMPLETE, FAIL, ABORT or OTHER"
    )
    started_at: datetime | None = None
    ended_at: datetime | None = None
    event_time: datetime | None = Field(default=None, description="Its newest event's time")
    nominal_start_time: datetime | None = None
    nominal_end_time: datetime | None = None
    experiment: str | None = None
    error_message: str | None = None
    producer: str | None = None
    parent_job: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)
    env: dict[str, Any] = Field(default_factory=dict)
    code: dict[str, Any] = Field(default_factory=dict)


class EntityRef(BaseModel):
    uid: str
    kind: Kind
    name: str


class RunDetail(RunOut):
    inputs: list[EntityRef] = Field(description="What it read")
    outputs: list[EntityRef] = Field(description="What it wrote (once completed)")
    pending_outputs: list[str] = Field(
        description="Outputs its events named that it has not written: it has not completed"
    )
    parent: str | None = Field(description="id of the run that started it")
    children: list[str] = Field(description="ids of the runs it started")


class RunPage(BaseModel):
    items: list[RunOut]
    next_cursor: str | None


class ExperimentOut(BaseModel):
    name: str
    runs: int
    processes: list[str]
    first_run_at: datetime | None
    last_run_at: datetime | None


class ExperimentList(BaseModel):
    items: list[ExperimentOut]
