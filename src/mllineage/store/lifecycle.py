"""Lifecycle writes: deprecate, retire, restore, purge, and end edges; and the what-if walk.

Each call is one transaction that first checks what it names (404 for an unknown uid or
edge, 422 for an unfit replacement) and writes nothing when a check fails. Every call takes
an event time and is idempotent and order-independent (see the Cypher in queries/lifecycle.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from neo4j import AsyncManagedTransaction

from mllineage.analysis.traversal import what_if_report
from mllineage.model.domain import MAX_DEPTH, EdgeIn
from mllineage.model.errors import InvalidInput, NotFound
from mllineage.model.lifecycle import View
from mllineage.model.views import WhatIfReport
from mllineage.store import walks
from mllineage.store.database import Database
from mllineage.store.queries.lifecycle import (
    DEPRECATE,
    END_EDGES,
    LOOKUP,
    MISSING_EDGES,
    PURGE,
    RESTORE,
    RETIRE,
    RETIRED_THEN,
)


async def _retired_then(tx: AsyncManagedTransaction, uid: str, at: datetime) -> bool:
    """Whether ``uid`` was retired at ``at``: a successor retired since still replaced its
    predecessor then, so a deprecation sent again later is accepted again."""
    record = await (await tx.run(RETIRED_THEN, uid=uid, as_of=at.isoformat())).single(strict=True)
    return bool(record["retired"])


async def _lookup(tx: AsyncManagedTransaction, uids: list[str]) -> dict[str, dict[str, Any]]:
    """The kind and state of each existing entity among ``uids``; 404 naming the others."""
    found = {r["uid"]: dict(r) async for r in await tx.run(LOOKUP, uids=uids)}
    if missing := [uid for uid in uids if uid not in found]:
        raise NotFound(f"no entity with uid {', '.join(map(repr, missing))}")
    return found


class Lifecycle:
    """The lifecycle calls and the what-if walk."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def deprecate(
        self, uid: str, *, reason: str, replaced_by: str | None, at: datetime
    ) -> None:
        async def work(tx: AsyncManagedTransaction) -> None:
            node = (await _lookup(tx, [uid]))[uid]
            if replaced_by is not None:
                if replaced_by == uid:
                    raise InvalidInput("replaced_by: an entity cannot replace itself")
                try:
                    successor = (await _lookup(tx, [replaced_by]))[replaced_by]
                except NotFound:
                    raise InvalidInput(
                        f"replaced_by: no entity with uid {replaced_by!r}; record it first"
                    ) from None
                if successor["kind"] != node["kind"]:
                    raise InvalidInput(
                        f"replaced_by: {uid!r} is a {node['kind']} and can only be replaced by a "
                        f"{node['kind']}, but {replaced_by!r} is a {successor['kind']}"
                    )
                if successor["retired"] and await _retired_then(tx, replaced_by, at):
                    raise InvalidInput(
                        f"replaced_by: {replaced_by!r} is retired, and was at {at.isoformat()}; "
                        "restore it or name a live one"
                    )
            await tx.run(
                DEPRECATE, uid=uid, at=at.isoformat(), reason=reason, replaced_by=replaced_by
            )

        await self.db.write(work)

    async def retire(self, uid: str, *, reason: str | None, at: datetime) -> None:
        async def work(tx: AsyncManagedTransaction) -> None:
            await _lookup(tx, [uid])
            await tx.run(RETIRE, uid=uid, at=at.isoformat(), reason=reason)

        await self.db.write(work)

    async def restore(self, uid: str, *, at: datetime) -> None:
        async def work(tx: AsyncManagedTransaction) -> None:
            await _lookup(tx, [uid])
            await tx.run(RESTORE, uid=uid, at=at.isoformat())

        await self.db.write(work)

    async def purge(self, uid: str) -> None:
        """The node and its edges, for good (and any ``replaced_by`` naming it)."""

        async def work(tx: AsyncManagedTransaction) -> None:
            await _lookup(tx, [uid])
            await tx.run(PURGE, uid=uid)

        await self.db.write(work)

    async def end_edges(self, edges: list[EdgeIn], *, at: datetime) -> int:
        """End every edge of ``edges`` at ``at``; 404 naming the ones that do not exist."""
        rows = [{"source": e.source, "target": e.target, "type": e.type.value} for e in edges]

        async def work(tx: AsyncManagedTransaction) -> int:
            record = await (await tx.run(MISSING_EDGES, rows=rows)).single(strict=True)
            if missing := record["missing"]:
                named = "; ".join(
                    f"{m['source']} -{m['type']}-> {m['target']}" for m in missing[:20]
                )
                raise NotFound(f"no such edge: {named}")
            await tx.run(END_EDGES, rows=rows, at=at.isoformat())
            return len(rows)

        return await self.db.write(work)

    async def what_if(self, retire: list[str], *, view: View, limit: int) -> WhatIfReport:
        """The live endpoints and models that retiring ``retire`` would take an input from."""
        await self.db.read(lambda tx: _lookup(tx, retire))
        reports = []
        for uid in dict.fromkeys(retire):
            try:
                reports.append(
                    await walks.Walks(self.db).impact(uid, depth=MAX_DEPTH, limit=limit, view=view)
                )
            except NotFound:
                continue  # already retired (or not yet there) in this view: nothing to lose
        return what_if_report(list(dict.fromkeys(retire)), reports)
