"""What the service answers: pydantic models of entities, walks, impact and write summaries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from mllineage.domain import EdgeType, Kind


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


class ImpactReport(BaseModel):
    """The downstream blast radius of changing or retiring ``root``."""

    root: EntityOut
    total: int = Field(description="Downstream entities reached (root excluded)")
    counts: dict[Kind, int]
    models: list[ImpactItem]
    endpoints: list[ImpactItem]
    training_jobs: list[ImpactItem]
    owners: list[str] = Field(description="Distinct owners of every downstream entity")
    truncated: bool = Field(description="True when `limit` cut one of the lists")
