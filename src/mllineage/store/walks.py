"""Walks from one entity: its lineage (up, down or both) and its downstream impact, in a view
of the graph (live by default; see lifecycle.View).

Each walk is one query (see ``queries.lineage_query`` and ``queries.impact_query``); what to
make of the nodes it reached is the pure ``traversal`` module's job.
"""

from __future__ import annotations

from mllineage.domain import Kind
from mllineage.errors import NotFound
from mllineage.lifecycle import LIVE, View
from mllineage.store import queries
from mllineage.store.database import Database, single_or_none
from mllineage.store.reads import not_in_view, view_params
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
    view: View = LIVE,
) -> LineageGraph:
    """The nodes within ``depth`` hops (each once, at its shortest distance), nearest
    first, and the edges among them."""
    query = queries.lineage_query(direction, depth, view.mode)
    params = {
        "uid": uid,
        "kinds": [k.value for k in kinds] if kinds else None,
        "limit": limit,
        **view_params(view),
    }
    record = await db.read(lambda tx: single_or_none(tx, query, **params))
    if record is None:
        raise NotFound(f"no entity with uid {uid!r}")
    if not record["alive"]:
        raise not_in_view(uid, view)
    # Validated as one tree: one call into pydantic costs less than one per node.
    return LineageGraph.model_validate(
        {
            "root": entity_fields(record["root"], depth=0),
            "nodes": [entity_fields(node, depth=d) for d, node in record["nodes"]],
            "edges": [
                {"source": source, "type": edge_type, "target": target, "ended_at": ended_at}
                for source, edge_type, target, ended_at in record["edges"]
            ],
            "truncated": record["truncated"],
        }
    )


async def impact(
    db: Database, uid: str, *, depth: int, limit: int, view: View = LIVE, live: bool = False
) -> ImpactReport:
    """The downstream blast radius of ``uid`` (see ``traversal.impact_report``); ``live``
    keeps only what serves (a live endpoint, or upstream of one)."""
    query = queries.impact_query(depth, view.mode, view.exclusive.mode)
    record = await db.read(lambda tx: single_or_none(tx, query, uid=uid, **view_params(view)))
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
    )
