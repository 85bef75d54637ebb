"""Walks from one entity: its lineage (up, down or both) and its downstream impact, in a view
of the graph (live by default; see lifecycle.View).

Each walk is one query (see ``queries.walks.lineage_query`` and ``impact_query``); what to
make of the nodes it reached is the pure ``traversal`` module's job.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, get_args

import pydantic_core

from mllineage.analysis.traversal import Direction, Downstream, impact_report
from mllineage.model.domain import Kind
from mllineage.model.errors import NotFound
from mllineage.model.lifecycle import LIVE, View
from mllineage.model.views import EntityOut, ImpactReport, LineageGraph, LineageNode, Serialized
from mllineage.store.database import Database
from mllineage.store.queries.walks import impact_query, lineage_query
from mllineage.store.reads import not_in_view, view_params
from mllineage.store.rows import entity_fields

# A lineage node in the JSON form of LineageNode: every field (in the model's order), times
# as the model serializes them. tests/api/test_lineage.py holds the two forms equal.
_NODE_FIELDS = dict.fromkeys(LineageNode.model_fields)
_NODE_TIMES = [
    name
    for name, field in LineageNode.model_fields.items()
    if datetime in get_args(field.annotation)
]


def _node(props: dict[str, Any], depth: int) -> dict[str, Any]:
    fields = {**_NODE_FIELDS, **entity_fields(props, depth=depth)}
    for key in _NODE_TIMES:
        fields[key] = _time(fields[key])
    return fields


def _time(value: str | None) -> datetime | str | None:
    """An ISO time from Neo4j as a datetime; as stored when it is none."""
    try:
        return None if value is None else datetime.fromisoformat(value)
    except ValueError:
        return value


class Walks:
    """Walks from one entity: its lineage and its impact."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def lineage(
        self,
        uid: str,
        *,
        direction: Direction,
        depth: int,
        kinds: frozenset[Kind] | None,
        limit: int,
        view: View = LIVE,
    ) -> Serialized[LineageGraph]:
        """The nodes within ``depth`` hops (each once, at its shortest distance), nearest
        first, and the edges among them."""
        query = lineage_query(direction, depth, view.mode)
        params = {
            "uid": uid,
            "kinds": [k.value for k in kinds] if kinds else None,
            "limit": limit,
            **view_params(view),
        }
        record = await self.db.read_one(query, **params)
        if record is None:
            raise NotFound(f"no entity with uid {uid!r}")
        if not record["alive"]:
            raise not_in_view(uid, view)
        tree = {
            "root": _node(record["root"], 0),
            "nodes": [_node(node, d) for d, node in record["nodes"]],
            "edges": [
                {"source": source, "target": target, "type": edge_type, "ended_at": _time(ended)}
                for source, edge_type, target, ended in record["edges"]
            ],
            "truncated": record["truncated"],
        }
        return Serialized(LineageGraph, pydantic_core.to_json(tree))

    async def impact(
        self, uid: str, *, depth: int, limit: int, view: View = LIVE, live: bool = False
    ) -> ImpactReport:
        """The downstream blast radius of ``uid`` (see ``traversal.impact_report``); ``live``
        keeps only what serves (a live endpoint, or upstream of one)."""
        query = impact_query(depth, view.mode, view.exclusive.mode)
        record = await self.db.read_one(query, uid=uid, **view_params(view))
        if record is None:
            raise NotFound(f"no entity with uid {uid!r}")
        if not record["alive"]:
            raise not_in_view(uid, view)
        return impact_report(
            EntityOut.model_validate(entity_fields(record["root"])),
            (Downstream(u, Kind(kind), *rest) for u, kind, *rest in record["nodes"]),
            ((source, target) for source, _, target, _ in record["edges"]),
            limit,
            live_only=live,
            ended=frozenset((s, t) for s, _, t, ended in record["edges"] if ended is not None),
        )
