"""Walks from one entity: its lineage (up, down or both) and its downstream impact.

Each walk is one query (see ``queries.LINEAGE`` and ``queries.IMPACT``); what to make of the
nodes it reached is the pure ``traversal`` module's job.
"""

from __future__ import annotations

from mllineage.domain import Kind
from mllineage.errors import NotFound
from mllineage.store import queries
from mllineage.store.database import Database, single_or_none
from mllineage.store.rows import entity_fields
from mllineage.traversal import Direction, Downstream, impact_report
from mllineage.views import EntityOut, ImpactReport, LineageGraph


async def lineage(
    db: Database,
    uid: str,
    *,
    direction: Direction,
    depth: int,
    kinds: frozenset[Kind] | None,
    limit: int,
) -> LineageGraph:
    """The nodes within ``depth`` hops (each once, at its shortest distance), nearest
    first, and the edges among them."""
    query = queries.lineage_query(direction, depth)
    params = {"uid": uid, "kinds": [k.value for k in kinds] if kinds else None, "limit": limit}
    record = await db.read(lambda tx: single_or_none(tx, query, **params))
    if record is None:
        raise NotFound(f"no entity with uid {uid!r}")
    # Validated as one tree: one call into pydantic costs less than one per node.
    return LineageGraph.model_validate(
        {
            "root": entity_fields(record["root"], depth=0),
            "nodes": [entity_fields(node, depth=d) for d, node in record["nodes"]],
            "edges": [
                {"source": source, "type": edge_type, "target": target}
                for source, edge_type, target in record["edges"]
            ],
            "truncated": record["truncated"],
        }
    )


async def impact(db: Database, uid: str, *, depth: int, limit: int) -> ImpactReport:
    """The downstream blast radius of ``uid`` (see ``traversal.impact_report``)."""
    query = queries.impact_query(depth)
    record = await db.read(lambda tx: single_or_none(tx, query, uid=uid))
    if record is None:
        raise NotFound(f"no entity with uid {uid!r}")
    return impact_report(
        EntityOut.model_validate(entity_fields(record["root"])),
        (
            Downstream(u, Kind(kind), d, namespace, name, owner)
            for u, kind, d, namespace, name, owner in record["nodes"]
        ),
        ((source, target) for source, _, target in record["edges"]),
        limit,
    )
