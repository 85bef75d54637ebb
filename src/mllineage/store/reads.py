"""Reading entities: one by uid with its direct neighbours, and paged lists."""

from __future__ import annotations

from typing import Any

from neo4j import AsyncManagedTransaction

from mllineage.domain import Kind
from mllineage.errors import NotFound
from mllineage.store import queries
from mllineage.store.database import Database, single_or_none
from mllineage.store.rows import decode_cursor, encode_cursor, entity_fields
from mllineage.views import EntityDetail, EntityOut, EntityPage

# At most this many neighbours each way: a popular source can have thousands of consumers.
NEIGHBOUR_CAP = 1_000


async def get_entity(db: Database, uid: str) -> EntityDetail:
    record = await db.read(
        lambda tx: single_or_none(tx, queries.GET_ENTITY, uid=uid, cap=NEIGHBOUR_CAP)
    )
    if record is None:
        raise NotFound(f"no entity with uid {uid!r}")
    neighbours = {key: record[key] for key in ("upstream", "downstream")}
    return EntityDetail.model_validate(entity_fields(record["node"], **neighbours))


async def list_entities(
    db: Database,
    *,
    kind: Kind | None,
    namespace: str | None,
    q: str | None,
    limit: int,
    cursor: str | None,
) -> EntityPage:
    """One page of entities in uid order; ``cursor`` is the previous page's last uid."""
    params = {
        "kind": kind.value if kind else None,
        "namespace": namespace,
        "q": q,
        "after": decode_cursor(cursor) if cursor else None,
        "limit": limit + 1,
    }

    async def work(tx: AsyncManagedTransaction) -> list[list[list[Any]]]:
        return [r["node"] async for r in await tx.run(queries.LIST_ENTITIES, params)]

    nodes = await db.read(work)
    items = [EntityOut.model_validate(entity_fields(node)) for node in nodes[:limit]]
    more = len(nodes) > limit
    return EntityPage(items=items, next_cursor=encode_cursor(items[-1].uid) if more else None)
