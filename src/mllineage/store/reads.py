"""Reading entities: one with its direct neighbours, and paged lists, in a view of the graph
(live by default; see lifecycle.View)."""

from __future__ import annotations

from typing import Any

from neo4j import AsyncManagedTransaction

from mllineage.model.domain import Kind
from mllineage.model.errors import NotFound
from mllineage.model.lifecycle import LIVE, View
from mllineage.model.views import EntityDetail, EntityOut, EntityPage
from mllineage.store.database import Database
from mllineage.store.queries.reads import get_entity_query, list_entities_query
from mllineage.store.rows import decode_cursor, encode_cursor, entity_fields

# The most neighbours an entity's detail lists each way; a walk gives the full picture.
NEIGHBOUR_CAP = 1_000


def view_params(view: View) -> dict[str, Any]:
    """The query parameters every view-filtered query takes."""
    return {"as_of": view.as_of.isoformat() if view.as_of else None}


def not_in_view(uid: str, view: View) -> NotFound:
    """The 404 of an entity that exists but is not in the view (retired, or not yet created)."""
    if view.as_of is None:
        return NotFound(f"{uid!r} is retired; pass include_retired=true to see it, or restore it")
    if view.include_retired:
        return NotFound(f"{uid!r} did not exist yet at {view.as_of.isoformat()}")
    return NotFound(
        f"{uid!r} did not exist or was retired at {view.as_of.isoformat()}; pass "
        "include_retired=true to see what was retired then, or a later as_of"
    )


class Reads:
    """Entities by uid and pages of them, in a view."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get_entity(self, uid: str, view: View = LIVE) -> EntityDetail:
        query = get_entity_query(view.mode)
        params = {"uid": uid, "cap": NEIGHBOUR_CAP, **view_params(view)}
        record = await self.db.read_one(query, **params)
        if record is None:
            raise NotFound(f"no entity with uid {uid!r}")
        if not record["alive"]:
            raise not_in_view(uid, view)
        neighbours = {key: record[key] for key in ("upstream", "downstream")}
        return EntityDetail.model_validate(entity_fields(record["node"], **neighbours))

    async def list_entities(
        self,
        *,
        kind: Kind | None,
        namespace: str | None,
        q: str | None,
        limit: int,
        cursor: str | None,
        view: View = LIVE,
    ) -> EntityPage:
        """One page of entities in uid order; ``cursor`` is the previous page's last uid."""
        params = {
            "kind": kind.value if kind else None,
            "namespace": namespace,
            "q": q,
            "after": decode_cursor(cursor) if cursor else None,
            "limit": limit + 1,
            **view_params(view),
        }
        query = list_entities_query(view.mode)

        async def work(tx: AsyncManagedTransaction) -> list[dict[str, Any]]:
            return [r["node"] async for r in await tx.run(query, params)]

        nodes = await self.db.read(work)
        items = [EntityOut.model_validate(entity_fields(node)) for node in nodes[:limit]]
        more = len(nodes) > limit
        return EntityPage(items=items, next_cursor=encode_cursor(items[-1].uid) if more else None)
